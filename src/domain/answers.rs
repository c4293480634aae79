//! A submission (答卷) and its validation against the questionnaire. Pure: the caller passes in the
//! template and a way to tell whether a unit code is in the registry, and gets back either a
//! [`ValidSubmission`] or every problem found, each with the field path of docs/interface.md §3.1
//! (`ratings[0].answers.efficiency`), so a form can show each message beside its field.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use super::template::SurveyTemplate;

/// Most units one submission may rate; far above the 3–15 of docs/domain.md §4, it bounds the work a
/// single request can cause.
pub const MAX_RATINGS: usize = 100;
/// Most problem ticks per unit (a template has a handful; this bounds hostile input).
pub const MAX_PROBLEMS: usize = 50;

/// Most characters of all comments of one submission together, beside each comment's own limit
/// (the template's `max_chars`). A sealed ballot has room for exactly this much (src/ballot:
/// every ballot of a campaign is padded to one size, never set by what an enterprise wrote).
/// Counted by [`budget_chars`].
pub const COMMENT_BUDGET_CHARS: usize = 2_000;

/// A comment's length against [`COMMENT_BUDGET_CHARS`], counted as a browser counts a text field's
/// length (UTF-16 code units: a Chinese character is one, an emoji two; a line break one), so the
/// page's counter and the server agree.
pub fn budget_chars(text: &str) -> usize {
    text.encode_utf16().count()
}

/// A submission as received, before any check (the JSON of `POST /api/v1/responses` and the
/// parsed form of `POST /s/{token}`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSubmission {
    pub ratings: Vec<RawRating>,
}

/// One unit's part of a submission as received. `answers` maps a question id to a level (1–5)
/// or `null` for 「不了解/未接触」.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRating {
    pub unit_code: String,
    #[serde(default)]
    pub answers: BTreeMap<String, Option<i64>>,
    #[serde(default)]
    pub problems: Vec<String>,
    #[serde(default)]
    pub comment: Option<String>,
}

/// A submission whose every rule holds.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidSubmission {
    pub ratings: Vec<ValidRating>,
}

/// One valid unit rating: levels are 1–5 or `None` (不了解/未接触); the comment is trimmed and
/// `None` when empty.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidRating {
    pub unit_code: String,
    pub answers: BTreeMap<String, Option<u8>>,
    pub problems: Vec<String>,
    pub comment: Option<String>,
}

/// One rule that failed, at one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerError {
    pub field: String,
    pub message: String,
}

impl AnswerError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl RawSubmission {
    /// Checks every rule and returns all failures at once (a form shows them all).
    /// `unit_exists` answers whether a unit code is in the registry.
    pub fn validate(
        &self,
        template: &SurveyTemplate,
        unit_exists: impl Fn(&str) -> bool,
    ) -> Result<ValidSubmission, Vec<AnswerError>> {
        let mut errors = Vec::new();
        if self.ratings.is_empty() {
            errors.push(AnswerError::new("ratings", "请至少评价一个单位"));
        }
        if self.ratings.len() > MAX_RATINGS {
            errors.push(AnswerError::new(
                "ratings",
                format!("一次最多评价 {MAX_RATINGS} 个单位"),
            ));
            return Err(errors);
        }
        let mut seen = HashSet::new();
        let mut ratings = Vec::with_capacity(self.ratings.len());
        for (i, raw) in self.ratings.iter().enumerate() {
            let at = format!("ratings[{i}]");
            let code = raw.unit_code.trim();
            if code.is_empty() || !unit_exists(code) {
                errors.push(AnswerError::new(
                    format!("{at}.unit_code"),
                    "没有这个被评议单位",
                ));
            } else if !seen.insert(code.to_owned()) {
                errors.push(AnswerError::new(
                    format!("{at}.unit_code"),
                    "同一单位只能评价一次",
                ));
            }
            if let Some(rating) = validate_rating(template, raw, &at, &mut errors) {
                ratings.push(rating);
            }
        }
        let written: usize = ratings
            .iter()
            .filter_map(|r| r.comment.as_deref())
            .map(budget_chars)
            .sum();
        if written > COMMENT_BUDGET_CHARS {
            errors.push(AnswerError::new(
                "ratings",
                format!(
                    "所有意见合计最多 {COMMENT_BUDGET_CHARS} 字,现为 {written} 字,请精简后再提交"
                ),
            ));
        }
        if errors.is_empty() {
            Ok(ValidSubmission { ratings })
        } else {
            Err(errors)
        }
    }
}

fn validate_rating(
    template: &SurveyTemplate,
    raw: &RawRating,
    at: &str,
    errors: &mut Vec<AnswerError>,
) -> Option<ValidRating> {
    let before = errors.len();
    let mut answers = BTreeMap::new();
    for (id, level) in &raw.answers {
        let field = format!("{at}.answers.{id}");
        let Some(question) = template.question(id) else {
            errors.push(AnswerError::new(field, "没有这个问题"));
            continue;
        };
        match level {
            None if question.allows_na => {
                answers.insert(id.clone(), None);
            }
            None => errors.push(AnswerError::new(field, "此题不能选「不了解/未接触」")),
            Some(v) if (1..=5).contains(v) && template.points_for(*v as u8).is_some() => {
                answers.insert(id.clone(), Some(*v as u8));
            }
            Some(_) => errors.push(AnswerError::new(field, "请选择 1 到 5 之间的等级")),
        }
    }
    for question in template.questions() {
        if question.required && !raw.answers.contains_key(&question.id) {
            errors.push(AnswerError::new(
                format!("{at}.answers.{}", question.id),
                "此题必答",
            ));
        }
    }
    let mut problems = Vec::new();
    if raw.problems.len() > MAX_PROBLEMS {
        errors.push(AnswerError::new(format!("{at}.problems"), "问题选项过多"));
    } else {
        for (j, id) in raw.problems.iter().enumerate() {
            if template.problem(id).is_none() {
                errors.push(AnswerError::new(
                    format!("{at}.problems[{j}]"),
                    "没有这个问题选项",
                ));
            } else if !problems.contains(id) {
                problems.push(id.clone());
            }
        }
    }
    // A form sends a line break as CRLF where the browser counted one character: count (and
    // store) it as one.
    let comment = raw
        .comment
        .as_deref()
        .map(str::trim)
        .unwrap_or_default()
        .replace("\r\n", "\n");
    let max = template.comment_max_chars();
    if comment.chars().count() > max {
        errors.push(AnswerError::new(
            format!("{at}.comment"),
            format!("意见建议最多 {max} 字"),
        ));
    } else if comment
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        errors.push(AnswerError::new(
            format!("{at}.comment"),
            "意见建议含有不可见的控制字符",
        ));
    }
    (errors.len() == before).then(|| ValidRating {
        unit_code: raw.unit_code.trim().to_owned(),
        answers,
        problems,
        comment: (!comment.is_empty()).then_some(comment),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn template() -> SurveyTemplate {
        let text = include_str!("../../survey_templates/standard.toml");
        SurveyTemplate::from_toml(text).unwrap()
    }

    fn complete(code: &str) -> RawRating {
        let answers = template()
            .questions()
            .iter()
            .map(|q| (q.id.clone(), Some(4)))
            .collect();
        RawRating {
            unit_code: code.into(),
            answers,
            problems: vec!["slow".into()],
            comment: Some("  很好 ".into()),
        }
    }

    fn check(ratings: Vec<RawRating>) -> Result<ValidSubmission, Vec<AnswerError>> {
        RawSubmission { ratings }.validate(&template(), |c| c.starts_with('U'))
    }

    fn fields(result: Result<ValidSubmission, Vec<AnswerError>>) -> Vec<String> {
        result.unwrap_err().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_complete_submission_is_valid_and_its_comment_trimmed() {
        let valid = check(vec![complete("U1"), complete("U2")]).unwrap();
        assert_eq!(valid.ratings.len(), 2);
        assert_eq!(valid.ratings[0].comment.as_deref(), Some("很好"));
        assert_eq!(valid.ratings[0].answers["overall"], Some(4));
    }

    #[test]
    fn not_knowing_a_unit_is_an_answer() {
        let mut r = complete("U1");
        r.answers.insert("policy".into(), None);
        assert_eq!(check(vec![r]).unwrap().ratings[0].answers["policy"], None);
    }

    #[test]
    fn every_broken_rule_is_reported_with_its_field_path() {
        let mut r = complete("U1");
        r.answers.insert("efficiency".into(), Some(6));
        r.answers.insert("mood".into(), Some(3));
        r.answers.remove("overall");
        r.problems.push("laziness".into());
        r.comment = Some("字".repeat(501));
        assert_eq!(
            fields(check(vec![r])),
            [
                "ratings[0].answers.efficiency",
                "ratings[0].answers.mood",
                "ratings[0].answers.overall",
                "ratings[0].problems[1]",
                "ratings[0].comment",
            ]
        );
    }

    #[test]
    fn unknown_and_duplicate_units_are_refused() {
        assert_eq!(
            fields(check(vec![complete("U1"), complete("X9"), complete("U1")])),
            ["ratings[1].unit_code", "ratings[2].unit_code"]
        );
        assert_eq!(fields(check(vec![])), ["ratings"]);
    }

    #[test]
    fn control_characters_are_refused_but_newlines_kept() {
        let mut r = complete("U1");
        r.comment = Some("第一行\r\n第二行".into());
        let valid = check(vec![r.clone()]).unwrap();
        assert_eq!(valid.ratings[0].comment.as_deref(), Some("第一行\n第二行"));
        r.comment = Some("bell\u{7}".into());
        assert_eq!(fields(check(vec![r])), ["ratings[0].comment"]);
    }

    #[test]
    fn all_comments_together_keep_within_the_budget() {
        let with = |comments: &[String]| {
            let ratings = comments
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let mut r = complete(&format!("U{i}"));
                    r.comment = Some(c.clone());
                    r
                })
                .collect();
            check(ratings)
        };
        let fifth = "字".repeat(COMMENT_BUDGET_CHARS / 5);
        assert!(with(&vec![fifth.clone(); 5]).is_ok(), "exactly the budget");
        let mut over = vec![fifth.clone(); 5];
        over.push("多".into());
        let errors = with(&over).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].field, "ratings");
        assert!(errors[0].message.contains("2001"), "{}", errors[0].message);
        // A line break counts once however the browser sent it (a form sends CRLF), in the
        // budget and in each comment's own limit alike; an emoji counts twice in the budget, as a
        // browser counts it.
        let lines = format!("{}\r\n{}", "字".repeat(199), "字".repeat(200));
        assert!(with(&vec![lines; 5]).is_ok());
        let at_limit = format!("{}\r\n{}", "字".repeat(249), "字".repeat(250));
        assert!(
            with(&[at_limit]).is_ok(),
            "500 characters with a line break"
        );
        assert_eq!(budget_chars("😀"), 2);
    }

    #[test]
    fn a_comment_of_exactly_the_limit_is_accepted() {
        let mut r = complete("U1");
        r.comment = Some("评".repeat(500));
        assert!(check(vec![r]).is_ok());
    }
}
