//! Confidence intervals: the t-interval with the linearized SE, and Wilson's interval.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// z(0.975) = Φ⁻¹(0.975), as `scipy.stats.norm.ppf(0.975)`.
pub const Z_975: f64 = 1.959_963_984_540_054;

/// A two-sided 95% interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

/// The linearized (Taylor) variance of a weighted mean, every rating its own cluster
/// (docs/method.md §2; Wolter 2007, *Introduction to Variance Estimation*, ch. 6; Stata's
/// `svy: mean` with one observation per PSU): `v = n/(n−1) · Σ_i (w_i (y_i − ȳ_w))² / (Σw)²`,
/// which with equal weights is s²/n. Nothing groups one enterprise's ratings once a campaign
/// closes, so there is no larger cluster to sum over. `None` with fewer than two ratings or no
/// weight.
pub fn linearized_variance(y: &[f64], w: &[f64]) -> Option<f64> {
    let n = y.len();
    let sw: f64 = w.iter().sum();
    if sw <= 0.0 || n != w.len() || n < 2 {
        return None;
    }
    let mean = y.iter().zip(w).map(|(y, w)| w * y).sum::<f64>() / sw;
    let ss: f64 = y.iter().zip(w).map(|(y, w)| (w * (y - mean)).powi(2)).sum();
    let n = n as f64;
    Some(n / (n - 1.0) * ss / (sw * sw))
}

/// The interval of a unit's score as the engine publishes it (docs/method.md §2): the weighted
/// mean ± t(0.975, n − 1) · √v with the linearized variance of [`linearized_variance`].
pub fn score_interval(y: &[f64], w: &[f64]) -> Option<Interval> {
    let sw: f64 = w.iter().sum();
    let mean = y.iter().zip(w).map(|(y, w)| w * y).sum::<f64>() / sw;
    let v = linearized_variance(y, w)?;
    t_interval(mean, v.sqrt(), y.len() as f64 - 1.0)
}

/// The t quantile t(p, df) (statrs' regularized-incomplete-beta inverse).
pub fn t_quantile(p: f64, df: f64) -> Option<f64> {
    let t = StudentsT::new(0.0, 1.0, df).ok()?;
    let q = t.inverse_cdf(p);
    q.is_finite().then_some(q)
}

/// `ȳ ± t(0.975, df) · SE` (docs/method.md §2.1, with df = G − 1).
pub fn t_interval(mean: f64, se: f64, df: f64) -> Option<Interval> {
    let t = t_quantile(0.975, df)?;
    Some(Interval {
        low: mean - t * se,
        high: mean + t * se,
    })
}

/// Wilson's score interval for a proportion p̂ from sample size n (Wilson 1927; Newcombe 1998,
/// Stat Med 17:857, method 3): `(p̂ + z²/2n ± z √(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n)`.
/// With weights pass the weighted share and Kish's n_eff. Ends are exact 0 / 1 at p̂ = 0 / 1.
pub fn wilson(p: f64, n: f64) -> Option<Interval> {
    if !(n > 0.0 && (0.0..=1.0).contains(&p)) {
        return None;
    }
    let z2 = Z_975 * Z_975;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = Z_975 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denom;
    let low = if p == 0.0 {
        0.0
    } else {
        (centre - half).max(0.0)
    };
    let high = if p == 1.0 {
        1.0
    } else {
        (centre + half).min(1.0)
    };
    Some(Interval { low, high })
}

/// Wilson's interval for `successes` out of `n` trials.
pub fn wilson_counts(successes: u64, n: u64) -> Option<Interval> {
    if n == 0 || successes > n {
        return None;
    }
    wilson(successes as f64 / n as f64, n as f64)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-6
    }

    #[test]
    fn r1_t_interval_of_a_likert_sample() {
        let likert = [5.0, 4.0, 4.0, 3.0, 5.0, 2.0, 4.0, 4.0, 5.0, 3.0];
        for (points, mean, lo, hi) in [
            (likert.map(|x| (x - 1.0) * 25.0), 72.5, 54.715710, 90.284290),
            (likert.map(|x| x * 20.0), 78.0, 63.772568, 92.227432),
        ] {
            let w = [1.0; 10];
            let v = linearized_variance(&points, &w).unwrap();
            let m = points.iter().sum::<f64>() / 10.0;
            assert!(close(m, mean));
            let ci = t_interval(m, v.sqrt(), 9.0).unwrap();
            assert!(close(ci.low, lo) && close(ci.high, hi), "{ci:?}");
        }
        let sd = (linearized_variance(&likert.map(|x| (x - 1.0) * 25.0), &[1.0; 10]).unwrap()
            * 10.0)
            .sqrt();
        assert!(close(sd, 24.860723));
        assert!((t_quantile(0.975, 9.0).unwrap() - 2.262157162798).abs() < 1e-10);
    }

    #[test]
    fn r2_wilson_intervals() {
        for (k, n, lo, hi) in [
            (81, 263, 0.255289, 0.366210),
            (15, 148, 0.062386, 0.160487),
            (0, 20, 0.0, 0.161125),
            (1, 29, 0.006113, 0.171755),
        ] {
            let ci = wilson_counts(k, n).unwrap();
            assert!(close(ci.low, lo) && close(ci.high, hi), "{k}/{n}: {ci:?}");
        }
        assert_eq!(wilson_counts(20, 20).unwrap().high, 1.0);
        assert_eq!(wilson_counts(0, 20).unwrap().low, 0.0);
        assert!(wilson_counts(1, 0).is_none());
    }

    /// R6's data: every rating its own cluster gives the naive SE. R6's cluster SE (6.854979,
    /// grouping the ratings by enterprise) belongs to the estimator removed in issue 37: after a
    /// campaign closes nothing says which ratings one enterprise gave.
    #[test]
    fn r6_every_rating_is_its_own_cluster() {
        let y = [
            80.0, 100.0, 60.0, 60.0, 80.0, 60.0, 100.0, 40.0, 60.0, 80.0, 100.0, 80.0,
        ];
        let w = [1.0; 12];
        assert!(close(y.iter().sum::<f64>() / 12.0, 75.0));
        assert!(close(linearized_variance(&y, &w).unwrap().sqrt(), 5.573204));
    }

    #[test]
    fn one_rating_has_no_variance() {
        assert!(linearized_variance(&[1.0], &[1.0]).is_none());
        assert!(linearized_variance(&[1.0, 2.0], &[0.0, 0.0]).is_none());
    }
}
