//! 问题清单 and its supervision: registering a problem (from the named form beside the survey, or
//! by the 营商办 from other channels), assigning it to a unit with a deadline in working days, the
//! unit's answer, the enterprise's verdict by a one-time link, and the deadline sweep that moves
//! overdue problems to 一次督办, 二次督办 and the inspectors. Every step is one transaction that
//! updates the problem (guarded by the state it was decided from), logs the step in
//! `problem_events` (when, by whom) and writes an audit row. Audit rows never hold the reporter's
//! name or contact: the log is permanent, personal data is purged.

pub mod bulletin;
pub mod confirm_mail;
mod register;
pub mod sweep;
pub mod task;
pub mod views;

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::json;

use super::audit;
use super::links::{LinkSecret, token_hash};
use super::{Actor, ServiceError};
use crate::config::Config;
use crate::db::problems::{self as rows, NewEvent, ProblemRow, StepChange};
use crate::db::{Conn, units, write_transaction};
use crate::domain::calendar::WorkCalendar;
use crate::domain::problem::{
    Outcome, ProblemSettings, ProblemState, ProblemStatus, ProblemStep, Stage, problem_text,
};
use crate::domain::time;

pub use register::{
    LinkedEnterprise, NewProblem, SurveyProblem, SurveyProblemError, register,
    register_from_survey, survey_link_enterprise, units_for_named_form,
};

/// The deadline rules: the working-day calendar and the settings.
#[derive(Debug, Clone, Copy)]
pub struct Workflow<'a> {
    pub calendar: &'a WorkCalendar,
    pub settings: &'a ProblemSettings,
}

impl<'a> Workflow<'a> {
    /// The rules of a configuration.
    pub fn of(config: &'a Config) -> Self {
        Self {
            calendar: &config.calendar,
            settings: &config.problems,
        }
    }

    /// The unit's deadline when a stage starts on `today`.
    pub fn deadline(&self, today: NaiveDate, stage: Stage) -> NaiveDate {
        self.calendar
            .add_working_days(today, self.settings.working_days(stage))
    }
}

/// The stored status of a row.
pub fn status_of(row: &ProblemRow) -> Result<ProblemStatus, ServiceError> {
    let invalid = |e: crate::domain::problem::UnknownProblemValue| {
        ServiceError::internal(&format!("问题 {} 存储的状态", row.id), e.0)
    };
    Ok(ProblemStatus {
        state: row.state.parse().map_err(invalid)?,
        stage: Stage::from_i32(row.stage).map_err(invalid)?,
    })
}

fn not_found(id: i64) -> ServiceError {
    ServiceError::NotFound(format!("问题 {id} 不存在"))
}

/// Who did a step and what they said.
pub struct StepBy<'a> {
    pub actor: &'a Actor,
    pub note: Option<&'a str>,
}

/// Applies `step` to a loaded problem inside the caller's transaction: the new state, stage and
/// deadlines, the step log and the audit row. Returns the new status.
fn take_step(
    conn: &mut Conn,
    wf: &Workflow<'_>,
    row: &ProblemRow,
    step: ProblemStep,
    by: &StepBy<'_>,
    at: NaiveDateTime,
) -> Result<ProblemStatus, ServiceError> {
    let from = status_of(row)?;
    let to = from
        .apply(step)
        .map_err(|e| ServiceError::Conflict(e.to_string()))?;
    let today = time::local_day(at);
    let (deadline, confirm_due) = match to.state {
        ProblemState::Assigned => (Some(wf.deadline(today, to.stage)), None),
        ProblemState::Answered => (
            row.deadline,
            Some(
                wf.calendar
                    .add_working_days(today, wf.settings.confirm_working_days),
            ),
        ),
        _ => (None, None),
    };
    let outcome = match (to.state, step) {
        (ProblemState::Closed, ProblemStep::ConfirmationLapsed) => Some(Outcome::NoReply.as_str()),
        (ProblemState::Closed, _) => Some(Outcome::Resolved.as_str()),
        _ => None,
    };
    let change = StepChange {
        state: to.state.as_str(),
        stage: to.stage.as_i32(),
        deadline,
        confirm_due,
        outcome,
        updated_at: at,
    };
    if !rows::apply_step(conn, row.id, &row.state, row.stage, &change)? {
        return Err(ServiceError::Conflict(format!(
            "问题 {} 刚被他人处理过,请刷新后再试",
            row.id
        )));
    }
    rows::insert_event(
        conn,
        &NewEvent {
            problem_id: row.id,
            at,
            actor: by.actor.as_str(),
            action: step.as_str(),
            state: to.state.as_str(),
            stage: to.stage.as_i32(),
            deadline,
            note: by.note,
        },
    )?;
    audit::record(
        conn,
        by.actor,
        &format!("problem.{}", step.as_str()),
        &format!("problem:{}", row.id),
        json!({
            "from": {"state": from.state.as_str(), "stage": from.stage.as_i32()},
            "to": {"state": to.state.as_str(), "stage": to.stage.as_i32()},
            "deadline": deadline.map(|d| d.to_string()),
        }),
    )?;
    if to.state != ProblemState::Answered {
        rows::clear_confirmation(conn, row.id)?;
    }
    Ok(to)
}

fn load(conn: &mut Conn, id: i64) -> Result<ProblemRow, ServiceError> {
    rows::by_id(conn, id)?.ok_or_else(|| not_found(id))
}

/// 交办: gives a registered problem to a unit (`unit_code`, or the unit the enterprise named)
/// with the normal deadline. Returns the deadline.
pub fn assign(
    conn: &mut Conn,
    wf: &Workflow<'_>,
    actor: &Actor,
    id: i64,
    unit_code: Option<&str>,
    at: NaiveDateTime,
) -> Result<NaiveDate, ServiceError> {
    write_transaction(conn, |conn| {
        let row = load(conn, id)?;
        let unit_id = match unit_code.map(str::trim).filter(|c| !c.is_empty()) {
            Some(code) => {
                units::by_code(conn, code)?
                    .ok_or_else(|| ServiceError::NotFound(format!("单位编码 {code} 不存在")))?
                    .id
            }
            None => row
                .unit_id
                .ok_or_else(|| ServiceError::Invalid("请指定责任单位(单位编码)".into()))?,
        };
        if Some(unit_id) != row.unit_id {
            rows::set_unit(conn, id, unit_id)?;
        }
        let by = StepBy { actor, note: None };
        take_step(conn, wf, &row, ProblemStep::Assign, &by, at)?;
        let row = load(conn, id)?;
        row.deadline
            .ok_or_else(|| ServiceError::Internal(format!("问题 {id} 交办后没有期限")))
    })
}

/// A unit's answer, and who gives it.
#[derive(Debug, Clone, Copy)]
pub struct Answer<'a> {
    pub actor: &'a Actor,
    /// The unit ids the caller may answer for (`None`: any, for the 营商办 and the CLI).
    pub scope: Option<&'a [i64]>,
    /// What the unit did.
    pub text: &'a str,
}

/// The unit's answer: what it did. A problem outside the caller's scope reads as not found. With
/// a reporter's email, a confirmation link is made (the previous one dies) and its email queued.
pub fn answer(
    conn: &mut Conn,
    wf: &Workflow<'_>,
    secret: &LinkSecret,
    id: i64,
    given: &Answer<'_>,
    at: NaiveDateTime,
) -> Result<ProblemStatus, ServiceError> {
    let (actor, scope) = (given.actor, given.scope);
    let text = problem_text("答复内容", given.text).map_err(ServiceError::Invalid)?;
    write_transaction(conn, |conn| {
        let row = load(conn, id)?;
        if let Some(scope) = scope
            && !row.unit_id.is_some_and(|u| scope.contains(&u))
        {
            return Err(not_found(id));
        }
        let by = StepBy {
            actor,
            note: Some(&text),
        };
        let status = take_step(conn, wf, &row, ProblemStep::Answer, &by, at)?;
        rows::set_answer(conn, id, &text)?;
        let version = row.confirm_version + 1;
        match row.reporter_email.as_deref() {
            Some(_) => {
                let hash = token_hash(&secret.problem_token(id, version));
                rows::set_confirmation(conn, id, version, Some(&hash), Some("queued"))?;
            }
            None => rows::set_confirmation(conn, id, version, None, None)?,
        }
        Ok(status)
    })
}

/// The enterprise's verdict through its link: resolved closes the problem; not resolved moves it
/// to the next supervision (or to the inspectors after the second). The link works once.
pub fn verdict_by_link(
    conn: &mut Conn,
    wf: &Workflow<'_>,
    token: &str,
    resolved: bool,
    note: Option<&str>,
    at: NaiveDateTime,
) -> Result<ProblemStatus, ServiceError> {
    if !super::links::is_well_formed(token) {
        return Err(ServiceError::NotFound("链接无效".into()));
    }
    let note = clean_note(note)?;
    write_transaction(conn, |conn| {
        let row = rows::by_confirm_hash(conn, &token_hash(token))?
            .ok_or_else(|| ServiceError::NotFound("链接无效或已使用".into()))?;
        let actor = Actor::enterprise("confirmation-link");
        let by = StepBy {
            actor: &actor,
            note: note.as_deref(),
        };
        take_step(conn, wf, &row, ProblemStep::Verdict { resolved }, &by, at)
    })
}

/// The verdict recorded by the 营商办, e.g. after calling a reporter who left no email.
pub fn verdict_by_admin(
    conn: &mut Conn,
    wf: &Workflow<'_>,
    actor: &Actor,
    id: i64,
    resolved: bool,
    note: Option<&str>,
    at: NaiveDateTime,
) -> Result<ProblemStatus, ServiceError> {
    let note = clean_note(note)?;
    write_transaction(conn, |conn| {
        let row = load(conn, id)?;
        let by = StepBy {
            actor,
            note: note.as_deref(),
        };
        take_step(conn, wf, &row, ProblemStep::Verdict { resolved }, &by, at)
    })
}

fn clean_note(note: Option<&str>) -> Result<Option<String>, ServiceError> {
    match note.map(str::trim).filter(|n| !n.is_empty()) {
        None => Ok(None),
        Some(n) if n.chars().count() > crate::domain::problem::PROBLEM_TEXT_MAX => {
            Err(ServiceError::Invalid("说明不能超过 2000 个字".into()))
        }
        Some(n) => Ok(Some(n.to_owned())),
    }
}

/// The problem behind a confirmation link, if the link is current (for the page that asks).
pub fn by_link(conn: &mut Conn, token: &str) -> Result<Option<ProblemRow>, ServiceError> {
    if !super::links::is_well_formed(token) {
        return Ok(None);
    }
    Ok(rows::by_confirm_hash(conn, &token_hash(token))?
        .filter(|r| r.state == ProblemState::Answered.as_str()))
}
