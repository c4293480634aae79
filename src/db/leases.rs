//! Named leases: of several `qiping serve` processes sharing one database, only the holder of a
//! lease runs the job it names (the mail dispatcher, the daily deadline job).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::Conn;
use super::schema::leases;

/// Takes or renews the lease `name` for `holder` until `until`, if it is free, expired or already
/// held by `holder`. Returns whether `holder` now holds it. Atomic on both backends: the row is
/// created if missing (a racing insert is ignored) and then taken by one conditional update.
pub fn acquire(
    conn: &mut Conn,
    name: &str,
    holder: &str,
    now: NaiveDateTime,
    until: NaiveDateTime,
) -> QueryResult<bool> {
    let row = (
        leases::name.eq(name),
        leases::holder.eq(""),
        leases::expires_at.eq(now - chrono::Duration::seconds(1)),
    );
    crate::on_backend!(&mut *conn, |c| diesel::insert_into(leases::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(c))?;
    let taken = diesel::update(
        leases::table
            .find(name)
            .filter(leases::holder.eq(holder).or(leases::expires_at.lt(now))),
    )
    .set((leases::holder.eq(holder), leases::expires_at.eq(until)))
    .execute(conn)?;
    Ok(taken == 1)
}

/// Gives the lease up (so another process need not wait for it to expire).
pub fn release(conn: &mut Conn, name: &str, holder: &str) -> QueryResult<()> {
    diesel::delete(leases::table.find(name).filter(leases::holder.eq(holder)))
        .execute(conn)
        .map(drop)
}
