//! Composites, means and the satisfied indicator (docs/method.md §1).

use crate::stats::{StatsError, Template};
use std::collections::BTreeMap;

/// Checks the template once: positive finite weights, unique ids, the overall question present.
pub fn validate_template(template: &Template) -> Result<(), StatsError> {
    let bad = |m: String| Err(StatsError::InvalidTemplate(m));
    if template.questions.is_empty() {
        return bad("no questions".into());
    }
    for (i, q) in template.questions.iter().enumerate() {
        if !(q.weight.is_finite() && q.weight > 0.0) {
            return bad(format!("question `{}` needs a positive weight", q.id));
        }
        if template.questions[..i].iter().any(|p| p.id == q.id) {
            return bad(format!("question `{}` appears twice", q.id));
        }
    }
    if template.level_points.iter().any(|p| !p.is_finite()) {
        return bad("level points must be finite".into());
    }
    if !template.questions.iter().any(|q| q.id == template.overall) {
        return bad(format!(
            "overall question `{}` is not a question",
            template.overall
        ));
    }
    Ok(())
}

/// The points of a level 1..=5 under the template, or `None` for a level out of range.
pub fn level_points(template: &Template, level: u8) -> Option<f64> {
    template
        .level_points
        .get(usize::from(level).checked_sub(1)?)
        .copied()
}

/// 满意 (4) or 非常满意 (5) counts as satisfied (docs/method.md §1, 满意率).
pub fn is_satisfied(level: u8) -> bool {
    level >= 4
}

/// A template prepared for scoring many ratings: questions sorted by id, so a rating's answers
/// (a sorted map) are matched in one merge walk without repeated lookups.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoringKey<'a> {
    questions: Vec<(&'a str, f64, bool)>,
    points: [f64; 5],
}

/// A scored rating: its composite (`None` if nothing was answered) and the overall level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    pub composite: Option<f64>,
    pub overall: Option<u8>,
}

impl<'a> ScoringKey<'a> {
    pub fn new(template: &'a Template) -> Self {
        let mut questions: Vec<(&str, f64, bool)> = template
            .questions
            .iter()
            .map(|q| (q.id.as_str(), q.weight, q.id == template.overall))
            .collect();
        questions.sort_by(|a, b| a.0.cmp(b.0));
        ScoringKey {
            questions,
            points: template.level_points,
        }
    }

    /// A rating's composite (docs/method.md §1): `Σ_q a_q p(x_q) / Σ_q a_q` over answered questions, with
    /// question weights a_q; `None` if no question is answered (the rating does not count).
    /// Errors with the question id on an unknown question (level `None`) or a level outside 1..=5.
    pub fn score(
        &self,
        answers: &BTreeMap<String, Option<u8>>,
    ) -> Result<Scored, (String, Option<u8>)> {
        let (mut sum, mut weight, mut overall) = (0.0, 0.0, None);
        let mut questions = self.questions.iter();
        for (id, level) in answers {
            let found = questions.find(|q| q.0 >= id.as_str()).filter(|q| q.0 == id);
            let Some(&(_, w, is_overall)) = found else {
                return Err((id.clone(), None));
            };
            if let Some(level) = *level {
                let points = usize::from(level)
                    .checked_sub(1)
                    .and_then(|i| self.points.get(i))
                    .ok_or_else(|| (id.clone(), Some(level)))?;
                sum += w * points;
                weight += w;
                if is_overall {
                    overall = Some(level);
                }
            }
        }
        Ok(Scored {
            composite: (weight > 0.0).then(|| sum / weight),
            overall,
        })
    }
}

/// The composite of one rating (see [`ScoringKey::score`]).
pub fn composite(
    answers: &BTreeMap<String, Option<u8>>,
    template: &Template,
) -> Result<Option<f64>, (String, Option<u8>)> {
    ScoringKey::new(template)
        .score(answers)
        .map(|s| s.composite)
}

/// Weighted mean `Σ w y / Σ w` (the Hájek estimator); `None` when Σw = 0.
pub fn weighted_mean(y: &[f64], w: &[f64]) -> Option<f64> {
    let sw: f64 = w.iter().sum();
    (sw > 0.0).then(|| y.iter().zip(w).map(|(y, w)| w * y).sum::<f64>() / sw)
}

/// Kish's effective sample size `(Σw)² / Σw²` (Kish 1965); 0 for no observations.
pub fn kish_n_eff(w: &[f64]) -> f64 {
    let sw: f64 = w.iter().sum();
    let sw2: f64 = w.iter().map(|w| w * w).sum();
    if sw2 > 0.0 { sw * sw / sw2 } else { 0.0 }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::stats::Question;

    fn template() -> Template {
        Template::with_default_points(
            vec![
                Question {
                    id: "a".into(),
                    weight: 1.0,
                },
                Question {
                    id: "b".into(),
                    weight: 3.0,
                },
            ],
            "a",
        )
    }

    fn answers(a: Option<u8>, b: Option<u8>) -> BTreeMap<String, Option<u8>> {
        BTreeMap::from([("a".to_owned(), a), ("b".to_owned(), b)])
    }

    #[test]
    fn a_composite_weights_answered_questions_and_skips_not_applicable() {
        let t = template();
        assert_eq!(composite(&answers(Some(5), Some(3)), &t), Ok(Some(70.0)));
        assert_eq!(composite(&answers(None, Some(3)), &t), Ok(Some(60.0)));
        assert_eq!(composite(&answers(None, None), &t), Ok(None));
    }

    #[test]
    fn out_of_range_levels_and_unknown_questions_are_rejected() {
        let t = template();
        assert_eq!(
            composite(&answers(Some(6), None), &t),
            Err(("a".into(), Some(6)))
        );
        assert_eq!(
            composite(&answers(Some(0), None), &t),
            Err(("a".into(), Some(0)))
        );
        let unknown = BTreeMap::from([("zz".to_owned(), Some(3))]);
        assert_eq!(composite(&unknown, &t), Err(("zz".into(), None)));
    }

    #[test]
    fn only_levels_four_and_five_are_satisfied() {
        assert_eq!(
            (1..=5).map(is_satisfied).collect::<Vec<_>>(),
            [false, false, false, true, true]
        );
    }

    #[test]
    fn kish_n_eff_equals_n_for_equal_weights() {
        assert_eq!(kish_n_eff(&[2.0; 7]), 7.0);
        assert_eq!(kish_n_eff(&[]), 0.0);
        assert!((kish_n_eff(&[1.0, 3.0]) - 1.6).abs() < 1e-12);
    }

    #[test]
    fn templates_without_the_overall_question_are_rejected() {
        let mut t = template();
        t.overall = "c".into();
        assert!(validate_template(&t).is_err());
        assert!(validate_template(&template()).is_ok());
    }
}
