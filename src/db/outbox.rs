//! The outbox: messages to send, claimed one at a time by the dispatcher (`service::dispatch`).
//!
//! A row goes `queued` → `sending` (claimed, with `lease_until`, in its own committed transaction
//! before the SMTP call) → `sent`, or back to `queued` with a later `next_attempt_at` after a
//! transient failure, or `failed`. A `sending` row whose lease has run out belonged to a
//! dispatcher that died mid-send: it is marked `failed`, never re-sent (at most once).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::Conn;
use super::schema::outbox;

/// One queued message.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    pub id: i64,
    pub invitation_id: i64,
    pub kind: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub last_error: Option<String>,
    pub message_id: String,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
    pub lease_until: Option<NaiveDateTime>,
}

/// Ids of up to `limit` queued messages due at `now`, oldest first.
pub fn due(conn: &mut Conn, now: NaiveDateTime, limit: i64) -> QueryResult<Vec<i64>> {
    outbox::table
        .filter(outbox::status.eq("queued"))
        .filter(outbox::next_attempt_at.le(now))
        .order((outbox::next_attempt_at, outbox::id))
        .limit(limit)
        .select(outbox::id)
        .load(conn)
}

/// Number of messages still waiting (due or not).
pub fn queued_count(conn: &mut Conn) -> QueryResult<i64> {
    outbox::table
        .filter(outbox::status.eq("queued"))
        .count()
        .get_result(conn)
}

/// When the earliest queued message becomes due.
pub fn next_due_at(conn: &mut Conn) -> QueryResult<Option<NaiveDateTime>> {
    outbox::table
        .filter(outbox::status.eq("queued"))
        .select(diesel::dsl::min(outbox::next_attempt_at))
        .first(conn)
}

/// Claims one queued message until `lease_until`. Returns the row if this call claimed it; `None`
/// when another dispatcher got there first. Run it in its own committed transaction.
pub fn claim(
    conn: &mut Conn,
    id: i64,
    lease_until: NaiveDateTime,
) -> QueryResult<Option<OutboxRow>> {
    let claimed = diesel::update(outbox::table.find(id).filter(outbox::status.eq("queued")))
        .set((
            outbox::status.eq("sending"),
            outbox::lease_until.eq(Some(lease_until)),
            outbox::attempts.eq(outbox::attempts + 1),
        ))
        .execute(conn)?;
    if claimed == 0 {
        return Ok(None);
    }
    outbox::table
        .find(id)
        .select(OutboxRow::as_select())
        .first(conn)
        .optional()
}

/// Records that the relay accepted the message.
pub fn mark_sent(conn: &mut Conn, id: i64, at: NaiveDateTime) -> QueryResult<()> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::status.eq("sent"),
            outbox::sent_at.eq(Some(at)),
            outbox::lease_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)
        .map(drop)
}

/// Puts a message back in the queue after a transient failure.
pub fn requeue(conn: &mut Conn, id: i64, at: NaiveDateTime, error: &str) -> QueryResult<()> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::status.eq("queued"),
            outbox::next_attempt_at.eq(at),
            outbox::lease_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(Some(error)),
        ))
        .execute(conn)
        .map(drop)
}

/// Gives up on a message, with the reason.
pub fn mark_failed(conn: &mut Conn, id: i64, error: &str) -> QueryResult<()> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::status.eq("failed"),
            outbox::lease_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(Some(error)),
        ))
        .execute(conn)
        .map(drop)
}

/// Claimed rows whose lease ran out before `now`: their dispatcher died between claim and record.
pub fn expired_claims(conn: &mut Conn, now: NaiveDateTime) -> QueryResult<Vec<OutboxRow>> {
    outbox::table
        .filter(outbox::status.eq("sending"))
        .filter(outbox::lease_until.lt(now))
        .select(OutboxRow::as_select())
        .load(conn)
}

/// Drops the still-queued messages of an invitation (a reissue queues a fresh one).
pub fn drop_queued_of(conn: &mut Conn, invitation_id: i64) -> QueryResult<usize> {
    diesel::delete(
        outbox::table
            .filter(outbox::invitation_id.eq(invitation_id))
            .filter(outbox::status.eq("queued")),
    )
    .execute(conn)
}

/// Every message about one invitation, oldest first.
pub fn of_invitation(conn: &mut Conn, invitation_id: i64) -> QueryResult<Vec<OutboxRow>> {
    outbox::table
        .filter(outbox::invitation_id.eq(invitation_id))
        .order(outbox::id)
        .select(OutboxRow::as_select())
        .load(conn)
}
