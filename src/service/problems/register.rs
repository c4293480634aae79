//! Registering a problem: by the 营商办 from any channel, or by an enterprise through the named
//! form beside its survey (实名反映).
//!
//! **Unlinkable from the anonymous ratings.** The named form is a page and a POST of its own
//! (`/s/{token}/problem`); it never carries the survey's answers and the survey never carries it.
//! The problem row stores the reporter's own words, typed into its own empty field — nothing is
//! copied from the anonymous comment — and no id of a response, a rating or the invitation. The
//! anonymous response keeps only its day, so the problem's exact time matches nothing in it.

use chrono::NaiveDateTime;
use serde_json::json;

use super::super::audit;
use super::super::links::{is_well_formed, token_hash};
use super::super::{Actor, ServiceError};
use crate::db::problems::{self as rows, NewEvent, NewProblemRow};
use crate::db::{Conn, campaigns, enterprises, invitations, units, write_transaction};
use crate::domain::problem::{Channel, ProblemStatus, phone, problem_text};
use crate::domain::{Email, time};

/// A problem as the 营商办 registers it.
#[derive(Debug, Clone, Default)]
pub struct NewProblem {
    pub channel: Option<Channel>,
    pub unit_code: Option<String>,
    pub enterprise_name: Option<String>,
    pub reporter_name: Option<String>,
    pub reporter_phone: Option<String>,
    pub reporter_email: Option<String>,
    pub description: String,
}

/// What the named form beside a survey sends.
#[derive(Debug, Clone, Default)]
pub struct SurveyProblem {
    pub unit_code: String,
    pub reporter_name: String,
    pub reporter_phone: String,
    pub reporter_email: String,
    pub description: String,
}

/// The checked fields.
struct Checked {
    unit_id: Option<i64>,
    reporter_name: Option<String>,
    reporter_phone: Option<String>,
    reporter_email: Option<String>,
    description: String,
}

fn optional(text: &Option<String>) -> Option<&str> {
    text.as_deref().map(str::trim).filter(|t| !t.is_empty())
}

/// Checks every field and reports all problems at once, each naming its field.
fn check(conn: &mut Conn, new: &NewProblem, named: bool) -> Result<Checked, ServiceError> {
    let mut errors = Vec::new();
    let description = problem_text("问题描述", &new.description)
        .map_err(|e| errors.push(e))
        .unwrap_or_default();
    let reporter_phone = match optional(&new.reporter_phone).map(phone) {
        Some(Ok(p)) => Some(p),
        Some(Err(e)) => {
            errors.push(e);
            None
        }
        None => None,
    };
    let reporter_email = match optional(&new.reporter_email).map(Email::parse) {
        Some(Ok(e)) => Some(e.as_str().to_owned()),
        Some(Err(e)) => {
            errors.push(format!("电子邮箱:{e}"));
            None
        }
        None => None,
    };
    let reporter_name = optional(&new.reporter_name).map(str::to_owned);
    if reporter_name
        .as_ref()
        .is_some_and(|n| n.chars().count() > 50)
    {
        errors.push("联系人姓名不能超过 50 个字".into());
    }
    if named && reporter_name.is_none() {
        errors.push("请填写联系人姓名".into());
    }
    if named && reporter_phone.is_none() && reporter_email.is_none() {
        errors.push("请至少填写联系电话或电子邮箱中的一项".into());
    }
    let unit_id = match optional(&new.unit_code) {
        Some(code) => match units::by_code(conn, code)? {
            Some(unit) => Some(unit.id),
            None => {
                errors.push(format!("单位编码 {code} 不存在"));
                None
            }
        },
        None if named => {
            errors.push("请选择被反映的单位".into());
            None
        }
        None => None,
    };
    if !errors.is_empty() {
        return Err(ServiceError::Invalid(errors.join(";")));
    }
    Ok(Checked {
        unit_id,
        reporter_name,
        reporter_phone,
        reporter_email,
        description,
    })
}

fn insert(
    conn: &mut Conn,
    actor: &Actor,
    channel: Channel,
    enterprise_name: Option<&str>,
    c: &Checked,
    at: NaiveDateTime,
) -> Result<i64, ServiceError> {
    let status = ProblemStatus::NEW;
    let id = rows::insert(
        conn,
        &NewProblemRow {
            unit_id: c.unit_id,
            channel: channel.as_str(),
            reporter_name: c.reporter_name.as_deref(),
            reporter_contact: c.reporter_phone.as_deref(),
            reporter_email: c.reporter_email.as_deref(),
            enterprise_name,
            description: &c.description,
            state: status.state.as_str(),
            stage: status.stage.as_i32(),
            created_at: at,
            updated_at: at,
        },
    )?;
    rows::insert_event(
        conn,
        &NewEvent {
            problem_id: id,
            at,
            actor: actor.as_str(),
            action: "register",
            state: status.state.as_str(),
            stage: status.stage.as_i32(),
            deadline: None,
            note: Some(channel.label()),
        },
    )?;
    let unit = match c.unit_id {
        Some(u) => rows::unit_of(conn, u)?.map(|(code, _)| code),
        None => None,
    };
    audit::record(
        conn,
        actor,
        "problem.register",
        &format!("problem:{id}"),
        json!({ "channel": channel.as_str(), "unit": unit }),
    )?;
    Ok(id)
}

/// Registers a problem from any channel (the 营商办's form and `qiping problems add`).
pub fn register(
    conn: &mut Conn,
    actor: &Actor,
    new: &NewProblem,
    at: NaiveDateTime,
) -> Result<i64, ServiceError> {
    let channel = new.channel.unwrap_or(Channel::Other);
    write_transaction(conn, |conn| {
        let named = channel == Channel::Survey;
        let checked = check(conn, new, named)?;
        let enterprise = optional(&new.enterprise_name).map(str::to_owned);
        insert(conn, actor, channel, enterprise.as_deref(), &checked, at)
    })
}

/// Why the named form behind a survey link cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SurveyProblemError {
    /// Unknown link, or its campaign no longer takes answers (the two read the same).
    #[error("链接无效或评议已结束")]
    Link,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// The enterprise behind a survey link.
#[derive(Debug, Clone)]
pub struct LinkedEnterprise {
    pub period: String,
    pub enterprise_id: i64,
    pub enterprise_name: String,
}

/// The enterprise behind a survey link whose campaign is open, with its name — answered or not,
/// since the named form may come after the anonymous answers.
pub fn survey_link_enterprise(
    conn: &mut Conn,
    token: &str,
    today: chrono::NaiveDate,
) -> Result<LinkedEnterprise, SurveyProblemError> {
    if !is_well_formed(token) {
        return Err(SurveyProblemError::Link);
    }
    let invitation = invitations::by_token_hash(conn, &token_hash(token))
        .map_err(ServiceError::from)?
        .ok_or(SurveyProblemError::Link)?;
    let campaign = campaigns::by_id(conn, invitation.campaign_id)
        .map_err(ServiceError::from)?
        .ok_or(SurveyProblemError::Link)?;
    if !super::super::survey::accepts_answers(&campaign.state, campaign.closes_on, today) {
        return Err(SurveyProblemError::Link);
    }
    let enterprise = enterprises::by_id(conn, invitation.enterprise_id)
        .map_err(ServiceError::from)?
        .ok_or(SurveyProblemError::Link)?;
    Ok(LinkedEnterprise {
        period: campaign.period,
        enterprise_id: enterprise.id,
        enterprise_name: enterprise.name,
    })
}

/// Registers a problem from the named form behind a survey link. The row holds the enterprise's
/// name (it chose to be named) and what it typed. It is written in a transaction of its own (the
/// problem and its audit row), never in a ballot's, and holds nothing of the sealed ballot — no
/// spent key, no invitation, no answer; the ratings the close stores share neither its id nor,
/// on PostgreSQL, its transaction id (`tests/it/sealed.rs`, the named form).
pub fn register_from_survey(
    conn: &mut Conn,
    token: &str,
    form: &SurveyProblem,
    at: NaiveDateTime,
) -> Result<i64, SurveyProblemError> {
    let enterprise_name = survey_link_enterprise(conn, token, time::local_day(at))?.enterprise_name;
    let new = NewProblem {
        channel: Some(Channel::Survey),
        unit_code: Some(form.unit_code.clone()),
        enterprise_name: Some(enterprise_name),
        reporter_name: Some(form.reporter_name.clone()),
        reporter_phone: Some(form.reporter_phone.clone()),
        reporter_email: Some(form.reporter_email.clone()),
        description: form.description.clone(),
    };
    Ok(register(conn, &Actor::enterprise("named-form"), &new, at)?)
}

/// The units the named form offers: those the enterprise was asked about, plus the one it came
/// from (`requested`); every unit when it was asked about none.
pub fn units_for_named_form(
    conn: &mut Conn,
    linked: &LinkedEnterprise,
    requested: Option<&str>,
) -> Result<Vec<(String, String)>, ServiceError> {
    use crate::db::survey_units::{asked_units, units_by_codes};
    let mut found = asked_units(conn, &linked.period, linked.enterprise_id)?;
    if let Some(code) = requested.filter(|c| !found.iter().any(|u| u.code == *c)) {
        found.extend(units_by_codes(conn, &[code.to_owned()])?);
    }
    if found.is_empty() {
        return Ok(units::all(conn)?
            .into_iter()
            .map(|u| (u.code, u.name))
            .collect());
    }
    Ok(found.into_iter().map(|u| (u.code, u.name)).collect())
}
