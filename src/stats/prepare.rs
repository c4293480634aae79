//! From a campaign's raw input to per-unit observations in a fixed order, with weights.

use crate::stats::score::{ScoringKey, is_satisfied, validate_template};
use crate::stats::weighting::{Margin, RakingReport, build_margin, rake};
use crate::stats::{CampaignInput, Rating, Settings, StatsError, Strata, UnitInfo};
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
type Failure<'a> = (usize, usize, &'a Rating, (String, Option<u8>));
/// A raking dimension: its name, population margin and the stratum it reads.
type Dimension<'a> = (
    &'a str,
    &'a Option<BTreeMap<String, f64>>,
    fn(&Strata) -> &str,
);

/// Validates and canonicalises the input (STATS.md §0, §1, §5 "read inputs in a fixed order"):
/// units sorted by code, ratings sorted by (unit, respondent, rest of the rating), self-selected
/// ratings dropped if the setting says so, ratings with no answered question not counted, and
/// raking weights computed when margins are given.
pub fn prepare(input: &CampaignInput, settings: &Settings) -> Result<Prepared, StatsError> {
    settings.validate()?;
    validate_template(&input.template)?;
    let mut infos: Vec<&UnitInfo> = input.units.iter().collect();
    infos.sort_by(|a, b| a.code.cmp(&b.code));
    if let Some(w) = infos.windows(2).find(|w| w[0].code == w[1].code) {
        return Err(StatsError::DuplicateUnit(w[0].code.clone()));
    }
    // Pass 1, in input order (sequential memory): resolve units, number respondents, score.
    // Errors are reported for the first offending rating in canonical order, not input order.
    let unit_index: HashMap<&str, usize> = infos
        .iter()
        .enumerate()
        .map(|(i, u)| (u.code.as_str(), i))
        .collect();
    let mut first_seen: HashMap<&str, usize> = HashMap::new();
    let mut keys: Vec<&str> = Vec::new();
    let key = ScoringKey::new(&input.template);
    let mut unknown_unit: Option<&str> = None;
    let mut failures: Vec<Failure<'_>> = Vec::new();
    // (unit index, respondent id → rank later, composite, overall level, rating)
    let mut scored: Vec<(usize, usize, f64, Option<u8>, &Rating)> =
        Vec::with_capacity(input.ratings.len());
    for r in input
        .ratings
        .iter()
        .filter(|r| settings.include_self_selected || !r.self_selected)
    {
        let Some(&unit) = unit_index.get(r.unit_code.as_str()) else {
            unknown_unit = unknown_unit
                .min(Some(r.unit_code.as_str()))
                .or(Some(r.unit_code.as_str()));
            continue;
        };
        let id = *first_seen.entry(r.respondent.as_str()).or_insert_with(|| {
            keys.push(r.respondent.as_str());
            keys.len() - 1
        });
        match key.score(&r.answers) {
            Ok(s) => {
                if let Some(value) = s.composite {
                    scored.push((unit, id, value, s.overall, r));
                }
            }
            Err(e) => failures.push((unit, id, r, e)),
        }
    }
    if let Some(code) = unknown_unit {
        return Err(StatsError::UnknownUnit(code.to_owned()));
    }
    // Canonical order without string comparisons in the sort: unit index (units are in code
    // order) and respondent rank (distinct keys sorted once), then the whole rating for exact ties.
    let mut by_key: Vec<usize> = (0..keys.len()).collect();
    by_key.sort_unstable_by(|a, b| keys[*a].cmp(keys[*b]));
    let mut rank_of = vec![0; keys.len()];
    for (rank, id) in by_key.iter().enumerate() {
        rank_of[*id] = rank;
    }
    let first_failure = failures.into_iter().min_by(|a, b| {
        (a.0, rank_of[a.1])
            .cmp(&(b.0, rank_of[b.1]))
            .then_with(|| a.2.cmp(b.2))
    });
    if let Some((_, _, r, (question, level))) = first_failure {
        return Err(match level {
            Some(level) => StatsError::LevelOutOfRange {
                unit: r.unit_code.clone(),
                respondent: r.respondent.clone(),
                question,
                level,
            },
            None => StatsError::UnknownQuestion(question),
        });
    }
    for s in scored.iter_mut() {
        s.1 = rank_of[s.1];
    }
    scored.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)).then_with(|| a.4.cmp(b.4)));

    // Pass 2, in canonical order: strata per respondent (one per enterprise)
    let mut strata: Vec<Option<&Strata>> = vec![None; keys.len()];
    for &(_, rank, _, _, r) in &scored {
        if let Some(previous) = strata[rank].replace(&r.strata)
            && previous != &r.strata
            && input.margins.is_some()
        {
            return Err(StatsError::ConflictingStrata(r.respondent.clone()));
        }
    }
    // respondents with a counted rating, in key order; `compact[rank]` is their index
    let mut compact = vec![usize::MAX; keys.len()];
    let mut respondents: Vec<&str> = Vec::new();
    let mut respondent_strata: Vec<&Strata> = Vec::new();
    for (rank, s) in strata.iter().enumerate() {
        if let Some(s) = s {
            compact[rank] = respondents.len();
            respondents.push(keys[by_key[rank]]);
            respondent_strata.push(s);
        }
    }
    let (weights, raking) = match &input.margins {
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
                    let labels: Vec<&str> = respondent_strata.iter().map(|s| label(s)).collect();
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

    let mut units: Vec<PreparedUnit> = infos
        .into_iter()
        .map(|info| PreparedUnit {
            info: info.clone(),
            observations: Vec::new(),
        })
        .collect();
    for (unit, rank, value, overall, _) in scored {
        let respondent = compact[rank];
        let satisfied = overall.map(is_satisfied);
        units[unit].observations.push(Observation {
            respondent,
            weight: weights[respondent],
            composite: value,
            satisfied,
        });
    }
    Ok(Prepared {
        units,
        respondents: respondents.into_iter().map(str::to_owned).collect(),
        weights,
        raking,
    })
}
