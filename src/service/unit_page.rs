//! One unit's page, the same for the 营商办 and for the unit's own viewer: each question's
//! distribution per campaign, the unit's published figures across campaigns, and the comments
//! (only where at least [`MIN_CROWD`] enterprises commented, hidden ones never).
//!
//! A distribution is shown only when at least [`MIN_CROWD`] enterprises rated the unit in
//! that campaign, so that no answer can be traced to one enterprise. A unit viewer sees only
//! published campaigns (the queries apply [`Audience::may_read`]); the 营商办 sees the others
//! too, marked 「未公布」.

use std::collections::BTreeMap;

use serde::Serialize;

use super::oversight::{self, UnitComments};
use super::{ServiceError, templates};
use crate::db::campaigns as campaign_rows;
use crate::db::units::{self, UnitRow};
use crate::db::{Conn, progress, results};
pub use crate::domain::Audience;
use crate::domain::{CampaignState, MIN_CROWD, SurveyTemplate};
use crate::report::model::PublicResults;

/// One answer level and how many chose it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelCount {
    pub label: String,
    pub count: usize,
    /// Share of those who answered the question (不了解 excluded), 0–100.
    pub percent: f64,
}

/// One question's answers in one campaign.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuestionDistribution {
    pub label: String,
    pub levels: Vec<LevelCount>,
    pub not_applicable: usize,
}

/// A campaign's answers about the unit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CampaignAnswers {
    pub period: String,
    /// False only for the 营商办, whose page marks the campaign 「未公布」.
    pub published: bool,
    pub respondents: usize,
    /// Empty when withheld (too few respondents) or the questionnaire cannot be read.
    pub questions: Vec<QuestionDistribution>,
    /// Why nothing is shown, if so.
    pub note: Option<String>,
}

/// The unit's published figures in one campaign.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendPoint {
    pub period: String,
    pub n: usize,
    pub score: String,
    pub interval: String,
    pub rank: String,
    pub p_bottom5: String,
    /// Figures of an aggregation not yet published (the 营商办's page only): 「未公布 · 预览」.
    pub preview: bool,
}

/// Everything the unit page shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitPage {
    pub unit: UnitRow,
    /// The units under it (offices, stations).
    pub below: Vec<UnitRow>,
    pub campaigns: Vec<CampaignAnswers>,
    pub trend: Vec<TrendPoint>,
    /// The unit's and those under it, where enough enterprises commented.
    pub comments: Vec<UnitComments>,
}

impl UnitPage {
    /// Whether a row of the trend is an unpublished preview (the 营商办's page only).
    pub fn has_preview(&self) -> bool {
        self.trend.iter().any(|t| t.preview)
    }
}

/// The page of unit `code`.
pub fn unit_page(
    conn: &mut Conn,
    code: &str,
    audience: Audience,
) -> Result<UnitPage, ServiceError> {
    let unit = units::by_code(conn, code)?
        .ok_or_else(|| ServiceError::NotFound(format!("没有编码为 {code} 的单位")))?;
    let overview = oversight::unit_overview(conn, code, audience)?;
    let below = overview
        .units
        .into_iter()
        .filter(|u| u.code != unit.code)
        .collect();
    let campaigns = answers(conn, unit.id, audience)?;
    let trend = trend(conn, &unit.code, audience)?;
    Ok(UnitPage {
        unit,
        below,
        campaigns,
        trend,
        comments: overview.comments,
    })
}

fn answers(
    conn: &mut Conn,
    unit_id: i64,
    audience: Audience,
) -> Result<Vec<CampaignAnswers>, ServiceError> {
    let mut by_period: BTreeMap<String, (bool, String, Vec<String>)> = BTreeMap::new();
    for (period, state, toml, answers) in progress::unit_answers(conn, unit_id, audience)? {
        let published = state == CampaignState::Published.as_str();
        by_period
            .entry(period)
            .or_insert((published, toml, Vec::new()))
            .2
            .push(answers);
    }
    Ok(by_period
        .into_iter()
        .rev()
        .map(|(period, (published, toml, answers))| summarize(period, published, &toml, &answers))
        .collect())
}

fn summarize(period: String, published: bool, toml: &str, answers: &[String]) -> CampaignAnswers {
    let respondents = answers.len();
    let withheld = |note: String| CampaignAnswers {
        period: period.clone(),
        published,
        respondents,
        questions: Vec::new(),
        note: Some(note),
    };
    if respondents < MIN_CROWD {
        return withheld(format!(
            "评价企业不足 {MIN_CROWD} 家,为免答卷被追溯到企业,不显示分布"
        ));
    }
    let template = match templates::parse_stored(toml) {
        Ok(t) => t,
        Err(e) => return withheld(e.to_string()),
    };
    let parsed: Vec<BTreeMap<String, Option<u8>>> = answers
        .iter()
        .filter_map(|a| serde_json::from_str(a).ok())
        .collect();
    CampaignAnswers {
        questions: distributions(&template, &parsed),
        period,
        published,
        respondents,
        note: None,
    }
}

fn distributions(
    template: &SurveyTemplate,
    answers: &[BTreeMap<String, Option<u8>>],
) -> Vec<QuestionDistribution> {
    template
        .questions()
        .iter()
        .map(|q| {
            let mut counts: BTreeMap<u8, usize> = BTreeMap::new();
            let mut not_applicable = 0;
            for a in answers {
                match a.get(&q.id) {
                    Some(Some(v)) => *counts.entry(*v).or_default() += 1,
                    Some(None) => not_applicable += 1,
                    None => {}
                }
            }
            let answered: usize = counts.values().sum();
            QuestionDistribution {
                label: q.label_zh.clone(),
                levels: template
                    .levels()
                    .iter()
                    .map(|l| {
                        let count = counts.get(&l.value).copied().unwrap_or(0);
                        LevelCount {
                            label: l.label_zh.clone(),
                            count,
                            percent: if answered == 0 {
                                0.0
                            } else {
                                count as f64 * 100.0 / answered as f64
                            },
                        }
                    })
                    .collect(),
                not_applicable,
            }
        })
        .collect()
}

/// The unit's figures in each campaign's current publication, oldest first; for the 营商办,
/// also those of closed campaigns aggregated but not yet published, marked as a preview.
fn trend(conn: &mut Conn, code: &str, audience: Audience) -> Result<Vec<TrendPoint>, ServiceError> {
    let mut points = Vec::new();
    if audience == Audience::Admin {
        for (period, groups) in super::publication::unpublished_groups(conn)? {
            if let Some(u) = groups
                .iter()
                .flat_map(|g| &g.units)
                .find(|u| u.code == code)
            {
                points.push(point(period, u, true));
            }
        }
    }
    for row in campaign_rows::all(conn)? {
        let Some(publication) = results::current_publication(conn, row.id)? else {
            continue;
        };
        let results: PublicResults = match serde_json::from_str(&publication.results_json) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(period = %row.period, error = %e, "公布结果无法读取,趋势中略去");
                continue;
            }
        };
        let found = results
            .peer_groups
            .iter()
            .flat_map(|g| g.units.iter())
            .find(|u| u.code == code);
        if let Some(u) = found {
            points.push(point(row.period.clone(), u, false));
        }
    }
    points.sort_by(|a, b| a.period.cmp(&b.period));
    Ok(points)
}

fn point(period: String, u: &crate::report::model::PublicUnit, preview: bool) -> TrendPoint {
    TrendPoint {
        period,
        n: u.n,
        score: u.score_text(),
        interval: u.interval_text(),
        rank: u.rank.map_or("—".into(), |r| r.to_string()),
        p_bottom5: u.p_bottom5_text(),
        preview,
    }
}
