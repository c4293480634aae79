//! What inspectors and unit viewers may read. Every inspector read (flags, a unit's or a person's
//! history, a search; from a page, the API or the CLI) writes an audit row in the same
//! transaction; a unit viewer sees one unit and those under it, and its comments only where at
//! least [`MIN_CROWD`] enterprises commented, so that no comment can be traced to a rater.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::json;

use super::history::{self, PersonHistory, SearchResults, UnitHistory};
use super::{Actor, ServiceError, audit};
use crate::db::oversight as rows;
use crate::db::units::{self, UnitRow};
use crate::db::{Conn, write_transaction};
use crate::domain::{Audience, CampaignState, MIN_CROWD, Period};

/// One flag in the shape of docs/interface.md §4.3 (`GET /api/v1/flags`, `qiping flags --json`): the flags of
/// each period's current publication, as `campaign publish` stored them.
pub type FlagView = crate::report::model::InspectorFlag;

/// Which flags an inspector asks for; `None` keeps every value.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FlagFilter {
    pub period: Option<Period>,
    pub peer_group: Option<String>,
    /// `Some(true)`: credible flags only; `Some(false)`: uncertain ones only.
    pub credible: Option<bool>,
}

impl FlagFilter {
    /// Whether `flag` passes the peer-group and credibility filters (the period is applied when
    /// the publications are read).
    pub fn keeps(&self, flag: &FlagView) -> bool {
        self.peer_group
            .as_deref()
            .is_none_or(|g| flag.peer_group == g)
            && self.credible.is_none_or(|c| flag.credible == c)
    }
}

/// Where an inspector's read came from, written into its audit row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Page,
    Api,
    Cli,
}

/// One period's flags (or every period's), audited as an API read: the period-only form of
/// [`read_flags_filtered`], kept for callers that filter by nothing else.
pub fn read_flags(
    conn: &mut Conn,
    actor: &Actor,
    period: Option<&str>,
) -> Result<Vec<FlagView>, ServiceError> {
    let filter = FlagFilter {
        period: period.map(str::parse).transpose()?,
        ..FlagFilter::default()
    };
    read_flags_filtered(conn, actor, Channel::Api, &filter)
}

/// The flags that pass `filter`, credible ones first, with the read written to the audit log in
/// the same transaction (action `inspect.flags`, target `flags:PERIOD` or `flags:*`).
pub fn read_flags_filtered(
    conn: &mut Conn,
    actor: &Actor,
    via: Channel,
    filter: &FlagFilter,
) -> Result<Vec<FlagView>, ServiceError> {
    let target = format!(
        "flags:{}",
        filter
            .period
            .map_or_else(|| "*".to_owned(), |p| p.to_string())
    );
    audited(
        conn,
        actor,
        via,
        "inspect.flags",
        &target,
        |conn| {
            let mut flags: Vec<FlagView> =
                crate::service::publication::inspector_flags(conn, filter.period.as_ref())?
                    .into_iter()
                    .filter(|f| filter.keeps(f))
                    .collect();
            // Stable: within each credibility the stored order (period, then unit code) stays.
            flags.sort_by_key(|f| !f.credible);
            Ok(flags)
        },
        |flags| {
            json!({
                "peer_group": filter.peer_group,
                "credible": filter.credible,
                "count": flags.len(),
            })
        },
    )
}

/// Runs `read` and writes an audit row for it in the same transaction, also when the thing
/// asked for does not exist (a probe is recorded too; the error is returned after the commit).
fn audited<T>(
    conn: &mut Conn,
    actor: &Actor,
    via: Channel,
    action: &str,
    target: &str,
    read: impl FnOnce(&mut Conn) -> Result<T, ServiceError>,
    summary: impl FnOnce(&T) -> serde_json::Value,
) -> Result<T, ServiceError> {
    let outcome = write_transaction(conn, |conn| {
        let outcome = match read(conn) {
            Ok(value) => Ok(value),
            Err(ServiceError::NotFound(message)) => Err(message),
            Err(other) => return Err(other),
        };
        let mut detail = match &outcome {
            Ok(value) => summary(value),
            Err(_) => json!({"found": false}),
        };
        detail["via"] = json!(via);
        audit::record(conn, actor, action, target, detail)?;
        Ok(outcome)
    })?;
    outcome.map_err(ServiceError::NotFound)
}

/// A unit's full history, audited (action `inspect.unit_history`, target `unit:CODE`).
pub fn read_unit_history(
    conn: &mut Conn,
    actor: &Actor,
    via: Channel,
    code: &str,
) -> Result<UnitHistory, ServiceError> {
    let code = code.trim();
    audited(
        conn,
        actor,
        via,
        "inspect.unit_history",
        &format!("unit:{code}"),
        |conn| history::unit_history(conn, code),
        |h| json!({"campaigns": h.campaigns.len()}),
    )
}

/// A person's history, audited (action `inspect.person_history`, target `person:NAME`).
pub fn read_person_history(
    conn: &mut Conn,
    actor: &Actor,
    via: Channel,
    name: &str,
) -> Result<PersonHistory, ServiceError> {
    let name = name.trim();
    audited(
        conn,
        actor,
        via,
        "inspect.person_history",
        &format!("person:{name}"),
        |conn| history::person_history(conn, name),
        |h| json!({"terms": h.terms.len()}),
    )
}

/// The search box, audited (action `inspect.search`, target `search:QUERY`).
pub fn search(
    conn: &mut Conn,
    actor: &Actor,
    via: Channel,
    query: &str,
) -> Result<SearchResults, ServiceError> {
    let query = query.trim();
    audited(
        conn,
        actor,
        via,
        "inspect.search",
        &format!("search:{query}"),
        |conn| history::search(conn, query),
        |r| json!({"units": r.units.len(), "people": r.people.len()}),
    )
}

/// What a unit viewer's home shows: its units, and comments where enough enterprises commented.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitOverview {
    pub units: Vec<UnitRow>,
    pub comments: Vec<UnitComments>,
}

/// The comments on one unit in one campaign, sorted by text so their order says nothing about
/// when they were written.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitComments {
    pub period: String,
    /// False only for the 营商办, whose pages mark such comments 「未公布」.
    pub published: bool,
    pub unit_code: String,
    pub comments: Vec<String>,
}

/// The unit `code` and every unit under it (children, their children, …).
pub fn unit_scope(conn: &mut Conn, code: &str) -> Result<Vec<UnitRow>, ServiceError> {
    let all = units::all(conn)?;
    let mut inside: BTreeSet<String> = BTreeSet::from([code.to_owned()]);
    // Walk down level by level; a cycle in parent codes cannot loop, the set only grows.
    loop {
        let before = inside.len();
        for unit in &all {
            if unit
                .parent_code
                .as_ref()
                .is_some_and(|p| inside.contains(p))
            {
                inside.insert(unit.code.clone());
            }
        }
        if inside.len() == before {
            break;
        }
    }
    Ok(all
        .into_iter()
        .filter(|u| inside.contains(&u.code))
        .collect())
}

/// The overview of the unit `code` and those under it, with the comments of the campaigns
/// `audience` may read (a unit viewer: published ones only).
pub fn unit_overview(
    conn: &mut Conn,
    code: &str,
    audience: Audience,
) -> Result<UnitOverview, ServiceError> {
    let units = unit_scope(conn, code)?;
    let ids: Vec<i64> = units.iter().map(|u| u.id).collect();
    let code_of: BTreeMap<i64, &str> = units.iter().map(|u| (u.id, u.code.as_str())).collect();
    // A rating is one enterprise's: each comment on a unit in a campaign is one commenter.
    let mut grouped: BTreeMap<(String, i64), (bool, Vec<String>)> = BTreeMap::new();
    for c in rows::comments(conn, &ids, audience)? {
        let entry = grouped.entry((c.period, c.unit_id)).or_default();
        entry.0 = c.state == CampaignState::Published.as_str();
        entry.1.push(c.comment);
    }
    let comments = grouped
        .into_iter()
        .filter(|(_, (_, comments))| comments.len() >= MIN_CROWD)
        .map(|((period, unit_id), (published, mut comments))| {
            comments.sort();
            UnitComments {
                period,
                published,
                unit_code: code_of
                    .get(&unit_id)
                    .copied()
                    .unwrap_or_default()
                    .to_owned(),
                comments,
            }
        })
        .collect();
    Ok(UnitOverview { units, comments })
}
