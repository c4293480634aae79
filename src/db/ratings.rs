//! Reading a campaign's anonymous ratings for aggregation, and per-unit response rates.

use diesel::prelude::*;

use super::Conn;
use super::schema::{interactions, invitations, ratings, responses, units};

/// One stored rating, with the strata of its response: what the statistics engine reads.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct StoredRating {
    pub unit_code: String,
    pub respondent_key: String,
    pub size: String,
    pub industry: String,
    pub district: String,
    /// JSON object: question id → level 1..5 or null (不了解/未接触).
    pub answers: String,
    pub self_selected: bool,
}

/// Every rating of a campaign, handed to `each` in chunks of `chunk` rows read by keyset on the
/// rating id (no OFFSET, no long-lived cursor), so a province's ratings never sit in memory at
/// once. The order is storage order: the statistics engine sorts what it keeps. Returns the count.
pub fn for_each_of_campaign<E: From<diesel::result::Error>>(
    conn: &mut Conn,
    campaign_id: i64,
    chunk: i64,
    mut each: impl FnMut(StoredRating) -> Result<(), E>,
) -> Result<usize, E> {
    let mut after = i64::MIN;
    let mut total = 0;
    loop {
        let rows: Vec<(i64, StoredRating)> = ratings::table
            .inner_join(responses::table)
            .inner_join(units::table)
            .filter(responses::campaign_id.eq(campaign_id))
            .filter(ratings::id.gt(after))
            .order(ratings::id)
            .limit(chunk)
            .select((
                ratings::id,
                (
                    units::code,
                    responses::respondent_key,
                    responses::size,
                    responses::industry,
                    responses::district,
                    ratings::answers,
                    ratings::self_selected,
                ),
            ))
            .load(conn)?;
        let Some(&(last, _)) = rows.last() else {
            return Ok(total);
        };
        after = last;
        total += rows.len();
        for (_, rating) in rows {
            each(rating)?;
        }
    }
}

/// Per unit: (unit id, enterprises invited that were asked about it, of those how many answered).
/// Units nobody was asked about (no interactions) are absent: their response rate is unknown.
pub fn response_counts(
    conn: &mut Conn,
    campaign_id: i64,
    period: &str,
) -> QueryResult<Vec<(i64, i64, i64)>> {
    use diesel::dsl::{count, count_star};
    invitations::table
        .inner_join(
            interactions::table.on(interactions::enterprise_id
                .eq(invitations::enterprise_id)
                .and(interactions::period.eq(period))),
        )
        .filter(invitations::campaign_id.eq(campaign_id))
        .group_by(interactions::unit_id)
        .select((
            interactions::unit_id,
            count_star(),
            count(invitations::completed_at),
        ))
        .order(interactions::unit_id)
        .load(conn)
}

/// The enterprises invited to a campaign counted by strata (size, industry, district): the
/// population the respondents are raked to when weighting is on.
pub fn invited_strata(
    conn: &mut Conn,
    campaign_id: i64,
) -> QueryResult<Vec<(String, String, String, i64)>> {
    use super::schema::enterprises;
    use diesel::dsl::count_star;
    invitations::table
        .inner_join(enterprises::table)
        .filter(invitations::campaign_id.eq(campaign_id))
        .group_by((
            enterprises::size,
            enterprises::industry,
            enterprises::district,
        ))
        .select((
            enterprises::size,
            enterprises::industry,
            enterprises::district,
            count_star(),
        ))
        .load(conn)
}
