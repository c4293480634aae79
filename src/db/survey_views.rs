//! How many times a campaign's surveys were viewed, per Beijing day — nothing per invitation, so a
//! view cannot be lined up with the ballot that followed it (docs/architecture.md §4.2). The
//! server counts views in memory and adds them here now and then
//! ([`crate::service::survey::ViewCounter`]).

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::upsert::excluded;

use super::Conn;
use super::schema::survey_views;

/// Adds `views` to a campaign's count for `day`.
pub fn add(conn: &mut Conn, campaign_id: i64, day: NaiveDate, views: i64) -> QueryResult<()> {
    crate::on_backend!(conn, |c| diesel::insert_into(survey_views::table)
        .values((
            survey_views::campaign_id.eq(campaign_id),
            survey_views::day.eq(day),
            survey_views::views.eq(views),
        ))
        .on_conflict((survey_views::campaign_id, survey_views::day))
        .do_update()
        .set(survey_views::views.eq(survey_views::views + excluded(survey_views::views)))
        .execute(c))
    .map(drop)
}

/// A campaign's views per day, oldest first.
pub fn by_day(conn: &mut Conn, campaign_id: i64) -> QueryResult<Vec<(NaiveDate, i64)>> {
    survey_views::table
        .filter(survey_views::campaign_id.eq(campaign_id))
        .order(survey_views::day)
        .select((survey_views::day, survey_views::views))
        .load(conn)
}

/// A campaign's views in all.
pub fn total(conn: &mut Conn, campaign_id: i64) -> QueryResult<i64> {
    Ok(by_day(conn, campaign_id)?.iter().map(|(_, n)| n).sum())
}
