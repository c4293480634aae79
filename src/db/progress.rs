//! What the 营商办's progress page and a unit's page count: invitations by stratum, and a unit's
//! answers per campaign (the answers only, never who gave them).

use diesel::prelude::*;

use super::Conn;
use super::campaigns::readable_by;
use super::schema::{campaigns, enterprises, invitations, ratings};
use crate::domain::Audience;

/// One invitation's stratum and where it stands.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct InvitationStratum {
    pub district: String,
    pub industry: String,
    pub size: String,
    /// The invitation's id: while the campaign is open, whether it has answered is worked out
    /// from the ballots' spent keys (`service::ballots`), not read from the row.
    pub invitation_id: i64,
    /// Marked answered by the close.
    pub answered: bool,
}

/// Every invitation of a campaign with the strata of its enterprise.
pub fn invitation_strata(conn: &mut Conn, campaign_id: i64) -> QueryResult<Vec<InvitationStratum>> {
    invitations::table
        .inner_join(enterprises::table)
        .filter(invitations::campaign_id.eq(campaign_id))
        .select((
            enterprises::district,
            enterprises::industry,
            enterprises::size,
            invitations::id,
            invitations::answered,
        ))
        .load(conn)
}

/// The answers (JSON objects) given about one unit in the campaigns `audience` may read
/// ([`readable_by`]), with the campaign's period, state and questionnaire, ordered by period.
pub fn unit_answers(
    conn: &mut Conn,
    unit_id: i64,
    audience: Audience,
) -> QueryResult<Vec<(String, String, String, String)>> {
    ratings::table
        .inner_join(campaigns::table)
        .filter(readable_by(audience))
        .filter(ratings::unit_id.eq(unit_id))
        .order(campaigns::period)
        .select((
            campaigns::period,
            campaigns::state,
            campaigns::template_toml,
            ratings::answers,
        ))
        .load(conn)
}
