//! Sealed ballots (密封答卷): what a submission writes while a campaign is open, and what the close
//! reads, opens and deletes. A row is a spent key and the sealed bytes — no invitation, no time, no
//! id of its own (docs/architecture.md, "The ballot's life").

use diesel::prelude::*;

use super::Conn;
use super::schema::ballots;

/// One stored ballot.
#[derive(Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = ballots)]
pub struct BallotRow {
    pub spent_key: Vec<u8>,
    pub campaign_id: i64,
    pub sealed: Vec<u8>,
}

impl std::fmt::Debug for BallotRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BallotRow(campaign {}, ***)", self.campaign_id)
    }
}

/// Stores a ballot unless one with its spent key is there already: `ON CONFLICT DO NOTHING`, so
/// that on PostgreSQL a second ballot of one link does not abort the batch's transaction. Returns
/// whether it was stored.
pub fn insert(
    conn: &mut Conn,
    spent_key: &[u8],
    campaign_id: i64,
    sealed: &[u8],
) -> QueryResult<bool> {
    let inserted = crate::on_backend!(conn, |c| diesel::insert_into(ballots::table)
        .values((
            ballots::spent_key.eq(spent_key),
            ballots::campaign_id.eq(campaign_id),
            ballots::sealed.eq(sealed),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(inserted == 1)
}

/// Whether a ballot with this spent key is stored.
pub fn exists(conn: &mut Conn, spent_key: &[u8]) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        ballots::table.filter(ballots::spent_key.eq(spent_key)),
    ))
    .get_result(conn)
}

/// The spent keys of a campaign's ballots (who has answered, for whoever can recompute them).
pub fn spent_keys(conn: &mut Conn, campaign_id: i64) -> QueryResult<Vec<Vec<u8>>> {
    ballots::table
        .filter(ballots::campaign_id.eq(campaign_id))
        .select(ballots::spent_key)
        .load(conn)
}

/// How many ballots a campaign holds.
pub fn count(conn: &mut Conn, campaign_id: i64) -> QueryResult<i64> {
    ballots::table
        .filter(ballots::campaign_id.eq(campaign_id))
        .count()
        .get_result(conn)
}

/// Every ballot of a campaign, in spent-key order (the close).
pub fn of_campaign(conn: &mut Conn, campaign_id: i64) -> QueryResult<Vec<BallotRow>> {
    ballots::table
        .filter(ballots::campaign_id.eq(campaign_id))
        .order(ballots::spent_key)
        .select(BallotRow::as_select())
        .load(conn)
}

/// Deletes every ballot of a campaign; returns how many.
pub fn delete_of_campaign(conn: &mut Conn, campaign_id: i64) -> QueryResult<usize> {
    diesel::delete(ballots::table.filter(ballots::campaign_id.eq(campaign_id))).execute(conn)
}
