//! Thresholds and switches of the method, with their defaults (docs/method.md §8).

use crate::stats::StatsError;
use serde::{Deserialize, Serialize};

/// What the published rank orders by (docs/method.md §5.1); the report says which.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RankBy {
    Shrunken,
    Raw,
}

/// Raking controls (docs/method.md §1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RakingSettings {
    pub tolerance: f64,
    pub max_rounds: usize,
    pub trim_low: f64,
    pub trim_high: f64,
    pub min_category: usize,
    pub max_trim_cycles: usize,
}

impl Default for RakingSettings {
    fn default() -> Self {
        RakingSettings {
            tolerance: 1e-6,
            max_rounds: 50,
            trim_low: 0.3,
            trim_high: 3.0,
            min_category: 20,
            max_trim_cycles: 10,
        }
    }
}

/// Every setting of the method; `Settings::default()` is docs/method.md §8, and a partial
/// configuration deserializes with the rest at their defaults. An unknown key is refused, as
/// everywhere in `qiping.toml`, so a misspelt setting is never silently ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// A score is published when n ≥ this …
    pub min_published_n: usize,
    /// … and n_eff ≥ this.
    pub min_published_n_eff: f64,
    /// Ranked, shrunk, simulated and flaggable when n ≥ this.
    pub min_eligible_n: usize,
    /// A peer group with fewer eligible units takes the pooled τ².
    pub min_units_own_tau2: usize,
    pub rank_by: RankBy,
    /// R, the rank simulation draws; 10,000 keeps the Monte Carlo SE of p_bottom5 ≤ 0.005
    /// (fewer are accepted, for tests).
    pub draws: usize,
    /// N: "bottom five".
    pub bottom_n: usize,
    /// K: consecutive half-years in the bottom N.
    pub consecutive: usize,
    /// p_bottom5 needed in every campaign for a credible flag.
    pub credible_probability: f64,
    pub include_self_selected: bool,
    pub raking: RakingSettings,
    /// Accepted and ignored: the cluster bootstrap it sized is gone (every rating is its own
    /// cluster, docs/method.md §2), but `qiping.toml` files written before still name it.
    #[serde(skip_serializing)]
    pub bootstrap_replicates: Option<usize>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            min_published_n: 10,
            min_published_n_eff: 10.0,
            min_eligible_n: 30,
            min_units_own_tau2: 10,
            rank_by: RankBy::Shrunken,
            draws: 10_000,
            bottom_n: 5,
            consecutive: 2,
            credible_probability: 0.80,
            include_self_selected: true,
            raking: RakingSettings::default(),
            bootstrap_replicates: None,
        }
    }
}

impl Settings {
    /// Rejects settings under which a figure would be meaningless (e.g. a t-interval from n = 1).
    pub fn validate(&self) -> Result<(), StatsError> {
        let bad = |m: &str| Err(StatsError::InvalidSettings(m.to_owned()));
        if self.min_published_n < 2 {
            return bad("min_published_n must be at least 2");
        }
        if self.min_published_n_eff.is_nan() || self.min_published_n_eff < 1.0 {
            return bad("min_published_n_eff must be at least 1");
        }
        if self.min_eligible_n < self.min_published_n {
            return bad("min_eligible_n must be at least min_published_n");
        }
        if self.draws == 0 || self.bottom_n == 0 || self.consecutive == 0 {
            return bad("draws, bottom_n and consecutive must be positive");
        }
        if !(0.0..=1.0).contains(&self.credible_probability) {
            return bad("credible_probability must lie in [0, 1]");
        }
        let r = &self.raking;
        if !(r.tolerance > 0.0 && r.trim_low > 0.0 && r.trim_low < 1.0 && r.trim_high > 1.0) {
            return bad("raking: tolerance > 0 and 0 < trim_low < 1 < trim_high");
        }
        Ok(())
    }
}
