//! Reading a campaign's anonymous ratings for aggregation, per-unit response rates, and the strata
//! weighting rakes.

use diesel::prelude::*;

use super::Conn;
use super::schema::{enterprises, interactions, invitations, ratings};

/// One stored rating of a unit: what the statistics engine reads. No respondent: after a campaign
/// closes nothing groups one enterprise's ratings, so the engine counts every rating on its own.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct StoredRating {
    /// JSON object: question id → level 1..5 or null (不了解/未接触).
    pub answers: String,
    pub self_selected: bool,
    /// The weight the close gave it; `None` in an unweighted campaign.
    pub weight: Option<f64>,
}

/// Every rating of one unit in one campaign, through the `(unit_id, campaign_id)` index, in no
/// particular order: the engine puts what it keeps in an order of its own, by content, so no
/// figure depends on the ratings' ids or the order they were stored in.
pub fn of_unit(conn: &mut Conn, campaign_id: i64, unit_id: i64) -> QueryResult<Vec<StoredRating>> {
    ratings::table
        .filter(ratings::unit_id.eq(unit_id))
        .filter(ratings::campaign_id.eq(campaign_id))
        .select((ratings::answers, ratings::self_selected, ratings::weight))
        .load(conn)
}

/// Per unit: (unit id, enterprises invited that were asked about it, of those how many answered).
/// Units nobody was asked about (no interactions) are absent: their response rate is unknown.
pub fn response_counts(
    conn: &mut Conn,
    campaign_id: i64,
    period: &str,
) -> QueryResult<Vec<(i64, i64, i64)>> {
    let pairs: Vec<(i64, bool)> = invitations::table
        .inner_join(
            interactions::table.on(interactions::enterprise_id
                .eq(invitations::enterprise_id)
                .and(interactions::period.eq(period))),
        )
        .filter(invitations::campaign_id.eq(campaign_id))
        .select((interactions::unit_id, invitations::answered))
        .load(conn)?;
    let mut counts: std::collections::BTreeMap<i64, (i64, i64)> = Default::default();
    for (unit, answered) in pairs {
        let entry = counts.entry(unit).or_default();
        entry.0 += 1;
        entry.1 += i64::from(answered);
    }
    Ok(counts
        .into_iter()
        .map(|(unit, (invited, answered))| (unit, invited, answered))
        .collect())
}

/// The enterprises invited to a campaign counted by strata (size, industry, district): the
/// population the respondents are raked to when weighting is on.
pub fn invited_strata(
    conn: &mut Conn,
    campaign_id: i64,
) -> QueryResult<Vec<(String, String, String, i64)>> {
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

/// The strata (size, industry, district) of every enterprise that answered the campaign (its
/// invitation is completed): the respondents that weighting rakes to the invited population.
pub fn answered_strata(
    conn: &mut Conn,
    campaign_id: i64,
) -> QueryResult<Vec<(String, String, String)>> {
    invitations::table
        .inner_join(enterprises::table)
        .filter(invitations::campaign_id.eq(campaign_id))
        .filter(invitations::answered.eq(true))
        .select((
            enterprises::size,
            enterprises::industry,
            enterprises::district,
        ))
        .load(conn)
}
