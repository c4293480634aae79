//! The reference values R1, R2, R3 and R6 of docs/method.md §10.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use qiping::stats::interval::{Z_975, linearized_variance, t_interval, wilson_counts};
use qiping::stats::shrinkage::{dersimonian_laird, random_effects_mean};

fn assert_close(actual: f64, expected: f64, tolerance: f64, what: &str) {
    assert!(
        (actual - expected).abs() <= tolerance,
        "{what}: {actual} vs {expected}"
    );
}

fn mean_and_interval(y: &[f64]) -> (f64, f64, f64) {
    let n = y.len();
    let w = vec![1.0; n];
    let mean = y.iter().sum::<f64>() / n as f64;
    let se = linearized_variance(y, &w).unwrap().sqrt();
    let ci = t_interval(mean, se, n as f64 - 1.0).unwrap();
    (mean, ci.low, ci.high)
}

#[test]
fn r1_likert_sample_mean_sd_and_t_interval() {
    let likert = [5.0, 4.0, 4.0, 3.0, 5.0, 2.0, 4.0, 4.0, 5.0, 3.0];
    let quarter: Vec<f64> = likert.iter().map(|x| (x - 1.0) * 25.0).collect();
    let (mean, low, high) = mean_and_interval(&quarter);
    assert_close(mean, 72.5, 1e-6, "mean");
    let sd = (quarter.iter().map(|y| (y - mean).powi(2)).sum::<f64>() / 9.0).sqrt();
    assert_close(sd, 24.860723, 1e-6, "sd");
    assert_close(low, 54.715710, 1e-6, "low");
    assert_close(high, 90.284290, 1e-6, "high");

    let points: Vec<f64> = likert.iter().map(|x| x * 20.0).collect();
    let (mean, low, high) = mean_and_interval(&points);
    assert_close(mean, 78.0, 1e-6, "mean 100/80/60/40/20");
    assert_close(low, 63.772568, 1e-6, "low 100/80/60/40/20");
    assert_close(high, 92.227432, 1e-6, "high 100/80/60/40/20");
}

#[test]
fn r2_wilson_intervals_including_zero_successes() {
    for (k, n, low, high) in [
        (81, 263, 0.255289, 0.366210),
        (15, 148, 0.062386, 0.160487),
        (0, 20, 0.0, 0.161125),
        (1, 29, 0.006113, 0.171755),
    ] {
        let ci = wilson_counts(k, n).unwrap();
        assert_close(ci.low, low, 1e-6, &format!("{k}/{n} low"));
        assert_close(ci.high, high, 1e-6, &format!("{k}/{n} high"));
    }
}

#[test]
fn r3_bcg_trials_q_tau2_mean_and_its_interval() {
    let trials: [(f64, f64, f64, f64); 13] = [
        (4.0, 119.0, 11.0, 128.0),
        (6.0, 300.0, 29.0, 274.0),
        (3.0, 228.0, 11.0, 209.0),
        (62.0, 13536.0, 248.0, 12619.0),
        (33.0, 5036.0, 47.0, 5761.0),
        (180.0, 1361.0, 372.0, 1079.0),
        (8.0, 2537.0, 10.0, 619.0),
        (505.0, 87886.0, 499.0, 87892.0),
        (29.0, 7470.0, 45.0, 7232.0),
        (17.0, 1699.0, 65.0, 1600.0),
        (186.0, 50448.0, 141.0, 27197.0),
        (5.0, 2493.0, 3.0, 2338.0),
        (27.0, 16886.0, 29.0, 17825.0),
    ];
    let y: Vec<f64> = trials
        .iter()
        .map(|(a, b, c, d)| ((a / (a + b)) / (c / (c + d))).ln())
        .collect();
    let v: Vec<f64> = trials
        .iter()
        .map(|(a, b, c, d)| 1.0 / a - 1.0 / (a + b) + 1.0 / c - 1.0 / (c + d))
        .collect();
    let fit = dersimonian_laird(&y, &v);
    // docs/method.md §10 prints Q, μ̂ and the CI to four decimals and τ² to six
    assert_close(fit.q, 152.2330, 5e-5, "Q");
    assert_close(fit.tau2, 0.308760, 1e-6, "tau2");
    let mean = random_effects_mean(&y, &v, fit.tau2).unwrap();
    assert_close(mean.mu, -0.7141, 5e-5, "mu");
    assert_close(mean.mu - Z_975 * mean.var.sqrt(), -1.0644, 5e-5, "CI low");
    assert_close(mean.mu + Z_975 * mean.var.sqrt(), -0.3638, 5e-5, "CI high");
}

#[test]
fn r6_every_rating_is_its_own_cluster() {
    // R6's data: with no respondent to group by, the SE is the naive one. R6's cluster SE over
    // enterprise ids [1,1,2,3,3,3,4,5,5,6,7,7] (6.854979) belongs to method 1.0 (docs/method.md §14).
    let y = [
        80.0, 100.0, 60.0, 60.0, 80.0, 60.0, 100.0, 40.0, 60.0, 80.0, 100.0, 80.0,
    ];
    let w = [1.0; 12];
    assert_close(y.iter().sum::<f64>() / 12.0, 75.0, 1e-6, "mean");
    assert_close(
        linearized_variance(&y, &w).unwrap().sqrt(),
        5.573204,
        1e-6,
        "SE",
    );
}
