//! The aggregation of one campaign (docs/method.md §0–§5) into the `results.json` figures.

use crate::stats::eligibility::{Standing, standing};
use crate::stats::fit::{EligibleUnit, GroupFit, UnitFigures, fit_campaign, unit_figures};
use crate::stats::prepare::{Prepared, PreparedUnit, prepare};
use crate::stats::simulation::{RankSummary, simulate_ranks};
use crate::stats::{
    CampaignInput, CampaignResult, METHOD_VERSION, PeerGroupResult, Period, Settings, StatsError,
    UnitResult,
};
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use std::collections::BTreeMap;

/// Aggregates a campaign: scores and intervals for every unit, suppression, shrinkage per peer
/// group, published ranks and the rank simulation (R = `settings.draws`) seeded by `seed`.
/// The same input in any order with the same seed gives bit-identical output. Peer groups are
/// simulated in parallel, each on its own jump-ahead stream (docs/method.md §7, decision 13).
pub fn aggregate(
    input: &CampaignInput,
    settings: &Settings,
    seed: u64,
) -> Result<CampaignResult, StatsError> {
    Period::parse(&input.period)?;
    let prepared = prepare(input, settings)?;
    aggregate_prepared(&input.period, &prepared, settings, seed)
}

/// [`aggregate()`] over ratings already prepared (for instance streamed from storage through a
/// [`crate::stats::prepare::Preparer`]).
pub fn aggregate_prepared(
    period: &str,
    prepared: &Prepared,
    settings: &Settings,
    seed: u64,
) -> Result<CampaignResult, StatsError> {
    Period::parse(period)?;
    let mut by_group: BTreeMap<&str, Vec<&PreparedUnit>> = BTreeMap::new();
    for unit in &prepared.units {
        by_group
            .entry(unit.info.peer_group.as_str())
            .or_default()
            .push(unit);
    }
    let figures: Vec<Vec<(UnitFigures, Standing)>> = by_group
        .values()
        .map(|units| {
            units
                .iter()
                .map(|u| {
                    let f = unit_figures(&u.observations);
                    (f, standing(f.n, f.n_eff, settings))
                })
                .collect()
        })
        .collect();
    let eligible: Vec<Vec<EligibleUnit<'_>>> = by_group
        .values()
        .zip(&figures)
        .map(|(units, figs)| {
            units
                .iter()
                .zip(figs)
                .filter(|(_, (_, s))| *s == Standing::Eligible)
                .filter_map(|(u, (f, _))| {
                    Some(EligibleUnit {
                        code: &u.info.code,
                        score: f.mean?,
                        within_ss: f.within_ss,
                        n: f.n,
                        deff: f.deff(),
                    })
                })
                .collect()
        })
        .collect();
    let fits = fit_campaign(&eligible, settings);
    let simulations = simulate_groups(&fits, settings, seed);

    let peer_groups = by_group
        .iter()
        .zip(&figures)
        .zip(fits.iter().zip(&simulations))
        .map(|(((name, units), figs), (fit, sims))| {
            let mut next_eligible = 0;
            let units = units
                .iter()
                .zip(figs)
                .map(|(u, (f, s))| {
                    let slot = (*s == Standing::Eligible).then(|| {
                        next_eligible += 1;
                        next_eligible - 1
                    });
                    unit_result(u, f, *s, fit.as_ref().zip(slot), sims.as_deref())
                })
                .collect();
            PeerGroupResult {
                name: (*name).to_owned(),
                tau2: fit.as_ref().map(|f| f.tau2),
                mu: fit.as_ref().map(|f| f.mean.mu),
                tau2_pooled: fit.as_ref().is_some_and(|f| f.tau2_pooled),
                eligible_units: eligible_count(figs),
                units,
            }
        })
        .collect();
    Ok(CampaignResult {
        period: period.to_owned(),
        method_version: METHOD_VERSION.to_owned(),
        seed,
        rank_by: settings.rank_by,
        weighting: prepared.raking.clone(),
        peer_groups,
    })
}

fn eligible_count(figs: &[(UnitFigures, Standing)]) -> usize {
    figs.iter()
        .filter(|(_, s)| *s == Standing::Eligible)
        .count()
}

fn unit_result(
    unit: &PreparedUnit,
    f: &UnitFigures,
    standing: Standing,
    fit: Option<(&GroupFit, usize)>,
    sims: Option<&[RankSummary]>,
) -> UnitResult {
    let published = standing != Standing::Suppressed;
    let shown = |x: Option<f64>| x.filter(|_| published);
    let sim = fit.and_then(|(_, i)| sims?.get(i));
    UnitResult {
        code: unit.info.code.clone(),
        kind: unit.info.kind,
        n: f.n,
        n_eff: f.n_eff,
        response_rate: unit.info.response_rate,
        score: shown(f.mean),
        ci_low: shown(f.interval.map(|i| i.low)),
        ci_high: shown(f.interval.map(|i| i.high)),
        satisfied_rate: shown(f.satisfied_rate),
        satisfied_low: shown(f.satisfied_interval.map(|i| i.low)),
        satisfied_high: shown(f.satisfied_interval.map(|i| i.high)),
        shrunken: fit.map(|(g, i)| g.shrunk[i].theta),
        rank: fit.map(|(g, i)| g.ranks[i]),
        rank_mean: sim.map(|s| s.mean),
        rank_low: sim.map(|s| s.low),
        rank_high: sim.map(|s| s.high),
        p_bottom5: sim.map(|s| s.p_bottom),
        eligible: standing == Standing::Eligible,
        suppressed: !published,
    }
}

/// Runs the rank simulation of every fitted group, group k on the seed's stream after k jumps,
/// spread over the available cores.
fn simulate_groups(
    fits: &[Option<GroupFit>],
    settings: &Settings,
    seed: u64,
) -> Vec<Option<Vec<RankSummary>>> {
    let mut streams = Vec::with_capacity(fits.len());
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    for _ in fits {
        streams.push(rng.clone());
        rng.jump();
    }
    let run = |fit: &GroupFit, mut rng: Xoshiro256PlusPlus| {
        let means: Vec<f64> = fit.shrunk.iter().map(|s| s.theta).collect();
        let vars: Vec<f64> = fit.shrunk.iter().map(|s| s.var).collect();
        simulate_ranks(&means, &vars, settings.draws, settings.bottom_n, &mut rng)
    };
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(fits.len())
        .max(1);
    let mut results: Vec<Option<Vec<RankSummary>>> = vec![None; fits.len()];
    if workers == 1 {
        for ((fit, rng), out) in fits.iter().zip(streams).zip(results.iter_mut()) {
            *out = fit.as_ref().map(|f| run(f, rng));
        }
        return results;
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|k| {
                let jobs: Vec<(usize, &GroupFit, Xoshiro256PlusPlus)> = fits
                    .iter()
                    .zip(&streams)
                    .enumerate()
                    .filter(|(i, _)| i % workers == k)
                    .filter_map(|(i, (f, r))| Some((i, f.as_ref()?, r.clone())))
                    .collect();
                let run = &run;
                scope.spawn(move || {
                    jobs.into_iter()
                        .map(|(i, f, r)| (i, run(f, r)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for handle in handles {
            // a panicking worker is a bug in this module; re-raise it rather than lose figures
            let done = handle
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e));
            for (i, summary) in done {
                results[i] = Some(summary);
            }
        }
    });
    results
}
