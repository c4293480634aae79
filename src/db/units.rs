//! Rows and queries of the unit registry: units, their peer groups and their heads' terms.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use super::Conn;
use super::schema::{peer_groups, unit_heads, units};

/// A stored unit (被评议单位).
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable, Serialize)]
#[diesel(table_name = units)]
pub struct UnitRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub parent_code: Option<String>,
    pub peer_group: String,
    pub predecessor_code: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// The columns an import sets; used both to insert and to update by code.
#[derive(Debug, Clone, PartialEq, Insertable, AsChangeset)]
#[diesel(table_name = units, treat_none_as_null = true)]
pub struct UnitFields<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub kind: &'a str,
    pub parent_code: Option<&'a str>,
    pub peer_group: &'a str,
    pub predecessor_code: Option<&'a str>,
}

impl UnitRow {
    /// Whether storing `fields` would change this row.
    pub fn differs_from(&self, fields: &UnitFields<'_>) -> bool {
        self.name != fields.name
            || self.kind != fields.kind
            || self.parent_code.as_deref() != fields.parent_code
            || self.peer_group != fields.peer_group
            || self.predecessor_code.as_deref() != fields.predecessor_code
    }
}

/// One term of a unit's head (负责人); `to_date` is `None` while the term runs.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable, Serialize)]
#[diesel(table_name = unit_heads)]
pub struct HeadTermRow {
    pub id: i64,
    pub unit_id: i64,
    pub name: String,
    pub from_date: NaiveDate,
    pub to_date: Option<NaiveDate>,
}

/// A new head term.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = unit_heads)]
pub struct NewHeadTerm<'a> {
    pub unit_id: i64,
    pub name: &'a str,
    pub from_date: NaiveDate,
    pub to_date: Option<NaiveDate>,
}

/// Every unit, ordered by code.
pub fn all(conn: &mut Conn) -> QueryResult<Vec<UnitRow>> {
    units::table
        .order(units::code)
        .select(UnitRow::as_select())
        .load(conn)
}

/// The unit with this code, if any.
pub fn by_code(conn: &mut Conn, code: &str) -> QueryResult<Option<UnitRow>> {
    units::table
        .filter(units::code.eq(code))
        .select(UnitRow::as_select())
        .first(conn)
        .optional()
}

/// Inserts a unit and returns its id.
pub fn insert(conn: &mut Conn, fields: &UnitFields<'_>, now: NaiveDateTime) -> QueryResult<i64> {
    diesel::insert_into(units::table)
        .values((fields, units::created_at.eq(now), units::updated_at.eq(now)))
        .returning(units::id)
        .get_result(conn)
}

/// Overwrites the imported columns of a unit.
pub fn update(
    conn: &mut Conn,
    id: i64,
    fields: &UnitFields<'_>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(units::table.find(id))
        .set((fields, units::updated_at.eq(now)))
        .execute(conn)
        .map(drop)
}

/// Makes sure a peer group exists (peer groups are created by the units that name them).
pub fn ensure_peer_group(conn: &mut Conn, name: &str) -> QueryResult<()> {
    let exists: i64 = peer_groups::table
        .filter(peer_groups::name.eq(name))
        .count()
        .get_result(conn)?;
    if exists == 0 {
        diesel::insert_into(peer_groups::table)
            .values(peer_groups::name.eq(name))
            .execute(conn)?;
    }
    Ok(())
}

/// The names of all peer groups, sorted.
pub fn peer_group_names(conn: &mut Conn) -> QueryResult<Vec<String>> {
    peer_groups::table
        .order(peer_groups::name)
        .select(peer_groups::name)
        .load(conn)
}

/// Every head term of one unit, oldest first.
pub fn head_terms(conn: &mut Conn, unit_id: i64) -> QueryResult<Vec<HeadTermRow>> {
    unit_heads::table
        .filter(unit_heads::unit_id.eq(unit_id))
        .order((unit_heads::from_date, unit_heads::id))
        .select(HeadTermRow::as_select())
        .load(conn)
}

/// Every head term, ordered by unit then start date (for bulk look-ups).
pub fn all_head_terms(conn: &mut Conn) -> QueryResult<Vec<HeadTermRow>> {
    unit_heads::table
        .order((unit_heads::unit_id, unit_heads::from_date, unit_heads::id))
        .select(HeadTermRow::as_select())
        .load(conn)
}

/// Records a new head term.
pub fn insert_head_term(conn: &mut Conn, term: &NewHeadTerm<'_>) -> QueryResult<()> {
    diesel::insert_into(unit_heads::table)
        .values(term)
        .execute(conn)
        .map(drop)
}

/// Closes a running head term on `to` (the day before the successor starts).
pub fn close_head_term(conn: &mut Conn, term_id: i64, to: NaiveDate) -> QueryResult<()> {
    diesel::update(unit_heads::table.find(term_id))
        .set(unit_heads::to_date.eq(Some(to)))
        .execute(conn)
        .map(drop)
}

/// Every term of a head with exactly this name, in any unit, oldest first. Heads are recorded by
/// name only, so two people of the same name are not told apart here.
pub fn head_terms_named(conn: &mut Conn, name: &str) -> QueryResult<Vec<HeadTermRow>> {
    unit_heads::table
        .filter(unit_heads::name.eq(name))
        .order((unit_heads::from_date, unit_heads::unit_id, unit_heads::id))
        .select(HeadTermRow::as_select())
        .load(conn)
}
