//! Comment moderation: the 营商办 reads every comment of a closed campaign (hidden ones too),
//! approves it (`comment_review` 'approved', 已通过) or hides it with a reason ('hidden', 已隐藏);
//! until then it is 'pending' (未审核). Unit viewers read approved comments only. Nothing
//! here joins a comment to an enterprise.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::Conn;
use super::schema::{campaigns, ratings, units};

/// One comment as the moderator sees it.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct ModeratedComment {
    pub rating_id: i64,
    pub unit_code: String,
    pub unit_name: String,
    pub comment: String,
    pub hidden_reason: Option<String>,
    pub hidden_by: Option<String>,
    /// 'pending', 'approved' or 'hidden'.
    pub review: String,
}

/// A comment's review states as stored.
pub const PENDING: &str = "pending";
pub const APPROVED: &str = "approved";
pub const HIDDEN: &str = "hidden";

/// Every comment of a campaign, by unit code and then text (never in the order written).
pub fn of_campaign(conn: &mut Conn, period: &str) -> QueryResult<Vec<ModeratedComment>> {
    ratings::table
        .inner_join(campaigns::table)
        .inner_join(units::table)
        .filter(campaigns::period.eq(period))
        .filter(ratings::comment.is_not_null())
        .order((units::code, ratings::comment))
        .select((
            ratings::id,
            units::code,
            units::name,
            ratings::comment.assume_not_null(),
            ratings::comment_hidden_reason,
            ratings::comment_hidden_by,
            ratings::comment_review,
        ))
        .load(conn)
}

/// The campaign period and unit code of a commented rating, if it exists.
pub fn locate(conn: &mut Conn, rating_id: i64) -> QueryResult<Option<(String, String)>> {
    ratings::table
        .inner_join(campaigns::table)
        .inner_join(units::table)
        .filter(ratings::id.eq(rating_id))
        .filter(ratings::comment.is_not_null())
        .select((campaigns::period, units::code))
        .first(conn)
        .optional()
}

/// Hides a comment; false when the rating has no comment or it is already hidden.
pub fn hide(
    conn: &mut Conn,
    rating_id: i64,
    reason: &str,
    by: &str,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    let changed = diesel::update(
        ratings::table
            .filter(ratings::id.eq(rating_id))
            .filter(ratings::comment.is_not_null())
            .filter(ratings::comment_review.ne(HIDDEN)),
    )
    .set((
        ratings::comment_review.eq(HIDDEN),
        ratings::comment_hidden_reason.eq(Some(reason)),
        ratings::comment_hidden_by.eq(Some(by)),
        ratings::comment_hidden_at.eq(Some(at)),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Approves a pending comment; false when the rating has no comment or it is not pending.
pub fn approve(conn: &mut Conn, rating_id: i64) -> QueryResult<bool> {
    let changed = diesel::update(
        ratings::table
            .filter(ratings::id.eq(rating_id))
            .filter(ratings::comment.is_not_null())
            .filter(ratings::comment_review.eq(PENDING)),
    )
    .set(ratings::comment_review.eq(APPROVED))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Approves every pending comment of a campaign; returns how many.
pub fn approve_all(conn: &mut Conn, campaign_id: i64) -> QueryResult<usize> {
    diesel::update(
        ratings::table
            .filter(ratings::campaign_id.eq(campaign_id))
            .filter(ratings::comment.is_not_null())
            .filter(ratings::comment_review.eq(PENDING)),
    )
    .set(ratings::comment_review.eq(APPROVED))
    .execute(conn)
}

/// How many comments of a campaign are still pending review.
pub fn pending_count(conn: &mut Conn, campaign_id: i64) -> QueryResult<i64> {
    ratings::table
        .filter(ratings::campaign_id.eq(campaign_id))
        .filter(ratings::comment.is_not_null())
        .filter(ratings::comment_review.eq(PENDING))
        .count()
        .get_result(conn)
}
