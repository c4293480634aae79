//! Recording an answer (答卷) as a sealed ballot (docs/architecture.md, "The ballot's life"): the
//! submission is validated, sealed by HPKE to the campaign's public key with the link's spent key
//! in its associated data, padded to the campaign's one ballot size, and stored as one row — the
//! spent key and the sealed bytes. Nothing else is written: no invitation update, no counter, no
//! audit row. One link, one ballot: the spent key is the ballot's primary key, inserted with `ON
//! CONFLICT DO NOTHING`; a second ballot of the same link (a reissued link included, since the
//! spent key does not follow the link version) stores nothing and answers 409.
//!
//! The work is split in two so that a writer can batch it ([`super::response_writer`]):
//! [`prepare`] reads, validates and seals (no writes, any connection), [`store`] writes one
//! prepared ballot and must run inside a write transaction. [`submit`] is both.

use std::collections::{HashMap, HashSet};

use diesel::Connection;

use super::ballots::{self, UnitAnswers};
use super::survey::{SurveyContext, accepts_answers, resolve};
use crate::ballot::{self as sealing, MAX_ADDED_UNITS, SealError, SealedBallot, SpentKey};
use crate::db::answers as rows;
use crate::db::survey_units;
use crate::db::{Conn, now, write_transaction};
use crate::domain::{AnswerError, RawSubmission, time};

pub use super::survey::LinkError as SubmitError;

/// A validated submission, sealed, ready to store: the campaign, the link's spent key and the
/// sealed bytes. Its `Debug` shows neither.
#[derive(Clone)]
pub struct Prepared {
    campaign_id: i64,
    spent_key: SpentKey,
    sealed: SealedBallot,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Prepared(campaign {}, ***)", self.campaign_id)
    }
}

/// Looks the link up, validates the submission against its questionnaire and the registry, and
/// seals it.
pub fn prepare(
    conn: &mut Conn,
    cache: &SurveyContext,
    token: &str,
    submission: &RawSubmission,
) -> Result<Prepared, SubmitError> {
    match conn {
        // One read transaction for the half-dozen reads: SQLite then looks for new commits (and,
        // finding some, empties the connection's page cache) once instead of before every read.
        Conn::Sqlite(_) => conn.transaction(|c| read_and_seal(c, cache, token, submission)),
        // PostgreSQL would pay two more round trips for it.
        Conn::Postgres(_) => read_and_seal(conn, cache, token, submission),
    }
}

fn read_and_seal(
    conn: &mut Conn,
    cache: &SurveyContext,
    token: &str,
    submission: &RawSubmission,
) -> Result<Prepared, SubmitError> {
    let link = resolve(conn, cache, token)?;
    // The units the enterprise was asked about, then — only if the submission names others —
    // those it added: usually one query, not two.
    let asked_rows =
        survey_units::asked_units(conn, &link.campaign.period, link.invitation.enterprise_id)?;
    let asked: HashSet<i64> = asked_rows.iter().map(|u| u.id).collect();
    let mut known: HashMap<String, i64> = asked_rows.into_iter().map(|u| (u.code, u.id)).collect();
    let others: Vec<String> = submission
        .ratings
        .iter()
        .map(|r| r.unit_code.trim())
        .filter(|code| !known.contains_key(*code))
        .map(str::to_owned)
        .collect();
    if !others.is_empty() {
        known.extend(
            survey_units::units_by_codes(conn, &others)?
                .into_iter()
                .map(|u| (u.code, u.id)),
        );
    }
    let valid = submission
        .validate(&link.campaign.template, |code| known.contains_key(code))
        .map_err(SubmitError::Invalid)?;
    let mut units = Vec::with_capacity(valid.ratings.len());
    for r in &valid.ratings {
        let unit_id = *known
            .get(&r.unit_code)
            .ok_or_else(|| SubmitError::Internal("validated unit vanished".into()))?;
        units.push(UnitAnswers {
            unit_id,
            self_selected: !asked.contains(&unit_id),
            answers: &r.answers,
            problems: &r.problems,
            comment: r.comment.as_deref(),
        });
    }
    let added = units.iter().filter(|u| u.self_selected).count();
    if added > MAX_ADDED_UNITS {
        return Err(SubmitError::Invalid(vec![AnswerError::new(
            "ratings",
            format!("除邀请中列出的单位外,最多可自行添加 {MAX_ADDED_UNITS} 个单位,现为 {added} 个"),
        )]));
    }
    let campaign = &link.campaign;
    let content = ballots::content_of(&campaign.template, &units);
    let spent_key = cache
        .spent_keys()?
        .spent_key(link.campaign.id, link.invitation.id);
    let sealed = sealing::seal(
        &campaign.public_key,
        campaign.id,
        &spent_key,
        &content,
        &campaign.layout,
    )
    .map_err(|e| match e {
        SealError::Content(e) => {
            SubmitError::Invalid(vec![AnswerError::new("ratings", e.to_string())])
        }
        e => SubmitError::Internal(e.to_string()),
    })?;
    Ok(Prepared {
        campaign_id: link.campaign.id,
        spent_key,
        sealed,
    })
}

/// Writes one prepared ballot. Call it inside a write transaction: the campaign is checked again
/// (on PostgreSQL read `FOR SHARE`, so a close waits for it) and the ballot inserted unless its
/// spent key is there already.
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
    let accepts = match open.0.get(&prepared.campaign_id) {
        Some(accepts) => *accepts,
        None => {
            let today = time::local_day(now());
            let (state, closes_on) = rows::campaign_state(conn, prepared.campaign_id)?;
            let accepts = accepts_answers(&state, closes_on, today);
            open.0.insert(prepared.campaign_id, accepts);
            accepts
        }
    };
    if !accepts {
        return Err(SubmitError::Closed);
    }
    let stored = crate::db::ballots::insert(
        conn,
        prepared.spent_key.as_bytes(),
        prepared.campaign_id,
        &prepared.sealed.0,
    )?;
    if stored {
        Ok(())
    } else {
        Err(SubmitError::Used)
    }
}

/// Validates and stores a submission in one transaction (SQLite: `BEGIN IMMEDIATE`).
pub fn submit(
    conn: &mut Conn,
    cache: &SurveyContext,
    token: &str,
    submission: &RawSubmission,
) -> Result<(), SubmitError> {
    let prepared = prepare(conn, cache, token, submission)?;
    write_transaction(conn, |conn| store(conn, &prepared))
}

/// Deletes every answer stored for a campaign (its discard): its ballots and anything already
/// opened. Returns how many ballots there were. Call it inside the discard's transaction.
pub fn discard_answers(conn: &mut Conn, campaign_id: i64) -> diesel::QueryResult<usize> {
    rows::delete_of_campaign(conn, campaign_id)?;
    crate::db::ballots::delete_of_campaign(conn, campaign_id)
}
