//! The flag rule of docs/method.md §6.1 on hand-built results.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use qiping::stats::{
    CampaignResult, FlagOutcome, NotFlaggedReason, PeerGroupResult, RankBy, Settings, UnitKind,
    UnitResult, flag_units,
};

/// A group of `j` eligible units `U01…` where unit k (1-based) has rank k and the given p_bottom5.
fn group(
    name: &str,
    kind: UnitKind,
    j: u32,
    tau2: f64,
    p_bottom5: impl Fn(u32) -> f64,
) -> PeerGroupResult {
    let units = (1..=j)
        .map(|k| UnitResult {
            code: format!("{name}-U{k:02}"),
            kind,
            n: 50,
            n_eff: 50.0,
            response_rate: Some(0.4),
            score: Some(90.0 - f64::from(k)),
            ci_low: Some(85.0 - f64::from(k)),
            ci_high: Some(95.0 - f64::from(k)),
            satisfied_rate: Some(0.9),
            satisfied_low: Some(0.8),
            satisfied_high: Some(0.95),
            shrunken: Some(90.0 - f64::from(k)),
            rank: Some(k),
            rank_mean: Some(f64::from(k)),
            rank_low: Some(k.saturating_sub(1).max(1)),
            rank_high: Some((k + 1).min(j)),
            p_bottom5: Some(p_bottom5(k)),
            eligible: true,
            suppressed: false,
        })
        .collect();
    PeerGroupResult {
        name: name.into(),
        tau2: Some(tau2),
        mu: Some(80.0),
        tau2_pooled: false,
        eligible_units: j as usize,
        units,
    }
}

fn campaign(period: &str, groups: Vec<PeerGroupResult>) -> CampaignResult {
    CampaignResult {
        period: period.into(),
        method_version: "test".into(),
        seed: 1,
        rank_by: RankBy::Shrunken,
        weighting: None,
        peer_groups: groups,
    }
}

fn sharp(k: u32) -> f64 {
    if k > 7 { 0.95 } else { 0.01 }
}

fn outcome(decisions: &[qiping::stats::FlagDecision], code: &str) -> FlagOutcome {
    decisions
        .iter()
        .find(|d| d.unit_code == code)
        .unwrap()
        .outcome
        .clone()
}

#[test]
fn the_bottom_five_in_two_consecutive_half_years_are_flagged_with_evidence() {
    let h1 = campaign(
        "2019H2",
        vec![group("offices", UnitKind::Office, 12, 4.0, sharp)],
    );
    let h2 = campaign(
        "2020H1",
        vec![group("offices", UnitKind::Office, 12, 3.0, sharp)],
    );
    let decisions = flag_units(&[h1, h2], &Settings::default()).unwrap();
    assert_eq!(decisions.len(), 12);
    for k in 8..=12 {
        assert_eq!(
            outcome(&decisions, &format!("offices-U{k:02}")),
            FlagOutcome::Flagged { credible: true }
        );
    }
    assert!(matches!(
        outcome(&decisions, "offices-U07"),
        FlagOutcome::NotFlagged(NotFlaggedReason::NotInBottom { rank: 7, .. })
    ));
    let d = decisions
        .iter()
        .find(|d| d.unit_code == "offices-U12")
        .unwrap();
    assert_eq!(d.periods, ["2019H2", "2020H1"]);
    let periods: Vec<&str> = d.evidence.iter().map(|e| e.period.as_str()).collect();
    assert_eq!(periods, ["2019H2", "2020H1"]);
    let e = &d.evidence[1];
    assert_eq!(
        (e.n, e.rank, e.rank_low, e.rank_high, e.tau2),
        (50, Some(12), Some(11), Some(12), Some(3.0))
    );
    assert_eq!(
        (e.score, e.ci_low, e.ci_high, e.p_bottom5, e.response_rate),
        (Some(78.0), Some(73.0), Some(83.0), Some(0.95), Some(0.4))
    );
}

#[test]
fn a_low_probability_or_zero_tau2_in_either_half_year_makes_a_flag_uncertain() {
    let weak = |k: u32| if k == 12 { 0.79 } else { sharp(k) };
    let h1 = campaign(
        "2019H1",
        vec![
            group("offices", UnitKind::Office, 12, 4.0, weak),
            group("departments", UnitKind::Department, 12, 0.0, sharp),
        ],
    );
    let h2 = campaign(
        "2019H2",
        vec![
            group("offices", UnitKind::Office, 12, 4.0, sharp),
            group("departments", UnitKind::Department, 12, 2.0, sharp),
        ],
    );
    let decisions = flag_units(&[h1, h2], &Settings::default()).unwrap();
    assert_eq!(
        outcome(&decisions, "offices-U12"),
        FlagOutcome::Flagged { credible: false }
    );
    assert_eq!(
        outcome(&decisions, "offices-U11"),
        FlagOutcome::Flagged { credible: true }
    );
    assert_eq!(
        outcome(&decisions, "departments-U11"),
        FlagOutcome::Flagged { credible: false }
    );
}

#[test]
fn without_the_preceding_half_year_nothing_is_flagged_and_the_reason_is_recorded() {
    let only = campaign(
        "2019H2",
        vec![group("offices", UnitKind::Office, 12, 4.0, sharp)],
    );
    let decisions = flag_units(std::slice::from_ref(&only), &Settings::default()).unwrap();
    assert!(decisions.iter().all(|d| d.outcome
        == FlagOutcome::NotFlagged(NotFlaggedReason::NoPreviousCampaign {
            period: "2019H1".into()
        })));
    // a gap: 2019H1 then 2020H1 are not consecutive
    let earlier = campaign(
        "2019H1",
        vec![group("offices", UnitKind::Office, 12, 4.0, sharp)],
    );
    let later = campaign(
        "2020H1",
        vec![group("offices", UnitKind::Office, 12, 4.0, sharp)],
    );
    let decisions = flag_units(&[earlier, later], &Settings::default()).unwrap();
    assert!(decisions.iter().all(|d| d.outcome
        == FlagOutcome::NotFlagged(NotFlaggedReason::NoPreviousCampaign {
            period: "2019H2".into()
        })));
}

#[test]
fn stations_are_never_flagged_and_small_groups_say_why() {
    let h1 = campaign(
        "2019H1",
        vec![
            group("stations", UnitKind::Station, 12, 4.0, sharp),
            group("small", UnitKind::Department, 9, 4.0, sharp),
        ],
    );
    let h2 = campaign(
        "2019H2",
        vec![
            group("stations", UnitKind::Station, 12, 4.0, sharp),
            group("small", UnitKind::Department, 9, 4.0, sharp),
        ],
    );
    let decisions = flag_units(&[h1, h2], &Settings::default()).unwrap();
    assert!(decisions.iter().all(|d| d.kind == UnitKind::Department));
    assert_eq!(decisions.len(), 9);
    assert_eq!(
        outcome(&decisions, "small-U09"),
        FlagOutcome::NotFlagged(NotFlaggedReason::SmallPeerGroup {
            period: "2019H1".into(),
            eligible_units: 9,
            required: 10
        })
    );
}

#[test]
fn a_unit_missing_from_the_earlier_campaign_is_listed_as_such() {
    let h1 = campaign(
        "2019H1",
        vec![group("offices", UnitKind::Office, 11, 4.0, sharp)],
    );
    let h2 = campaign(
        "2019H2",
        vec![group("offices", UnitKind::Office, 12, 4.0, sharp)],
    );
    let decisions = flag_units(&[h1, h2], &Settings::default()).unwrap();
    assert_eq!(
        outcome(&decisions, "offices-U12"),
        FlagOutcome::NotFlagged(NotFlaggedReason::NotInCampaign {
            period: "2019H1".into()
        })
    );
    let json = serde_json::to_value(&decisions[11].outcome).unwrap();
    assert_eq!(json["outcome"], "not_flagged");
    assert_eq!(json["reason"], "not_in_campaign");
}

#[test]
fn three_consecutive_half_years_when_k_is_three() {
    let settings = Settings {
        consecutive: 3,
        ..Settings::default()
    };
    let c = |p: &str| campaign(p, vec![group("offices", UnitKind::Office, 12, 4.0, sharp)]);
    let decisions = flag_units(&[c("2019H1"), c("2019H2"), c("2020H1")], &settings).unwrap();
    assert_eq!(
        outcome(&decisions, "offices-U12"),
        FlagOutcome::Flagged { credible: true }
    );
    assert_eq!(decisions[0].periods, ["2019H1", "2019H2", "2020H1"]);
    let decisions = flag_units(&[c("2019H2"), c("2020H1")], &settings).unwrap();
    assert!(!decisions[11].is_flagged());
}
