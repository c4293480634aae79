//! The deadline sweep (`qiping problems sweep`, and daily inside `serve`): a problem whose unit
//! let the deadline pass goes to 一次督办, then 二次督办, each with a new deadline in working
//! days, then to the inspectors; an answer the enterprise did not confirm in time is closed as
//! 逾期未反馈. Each problem moves in its own transaction, guarded by the state it was read in, so
//! two sweeps at once (two `serve` processes) cannot move one problem twice.

use chrono::NaiveDateTime;
use serde::Serialize;

use super::{StepBy, Workflow, status_of, take_step};
use crate::db::problems as rows;
use crate::db::{Conn, write_transaction};
use crate::domain::problem::{ProblemState, ProblemStep, Stage};
use crate::domain::time;
use crate::service::tasks::one_item_on;
use crate::service::{Actor, ServiceError};

/// What one sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    /// The day the deadlines were read against (Beijing time).
    pub today: String,
    pub first_supervisions: usize,
    pub second_supervisions: usize,
    pub escalated: usize,
    pub closed_without_reply: usize,
    /// Problems that could not be moved (logged with the reason); the sweep went on without them.
    pub failed: usize,
    /// Set when the calendar has no holidays for this year: deadlines then count only weekends.
    pub calendar_warning: Option<String>,
}

/// Applies every deadline that ended before the Beijing day of `at`.
pub fn sweep(
    conn: &mut Conn,
    wf: &Workflow<'_>,
    actor: &Actor,
    at: NaiveDateTime,
) -> Result<SweepReport, ServiceError> {
    let today = time::local_day(at);
    let mut report = SweepReport {
        today: today.to_string(),
        ..SweepReport::default()
    };
    if !wf.calendar.knows_year(chrono::Datelike::year(&today)) {
        let warning = format!(
            "工作日历中没有 {} 年的节假日:期限只按周末计算,请在 qiping.toml 的 [calendar] 中补充",
            chrono::Datelike::year(&today)
        );
        report.calendar_warning = Some(warning);
    }
    for row in rows::due_before(conn, today)? {
        let id = row.id;
        // One problem whose stored data cannot be read (or whose step panics) fails alone, logged;
        // the others still move. Only a database out of reach stops the sweep.
        let outcome = one_item_on(conn, |conn| {
            write_transaction(conn, |conn| {
                // Read again inside the transaction: another sweep may have moved it meanwhile.
                let Some(row) = rows::by_id(conn, row.id)? else {
                    return Ok(None);
                };
                let status = status_of(&row)?;
                let step = match status.state {
                    ProblemState::Assigned if row.deadline.is_some_and(|d| d < today) => {
                        ProblemStep::Overdue
                    }
                    ProblemState::Answered if row.confirm_due.is_some_and(|d| d < today) => {
                        ProblemStep::ConfirmationLapsed
                    }
                    _ => return Ok(None),
                };
                let note = match step {
                    ProblemStep::Overdue => format!(
                        "{}期限 {} 已过",
                        status.stage.label(),
                        row.deadline.map(|d| d.to_string()).unwrap_or_default()
                    ),
                    _ => "企业逾期未反馈,视为办结".to_owned(),
                };
                let by = StepBy {
                    actor,
                    note: Some(&note),
                };
                take_step(conn, wf, &row, step, &by, at).map(Some)
            })
        })?;
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(reason) => {
                tracing::error!(problem = id, "逾期处理失败,已跳过: {reason}");
                report.failed += 1;
                continue;
            }
        };
        match outcome {
            Some(s) if s.state == ProblemState::Escalated => report.escalated += 1,
            Some(s) if s.state == ProblemState::Closed => report.closed_without_reply += 1,
            Some(s) if s.stage == Stage::First => report.first_supervisions += 1,
            Some(s) if s.stage == Stage::Second => report.second_supervisions += 1,
            _ => {}
        }
    }
    Ok(report)
}
