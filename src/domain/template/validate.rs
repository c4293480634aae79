//! Turns the raw file into a [`SurveyTemplate`], checking every rule the scoring relies on.

use std::collections::HashSet;

use super::file::{LevelFile, ProblemFile, QuestionFile, TemplateFile};
use super::{
    COMMENT_MAX_CHARS_LIMIT, CommentSetting, DEFAULT_COMMENT_MAX_CHARS, DEFAULT_POINTS,
    ProblemItem, Question, ScaleLevel, SurveyTemplate, TemplateError,
};

const DEFAULT_PROBLEMS_PROMPT_ZH: &str = "该单位是否存在以下问题?(可多选)";
const DEFAULT_PROBLEMS_PROMPT_EN: &str =
    "Did you meet any of these problems with this unit? (tick all that apply)";
const DEFAULT_COMMENT_LABEL_ZH: &str = "意见和建议";
const DEFAULT_COMMENT_LABEL_EN: &str = "Comments and suggestions";

pub(super) fn validate(file: TemplateFile) -> Result<SurveyTemplate, TemplateError> {
    let header = file.template;
    let name = text("template.name", header.name)?;
    if !is_id(&name) {
        return Err(TemplateError::InvalidId {
            field: "template.name".into(),
            id: name,
        });
    }
    let comment = file.comment;
    let max_chars = match comment.max_chars {
        None => DEFAULT_COMMENT_MAX_CHARS,
        Some(n) => usize::try_from(n)
            .ok()
            .filter(|&n| (1..=COMMENT_MAX_CHARS_LIMIT).contains(&n))
            .ok_or(TemplateError::CommentMaxChars {
                found: n,
                limit: COMMENT_MAX_CHARS_LIMIT,
            })?,
    };
    Ok(SurveyTemplate {
        name,
        title_zh: text("template.title_zh", header.title_zh)?,
        title_en: text("template.title_en", header.title_en)?,
        intro_zh: text("template.intro_zh", header.intro_zh)?,
        intro_en: text("template.intro_en", header.intro_en)?,
        levels: levels(file.scale.levels)?,
        na_label_zh: text("scale.na_label_zh", file.scale.na_label_zh)?,
        na_label_en: text("scale.na_label_en", file.scale.na_label_en)?,
        questions: questions(file.questions)?,
        comment: CommentSetting {
            max_chars,
            label_zh: optional_text(
                "comment.label_zh",
                comment.label_zh,
                DEFAULT_COMMENT_LABEL_ZH,
            )?,
            label_en: optional_text(
                "comment.label_en",
                comment.label_en,
                DEFAULT_COMMENT_LABEL_EN,
            )?,
        },
        problems_prompt_zh: optional_text(
            "template.problems_prompt_zh",
            header.problems_prompt_zh,
            DEFAULT_PROBLEMS_PROMPT_ZH,
        )?,
        problems_prompt_en: optional_text(
            "template.problems_prompt_en",
            header.problems_prompt_en,
            DEFAULT_PROBLEMS_PROMPT_EN,
        )?,
        problems: problems(file.problems)?,
    })
}

/// Ids are stable keys in stored answers: lower-case ASCII letters, digits and `_`.
fn is_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn text(field: &str, value: String) -> Result<String, TemplateError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(TemplateError::EmptyText {
            field: field.to_string(),
        });
    }
    Ok(trimmed.to_string())
}

fn optional_text(
    field: &str,
    value: Option<String>,
    default: &str,
) -> Result<String, TemplateError> {
    value.map_or(Ok(default.to_string()), |v| text(field, v))
}

fn levels(mut files: Vec<LevelFile>) -> Result<Vec<ScaleLevel>, TemplateError> {
    if files.len() != 5 {
        return Err(TemplateError::LevelCount { found: files.len() });
    }
    files.sort_by_key(|l| std::cmp::Reverse(l.value));
    let values: Vec<u8> = files.iter().map(|l| l.value).collect();
    if values != [5, 4, 3, 2, 1] {
        return Err(TemplateError::LevelValues { found: values });
    }
    let mut levels: Vec<ScaleLevel> = Vec::with_capacity(5);
    for (level, default_points) in files.into_iter().zip(DEFAULT_POINTS) {
        let value = level.value;
        let points = level.points.map_or(default_points, |p| p.as_f64());
        if !points.is_finite() {
            return Err(TemplateError::PointsNotFinite { value, points });
        }
        if let Some(higher) = levels.last()
            && higher.points <= points
        {
            return Err(TemplateError::PointsNotDecreasing {
                value: higher.value,
                points: higher.points,
                lower: value,
                lower_points: points,
            });
        }
        levels.push(ScaleLevel {
            value,
            label_zh: text(
                &format!("scale.levels(value = {value}).label_zh"),
                level.label_zh,
            )?,
            label_en: text(
                &format!("scale.levels(value = {value}).label_en"),
                level.label_en,
            )?,
            points,
        });
    }
    Ok(levels)
}

fn questions(files: Vec<QuestionFile>) -> Result<Vec<Question>, TemplateError> {
    if files.is_empty() {
        return Err(TemplateError::NoQuestions);
    }
    let mut seen = HashSet::new();
    let mut questions = Vec::with_capacity(files.len());
    for (i, q) in files.into_iter().enumerate() {
        let at = format!("questions[{i}]");
        let id = text(&format!("{at}.id"), q.id)?;
        if !is_id(&id) {
            return Err(TemplateError::InvalidId {
                field: format!("{at}.id"),
                id,
            });
        }
        if !seen.insert(id.clone()) {
            return Err(TemplateError::DuplicateQuestionId { id });
        }
        let at = format!("{at}({id})");
        let weight = q.weight.map_or(1.0, |w| w.as_f64());
        if !(weight.is_finite() && weight > 0.0) {
            return Err(TemplateError::Weight {
                question: id,
                weight,
            });
        }
        questions.push(Question {
            dimension_zh: text(&format!("{at}.dimension_zh"), q.dimension_zh)?,
            dimension_en: text(&format!("{at}.dimension_en"), q.dimension_en)?,
            label_zh: text(&format!("{at}.label_zh"), q.label_zh)?,
            label_en: text(&format!("{at}.label_en"), q.label_en)?,
            id,
            weight,
            required: q.required,
            overall: q.overall,
            allows_na: q.allows_na.unwrap_or(true),
        });
    }
    let overall = questions.iter().filter(|q| q.overall).count();
    if overall != 1 {
        return Err(TemplateError::OverallCount { found: overall });
    }
    Ok(questions)
}

fn problems(files: Vec<ProblemFile>) -> Result<Vec<ProblemItem>, TemplateError> {
    let mut seen = HashSet::new();
    let mut problems = Vec::with_capacity(files.len());
    for (i, p) in files.into_iter().enumerate() {
        let at = format!("problems[{i}]");
        let id = text(&format!("{at}.id"), p.id)?;
        if !is_id(&id) {
            return Err(TemplateError::InvalidId {
                field: format!("{at}.id"),
                id,
            });
        }
        if !seen.insert(id.clone()) {
            return Err(TemplateError::DuplicateProblemId { id });
        }
        let at = format!("{at}({id})");
        let description = |lang: &str, v: Option<String>| {
            v.map(|v| text(&format!("{at}.description_{lang}"), v))
                .transpose()
        };
        problems.push(ProblemItem {
            label_zh: text(&format!("{at}.label_zh"), p.label_zh)?,
            label_en: text(&format!("{at}.label_en"), p.label_en)?,
            description_zh: description("zh", p.description_zh)?,
            description_en: description("en", p.description_en)?,
            id,
        });
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::super::SurveyTemplate;
    use super::*;

    /// A small valid template; tests replace one line to break one rule.
    const MINIMAL: &str = r#"
[template]
name = "mini"
title_zh = "测试问卷"
title_en = "Test questionnaire"
intro_zh = "匿名"
intro_en = "Anonymous"

[scale]
na_label_zh = "不了解/未接触"
na_label_en = "Don't know / no contact"
levels = [
  { value = 5, label_zh = "非常满意", label_en = "Very satisfied", points = 100 },
  { value = 4, label_zh = "满意", label_en = "Satisfied", points = 80 },
  { value = 3, label_zh = "一般", label_en = "Neutral", points = 60 },
  { value = 2, label_zh = "不满意", label_en = "Dissatisfied", points = 40 },
  { value = 1, label_zh = "非常不满意", label_en = "Very dissatisfied", points = 20 },
]

[[questions]]
id = "attitude"
dimension_zh = "服务态度"
dimension_en = "Attitude"
label_zh = "工作人员态度"
label_en = "Staff attitude"
weight = 1

[[questions]]
id = "overall"
dimension_zh = "总体满意度"
dimension_en = "Overall"
label_zh = "总体满意"
label_en = "Overall satisfaction"
weight = 1.5
overall = true

[[problems]]
id = "slow"
label_zh = "慢作为"
label_en = "Slowness"
"#;

    fn with(from: &str, to: &str) -> Result<SurveyTemplate, TemplateError> {
        assert!(MINIMAL.contains(from), "test setup: {from}");
        SurveyTemplate::from_toml(&MINIMAL.replacen(from, to, 1))
    }

    #[test]
    fn the_minimal_template_validates_with_defaults_filled_in() {
        let t = SurveyTemplate::from_toml(MINIMAL).unwrap();
        assert_eq!(t.questions()[1].weight, 1.5);
        assert!(t.questions()[0].allows_na && !t.questions()[0].required);
        assert_eq!(t.comment_max_chars(), DEFAULT_COMMENT_MAX_CHARS);
        assert_eq!(t.comment().label_zh, DEFAULT_COMMENT_LABEL_ZH);
        assert_eq!(
            t.levels().iter().map(|l| l.value).collect::<Vec<_>>(),
            [5, 4, 3, 2, 1]
        );
    }

    #[test]
    fn points_default_to_100_80_60_40_20() {
        let t = with(", points = 80 }", " }").unwrap();
        assert_eq!(t.points_for(4), Some(80.0));
        let stripped = MINIMAL
            .replace(", points = ", ", p_ = ")
            .replace(", p_ = 100 }", " }");
        assert!(
            SurveyTemplate::from_toml(&stripped).is_err(),
            "unknown key p_ is refused"
        );
    }

    #[test]
    fn levels_may_be_listed_in_any_order() {
        let five = "  { value = 5, label_zh = \"非常满意\", label_en = \"Very satisfied\", points = 100 },\n";
        let reordered = MINIMAL.replacen(five, "", 1).replacen(
            "]\n\n[[questions]]",
            &format!("{five}]\n\n[[questions]]"),
            1,
        );
        assert_ne!(reordered, MINIMAL);
        let r = SurveyTemplate::from_toml(&reordered).unwrap();
        assert_eq!(
            r.levels(),
            SurveyTemplate::from_toml(MINIMAL).unwrap().levels()
        );
    }

    #[test]
    fn a_duplicate_question_id_is_refused() {
        let err = with("id = \"overall\"", "id = \"attitude\"").unwrap_err();
        assert_eq!(
            err,
            TemplateError::DuplicateQuestionId {
                id: "attitude".into()
            }
        );
    }

    #[test]
    fn a_question_id_outside_the_id_alphabet_is_refused() {
        let err = with("id = \"attitude\"", "id = \"Attitude-1\"").unwrap_err();
        assert_eq!(
            err,
            TemplateError::InvalidId {
                field: "questions[0].id".into(),
                id: "Attitude-1".into()
            }
        );
    }

    #[test]
    fn a_weight_that_is_not_positive_and_finite_is_refused() {
        for bad in ["0", "-1", "nan", "inf"] {
            let err = with("weight = 1\n", &format!("weight = {bad}\n")).unwrap_err();
            assert!(
                matches!(err, TemplateError::Weight { ref question, .. } if question == "attitude"),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_scale_needs_exactly_five_levels_valued_five_to_one() {
        let four = with(
            "  { value = 1, label_zh = \"非常不满意\", label_en = \"Very dissatisfied\", points = 20 },\n",
            "",
        );
        assert_eq!(four.unwrap_err(), TemplateError::LevelCount { found: 4 });
        let err = with("{ value = 1,", "{ value = 6,").unwrap_err();
        assert_eq!(
            err,
            TemplateError::LevelValues {
                found: vec![6, 5, 4, 3, 2]
            }
        );
    }

    #[test]
    fn points_must_decrease_with_the_level() {
        let err = with("points = 60", "points = 80").unwrap_err();
        assert!(
            matches!(
                err,
                TemplateError::PointsNotDecreasing {
                    value: 4,
                    lower: 3,
                    ..
                }
            ),
            "{err}"
        );
        let err = with("points = 60", "points = nan").unwrap_err();
        assert!(
            matches!(err, TemplateError::PointsNotFinite { value: 3, .. }),
            "{err}"
        );
    }

    #[test]
    fn exactly_one_question_is_overall() {
        let none = with("overall = true", "overall = false").unwrap_err();
        assert_eq!(none, TemplateError::OverallCount { found: 0 });
        let two = with("weight = 1\n", "weight = 1\noverall = true\n").unwrap_err();
        assert_eq!(two, TemplateError::OverallCount { found: 2 });
    }

    #[test]
    fn the_na_label_is_required_and_not_blank() {
        let err = with("na_label_zh = \"不了解/未接触\"", "na_label_zh = \" \"").unwrap_err();
        assert_eq!(
            err,
            TemplateError::EmptyText {
                field: "scale.na_label_zh".into()
            }
        );
        assert!(matches!(
            with("na_label_en = \"Don't know / no contact\"\n", ""),
            Err(TemplateError::Syntax(_))
        ));
    }

    #[test]
    fn a_blank_label_names_its_question_and_language() {
        let err = with("label_en = \"Overall satisfaction\"", "label_en = \"\"").unwrap_err();
        assert_eq!(
            err,
            TemplateError::EmptyText {
                field: "questions[1](overall).label_en".into()
            }
        );
        assert!(err.to_string().contains("questions[1](overall).label_en"));
    }

    #[test]
    fn problem_ids_are_unique() {
        let dup = format!(
            "{MINIMAL}\n[[problems]]\nid = \"slow\"\nlabel_zh = \"拖\"\nlabel_en = \"Stalling\"\n"
        );
        let err = SurveyTemplate::from_toml(&dup).unwrap_err();
        assert_eq!(err, TemplateError::DuplicateProblemId { id: "slow".into() });
        let blank = with("label_zh = \"慢作为\"", "label_zh = \"\"").unwrap_err();
        assert_eq!(
            blank,
            TemplateError::EmptyText {
                field: "problems[0](slow).label_zh".into()
            }
        );
    }

    #[test]
    fn the_comment_length_is_bounded() {
        let t =
            SurveyTemplate::from_toml(&format!("{MINIMAL}\n[comment]\nmax_chars = 200\n")).unwrap();
        assert_eq!(t.comment_max_chars(), 200);
        let zero = SurveyTemplate::from_toml(&format!("{MINIMAL}\n[comment]\nmax_chars = 0\n"));
        assert!(matches!(
            zero,
            Err(TemplateError::CommentMaxChars { found: 0, .. })
        ));
    }

    #[test]
    fn a_misspelt_key_is_a_syntax_error_naming_it() {
        let err = with("overall = true", "overal = true").unwrap_err();
        assert!(
            matches!(err, TemplateError::Syntax(ref m) if m.contains("overal")),
            "{err}"
        );
    }
}
