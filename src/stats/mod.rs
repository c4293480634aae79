//! The statistics engine: scores, intervals, shrinkage, ranks, rank uncertainty and the
//! accountability flag, as pure functions over plain values (no database or web types).
//!
//! The method is `shared/STATS.md`; every public function names the formula's source. This module
//! depends on nothing else in the crate, so it can be tested, benchmarked and audited on its own.
//!
//! # Entry points
//! - [`aggregate()`]: one campaign's ratings → per peer group τ², μ̂ and per unit figures
//!   ([`CampaignResult`], the shape of `results.json`).
//! - [`flag_units()`]: the §6 rule over the last K campaigns' results → [`FlagDecision`]s.
//! - [`cluster_bootstrap()`]: the §5 sensitivity report (resampling enterprises), on request only.
//!
//! # Error policy
//! Invalid input (unknown unit or question, a level outside 1..=5, bad template, margins or
//! settings) is a [`StatsError`]; the engine never panics on data and never returns NaN figures.
//! Thin data is not an error: it yields suppressed or ineligible units with `None` figures.
//!
//! # Decisions where STATS.md leaves a choice open
//! 1. **Fixed input order.** Ratings are sorted by (unit code, respondent key, then the composite
//!    and overall level they contribute) before anything is summed, so input order never changes
//!    a bit of the output. Ratings may arrive one at a time ([`Preparer`]), streamed from storage.
//! 2. **What stays on a suppressed unit.** `n` and `n_eff` are always shown (they are why the unit
//!    is 「样本不足」); every other figure is `None`. `response_rate` is passed through from the caller.
//! 3. **Eligible** means published (n ≥ 10, n_eff ≥ 10) *and* n ≥ 30.
//! 4. **Degrees of freedom** of the t-interval are G − 1, G = enterprises rating the unit: the n − 1
//!    of STATS.md under §0's one rating per enterprise, and the design df if that ever changes
//!    (with df = n − 1 clustered data covered 94.0% in the seeded check, with G − 1 closer to 95%).
//!    Two ratings of one unit by one enterprise (which §0 rules out) would both count in n and share
//!    a cluster.
//! 5. **Weighted 满意率**: the weighted share among ratings that answered the overall question; the
//!    Wilson interval uses that subset's Kish n_eff as its sample size.
//! 6. **Raking population**: the distinct respondents with at least one counted rating in the
//!    campaign; one weight per enterprise, used for all its ratings. Targets are rescaled so each
//!    margin sums to the number of respondents (mean weight 1). A category with fewer than 20
//!    respondents is merged with the next smallest category of its margin (ties by name) until all
//!    have ≥ 20 or one is left. Trim-and-re-rake repeats (at most 10 cycles) until every weight lies
//!    in 0.3–3× the mean; the final step is always a rake, so margins hold.
//! 7. **Weighted pooled variance**: within each unit the weights are rescaled to sum to n_j, so
//!    `σ̂² = Σ_j Σ_i w̃_i (S_i − ȳ_j)² / Σ_j (n_j − 1)`; with equal weights this is the unweighted one.
//! 8. **Pooled τ²** sums Q_g, J_g − 1 and C_g over every peer group with at least one eligible unit
//!    (large groups included); groups with < 10 eligible units use it, μ̂ stays their own.
//! 9. **Degenerate variance**: if σ̂² = 0 (no within-unit spread at all) every v_j = 0: the
//!    scores are exact, so B_j = 0, θ̃_j = y_j and V_j = 0; DL is undefined and τ² is reported as 0,
//!    so no flag of that group can be credible. μ̂ is then the plain mean of the scores.
//! 10. **Simulation with RankBy::Raw**: the draws are still θ_j ~ N(θ̃_j, V_j) (the estimate of the true
//!     rank); only the published rank changes.
//! 11. **p_bottom5 when J ≤ 5**: by its definition P(rank > J − 5) = 1: every unit is among the five
//!     lowest. Such groups are never flagged (< 2N). "5" is `Settings::bottom_n`.
//! 12. **Rank interval** uses exact integer arithmetic: `rank_low` is the smallest r with
//!     40·#(rank ≤ r) ≥ R, `rank_high` the smallest with 40·#(rank ≤ r) ≥ 39·R.
//! 13. **Random streams**: Xoshiro256++ seeded by `seed_from_u64(seed)`; peer group k (in name
//!     order) uses that generator after k `jump()`s, so groups run in parallel and stay identical.
//!     Normal draws are Marsaglia's polar method written here ([`simulation::NormalSampler`]); they
//!     use `ln` and `sqrt`, so bit-identity holds for one build on one platform.
//! 14. **Flags**: a unit's peer group must have ≥ 2N eligible units in *each* of the K campaigns
//!     (its group in that campaign); campaigns must be consecutive half-years. Every department
//!     and office of the newest campaign gets a decision with a reason. **Heads stay out of stats**:
//!     the caller attaches them to [`FlagDecision`] evidence by period.
//! 15. **Bootstrap** keeps the original eligible set and the raking weights (no re-raking), and
//!     recomputes §4 and the published ranks per replicate; the §5 simulation is not nested.

pub mod aggregate;
pub mod bootstrap;
pub mod eligibility;
pub mod error;
pub mod fit;
pub mod flags;
pub mod input;
pub mod interval;
pub mod output;
pub mod period;
pub mod prepare;
pub mod ranking;
pub mod score;
pub mod settings;
pub mod shrinkage;
pub mod simulation;
pub mod synthetic;
pub mod weighting;

pub use aggregate::{aggregate, aggregate_prepared};
pub use prepare::{Prepared, Preparer};

pub use bootstrap::{BootstrapGroup, BootstrapReport, BootstrapUnit, cluster_bootstrap};
pub use error::StatsError;
pub use flags::{Evidence, FlagDecision, FlagOutcome, NotFlaggedReason, flag_units};

pub use input::{CampaignInput, Margins, Question, Rating, Strata, Template, UnitInfo, UnitKind};
pub use output::{CampaignResult, PeerGroupResult, UnitResult};
pub use period::Period;
pub use settings::{RakingSettings, RankBy, Settings};

/// Identifies this method in every `results.json`; bump it whenever a figure could change.
pub const METHOD_VERSION: &str = "qiping-stats-1.0 (STATS.md: DL-EB shrinkage, Wilson, cluster SE)";
