//! Survey templates (问卷): questions, the five-level scale with its points, the 「不了解/未接触」
//! option, the per-unit comment and the problem checklist, read from TOML and validated once so the
//! rest of the code can trust them. The file format is documented in `survey_templates/README.md`.

mod error;
mod file;
mod validate;

use std::path::Path;

use serde::Serialize;

pub use error::TemplateError;

/// The standard questionnaire, built in so a fresh installation works without any files.
pub const STANDARD_TOML: &str = include_str!("../../../survey_templates/standard.toml");

/// Points of levels 5, 4, 3, 2, 1 when the template does not set them (docs/method.md §1).
pub const DEFAULT_POINTS: [f64; 5] = [100.0, 80.0, 60.0, 40.0, 20.0];
/// Comment length when the template does not set one.
pub const DEFAULT_COMMENT_MAX_CHARS: usize = 500;
/// The longest comment a template may allow.
pub const COMMENT_MAX_CHARS_LIMIT: usize = 10_000;

/// A validated questionnaire.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SurveyTemplate {
    name: String,
    title_zh: String,
    title_en: String,
    intro_zh: String,
    intro_en: String,
    levels: Vec<ScaleLevel>,
    na_label_zh: String,
    na_label_en: String,
    questions: Vec<Question>,
    comment: CommentSetting,
    problems_prompt_zh: String,
    problems_prompt_en: String,
    problems: Vec<ProblemItem>,
}

/// One answer level: `value` 5 (非常满意) … 1 (非常不满意) and the points it scores.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScaleLevel {
    pub value: u8,
    pub label_zh: String,
    pub label_en: String,
    pub points: f64,
}

/// One question, asked of every unit the enterprise rates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Question {
    /// Stable key of the answer in submissions and storage (`[a-z0-9_]+`).
    pub id: String,
    pub dimension_zh: String,
    pub dimension_en: String,
    pub label_zh: String,
    pub label_en: String,
    /// Weight in the rating's composite (docs/method.md §1); finite and > 0.
    pub weight: f64,
    /// The enterprise must pick a level or 「不了解/未接触」 for every unit it rates.
    pub required: bool,
    /// The question the 满意率 is computed from; exactly one per template.
    pub overall: bool,
    /// Whether 「不了解/未接触」 is offered (default true).
    pub allows_na: bool,
}

/// The free-text comment an enterprise may leave about each unit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommentSetting {
    pub max_chars: usize,
    pub label_zh: String,
    pub label_en: String,
}

/// One entry of the problem checklist (不作为, 慢作为, …).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProblemItem {
    pub id: String,
    pub label_zh: String,
    pub label_en: String,
    pub description_zh: Option<String>,
    pub description_en: Option<String>,
}

impl SurveyTemplate {
    /// Parses and validates a template; the error names the question or field at fault.
    pub fn from_toml(text: &str) -> Result<SurveyTemplate, TemplateError> {
        let file: file::TemplateFile =
            toml::from_str(text).map_err(|e| TemplateError::Syntax(e.to_string()))?;
        validate::validate(file)
    }

    /// Reads a template file (UTF-8) and validates it.
    pub fn load(path: impl AsRef<Path>) -> Result<SurveyTemplate, TemplateError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| TemplateError::Read {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        SurveyTemplate::from_toml(&text).map_err(|e| e.in_file(path))
    }

    /// The template's key, e.g. `standard` (what `campaign create --template` names).
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn title_zh(&self) -> &str {
        &self.title_zh
    }
    pub fn title_en(&self) -> &str {
        &self.title_en
    }
    /// The introduction shown above the questions, with the promise of anonymity.
    pub fn intro_zh(&self) -> &str {
        &self.intro_zh
    }
    pub fn intro_en(&self) -> &str {
        &self.intro_en
    }
    pub fn questions(&self) -> &[Question] {
        &self.questions
    }
    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions.iter().find(|q| q.id == id)
    }
    /// The five levels, 5 first.
    pub fn levels(&self) -> &[ScaleLevel] {
        &self.levels
    }
    /// The points a level scores; `None` for a value outside 1–5.
    pub fn points_for(&self, level: u8) -> Option<f64> {
        self.levels
            .iter()
            .find(|l| l.value == level)
            .map(|l| l.points)
    }
    pub fn na_label_zh(&self) -> &str {
        &self.na_label_zh
    }
    pub fn na_label_en(&self) -> &str {
        &self.na_label_en
    }
    /// The one question marked `overall` (validation guarantees it exists).
    pub fn overall_question(&self) -> &Question {
        let found = self.questions.iter().find(|q| q.overall);
        found.unwrap_or(&self.questions[0])
    }
    pub fn problems(&self) -> &[ProblemItem] {
        &self.problems
    }
    pub fn problem(&self, id: &str) -> Option<&ProblemItem> {
        self.problems.iter().find(|p| p.id == id)
    }
    pub fn problems_prompt_zh(&self) -> &str {
        &self.problems_prompt_zh
    }
    pub fn problems_prompt_en(&self) -> &str {
        &self.problems_prompt_en
    }
    pub fn comment(&self) -> &CommentSetting {
        &self.comment
    }
    pub fn comment_max_chars(&self) -> usize {
        self.comment.max_chars
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_standard_template_validates() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/survey_templates/standard.toml"
        );
        let template = SurveyTemplate::load(path).unwrap();
        assert_eq!(template.name(), "standard");
        let ids: Vec<&str> = template.questions().iter().map(|q| q.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "attitude",
                "efficiency",
                "policy",
                "lawful",
                "integrity",
                "overall"
            ]
        );
        assert_eq!(template.overall_question().id, "overall");
        assert_eq!(template.overall_question().dimension_zh, "总体满意度");
        let problems: Vec<&str> = template.problems().iter().map(|p| p.id.as_str()).collect();
        assert_eq!(
            problems,
            ["inaction", "slow", "arbitrary", "buck_passing", "extortion"]
        );
        assert_eq!(template.points_for(5), Some(100.0));
        assert_eq!(template.points_for(1), Some(20.0));
        assert_eq!(template.points_for(0), None);
        assert_eq!(template.na_label_zh(), "不了解/未接触");
        assert_eq!(template.comment_max_chars(), 500);
        // The promise of anonymity is the single source's, on a line of its own (the survey page
        // shows the page form in its place).
        assert!(
            template
                .intro_zh()
                .lines()
                .any(|l| l == crate::domain::anonymity::SHORT_ZH)
        );
        assert!(
            template
                .intro_en()
                .lines()
                .any(|l| l == crate::domain::anonymity::SHORT_EN)
        );
    }

    #[test]
    fn every_shipped_template_validates() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/survey_templates");
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                SurveyTemplate::load(&path).unwrap();
            }
        }
    }

    #[test]
    fn a_missing_file_names_its_path() {
        let err = SurveyTemplate::load("/nonexistent/questionnaire.toml").unwrap_err();
        assert!(
            err.to_string().contains("/nonexistent/questionnaire.toml"),
            "{err}"
        );
    }
}
