//! What inspectors and unit viewers may read. Inspectors' reads are audited in the same
//! transaction; a unit viewer sees one unit and those under it, and its comments only where at
//! least [`MIN_COMMENTERS`] enterprises commented, so that no comment can be traced to a rater.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::json;

use super::{ServiceError, audit};
use crate::db::oversight as rows;
use crate::db::units::{self, UnitRow};
use crate::db::{Conn, write_transaction};

/// Fewest distinct enterprises that must have commented on a unit in a campaign before its
/// viewer sees the comments.
pub const MIN_COMMENTERS: usize = 5;

/// One flag in INTERFACE.md's shape (`GET /api/v1/flags`, `qiping flags --json`): the flags of
/// each period's current publication, as `campaign publish` stored them.
pub type FlagView = crate::report::model::InspectorFlag;

/// The flags an inspector asked for, with the read written to the audit log.
pub fn read_flags(
    conn: &mut Conn,
    actor: &str,
    period: Option<&str>,
) -> Result<Vec<FlagView>, ServiceError> {
    write_transaction(conn, |conn| {
        let period = period
            .map(|p| p.parse::<crate::domain::Period>())
            .transpose()?;
        let flags = crate::service::publication::inspector_flags(conn, period.as_ref())?;
        audit::record(
            conn,
            actor,
            "inspect.flags",
            &format!(
                "flags:{}",
                period.map_or_else(|| "*".to_owned(), |p| p.to_string())
            ),
            json!({"count": flags.len()}),
        )?;
        Ok(flags)
    })
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

/// A unit viewer's overview of the unit `code` and those under it.
pub fn unit_overview(conn: &mut Conn, code: &str) -> Result<UnitOverview, ServiceError> {
    let units = unit_scope(conn, code)?;
    let ids: Vec<i64> = units.iter().map(|u| u.id).collect();
    let code_of: BTreeMap<i64, &str> = units.iter().map(|u| (u.id, u.code.as_str())).collect();
    let mut grouped: BTreeMap<(String, i64), (BTreeSet<i64>, Vec<String>)> = BTreeMap::new();
    for c in rows::comments(conn, &ids)? {
        let entry = grouped.entry((c.period, c.unit_id)).or_default();
        entry.0.insert(c.response_id);
        entry.1.push(c.comment);
    }
    let comments = grouped
        .into_iter()
        .filter(|(_, (commenters, _))| commenters.len() >= MIN_COMMENTERS)
        .map(|((period, unit_id), (_, mut comments))| {
            comments.sort();
            UnitComments {
                period,
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
