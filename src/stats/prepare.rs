//! From a campaign's raw input to per-unit observations in a fixed order, with weights.
//!
//! [`Preparer`] takes ratings one at a time and keeps only a compact record of each (unit and
//! respondent numbers, composite, overall level, strata number: 24 bytes), so a province's ten
//! million ratings can stream from storage without ever being held as [`Rating`] values.
//! [`prepare`] is the same thing over a [`CampaignInput`] held in memory.

use crate::stats::score::{ScoringKey, is_satisfied, validate_template};
use crate::stats::weighting::{Margin, RakingReport, build_margin, rake};
use crate::stats::{
    CampaignInput, Margins, Rating, Settings, StatsError, Strata, Template, UnitInfo,
};
use std::collections::{BTreeMap, HashMap};

/// One counted rating of a unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation {
    /// Index of the enterprise in [`Prepared::respondents`] (its cluster).
    pub respondent: usize,
    pub weight: f64,
    pub composite: f64,
    /// The overall question: `Some(satisfied)` when answered.
    pub satisfied: Option<bool>,
}

/// A unit with its counted ratings, ordered by respondent key.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedUnit {
    pub info: UnitInfo,
    pub observations: Vec<Observation>,
}

/// The campaign in canonical order: units by code, respondents by key.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    pub units: Vec<PreparedUnit>,
    pub respondents: Vec<String>,
    pub weights: Vec<f64>,
    pub raking: Option<RakingReport>,
}

/// A rating that could not be scored: unit, respondent id, the rating, (question, level).
type Failure = (u32, u32, Rating, (String, Option<u8>));
/// A raking dimension: its name, population margin and the stratum it reads.
type Dimension<'a> = (
    &'a str,
    &'a Option<BTreeMap<String, f64>>,
    fn(&Strata) -> &str,
);

/// A scored rating as the preparer keeps it.
#[derive(Debug, Clone, Copy)]
struct Compact {
    unit: u32,
    /// Respondent id in arrival order, replaced by its rank in key order before sorting.
    respondent: u32,
    strata: u32,
    overall: Option<u8>,
    composite: f64,
}

/// Validates and canonicalises the input (docs/method.md §0, §1, and §7 decision 1, a fixed order):
/// units sorted by code, ratings sorted by (unit, respondent, composite, overall level),
/// self-selected ratings dropped if the setting says so, ratings with no answered question not
/// counted, and raking weights computed when margins are given.
pub fn prepare(input: &CampaignInput, settings: &Settings) -> Result<Prepared, StatsError> {
    let mut preparer = Preparer::new(&input.template, input.units.clone(), settings)?;
    for rating in &input.ratings {
        preparer.push(rating);
    }
    preparer.finish(input.margins.as_ref())
}

/// [`prepare`] one rating at a time, in any order: the result does not depend on the order in
/// which ratings arrive.
pub struct Preparer<'a> {
    settings: &'a Settings,
    key: ScoringKey<'a>,
    infos: Vec<UnitInfo>,
    unit_index: HashMap<String, u32>,
    respondent_ids: HashMap<Box<str>, u32>,
    strata_ids: HashMap<Strata, u32>,
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
            respondent_ids: HashMap::new(),
            strata_ids: HashMap::new(),
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
        let next = self.respondent_ids.len() as u32;
        let respondent = match self.respondent_ids.get(r.respondent.as_str()) {
            Some(&id) => id,
            None => {
                self.respondent_ids
                    .insert(r.respondent.as_str().into(), next);
                next
            }
        };
        match self.key.score(&r.answers) {
            Ok(s) => {
                if let Some(composite) = s.composite {
                    let next = self.strata_ids.len() as u32;
                    let strata = match self.strata_ids.get(&r.strata) {
                        Some(&id) => id,
                        None => {
                            self.strata_ids.insert(r.strata.clone(), next);
                            next
                        }
                    };
                    self.scored.push(Compact {
                        unit,
                        respondent,
                        strata,
                        overall: s.overall,
                        composite,
                    });
                }
            }
            Err(e) => self.failures.push((unit, respondent, r.clone(), e)),
        }
    }

    /// Sorts into canonical order, checks strata, rakes when `margins` are given, and builds the
    /// per-unit observations.
    pub fn finish(self, margins: Option<&Margins>) -> Result<Prepared, StatsError> {
        let Preparer {
            settings,
            infos,
            respondent_ids,
            strata_ids,
            mut scored,
            unknown_unit,
            failures,
            ..
        } = self;
        if let Some(code) = unknown_unit {
            return Err(StatsError::UnknownUnit(code));
        }
        // Canonical order without string comparisons in the sort: unit index (units are in code
        // order) and respondent rank (distinct keys sorted once), then what the rating
        // contributes, so even two ratings of a unit by one enterprise sum in a fixed order.
        let mut keys: Vec<(Box<str>, u32)> = respondent_ids.into_iter().collect();
        keys.sort_unstable();
        let mut rank_of = vec![0u32; keys.len()];
        for (rank, (_, id)) in keys.iter().enumerate() {
            rank_of[*id as usize] = rank as u32;
        }
        let first_failure = failures.into_iter().min_by(|a, b| {
            (a.0, rank_of[a.1 as usize])
                .cmp(&(b.0, rank_of[b.1 as usize]))
                .then_with(|| a.2.cmp(&b.2))
        });
        if let Some((_, _, r, (question, level))) = first_failure {
            return Err(match level {
                Some(level) => StatsError::LevelOutOfRange {
                    unit: r.unit_code,
                    respondent: r.respondent,
                    question,
                    level,
                },
                None => StatsError::UnknownQuestion(question),
            });
        }
        for s in scored.iter_mut() {
            s.respondent = rank_of[s.respondent as usize];
        }
        scored.sort_unstable_by(|a, b| {
            (a.unit, a.respondent)
                .cmp(&(b.unit, b.respondent))
                .then_with(|| a.composite.total_cmp(&b.composite))
                .then_with(|| a.overall.cmp(&b.overall))
        });
        let mut strata_by_id: Vec<Option<Strata>> = vec![None; strata_ids.len()];
        for (s, id) in strata_ids {
            strata_by_id[id as usize] = Some(s);
        }

        // Strata per respondent (one per enterprise), in canonical order.
        let mut strata: Vec<Option<u32>> = vec![None; keys.len()];
        for s in &scored {
            if let Some(previous) = strata[s.respondent as usize].replace(s.strata)
                && previous != s.strata
                && margins.is_some()
            {
                let key = &keys[s.respondent as usize].0;
                return Err(StatsError::ConflictingStrata(key.to_string()));
            }
        }
        // respondents with a counted rating, in key order; `compact[rank]` is their index
        let mut compact = vec![usize::MAX; keys.len()];
        let mut respondents: Vec<String> = Vec::new();
        let mut respondent_strata: Vec<&Strata> = Vec::new();
        for (rank, s) in strata.iter().enumerate() {
            if let Some(s) = s
                && let Some(s) = &strata_by_id[*s as usize]
            {
                compact[rank] = respondents.len();
                respondents.push(keys[rank].0.to_string());
                respondent_strata.push(s);
            }
        }
        drop(keys);
        let (weights, raking) = match margins {
            None => (vec![1.0; respondents.len()], None),
            Some(m) => {
                let mut margins: Vec<Margin> = Vec::new();
                let dims: [Dimension<'_>; 3] = [
                    ("size", &m.size, |s| &s.size),
                    ("industry", &m.industry, |s| &s.industry),
                    ("district", &m.district, |s| &s.district),
                ];
                for (name, population, label) in dims {
                    if let Some(population) = population {
                        let labels: Vec<&str> =
                            respondent_strata.iter().map(|s| label(s)).collect();
                        margins.push(build_margin(
                            name,
                            &labels,
                            population,
                            settings.raking.min_category,
                        )?);
                    }
                }
                let (w, report) = rake(respondents.len(), &margins, &settings.raking);
                (w, Some(report))
            }
        };

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
            let respondent = compact[s.respondent as usize];
            units[s.unit as usize].observations.push(Observation {
                respondent,
                weight: weights[respondent],
                composite: s.composite,
                satisfied: s.overall.map(is_satisfied),
            });
        }
        Ok(Prepared {
            units,
            respondents,
            weights,
            raking,
        })
    }
}
