//! Per-unit figures (§1–2) and the per-campaign shrinkage fit with published ranks (§4–5).

use crate::stats::Settings;
use crate::stats::interval::{Interval, score_interval, wilson};
use crate::stats::prepare::Observation;
use crate::stats::ranking::{RankEntry, published_ranks};
use crate::stats::shrinkage::{
    DlFit, RandomEffectsMean, Shrunk, dersimonian_laird, pooled_tau2, pooled_within_variance,
    random_effects_mean, shrink,
};

/// What §1–2 give for one unit before suppression.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UnitFigures {
    pub n: usize,
    pub n_eff: f64,
    pub mean: Option<f64>,
    /// `Σ w̃ (y − ȳ)²` with weights rescaled to sum to n (docs/method.md §7, decision 7).
    pub within_ss: f64,
    pub interval: Option<Interval>,
    pub satisfied_rate: Option<f64>,
    pub satisfied_interval: Option<Interval>,
}

impl UnitFigures {
    /// The weighting design effect `n / n_eff` (1 without weights).
    pub fn deff(&self) -> f64 {
        if self.n_eff > 0.0 {
            self.n as f64 / self.n_eff
        } else {
            1.0
        }
    }
}

/// Score, its t-interval with the linearized SE, and 满意率 with Wilson's interval
/// (docs/method.md §1–2), from one unit's observations (in their canonical order).
pub fn unit_figures(observations: &[Observation]) -> UnitFigures {
    let n = observations.len();
    let y: Vec<f64> = observations.iter().map(|o| o.composite).collect();
    let w: Vec<f64> = observations.iter().map(|o| o.weight).collect();
    let sw: f64 = w.iter().sum();
    let sw2: f64 = w.iter().map(|w| w * w).sum();
    let n_eff = if sw2 > 0.0 { sw * sw / sw2 } else { 0.0 };
    let mean = (sw > 0.0).then(|| y.iter().zip(&w).map(|(y, w)| w * y).sum::<f64>() / sw);
    let within_ss = match mean {
        Some(m) => {
            y.iter()
                .zip(&w)
                .map(|(y, w)| w * (y - m).powi(2))
                .sum::<f64>()
                * n as f64
                / sw
        }
        None => 0.0,
    };
    let interval = score_interval(&y, &w);
    let (mut s_w, mut s_w2, mut s_sat) = (0.0, 0.0, 0.0);
    for o in observations {
        if let Some(sat) = o.satisfied {
            s_w += o.weight;
            s_w2 += o.weight * o.weight;
            if sat {
                s_sat += o.weight;
            }
        }
    }
    let satisfied_rate = (s_w > 0.0).then(|| (s_sat / s_w).clamp(0.0, 1.0));
    let satisfied_interval = satisfied_rate.and_then(|p| wilson(p, s_w * s_w / s_w2));
    UnitFigures {
        n,
        n_eff,
        mean,
        within_ss,
        interval,
        satisfied_rate,
        satisfied_interval,
    }
}

/// An eligible unit as §4 sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EligibleUnit<'a> {
    pub code: &'a str,
    pub score: f64,
    pub within_ss: f64,
    pub n: usize,
    pub deff: f64,
}

/// One peer group's §4 fit and published ranks, in the order of its eligible units.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupFit {
    pub sigma2: f64,
    pub own: DlFit,
    pub tau2: f64,
    pub tau2_pooled: bool,
    pub mean: RandomEffectsMean,
    pub v: Vec<f64>,
    pub shrunk: Vec<Shrunk>,
    pub ranks: Vec<u32>,
}

/// Fits §4 for every peer group of a campaign and ranks (§5): σ̂²_g and `v_j = σ̂² deff_j / n_j`,
/// DL τ² (pooled over the campaign for groups with fewer than `min_units_own_tau2` eligible
/// units), μ̂, shrunken scores and published ranks. `None` for a group without eligible units.
pub fn fit_campaign(
    groups: &[Vec<EligibleUnit<'_>>],
    settings: &Settings,
) -> Vec<Option<GroupFit>> {
    let partial: Vec<Option<(f64, Vec<f64>, DlFit)>> = groups
        .iter()
        .map(|units| {
            if units.is_empty() {
                return None;
            }
            let parts: Vec<(f64, usize)> = units.iter().map(|u| (u.within_ss, u.n)).collect();
            let sigma2 = pooled_within_variance(&parts).unwrap_or(0.0);
            let v: Vec<f64> = units.iter().map(|u| sigma2 * u.deff / u.n as f64).collect();
            let y: Vec<f64> = units.iter().map(|u| u.score).collect();
            let dl = dersimonian_laird(&y, &v);
            Some((sigma2, v, dl))
        })
        .collect();
    let all_fits: Vec<DlFit> = partial.iter().flatten().map(|p| p.2).collect();
    let campaign_tau2 = pooled_tau2(&all_fits);
    groups
        .iter()
        .zip(partial)
        .map(|(units, part)| {
            let (sigma2, v, own) = part?;
            let tau2_pooled = units.len() < settings.min_units_own_tau2;
            let tau2 = if tau2_pooled { campaign_tau2 } else { own.tau2 };
            let y: Vec<f64> = units.iter().map(|u| u.score).collect();
            let mean = random_effects_mean(&y, &v, tau2)?;
            let shrunk = shrink(&y, &v, tau2, mean);
            let entries: Vec<RankEntry<'_>> = units
                .iter()
                .zip(&shrunk)
                .map(|(u, s)| RankEntry {
                    code: u.code,
                    shrunken: s.theta,
                    raw: u.score,
                })
                .collect();
            let ranks = published_ranks(&entries, settings.rank_by);
            Some(GroupFit {
                sigma2,
                own,
                tau2,
                tau2_pooled,
                mean,
                v,
                shrunk,
                ranks,
            })
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn obs(weight: f64, composite: f64, satisfied: Option<bool>) -> Observation {
        Observation {
            weight,
            composite,
            satisfied,
        }
    }

    #[test]
    fn equal_weights_give_the_unweighted_figures() {
        let ys = [
            80.0, 60.0, 100.0, 40.0, 80.0, 60.0, 100.0, 80.0, 60.0, 80.0, 20.0,
        ];
        let plain: Vec<_> = ys.iter().map(|y| obs(1.0, *y, Some(*y >= 80.0))).collect();
        let doubled: Vec<_> = ys.iter().map(|y| obs(2.5, *y, Some(*y >= 80.0))).collect();
        let (a, b) = (unit_figures(&plain), unit_figures(&doubled));
        let close = |x: f64, y: f64| (x - y).abs() < 1e-9;
        assert!(
            close(a.mean.unwrap(), b.mean.unwrap())
                && close(a.n_eff, b.n_eff)
                && close(a.within_ss, b.within_ss)
        );
        assert!(close(a.interval.unwrap().low, b.interval.unwrap().low));
        assert!(close(
            a.satisfied_interval.unwrap().high,
            b.satisfied_interval.unwrap().high
        ));
        assert_eq!(a.deff(), 1.0);
    }

    #[test]
    fn a_small_group_takes_the_pooled_tau2() {
        let mk = |code: &'static str, score: f64| EligibleUnit {
            code,
            score,
            within_ss: 400.0 * 49.0,
            n: 50,
            deff: 1.0,
        };
        let big: Vec<_> = (0..12)
            .map(|i| {
                mk(
                    ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"][i],
                    60.0 + 3.0 * i as f64,
                )
            })
            .collect();
        let small = vec![mk("x", 70.0), mk("y", 70.5), mk("z", 71.0)];
        let fits = fit_campaign(&[big.clone(), small.clone(), vec![]], &Settings::default());
        let (fb, fs) = (fits[0].as_ref().unwrap(), fits[1].as_ref().unwrap());
        assert!(fits[2].is_none());
        assert!(!fb.tau2_pooled && fs.tau2_pooled);
        assert_eq!(fs.own.tau2, 0.0);
        let expected = pooled_tau2(&[fb.own, fs.own]);
        assert!(expected > 0.0 && fs.tau2 == expected && fb.tau2 == fb.own.tau2);
    }
}
