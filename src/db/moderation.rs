//! Comment moderation: the 营商办 reads every comment of a campaign (hidden ones too) and hides
//! one with a reason before units see it. Nothing here joins a comment to an enterprise.

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
}

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
            .filter(ratings::comment_hidden_reason.is_null()),
    )
    .set((
        ratings::comment_hidden_reason.eq(Some(reason)),
        ratings::comment_hidden_by.eq(Some(by)),
        ratings::comment_hidden_at.eq(Some(at)),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}
