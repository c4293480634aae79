//! `qiping problems bulletin 2026Q3`: the quarter's figures and its typical cases — problems that
//! needed 一次督办 or 二次督办, or went to the inspectors, with a step in the quarter — written to
//! `reports/problems/QUARTER/` like a campaign's report.

use std::path::{Path, PathBuf};

use crate::db::problems::{self as rows, EventRow};
use crate::db::{Conn, now};
use crate::domain::Quarter;
use crate::domain::problem::{Channel, Outcome, ProblemState, Stage};
use crate::domain::time;
use crate::report::problems::{
    BulletinCase, BulletinSummary, CaseStep, ProblemBulletin, write_bulletin,
};
use crate::service::ServiceError;

use super::views::action_label;

/// The bulletin of one quarter, from the step log.
pub fn build(conn: &mut Conn, quarter: Quarter) -> Result<ProblemBulletin, ServiceError> {
    let start = time::start_of_local_day(quarter.first_day()).unwrap_or_default();
    let end = quarter
        .last_day()
        .succ_opt()
        .and_then(time::start_of_local_day)
        .unwrap_or_default();
    let events = rows::events_between(conn, start, end)?;
    let summary = summarise(&events);
    let mut ids: Vec<i64> = events
        .iter()
        .filter(|e| e.stage >= Stage::First.as_i32() || e.state == "escalated")
        .map(|e| e.problem_id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let mut cases = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(case) = case(conn, id, end)? {
            cases.push(case);
        }
    }
    // Escalated first, then the deeper supervision, then by number.
    cases.sort_by_key(|(severity, c)| (std::cmp::Reverse(*severity), c.id));
    Ok(ProblemBulletin {
        quarter: quarter.to_string(),
        label: quarter.label(),
        first_day: quarter.first_day().to_string(),
        last_day: quarter.last_day().to_string(),
        generated_at: time::show(now()),
        summary,
        cases: cases.into_iter().map(|(_, c)| c).collect(),
    })
}

fn summarise(events: &[EventRow]) -> BulletinSummary {
    let mut s = BulletinSummary::default();
    for e in events {
        match (e.action.as_str(), e.state.as_str(), e.stage) {
            ("register", _, _) => s.registered += 1,
            ("assign", _, _) => s.assigned += 1,
            ("answer", _, _) => s.answered += 1,
            ("confirm_resolved", _, _) => s.closed_resolved += 1,
            ("confirmation_lapsed", _, _) => s.closed_no_reply += 1,
            (_, "escalated", _) => s.escalated += 1,
            ("overdue" | "confirm_unresolved", "assigned", 1) => s.first_supervisions += 1,
            ("overdue" | "confirm_unresolved", "assigned", 2) => s.second_supervisions += 1,
            _ => {}
        }
    }
    s
}

/// A case as it stood at the end of the quarter; `None` if the problem is gone.
fn case(
    conn: &mut Conn,
    id: i64,
    end: chrono::NaiveDateTime,
) -> Result<Option<(i32, BulletinCase)>, ServiceError> {
    let Some(row) = rows::by_id(conn, id)? else {
        return Ok(None);
    };
    let steps: Vec<EventRow> = rows::events_of(conn, id)?
        .into_iter()
        .filter(|e| e.at < end)
        .collect();
    let Some(last) = steps.last() else {
        return Ok(None);
    };
    let state: ProblemState = last.state.parse().unwrap_or(ProblemState::Assigned);
    let stage = Stage::from_i32(last.stage).unwrap_or(Stage::Handling);
    let severity = if state == ProblemState::Escalated {
        3
    } else {
        stage.as_i32()
    };
    let unit = match row.unit_id {
        Some(u) => rows::unit_of(conn, u)?,
        None => None,
    };
    let (unit_code, unit_name) = unit.unwrap_or_default();
    let outcome = if state == ProblemState::Closed {
        row.outcome
            .as_deref()
            .and_then(Outcome::parse)
            .map(|o| o.label().to_owned())
            .unwrap_or_default()
    } else {
        String::new()
    };
    // The answer as of the quarter's end: the latest logged one.
    let answer = steps
        .iter()
        .rev()
        .find(|e| e.action == "answer")
        .and_then(|e| e.note.clone())
        .unwrap_or_default();
    Ok(Some((
        severity,
        BulletinCase {
            id,
            unit_code,
            unit_name,
            channel: row
                .channel
                .parse::<Channel>()
                .map(|c| c.label().to_owned())
                .unwrap_or_else(|_| row.channel.clone()),
            registered_on: time::local_day(row.created_at).to_string(),
            stage: stage.label().to_owned(),
            state: state.label().to_owned(),
            outcome,
            description: row.description,
            answer,
            steps: steps
                .iter()
                .map(|e| CaseStep {
                    day: time::local_day(e.at).to_string(),
                    label: step_label(e),
                    deadline: e.deadline.map(|d| d.to_string()),
                })
                .collect(),
        },
    )))
}

fn step_label(e: &EventRow) -> String {
    match (
        e.action.as_str(),
        Stage::from_i32(e.stage),
        e.state.as_str(),
    ) {
        (_, _, "escalated") => "移交纪委监委问责".to_owned(),
        ("overdue" | "confirm_unresolved", Ok(stage), _) => {
            format!("{},转入{}", action_label(&e.action), stage.label())
        }
        (action, _, _) => action_label(action).to_owned(),
    }
}

/// Builds the bulletin and writes it; returns the folder.
pub fn write(
    conn: &mut Conn,
    reports_dir: &Path,
    quarter: Quarter,
) -> Result<(PathBuf, ProblemBulletin), ServiceError> {
    let bulletin = build(conn, quarter)?;
    let dir = write_bulletin(reports_dir, &bulletin)
        .map_err(|e| ServiceError::internal("通报文件写入失败", e))?;
    Ok((dir, bulletin))
}
