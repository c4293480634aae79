//! Anonymous responses (答卷) and their ratings, and the unit look-ups the survey page needs.
//!
//! A response row holds no enterprise id, token or time of day (docs/architecture.md §4.2). Its id and
//! its ratings' ids are random rather than sequential, so the order of rows cannot be lined up with
//! the order in which invitations were completed.

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;

use super::Conn;
use super::campaigns::CampaignRow;
use super::schema::{campaigns, enterprises, interactions, ratings, responses, units};

/// A new response: the respondent key (the cluster id for statistics), the strata, the day.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = responses)]
pub struct NewResponse<'a> {
    pub id: i64,
    pub campaign_id: i64,
    pub respondent_key: &'a str,
    pub size: &'a str,
    pub industry: &'a str,
    pub district: &'a str,
    pub submitted_on: NaiveDate,
}

/// A new rating of one unit within a response. `answers` and `problems` are JSON text. A missing
/// comment is bound as NULL rather than left out, so the insert is one statement text whatever the
/// comments, prepared once per connection.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = ratings, treat_none_as_default_value = false)]
pub struct NewRating<'a> {
    pub id: i64,
    pub response_id: i64,
    pub unit_id: i64,
    pub self_selected: bool,
    pub answers: &'a str,
    pub problems: &'a str,
    pub comment: Option<&'a str>,
}

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

/// Stores a response (on the backend's own connection, where the statement stays prepared).
pub fn insert_response(conn: &mut Conn, new: &NewResponse<'_>) -> QueryResult<()> {
    crate::on_backend!(conn, |c| diesel::insert_into(responses::table)
        .values(new)
        .execute(c))
    .map(drop)
}

/// Stores the ratings of a response: on PostgreSQL in one statement (one round trip), on SQLite
/// one prepared row at a time (the statement is parsed once per connection, where a multi-row
/// insert would be parsed again for every response).
pub fn insert_ratings(conn: &mut Conn, rows: &[NewRating<'_>]) -> QueryResult<()> {
    match conn {
        Conn::Sqlite(c) => {
            for row in rows {
                diesel::insert_into(ratings::table).values(row).execute(c)?;
            }
            Ok(())
        }
        Conn::Postgres(c) => diesel::insert_into(ratings::table)
            .values(rows)
            .execute(c)
            .map(drop),
    }
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

/// Number of responses of a campaign.
pub fn count_of_campaign(conn: &mut Conn, campaign_id: i64) -> QueryResult<i64> {
    responses::table
        .filter(responses::campaign_id.eq(campaign_id))
        .count()
        .get_result(conn)
}

/// One campaign by id (the invitation names it by id).
pub fn campaign_by_id(conn: &mut Conn, id: i64) -> QueryResult<Option<CampaignRow>> {
    campaigns::table
        .find(id)
        .select(CampaignRow::as_select())
        .first(conn)
        .optional()
}

/// The state and closing day of a campaign, read again inside the storing transaction.
pub fn campaign_state(conn: &mut Conn, id: i64) -> QueryResult<(String, NaiveDate)> {
    campaigns::table
        .find(id)
        .select((campaigns::state, campaigns::closes_on))
        .first(conn)
}

/// The strata copied onto a response: (size, industry, district) of an enterprise.
pub fn strata_of(conn: &mut Conn, enterprise_id: i64) -> QueryResult<(String, String, String)> {
    enterprises::table
        .find(enterprise_id)
        .select((
            enterprises::size,
            enterprises::industry,
            enterprises::district,
        ))
        .first(conn)
}
