//! Stored answers: the ratings the close writes from the opened ballots, the campaign state a
//! submission reads, and the discard's deletion. `responses` (and `ratings.response_id`) hold only
//! answers stored before sealed ballots (issue 38): nothing writes them any more.
//!
//! A rating row holds no enterprise, invitation, response, ballot or time; its id is random and
//! the close inserts the campaign's ratings in one random order across ballots
//! (`service::closing`).

use chrono::NaiveDate;
use diesel::prelude::*;

use super::Conn;
use super::schema::{campaigns, enterprises, ratings, responses, withheld_units};

/// A new rating of one unit within a response. `answers` and `problems` are JSON text. A missing
/// comment is bound as NULL rather than left out, so the insert is one statement text whatever the
/// comments, prepared once per connection.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = ratings, treat_none_as_default_value = false)]
pub struct NewRating<'a> {
    pub id: i64,
    pub campaign_id: i64,
    pub unit_id: i64,
    pub self_selected: bool,
    pub answers: &'a str,
    pub problems: &'a str,
    pub comment: Option<&'a str>,
    /// The weight the close gave it (a weighted campaign), shared by at least five raters of
    /// the unit; `None` unweighted. The enterprise's strata are never stored (issue 39): the
    /// table's strata columns are written empty.
    pub weight: Option<f64>,
    pub size: &'static str,
    pub industry: &'static str,
    pub district: &'static str,
}

/// Stores ratings in the order given: on PostgreSQL as one binary `COPY`, on SQLite one prepared
/// row at a time (the statement is parsed once per connection).
pub fn insert_ratings(conn: &mut Conn, rows: &[NewRating<'_>]) -> QueryResult<()> {
    match conn {
        Conn::Sqlite(c) => {
            for row in rows {
                diesel::insert_into(ratings::table).values(row).execute(c)?;
            }
            Ok(())
        }
        Conn::Postgres(c) => diesel::copy_from(ratings::table)
            .from_insertable(rows)
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

/// Deletes every stored answer of a campaign (a discard): its ratings, withheld counts and
/// responses stored before sealed ballots. Returns how many ratings there were.
pub fn delete_of_campaign(conn: &mut Conn, campaign_id: i64) -> QueryResult<usize> {
    let ratings = diesel::delete(ratings::table.filter(ratings::campaign_id.eq(campaign_id)))
        .execute(conn)?;
    diesel::delete(withheld_units::table.filter(withheld_units::campaign_id.eq(campaign_id)))
        .execute(conn)?;
    diesel::delete(responses::table.filter(responses::campaign_id.eq(campaign_id)))
        .execute(conn)?;
    Ok(ratings)
}

/// Records a unit whose answers the close withheld, with how many entries it had.
pub fn insert_withheld(
    conn: &mut Conn,
    campaign_id: i64,
    unit_id: i64,
    entries: i64,
) -> QueryResult<()> {
    diesel::insert_into(withheld_units::table)
        .values((
            withheld_units::campaign_id.eq(campaign_id),
            withheld_units::unit_id.eq(unit_id),
            withheld_units::entries.eq(entries),
        ))
        .execute(conn)
        .map(drop)
}

/// The units of a campaign whose answers the close withheld: (unit id, entries).
pub fn withheld(conn: &mut Conn, campaign_id: i64) -> QueryResult<Vec<(i64, i64)>> {
    withheld_units::table
        .filter(withheld_units::campaign_id.eq(campaign_id))
        .order(withheld_units::unit_id)
        .select((withheld_units::unit_id, withheld_units::entries))
        .load(conn)
}
