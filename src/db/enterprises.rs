//! Rows and queries of the enterprise registry.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::Conn;
use super::schema::enterprises;

/// A stored enterprise (企业). `mail_status` is `ok`, `bounced` or `opted_out`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable, Serialize)]
#[diesel(table_name = enterprises)]
pub struct EnterpriseRow {
    pub id: i64,
    pub uscc: String,
    pub name: String,
    pub email: Option<String>,
    pub district: String,
    pub industry: String,
    pub size: String,
    pub mail_status: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// The columns an import sets; used both to insert and to update by USCC.
#[derive(Debug, Clone, PartialEq, Insertable, AsChangeset)]
#[diesel(table_name = enterprises, treat_none_as_null = true)]
pub struct EnterpriseFields<'a> {
    pub uscc: &'a str,
    pub name: &'a str,
    pub email: Option<&'a str>,
    pub district: &'a str,
    pub industry: &'a str,
    pub size: &'a str,
}

impl EnterpriseRow {
    /// Whether storing `fields` would change this row.
    pub fn differs_from(&self, fields: &EnterpriseFields<'_>) -> bool {
        self.name != fields.name
            || self.email.as_deref() != fields.email
            || self.district != fields.district
            || self.industry != fields.industry
            || self.size != fields.size
    }
}

/// Every enterprise, ordered by USCC.
pub fn all(conn: &mut Conn) -> QueryResult<Vec<EnterpriseRow>> {
    enterprises::table
        .order(enterprises::uscc)
        .select(EnterpriseRow::as_select())
        .load(conn)
}

/// The enterprise with this USCC, if any.
pub fn by_uscc(conn: &mut Conn, uscc: &str) -> QueryResult<Option<EnterpriseRow>> {
    enterprises::table
        .filter(enterprises::uscc.eq(uscc))
        .select(EnterpriseRow::as_select())
        .first(conn)
        .optional()
}

/// Number of registered enterprises.
pub fn count(conn: &mut Conn) -> QueryResult<i64> {
    enterprises::table.count().get_result(conn)
}

/// Inserts enterprises in one statement per chunk (no `RETURNING`, so it works on both backends).
pub fn insert_many(
    conn: &mut Conn,
    rows: &[EnterpriseFields<'_>],
    now: NaiveDateTime,
) -> QueryResult<()> {
    // SQLite binds at most 32,766 parameters per statement; 8 columns × 500 rows stays well below.
    for chunk in rows.chunks(500) {
        let values: Vec<_> = chunk
            .iter()
            .map(|r| {
                (
                    r.clone(),
                    enterprises::created_at.eq(now),
                    enterprises::updated_at.eq(now),
                )
            })
            .collect();
        crate::on_backend!(&mut *conn, |c| diesel::insert_into(enterprises::table)
            .values(values.clone())
            .execute(c))?;
    }
    Ok(())
}

/// Overwrites the imported columns of an enterprise.
pub fn update(
    conn: &mut Conn,
    id: i64,
    fields: &EnterpriseFields<'_>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(enterprises::table.find(id))
        .set((fields, enterprises::updated_at.eq(now)))
        .execute(conn)
        .map(drop)
}

/// Enterprises that can be mailed: an address on file that has not bounced or opted out.
pub fn mailable(conn: &mut Conn) -> QueryResult<Vec<EnterpriseRow>> {
    enterprises::table
        .filter(enterprises::email.is_not_null())
        .filter(enterprises::mail_status.eq("ok"))
        .order(enterprises::uscc)
        .select(EnterpriseRow::as_select())
        .load(conn)
}

diesel::define_sql_function! {
    /// SQL `lower()`, the same on both backends for ASCII addresses.
    fn lower(x: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Text>;
}

/// Enterprises whose address is `email` (compared without case), for the bounce import.
pub fn by_email(conn: &mut Conn, email: &str) -> QueryResult<Vec<EnterpriseRow>> {
    enterprises::table
        .filter(lower(enterprises::email).eq(email.to_lowercase()))
        .select(EnterpriseRow::as_select())
        .load(conn)
}

/// Sets the mail status of an enterprise (`ok`, `bounced`, `opted_out`).
pub fn set_mail_status(
    conn: &mut Conn,
    id: i64,
    status: &str,
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(enterprises::table.find(id))
        .set((
            enterprises::mail_status.eq(status),
            enterprises::updated_at.eq(at),
        ))
        .execute(conn)
        .map(drop)
}

/// One enterprise by id.
pub fn by_id(conn: &mut Conn, id: i64) -> QueryResult<Option<EnterpriseRow>> {
    enterprises::table
        .find(id)
        .select(EnterpriseRow::as_select())
        .first(conn)
        .optional()
}
