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

/// Where [`page`] goes on: past the last ballot it read.
#[derive(Debug, Default)]
pub struct Cursor {
    /// SQLite: the last rowid read (ballots lie in the order they arrived).
    rowid: i64,
    /// PostgreSQL: the last spent key read.
    spent_key: Vec<u8>,
}

#[derive(QueryableByName)]
struct PagedRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    position: i64,
    #[diesel(sql_type = diesel::sql_types::Binary)]
    spent_key: Vec<u8>,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    campaign_id: i64,
    #[diesel(sql_type = diesel::sql_types::Binary)]
    sealed: Vec<u8>,
}

/// Takes the next `limit` ballots of a campaign after `cursor` out of the table: reads them,
/// deletes exactly them and moves the cursor past them; empty when none is left. The close takes
/// a province's ballots a page at a time inside its one transaction, so they never sit in memory
/// at once and their deletion (zeroing, on SQLite) overlaps the opening. Each page is one index
/// range: SQLite's `(campaign_id)` index in rowid order, PostgreSQL's primary key from the last
/// spent key.
pub fn take_page(
    conn: &mut Conn,
    campaign_id: i64,
    cursor: &mut Cursor,
    limit: i64,
) -> QueryResult<Vec<BallotRow>> {
    use diesel::sql_types::{BigInt, Binary};
    let (rows, deleted) = match conn {
        Conn::Sqlite(c) => {
            let rows: Vec<PagedRow> = diesel::sql_query(
                "SELECT rowid AS position, spent_key, campaign_id, sealed FROM ballots \
                 WHERE campaign_id = ? AND rowid > ? ORDER BY rowid LIMIT ?",
            )
            .bind::<BigInt, _>(campaign_id)
            .bind::<BigInt, _>(cursor.rowid)
            .bind::<BigInt, _>(limit)
            .load(c)?;
            let Some(last) = rows.last().map(|r| r.position) else {
                return Ok(Vec::new());
            };
            let deleted = diesel::sql_query(
                "DELETE FROM ballots WHERE campaign_id = ? AND rowid > ? AND rowid <= ?",
            )
            .bind::<BigInt, _>(campaign_id)
            .bind::<BigInt, _>(cursor.rowid)
            .bind::<BigInt, _>(last)
            .execute(c)?;
            cursor.rowid = last;
            let rows: Vec<BallotRow> = rows
                .into_iter()
                .map(|r| BallotRow {
                    spent_key: r.spent_key,
                    campaign_id: r.campaign_id,
                    sealed: r.sealed,
                })
                .collect();
            (rows, deleted)
        }
        Conn::Postgres(c) => {
            let rows: Vec<BallotRow> = ballots::table
                .filter(ballots::campaign_id.eq(campaign_id))
                .filter(ballots::spent_key.gt(&cursor.spent_key))
                .order(ballots::spent_key)
                .select(BallotRow::as_select())
                .limit(limit)
                .load(c)?;
            let Some(last) = rows.last().map(|r| r.spent_key.clone()) else {
                return Ok(Vec::new());
            };
            let deleted = diesel::sql_query(
                "DELETE FROM ballots WHERE campaign_id = $1 AND spent_key > $2 AND spent_key <= $3",
            )
            .bind::<BigInt, _>(campaign_id)
            .bind::<Binary, _>(&cursor.spent_key)
            .bind::<Binary, _>(&last)
            .execute(c)?;
            cursor.spent_key = last;
            (rows, deleted)
        }
    };
    if deleted != rows.len() {
        return Err(diesel::result::Error::QueryBuilderError(
            format!("读出 {} 份密封答卷,却删除了 {deleted} 份", rows.len()).into(),
        ));
    }
    Ok(rows)
}

/// Every ballot of a campaign, in spent-key order.
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
