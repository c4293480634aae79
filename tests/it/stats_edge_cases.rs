//! Edge cases of the method (docs/method.md): τ² = 0, a small group on the pooled τ², ties at the bottom-five
//! boundary, a unit eligible in one campaign only, equal weights, suppression and bad input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use qiping::stats::synthetic::{
    HandUnit, SyntheticSpec, single_question_campaign, synthetic_campaign_with_respondents,
};
use qiping::stats::{
    CampaignResult, FlagOutcome, Margins, NotFlaggedReason, Settings, StatsError, UnitKind,
    UnitResult, Weighting, aggregate, flag_units,
};
use std::collections::BTreeMap;

/// `counts[i]` ratings of level i + 1.
fn levels(counts: [usize; 5]) -> Vec<u8> {
    (1..=5u8)
        .flat_map(|l| std::iter::repeat_n(l, counts[usize::from(l) - 1]))
        .collect()
}

fn unit(code: &str, group: &str, levels: Vec<u8>) -> HandUnit {
    HandUnit {
        code: code.into(),
        kind: UnitKind::Office,
        peer_group: group.into(),
        levels,
    }
}

fn settings() -> Settings {
    Settings {
        draws: 2_000,
        ..Settings::default()
    }
}

fn find<'a>(result: &'a CampaignResult, code: &str) -> &'a UnitResult {
    result.find_unit(code).unwrap().1
}

/// Twelve offices with almost equal means (60 + k/2) and a huge spread within: τ² = 0.
fn flat_group() -> Vec<HandUnit> {
    (0..12)
        .map(|k| {
            unit(
                &format!("U{k:02}"),
                "offices",
                levels([20 - k, k, 0, 0, 20]),
            )
        })
        .collect()
}

#[test]
fn with_tau2_zero_ranks_follow_raw_scores_and_no_flag_is_credible() {
    let h1 = aggregate(
        &single_question_campaign("2019H1", &flat_group()),
        &settings(),
        1,
    )
    .unwrap();
    let group = &h1.peer_groups[0];
    assert_eq!(group.tau2, Some(0.0));
    let mu = group.mu.unwrap();
    for (k, u) in group.units.iter().enumerate() {
        assert_eq!(u.shrunken, Some(mu));
        assert_eq!(u.rank, Some(12 - k as u32), "{}", u.code);
        assert!((u.score.unwrap() - (60.0 + k as f64 / 2.0)).abs() < 1e-9);
    }
    let h2 = aggregate(
        &single_question_campaign("2019H2", &flat_group()),
        &settings(),
        2,
    )
    .unwrap();
    let flags = flag_units(&[h1, h2], &settings()).unwrap();
    let flagged: Vec<_> = flags.iter().filter(|f| f.is_flagged()).collect();
    assert_eq!(flagged.len(), 5);
    assert!(
        flagged
            .iter()
            .all(|f| f.outcome == FlagOutcome::Flagged { credible: false })
    );
    assert_eq!(flagged[0].unit_code, "U00");
}

#[test]
fn a_small_group_takes_the_pooled_tau2_of_the_campaign() {
    // twelve stations far apart (own τ² > 0) and three nearly equal offices
    let mut units: Vec<HandUnit> = (0..12)
        .map(|k| {
            unit(
                &format!("S{k:02}"),
                "stations",
                levels([0, 0, 40 - 3 * k, 3 * k, 0]),
            )
        })
        .collect();
    for (i, code) in ["O1", "O2", "O3"].iter().enumerate() {
        units.push(unit(code, "offices", levels([0, 0, 20 + i, 20 - i, 0])));
    }
    let result = aggregate(&single_question_campaign("2019H1", &units), &settings(), 1).unwrap();
    let offices = result
        .peer_groups
        .iter()
        .find(|g| g.name == "offices")
        .unwrap();
    let stations = result
        .peer_groups
        .iter()
        .find(|g| g.name == "stations")
        .unwrap();
    assert!(offices.tau2_pooled && !stations.tau2_pooled);
    assert_eq!(offices.eligible_units, 3);
    // pooling over both groups: smaller than the stations' own τ², yet positive
    let (pooled, own) = (offices.tau2.unwrap(), stations.tau2.unwrap());
    assert!(pooled > 0.0 && pooled < own, "{pooled} {own}");
    // so the offices keep part of their differences
    let o1 = find(&result, "O1");
    assert!(o1.shrunken.unwrap() != offices.mu.unwrap());
    // a group of J ≤ 5: everyone is among the five lowest
    assert!(offices.units.iter().all(|u| u.p_bottom5 == Some(1.0)));
}

#[test]
fn ties_at_the_bottom_five_boundary_are_broken_by_unit_code() {
    // ten distinct units (means 60..96) and two identical ones, 5th and 6th from the bottom
    let mut units: Vec<HandUnit> = (0..10)
        .map(|k| {
            unit(
                &format!("U{k:02}"),
                "offices",
                levels([0, 0, 40 - 4 * k, 4 * k, 0]),
            )
        })
        .collect();
    // U00..U03 are the four lowest (means 60, 62, 64, 66); the twins sit at 67
    units.push(unit("T-b", "offices", levels([0, 0, 26, 14, 0])));
    units.push(unit("T-a", "offices", levels([0, 0, 26, 14, 0])));
    let campaign = |period: &str| {
        aggregate(&single_question_campaign(period, &units), &settings(), 5).unwrap()
    };
    let (h1, h2) = (campaign("2019H1"), campaign("2019H2"));
    let (a, b) = (find(&h2, "T-a"), find(&h2, "T-b"));
    assert_eq!(a.shrunken, b.shrunken);
    assert_eq!((a.rank, b.rank), (Some(7), Some(8)));
    assert!(
        (a.p_bottom5.unwrap() - b.p_bottom5.unwrap()).abs() < 0.05,
        "{a:?} {b:?}"
    );
    let mut ranks: Vec<u32> = h2.peer_groups[0]
        .units
        .iter()
        .filter_map(|u| u.rank)
        .collect();
    ranks.sort();
    assert_eq!(ranks, (1..=12).collect::<Vec<_>>());
    let flags = flag_units(&[h2.clone(), h1], &settings()).unwrap();
    let outcome = |code: &str| {
        flags
            .iter()
            .find(|f| f.unit_code == code)
            .unwrap()
            .outcome
            .clone()
    };
    assert!(matches!(outcome("T-b"), FlagOutcome::Flagged { .. }));
    assert!(matches!(
        outcome("T-a"),
        FlagOutcome::NotFlagged(NotFlaggedReason::NotInBottom { rank: 7, .. })
    ));
}

#[test]
fn a_unit_eligible_in_one_campaign_only_is_not_flagged_and_says_why() {
    let mut units = flat_group();
    let h1 = aggregate(&single_question_campaign("2019H1", &units), &settings(), 1).unwrap();
    units[0].levels.truncate(20);
    let h2 = aggregate(&single_question_campaign("2019H2", &units), &settings(), 1).unwrap();
    let u = find(&h2, "U00");
    assert!(!u.eligible && !u.suppressed && u.score.is_some());
    assert!(
        u.shrunken.is_none() && u.rank.is_none() && u.p_bottom5.is_none() && u.rank_mean.is_none()
    );
    let flags = flag_units(&[h1, h2], &settings()).unwrap();
    let decision = flags.iter().find(|f| f.unit_code == "U00").unwrap();
    assert_eq!(
        decision.outcome,
        FlagOutcome::NotFlagged(NotFlaggedReason::NotEligible {
            period: "2019H2".into()
        })
    );
    assert_eq!(decision.evidence.len(), 2);
}

#[test]
fn fewer_than_ten_ratings_suppress_every_figure() {
    let mut units = flat_group();
    units[3].levels.truncate(9);
    let result = aggregate(&single_question_campaign("2019H1", &units), &settings(), 1).unwrap();
    let u = find(&result, "U03");
    assert!(u.suppressed && !u.eligible && u.n == 9);
    assert!(
        u.score.is_none()
            && u.ci_low.is_none()
            && u.satisfied_rate.is_none()
            && u.satisfied_high.is_none()
    );
    assert_eq!(result.peer_groups[0].eligible_units, 11);
}

/// The raking tests' campaign: 400 enterprises rating 4 of 36 units each (three groups of 12),
/// with each enterprise's strata and the enterprise behind each rating.
fn raking_scenario() -> (
    qiping::stats::CampaignInput,
    Vec<qiping::stats::Strata>,
    Vec<usize>,
) {
    synthetic_campaign_with_respondents(&SyntheticSpec {
        enterprises: 400,
        units_per_enterprise: 4,
        ..SyntheticSpec::city(9).with_group_units(12)
    })
}

/// Margins far from the respondents' shares, by size and by district.
fn unequal_margins() -> Margins {
    Margins {
        size: Some(BTreeMap::from([
            ("micro".to_owned(), 70.0),
            ("small".to_owned(), 20.0),
            ("medium".to_owned(), 7.0),
            ("large".to_owned(), 3.0),
        ])),
        district: Some(
            (0..6)
                .map(|d| (format!("D{d}"), 1.0 + f64::from(d)))
                .collect(),
        ),
        ..Margins::default()
    }
}

/// Weighs `input` as the close does (issue 39): rakes the respondents and gives each rating the
/// mean raked weight of its cell of at least five raters of its unit.
fn weigh(input: &mut qiping::stats::CampaignInput, weighting: &Weighting, given_by: &[usize]) {
    weigh_in_cells(input, weighting, given_by, 5);
}

/// [`weigh`] with cells of at least `min_crowd` raters (1: each rating its stratum's raked
/// weight, as raking alone gives it).
fn weigh_in_cells(
    input: &mut qiping::stats::CampaignInput,
    weighting: &Weighting,
    given_by: &[usize],
    min_crowd: usize,
) {
    let units: std::collections::HashMap<&str, i64> = input
        .units
        .iter()
        .enumerate()
        .map(|(i, u)| (u.code.as_str(), i as i64))
        .collect();
    let raters: Vec<(i64, usize)> = input
        .ratings
        .iter()
        .zip(given_by)
        .map(|(r, &e)| (units[r.unit_code.as_str()], e))
        .collect();
    let (weights, report) = qiping::stats::weighting::rating_weights(
        weighting,
        &raters,
        &qiping::stats::RakingSettings::default(),
        min_crowd,
    )
    .unwrap();
    for (r, w) in input.ratings.iter_mut().zip(weights) {
        r.weight = w;
    }
    input.weighting = Some(report);
}

#[test]
fn equal_raking_weights_give_the_unweighted_results() {
    let (mut input, respondents, given_by) = raking_scenario();
    let plain = aggregate(&input, &settings(), 3).unwrap();
    // population margins proportional to the respondents: raking leaves every weight at 1
    let mut sizes: BTreeMap<String, f64> = BTreeMap::new();
    for r in &respondents {
        *sizes.entry(r.size.clone()).or_default() += 3.7;
    }
    weigh(
        &mut input,
        &Weighting {
            margins: Margins {
                size: Some(sizes),
                ..Margins::default()
            },
            respondents,
        },
        &given_by,
    );
    let weighted = aggregate(&input, &settings(), 3).unwrap();
    for (g, h) in plain.peer_groups.iter().zip(&weighted.peer_groups) {
        assert!((g.tau2.unwrap() - h.tau2.unwrap()).abs() < 1e-9);
        for (a, b) in g.units.iter().zip(&h.units) {
            assert_eq!(
                (a.n, a.rank, a.rank_low, a.rank_high, a.eligible),
                (b.n, b.rank, b.rank_low, b.rank_high, b.eligible)
            );
            let pairs = [
                (Some(a.n_eff), Some(b.n_eff)),
                (a.score, b.score),
                (a.ci_low, b.ci_low),
                (a.satisfied_low, b.satisfied_low),
                (a.shrunken, b.shrunken),
                (a.rank_mean, b.rank_mean),
                (a.p_bottom5, b.p_bottom5),
            ];
            for (x, y) in pairs {
                assert_eq!(x.is_some(), y.is_some());
                assert!(
                    (x.unwrap_or(0.0) - y.unwrap_or(0.0)).abs() < 1e-9,
                    "{}: {x:?} {y:?}",
                    a.code
                );
            }
        }
    }
}

#[test]
fn self_selected_ratings_can_be_left_out() {
    let mut input = single_question_campaign("2019H1", &flat_group());
    for r in input
        .ratings
        .iter_mut()
        .filter(|r| r.unit_code == "U01")
        .take(15)
    {
        r.self_selected = true;
    }
    let all = aggregate(&input, &settings(), 1).unwrap();
    let without = aggregate(
        &input,
        &Settings {
            include_self_selected: false,
            ..settings()
        },
        1,
    )
    .unwrap();
    assert_eq!((find(&all, "U01").n, find(&without, "U01").n), (40, 25));
}

#[test]
fn invalid_levels_and_unknown_units_are_errors() {
    let mut input = single_question_campaign("2019H1", &flat_group());
    input.ratings[5].answers.insert("overall".into(), Some(6));
    assert!(matches!(
        aggregate(&input, &settings(), 1),
        Err(StatsError::LevelOutOfRange { level: 6, .. })
    ));
    let mut input = single_question_campaign("2019H1", &flat_group());
    input.ratings[0].unit_code = "nowhere".into();
    input.ratings[1].unit_code = "elsewhere".into();
    assert_eq!(
        aggregate(&input, &settings(), 1).err(),
        Some(StatsError::UnknownUnit("elsewhere".into()))
    );
    let mut input = single_question_campaign("2019 first half", &flat_group());
    input.ratings.truncate(1);
    assert!(matches!(
        aggregate(&input, &settings(), 1),
        Err(StatsError::InvalidPeriod(_))
    ));
}

#[test]
fn unequal_raking_weights_lower_n_eff_and_keep_margins() {
    let (mut input, respondents, given_by) = raking_scenario();
    weigh(
        &mut input,
        &Weighting {
            margins: unequal_margins(),
            respondents,
        },
        &given_by,
    );
    let result = aggregate(&input, &settings(), 3).unwrap();
    let report = result.weighting.clone().unwrap();
    assert!(
        report.converged && report.max_relative_deviation < 1e-6,
        "{report:?}"
    );
    for u in result.peer_groups.iter().flat_map(|g| &g.units) {
        assert!(u.n_eff < u.n as f64 && u.n_eff > 0.0, "{u:?}");
        assert!(u.score.is_some_and(f64::is_finite) && u.ci_low < u.score && u.score < u.ci_high);
        assert!(u.satisfied_low <= u.satisfied_rate && u.satisfied_rate <= u.satisfied_high);
    }
}

#[test]
fn ranking_by_raw_score_is_a_setting_that_the_result_records() {
    let mut units: Vec<HandUnit> = (0..12)
        .map(|k| {
            unit(
                &format!("U{k:02}"),
                "offices",
                levels([0, 0, 40 - 3 * k, 3 * k, 0]),
            )
        })
        .collect();
    // a small unit with the top raw score: shrinkage pulls it below U11
    units.push(unit("A", "offices", levels([0, 0, 0, 6, 24])));
    let raw = Settings {
        rank_by: qiping::stats::RankBy::Raw,
        ..settings()
    };
    let by_raw = aggregate(&single_question_campaign("2019H1", &units), &raw, 1).unwrap();
    let by_shrunken =
        aggregate(&single_question_campaign("2019H1", &units), &settings(), 1).unwrap();
    assert_eq!(by_raw.rank_by, qiping::stats::RankBy::Raw);
    // "A" has n = 30: eligible; its raw score is the highest
    assert_eq!(find(&by_raw, "A").rank, Some(1));
    let a = find(&by_shrunken, "A");
    assert!(a.shrunken.unwrap() < a.score.unwrap());
}

/// docs/method.md §1's figure: how far the stored weights (cells of at least five raters of a
/// unit) move the results from raking's own weights, on the raking test's scenario (400
/// enterprises, 4 units each, margins by size and district). Prints the figure; fails if a score
/// moves by a point or more.
#[test]
fn cell_weights_approximate_the_raked_ones() {
    let (input, respondents, given_by) = raking_scenario();
    let weighting = Weighting {
        margins: unequal_margins(),
        respondents,
    };
    let mut raked = input.clone();
    weigh_in_cells(&mut raked, &weighting, &given_by, 1);
    let mut cells = input;
    weigh_in_cells(&mut cells, &weighting, &given_by, 5);
    let a = aggregate(&raked, &settings(), 3).unwrap();
    let b = aggregate(&cells, &settings(), 3).unwrap();
    let (mut score, mut p5, mut ranks, mut units) = (0.0f64, 0.0f64, 0usize, 0usize);
    for (g, h) in a.peer_groups.iter().zip(&b.peer_groups) {
        for (x, y) in g.units.iter().zip(&h.units) {
            units += 1;
            score = score.max((x.score.unwrap() - y.score.unwrap()).abs());
            p5 = p5.max((x.p_bottom5.unwrap_or(0.0) - y.p_bottom5.unwrap_or(0.0)).abs());
            ranks += usize::from(x.rank != y.rank);
        }
    }
    eprintln!(
        "cell weights vs raked weights, {units} units: largest score change {score:.3} points, \
         largest change in P(bottom five) {p5:.3}, ranks changed {ranks}"
    );
    assert!(score < 1.0, "{score}");
}
