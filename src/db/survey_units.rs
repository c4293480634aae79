//! The units a survey shows and accepts: those an enterprise was asked about, those it adds by
//! code, the search behind 「添加打过交道的其他单位」, and department names for grouping.

use diesel::prelude::*;
use serde::Serialize;

use super::Conn;
use super::schema::{interactions, units};

/// What the survey page shows of a unit.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Serialize)]
#[diesel(table_name = units)]
pub struct SurveyUnitRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub parent_code: Option<String>,
}

/// The units an enterprise was asked about in a period (from `interactions`), by code.
pub fn asked_units(
    conn: &mut Conn,
    period: &str,
    enterprise_id: i64,
) -> QueryResult<Vec<SurveyUnitRow>> {
    interactions::table
        .inner_join(units::table)
        .filter(interactions::period.eq(period))
        .filter(interactions::enterprise_id.eq(enterprise_id))
        .order(units::code)
        .select(SurveyUnitRow::as_select())
        .load(conn)
}

/// [`asked_units`], each with its department's name (its parent's; `None` for a department):
/// the survey page's one query for them.
pub fn asked_units_with_departments(
    conn: &mut Conn,
    period: &str,
    enterprise_id: i64,
) -> QueryResult<Vec<(SurveyUnitRow, Option<String>)>> {
    let parents = diesel::alias!(units as parents);
    interactions::table
        .inner_join(units::table)
        .left_join(parents.on(units::parent_code.eq(parents.field(units::code).nullable())))
        .filter(interactions::period.eq(period))
        .filter(interactions::enterprise_id.eq(enterprise_id))
        .order(units::code)
        .select((
            SurveyUnitRow::as_select(),
            parents.field(units::name).nullable(),
        ))
        .load(conn)
}

/// The units with these codes (those that exist).
pub fn units_by_codes(conn: &mut Conn, codes: &[String]) -> QueryResult<Vec<SurveyUnitRow>> {
    // Codes come from a posted form or JSON: one with a NUL matches nothing (no stored text holds
    // one) and PostgreSQL would refuse the whole query for it.
    let codes: Vec<&String> = codes.iter().filter(|c| !c.contains('\0')).collect();
    units::table
        .filter(units::code.eq_any(codes))
        .order(units::code)
        .select(SurveyUnitRow::as_select())
        .load(conn)
}

/// Units whose name or code contains `text`, at most `limit`, by code: the no-JavaScript
/// "add a unit I dealt with" search.
pub fn search_units(conn: &mut Conn, text: &str, limit: i64) -> QueryResult<Vec<SurveyUnitRow>> {
    if text.contains('\0') {
        return Ok(Vec::new()); // matches nothing stored; PostgreSQL would refuse the pattern
    }
    let escaped: String = text
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    let pattern = format!("%{escaped}%");
    units::table
        .filter(
            units::name
                .like(&pattern)
                .escape('\\')
                .or(units::code.like(&pattern).escape('\\')),
        )
        .order(units::code)
        .limit(limit)
        .select(SurveyUnitRow::as_select())
        .load(conn)
}

/// Names of departments by code, for grouping units under their department.
pub fn names_of(conn: &mut Conn, codes: &[String]) -> QueryResult<Vec<(String, String)>> {
    units::table
        .filter(units::code.eq_any(codes))
        .select((units::code, units::name))
        .load(conn)
}
