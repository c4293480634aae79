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

/// Every rating of a campaign, handed to `each` chunk by chunk, so a province's ratings never sit
/// in memory at once: `chunk` responses at a time by keyset on the response id (no OFFSET, no
/// long-lived cursor), then their ratings by a range scan of the `(response_id, unit_id)` index, so
/// no chunk joins the whole `responses` table again. The order is storage order: the statistics
/// engine sorts what it keeps. Returns the number of ratings.
pub fn for_each_of_campaign<E: From<diesel::result::Error>>(
    conn: &mut Conn,
    campaign_id: i64,
    chunk: i64,
    mut each: impl FnMut(StoredRating) -> Result<(), E>,
) -> Result<usize, E> {
    let mut after = i64::MIN;
    let mut total = 0;
    loop {
        let respondents: Vec<(i64, String, String, String, String)> = responses::table
            .filter(responses::campaign_id.eq(campaign_id))
            .filter(responses::id.gt(after))
            .order(responses::id)
            .limit(chunk.max(1))
            .select((
                responses::id,
                responses::respondent_key,
                responses::size,
                responses::industry,
                responses::district,
            ))
            .load(conn)?;
        let (Some(first), Some(last)) = (respondents.first(), respondents.last()) else {
            return Ok(total);
        };
        let (first, last) = (first.0, last.0);
        after = last;
        let by_id: std::collections::HashMap<i64, usize> = respondents
            .iter()
            .enumerate()
            .map(|(i, r)| (r.0, i))
            .collect();
        let rows: Vec<(i64, String, String, bool)> = ratings::table
            .inner_join(units::table)
            .filter(ratings::response_id.between(first, last))
            .select((
                ratings::response_id,
                units::code,
                ratings::answers,
                ratings::self_selected,
            ))
            .load(conn)?;
        for (response, unit_code, answers, self_selected) in rows {
            // The id range may hold other campaigns' responses too.
            let Some(&i) = by_id.get(&response) else {
                continue;
            };
            let (_, key, size, industry, district) = &respondents[i];
            total += 1;
            each(StoredRating {
                unit_code,
                respondent_key: key.clone(),
                size: size.clone(),
                industry: industry.clone(),
                district: district.clone(),
                answers,
                self_selected,
            })?;
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
