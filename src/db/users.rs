//! Accounts: rows and queries of `users`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::Conn;
use super::schema::users;

/// A stored account. `password_hash` is an argon2id PHC string; `Debug` hides it.
#[derive(Clone, PartialEq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: i64,
    pub name: String,
    pub role: String,
    pub unit_code: Option<String>,
    pub password_hash: String,
    pub disabled: bool,
    pub created_at: NaiveDateTime,
    pub password_changed_at: NaiveDateTime,
}

impl std::fmt::Debug for UserRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRow")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("role", &self.role)
            .field("unit_code", &self.unit_code)
            .field("password_hash", &"***")
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

/// A new account.
#[derive(Clone, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub name: &'a str,
    pub role: &'a str,
    pub unit_code: Option<&'a str>,
    pub password_hash: &'a str,
    pub created_at: NaiveDateTime,
    pub password_changed_at: NaiveDateTime,
}

pub fn insert(conn: &mut Conn, user: &NewUser<'_>) -> QueryResult<i64> {
    diesel::insert_into(users::table)
        .values(user)
        .returning(users::id)
        .get_result(conn)
}

pub fn by_name(conn: &mut Conn, name: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::name.eq(name))
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

pub fn by_id(conn: &mut Conn, id: i64) -> QueryResult<Option<UserRow>> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

pub fn all(conn: &mut Conn) -> QueryResult<Vec<UserRow>> {
    users::table
        .order(users::name)
        .select(UserRow::as_select())
        .load(conn)
}

pub fn set_password(conn: &mut Conn, id: i64, hash: &str, at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set((
            users::password_hash.eq(hash),
            users::password_changed_at.eq(at),
        ))
        .execute(conn)
}

pub fn set_disabled(conn: &mut Conn, id: i64, disabled: bool) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set(users::disabled.eq(disabled))
        .execute(conn)
}
