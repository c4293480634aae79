//! Failed sign-ins per name — any name, an account's or not — keyed by a digest of the name, so an
//! unknown name is counted and locked by the same rule as an account and the sign-in page cannot
//! tell which names exist (issue 42).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::Conn;
use super::schema::sign_in_names;

/// A name's failures in a row, when the last was, and its lock.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = sign_in_names, treat_none_as_null = true)]
pub struct NameFailures {
    pub name_digest: String,
    pub failed_attempts: i32,
    pub last_failed_at: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
}

/// The failures of a name's digest, if any are recorded.
pub fn get(conn: &mut Conn, digest: &str) -> QueryResult<Option<NameFailures>> {
    sign_in_names::table
        .find(digest)
        .select(NameFailures::as_select())
        .first(conn)
        .optional()
}

/// Records a name's failures (insert or replace).
pub fn put(conn: &mut Conn, row: &NameFailures) -> QueryResult<()> {
    let updated = diesel::update(sign_in_names::table.find(&row.name_digest))
        .set(row)
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(sign_in_names::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

/// Forgets a name's failures (a successful sign-in, a new password).
pub fn clear(conn: &mut Conn, digest: &str) -> QueryResult<()> {
    diesel::delete(sign_in_names::table.find(digest))
        .execute(conn)
        .map(drop)
}

/// Forgets names whose last failure is older than `before` and that are not locked after it.
pub fn forget_before(conn: &mut Conn, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(
        sign_in_names::table
            .filter(sign_in_names::last_failed_at.lt(before))
            .filter(
                sign_in_names::locked_until
                    .is_null()
                    .or(sign_in_names::locked_until.lt(before)),
            ),
    )
    .execute(conn)
}

/// Every name whose lock lasts past `at`, by digest, with the lock's end.
pub fn locked_at(conn: &mut Conn, at: NaiveDateTime) -> QueryResult<Vec<(String, NaiveDateTime)>> {
    sign_in_names::table
        .filter(sign_in_names::locked_until.gt(at))
        .select((
            sign_in_names::name_digest,
            sign_in_names::locked_until.assume_not_null(),
        ))
        .load(conn)
}
