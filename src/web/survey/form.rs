//! The survey form's fields and their parsing into a [`RawSubmission`]. Field names:
//! `unit` (repeated, one per rated unit, in order), `u{i}.{question}` (a level `1`–`5` or `na`),
//! `u{i}.p` (repeated problem ids), `u{i}.c` (the comment), `q` (the unit search) and `action`
//! (`submit`, `search` or `add:{code}`) — plain HTML, so the form works without JavaScript.

use std::collections::BTreeMap;

use crate::domain::{RawRating, RawSubmission};

/// What the enterprise pressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    Submit,
    Search,
    Add(String),
}

/// A posted form: the answers so far, what to do with them, and the search text.
#[derive(Debug, Clone)]
pub struct PostedForm {
    pub submission: RawSubmission,
    pub intent: Intent,
    pub query: String,
}

impl PostedForm {
    /// Reads the url-encoded pairs of a posted survey form.
    pub fn parse(pairs: &[(String, String)]) -> Self {
        let mut ratings: Vec<RawRating> = pairs
            .iter()
            .filter(|(k, _)| k == "unit")
            .map(|(_, code)| RawRating {
                unit_code: code.clone(),
                answers: BTreeMap::new(),
                problems: Vec::new(),
                comment: None,
            })
            .collect();
        let mut intent = Intent::Submit;
        let mut query = String::new();
        for (key, value) in pairs {
            match key.as_str() {
                "action" => intent = intent_of(value),
                "q" => query = value.trim().to_owned(),
                _ => {}
            }
            let Some((index, field)) = key
                .strip_prefix('u')
                .and_then(|rest| rest.split_once('.'))
                .and_then(|(i, f)| Some((i.parse::<usize>().ok()?, f)))
            else {
                continue;
            };
            let Some(rating) = ratings.get_mut(index) else {
                continue;
            };
            match field {
                "p" => rating.problems.push(value.clone()),
                "c" => rating.comment = Some(value.clone()),
                question => {
                    let level = match value.as_str() {
                        "na" => None,
                        // An unreadable level is kept as 0 so validation names the field.
                        v => Some(v.parse::<i64>().unwrap_or(0)),
                    };
                    rating.answers.insert(question.to_owned(), level);
                }
            }
        }
        Self {
            submission: RawSubmission { ratings },
            intent,
            query,
        }
    }

    /// The unit codes on the form, plus the one being added.
    pub fn unit_codes(&self) -> Vec<String> {
        let mut codes: Vec<String> = self
            .submission
            .ratings
            .iter()
            .map(|r| r.unit_code.clone())
            .collect();
        if let Intent::Add(code) = &self.intent
            && !codes.contains(code)
        {
            codes.push(code.clone());
        }
        codes
    }
}

fn intent_of(value: &str) -> Intent {
    match value {
        "search" => Intent::Search,
        v => match v.strip_prefix("add:") {
            Some(code) => Intent::Add(code.to_owned()),
            None => Intent::Submit,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_posted_form_becomes_a_submission_in_unit_order() {
        let form = PostedForm::parse(&pairs(&[
            ("unit", "A"),
            ("unit", "B"),
            ("u0.overall", "5"),
            ("u1.overall", "na"),
            ("u1.p", "slow"),
            ("u1.p", "inaction"),
            ("u0.c", "好"),
            ("u7.overall", "3"),
            ("action", "submit"),
        ]));
        let r = &form.submission.ratings;
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].answers["overall"], Some(5));
        assert_eq!(r[1].answers["overall"], None);
        assert_eq!(r[1].problems, ["slow", "inaction"]);
        assert_eq!(r[0].comment.as_deref(), Some("好"));
        assert_eq!(form.intent, Intent::Submit);
    }

    #[test]
    fn adding_a_unit_keeps_the_answers_and_appends_its_code() {
        let form = PostedForm::parse(&pairs(&[("unit", "A"), ("action", "add:C")]));
        assert_eq!(form.intent, Intent::Add("C".into()));
        assert_eq!(form.unit_codes(), ["A", "C"]);
    }
}
