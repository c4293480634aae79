//! Read-only queries behind the unit viewers' pages: the comments of ratings, with their unit and
//! campaign and nothing that groups one enterprise's comments.

use diesel::prelude::*;

use super::Conn;
use super::campaigns::readable_by;
use super::schema::{campaigns, ratings};
use crate::domain::Audience;

/// One comment on a unit, with its campaign (and the campaign's state). A rating is one
/// enterprise's, so each comment on a unit in a campaign is one commenter's.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct CommentRecord {
    pub period: String,
    pub state: String,
    pub unit_id: i64,
    pub comment: String,
}

/// Visible comments on the given units, of the campaigns `audience` may read ([`readable_by`]):
/// approved ones (已通过) for unit viewers; for the 营商办, which reviews them, every
/// comment not hidden.
pub fn comments(
    conn: &mut Conn,
    unit_ids: &[i64],
    audience: Audience,
) -> QueryResult<Vec<CommentRecord>> {
    use super::moderation::{APPROVED, PENDING};
    let shown: &[&str] = match audience {
        Audience::Admin => &[PENDING, APPROVED],
        _ => &[APPROVED],
    };
    ratings::table
        .inner_join(campaigns::table)
        .filter(readable_by(audience))
        .filter(ratings::unit_id.eq_any(unit_ids))
        .filter(ratings::comment_review.eq_any(shown))
        .filter(ratings::comment.is_not_null())
        .select((
            campaigns::period,
            campaigns::state,
            ratings::unit_id,
            ratings::comment.assume_not_null(),
        ))
        .load(conn)
}
