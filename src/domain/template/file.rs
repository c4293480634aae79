//! The TOML shape of a questionnaire file, as written by hand (see `survey_templates/README.md`).
//! Unknown keys are refused so a misspelt key is an error, not a silently ignored setting.

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TemplateFile {
    pub template: HeaderFile,
    pub scale: ScaleFile,
    #[serde(default)]
    pub comment: CommentFile,
    #[serde(default)]
    pub questions: Vec<QuestionFile>,
    #[serde(default)]
    pub problems: Vec<ProblemFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct HeaderFile {
    pub name: String,
    pub title_zh: String,
    pub title_en: String,
    pub intro_zh: String,
    pub intro_en: String,
    #[serde(default)]
    pub problems_prompt_zh: Option<String>,
    #[serde(default)]
    pub problems_prompt_en: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ScaleFile {
    pub na_label_zh: String,
    pub na_label_en: String,
    #[serde(default)]
    pub levels: Vec<LevelFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LevelFile {
    pub value: u8,
    pub label_zh: String,
    pub label_en: String,
    #[serde(default)]
    pub points: Option<Number>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CommentFile {
    #[serde(default)]
    pub max_chars: Option<i64>,
    #[serde(default)]
    pub label_zh: Option<String>,
    #[serde(default)]
    pub label_en: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct QuestionFile {
    pub id: String,
    pub dimension_zh: String,
    pub dimension_en: String,
    pub label_zh: String,
    pub label_en: String,
    #[serde(default)]
    pub weight: Option<Number>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub overall: bool,
    #[serde(default)]
    pub allows_na: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ProblemFile {
    pub id: String,
    pub label_zh: String,
    pub label_en: String,
    #[serde(default)]
    pub description_zh: Option<String>,
    #[serde(default)]
    pub description_en: Option<String>,
}

/// TOML keeps integers and floats apart; a weight of `1` and `1.0` mean the same here.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(untagged)]
pub(super) enum Number {
    Integer(i64),
    Float(f64),
}

impl Number {
    pub fn as_f64(self) -> f64 {
        match self {
            Number::Integer(i) => i as f64,
            Number::Float(f) => f,
        }
    }
}
