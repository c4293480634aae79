//! The cluster bootstrap by enterprise (docs/method.md §9): a sensitivity report run on request.
//!
//! Each replicate draws G enterprises with replacement (all their ratings go along), recomputes
//! every eligible unit's score, variance and design effect, and refits §4 with the published
//! ranks. The eligible set and the raking weights of the original data are kept (docs/method.md
//! §7, decision 15). Percentiles use the same rule as the rank interval: the smallest value whose
//! cumulative share reaches 2.5% / 97.5%.

use crate::stats::eligibility::{Standing, standing};
use crate::stats::fit::{EligibleUnit, fit_campaign, unit_figures};
use crate::stats::prepare::prepare;
use crate::stats::simulation::uniform_below;
use crate::stats::{CampaignInput, Settings, StatsError};
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Bootstrap spread (`None` if every replicate failed) of one eligible unit's shrunken score and published rank.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BootstrapUnit {
    pub code: String,
    pub shrunken_low: Option<f64>,
    pub shrunken_high: Option<f64>,
    pub rank_low: Option<u32>,
    pub rank_high: Option<u32>,
    /// Share of replicates with a published rank among the N lowest.
    pub p_bottom5: f64,
}

/// Bootstrap spread of a peer group's τ² and its eligible units (groups with none are left out).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BootstrapGroup {
    pub name: String,
    pub tau2_low: Option<f64>,
    pub tau2_high: Option<f64>,
    /// Share of replicates with τ² = 0.
    pub tau2_zero_share: f64,
    pub units: Vec<BootstrapUnit>,
}

/// The sensitivity report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BootstrapReport {
    pub seed: u64,
    pub replicates: usize,
    /// Replicates skipped because some eligible unit drew fewer than two ratings.
    pub failed: usize,
    pub groups: Vec<BootstrapGroup>,
}

/// The smallest value whose cumulative share reaches `p` (sorts `values`).
fn percentile(values: &mut [f64], p: f64) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let k = ((p * values.len() as f64).ceil() as usize).clamp(1, values.len().max(1));
    values.get(k - 1).copied()
}

#[derive(Default, Clone, Copy)]
struct Sums {
    n: usize,
    sw: f64,
    sw2: f64,
    swd: f64,
    swd2: f64,
}

/// Runs B = `settings.bootstrap_replicates` replicates seeded by `seed` (docs/method.md §9; the cluster
/// bootstrap resamples whole primary units: Davison & Hinkley 1997 §3.8, Field & Welsh 2007,
/// JRSS B 69:369). Deterministic for a seed; single-threaded, as it runs on request only.
pub fn cluster_bootstrap(
    input: &CampaignInput,
    settings: &Settings,
    seed: u64,
) -> Result<BootstrapReport, StatsError> {
    let prepared = prepare(input, settings)?;
    // eligible units by group (name order), with their original mean
    let mut groups: BTreeMap<&str, Vec<(usize, f64)>> = BTreeMap::new();
    for (i, u) in prepared.units.iter().enumerate() {
        let f = unit_figures(&u.observations);
        let entry = groups.entry(u.info.peer_group.as_str()).or_default();
        if let (Standing::Eligible, Some(mean)) = (standing(f.n, f.n_eff, settings), f.mean) {
            entry.push((i, mean));
        }
    }
    // per respondent: (slot, weight, composite − original mean)
    let mut slot_of_unit = vec![usize::MAX; prepared.units.len()];
    let mut slots: Vec<(usize, f64)> = Vec::new();
    for members in groups.values() {
        for &(i, mean) in members {
            slot_of_unit[i] = slots.len();
            slots.push((i, mean));
        }
    }
    let mut contributions: Vec<Vec<(usize, f64, f64)>> =
        vec![Vec::new(); prepared.respondents.len()];
    for (i, u) in prepared.units.iter().enumerate() {
        if slot_of_unit[i] == usize::MAX {
            continue;
        }
        for o in &u.observations {
            contributions[o.respondent].push((
                slot_of_unit[i],
                o.weight,
                o.composite - slots[slot_of_unit[i]].1,
            ));
        }
    }
    let g = prepared.respondents.len() as u64;
    let b = settings.bootstrap_replicates;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut multiplicity = vec![0usize; prepared.respondents.len()];
    let mut thetas: Vec<Vec<f64>> = vec![Vec::with_capacity(b); slots.len()];
    let mut ranks: Vec<Vec<u32>> = vec![Vec::with_capacity(b); slots.len()];
    let mut taus: Vec<Vec<f64>> = vec![Vec::with_capacity(b); groups.len()];
    let mut failed = 0;
    for _ in 0..b {
        multiplicity.iter_mut().for_each(|m| *m = 0);
        for _ in 0..g {
            multiplicity[uniform_below(&mut rng, g) as usize] += 1;
        }
        let mut sums = vec![Sums::default(); slots.len()];
        for (m, contribution) in multiplicity.iter().zip(&contributions) {
            for &(slot, w, d) in contribution.iter().filter(|_| *m > 0) {
                let (mf, s) = (*m as f64, &mut sums[slot]);
                s.n += m;
                s.sw += mf * w;
                s.sw2 += mf * w * w;
                s.swd += mf * w * d;
                s.swd2 += mf * w * d * d;
            }
        }
        if sums.iter().any(|s| s.n < 2 || s.sw <= 0.0) {
            failed += 1;
            continue;
        }
        let mut next = 0;
        let eligible: Vec<Vec<EligibleUnit<'_>>> = groups
            .values()
            .map(|members| {
                members
                    .iter()
                    .map(|&(i, mean)| {
                        let s = sums[next];
                        next += 1;
                        let within = (s.swd2 - s.swd * s.swd / s.sw).max(0.0) * s.n as f64 / s.sw;
                        EligibleUnit {
                            code: &prepared.units[i].info.code,
                            score: mean + s.swd / s.sw,
                            within_ss: within,
                            n: s.n,
                            deff: s.n as f64 * s.sw2 / (s.sw * s.sw),
                        }
                    })
                    .collect()
            })
            .collect();
        let mut slot = 0;
        for (gi, fit) in fit_campaign(&eligible, settings).into_iter().enumerate() {
            let Some(fit) = fit else { continue };
            taus[gi].push(fit.tau2);
            for (s, r) in fit.shrunk.iter().zip(&fit.ranks) {
                thetas[slot].push(s.theta);
                ranks[slot].push(*r);
                slot += 1;
            }
        }
    }
    let mut out_groups = Vec::new();
    let mut slot = 0;
    for ((name, members), tau) in groups.iter().zip(taus.iter_mut()) {
        let j = members.len();
        if j == 0 {
            continue;
        }
        let units = members
            .iter()
            .map(|&(i, _)| {
                let (th, rk) = (&mut thetas[slot], &mut ranks[slot]);
                slot += 1;
                let bottom = rk
                    .iter()
                    .filter(|r| **r as usize + settings.bottom_n > j)
                    .count();
                let mut rf: Vec<f64> = rk.iter().map(|r| f64::from(*r)).collect();
                BootstrapUnit {
                    code: prepared.units[i].info.code.clone(),
                    shrunken_low: percentile(th, 0.025),
                    shrunken_high: percentile(th, 0.975),
                    rank_low: percentile(&mut rf, 0.025).map(|r| r as u32),
                    rank_high: percentile(&mut rf, 0.975).map(|r| r as u32),
                    p_bottom5: bottom as f64 / rk.len().max(1) as f64,
                }
            })
            .collect();
        let zero = tau.iter().filter(|t| **t == 0.0).count() as f64 / tau.len().max(1) as f64;
        out_groups.push(BootstrapGroup {
            name: (*name).to_owned(),
            tau2_low: percentile(tau, 0.025),
            tau2_high: percentile(tau, 0.975),
            tau2_zero_share: zero,
            units,
        });
    }
    Ok(BootstrapReport {
        seed,
        replicates: b,
        failed,
        groups: out_groups,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn bounded_integers_stay_in_range_and_cover_it() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let mut seen = [0usize; 7];
        for _ in 0..7000 {
            seen[uniform_below(&mut rng, 7) as usize] += 1;
        }
        assert!(seen.iter().all(|c| (850..1150).contains(c)), "{seen:?}");
    }

    #[test]
    fn percentiles_take_the_smallest_value_reaching_the_share() {
        let mut v: Vec<f64> = (1..=40).rev().map(f64::from).collect();
        assert_eq!(percentile(&mut v, 0.025), Some(1.0));
        assert_eq!(percentile(&mut v, 0.975), Some(39.0));
        assert_eq!(percentile(&mut [], 0.5), None);
    }
}
