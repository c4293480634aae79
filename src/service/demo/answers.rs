//! How the demo's simulated enterprises answer: each unit has a true quality, each enterprise a
//! leniency, each answer noise; so the rankings have real differences, noise and uneven samples.

use std::collections::BTreeMap;

use rand::RngExt;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::Serialize;

use super::city::{DemoEnterprise, DemoUnit};
use crate::domain::SurveyTemplate;

/// One unit's part of a simulated answer, in the JSON the survey API takes.
#[derive(Debug, Clone, Serialize)]
pub struct SimulatedRating {
    pub unit_code: String,
    pub answers: BTreeMap<String, Option<u8>>,
    pub problems: Vec<String>,
    pub comment: Option<String>,
}

fn normal(rng: &mut Xoshiro256PlusPlus) -> f64 {
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random_range(0.0..1.0);
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

fn level(points: f64) -> u8 {
    match points {
        p if p >= 88.0 => 5,
        p if p >= 68.0 => 4,
        p if p >= 48.0 => 3,
        p if p >= 30.0 => 2,
        _ => 1,
    }
}

const PRAISE: &[&str] = &[
    "窗口工作人员态度很好,一次就办成了。",
    "线上办理很方便,进度随时能查。",
    "政策解读清楚,主动上门服务。",
];
const COMPLAINTS: &[&str] = &[
    "材料要求反复变化,跑了三趟才办完。",
    "电话一直没人接,咨询渠道不畅。",
    "审批时限超出承诺,希望能提速。",
];

/// One enterprise's rating of one unit.
pub fn simulate(
    unit: &DemoUnit,
    enterprise: &DemoEnterprise,
    template: &SurveyTemplate,
    rng: &mut Xoshiro256PlusPlus,
) -> SimulatedRating {
    let experience = 76.0 + unit.quality + enterprise.leniency + 10.0 * normal(rng);
    let mut answers = BTreeMap::new();
    for q in template.questions() {
        let unknown = q.allows_na && !q.overall && rng.random_range(0.0..1.0) < 0.06;
        let answer = (!unknown).then(|| level(experience + 8.0 * normal(rng)));
        answers.insert(q.id.clone(), answer);
    }
    let mut problems = Vec::new();
    if experience < 50.0 {
        for p in template.problems() {
            if rng.random_range(0.0..1.0) < 0.25 {
                problems.push(p.id.clone());
            }
        }
    }
    let comment = (rng.random_range(0.0..1.0) < 0.08).then(|| {
        let list = if experience < 60.0 {
            COMPLAINTS
        } else {
            PRAISE
        };
        list[rng.random_range(0..list.len())].to_owned()
    });
    SimulatedRating {
        unit_code: unit.code.clone(),
        answers,
        problems,
        comment,
    }
}

/// Whether an enterprise answers at all in this wave (smaller firms answer less often).
pub fn responds(enterprise: &DemoEnterprise, wave: usize, rng: &mut Xoshiro256PlusPlus) -> bool {
    let base = match enterprise.size {
        "large" => 0.55,
        "medium" => 0.45,
        "small" => 0.38,
        _ => 0.30,
    };
    let p = if wave == 0 { base } else { base * 0.45 };
    rng.random_range(0.0..1.0) < p
}
