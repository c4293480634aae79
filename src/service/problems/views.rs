//! What the pages and `qiping problems list` show: the 营商办's whole list (overdue first), a unit
//! viewer's own problems, and the inspectors' escalated cases (every read audited).

use std::cmp::Reverse;

use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;
use serde_json::json;

use super::status_of;
use crate::db::problems::{self as rows, EventRow, ListedProblem};
use crate::db::{Conn, write_transaction};
use crate::domain::calendar::WorkCalendar;
use crate::domain::problem::{Channel, Outcome, ProblemState, Stage};
use crate::domain::time;
use crate::service::audit;
use crate::service::{Actor, ServiceError};

/// One problem as a list shows it. Contact fields are filled only for callers allowed to see them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProblemView {
    pub id: i64,
    pub unit_code: Option<String>,
    pub unit_name: Option<String>,
    pub channel: String,
    pub channel_label: String,
    pub state: String,
    pub state_label: String,
    pub stage: i32,
    pub stage_label: String,
    /// The unit's deadline (Beijing day), while one runs.
    pub deadline: Option<NaiveDate>,
    /// The enterprise's confirmation deadline, while it is asked.
    pub confirm_due: Option<NaiveDate>,
    /// A deadline has passed and the sweep has not yet moved the problem on.
    pub overdue: bool,
    /// Working days left until the deadline (negative: overdue by that many).
    pub working_days_left: Option<i64>,
    pub registered_at: String,
    pub description: String,
    pub answer: Option<String>,
    pub outcome: Option<String>,
    pub enterprise_name: Option<String>,
    pub reporter_name: Option<String>,
    pub reporter_phone: Option<String>,
    pub reporter_email: Option<String>,
    pub mail_status: Option<String>,
}

/// How much of the reporter a caller sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The 营商办 and the inspectors: everything.
    Full,
    /// The unit: the enterprise, the contact person and the phone (the reporter asked to be
    /// contacted, and the form says the unit receives these), not the email.
    Unit,
}

fn label_of<T, E>(parsed: Result<T, E>, label: impl Fn(T) -> &'static str, raw: &str) -> String {
    parsed.map(label).unwrap_or(raw).to_owned()
}

/// A list row as shown on `today`.
pub fn view(
    listed: ListedProblem,
    calendar: &WorkCalendar,
    today: NaiveDate,
    audience: Audience,
) -> ProblemView {
    let p = listed.problem;
    let status = status_of(&p).ok();
    let overdue = match status.map(|s| s.state) {
        Some(ProblemState::Assigned) => p.deadline.is_some_and(|d| d < today),
        Some(ProblemState::Answered) => p.confirm_due.is_some_and(|d| d < today),
        _ => false,
    };
    let working_days_left = match status.map(|s| s.state) {
        Some(ProblemState::Assigned) => p.deadline.map(|d| calendar.working_days_between(today, d)),
        _ => None,
    };
    let full = audience == Audience::Full;
    ProblemView {
        id: p.id,
        unit_code: listed.unit_code,
        unit_name: listed.unit_name,
        channel_label: label_of(p.channel.parse::<Channel>(), Channel::label, &p.channel),
        channel: p.channel,
        state_label: label_of(
            p.state.parse::<ProblemState>(),
            ProblemState::label,
            &p.state,
        ),
        state: p.state,
        stage: p.stage,
        stage_label: label_of(Stage::from_i32(p.stage), Stage::label, ""),
        deadline: p.deadline,
        confirm_due: p.confirm_due,
        overdue,
        working_days_left,
        registered_at: time::show(p.created_at),
        description: p.description,
        answer: p.answer,
        outcome: p.outcome.as_deref().map(|o| {
            Outcome::parse(o)
                .map(Outcome::label)
                .unwrap_or(o)
                .to_owned()
        }),
        enterprise_name: p.enterprise_name,
        reporter_name: p.reporter_name,
        reporter_phone: p.reporter_contact,
        reporter_email: if full { p.reporter_email } else { None },
        mail_status: if full { p.mail_status } else { None },
    }
}

/// Overdue first, then open problems by their nearest deadline, then registered ones, then the
/// closed and escalated, newest first.
fn order(views: &mut [ProblemView]) {
    let rank = |v: &ProblemView| match v.state.as_str() {
        _ if v.overdue => 0,
        "assigned" | "answered" => 1,
        "registered" => 2,
        _ => 3,
    };
    views.sort_by_key(|v| {
        (
            rank(v),
            v.deadline.or(v.confirm_due).unwrap_or(NaiveDate::MAX),
            Reverse(v.id),
        )
    });
}

/// Every problem (the 营商办), or only overdue ones; overdue first.
pub fn all(
    conn: &mut Conn,
    calendar: &WorkCalendar,
    at: NaiveDateTime,
    overdue_only: bool,
) -> Result<Vec<ProblemView>, ServiceError> {
    let today = time::local_day(at);
    let mut views: Vec<ProblemView> = rows::list(conn, None, None)?
        .into_iter()
        .map(|l| view(l, calendar, today, Audience::Full))
        .filter(|v| !overdue_only || v.overdue)
        .collect();
    order(&mut views);
    Ok(views)
}

/// The problems of some units (a unit viewer's scope), overdue first.
pub fn of_units(
    conn: &mut Conn,
    calendar: &WorkCalendar,
    unit_ids: &[i64],
    at: NaiveDateTime,
) -> Result<Vec<ProblemView>, ServiceError> {
    let today = time::local_day(at);
    let mut views: Vec<ProblemView> = rows::list(conn, Some(unit_ids), None)?
        .into_iter()
        .filter(|l| l.problem.state != ProblemState::Registered.as_str())
        .map(|l| view(l, calendar, today, Audience::Unit))
        .collect();
    order(&mut views);
    Ok(views)
}

/// The escalated problems, for the inspectors: the read is audited in the same transaction.
pub fn escalated(
    conn: &mut Conn,
    calendar: &WorkCalendar,
    actor: &Actor,
    at: NaiveDateTime,
) -> Result<Vec<ProblemView>, ServiceError> {
    let today = time::local_day(at);
    write_transaction(conn, |conn| {
        let views: Vec<ProblemView> =
            rows::list(conn, None, Some(&[ProblemState::Escalated.as_str()]))?
                .into_iter()
                .map(|l| view(l, calendar, today, Audience::Full))
                .collect();
        let ids: Vec<i64> = views.iter().map(|v| v.id).collect();
        audit::record(
            conn,
            actor,
            "inspect.problems",
            "problems:escalated",
            json!({ "problems": ids }),
        )?;
        Ok(views)
    })
}

/// One step as a page shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepView {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub action_label: &'static str,
    pub state_label: String,
    pub stage_label: String,
    pub deadline: Option<NaiveDate>,
    pub note: Option<String>,
}

/// The label of a logged step.
pub fn action_label(action: &str) -> &'static str {
    match action {
        "register" => "登记",
        "assign" => "交办",
        "answer" => "单位答复",
        "confirm_resolved" => "企业确认已解决",
        "confirm_unresolved" => "企业认为未解决",
        "overdue" => "逾期督办",
        "confirmation_lapsed" => "企业逾期未反馈",
        _ => "其他",
    }
}

pub fn step_view(e: EventRow) -> StepView {
    StepView {
        at: time::show(e.at),
        action_label: action_label(&e.action),
        state_label: label_of(
            e.state.parse::<ProblemState>(),
            ProblemState::label,
            &e.state,
        ),
        stage_label: label_of(Stage::from_i32(e.stage), Stage::label, ""),
        actor: e.actor,
        action: e.action,
        deadline: e.deadline,
        note: e.note,
    }
}

/// One problem with its steps (the 营商办's detail page and `problems show`).
pub fn one(
    conn: &mut Conn,
    calendar: &WorkCalendar,
    id: i64,
    at: NaiveDateTime,
) -> Result<(ProblemView, Vec<StepView>), ServiceError> {
    let row = rows::by_id(conn, id)?
        .ok_or_else(|| ServiceError::NotFound(format!("问题 {id} 不存在")))?;
    let unit = match row.unit_id {
        Some(u) => rows::unit_of(conn, u)?,
        None => None,
    };
    let (unit_code, unit_name) = unit.unzip();
    let listed = ListedProblem {
        problem: row,
        unit_code,
        unit_name,
    };
    let view = view(listed, calendar, time::local_day(at), Audience::Full);
    let steps = rows::events_of(conn, id)?
        .into_iter()
        .map(step_view)
        .collect();
    Ok((view, steps))
}
