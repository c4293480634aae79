//! `qiping purge`: deletes personal data past `[retention] personal_data_days` and keeps
//! everything aggregated. "Past" is measured from the last time the data was needed:
//!
//! - an enterprise's contact (email): from the later of the close of the last campaign it was
//!   invited to and the last change of its registry row (an import that changes it restarts the
//!   clock); the enterprise's USCC, name and strata stay, as the registry and the statistics need
//!   them;
//! - a problem's named reporter (name and contact): from the problem's last change (a closed
//!   problem stops changing, so this is its closure); the problem and its history stay.
//!
//! The purge and its counts are written to the audit log in the same transaction.

use std::collections::HashSet;

use chrono::Duration;
use serde::Serialize;
use serde_json::json;

use super::{Actor, ServiceError, audit};
use crate::db::{Conn, now, purge as rows, write_transaction};
use crate::domain::time;

/// What a purge deleted (or, in a dry run, would delete).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PurgeReport {
    pub dry_run: bool,
    pub retention_days: i64,
    pub enterprise_contacts: usize,
    pub problem_reporters: usize,
}

/// Runs the purge; with `dry_run` nothing changes and nothing is audited.
pub fn purge(
    conn: &mut Conn,
    actor: &Actor,
    retention_days: i64,
    dry_run: bool,
) -> Result<PurgeReport, ServiceError> {
    if retention_days < 1 {
        return Err(ServiceError::Internal(
            "配置项 retention.personal_data_days 须为正整数".into(),
        ));
    }
    let cutoff = now() - Duration::days(retention_days);
    let cutoff_day = time::local_day(cutoff);
    write_transaction(conn, |conn| {
        let in_use: HashSet<i64> = rows::enterprises_invited_since(conn, cutoff_day)?
            .into_iter()
            .collect();
        let stale: Vec<i64> = rows::enterprises_with_contact_unchanged_since(conn, cutoff)?
            .into_iter()
            .filter(|id| !in_use.contains(id))
            .collect();
        let mut report = PurgeReport {
            dry_run,
            retention_days,
            enterprise_contacts: stale.len(),
            problem_reporters: usize::try_from(rows::count_named_problems_before(conn, cutoff)?)
                .unwrap_or_default(),
        };
        if dry_run {
            return Ok(report);
        }
        report.enterprise_contacts = rows::clear_enterprise_contacts(conn, &stale)?;
        report.problem_reporters = rows::clear_problem_reporters(conn, cutoff)?;
        audit::record(
            conn,
            actor,
            "purge",
            "personal_data",
            json!({
                "retention_days": retention_days,
                "cutoff": cutoff,
                "enterprise_contacts": report.enterprise_contacts,
                "problem_reporters": report.problem_reporters,
            }),
        )?;
        Ok(report)
    })
}
