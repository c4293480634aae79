//! What the upgrade step reads and rewrites of answers stored before sealed ballots: ratings that
//! still name their response, the responses, and campaigns opened without a ballot key
//! (`service::upgrade`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::Conn;
use super::schema::{campaigns, invitations, ratings, responses};

/// A rating as an earlier release stored it: with its response.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ratings)]
pub struct LinkedRating {
    pub response_id: Option<i64>,
    pub campaign_id: i64,
    pub unit_id: i64,
    pub self_selected: bool,
    pub answers: String,
    pub problems: String,
    pub comment: Option<String>,
    pub comment_hidden_reason: Option<String>,
    pub comment_hidden_at: Option<NaiveDateTime>,
    pub comment_hidden_by: Option<String>,
    pub size: String,
    pub industry: String,
    pub district: String,
    pub comment_review: String,
}

/// How many ratings still name a response, and how many responses are stored.
pub fn linked_counts(conn: &mut Conn) -> QueryResult<(i64, i64)> {
    let ratings = ratings::table
        .filter(ratings::response_id.is_not_null())
        .count()
        .get_result(conn)?;
    let responses = responses::table.count().get_result(conn)?;
    Ok((ratings, responses))
}

/// Periods of campaigns open without a ballot key (opened by an earlier release).
pub fn open_without_key(conn: &mut Conn) -> QueryResult<Vec<(i64, String)>> {
    campaigns::table
        .filter(campaigns::state.eq("open"))
        .filter(campaigns::ballot_public_key.is_null())
        .order(campaigns::id)
        .select((campaigns::id, campaigns::period))
        .load(conn)
}

/// The ratings of a campaign that still name their response.
pub fn linked_ratings(conn: &mut Conn, campaign_id: i64) -> QueryResult<Vec<LinkedRating>> {
    ratings::table
        .filter(ratings::campaign_id.eq(campaign_id))
        .filter(ratings::response_id.is_not_null())
        .select(LinkedRating::as_select())
        .load(conn)
}

/// Campaigns with ratings that still name their response.
pub fn campaigns_with_linked_ratings(conn: &mut Conn) -> QueryResult<Vec<i64>> {
    ratings::table
        .filter(ratings::response_id.is_not_null())
        .select(ratings::campaign_id)
        .distinct()
        .order(ratings::campaign_id)
        .load(conn)
}

/// Deletes a campaign's ratings that name a response, then its responses. Returns both counts.
pub fn delete_linked(conn: &mut Conn, campaign_id: i64) -> QueryResult<(usize, usize)> {
    let ratings = diesel::delete(
        ratings::table
            .filter(ratings::campaign_id.eq(campaign_id))
            .filter(ratings::response_id.is_not_null()),
    )
    .execute(conn)?;
    let responses = diesel::delete(responses::table.filter(responses::campaign_id.eq(campaign_id)))
        .execute(conn)?;
    Ok((ratings, responses))
}

/// Deletes every response still stored. Called last: by then no rating names one (the upgrade
/// deleted the linked ratings campaign by campaign), so what is left are responses that rated
/// nothing storable, of any campaign.
pub fn delete_remaining_responses(conn: &mut Conn) -> QueryResult<usize> {
    diesel::delete(responses::table).execute(conn)
}

/// Gives a rewritten rating's comment the review it had (approved, or hidden with its reason).
pub fn set_review(conn: &mut Conn, id: i64, was: &LinkedRating) -> QueryResult<()> {
    diesel::update(ratings::table.find(id))
        .set((
            ratings::comment_review.eq(&was.comment_review),
            ratings::comment_hidden_reason.eq(&was.comment_hidden_reason),
            ratings::comment_hidden_at.eq(was.comment_hidden_at),
            ratings::comment_hidden_by.eq(&was.comment_hidden_by),
        ))
        .execute(conn)
        .map(drop)
}

/// The invitations of a campaign marked answered, by id.
pub fn answered_invitations(conn: &mut Conn, campaign_id: i64) -> QueryResult<Vec<i64>> {
    invitations::table
        .filter(invitations::campaign_id.eq(campaign_id))
        .filter(invitations::answered.eq(true))
        .order(invitations::id)
        .select(invitations::id)
        .load(conn)
}

/// Clears the answered flag of a campaign's invitations (while open, a ballot's spent key says it).
pub fn clear_answered(conn: &mut Conn, campaign_id: i64) -> QueryResult<usize> {
    diesel::update(invitations::table.filter(invitations::campaign_id.eq(campaign_id)))
        .set(invitations::answered.eq(false))
        .execute(conn)
}

/// A rating stored with its enterprise's strata (closed by an earlier release): its id, campaign,
/// unit and the strata the upgrade turns into a weight.
pub type StrataRating = (i64, i64, i64, String, String, String);

/// Ratings that still carry strata.
pub fn ratings_with_strata(conn: &mut Conn) -> QueryResult<Vec<StrataRating>> {
    ratings::table
        .filter(
            ratings::size
                .ne("")
                .or(ratings::industry.ne(""))
                .or(ratings::district.ne("")),
        )
        .select((
            ratings::id,
            ratings::campaign_id,
            ratings::unit_id,
            ratings::size,
            ratings::industry,
            ratings::district,
        ))
        .load(conn)
}

/// How many ratings still carry strata (none once the upgrade step has run: the query then
/// returns no row).
pub fn strata_count(conn: &mut Conn) -> QueryResult<i64> {
    Ok(ratings_with_strata(conn)?.len() as i64)
}

/// Gives a rating its weight and empties its strata.
pub fn set_weight(conn: &mut Conn, id: i64, weight: Option<f64>) -> QueryResult<()> {
    diesel::update(ratings::table.find(id))
        .set((
            ratings::weight.eq(weight),
            ratings::size.eq(""),
            ratings::industry.eq(""),
            ratings::district.eq(""),
        ))
        .execute(conn)
        .map(drop)
}
