//! Invitations (邀请) and the outbox of messages to send about them.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::Conn;
use super::schema::{invitations, outbox};

/// One enterprise in one campaign. `status`: `issued`, `sent`, `failed` or `bounced`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable, Serialize)]
#[diesel(table_name = invitations)]
pub struct InvitationRow {
    pub id: i64,
    pub campaign_id: i64,
    pub enterprise_id: i64,
    pub token_hash: String,
    pub link_version: i32,
    pub status: String,
    pub issued_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
    pub reminders_sent: i32,
    pub last_reminded_at: Option<NaiveDateTime>,
    pub failure: Option<String>,
    /// Set by the close for every invitation whose ballot it opened (a flag, never a time). While
    /// the campaign is open a ballot's spent key says it instead (`service::ballots`).
    pub answered: bool,
}

/// A new invitation. Its token hash is set right after the insert, once the id is known.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = invitations)]
pub struct NewInvitation<'a> {
    pub campaign_id: i64,
    pub enterprise_id: i64,
    pub token_hash: &'a str,
    pub link_version: i32,
    pub status: &'a str,
    pub issued_at: NaiveDateTime,
}

/// A message to send: what and about which invitation, never a rendered body (docs/architecture.md §4.1).
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = outbox)]
pub struct NewOutboxMessage<'a> {
    pub invitation_id: i64,
    pub kind: &'a str,
    pub status: &'a str,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub message_id: &'a str,
    pub created_at: NaiveDateTime,
}

/// Inserts an invitation and returns its id.
pub fn insert(conn: &mut Conn, new: &NewInvitation<'_>) -> QueryResult<i64> {
    diesel::insert_into(invitations::table)
        .values(new)
        .returning(invitations::id)
        .get_result(conn)
}

/// Sets the hash of the invitation's current token (and its link version).
pub fn set_link(conn: &mut Conn, id: i64, token_hash: &str, link_version: i32) -> QueryResult<()> {
    diesel::update(invitations::table.find(id))
        .set((
            invitations::token_hash.eq(token_hash),
            invitations::link_version.eq(link_version),
        ))
        .execute(conn)
        .map(drop)
}

/// The invitation whose current token hashes to `hash`.
pub fn by_token_hash(conn: &mut Conn, hash: &str) -> QueryResult<Option<InvitationRow>> {
    invitations::table
        .filter(invitations::token_hash.eq(hash))
        .select(InvitationRow::as_select())
        .first(conn)
        .optional()
}

/// The invitation whose current token hashes to `hash`, with its campaign's state and last day
/// (what decides whether the link can be answered today): one query for the survey's every
/// request.
pub fn by_token_hash_with_campaign_state(
    conn: &mut Conn,
    hash: &str,
) -> QueryResult<Option<(InvitationRow, String, chrono::NaiveDate)>> {
    invitations::table
        .inner_join(crate::db::schema::campaigns::table)
        .filter(invitations::token_hash.eq(hash))
        .select((
            InvitationRow::as_select(),
            crate::db::schema::campaigns::state,
            crate::db::schema::campaigns::closes_on,
        ))
        .first(conn)
        .optional()
}

/// One invitation by id.
pub fn by_id(conn: &mut Conn, id: i64) -> QueryResult<Option<InvitationRow>> {
    invitations::table
        .find(id)
        .select(InvitationRow::as_select())
        .first(conn)
        .optional()
}

/// The invitation of one enterprise in one campaign.
pub fn of_enterprise(
    conn: &mut Conn,
    campaign_id: i64,
    enterprise_id: i64,
) -> QueryResult<Option<InvitationRow>> {
    invitations::table
        .filter(invitations::campaign_id.eq(campaign_id))
        .filter(invitations::enterprise_id.eq(enterprise_id))
        .select(InvitationRow::as_select())
        .first(conn)
        .optional()
}

/// Every invitation of a campaign, by id.
pub fn of_campaign(conn: &mut Conn, campaign_id: i64) -> QueryResult<Vec<InvitationRow>> {
    invitations::table
        .filter(invitations::campaign_id.eq(campaign_id))
        .order(invitations::id)
        .select(InvitationRow::as_select())
        .load(conn)
}

/// The failed invitations of a campaign with the reason each failed, by USCC: (USCC, name, reason).
pub fn failures(
    conn: &mut Conn,
    campaign_id: i64,
) -> QueryResult<Vec<(String, String, Option<String>)>> {
    use super::schema::enterprises;
    invitations::table
        .inner_join(enterprises::table.on(enterprises::id.eq(invitations::enterprise_id)))
        .filter(invitations::campaign_id.eq(campaign_id))
        .filter(invitations::status.eq("failed"))
        .order(enterprises::uscc)
        .select((enterprises::uscc, enterprises::name, invitations::failure))
        .load(conn)
}

/// Marks the invitations with these ids answered, in one statement over the ids in ascending
/// order (the close, for the invitations whose ballots it opened). Returns how many it marked.
pub fn mark_answered(conn: &mut Conn, ids: &[i64]) -> QueryResult<usize> {
    use diesel::sql_types::Text;
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    // One bound JSON array rather than one bind per id: 10,000 ids stay one statement on both
    // backends (SQLite's and PostgreSQL's bind limits are lower).
    let list = serde_json::to_string(&ids)
        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    match conn {
        super::Conn::Sqlite(c) => diesel::sql_query(
            "UPDATE invitations SET answered = 1 WHERE id IN (SELECT value FROM json_each(?))",
        )
        .bind::<Text, _>(&list)
        .execute(c),
        super::Conn::Postgres(c) => diesel::sql_query(
            "UPDATE invitations SET answered = TRUE WHERE id IN \
             (SELECT value::bigint FROM json_array_elements_text($1::json))",
        )
        .bind::<Text, _>(&list)
        .execute(c),
    }
}

/// Queues a message.
pub fn queue_message(conn: &mut Conn, message: &NewOutboxMessage<'_>) -> QueryResult<()> {
    diesel::insert_into(outbox::table)
        .values(message)
        .execute(conn)
        .map(drop)
}

/// Records that the invitation message went out (a bounce recorded earlier is kept).
pub fn mark_sent(conn: &mut Conn, id: i64, at: NaiveDateTime) -> QueryResult<()> {
    diesel::update(
        invitations::table
            .find(id)
            .filter(invitations::status.ne("bounced")),
    )
    .set((
        invitations::status.eq("sent"),
        invitations::sent_at.eq(Some(at)),
        invitations::failure.eq(None::<String>),
    ))
    .execute(conn)
    .map(drop)
}

/// Records why mail to this invitation could not be delivered (the server's reply).
pub fn mark_failed(conn: &mut Conn, id: i64, reason: &str) -> QueryResult<()> {
    diesel::update(
        invitations::table
            .find(id)
            .filter(invitations::status.ne("bounced")),
    )
    .set((
        invitations::status.eq("failed"),
        invitations::failure.eq(Some(reason)),
    ))
    .execute(conn)
    .map(drop)
}

/// Marks the not-yet-completed invitations of an enterprise in the given campaigns bounced.
pub fn mark_bounced(
    conn: &mut Conn,
    enterprise_id: i64,
    campaign_ids: &[i64],
) -> QueryResult<usize> {
    diesel::update(
        invitations::table
            .filter(invitations::enterprise_id.eq(enterprise_id))
            .filter(invitations::campaign_id.eq_any(campaign_ids))
            .filter(invitations::answered.eq(false)),
    )
    .set(invitations::status.eq("bounced"))
    .execute(conn)
}

/// Invitations of a campaign that may get a reminder or an extension notice: delivered, not
/// completed, not bounced or failed.
pub fn awaiting_answer(conn: &mut Conn, campaign_id: i64) -> QueryResult<Vec<InvitationRow>> {
    invitations::table
        .filter(invitations::campaign_id.eq(campaign_id))
        .filter(invitations::status.eq("sent"))
        .filter(invitations::answered.eq(false))
        .order(invitations::id)
        .select(InvitationRow::as_select())
        .load(conn)
}

/// Counts a reminder queued for an invitation.
pub fn record_reminder(conn: &mut Conn, id: i64, at: NaiveDateTime) -> QueryResult<()> {
    diesel::update(invitations::table.find(id))
        .set((
            invitations::reminders_sent.eq(invitations::reminders_sent + 1),
            invitations::last_reminded_at.eq(Some(at)),
        ))
        .execute(conn)
        .map(drop)
}

/// Puts a failed or bounced invitation back to `issued` (a reissue tries it again).
pub fn mark_sent_pending(conn: &mut Conn, id: i64) -> QueryResult<()> {
    diesel::update(invitations::table.find(id))
        .set((
            invitations::status.eq("issued"),
            invitations::failure.eq(None::<String>),
        ))
        .execute(conn)
        .map(drop)
}
