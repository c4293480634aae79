//! The inspectors' histories: a unit's every published campaign along its lineage, and a person's
//! terms at the head of units with those units' results during each term. Everything is read
//! from the current version of each publication (never from an unpublished aggregation or a
//! superseded version). These functions only read; `oversight` wraps them with the audit row.
//!
//! Heads are recorded by name only (`unit_heads` has no person id), so a person is looked up by
//! exact name and every term under that name is shown, each with its unit: two people of the same
//! name appear together and the unit tells them apart.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::ServiceError;
use super::publication::{HeadView, PublicFlag, PublicResults, heads_during};
use crate::db::Conn;
use crate::db::campaigns as campaign_rows;
use crate::db::results;
use crate::db::units::{self as unit_rows, UnitRow};
use crate::domain::Period;

/// A unit named in a history or a search.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitRef {
    pub code: String,
    pub name: String,
    pub kind: String,
}

impl UnitRef {
    fn of(row: &UnitRow) -> UnitRef {
        UnitRef {
            code: row.code.clone(),
            name: row.name.clone(),
            kind: row.kind.clone(),
        }
    }
}

/// One unit's published figures in one campaign (the publication's current version), with the
/// heads whose terms overlap that half-year (the one in office on its last day first).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CampaignFigures {
    pub period: String,
    pub version: i32,
    /// The unit rated then: a predecessor's code when the history follows lineage.
    pub unit_code: String,
    pub unit_name: String,
    pub peer_group: String,
    /// How many units of the peer group were ranked (rank `rank` of `ranked`).
    pub ranked: usize,
    pub n: usize,
    pub response_rate: Option<f64>,
    pub score: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub rank: Option<u32>,
    pub rank_low: Option<u32>,
    pub rank_high: Option<u32>,
    pub p_bottom5: Option<f64>,
    pub eligible: bool,
    pub suppressed: bool,
    /// The accountability flag this publication raised on the unit, if any.
    pub flag: Option<PublicFlag>,
    pub heads: Vec<HeadView>,
}

/// A unit's full history (`/inspect/units/{code}`, `qiping history unit CODE`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitHistory {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub peer_group: String,
    pub parent_code: Option<String>,
    /// The units this one replaced (`predecessor_code`, followed), nearest first.
    pub predecessors: Vec<UnitRef>,
    /// The units that replaced this one.
    pub successors: Vec<UnitRef>,
    /// The unit's own head terms, oldest first.
    pub heads: Vec<HeadView>,
    /// Every published campaign of the unit and its predecessors, oldest first.
    pub campaigns: Vec<CampaignFigures>,
}

/// One term of a person at the head of a unit, with that unit's results in the half-years the
/// term overlaps.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersonTerm {
    pub unit: UnitRef,
    pub from: chrono::NaiveDate,
    pub to: Option<chrono::NaiveDate>,
    pub campaigns: Vec<CampaignFigures>,
}

/// A person's history (`/inspect/people/{name}`, `qiping history person NAME`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersonHistory {
    pub name: String,
    /// Every term recorded under this name, oldest first.
    pub terms: Vec<PersonTerm>,
}

/// A head found by a search: the name and the units headed under it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersonRef {
    pub name: String,
    pub units: Vec<UnitRef>,
}

/// What the inspectors' search box finds.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SearchResults {
    pub query: String,
    pub units: Vec<UnitRef>,
    pub people: Vec<PersonRef>,
}

/// Most units and people a search lists.
pub const SEARCH_LIMIT: usize = 50;

/// The current publication of every published campaign, oldest first.
fn published(conn: &mut Conn) -> Result<Vec<(Period, PublicResults)>, ServiceError> {
    let mut out = Vec::new();
    for row in campaign_rows::all(conn)? {
        let Some(publication) = results::current_publication(conn, row.id)? else {
            continue;
        };
        let period: Period = row.period.parse()?;
        let results = serde_json::from_str(&publication.results_json).map_err(|e| {
            ServiceError::internal(&format!("{} 存储的公布结果无法读取", row.period), e)
        })?;
        out.push((period, results));
    }
    Ok(out)
}

/// The figures of `code` in one publication, if it was rated there.
fn figures_in(
    conn: &mut Conn,
    period: &Period,
    results: &PublicResults,
    code: &str,
    unit_id: Option<i64>,
) -> Result<Option<CampaignFigures>, ServiceError> {
    for group in &results.peer_groups {
        let Some(u) = group.units.iter().find(|u| u.code == code) else {
            continue;
        };
        let heads = match unit_id {
            Some(id) => heads_during(conn, id, period.start_date(), period.end_date())?,
            None => Vec::new(),
        };
        return Ok(Some(CampaignFigures {
            period: results.period.clone(),
            version: results.version,
            unit_code: u.code.clone(),
            unit_name: u.name.clone(),
            peer_group: group.name.clone(),
            ranked: group.units.iter().filter(|x| x.rank.is_some()).count(),
            n: u.n,
            response_rate: u.response_rate,
            score: u.score,
            ci_low: u.ci_low,
            ci_high: u.ci_high,
            rank: u.rank,
            rank_low: u.rank_low,
            rank_high: u.rank_high,
            p_bottom5: u.p_bottom5,
            eligible: u.eligible,
            suppressed: u.suppressed,
            flag: results.flags.iter().find(|f| f.unit_code == code).cloned(),
            heads,
        }));
    }
    Ok(None)
}

/// The head terms of a unit as views, oldest first.
fn terms_of(conn: &mut Conn, unit_id: i64) -> Result<Vec<HeadView>, ServiceError> {
    Ok(unit_rows::head_terms(conn, unit_id)?
        .into_iter()
        .map(|t| HeadView {
            name: t.name,
            from: t.from_date,
            to: t.to_date,
        })
        .collect())
}

/// The full history of the unit `code`, following `predecessor_code` back (a cycle in the
/// registry stops the walk instead of looping). `NotFound` for an unknown code.
pub fn unit_history(conn: &mut Conn, code: &str) -> Result<UnitHistory, ServiceError> {
    let registry = unit_rows::all(conn)?;
    let by_code: HashMap<&str, &UnitRow> = registry.iter().map(|u| (u.code.as_str(), u)).collect();
    let unit = *by_code
        .get(code)
        .ok_or_else(|| ServiceError::NotFound(format!("没有编码为 {code} 的单位")))?;
    let mut predecessors = Vec::new();
    let mut seen = HashSet::from([unit.code.as_str()]);
    let mut next = unit.predecessor_code.as_deref();
    while let Some(code) = next {
        if !seen.insert(code) {
            break;
        }
        match by_code.get(code) {
            Some(row) => {
                predecessors.push(UnitRef::of(row));
                next = row.predecessor_code.as_deref();
            }
            None => break,
        }
    }
    let successors = registry
        .iter()
        .filter(|u| u.predecessor_code.as_deref() == Some(code))
        .map(UnitRef::of)
        .collect();
    let lineage: Vec<&str> = std::iter::once(unit.code.as_str())
        .chain(predecessors.iter().map(|p| p.code.as_str()))
        .collect();
    let mut campaigns = Vec::new();
    for (period, results) in published(conn)? {
        for code in &lineage {
            let id = by_code.get(code).map(|u| u.id);
            if let Some(figures) = figures_in(conn, &period, &results, code, id)? {
                campaigns.push(figures);
            }
        }
    }
    Ok(UnitHistory {
        code: unit.code.clone(),
        name: unit.name.clone(),
        kind: unit.kind.clone(),
        peer_group: unit.peer_group.clone(),
        parent_code: unit.parent_code.clone(),
        predecessors,
        successors,
        heads: terms_of(conn, unit.id)?,
        campaigns,
    })
}

/// Every term recorded under `name` (exact, after trimming) with the unit's published results
/// in each half-year the term overlaps. `NotFound` when no head of that name is recorded.
pub fn person_history(conn: &mut Conn, name: &str) -> Result<PersonHistory, ServiceError> {
    let name = name.trim();
    let rows = unit_rows::head_terms_named(conn, name)?;
    if rows.is_empty() {
        return Err(ServiceError::NotFound(format!(
            "没有名为「{name}」的负责人任职记录"
        )));
    }
    let registry = unit_rows::all(conn)?;
    let by_id: HashMap<i64, &UnitRow> = registry.iter().map(|u| (u.id, u)).collect();
    let published = published(conn)?;
    let mut terms = Vec::new();
    for term in rows {
        let Some(unit) = by_id.get(&term.unit_id) else {
            continue;
        };
        let mut campaigns = Vec::new();
        for (period, results) in &published {
            let overlaps = term.from_date <= period.end_date()
                && term.to_date.is_none_or(|to| to >= period.start_date());
            if !overlaps {
                continue;
            }
            if let Some(figures) = figures_in(conn, period, results, &unit.code, Some(unit.id))? {
                campaigns.push(figures);
            }
        }
        terms.push(PersonTerm {
            unit: UnitRef::of(unit),
            from: term.from_date,
            to: term.to_date,
            campaigns,
        });
    }
    Ok(PersonHistory {
        name: name.to_owned(),
        terms,
    })
}

/// Units whose code or name contains `query`, and heads whose name contains it (case-insensitive
/// for Latin letters), at most [`SEARCH_LIMIT`] of each.
pub fn search(conn: &mut Conn, query: &str) -> Result<SearchResults, ServiceError> {
    let query = query.trim();
    if query.is_empty() {
        return Ok(SearchResults::default());
    }
    let needle = query.to_lowercase();
    let registry = unit_rows::all(conn)?;
    let units = registry
        .iter()
        .filter(|u| {
            u.code.to_lowercase().contains(&needle) || u.name.to_lowercase().contains(&needle)
        })
        .take(SEARCH_LIMIT)
        .map(UnitRef::of)
        .collect();
    let by_id: HashMap<i64, &UnitRow> = registry.iter().map(|u| (u.id, u)).collect();
    let mut people: Vec<PersonRef> = Vec::new();
    for term in unit_rows::all_head_terms(conn)? {
        if !term.name.to_lowercase().contains(&needle) {
            continue;
        }
        let Some(unit) = by_id.get(&term.unit_id) else {
            continue;
        };
        let index = match people.iter().position(|p| p.name == term.name) {
            Some(i) => i,
            None => {
                people.push(PersonRef {
                    name: term.name.clone(),
                    units: Vec::new(),
                });
                people.len() - 1
            }
        };
        if !people[index].units.iter().any(|u| u.code == unit.code) {
            people[index].units.push(UnitRef::of(unit));
        }
    }
    people.sort_by(|a, b| a.name.cmp(&b.name));
    people.truncate(SEARCH_LIMIT);
    Ok(SearchResults {
        query: query.to_owned(),
        units,
        people,
    })
}

/// The periods that have a publication, oldest first (for the filter form).
pub fn published_periods(conn: &mut Conn) -> Result<Vec<String>, ServiceError> {
    let mut periods = Vec::new();
    for row in campaign_rows::all(conn)? {
        if results::current_publication(conn, row.id)?.is_some() {
            periods.push(row.period);
        }
    }
    Ok(periods)
}

/// The figures as the inspectors' pages and the CLI print them: one decimal, "—" where a figure
/// is withheld.
impl CampaignFigures {
    pub fn score_text(&self) -> String {
        self.score.map_or("—".into(), |v| format!("{v:.1}"))
    }

    pub fn interval_text(&self) -> String {
        match (self.ci_low, self.ci_high) {
            (Some(l), Some(h)) => format!("{l:.1}–{h:.1}"),
            _ => "—".into(),
        }
    }

    /// `8 / 12`: the rank among the ranked units of the peer group.
    pub fn rank_text(&self) -> String {
        self.rank
            .map_or("—".into(), |r| format!("{r} / {}", self.ranked))
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

    pub fn response_rate_text(&self) -> String {
        self.response_rate
            .map_or("—".into(), |r| format!("{:.1}%", r * 100.0))
    }

    /// 问责提示(可信)/(存疑), or nothing.
    pub fn flag_text(&self) -> &'static str {
        match &self.flag {
            Some(f) if f.credible => "问责提示(可信)",
            Some(_) => "问责提示(存疑)",
            None => "",
        }
    }

    /// Why a figure is missing, or nothing when the unit was ranked.
    pub fn status_text(&self) -> &'static str {
        if self.suppressed {
            "样本不足,不公布"
        } else if !self.eligible {
            "样本较少,不参与排名"
        } else {
            ""
        }
    }
}
