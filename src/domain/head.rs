//! Who headed a unit when (负责人任职记录). Accountability lands on the person who headed the unit
//! during each flagged half-year, so a change of head closes the old term instead of overwriting it.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// One person's term at the head of a unit; `to` is `None` while it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeadTerm {
    pub name: String,
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
}

impl HeadTerm {
    /// Whether the term covers any day of `start..=end`.
    pub fn overlaps(&self, start: NaiveDate, end: NaiveDate) -> bool {
        self.from <= end && self.to.is_none_or(|to| to >= start)
    }

    /// Whether the person was head on `day`.
    pub fn covers(&self, day: NaiveDate) -> bool {
        self.overlaps(day, day)
    }
}

/// What recording a head did to the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadChange {
    /// The same person is still head; nothing changed (a re-import is idempotent).
    Unchanged,
    /// A term was opened without closing another (no head recorded yet, or the last term had ended).
    First,
    /// A new head: the previous term was closed the day before the new one starts.
    Changed { closed: HeadTerm },
}

/// Why a head cannot be recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeadError {
    #[error("负责人姓名为空 (head name is empty)")]
    EmptyName,
    #[error(
        "任职起始日期 {since} 不晚于现任负责人「{current}」的任职起始日期 {current_from} (a new head must start after the current head's term began)"
    )]
    StartsTooEarly {
        since: NaiveDate,
        current: String,
        current_from: NaiveDate,
    },
    #[error("任职记录 {index} 的结束日期早于开始日期 (term ends before it starts)")]
    TermEndsBeforeStart { index: usize },
    #[error("任职记录 {index} 与前一条重叠或顺序错误 (terms overlap or are out of order)")]
    TermsOverlap { index: usize },
    #[error("只有最后一条任职记录可以没有结束日期 (only the last term may be open)")]
    OpenTermNotLast { index: usize },
}

/// The terms of one unit's heads, oldest first, never overlapping; only the last may be open.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HeadHistory {
    terms: Vec<HeadTerm>,
}

impl HeadHistory {
    pub fn new() -> HeadHistory {
        HeadHistory::default()
    }

    /// Rebuilds a history from stored terms (sorted here by start), checking its invariants.
    pub fn from_terms(mut terms: Vec<HeadTerm>) -> Result<HeadHistory, HeadError> {
        terms.sort_by_key(|t| t.from);
        for (index, term) in terms.iter().enumerate() {
            if term.name.trim().is_empty() {
                return Err(HeadError::EmptyName);
            }
            if term.to.is_some_and(|to| to < term.from) {
                return Err(HeadError::TermEndsBeforeStart { index });
            }
            if index + 1 < terms.len() && term.to.is_none() {
                return Err(HeadError::OpenTermNotLast { index });
            }
            if index > 0 && terms[index - 1].to.is_some_and(|to| to >= term.from) {
                return Err(HeadError::TermsOverlap { index });
            }
        }
        Ok(HeadHistory { terms })
    }

    /// Oldest first.
    pub fn terms(&self) -> &[HeadTerm] {
        &self.terms
    }

    /// The running term, if any.
    pub fn current(&self) -> Option<&HeadTerm> {
        self.terms.last().filter(|t| t.to.is_none())
    }

    /// Records that `name` heads the unit since `since`. The same name as the running head changes
    /// nothing (whatever `since` says, so re-importing a file is idempotent); another name closes the
    /// running term on `since − 1 day`. A `since` on or before the running term's start is refused:
    /// it would rewrite history rather than add to it (use [`HeadHistory::correct_current_name`] to fix
    /// a misspelt name).
    pub fn record(&mut self, name: &str, since: NaiveDate) -> Result<HeadChange, HeadError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(HeadError::EmptyName);
        }
        let Some(last) = self.terms.last_mut() else {
            self.terms.push(open_term(name, since));
            return Ok(HeadChange::First);
        };
        if last.to.is_none() && last.name == name {
            return Ok(HeadChange::Unchanged);
        }
        let latest_taken = last.to.unwrap_or(last.from);
        if since <= latest_taken {
            return Err(HeadError::StartsTooEarly {
                since,
                current: last.name.clone(),
                current_from: last.from,
            });
        }
        let change = if last.to.is_none() {
            last.to = since.pred_opt();
            HeadChange::Changed {
                closed: last.clone(),
            }
        } else {
            HeadChange::First
        };
        self.terms.push(open_term(name, since));
        Ok(change)
    }

    /// Fixes the spelling of the running head's name without starting a new term.
    pub fn correct_current_name(&mut self, name: &str) -> Result<(), HeadError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(HeadError::EmptyName);
        }
        if let Some(term) = self.terms.last_mut().filter(|t| t.to.is_none()) {
            term.name = name.to_string();
        }
        Ok(())
    }

    /// The heads whose terms overlap `start..=end`: the head on `end` first (docs/method.md §6.3), then the
    /// others by start date, latest first.
    pub fn heads_during(&self, start: NaiveDate, end: NaiveDate) -> Vec<&HeadTerm> {
        let mut heads: Vec<&HeadTerm> = self
            .terms
            .iter()
            .filter(|t| t.overlaps(start, end))
            .collect();
        heads.sort_by_key(|t| (!t.covers(end), std::cmp::Reverse(t.from)));
        heads
    }
}

fn open_term(name: &str, since: NaiveDate) -> HeadTerm {
    HeadTerm {
        name: name.to_string(),
        from: since,
        to: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_first_head_opens_a_term() {
        let mut history = HeadHistory::new();
        assert_eq!(
            history.record("王建国", d("2018-03-01")),
            Ok(HeadChange::First)
        );
        assert_eq!(history.current().unwrap().name, "王建国");
    }

    #[test]
    fn the_same_head_again_changes_nothing() {
        let mut history = HeadHistory::new();
        history.record("王建国", d("2018-03-01")).unwrap();
        assert_eq!(
            history.record(" 王建国 ", d("2019-01-01")),
            Ok(HeadChange::Unchanged)
        );
        assert_eq!(history.terms().len(), 1);
        assert_eq!(history.terms()[0].from, d("2018-03-01"));
    }

    #[test]
    fn a_new_head_closes_the_old_term_the_day_before() {
        let mut history = HeadHistory::new();
        history.record("王建国", d("2018-03-01")).unwrap();
        let change = history.record("李红梅", d("2019-09-01")).unwrap();
        let closed = HeadTerm {
            name: "王建国".into(),
            from: d("2018-03-01"),
            to: Some(d("2019-08-31")),
        };
        assert_eq!(
            change,
            HeadChange::Changed {
                closed: closed.clone()
            }
        );
        assert_eq!(
            history.terms(),
            &[closed, open_term("李红梅", d("2019-09-01"))]
        );
    }

    #[test]
    fn a_start_before_or_on_the_current_start_is_refused() {
        let mut history = HeadHistory::new();
        history.record("王建国", d("2018-03-01")).unwrap();
        for since in ["2018-03-01", "2017-12-31"] {
            assert!(matches!(
                history.record("李红梅", d(since)),
                Err(HeadError::StartsTooEarly { .. })
            ));
        }
        assert_eq!(
            history.record("", d("2020-01-01")),
            Err(HeadError::EmptyName)
        );
        assert_eq!(history.terms().len(), 1);
    }

    #[test]
    fn a_misspelt_name_is_corrected_in_place() {
        let mut history = HeadHistory::new();
        history.record("王建囯", d("2018-03-01")).unwrap();
        history.correct_current_name("王建国").unwrap();
        assert_eq!(history.terms(), &[open_term("王建国", d("2018-03-01"))]);
    }

    #[test]
    fn heads_during_puts_the_head_on_the_last_day_first() {
        let history = HeadHistory::from_terms(vec![
            HeadTerm {
                name: "甲".into(),
                from: d("2017-01-01"),
                to: Some(d("2019-02-28")),
            },
            HeadTerm {
                name: "乙".into(),
                from: d("2019-03-01"),
                to: Some(d("2019-05-31")),
            },
            HeadTerm {
                name: "丙".into(),
                from: d("2019-06-01"),
                to: None,
            },
        ])
        .unwrap();
        let names: Vec<&str> = history
            .heads_during(d("2019-01-01"), d("2019-06-30"))
            .iter()
            .map(|t| t.name.as_str())
            .collect();
        assert_eq!(names, ["丙", "乙", "甲"]);
        let h2: Vec<&str> = history
            .heads_during(d("2019-07-01"), d("2019-12-31"))
            .iter()
            .map(|t| t.name.as_str())
            .collect();
        assert_eq!(h2, ["丙"]);
        assert!(
            history
                .heads_during(d("2016-01-01"), d("2016-06-30"))
                .is_empty()
        );
    }

    #[test]
    fn a_vacancy_at_the_end_of_the_half_year_lists_earlier_heads_latest_first() {
        let history = HeadHistory::from_terms(vec![
            HeadTerm {
                name: "甲".into(),
                from: d("2019-01-01"),
                to: Some(d("2019-03-31")),
            },
            HeadTerm {
                name: "乙".into(),
                from: d("2019-04-01"),
                to: Some(d("2019-05-31")),
            },
        ])
        .unwrap();
        let names: Vec<&str> = history
            .heads_during(d("2019-01-01"), d("2019-06-30"))
            .iter()
            .map(|t| t.name.as_str())
            .collect();
        assert_eq!(names, ["乙", "甲"]);
    }

    #[test]
    fn after_a_vacancy_a_new_head_opens_a_term() {
        let mut history = HeadHistory::from_terms(vec![HeadTerm {
            name: "甲".into(),
            from: d("2019-01-01"),
            to: Some(d("2019-03-31")),
        }])
        .unwrap();
        assert!(history.record("乙", d("2019-03-31")).is_err());
        assert_eq!(history.record("甲", d("2019-06-01")), Ok(HeadChange::First));
        assert_eq!(history.terms().len(), 2);
    }

    #[test]
    fn stored_terms_that_overlap_or_leave_an_open_term_inside_are_refused() {
        let overlap = vec![
            HeadTerm {
                name: "甲".into(),
                from: d("2019-01-01"),
                to: Some(d("2019-06-30")),
            },
            HeadTerm {
                name: "乙".into(),
                from: d("2019-06-30"),
                to: None,
            },
        ];
        assert_eq!(
            HeadHistory::from_terms(overlap),
            Err(HeadError::TermsOverlap { index: 1 })
        );
        let open_inside = vec![
            HeadTerm {
                name: "甲".into(),
                from: d("2019-01-01"),
                to: None,
            },
            HeadTerm {
                name: "乙".into(),
                from: d("2019-07-01"),
                to: None,
            },
        ];
        assert_eq!(
            HeadHistory::from_terms(open_inside),
            Err(HeadError::OpenTermNotLast { index: 0 })
        );
        let backwards = vec![HeadTerm {
            name: "甲".into(),
            from: d("2019-07-01"),
            to: Some(d("2019-01-01")),
        }];
        assert_eq!(
            HeadHistory::from_terms(backwards),
            Err(HeadError::TermEndsBeforeStart { index: 0 })
        );
    }
}
