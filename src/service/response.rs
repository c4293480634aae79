//! Recording a response (答卷), the anonymous way docs/architecture.md §4.2 describes: the stored rows carry a
//! random respondent key, the enterprise's strata and the Asia/Shanghai day — no enterprise id, no
//! token, no invitation id, no time of day. One link, one response: the guard is
//! [`invitations::complete_once`] inside the transaction that inserts the response.
//!
//! The work is split in two so that a writer can batch it ([`super::response_writer`]):
//! [`prepare`] reads and validates (no writes, any connection), [`store`] writes one prepared
//! submission and must run inside a write transaction. [`submit`] is both, in one transaction.

use std::collections::{HashMap, HashSet};

use diesel::Connection;
use rand::TryRng;
use rand::rngs::SysRng;

use super::survey::{TemplateCache, accepts_answers, resolve};
use crate::db::invitations;
use crate::db::responses::{self as rows, NewRating, NewResponse};
use crate::db::survey_units;
use crate::db::{Conn, now, write_transaction};
use crate::domain::{RawSubmission, time};

pub use super::survey::LinkError as SubmitError;

/// A validated submission, resolved to ids, ready to store. Holds the invitation id only to run
/// the guard; it is never written to the response.
#[derive(Debug, Clone)]
pub struct Prepared {
    invitation_id: i64,
    campaign_id: i64,
    strata: (String, String, String),
    ratings: Vec<PreparedRating>,
}

#[derive(Debug, Clone)]
struct PreparedRating {
    unit_id: i64,
    self_selected: bool,
    answers: String,
    problems: String,
    comment: Option<String>,
}

/// Looks the link up and validates the submission against its questionnaire and the registry.
pub fn prepare(
    conn: &mut Conn,
    cache: &TemplateCache,
    token: &str,
    submission: &RawSubmission,
) -> Result<Prepared, SubmitError> {
    match conn {
        // One read transaction for the half-dozen reads: SQLite then looks for new commits (and,
        // finding some, empties the connection's page cache) once instead of before every read.
        Conn::Sqlite(_) => conn.transaction(|c| read_and_validate(c, cache, token, submission)),
        // PostgreSQL would pay two more round trips for it.
        Conn::Postgres(_) => read_and_validate(conn, cache, token, submission),
    }
}

fn read_and_validate(
    conn: &mut Conn,
    cache: &TemplateCache,
    token: &str,
    submission: &RawSubmission,
) -> Result<Prepared, SubmitError> {
    let link = resolve(conn, cache, token)?;
    let codes: Vec<String> = submission
        .ratings
        .iter()
        .map(|r| r.unit_code.trim().to_owned())
        .collect();
    let known: HashMap<String, i64> = survey_units::units_by_codes(conn, &codes)?
        .into_iter()
        .map(|u| (u.code, u.id))
        .collect();
    let valid = submission
        .validate(&link.template, |code| known.contains_key(code))
        .map_err(SubmitError::Invalid)?;
    let asked: HashSet<i64> =
        survey_units::asked_units(conn, &link.campaign.period, link.invitation.enterprise_id)?
            .into_iter()
            .map(|u| u.id)
            .collect();
    let strata = rows::strata_of(conn, link.invitation.enterprise_id)?;
    let mut ratings = Vec::with_capacity(valid.ratings.len());
    for r in valid.ratings {
        let unit_id = *known
            .get(&r.unit_code)
            .ok_or_else(|| SubmitError::Internal("validated unit vanished".into()))?;
        ratings.push(PreparedRating {
            unit_id,
            self_selected: !asked.contains(&unit_id),
            answers: serde_json::to_string(&r.answers)
                .map_err(|e| SubmitError::Internal(e.to_string()))?,
            problems: serde_json::to_string(&r.problems)
                .map_err(|e| SubmitError::Internal(e.to_string()))?,
            comment: r.comment,
        });
    }
    Ok(Prepared {
        invitation_id: link.invitation.id,
        campaign_id: link.campaign.id,
        strata,
        ratings,
    })
}

/// Writes one prepared submission. Call it inside a write transaction: the campaign is checked
/// again and the invitation completed with the conditional update, so of two racing submissions
/// exactly one stores anything.
pub fn store(conn: &mut Conn, prepared: &Prepared) -> Result<(), SubmitError> {
    store_in(conn, &mut OpenCampaigns::default(), prepared)
}

/// Which campaigns accept answers, as read inside one write transaction: a batch of submissions
/// reads each campaign's state once. Within the transaction nothing else can close a campaign,
/// so the answer holds for every submission of the batch.
#[derive(Debug, Default)]
pub struct OpenCampaigns(HashMap<i64, bool>);

/// [`store`], with the campaign checks shared by the submissions of one write transaction.
pub fn store_in(
    conn: &mut Conn,
    open: &mut OpenCampaigns,
    prepared: &Prepared,
) -> Result<(), SubmitError> {
    let at = now();
    let today = time::local_day(at);
    let accepts = match open.0.get(&prepared.campaign_id) {
        Some(accepts) => *accepts,
        None => {
            let (state, closes_on) = rows::campaign_state(conn, prepared.campaign_id)?;
            let accepts = accepts_answers(&state, closes_on, today);
            open.0.insert(prepared.campaign_id, accepts);
            accepts
        }
    };
    if !accepts {
        return Err(SubmitError::Closed);
    }
    // The invitation records only the day it was completed, so its time cannot be matched to a
    // response either.
    let completed_on = time::start_of_local_day(today).unwrap_or(at);
    if !invitations::complete_once(conn, prepared.invitation_id, completed_on)? {
        return Err(SubmitError::Used);
    }
    let key = hex::encode(random_bytes::<16>()?);
    let response_id = random_id()?;
    let (size, industry, district) = &prepared.strata;
    rows::insert_response(
        conn,
        &NewResponse {
            id: response_id,
            campaign_id: prepared.campaign_id,
            respondent_key: &key,
            size,
            industry,
            district,
            submitted_on: today,
        },
    )?;
    let mut new_ratings = Vec::with_capacity(prepared.ratings.len());
    for r in &prepared.ratings {
        new_ratings.push(NewRating {
            // Random on its own, not derived from the response's id: the admin's moderation
            // page shows a comment by its rating's id, and ids sharing a prefix would group one
            // enterprise's comments (issue 38).
            id: random_id()?,
            response_id,
            campaign_id: prepared.campaign_id,
            unit_id: r.unit_id,
            self_selected: r.self_selected,
            answers: &r.answers,
            problems: &r.problems,
            comment: r.comment.as_deref(),
            size,
            industry,
            district,
        });
    }
    rows::insert_ratings(conn, &new_ratings)
        .map_err(SubmitError::from)
        .map(drop)
}

/// Validates and stores a submission in one transaction (SQLite: `BEGIN IMMEDIATE`).
pub fn submit(
    conn: &mut Conn,
    cache: &TemplateCache,
    token: &str,
    submission: &RawSubmission,
) -> Result<(), SubmitError> {
    let prepared = prepare(conn, cache, token, submission)?;
    write_transaction(conn, |conn| store(conn, &prepared))
}

/// Deletes every answer stored for a campaign (its discard); returns how many there were. Call it
/// inside the discard's transaction.
pub fn discard_answers(conn: &mut Conn, campaign_id: i64) -> diesel::QueryResult<usize> {
    rows::delete_of_campaign(conn, campaign_id)
}

/// `N` bytes from the operating system's random source.
fn random_bytes<const N: usize>() -> Result<[u8; N], SubmitError> {
    let mut bytes = [0u8; N];
    SysRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| SubmitError::Internal(format!("OS RNG: {e}")))?;
    Ok(bytes)
}

/// A random positive id below 2^63 (a response's or a rating's): sequential ids would reveal the
/// order of submissions, which could be lined up with the order invitations were opened.
fn random_id() -> Result<i64, SubmitError> {
    let n = i64::from_le_bytes(random_bytes::<8>()?) & i64::MAX;
    Ok(n.max(1))
}
