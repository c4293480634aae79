//! Rows and queries of campaigns (评议活动) and their progress counts.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use super::Conn;
use super::schema::{campaigns, invitations};
use crate::domain::Audience;

/// The filter every query for inspectors, unit viewers and the public puts on `campaigns`: the
/// states [`Audience::may_read`] allows (only `published`, except for the 营商办). Queries that
/// read answers, comments, counts or figures for an audience join `campaigns` and apply it, so
/// the rule lives in one place and not in a filter per page.
pub fn readable_by(audience: Audience) -> diesel::dsl::EqAny<campaigns::state, Vec<&'static str>> {
    campaigns::state.eq_any(
        audience
            .readable_states()
            .into_iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>(),
    )
}

/// A stored campaign; `state` is one of `draft`, `open`, `closed`, `published`, `discarded`
/// (`discard_reason` is set exactly when it is discarded).
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable, Serialize)]
#[diesel(table_name = campaigns)]
pub struct CampaignRow {
    pub id: i64,
    pub period: String,
    pub state: String,
    pub template_name: String,
    pub template_toml: String,
    pub opens_on: NaiveDate,
    pub closes_on: NaiveDate,
    pub sample_size: Option<i64>,
    pub sample_seed: Option<i64>,
    pub created_at: NaiveDateTime,
    pub opened_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
    pub discard_reason: Option<String>,
    /// The ballot key's public half, set when the campaign opens (the private half is never
    /// stored: docs/architecture.md, "The ballot's life").
    pub ballot_public_key: Option<Vec<u8>>,
    /// The HPKE suite and ballot format the ballots are sealed with ([`crate::ballot::SuiteIds`]).
    pub ballot_suite: Option<String>,
    /// Units one ballot holds at most, and comment characters (UTF-16 units) in all: every
    /// ballot of the campaign is padded to this layout.
    pub ballot_units: Option<i32>,
    pub ballot_comment_chars: Option<i32>,
    /// The close opened and deleted the ballots but has not yet scrubbed them from the files.
    pub scrub_pending: bool,
    /// Ballots the close dropped as unopenable (`--exclude-unopenable`).
    pub unopenable_excluded: Option<i64>,
    /// Whether the campaign is weighted (docs/method.md §2.4), set when it is created; `None`
    /// for campaigns created before it was stored, for which `[weighting] enabled` decides.
    pub weighted: Option<bool>,
    /// How raking went at the close of a weighted campaign (JSON of
    /// [`crate::stats::weighting::RakingReport`]); `None` unweighted or not yet closed.
    pub raking_report: Option<String>,
}

impl CampaignRow {
    /// Whether the campaign is weighted, `default` (`[weighting] enabled`) deciding for a
    /// campaign created before the choice was stored with it.
    pub fn is_weighted(&self, default: bool) -> bool {
        self.weighted.unwrap_or(default)
    }
}

/// A new campaign (always created as a draft).
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = campaigns)]
pub struct NewCampaign<'a> {
    pub period: &'a str,
    pub state: &'a str,
    pub template_name: &'a str,
    pub template_toml: &'a str,
    pub opens_on: NaiveDate,
    pub closes_on: NaiveDate,
    pub sample_size: Option<i64>,
    pub sample_seed: Option<i64>,
    pub created_at: NaiveDateTime,
    pub weighted: Option<bool>,
}

/// Where a campaign's invitations stand, for `campaign show` and the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct InvitationCounts {
    pub invited: i64,
    pub sent: i64,
    pub failed: i64,
    pub bounced: i64,
    /// Survey views in all (not invitations: nothing records which link was viewed).
    pub opened: i64,
    pub completed: i64,
}

/// Inserts a campaign and returns its id.
pub fn insert(conn: &mut Conn, campaign: &NewCampaign<'_>) -> QueryResult<i64> {
    diesel::insert_into(campaigns::table)
        .values(campaign)
        .returning(campaigns::id)
        .get_result(conn)
}

/// The campaign of a period, if any: the one that is not discarded (at most one is), or else the
/// latest discarded one.
pub fn by_period(conn: &mut Conn, period: &str) -> QueryResult<Option<CampaignRow>> {
    let mut rows: Vec<CampaignRow> = campaigns::table
        .filter(campaigns::period.eq(period))
        .order(campaigns::id.desc())
        .select(CampaignRow::as_select())
        .load(conn)?;
    let live = rows.iter().position(|c| c.state != "discarded");
    Ok(match live {
        Some(i) => Some(rows.swap_remove(i)),
        None => rows.into_iter().next(),
    })
}

/// Campaigns under way — taking answers or about to — of which there is at most one at a time.
pub fn under_way(conn: &mut Conn) -> QueryResult<Vec<CampaignRow>> {
    campaigns::table
        .filter(campaigns::state.eq_any(["key_check", "open", "closing"]))
        .select(CampaignRow::as_select())
        .load(conn)
}

/// Marks a campaign discarded, with the office's reason.
pub fn set_discarded(conn: &mut Conn, id: i64, reason: &str, at: NaiveDateTime) -> QueryResult<()> {
    diesel::update(campaigns::table.find(id))
        .set((
            campaigns::state.eq("discarded"),
            campaigns::discard_reason.eq(Some(reason)),
            campaigns::closed_at.eq(Some(at)),
        ))
        .execute(conn)
        .map(drop)
}

/// The campaign with this id, if any.
pub fn by_id(conn: &mut Conn, id: i64) -> QueryResult<Option<CampaignRow>> {
    campaigns::table
        .find(id)
        .select(CampaignRow::as_select())
        .first(conn)
        .optional()
}

/// Moves a campaign's last day.
pub fn set_closes_on(conn: &mut Conn, id: i64, closes_on: NaiveDate) -> QueryResult<()> {
    diesel::update(campaigns::table.find(id))
        .set(campaigns::closes_on.eq(closes_on))
        .execute(conn)
        .map(drop)
}

/// Every campaign, oldest period first (a discarded one before the period's next).
pub fn all(conn: &mut Conn) -> QueryResult<Vec<CampaignRow>> {
    campaigns::table
        .order((campaigns::period, campaigns::id))
        .select(CampaignRow::as_select())
        .load(conn)
}

/// Counts a campaign's invitations by what happened to them.
pub fn invitation_counts(conn: &mut Conn, campaign_id: i64) -> QueryResult<InvitationCounts> {
    let of_campaign = || invitations::table.filter(invitations::campaign_id.eq(campaign_id));
    let by_status = |conn: &mut Conn, status: &str| -> QueryResult<i64> {
        of_campaign()
            .filter(invitations::status.eq(status))
            .count()
            .get_result(conn)
    };
    Ok(InvitationCounts {
        invited: of_campaign().count().get_result(conn)?,
        sent: by_status(conn, "sent")?,
        failed: by_status(conn, "failed")?,
        bounced: by_status(conn, "bounced")?,
        opened: super::survey_views::total(conn, campaign_id)?,
        // While open, the ballots that arrived (one per answered link); after the close, the
        // invitations it marked answered. Never both: the close deletes what it marks.
        completed: of_campaign()
            .filter(invitations::answered.eq(true))
            .count()
            .get_result::<i64>(conn)?
            + super::ballots::count(conn, campaign_id)?,
    })
}

/// Stores the ballot key's public half and the ballot layout of a campaign being opened.
pub fn set_ballot_key(
    conn: &mut Conn,
    id: i64,
    public_key: &[u8],
    suite: &str,
    units: i32,
    comment_chars: i32,
) -> QueryResult<()> {
    diesel::update(campaigns::table.find(id))
        .set((
            campaigns::ballot_public_key.eq(Some(public_key)),
            campaigns::ballot_suite.eq(Some(suite)),
            campaigns::ballot_units.eq(Some(units)),
            campaigns::ballot_comment_chars.eq(Some(comment_chars)),
        ))
        .execute(conn)
        .map(drop)
}

/// Records whether the close's scrub is still to do, and how many ballots it excluded.
pub fn set_scrub_pending(conn: &mut Conn, id: i64, pending: bool) -> QueryResult<()> {
    diesel::update(campaigns::table.find(id))
        .set(campaigns::scrub_pending.eq(pending))
        .execute(conn)
        .map(drop)
}

/// Records how raking went at the close of a weighted campaign (JSON).
pub fn set_raking_report(conn: &mut Conn, id: i64, report: &str) -> QueryResult<()> {
    diesel::update(campaigns::table.find(id))
        .set(campaigns::raking_report.eq(Some(report)))
        .execute(conn)
        .map(drop)
}

/// Records how many ballots the close excluded as unopenable.
pub fn set_unopenable_excluded(conn: &mut Conn, id: i64, excluded: i64) -> QueryResult<()> {
    diesel::update(campaigns::table.find(id))
        .set(campaigns::unopenable_excluded.eq(Some(excluded)))
        .execute(conn)
        .map(drop)
}

/// Moves a campaign to a new state, stamping when it opened or closed.
pub fn set_state(conn: &mut Conn, id: i64, state: &str, at: NaiveDateTime) -> QueryResult<()> {
    let target = campaigns::table.find(id);
    match state {
        "open" => diesel::update(target)
            .set((
                campaigns::state.eq(state),
                campaigns::opened_at.eq(Some(at)),
            ))
            .execute(conn),
        "closed" => diesel::update(target)
            .set((
                campaigns::state.eq(state),
                campaigns::closed_at.eq(Some(at)),
            ))
            .execute(conn),
        _ => diesel::update(target)
            .set(campaigns::state.eq(state))
            .execute(conn),
    }
    .map(drop)
}
