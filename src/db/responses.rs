//! The submission path's writes: anonymous responses (答卷) and their ratings, and what storing
//! one reads. Nothing else in qiping reads `responses`: every other reader takes ratings by
//! campaign and unit (`tests/it/…` checks no query outside the submission path names the table).
//!
//! A response row holds no enterprise id, token or time of day (docs/architecture.md §4.2). Its id and
//! its ratings' ids are random rather than sequential, so the order of rows cannot be lined up with
//! the order in which invitations were completed.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::Conn;
use super::schema::{campaigns, enterprises, ratings, responses};

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
    pub campaign_id: i64,
    pub unit_id: i64,
    pub self_selected: bool,
    pub answers: &'a str,
    pub problems: &'a str,
    pub comment: Option<&'a str>,
    /// The enterprise's strata, read only by weighting (the response keeps them too, until no
    /// response is stored).
    pub size: &'a str,
    pub industry: &'a str,
    pub district: &'a str,
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

/// The state and closing day of a campaign, read again inside the storing transaction. On
/// PostgreSQL the row is read `FOR SHARE`: a close or a discard, which update it, wait for the
/// submissions that read it open to commit, and submissions after them read the new state — so no
/// answer lands in a campaign that was closed or discarded meanwhile. (SQLite's writers are
/// serialised by its write lock.)
pub fn campaign_state(conn: &mut Conn, id: i64) -> QueryResult<(String, NaiveDate)> {
    let query = campaigns::table
        .find(id)
        .select((campaigns::state, campaigns::closes_on));
    match conn {
        Conn::Sqlite(c) => query.first(c),
        Conn::Postgres(c) => query.for_share().first(c),
    }
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

/// Deletes every stored answer of a campaign (a discard): its ratings, then its responses. Returns
/// how many responses there were.
pub fn delete_of_campaign(conn: &mut Conn, campaign_id: i64) -> QueryResult<usize> {
    diesel::delete(ratings::table.filter(ratings::campaign_id.eq(campaign_id))).execute(conn)?;
    diesel::delete(responses::table.filter(responses::campaign_id.eq(campaign_id))).execute(conn)
}
