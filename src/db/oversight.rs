//! Read-only queries behind the inspectors' and unit viewers' pages: stored flags, and the
//! comments of ratings (never with anything that identifies the response beyond its id).

use diesel::prelude::*;

use super::Conn;
use super::schema::{campaigns, flags, publications, ratings, responses, units};

/// A stored flag with its unit and the period of the publication that raised it.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct FlagRecord {
    pub period: String,
    pub unit_code: String,
    pub unit_name: String,
    pub kind: String,
    pub peer_group: String,
    pub periods: String,
    pub credible: bool,
    pub evidence: String,
}

/// Flags of every publication, or of one period's, newest publication first.
pub fn flags(conn: &mut Conn, period: Option<&str>) -> QueryResult<Vec<FlagRecord>> {
    let mut query = flags::table
        .inner_join(publications::table.inner_join(campaigns::table))
        .inner_join(units::table)
        .select((
            campaigns::period,
            units::code,
            units::name,
            units::kind,
            units::peer_group,
            flags::periods,
            flags::credible,
            flags::evidence,
        ))
        .order((publications::published_at.desc(), units::code.asc()))
        .into_boxed();
    if let Some(period) = period {
        query = query.filter(campaigns::period.eq(period.to_owned()));
    }
    query.load(conn)
}

/// One comment on a unit: which campaign and which response (to count distinct commenters).
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct CommentRecord {
    pub period: String,
    pub unit_id: i64,
    pub response_id: i64,
    pub comment: String,
}

/// Visible (not hidden by moderation) comments on the given units.
pub fn comments(conn: &mut Conn, unit_ids: &[i64]) -> QueryResult<Vec<CommentRecord>> {
    ratings::table
        .inner_join(responses::table.inner_join(campaigns::table))
        .filter(ratings::unit_id.eq_any(unit_ids))
        .filter(ratings::comment_hidden_reason.is_null())
        .filter(ratings::comment.is_not_null())
        .select((
            campaigns::period,
            ratings::unit_id,
            ratings::response_id,
            ratings::comment.assume_not_null(),
        ))
        .load(conn)
}
