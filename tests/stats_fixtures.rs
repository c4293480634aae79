//! Reference cases computed with scipy / statsmodels by `tests/fixtures/stats/make_fixtures.py`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use qiping::stats::RakingSettings;
use qiping::stats::interval::{linearized_variance, t_interval, t_quantile, wilson};
use qiping::stats::score::kish_n_eff;
use qiping::stats::shrinkage::{dersimonian_laird, random_effects_mean, shrink};
use qiping::stats::weighting::{build_margin, rake};
use serde_json::Value;
use std::collections::BTreeMap;

fn reference() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/stats/reference.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

fn assert_close(actual: f64, expected: f64, tolerance: f64, what: &str) {
    let scale = expected.abs().max(1.0);
    assert!(
        (actual - expected).abs() <= tolerance * scale,
        "{what}: {actual} vs {expected}"
    );
}

#[test]
fn t_intervals_match_scipy() {
    let r = reference();
    for case in r["t_intervals"].as_array().unwrap() {
        let y = floats(&case["y"]);
        let n = y.len();
        let ids: Vec<usize> = (0..n).collect();
        let se = linearized_variance(&y, &vec![1.0; n], &ids).unwrap().sqrt();
        assert_close(se, f(&case["se"]), 1e-10, "se");
        let ci = t_interval(f(&case["mean"]), se, n as f64 - 1.0).unwrap();
        assert_close(ci.low, f(&case["low"]), 1e-9, "low");
        assert_close(ci.high, f(&case["high"]), 1e-9, "high");
    }
    for case in r["t_quantiles"].as_array().unwrap() {
        assert_close(
            t_quantile(0.975, f(&case["df"])).unwrap(),
            f(&case["t975"]),
            1e-9,
            "t quantile",
        );
    }
}

#[test]
fn wilson_intervals_match_statsmodels_including_zero_all_and_weighted_counts() {
    for case in reference()["wilson"].as_array().unwrap() {
        let ci = wilson(f(&case["p"]), f(&case["n"])).unwrap();
        assert_close(ci.low, f(&case["low"]), 1e-10, "low");
        assert_close(ci.high, f(&case["high"]), 1e-10, "high");
    }
}

#[test]
fn weighted_means_with_cluster_se_match_statsmodels_wls() {
    for case in reference()["cluster_means"].as_array().unwrap() {
        let (y, w) = (floats(&case["y"]), floats(&case["w"]));
        let cluster: Vec<u64> = case["cluster"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_u64().unwrap())
            .collect();
        let mean = y.iter().zip(&w).map(|(y, w)| y * w).sum::<f64>() / w.iter().sum::<f64>();
        assert_close(mean, f(&case["mean"]), 1e-12, "mean");
        let se = linearized_variance(&y, &w, &cluster).unwrap().sqrt();
        assert_close(se, f(&case["se"]), 1e-10, "cluster se");
        assert_close(kish_n_eff(&w), f(&case["n_eff"]), 1e-12, "n_eff");
        let ci = t_interval(mean, se, y.len() as f64 - 1.0).unwrap();
        assert_close(ci.low, f(&case["low"]), 1e-9, "low");
        assert_close(ci.high, f(&case["high"]), 1e-9, "high");
    }
}

#[test]
fn dersimonian_laird_and_shrinkage_match_statsmodels() {
    for case in reference()["dersimonian_laird"].as_array().unwrap() {
        let (y, v) = (floats(&case["y"]), floats(&case["v"]));
        let fit = dersimonian_laird(&y, &v);
        assert_close(fit.q, f(&case["q"]), 1e-10, "Q");
        assert_close(fit.tau2, f(&case["tau2"]), 1e-10, "tau2");
        let mean = random_effects_mean(&y, &v, fit.tau2).unwrap();
        assert_close(mean.mu, f(&case["mu"]), 1e-10, "mu");
        assert_close(mean.var, f(&case["var_mu"]), 1e-10, "var mu");
        let shrunk = shrink(&y, &v, fit.tau2, mean);
        for (i, s) in shrunk.iter().enumerate() {
            assert_close(s.b, f(&case["b"][i]), 1e-10, "B");
            assert_close(s.theta, f(&case["theta"][i]), 1e-10, "theta");
            assert_close(s.var, f(&case["var"][i]), 1e-10, "V");
        }
    }
}

#[test]
fn raking_a_hand_case_matches_numpy_ipf() {
    let r = reference();
    let case = &r["raking"];
    let labels = |key: &str| -> Vec<String> {
        case[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_owned())
            .collect()
    };
    let targets = |key: &str| -> BTreeMap<String, f64> {
        case["targets"][key]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), f(v)))
            .collect()
    };
    let (size, district) = (labels("size"), labels("district"));
    let size_refs: Vec<&str> = size.iter().map(String::as_str).collect();
    let district_refs: Vec<&str> = district.iter().map(String::as_str).collect();
    let margins = [
        build_margin("size", &size_refs, &targets("size"), 0).unwrap(),
        build_margin("district", &district_refs, &targets("district"), 0).unwrap(),
    ];
    let settings = RakingSettings {
        tolerance: 1e-13,
        max_rounds: 10_000,
        trim_low: 0.1,
        trim_high: 10.0,
        ..RakingSettings::default()
    };
    let (weights, report) = rake(size.len(), &margins, &settings);
    assert!(report.converged && report.trim_cycles == 0, "{report:?}");
    for (w, expected) in weights.iter().zip(floats(&case["weights"])) {
        assert_close(*w, expected, 1e-10, "weight");
    }
    // with the default tolerance the weights agree to about the tolerance
    let (loose, _) = rake(
        size.len(),
        &margins,
        &RakingSettings {
            trim_low: 0.1,
            trim_high: 10.0,
            ..RakingSettings::default()
        },
    );
    for (w, expected) in loose.iter().zip(floats(&case["weights"])) {
        assert_close(*w, expected, 1e-5, "weight at 1e-6");
    }
}
