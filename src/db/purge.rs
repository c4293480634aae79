//! Queries of `qiping purge`: which rows hold personal data past retention, and clearing it.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::Conn;
use super::schema::{campaigns, enterprises, invitations, problems};

/// Enterprises invited to a campaign that closes on or after `day` (their contact is still in use).
pub fn enterprises_invited_since(conn: &mut Conn, day: NaiveDate) -> QueryResult<Vec<i64>> {
    invitations::table
        .inner_join(campaigns::table)
        .filter(campaigns::closes_on.ge(day))
        .select(invitations::enterprise_id)
        .distinct()
        .load(conn)
}

/// Enterprises with a contact whose registry row has not changed since `before`.
pub fn enterprises_with_contact_unchanged_since(
    conn: &mut Conn,
    before: NaiveDateTime,
) -> QueryResult<Vec<i64>> {
    enterprises::table
        .filter(enterprises::email.is_not_null())
        .filter(enterprises::updated_at.lt(before))
        .select(enterprises::id)
        .load(conn)
}

/// Deletes the contact (email) of these enterprises; name, USCC and strata stay for the registry.
pub fn clear_enterprise_contacts(conn: &mut Conn, ids: &[i64]) -> QueryResult<usize> {
    let mut cleared = 0;
    for chunk in ids.chunks(500) {
        cleared += diesel::update(enterprises::table.filter(enterprises::id.eq_any(chunk)))
            .set(enterprises::email.eq(None::<String>))
            .execute(conn)?;
    }
    Ok(cleared)
}

/// Problems unchanged since a time.
type UnchangedProblems =
    diesel::dsl::Filter<problems::table, diesel::dsl::Lt<problems::updated_at, NaiveDateTime>>;
/// … that still name their reporter.
type NamedProblems = diesel::dsl::Filter<
    UnchangedProblems,
    diesel::dsl::Or<
        diesel::dsl::Or<
            diesel::dsl::IsNotNull<problems::reporter_name>,
            diesel::dsl::IsNotNull<problems::reporter_contact>,
        >,
        diesel::dsl::IsNotNull<problems::reporter_email>,
    >,
>;

fn named_problems_before(before: NaiveDateTime) -> NamedProblems {
    problems::table
        .filter(problems::updated_at.lt(before))
        .filter(
            problems::reporter_name
                .is_not_null()
                .or(problems::reporter_contact.is_not_null())
                .or(problems::reporter_email.is_not_null()),
        )
}

/// Problems naming a reporter that have not changed since `before`.
pub fn count_named_problems_before(conn: &mut Conn, before: NaiveDateTime) -> QueryResult<i64> {
    named_problems_before(before).count().get_result(conn)
}

/// Deletes the reporter's name, phone and email of those problems; the problem itself stays.
pub fn clear_problem_reporters(conn: &mut Conn, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(named_problems_before(before))
        .set((
            problems::reporter_name.eq(None::<String>),
            problems::reporter_contact.eq(None::<String>),
            problems::reporter_email.eq(None::<String>),
        ))
        .execute(conn)
}
