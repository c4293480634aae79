//! The audit log's rows. The table is append-only (a trigger refuses UPDATE and DELETE); the hash
//! chain is computed in `service::audit`.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::Conn;
use super::schema::audit_log;

/// One audit row as stored.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = audit_log)]
pub struct AuditRow {
    pub seq: i64,
    pub at: NaiveDateTime,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

pub fn insert(conn: &mut Conn, row: &AuditRow) -> QueryResult<usize> {
    diesel::insert_into(audit_log::table)
        .values(row)
        .execute(conn)
}

/// The newest row: the one the next row chains to.
pub fn last(conn: &mut Conn) -> QueryResult<Option<AuditRow>> {
    audit_log::table
        .order(audit_log::seq.desc())
        .select(AuditRow::as_select())
        .first(conn)
        .optional()
}

/// Every row in order.
pub fn all(conn: &mut Conn) -> QueryResult<Vec<AuditRow>> {
    audit_log::table
        .order(audit_log::seq.asc())
        .select(AuditRow::as_select())
        .load(conn)
}

/// Rows after `after_seq`, at most `limit`, for reading the chain in pages.
pub fn page(conn: &mut Conn, after_seq: i64, limit: i64) -> QueryResult<Vec<AuditRow>> {
    audit_log::table
        .filter(audit_log::seq.gt(after_seq))
        .order(audit_log::seq.asc())
        .limit(limit)
        .select(AuditRow::as_select())
        .load(conn)
}

/// Serializes appends across processes: on PostgreSQL a transaction-scoped advisory lock; SQLite
/// writers already hold the database's write lock (`BEGIN IMMEDIATE`).
pub fn lock_for_append(conn: &mut Conn) -> QueryResult<()> {
    if let Conn::Postgres(c) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock(7006001)").execute(c)?;
    }
    Ok(())
}
