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

/// Every rating of a campaign in the engine's fixed order: unit code, then respondent key.
pub fn of_campaign(conn: &mut Conn, campaign_id: i64) -> QueryResult<Vec<StoredRating>> {
    ratings::table
        .inner_join(responses::table)
        .inner_join(units::table)
        .filter(responses::campaign_id.eq(campaign_id))
        .order((units::code, responses::respondent_key))
        .select((
            units::code,
            responses::respondent_key,
            responses::size,
            responses::industry,
            responses::district,
            ratings::answers,
            ratings::self_selected,
        ))
        .load(conn)
}

/// Per unit: (unit id, enterprises invited that were asked about it, of those how many answered).
/// Units nobody was asked about (no interactions) are absent: their response rate is unknown.
pub fn response_counts(
    conn: &mut Conn,
    campaign_id: i64,
    period: &str,
) -> QueryResult<Vec<(i64, i64, i64)>> {
    let rows: Vec<(i64, Option<chrono::NaiveDateTime>)> = invitations::table
        .inner_join(
            interactions::table.on(interactions::enterprise_id
                .eq(invitations::enterprise_id)
                .and(interactions::period.eq(period))),
        )
        .filter(invitations::campaign_id.eq(campaign_id))
        .select((interactions::unit_id, invitations::completed_at))
        .load(conn)?;
    let mut counts: std::collections::BTreeMap<i64, (i64, i64)> = Default::default();
    for (unit, completed) in rows {
        let entry = counts.entry(unit).or_default();
        entry.0 += 1;
        entry.1 += i64::from(completed.is_some());
    }
    Ok(counts.into_iter().map(|(u, (i, c))| (u, i, c)).collect())
}

/// The strata (size, industry, district) of every enterprise invited to a campaign: the population
/// the respondents are raked to when weighting is on.
pub fn invited_strata(
    conn: &mut Conn,
    campaign_id: i64,
) -> QueryResult<Vec<(String, String, String)>> {
    use super::schema::enterprises;
    invitations::table
        .inner_join(enterprises::table)
        .filter(invitations::campaign_id.eq(campaign_id))
        .select((
            enterprises::size,
            enterprises::industry,
            enterprises::district,
        ))
        .load(conn)
}
