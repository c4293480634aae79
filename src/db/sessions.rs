//! Sessions, API tokens and failed-login records. Only SHA-256 digests of the secret values are
//! stored, so a copy of the database opens no session.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::Conn;
use super::schema::{api_tokens, login_failures, sessions};

/// A stored session; `id` is the hex SHA-256 of the cookie value.
#[derive(Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub id: String,
    pub user_id: i64,
    pub csrf_token: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
}

impl std::fmt::Debug for SessionRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionRow")
            .field("user_id", &self.user_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

pub fn insert_session(conn: &mut Conn, row: &SessionRow) -> QueryResult<usize> {
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(&row.id),
            sessions::user_id.eq(row.user_id),
            sessions::csrf_token.eq(&row.csrf_token),
            sessions::created_at.eq(row.created_at),
            sessions::expires_at.eq(row.expires_at),
            sessions::last_seen_at.eq(row.last_seen_at),
        ))
        .execute(conn)
}

pub fn session(conn: &mut Conn, id: &str) -> QueryResult<Option<SessionRow>> {
    sessions::table
        .find(id)
        .select(SessionRow::as_select())
        .first(conn)
        .optional()
}

pub fn touch_session(conn: &mut Conn, id: &str, at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(sessions::table.find(id))
        .set(sessions::last_seen_at.eq(at))
        .execute(conn)
}

pub fn delete_session(conn: &mut Conn, id: &str) -> QueryResult<usize> {
    diesel::delete(sessions::table.find(id)).execute(conn)
}

/// Ends every session of a user (password change, disabling).
pub fn delete_user_sessions(conn: &mut Conn, user_id: i64) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(conn)
}

/// Drops sessions that can no longer be used, so the table does not grow without end.
pub fn delete_expired_sessions(
    conn: &mut Conn,
    now: NaiveDateTime,
    idle_before: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::delete(
        sessions::table.filter(
            sessions::expires_at
                .le(now)
                .or(sessions::last_seen_at.le(idle_before)),
        ),
    )
    .execute(conn)
}

/// A stored API token; `token_hash` is the hex SHA-256 of the token.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = api_tokens)]
pub struct ApiTokenRow {
    pub id: i64,
    pub user_id: i64,
    pub role: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
}

pub fn insert_token(
    conn: &mut Conn,
    user_id: i64,
    token_hash: &str,
    role: &str,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<i64> {
    diesel::insert_into(api_tokens::table)
        .values((
            api_tokens::user_id.eq(user_id),
            api_tokens::token_hash.eq(token_hash),
            api_tokens::role.eq(role),
            api_tokens::created_at.eq(created_at),
            api_tokens::expires_at.eq(expires_at),
        ))
        .returning(api_tokens::id)
        .get_result(conn)
}

pub fn token_by_hash(conn: &mut Conn, token_hash: &str) -> QueryResult<Option<ApiTokenRow>> {
    api_tokens::table
        .filter(api_tokens::token_hash.eq(token_hash))
        .select(ApiTokenRow::as_select())
        .first(conn)
        .optional()
}

pub fn touch_token(conn: &mut Conn, id: i64, at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(api_tokens::table.find(id))
        .set(api_tokens::last_used_at.eq(Some(at)))
        .execute(conn)
}

pub fn delete_user_tokens(conn: &mut Conn, user_id: i64) -> QueryResult<usize> {
    diesel::delete(api_tokens::table.filter(api_tokens::user_id.eq(user_id))).execute(conn)
}

pub fn insert_login_failure(
    conn: &mut Conn,
    address: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::insert_into(login_failures::table)
        .values((
            login_failures::address.eq(address),
            login_failures::at.eq(at),
        ))
        .execute(conn)
}

/// Failed logins from one address since `since`.
pub fn login_failures_since(
    conn: &mut Conn,
    address: &str,
    since: NaiveDateTime,
) -> QueryResult<i64> {
    login_failures::table
        .filter(login_failures::address.eq(address))
        .filter(login_failures::at.gt(since))
        .count()
        .get_result(conn)
}

pub fn delete_login_failures_before(conn: &mut Conn, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(login_failures::table.filter(login_failures::at.le(before))).execute(conn)
}
