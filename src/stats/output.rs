//! What aggregation returns: the `results.json` shape of docs/interface.md §4.2 (names are added by the caller).

use crate::stats::weighting::RakingReport;
use crate::stats::{RankBy, UnitKind};
use serde::{Deserialize, Serialize};

/// One campaign's results, with what is needed to reproduce them (method version, seed, setting).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignResult {
    pub period: String,
    pub method_version: String,
    pub seed: u64,
    pub rank_by: RankBy,
    /// How raking went; `None` when weighting is off.
    pub weighting: Option<RakingReport>,
    /// Peer groups in name order.
    pub peer_groups: Vec<PeerGroupResult>,
}

/// A peer group: its between-unit variance τ², the overall mean μ̂, and its units in code order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeerGroupResult {
    pub name: String,
    /// `None` when the group has no eligible unit.
    pub tau2: Option<f64>,
    pub mu: Option<f64>,
    /// τ² is the campaign's pooled value (fewer than 10 eligible units).
    pub tau2_pooled: bool,
    pub eligible_units: usize,
    pub units: Vec<UnitResult>,
}

/// One unit's published figures; `None` where docs/method.md §3 withholds a figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitResult {
    pub code: String,
    pub kind: UnitKind,
    pub n: usize,
    pub n_eff: f64,
    pub response_rate: Option<f64>,
    pub score: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub satisfied_rate: Option<f64>,
    pub satisfied_low: Option<f64>,
    pub satisfied_high: Option<f64>,
    pub shrunken: Option<f64>,
    pub rank: Option<u32>,
    pub rank_mean: Option<f64>,
    pub rank_low: Option<u32>,
    pub rank_high: Option<u32>,
    pub p_bottom5: Option<f64>,
    pub eligible: bool,
    pub suppressed: bool,
}

impl CampaignResult {
    /// The unit and its peer group, by code.
    pub fn find_unit(&self, code: &str) -> Option<(&PeerGroupResult, &UnitResult)> {
        self.peer_groups
            .iter()
            .find_map(|g| g.units.iter().find(|u| u.code == code).map(|u| (g, u)))
    }
}
