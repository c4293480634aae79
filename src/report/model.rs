//! What a publication contains, as the public and the inspectors read it (docs/interface.md §4).
//! The service builds these from frozen results; the report writers and the web render them.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The public results of one version (docs/interface.md §4.2, `results.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicResults {
    pub period: String,
    pub version: i32,
    /// The version this one replaces.
    pub supersedes: Option<i32>,
    pub reason: Option<String>,
    pub published_at: String,
    pub method_version: String,
    pub seed: u64,
    pub peer_groups: Vec<PublicPeerGroup>,
    /// Units in the bottom five a second time: named publicly, heads and evidence are not.
    pub flags: Vec<PublicFlag>,
}

impl PublicResults {
    /// The day it was published, as a reader writes it (「2019 年 7 月 1 日」); 「尚未公布」 for a
    /// preview, which has no time.
    pub fn published_on_text(&self) -> String {
        if self.published_at.is_empty() {
            return "尚未公布".to_owned();
        }
        chrono::DateTime::parse_from_rfc3339(&self.published_at).map_or_else(
            |_| self.published_at.clone(),
            |t| t.format("%Y 年 %-m 月 %-d 日").to_string(),
        )
    }
}

/// One peer group's ranking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicPeerGroup {
    pub name: String,
    pub tau2: Option<f64>,
    pub mu: Option<f64>,
    pub units: Vec<PublicUnit>,
}

/// One unit's published figures; `null` where a figure is withheld.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicUnit {
    pub code: String,
    pub name: String,
    pub kind: String,
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

/// A flag as the public sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicFlag {
    pub unit_code: String,
    pub periods: Vec<String>,
    pub credible: bool,
}

/// A flag as inspectors see it (docs/interface.md §4.3), with the evidence and heads of each half-year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InspectorFlag {
    pub unit_code: String,
    pub unit_name: String,
    pub kind: String,
    pub peer_group: String,
    pub periods: Vec<String>,
    pub credible: bool,
    pub evidence: Vec<FlagEvidence>,
}

/// One half-year's figures behind a flag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlagEvidence {
    pub period: String,
    /// The unit rated then: differs from the flag's unit when a predecessor was rated.
    pub unit_code: String,
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
    pub heads: Vec<HeadView>,
}

/// A head's term.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadView {
    pub name: String,
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
}

/// The figures as the bulletin and the public page print them: one decimal, "—" where a figure
/// is withheld.
impl PublicUnit {
    pub fn score_text(&self) -> String {
        self.score.map_or("—".into(), |v| format!("{v:.1}"))
    }

    pub fn interval_text(&self) -> String {
        match (self.ci_low, self.ci_high) {
            (Some(l), Some(h)) => format!("{l:.1}–{h:.1}"),
            _ => "—".into(),
        }
    }

    pub fn satisfied_text(&self) -> String {
        self.satisfied_rate
            .map_or("—".into(), |r| format!("{:.1}%", r * 100.0))
    }

    pub fn rank_interval_text(&self) -> String {
        match (self.rank_low, self.rank_high) {
            (Some(l), Some(h)) if l == h => l.to_string(),
            (Some(l), Some(h)) => format!("{l}–{h}"),
            _ => "—".into(),
        }
    }

    pub fn p_bottom5_text(&self) -> String {
        self.p_bottom5
            .map_or("—".into(), |p| format!("{:.0}%", p * 100.0))
    }
}
