//! 问题清单: the `problems` rows and their step log `problem_events`. The workflow's rules are in
//! `domain::problem`; these queries only read and write what the service decided.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::Conn;
use super::schema::{problem_events, problems, units};

/// One problem as stored.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = problems)]
pub struct ProblemRow {
    pub id: i64,
    pub unit_id: Option<i64>,
    pub channel: String,
    pub reporter_name: Option<String>,
    /// The reporter's phone.
    pub reporter_contact: Option<String>,
    pub description: String,
    pub state: String,
    pub deadline: Option<NaiveDate>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub stage: i32,
    pub enterprise_name: Option<String>,
    pub reporter_email: Option<String>,
    pub answer: Option<String>,
    pub outcome: Option<String>,
    pub confirm_due: Option<NaiveDate>,
    pub confirm_version: i32,
    pub confirm_token_hash: Option<String>,
    pub mail_status: Option<String>,
    pub mail_error: Option<String>,
    pub mail_lease_until: Option<NaiveDateTime>,
}

/// A problem being registered.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = problems)]
pub struct NewProblemRow<'a> {
    pub unit_id: Option<i64>,
    pub channel: &'a str,
    pub reporter_name: Option<&'a str>,
    pub reporter_contact: Option<&'a str>,
    pub reporter_email: Option<&'a str>,
    pub enterprise_name: Option<&'a str>,
    pub description: &'a str,
    pub state: &'a str,
    pub stage: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// What one workflow step changes on the problem row.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = problems, treat_none_as_null = true)]
pub struct StepChange<'a> {
    pub state: &'a str,
    pub stage: i32,
    pub deadline: Option<NaiveDate>,
    pub confirm_due: Option<NaiveDate>,
    pub outcome: Option<&'a str>,
    pub updated_at: NaiveDateTime,
}

/// One step of one problem: when, by whom, and where it left the problem.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = problem_events)]
pub struct EventRow {
    pub id: i64,
    pub problem_id: i64,
    pub at: NaiveDateTime,
    pub actor: String,
    pub action: String,
    pub state: String,
    pub stage: i32,
    pub deadline: Option<NaiveDate>,
    pub note: Option<String>,
}

/// A step being logged.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = problem_events)]
pub struct NewEvent<'a> {
    pub problem_id: i64,
    pub at: NaiveDateTime,
    pub actor: &'a str,
    pub action: &'a str,
    pub state: &'a str,
    pub stage: i32,
    pub deadline: Option<NaiveDate>,
    pub note: Option<&'a str>,
}

/// Inserts a problem and returns its id.
pub fn insert(conn: &mut Conn, new: &NewProblemRow<'_>) -> QueryResult<i64> {
    diesel::insert_into(problems::table)
        .values(new)
        .returning(problems::id)
        .get_result(conn)
}

/// Appends a step to the log.
pub fn insert_event(conn: &mut Conn, event: &NewEvent<'_>) -> QueryResult<()> {
    diesel::insert_into(problem_events::table)
        .values(event)
        .execute(conn)
        .map(drop)
}

pub fn by_id(conn: &mut Conn, id: i64) -> QueryResult<Option<ProblemRow>> {
    problems::table
        .find(id)
        .select(ProblemRow::as_select())
        .first(conn)
        .optional()
}

/// The problem whose current confirmation link hashes to `hash`.
pub fn by_confirm_hash(conn: &mut Conn, hash: &str) -> QueryResult<Option<ProblemRow>> {
    problems::table
        .filter(problems::confirm_token_hash.eq(hash))
        .select(ProblemRow::as_select())
        .first(conn)
        .optional()
}

/// Applies a step's change, guarded by the state it was decided from: `false` when another
/// request changed the problem first (the caller then refuses instead of overwriting).
pub fn apply_step(
    conn: &mut Conn,
    id: i64,
    from_state: &str,
    from_stage: i32,
    change: &StepChange<'_>,
) -> QueryResult<bool> {
    let n = diesel::update(
        problems::table
            .find(id)
            .filter(problems::state.eq(from_state))
            .filter(problems::stage.eq(from_stage)),
    )
    .set(change)
    .execute(conn)?;
    Ok(n == 1)
}

pub fn set_unit(conn: &mut Conn, id: i64, unit_id: i64) -> QueryResult<()> {
    diesel::update(problems::table.find(id))
        .set(problems::unit_id.eq(Some(unit_id)))
        .execute(conn)
        .map(drop)
}

pub fn set_answer(conn: &mut Conn, id: i64, answer: &str) -> QueryResult<()> {
    diesel::update(problems::table.find(id))
        .set(problems::answer.eq(Some(answer)))
        .execute(conn)
        .map(drop)
}

/// A new confirmation link (the old one dies) and a confirmation email to send, or none when
/// the reporter left no address.
pub fn set_confirmation(
    conn: &mut Conn,
    id: i64,
    version: i32,
    hash: Option<&str>,
    mail_status: Option<&str>,
) -> QueryResult<()> {
    diesel::update(problems::table.find(id))
        .set((
            problems::confirm_version.eq(version),
            problems::confirm_token_hash.eq(hash),
            problems::mail_status.eq(mail_status),
            problems::mail_error.eq(None::<String>),
            problems::mail_lease_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)
        .map(drop)
}

/// The link is used up (a verdict was given, or the problem moved on).
pub fn clear_confirmation(conn: &mut Conn, id: i64) -> QueryResult<()> {
    diesel::update(problems::table.find(id))
        .set(problems::confirm_token_hash.eq(None::<String>))
        .execute(conn)
        .map(drop)
}

/// Problems whose confirmation email waits to be sent.
pub fn mail_queued(conn: &mut Conn, limit: i64) -> QueryResult<Vec<i64>> {
    problems::table
        .filter(problems::mail_status.eq("queued"))
        .order(problems::id)
        .limit(limit)
        .select(problems::id)
        .load(conn)
}

/// Claims a queued confirmation email until `lease_until` (at most once, like the outbox).
pub fn claim_mail(conn: &mut Conn, id: i64, lease_until: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(
        problems::table
            .find(id)
            .filter(problems::mail_status.eq("queued")),
    )
    .set((
        problems::mail_status.eq("sending"),
        problems::mail_lease_until.eq(Some(lease_until)),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Records the outcome of a claimed email: `sent`, `queued` again (transient), or `failed`.
pub fn record_mail(conn: &mut Conn, id: i64, status: &str, error: Option<&str>) -> QueryResult<()> {
    diesel::update(problems::table.find(id))
        .set((
            problems::mail_status.eq(status),
            problems::mail_error.eq(error),
            problems::mail_lease_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)
        .map(drop)
}

/// Claims whose lease ran out: the sender died mid-send, so they are failed, not re-sent.
pub fn expire_mail_claims(conn: &mut Conn, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        problems::table
            .filter(problems::mail_status.eq("sending"))
            .filter(problems::mail_lease_until.lt(now)),
    )
    .set((
        problems::mail_status.eq("failed"),
        problems::mail_error.eq(Some("发送结果未知:发送进程中断,未自动重发")),
        problems::mail_lease_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)
}

/// A problem with its unit's code and name, for lists.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedProblem {
    pub problem: ProblemRow,
    pub unit_code: Option<String>,
    pub unit_name: Option<String>,
}

/// Problems, optionally only those of some units or in some states; newest first (the service
/// orders them for each page).
pub fn list(
    conn: &mut Conn,
    unit_ids: Option<&[i64]>,
    states: Option<&[&str]>,
) -> QueryResult<Vec<ListedProblem>> {
    let mut query = problems::table
        .left_join(units::table)
        .select((
            ProblemRow::as_select(),
            units::code.nullable(),
            units::name.nullable(),
        ))
        .order(problems::id.desc())
        .into_boxed();
    if let Some(ids) = unit_ids {
        query = query.filter(problems::unit_id.eq_any(ids.to_vec()));
    }
    if let Some(states) = states {
        let states: Vec<String> = states.iter().map(|s| (*s).to_owned()).collect();
        query = query.filter(problems::state.eq_any(states));
    }
    let rows: Vec<(ProblemRow, Option<String>, Option<String>)> = query.load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(problem, unit_code, unit_name)| ListedProblem {
            problem,
            unit_code,
            unit_name,
        })
        .collect())
}

/// Problems running a deadline that ended before `today`, or waiting for a confirmation due
/// before it: what the sweep moves on.
pub fn due_before(conn: &mut Conn, today: NaiveDate) -> QueryResult<Vec<ProblemRow>> {
    problems::table
        .filter(
            problems::state
                .eq("assigned")
                .and(problems::deadline.lt(today))
                .or(problems::state
                    .eq("answered")
                    .and(problems::confirm_due.lt(today))),
        )
        .order(problems::id)
        .select(ProblemRow::as_select())
        .load(conn)
}

/// The step log of one problem, oldest first.
pub fn events_of(conn: &mut Conn, problem_id: i64) -> QueryResult<Vec<EventRow>> {
    problem_events::table
        .filter(problem_events::problem_id.eq(problem_id))
        .order((problem_events::at, problem_events::id))
        .select(EventRow::as_select())
        .load(conn)
}

/// Every step taken between two instants, oldest first (the quarterly bulletin).
pub fn events_between(
    conn: &mut Conn,
    from: NaiveDateTime,
    until: NaiveDateTime,
) -> QueryResult<Vec<EventRow>> {
    problem_events::table
        .filter(problem_events::at.ge(from))
        .filter(problem_events::at.lt(until))
        .order((problem_events::at, problem_events::id))
        .select(EventRow::as_select())
        .load(conn)
}

/// The code and name of a unit.
pub fn unit_of(conn: &mut Conn, unit_id: i64) -> QueryResult<Option<(String, String)>> {
    units::table
        .find(unit_id)
        .select((units::code, units::name))
        .first(conn)
        .optional()
}
