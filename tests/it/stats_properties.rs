//! Properties checked by seeded simulation (quick enough for the suite).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use qiping::stats::interval::score_interval;
use qiping::stats::simulation::{NormalSampler, simulate_ranks};
use qiping::stats::synthetic::{SyntheticGroup, SyntheticSpec, synthetic_campaign};
use qiping::stats::{FlagOutcome, Settings, UnitKind, aggregate, flag_units};
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use statrs::distribution::{ContinuousCDF, Normal};

/// As the design produces data (docs/method.md §0, §2.1): each enterprise rates a unit once, its
/// own leniency part of its rating, so every rating is its own cluster and the interval with the
/// SE s/√n and n − 1 degrees of freedom covers the unit's true score about 95% of the time, from
/// small units (10 raters) to large ones. Before issue 37 this checked the SE clustered by
/// enterprise on units rated several times by one enterprise, which one link, one response rules
/// out.
#[test]
fn score_intervals_cover_the_truth_about_95_percent_with_one_rating_per_enterprise() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2024);
    let mut normal = NormalSampler::default();
    let (reps, truth) = (2_000, 70.0);
    let mut covered = 0;
    for rep in 0..reps {
        let n = 10 + (rep % 5) * 12;
        let y: Vec<f64> = (0..n)
            .map(|_| truth + 10.0 * normal.sample(&mut rng) + 10.0 * normal.sample(&mut rng))
            .collect();
        let ci = score_interval(&y, &vec![1.0; n]).unwrap();
        covered += usize::from(ci.low <= truth && truth <= ci.high);
    }
    let rate = covered as f64 / reps as f64;
    eprintln!("coverage {rate:.4}");
    assert!((0.93..=0.97).contains(&rate), "coverage {rate}");
}

#[test]
fn with_no_real_differences_at_most_five_percent_of_units_are_credible_bottom_five() {
    let settings = Settings {
        draws: 1_000,
        ..Settings::default()
    };
    let spec = |period: &str, seed: u64| SyntheticSpec {
        period: period.into(),
        enterprises: 60,
        units_per_enterprise: 20,
        questions: 3,
        groups: vec![SyntheticGroup {
            name: "offices".into(),
            units: 20,
            kind: UnitKind::Office,
        }],
        unit_sd: 0.0,
        seed,
        ..SyntheticSpec::city(0)
    };
    let (mut units, mut credible, mut flagged) = (0, 0, 0);
    for rep in 0..10u64 {
        let h1 = aggregate(
            &synthetic_campaign(&spec("2019H1", 100 + rep)),
            &settings,
            rep,
        )
        .unwrap();
        let h2 = aggregate(
            &synthetic_campaign(&spec("2019H2", 200 + rep)),
            &settings,
            rep,
        )
        .unwrap();
        for decision in flag_units(&[h1, h2], &settings).unwrap() {
            units += 1;
            flagged += usize::from(decision.is_flagged());
            credible += usize::from(decision.outcome == FlagOutcome::Flagged { credible: true });
        }
    }
    eprintln!("tau2 = 0 truth: {flagged} flagged, {credible} credible of {units} units");
    assert_eq!(units, 200);
    assert!(flagged > 0, "the policy rule still flags someone by chance");
    assert!(
        credible as f64 <= 0.05 * units as f64,
        "{credible} of {units} credible"
    );
}

#[test]
fn simulated_bottom_five_probability_matches_the_closed_form() {
    // nine units fixed at 0, 10, …, 80 and one at 35 with SD 10: it is among the five lowest
    // iff fewer than five units are below it iff θ < 40, so p = Φ(0.5)
    let mut means: Vec<f64> = (0..9).map(|k| 10.0 * f64::from(k)).collect();
    means.push(35.0);
    let mut vars = vec![1e-12; 9];
    vars.push(100.0);
    let draws = 10_000;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
    let s = simulate_ranks(&means, &vars, draws, 5, &mut rng);
    let phi = Normal::standard();
    let p = phi.cdf(0.5);
    let mc_se = (p * (1.0 - p) / draws as f64).sqrt();
    assert!(
        (s[9].p_bottom - p).abs() < 4.0 * mc_se,
        "{} vs {p}",
        s[9].p_bottom
    );
    assert!(mc_se <= 0.005);

    // two units: P(A second) = Φ((μ_B − μ_A) / √(V_A + V_B)), rank_mean = 1 + that
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(12);
    let s = simulate_ranks(&[1.0, 1.5], &[0.25, 0.5], draws, 1, &mut rng);
    let p = phi.cdf(0.5 / 0.75f64.sqrt());
    let mc_se = (p * (1.0 - p) / draws as f64).sqrt();
    assert!(
        (s[0].p_bottom - p).abs() < 4.0 * mc_se,
        "{} vs {p}",
        s[0].p_bottom
    );
    assert!((s[0].mean - (1.0 + s[0].p_bottom)).abs() < 1e-12);
    assert!((s[0].p_bottom + s[1].p_bottom - 1.0).abs() < 1e-12);
}
