//! The statistics engine: scores, intervals, shrinkage, ranks, rank uncertainty and the
//! accountability flag, as pure functions over plain values (no database or web types).
//!
//! The method is `docs/method.md`; every public function names its section there and the
//! formula's source. This module depends on nothing else in the crate, so it can be tested,
//! benchmarked and audited on its own.
//!
//! # Entry points
//! - [`aggregate()`]: one campaign's ratings → per peer group τ², μ̂ and per unit figures
//!   ([`CampaignResult`], the shape of `results.json`).
//! - [`flag_units()`]: the rule of docs/method.md §6 over the last K campaigns' results →
//!   [`FlagDecision`]s.
//!
//! # Error policy
//! Invalid input (unknown unit or question, a level outside 1..=5, bad template, margins or
//! settings) is a [`StatsError`]; the engine never panics on data and never returns NaN figures.
//! Thin data is not an error: it yields suppressed or ineligible units with `None` figures.
//!
//! # Decisions
//! Where the method left a choice open, the code decided; the decisions are numbered in
//! docs/method.md §7, and the code cites them as "decision N". A new one goes there.

pub mod aggregate;
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

pub use error::StatsError;
pub use flags::{BottomRule, Evidence, FlagDecision, FlagOutcome, NotFlaggedReason, flag_units};

pub use input::{
    CampaignInput, Margins, Question, Rating, Strata, Template, UnitInfo, UnitKind, Weighting,
};
pub use output::{CampaignResult, PeerGroupResult, UnitResult};
pub use period::Period;
pub use settings::{RakingSettings, RankBy, Settings};

/// Identifies this method in every `results.json`; bump it whenever a figure could change, and
/// change docs/method.md in the same commit. Published results keep the version they were
/// computed with (see [`METHOD_NAMES_ZH`]).
pub const METHOD_VERSION: &str =
    "qiping-stats-2.0 (docs/method.md: every rating its own cluster, DL-EB shrinkage, Wilson)";

/// The method before issue 37: ratings clustered by enterprise (the SE over respondents, with
/// G − 1 degrees of freedom). Results published with it keep it; the file it names is
/// docs/method.md's earlier name.
pub const METHOD_VERSION_1: &str =
    "qiping-stats-1.0 (STATS.md: DL-EB shrinkage, Wilson, cluster SE)";

/// Each method version's name in Chinese, as the published method page shows it
/// (docs/method.md §12). A version missing here is shown by its identifier alone; when the method
/// changes, the old version's entry stays (its results are still published) and the new one is
/// added.
pub const METHOD_NAMES_ZH: &[(&str, &str)] = &[
    (
        METHOD_VERSION_1,
        "企评满意度评议统计方法 1.0 版(经验贝叶斯收缩估计、威尔逊区间、按企业聚类计算的标准误)",
    ),
    (
        METHOD_VERSION,
        "企评满意度评议统计方法 2.0 版(经验贝叶斯收缩估计、威尔逊区间、每条评价各自计算的标准误)",
    ),
];

/// The Chinese name of a method version, if it is known (see [`METHOD_NAMES_ZH`]).
pub fn method_name_zh(version: &str) -> Option<&'static str> {
    METHOD_NAMES_ZH
        .iter()
        .find(|(v, _)| *v == version)
        .map(|(_, name)| *name)
}
