//! Same inputs (in any order) and seed → bit-identical output; a different seed changes only the
//! simulated figures.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use qiping::stats::simulation::uniform_below;
use qiping::stats::synthetic::{SyntheticSpec, synthetic_campaign};
use qiping::stats::{CampaignInput, Preparer, Settings, aggregate, aggregate_prepared};
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

fn campaign() -> CampaignInput {
    synthetic_campaign(&SyntheticSpec {
        enterprises: 600,
        units_per_enterprise: 5,
        ..SyntheticSpec::city(31).with_group_units(15)
    })
}

fn shuffled(mut input: CampaignInput, seed: u64) -> CampaignInput {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    for i in (1..input.ratings.len()).rev() {
        let j = uniform_below(&mut rng, i as u64 + 1) as usize;
        input.ratings.swap(i, j);
    }
    input.units.reverse();
    input
}

#[test]
fn shuffled_inputs_with_the_same_seed_give_bit_identical_json_run_twice() {
    let settings = Settings {
        draws: 2_000,
        ..Settings::default()
    };
    let input = campaign();
    let first = serde_json::to_string(&aggregate(&input, &settings, 987_654_321).unwrap()).unwrap();
    let again = serde_json::to_string(&aggregate(&input, &settings, 987_654_321).unwrap()).unwrap();
    let reordered = serde_json::to_string(
        &aggregate(&shuffled(input.clone(), 5), &settings, 987_654_321).unwrap(),
    )
    .unwrap();
    assert_eq!(first, again);
    assert_eq!(first, reordered);
    // the stored JSON reads back (serde_json parses floats to within an ulp unless its
    // `float_roundtrip` feature is on, so compare figures, not bits, after a round trip)
    let back: qiping::stats::CampaignResult = serde_json::from_str(&first).unwrap();
    assert_eq!(back.peer_groups.len(), 3);
}

#[test]
fn ratings_pushed_one_at_a_time_in_any_order_give_the_same_bits() {
    // How storage streams a campaign (service::aggregate): one rating at a time, storage order.
    let settings = Settings {
        draws: 1_000,
        ..Settings::default()
    };
    let input = campaign();
    let whole = serde_json::to_string(&aggregate(&input, &settings, 77).unwrap()).unwrap();
    for order in [1, 2] {
        let shuffled = shuffled(input.clone(), order);
        let mut preparer =
            Preparer::new(&shuffled.template, shuffled.units.clone(), &settings).unwrap();
        for rating in &shuffled.ratings {
            preparer.push(rating);
        }
        assert_eq!(preparer.pushed(), input.ratings.len());
        let prepared = preparer.finish(shuffled.weighting.as_ref()).unwrap();
        let streamed = aggregate_prepared(&shuffled.period, &prepared, &settings, 77).unwrap();
        assert_eq!(serde_json::to_string(&streamed).unwrap(), whole);
    }
}

#[test]
fn another_seed_changes_only_the_simulated_figures() {
    let settings = Settings {
        draws: 2_000,
        ..Settings::default()
    };
    let input = campaign();
    let a = aggregate(&input, &settings, 1).unwrap();
    let b = aggregate(&input, &settings, 2).unwrap();
    let mut any_difference = false;
    for (g, h) in a.peer_groups.iter().zip(&b.peer_groups) {
        for (u, v) in g.units.iter().zip(&h.units) {
            assert_eq!(
                (u.score, u.ci_low, u.shrunken, u.rank),
                (v.score, v.ci_low, v.shrunken, v.rank)
            );
            any_difference |= u.rank_mean != v.rank_mean;
        }
    }
    assert!(any_difference);
}
