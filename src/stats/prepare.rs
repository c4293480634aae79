//! From a campaign's raw input to per-unit observations in a fixed order, with weights.
//!
//! [`Preparer`] takes ratings one at a time and keeps only a compact record of each (unit number,
//! composite, overall level, weight: 24 bytes), so a province's ten million ratings can
//! stream from storage without ever being held as [`Rating`] values. [`prepare`] is the same
//! thing over a [`CampaignInput`] held in memory.
//!
//! A rating names no respondent (docs/method.md §0): each is its own cluster, and the order in
//! which ratings are summed is an order of their content, so no figure depends on the ids they
//! were stored under or the order they arrive in.

use crate::stats::score::{ScoringKey, is_satisfied, validate_template};
use crate::stats::weighting::RakingReport;
use crate::stats::{CampaignInput, Rating, Settings, StatsError, Template, UnitInfo};
use std::collections::HashMap;

/// One counted rating of a unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation {
    pub weight: f64,
    pub composite: f64,
    /// The overall question: `Some(satisfied)` when answered.
    pub satisfied: Option<bool>,
}

/// A unit with its counted ratings, in canonical order (composite, overall level, weight).
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedUnit {
    pub info: UnitInfo,
    pub observations: Vec<Observation>,
}

/// The campaign in canonical order: units by code, each unit's ratings by content.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    pub units: Vec<PreparedUnit>,
    pub raking: Option<RakingReport>,
}

/// A rating that could not be scored: unit, the rating, (question, level).
type Failure = (u32, Rating, (String, Option<u8>));

/// A scored rating as the preparer keeps it.
#[derive(Debug, Clone, Copy)]
struct Compact {
    unit: u32,
    overall: Option<u8>,
    composite: f64,
    weight: f64,
}

/// Validates and canonicalises the input (docs/method.md §0, §1, §5 "read inputs in a fixed
/// order"): units sorted by code, ratings sorted by (unit, composite, overall level, weight),
/// self-selected ratings dropped if the setting says so, ratings with no answered question not
/// counted; each rating keeps the weight it was stored with.
pub fn prepare(input: &CampaignInput, settings: &Settings) -> Result<Prepared, StatsError> {
    let mut preparer = Preparer::new(&input.template, input.units.clone(), settings)?;
    for rating in &input.ratings {
        preparer.push(rating);
    }
    preparer.finish(input.weighting.as_ref())
}

/// [`prepare`] one rating at a time, in any order: the result does not depend on the order in
/// which ratings arrive.
pub struct Preparer<'a> {
    settings: &'a Settings,
    key: ScoringKey<'a>,
    infos: Vec<UnitInfo>,
    unit_index: HashMap<String, u32>,
    scored: Vec<Compact>,
    unknown_unit: Option<String>,
    failures: Vec<Failure>,
    pushed: usize,
    /// Per unit (code order): at least one rating of it was pushed, counted or not.
    rated: Vec<bool>,
}

impl<'a> Preparer<'a> {
    /// Checks the settings, the template and the units (no code twice).
    pub fn new(
        template: &'a Template,
        mut units: Vec<UnitInfo>,
        settings: &'a Settings,
    ) -> Result<Self, StatsError> {
        settings.validate()?;
        validate_template(template)?;
        units.sort_by(|a, b| a.code.cmp(&b.code));
        if let Some(w) = units.windows(2).find(|w| w[0].code == w[1].code) {
            return Err(StatsError::DuplicateUnit(w[0].code.clone()));
        }
        let rated = vec![false; units.len()];
        let unit_index = units
            .iter()
            .enumerate()
            .map(|(i, u)| (u.code.clone(), i as u32))
            .collect();
        Ok(Preparer {
            settings,
            key: ScoringKey::new(template),
            infos: units,
            unit_index,
            scored: Vec::new(),
            unknown_unit: None,
            failures: Vec::new(),
            pushed: 0,
            rated,
        })
    }

    /// Ratings pushed so far (including those not counted).
    pub fn pushed(&self) -> usize {
        self.pushed
    }

    /// Whether any rating of the unit `code` was pushed (counted or not).
    pub fn has_ratings(&self, code: &str) -> bool {
        self.unit_index
            .get(code)
            .is_some_and(|&i| self.rated[i as usize])
    }

    /// Scores one rating and keeps its compact record. Errors (an unknown unit or question, a
    /// level out of range) are collected and reported by [`Preparer::finish`], the first in
    /// canonical order, so the error too does not depend on arrival order.
    pub fn push(&mut self, r: &Rating) {
        self.pushed += 1;
        let Some(&unit) = self.unit_index.get(r.unit_code.as_str()) else {
            if !r.self_selected || self.settings.include_self_selected {
                let code = r.unit_code.as_str();
                if self.unknown_unit.as_deref().is_none_or(|u| code < u) {
                    self.unknown_unit = Some(code.to_owned());
                }
            }
            return;
        };
        self.rated[unit as usize] = true;
        if r.self_selected && !self.settings.include_self_selected {
            return;
        }
        match self.key.score(&r.answers) {
            Ok(s) => {
                if let Some(composite) = s.composite {
                    self.scored.push(Compact {
                        unit,
                        overall: s.overall,
                        composite,
                        weight: r.weight,
                    });
                }
            }
            Err(e) => self.failures.push((unit, r.clone(), e)),
        }
    }

    /// Sorts into canonical order and builds the per-unit observations; `weighting` (how the
    /// weights were made) is passed through to the result.
    pub fn finish(self, weighting: Option<&RakingReport>) -> Result<Prepared, StatsError> {
        let Preparer {
            settings: _,
            infos,
            mut scored,
            unknown_unit,
            failures,
            ..
        } = self;
        if let Some(code) = unknown_unit {
            return Err(StatsError::UnknownUnit(code));
        }
        // The first failure in canonical order (a weight is compared by its bits: any fixed
        // order will do, the rest of the key already tells failures apart).
        let order = |f: &Failure| {
            let (unit, r, what) = f;
            (
                *unit,
                r.unit_code.clone(),
                r.answers.clone(),
                r.self_selected,
                r.weight.to_bits(),
                what.clone(),
            )
        };
        if let Some((_, r, (question, level))) = failures.into_iter().min_by_key(order) {
            return Err(match level {
                Some(level) => StatsError::LevelOutOfRange {
                    unit: r.unit_code,
                    question,
                    level,
                },
                None => StatsError::UnknownQuestion(question),
            });
        }
        if let Some(bad) = scored
            .iter()
            .find(|s| !(s.weight.is_finite() && s.weight > 0.0))
        {
            return Err(StatsError::InvalidMargins(format!(
                "a rating of unit {} has weight {}, not a positive number",
                infos[bad.unit as usize].code, bad.weight
            )));
        }
        let raking = weighting.cloned();
        // Canonical order without string comparisons in the sort: unit index (units are in code
        // order), then what the rating contributes. Ratings equal in all of these contribute the
        // same to every figure, so their relative order cannot change a bit of the output.
        scored.sort_unstable_by(|a, b| {
            a.unit
                .cmp(&b.unit)
                .then_with(|| a.composite.total_cmp(&b.composite))
                .then_with(|| a.overall.cmp(&b.overall))
                .then_with(|| a.weight.total_cmp(&b.weight))
        });
        let mut counts = vec![0usize; infos.len()];
        for s in &scored {
            counts[s.unit as usize] += 1;
        }
        let mut units: Vec<PreparedUnit> = infos
            .into_iter()
            .zip(counts)
            .map(|(info, n)| PreparedUnit {
                info,
                observations: Vec::with_capacity(n),
            })
            .collect();
        for s in scored {
            units[s.unit as usize].observations.push(Observation {
                weight: s.weight,
                composite: s.composite,
                satisfied: s.overall.map(is_satisfied),
            });
        }
        Ok(Prepared { units, raking })
    }
}
