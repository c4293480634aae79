//! Aggregations, their per-unit and per-group rows, publications and flags. Once a publication
//! refers to an aggregation, database triggers refuse any change to it (migration 000003).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::Conn;
use super::campaigns::readable_by;
use super::schema::{
    aggregations, campaigns, flags, peer_group_results, publications, unit_results, units,
};
use crate::domain::Audience;

/// One aggregation run.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable, Serialize)]
#[diesel(table_name = aggregations)]
pub struct AggregationRow {
    pub id: i64,
    pub campaign_id: i64,
    pub method_version: String,
    pub seed: i64,
    pub settings: String,
    pub computed_at: NaiveDateTime,
    pub result_json: String,
}

/// A new aggregation.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = aggregations)]
pub struct NewAggregation<'a> {
    pub campaign_id: i64,
    pub method_version: &'a str,
    pub seed: i64,
    pub settings: &'a str,
    pub computed_at: NaiveDateTime,
    pub result_json: &'a str,
}

/// One unit's stored figures of one aggregation.
#[derive(Debug, Clone, PartialEq, Insertable, Queryable, Selectable)]
#[diesel(table_name = unit_results)]
pub struct UnitResultFields {
    pub aggregation_id: i64,
    pub unit_id: i64,
    pub peer_group: String,
    pub n: i64,
    pub n_eff: f64,
    pub response_rate: Option<f64>,
    pub score: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub satisfied_rate: Option<f64>,
    pub satisfied_low: Option<f64>,
    pub satisfied_high: Option<f64>,
    pub shrunken: Option<f64>,
    pub rank: Option<i64>,
    pub rank_mean: Option<f64>,
    pub rank_low: Option<i64>,
    pub rank_high: Option<i64>,
    pub p_bottom5: Option<f64>,
    pub eligible: bool,
    pub suppressed: bool,
}

/// One peer group's stored figures of one aggregation.
#[derive(Debug, Clone, PartialEq, Insertable)]
#[diesel(table_name = peer_group_results)]
pub struct PeerGroupResultFields<'a> {
    pub aggregation_id: i64,
    pub peer_group: &'a str,
    pub tau2: Option<f64>,
    pub mu: Option<f64>,
}

/// A frozen publication.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable, Serialize)]
#[diesel(table_name = publications)]
pub struct PublicationRow {
    pub id: i64,
    pub campaign_id: i64,
    pub version: i32,
    pub aggregation_id: i64,
    pub supersedes_id: Option<i64>,
    pub reason: Option<String>,
    pub published_at: NaiveDateTime,
    pub results_json: String,
    pub flag_notes: String,
}

/// A new publication.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = publications)]
pub struct NewPublication<'a> {
    pub campaign_id: i64,
    pub version: i32,
    pub aggregation_id: i64,
    pub supersedes_id: Option<i64>,
    pub reason: Option<&'a str>,
    pub published_at: NaiveDateTime,
    pub results_json: &'a str,
    pub flag_notes: &'a str,
}

/// A stored flag; `evidence` is the inspectors' JSON (docs/interface.md §4.3).
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = flags)]
pub struct FlagFields {
    pub publication_id: i64,
    pub unit_id: i64,
    pub periods: String,
    pub credible: bool,
    pub evidence: String,
}

/// Stores an aggregation with its unit and group rows; returns its id.
pub fn insert_aggregation(
    conn: &mut Conn,
    aggregation: &NewAggregation<'_>,
    units: &mut [UnitResultFields],
    groups: &mut [PeerGroupResultFields<'_>],
) -> QueryResult<i64> {
    let id = diesel::insert_into(aggregations::table)
        .values(aggregation)
        .returning(aggregations::id)
        .get_result(conn)?;
    for u in units.iter_mut() {
        u.aggregation_id = id;
    }
    for g in groups.iter_mut() {
        g.aggregation_id = id;
    }
    for chunk in units.chunks(500) {
        crate::on_backend!(&mut *conn, |c| diesel::insert_into(unit_results::table)
            .values(chunk)
            .execute(c))?;
    }
    for g in groups.iter() {
        diesel::insert_into(peer_group_results::table)
            .values(g)
            .execute(conn)?;
    }
    Ok(id)
}

/// The newest aggregation of a campaign.
pub fn latest_aggregation(
    conn: &mut Conn,
    campaign_id: i64,
) -> QueryResult<Option<AggregationRow>> {
    aggregations::table
        .filter(aggregations::campaign_id.eq(campaign_id))
        .order(aggregations::id.desc())
        .select(AggregationRow::as_select())
        .first(conn)
        .optional()
}

/// One aggregation by id.
pub fn aggregation(conn: &mut Conn, id: i64) -> QueryResult<AggregationRow> {
    aggregations::table
        .find(id)
        .select(AggregationRow::as_select())
        .first(conn)
}

/// Stores a publication; returns its id.
pub fn insert_publication(conn: &mut Conn, new: &NewPublication<'_>) -> QueryResult<i64> {
    diesel::insert_into(publications::table)
        .values(new)
        .returning(publications::id)
        .get_result(conn)
}

/// The current (highest) version published for a campaign.
///
/// The publication reads below are what the public, inspectors and unit viewers see, so they
/// apply the audience rule ([`readable_by`]) like every other such read; a publication row of a
/// campaign that is not `published` cannot exist, and would not be read if it did.
pub fn current_publication(
    conn: &mut Conn,
    campaign_id: i64,
) -> QueryResult<Option<PublicationRow>> {
    publications::table
        .inner_join(campaigns::table)
        .filter(readable_by(Audience::Public))
        .filter(publications::campaign_id.eq(campaign_id))
        .order(publications::version.desc())
        .select(PublicationRow::as_select())
        .first(conn)
        .optional()
}

/// One version of a campaign's publication.
pub fn publication_version(
    conn: &mut Conn,
    campaign_id: i64,
    version: i32,
) -> QueryResult<Option<PublicationRow>> {
    publications::table
        .inner_join(campaigns::table)
        .filter(readable_by(Audience::Public))
        .filter(publications::campaign_id.eq(campaign_id))
        .filter(publications::version.eq(version))
        .select(PublicationRow::as_select())
        .first(conn)
        .optional()
}

/// Every version published for a campaign, oldest first.
pub fn publications_of(conn: &mut Conn, campaign_id: i64) -> QueryResult<Vec<PublicationRow>> {
    publications::table
        .inner_join(campaigns::table)
        .filter(readable_by(Audience::Public))
        .filter(publications::campaign_id.eq(campaign_id))
        .order(publications::version)
        .select(PublicationRow::as_select())
        .load(conn)
}

/// Stores the flags of a publication.
pub fn insert_flags(conn: &mut Conn, rows: &[FlagFields]) -> QueryResult<()> {
    for row in rows {
        diesel::insert_into(flags::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

/// The flags of one publication, by unit code.
pub fn flags_of(conn: &mut Conn, publication_id: i64) -> QueryResult<Vec<(FlagFields, String)>> {
    flags::table
        .inner_join(units::table)
        .filter(flags::publication_id.eq(publication_id))
        .order(units::code)
        .select((FlagFields::as_select(), units::code))
        .load(conn)
}
