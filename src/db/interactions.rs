//! Which units each enterprise dealt with in a period.

use diesel::prelude::*;

use super::Conn;
use super::schema::{interactions, units};
use super::units::UnitRow;

/// The (enterprise id, unit id) pairs recorded for a period.
pub fn of_period(conn: &mut Conn, period: &str) -> QueryResult<Vec<(i64, i64)>> {
    interactions::table
        .filter(interactions::period.eq(period))
        .order((interactions::enterprise_id, interactions::unit_id))
        .select((interactions::enterprise_id, interactions::unit_id))
        .load(conn)
}

/// Records pairs for a period in one statement per chunk.
pub fn insert_many(conn: &mut Conn, period: &str, pairs: &[(i64, i64)]) -> QueryResult<()> {
    for chunk in pairs.chunks(1000) {
        let values: Vec<_> = chunk
            .iter()
            .map(|&(e, u)| {
                (
                    interactions::period.eq(period),
                    interactions::enterprise_id.eq(e),
                    interactions::unit_id.eq(u),
                )
            })
            .collect();
        crate::on_backend!(&mut *conn, |c| diesel::insert_into(interactions::table)
            .values(values.clone())
            .execute(c))?;
    }
    Ok(())
}

/// The units one enterprise dealt with in a period, by code.
pub fn units_of(conn: &mut Conn, period: &str, enterprise_id: i64) -> QueryResult<Vec<UnitRow>> {
    interactions::table
        .inner_join(units::table)
        .filter(interactions::period.eq(period))
        .filter(interactions::enterprise_id.eq(enterprise_id))
        .order(units::code)
        .select(UnitRow::as_select())
        .load(conn)
}
