//! Synthetic publications for the report benchmark and tests: plausible figures for any number
//! of units, deterministic from a seed, with no database. Not statistics — only shapes and sizes
//! that exercise every writer (suppressed and unranked units, long names, the five lowest).

use super::method::MethodFacts;
use super::model::{PublicFlag, PublicPeerGroup, PublicResults, PublicUnit};
use crate::domain::{STANDARD_TOML, SurveyTemplate, TemplateError};
use crate::stats::Settings;

/// The method facts of a campaign asked with the standard questionnaire under the default
/// settings, without weighting.
pub fn standard_method() -> Result<MethodFacts, TemplateError> {
    let template = SurveyTemplate::from_toml(STANDARD_TOML)?;
    Ok(MethodFacts::new(&template, &Settings::default(), false))
}

/// A peer group to invent: its name, the units' kind and how many units it has.
#[derive(Debug, Clone)]
pub struct SyntheticGroup {
    pub name: String,
    pub kind: String,
    pub units: usize,
}

/// The three groups of a 300-unit city campaign (60 departments, 160 offices, 80 stations).
pub fn city_groups() -> Vec<SyntheticGroup> {
    [
        ("部门", "department", 60),
        ("处室", "office", 160),
        ("基层站所", "station", 80),
    ]
    .into_iter()
    .map(|(name, kind, units)| SyntheticGroup {
        name: name.into(),
        kind: kind.into(),
        units,
    })
    .collect()
}

/// A small deterministic generator (SplitMix64): the figures only need to look varied.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// One period's results for `groups`; the same `seed` and period give the same file.
pub fn synthetic_results(period: &str, groups: &[SyntheticGroup], seed: u64) -> PublicResults {
    let mut mix = Mix(seed ^ period.bytes().fold(0, |h, b| h * 31 + u64::from(b)));
    let peer_groups: Vec<PublicPeerGroup> = groups
        .iter()
        .enumerate()
        .map(|(g, spec)| {
            let mut units: Vec<PublicUnit> = (0..spec.units)
                .map(|i| {
                    // Unit quality is fixed by its code, so trends look like trends.
                    let base = 70.0 + 20.0 * Mix(seed ^ ((g * 1000 + i) as u64)).next();
                    let n = (5.0 + 200.0 * mix.next() * mix.next()) as usize + 5;
                    let score = (base + 6.0 * (mix.next() - 0.5)).min(99.0);
                    let half = 1.96 * 15.0 / (n as f64).sqrt();
                    let published = n >= 10;
                    let eligible = n >= 30;
                    let rate = (score / 100.0).min(0.99);
                    let name = if i % 17 == 3 {
                        format!("{}第{}分局行政审批和政务服务管理科", spec.name, i + 1)
                    } else {
                        format!("{}{:03}", spec.name, i + 1)
                    };
                    PublicUnit {
                        code: format!("{}{:03}", ["D", "O", "S", "X"][g % 4], i + 1),
                        name,
                        kind: spec.kind.clone(),
                        n,
                        n_eff: n as f64,
                        response_rate: Some(0.4 + 0.5 * mix.next()),
                        score: published.then_some(score),
                        ci_low: published.then_some(score - half),
                        ci_high: published.then_some((score + half).min(100.0)),
                        satisfied_rate: published.then_some(rate),
                        satisfied_low: published.then_some(rate - 0.05),
                        satisfied_high: published.then_some((rate + 0.03).min(1.0)),
                        shrunken: eligible.then_some(score * 0.9 + 8.0),
                        rank: None,
                        rank_mean: None,
                        rank_low: None,
                        rank_high: None,
                        p_bottom5: None,
                        eligible,
                        suppressed: !published,
                    }
                })
                .collect();
            let mut order: Vec<usize> = (0..units.len()).filter(|&i| units[i].eligible).collect();
            order.sort_by(|&a, &b| {
                let key = |i: usize| units[i].shrunken.unwrap_or_default();
                key(b).total_cmp(&key(a))
            });
            let j = order.len() as u32;
            for (r, &i) in order.iter().enumerate() {
                let rank = r as u32 + 1;
                let spread = 1 + (400 / (units[i].n as u32)).min(j / 3);
                let u = &mut units[i];
                u.rank = Some(rank);
                u.rank_mean = Some((f64::from(rank) + mix.next() - 0.5).clamp(1.0, f64::from(j)));
                u.rank_low = Some(rank.saturating_sub(spread).max(1));
                u.rank_high = Some((rank + spread).min(j));
                let from_bottom = j - rank;
                u.p_bottom5 = Some(if from_bottom < 5 {
                    0.5 + 0.1 * f64::from(5 - from_bottom) - 0.05
                } else {
                    (0.3 / f64::from(from_bottom - 3)).min(0.3)
                });
            }
            PublicPeerGroup {
                name: spec.name.clone(),
                tau2: Some(20.0),
                mu: Some(80.0),
                units,
            }
        })
        .collect();
    // The last-ranked department or office of each flaggable group is "in the bottom five again".
    let flags = peer_groups
        .iter()
        .filter_map(|g| {
            let ranked = g.units.iter().filter(|u| u.rank.is_some()).count();
            let last = g.units.iter().find(|u| u.rank == Some(ranked as u32))?;
            (ranked >= 10 && last.kind != "station").then(|| PublicFlag {
                unit_code: last.code.clone(),
                periods: vec![previous(period), period.to_owned()],
                credible: true,
            })
        })
        .collect();
    PublicResults {
        period: period.to_owned(),
        version: 1,
        supersedes: None,
        reason: None,
        published_at: "2019-12-31T10:00:00+08:00".into(),
        method_version: "synthetic".into(),
        seed,
        peer_groups,
        flags,
    }
}

/// `2019H2` → `2019H1`, `2019H1` → `2018H2`; anything else is returned as is.
pub fn previous(period: &str) -> String {
    period
        .parse::<crate::domain::Period>()
        .map_or(period.to_owned(), |p| p.previous().to_string())
}

/// `count` half-years ending with `period`, oldest first.
pub fn periods_until(period: &str, count: usize) -> Vec<String> {
    let mut out = vec![period.to_owned()];
    while out.len() < count {
        let before = previous(&out[out.len() - 1]);
        if before == out[out.len() - 1] {
            break;
        }
        out.push(before);
    }
    out.reverse();
    out
}
