//! What a campaign hands the engine: plain values the caller builds from storage.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The kind of a government unit; only departments and offices can be flagged (docs/method.md §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnitKind {
    Department,
    Office,
    Station,
}

impl UnitKind {
    /// Stations are ranked, not flagged.
    pub fn is_flaggable(self) -> bool {
        matches!(self, UnitKind::Department | UnitKind::Office)
    }
}

/// A unit as the engine needs it: its code, kind and peer group (ranking happens within a group).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitInfo {
    pub code: String,
    pub kind: UnitKind,
    pub peer_group: String,
    /// Passed through to the result (invitations are not the engine's business).
    pub response_rate: Option<f64>,
}

/// The registry strata of an enterprise that answered, used only when weighting is on.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Strata {
    pub size: String,
    pub industry: String,
    pub district: String,
}

/// One enterprise's rating of one unit. `answers` maps question id → level 1..=5, `None` for
/// 「不了解/未接触」; a question missing from the map is also not answered. A rating names no
/// respondent: nothing groups one enterprise's ratings, so each counts on its own (its own cluster).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rating {
    pub unit_code: String,
    /// Its weight: 1 in an unweighted campaign; in a weighted one, the weight the close gave it
    /// ([`crate::stats::weighting::rating_weights`]), shared by at least five raters of the unit.
    #[serde(default = "unit_weight")]
    pub weight: f64,
    pub answers: BTreeMap<String, Option<u8>>,
    /// The enterprise added this unit itself; counted unless `Settings::include_self_selected` is off.
    #[serde(default)]
    pub self_selected: bool,
}

fn unit_weight() -> f64 {
    1.0
}

/// A question of the template with its weight in the composite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Question {
    pub id: String,
    pub weight: f64,
}

/// The scoring part of a template: questions, points per level and the `overall` question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Template {
    pub questions: Vec<Question>,
    /// Points of levels 1..=5 (index 0 = 非常不满意); default 20/40/60/80/100.
    pub level_points: [f64; 5],
    /// The id of the question that 满意率 is computed from.
    pub overall: String,
}

impl Template {
    /// Default points (100/80/60/40/20 for 非常满意 … 非常不满意) with the given questions.
    pub fn with_default_points(questions: Vec<Question>, overall: &str) -> Self {
        Template {
            questions,
            level_points: [20.0, 40.0, 60.0, 80.0, 100.0],
            overall: overall.to_owned(),
        }
    }
}

/// Population margins for raking: category → population count (or share; rescaled anyway).
/// A dimension that is `None` is not raked.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Margins {
    pub size: Option<BTreeMap<String, f64>>,
    pub industry: Option<BTreeMap<String, f64>>,
    pub district: Option<BTreeMap<String, f64>>,
}

impl Margins {
    /// All three margins from counts of the invited enterprises by stratum: (size, industry,
    /// district, how many), a stratum possibly more than once.
    pub fn from_counts<'a>(
        counts: impl IntoIterator<Item = (&'a str, &'a str, &'a str, f64)>,
    ) -> Self {
        let (mut size, mut industry, mut district) =
            (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
        for (s, i, d, n) in counts {
            *size.entry(s.to_owned()).or_insert(0.0) += n;
            *industry.entry(i.to_owned()).or_insert(0.0) += n;
            *district.entry(d.to_owned()).or_insert(0.0) += n;
        }
        Margins {
            size: Some(size),
            industry: Some(industry),
            district: Some(district),
        }
    }
}

/// What weighting rakes, at the close: the enterprises that answered, by their strata, to the
/// invited population's margins ([`crate::stats::weighting::rating_weights`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Weighting {
    pub margins: Margins,
    /// One entry per enterprise that answered the campaign.
    pub respondents: Vec<Strata>,
}

/// Everything one campaign's aggregation reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignInput {
    /// The half-year, e.g. `2019H2`.
    pub period: String,
    pub template: Template,
    pub units: Vec<UnitInfo>,
    pub ratings: Vec<Rating>,
    /// How the ratings' weights were made (raking at the close), passed through to the result;
    /// `None`: weighting off (the default, docs/method.md §1), every weight 1.
    pub weighting: Option<crate::stats::weighting::RakingReport>,
}
