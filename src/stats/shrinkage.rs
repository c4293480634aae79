//! Empirical-Bayes shrinkage: pooled within-unit variance, DerSimonian–Laird τ², the
//! random-effects mean and shrunken scores (docs/method.md §4; DerSimonian & Laird 1986, Controlled
//! Clinical Trials 7:177; Goldstein & Spiegelhalter 1996, JRSS A 159:385; Marshall &
//! Spiegelhalter 1998, BMJ 316:1701).

/// The pooled within-unit variance `σ̂² = Σ_j SS_j / Σ_j (n_j − 1)` from each unit's
/// (within sum of squares, n); `None` if Σ(n_j − 1) is 0.
pub fn pooled_within_variance(units: &[(f64, usize)]) -> Option<f64> {
    let ss: f64 = units.iter().map(|u| u.0).sum();
    let df: usize = units.iter().map(|u| u.1.saturating_sub(1)).sum();
    (df > 0).then(|| ss / df as f64)
}

/// The pieces of a DerSimonian–Laird fit, kept so small groups can pool them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DlFit {
    /// Cochran's `Q = Σ w (y − ȳ_w)²` with `w = 1/v`.
    pub q: f64,
    /// `C = Σw − Σw²/Σw`.
    pub c: f64,
    /// J − 1.
    pub df: f64,
    /// `max(0, (Q − (J − 1)) / C)`, 0 when C = 0.
    pub tau2: f64,
}

/// DerSimonian–Laird moment estimate of τ² from estimates y with sampling variances v > 0.
/// Units with v = 0 cannot be weighted; if any is present the fit is degenerate (τ² = 0, Q = C = 0).
pub fn dersimonian_laird(y: &[f64], v: &[f64]) -> DlFit {
    let df = y.len().saturating_sub(1) as f64;
    if y.is_empty() || v.iter().any(|v| !(*v > 0.0 && v.is_finite())) {
        return DlFit {
            q: 0.0,
            c: 0.0,
            df,
            tau2: 0.0,
        };
    }
    let sw: f64 = v.iter().map(|v| 1.0 / v).sum();
    let sw2: f64 = v.iter().map(|v| 1.0 / (v * v)).sum();
    let ybar = y.iter().zip(v).map(|(y, v)| y / v).sum::<f64>() / sw;
    let q: f64 = y.iter().zip(v).map(|(y, v)| (y - ybar).powi(2) / v).sum();
    let c = sw - sw2 / sw;
    let tau2 = if c > 0.0 {
        ((q - df) / c).max(0.0)
    } else {
        0.0
    };
    DlFit { q, c, df, tau2 }
}

/// τ² pooled over peer groups: `max(0, (ΣQ_g − Σ(J_g − 1)) / ΣC_g)`, each Q_g and C_g about its
/// own group's weighted mean (docs/method.md §4.2); 0 when ΣC_g = 0.
pub fn pooled_tau2(fits: &[DlFit]) -> f64 {
    let q: f64 = fits.iter().map(|f| f.q).sum();
    let df: f64 = fits.iter().map(|f| f.df).sum();
    let c: f64 = fits.iter().map(|f| f.c).sum();
    if c > 0.0 {
        ((q - df) / c).max(0.0)
    } else {
        0.0
    }
}

/// The random-effects mean and its variance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RandomEffectsMean {
    /// `μ̂ = Σ y/(v+τ²) / Σ 1/(v+τ²)`.
    pub mu: f64,
    /// `Var μ̂ = 1 / Σ 1/(v+τ²)`.
    pub var: f64,
}

/// μ̂ and Var μ̂ (docs/method.md §4.3). If some v + τ² is 0 those units are known exactly: μ̂ is their
/// plain mean and Var μ̂ = 0. `None` for no units.
pub fn random_effects_mean(y: &[f64], v: &[f64], tau2: f64) -> Option<RandomEffectsMean> {
    if y.is_empty() {
        return None;
    }
    let exact: Vec<f64> = y
        .iter()
        .zip(v)
        .filter(|(_, v)| **v + tau2 <= 0.0)
        .map(|(y, _)| *y)
        .collect();
    if !exact.is_empty() {
        return Some(RandomEffectsMean {
            mu: exact.iter().sum::<f64>() / exact.len() as f64,
            var: 0.0,
        });
    }
    let sw: f64 = v.iter().map(|v| 1.0 / (v + tau2)).sum();
    let mu = y.iter().zip(v).map(|(y, v)| y / (v + tau2)).sum::<f64>() / sw;
    Some(RandomEffectsMean { mu, var: 1.0 / sw })
}

/// One unit's shrinkage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shrunk {
    /// `B_j = v_j / (v_j + τ²)`; 0 when v_j = 0 (an exact score is not shrunk).
    pub b: f64,
    /// `θ̃_j = μ̂ + (1 − B_j)(y_j − μ̂)`.
    pub theta: f64,
    /// `V_j = (1 − B_j) v_j + B_j² Var μ̂`.
    pub var: f64,
}

/// Shrunken scores and their variances (docs/method.md §4.4).
pub fn shrink(y: &[f64], v: &[f64], tau2: f64, mean: RandomEffectsMean) -> Vec<Shrunk> {
    y.iter()
        .zip(v)
        .map(|(y, v)| {
            let b = if *v > 0.0 { v / (v + tau2) } else { 0.0 };
            Shrunk {
                b,
                theta: mean.mu + (1.0 - b) * (y - mean.mu),
                var: (1.0 - b) * v + b * b * mean.var,
            }
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn pooled_variance_divides_by_the_sum_of_n_minus_one() {
        assert_eq!(pooled_within_variance(&[(10.0, 3), (20.0, 4)]), Some(6.0));
        assert_eq!(pooled_within_variance(&[(0.0, 1)]), None);
    }

    #[test]
    fn zero_between_variance_shrinks_everyone_to_the_mean() {
        let y = [70.0, 72.0, 74.0];
        let v = [4.0, 4.0, 4.0];
        let fit = dersimonian_laird(&y, &v);
        assert_eq!(fit.tau2, 0.0); // Q = 2 = J − 1
        let mean = random_effects_mean(&y, &v, 0.0).unwrap();
        let s = shrink(&y, &v, 0.0, mean);
        assert!(
            s.iter()
                .all(|s| s.b == 1.0 && s.theta == mean.mu && s.var == mean.var)
        );
    }

    #[test]
    fn pooling_sums_q_degrees_and_c() {
        let a = DlFit {
            q: 10.0,
            c: 2.0,
            df: 3.0,
            tau2: 3.5,
        };
        let b = DlFit {
            q: 1.0,
            c: 1.0,
            df: 2.0,
            tau2: 0.0,
        };
        assert_eq!(pooled_tau2(&[a, b]), 2.0);
        assert_eq!(pooled_tau2(&[]), 0.0);
    }

    #[test]
    fn exact_scores_are_not_shrunk_and_produce_no_nan() {
        let y = [1.0, 2.0];
        let v = [0.0, 0.0];
        let fit = dersimonian_laird(&y, &v);
        assert_eq!(fit.tau2, 0.0);
        let mean = random_effects_mean(&y, &v, fit.tau2).unwrap();
        assert_eq!((mean.mu, mean.var), (1.5, 0.0));
        let s = shrink(&y, &v, fit.tau2, mean);
        assert_eq!(
            s.iter().map(|s| (s.theta, s.var)).collect::<Vec<_>>(),
            [(1.0, 0.0), (2.0, 0.0)]
        );
    }
}
