//! The accountability flag (docs/method.md §6) as a pure function over consecutive campaigns' results.
//!
//! Heads are not the engine's business: the caller attaches them to each [`Evidence`] by period.

use crate::stats::{CampaignResult, Period, Settings, StatsError, UnitKind};
use serde::{Deserialize, Serialize};

/// One campaign's figures for a unit, shown to inspectors with every decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub period: String,
    pub peer_group: String,
    pub group_eligible_units: usize,
    pub n: usize,
    pub response_rate: Option<f64>,
    pub score: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub rank: Option<u32>,
    pub rank_low: Option<u32>,
    pub rank_high: Option<u32>,
    pub p_bottom5: Option<f64>,
    pub tau2: Option<f64>,
    pub eligible: bool,
}

/// Why a department or office is not flagged; the first reason that applies, in this order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum NotFlaggedReason {
    /// The half-year `period` has no published campaign in the history given.
    NoPreviousCampaign { period: String },
    /// The unit is not in that campaign's results.
    NotInCampaign { period: String },
    /// n < 30 (or suppressed) in that campaign.
    NotEligible { period: String },
    /// Its peer group had fewer than 2N eligible units then.
    SmallPeerGroup {
        period: String,
        eligible_units: usize,
        required: usize,
    },
    /// Not among the N lowest by published rank then.
    NotInBottom {
        period: String,
        rank: u32,
        group_eligible_units: usize,
    },
}

/// Flagged (credible or uncertain) or not, with the reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum FlagOutcome {
    /// `credible`: τ² > 0 and p_bottom5 ≥ the threshold in every campaign; else uncertain.
    Flagged {
        credible: bool,
    },
    NotFlagged(NotFlaggedReason),
}

/// The decision for one department or office of the newest campaign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlagDecision {
    pub unit_code: String,
    pub kind: UnitKind,
    pub peer_group: String,
    /// The K half-years considered, oldest first.
    pub periods: Vec<String>,
    pub outcome: FlagOutcome,
    /// One entry per considered campaign the unit appears in, oldest first.
    pub evidence: Vec<Evidence>,
}

impl FlagDecision {
    pub fn is_flagged(&self) -> bool {
        matches!(self.outcome, FlagOutcome::Flagged { .. })
    }
}

/// The bottom-N rule (docs/method.md §6), written once: a peer group can flag its units only when
/// at least 2N of them are ranked, and a ranked unit is in the bottom N when fewer than N rank
/// below it. Flags, charts, the bulletin and the public rankings page all ask it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BottomRule {
    n: usize,
}

impl BottomRule {
    /// The rule for the N of `[stats] bottom_n`.
    pub fn new(n: usize) -> Self {
        BottomRule { n }
    }

    /// Ranked units a peer group needs before any of them can be flagged: 2N.
    pub fn min_ranked(self) -> usize {
        2 * self.n
    }

    /// Whether a peer group of `ranked` ranked units can flag any of them.
    pub fn flaggable(self, ranked: usize) -> bool {
        ranked >= self.min_ranked()
    }

    /// Whether `rank` (1 = best) is among the N lowest of `ranked`; an unranked unit never is.
    pub fn in_bottom(self, rank: Option<u32>, ranked: usize) -> bool {
        rank.is_some_and(|r| r as usize + self.n > ranked)
    }
}

/// docs/method.md §6.1: a department or office is flagged when it is among the N lowest by published
/// rank of its peer group in K consecutive half-years (the newest in `history` and the K − 1
/// before it), each time in a group with ≥ 2N eligible units; credible when τ² > 0 and
/// p_bottom5 ≥ `credible_probability` every time. `history` may be in any order; periods must
/// parse. Returns a decision for every department and office of the newest campaign, in code order.
pub fn flag_units(
    history: &[CampaignResult],
    settings: &Settings,
) -> Result<Vec<FlagDecision>, StatsError> {
    let mut dated: Vec<(Period, &CampaignResult)> = history
        .iter()
        .map(|c| Ok((Period::parse(&c.period)?, c)))
        .collect::<Result<_, StatsError>>()?;
    dated.sort_by_key(|(p, _)| *p);
    let Some(&(newest, current)) = dated.last() else {
        return Ok(Vec::new());
    };
    // the K periods ending at the newest, oldest first, with the campaign if published
    let k = settings.consecutive;
    let mut periods = vec![newest];
    while periods.len() < k {
        periods.insert(0, periods[0].previous());
    }
    let campaigns: Vec<(Period, Option<&CampaignResult>)> = periods
        .iter()
        .map(|p| (*p, dated.iter().find(|(q, _)| q == p).map(|(_, c)| *c)))
        .collect();
    let period_names: Vec<String> = periods.iter().map(Period::to_string).collect();
    let rule = BottomRule::new(settings.bottom_n);
    let required = rule.min_ranked();

    let mut decisions = Vec::new();
    for group in &current.peer_groups {
        for unit in group.units.iter().filter(|u| u.kind.is_flaggable()) {
            let mut evidence = Vec::new();
            let mut reason = None;
            let mut credible = true;
            for (period, campaign) in &campaigns {
                let name = period.to_string();
                let Some(campaign) = campaign else {
                    reason.get_or_insert(NotFlaggedReason::NoPreviousCampaign { period: name });
                    continue;
                };
                let Some((g, u)) = campaign.find_unit(&unit.code) else {
                    reason.get_or_insert(NotFlaggedReason::NotInCampaign { period: name });
                    continue;
                };
                evidence.push(Evidence {
                    period: name.clone(),
                    peer_group: g.name.clone(),
                    group_eligible_units: g.eligible_units,
                    n: u.n,
                    response_rate: u.response_rate,
                    score: u.score,
                    ci_low: u.ci_low,
                    ci_high: u.ci_high,
                    rank: u.rank,
                    rank_low: u.rank_low,
                    rank_high: u.rank_high,
                    p_bottom5: u.p_bottom5,
                    tau2: g.tau2,
                    eligible: u.eligible,
                });
                let Some(rank) = u.rank.filter(|_| u.eligible) else {
                    reason.get_or_insert(NotFlaggedReason::NotEligible { period: name });
                    continue;
                };
                if !rule.flaggable(g.eligible_units) {
                    reason.get_or_insert(NotFlaggedReason::SmallPeerGroup {
                        period: name,
                        eligible_units: g.eligible_units,
                        required,
                    });
                    continue;
                }
                if !rule.in_bottom(Some(rank), g.eligible_units) {
                    reason.get_or_insert(NotFlaggedReason::NotInBottom {
                        period: name,
                        rank,
                        group_eligible_units: g.eligible_units,
                    });
                    continue;
                }
                let strong = u
                    .p_bottom5
                    .is_some_and(|p| p >= settings.credible_probability);
                credible &= g.tau2.is_some_and(|t| t > 0.0) && strong;
            }
            let outcome = match reason {
                Some(r) => FlagOutcome::NotFlagged(r),
                None => FlagOutcome::Flagged { credible },
            };
            decisions.push(FlagDecision {
                unit_code: unit.code.clone(),
                kind: unit.kind,
                peer_group: group.name.clone(),
                periods: period_names.clone(),
                outcome,
                evidence,
            });
        }
    }
    decisions.sort_by(|a, b| a.unit_code.cmp(&b.unit_code));
    Ok(decisions)
}

#[cfg(test)]
mod tests {
    use super::BottomRule;

    #[test]
    fn the_bottom_five_rule_by_hand() {
        let rule = BottomRule::new(5);
        assert_eq!(rule.min_ranked(), 10);
        assert!(!rule.flaggable(9));
        assert!(rule.flaggable(10));
        // Of 10 ranked: ranks 6..=10 are the five lowest, rank 5 is not, an unranked unit never.
        assert!(!rule.in_bottom(Some(5), 10));
        assert!((6..=10).all(|r| rule.in_bottom(Some(r), 10)));
        assert!(!rule.in_bottom(None, 10));
        // Of 12: ranks 8..=12.
        assert!(!rule.in_bottom(Some(7), 12));
        assert!(rule.in_bottom(Some(8), 12));
    }
}
