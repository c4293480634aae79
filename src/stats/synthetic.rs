//! A deterministic synthetic campaign generator, for tests, benchmarks and demos: units with true
//! differences, enterprises with their own leniency, answers on the five levels with 不了解.

use crate::stats::simulation::{NormalSampler, uniform_below};
use crate::stats::{CampaignInput, Question, Rating, Strata, Template, UnitInfo, UnitKind};
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use std::collections::BTreeMap;

/// A peer group to generate: name, number of units and their kind.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticGroup {
    pub name: String,
    pub units: usize,
    pub kind: UnitKind,
}

/// What to generate. Latent scale: a level is `round(3.6 + unit + enterprise + noise)` in 1..=5.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticSpec {
    pub period: String,
    pub enterprises: usize,
    /// Units each enterprise rates (all units if at least their number).
    pub units_per_enterprise: usize,
    pub questions: usize,
    pub groups: Vec<SyntheticGroup>,
    /// SD of the true unit effects (0: no real differences).
    pub unit_sd: f64,
    pub enterprise_sd: f64,
    pub noise_sd: f64,
    /// Probability that a question is answered 不了解.
    pub not_applicable: f64,
    pub seed: u64,
}

impl SyntheticSpec {
    /// The same city with `units` units in each peer group.
    pub fn with_group_units(mut self, units: usize) -> Self {
        for g in &mut self.groups {
            g.units = units;
        }
        self
    }

    /// The benchmark's city: 10,000 enterprises × 10 units × 6 questions; 300 units in 3 groups.
    pub fn city(seed: u64) -> Self {
        SyntheticSpec {
            period: "2019H2".into(),
            enterprises: 10_000,
            units_per_enterprise: 10,
            questions: 6,
            groups: [
                ("departments", UnitKind::Department),
                ("offices", UnitKind::Office),
                ("stations", UnitKind::Station),
            ]
            .into_iter()
            .map(|(name, kind)| SyntheticGroup {
                name: name.into(),
                units: 100,
                kind,
            })
            .collect(),
            unit_sd: 0.3,
            enterprise_sd: 0.4,
            noise_sd: 0.7,
            not_applicable: 0.1,
            seed,
        }
    }
}

/// Generates the campaign (unit codes `G01-U0001`…), equal question weights.
pub fn synthetic_campaign(spec: &SyntheticSpec) -> CampaignInput {
    synthetic_campaign_with_respondents(spec).0
}

/// [`synthetic_campaign`] (every weight 1), the strata of its enterprises, one entry each (the
/// respondents that weighting rakes, docs/method.md §2.4), and for each rating the index of the
/// enterprise that gave it (what the close knows of a ballot before it forgets it).
pub fn synthetic_campaign_with_respondents(
    spec: &SyntheticSpec,
) -> (CampaignInput, Vec<Strata>, Vec<usize>) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(spec.seed);
    let mut normal = NormalSampler::default();
    let mut units = Vec::new();
    let mut effects = Vec::new();
    for (g, group) in spec.groups.iter().enumerate() {
        for u in 0..group.units {
            units.push(UnitInfo {
                code: format!("G{:02}-U{:04}", g + 1, u + 1),
                kind: group.kind,
                peer_group: group.name.clone(),
                response_rate: Some(0.5),
            });
            effects.push(spec.unit_sd * normal.sample(&mut rng));
        }
    }
    let questions: Vec<Question> = (0..spec.questions)
        .map(|q| Question {
            id: format!("q{}", q + 1),
            weight: 1.0,
        })
        .collect();
    let ids: Vec<String> = questions.iter().map(|q| q.id.clone()).collect();
    let template = Template::with_default_points(questions, "q1");
    let sizes = ["micro", "small", "medium", "large"];
    let mut ratings =
        Vec::with_capacity(spec.enterprises * spec.units_per_enterprise.min(units.len()));
    let mut chosen: Vec<usize> = (0..units.len()).collect();
    let mut respondents = Vec::with_capacity(spec.enterprises);
    let mut given_by = Vec::new();
    for respondent in 0..spec.enterprises {
        let strata = Strata {
            size: sizes[uniform_below(&mut rng, 4) as usize].into(),
            industry: format!("I{}", uniform_below(&mut rng, 5)),
            district: format!("D{}", uniform_below(&mut rng, 6)),
        };
        respondents.push(strata.clone());
        let leniency = spec.enterprise_sd * normal.sample(&mut rng);
        let k = spec.units_per_enterprise.min(units.len());
        // a partial Fisher–Yates shuffle picks k distinct units
        for i in 0..k {
            let j = i + uniform_below(&mut rng, (units.len() - i) as u64) as usize;
            chosen.swap(i, j);
        }
        for &u in &chosen[..k] {
            let mut answers = BTreeMap::new();
            for id in &ids {
                let latent = 3.6 + effects[u] + leniency + spec.noise_sd * normal.sample(&mut rng);
                let na = (uniform_below(&mut rng, 1 << 20) as f64)
                    < spec.not_applicable * f64::from(1 << 20);
                let level = (latent.round().clamp(1.0, 5.0)) as u8;
                answers.insert(id.clone(), (!na).then_some(level));
            }
            given_by.push(respondent);
            ratings.push(Rating {
                unit_code: units[u].code.clone(),
                weight: 1.0,
                answers,
                self_selected: false,
            });
        }
    }
    let input = CampaignInput {
        period: spec.period.clone(),
        template,
        units,
        ratings,
        weighting: None,
    };
    (input, respondents, given_by)
}

/// A hand-made unit for [`single_question_campaign`]: its code, kind, group and the levels its
/// raters gave.
#[derive(Debug, Clone, PartialEq)]
pub struct HandUnit {
    pub code: String,
    pub kind: UnitKind,
    pub peer_group: String,
    pub levels: Vec<u8>,
}

/// A campaign with one question (`overall`, default points) built from hand-made units.
pub fn single_question_campaign(period: &str, units: &[HandUnit]) -> CampaignInput {
    let template = Template::with_default_points(
        vec![Question {
            id: "overall".into(),
            weight: 1.0,
        }],
        "overall",
    );
    let mut ratings = Vec::new();
    for unit in units {
        for level in &unit.levels {
            ratings.push(Rating {
                unit_code: unit.code.clone(),
                weight: 1.0,
                answers: BTreeMap::from([("overall".to_owned(), Some(*level))]),
                self_selected: false,
            });
        }
    }
    let infos = units
        .iter()
        .map(|u| UnitInfo {
            code: u.code.clone(),
            kind: u.kind,
            peer_group: u.peer_group.clone(),
            response_rate: None,
        })
        .collect();
    CampaignInput {
        period: period.to_owned(),
        template,
        units: infos,
        ratings,
        weighting: None,
    }
}
