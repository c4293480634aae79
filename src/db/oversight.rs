//! Read-only queries behind the unit viewers' pages: the comments of ratings (never with anything
//! that identifies the response beyond its id).

use diesel::prelude::*;

use super::Conn;
use super::campaigns::readable_by;
use super::schema::{campaigns, ratings, responses};
use crate::domain::Audience;

/// One comment on a unit: which campaign (and its state) and which response (to count
/// distinct commenters).
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct CommentRecord {
    pub period: String,
    pub state: String,
    pub unit_id: i64,
    pub response_id: i64,
    pub comment: String,
}

/// Visible (not hidden by moderation) comments on the given units, of the campaigns `audience`
/// may read ([`readable_by`]).
pub fn comments(
    conn: &mut Conn,
    unit_ids: &[i64],
    audience: Audience,
) -> QueryResult<Vec<CommentRecord>> {
    ratings::table
        .inner_join(responses::table.inner_join(campaigns::table))
        .filter(readable_by(audience))
        .filter(ratings::unit_id.eq_any(unit_ids))
        .filter(ratings::comment_hidden_reason.is_null())
        .filter(ratings::comment.is_not_null())
        .select((
            campaigns::period,
            campaigns::state,
            ratings::unit_id,
            ratings::response_id,
            ratings::comment.assume_not_null(),
        ))
        .load(conn)
}
