//! Browsing the registry a page at a time: units by code or name, enterprises by USCC or name.
//! The search text is matched as a substring (`%` and `_` in it are literal).

use diesel::prelude::*;

use super::Conn;
use super::enterprises::EnterpriseRow;
use super::schema::{enterprises, units};
use super::units::UnitRow;

/// A `LIKE` pattern that finds `text` anywhere, with the wildcards in `text` escaped.
pub fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// One page of units whose code or name contains `text` (codes also upper-cased, as they are
/// usually written), ordered by code; and how many match in all.
pub fn units_page(
    conn: &mut Conn,
    text: &str,
    limit: i64,
    offset: i64,
) -> QueryResult<(Vec<UnitRow>, i64)> {
    let pattern = contains_pattern(text);
    let upper = contains_pattern(&text.to_uppercase());
    let filter = units::code
        .like(pattern.clone())
        .escape('\\')
        .or(units::code.like(upper).escape('\\'))
        .or(units::name.like(pattern).escape('\\'));
    let total = units::table
        .filter(filter.clone())
        .count()
        .get_result(conn)?;
    let rows = units::table
        .filter(filter)
        .order(units::code)
        .limit(limit)
        .offset(offset)
        .select(UnitRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// One page of enterprises whose USCC or name contains `text`, ordered by USCC; and how many
/// match in all.
pub fn enterprises_page(
    conn: &mut Conn,
    text: &str,
    limit: i64,
    offset: i64,
) -> QueryResult<(Vec<EnterpriseRow>, i64)> {
    let pattern = contains_pattern(text);
    let upper = contains_pattern(&text.to_uppercase());
    let filter = enterprises::uscc
        .like(upper)
        .escape('\\')
        .or(enterprises::name.like(pattern).escape('\\'));
    let total = enterprises::table
        .filter(filter.clone())
        .count()
        .get_result(conn)?;
    let rows = enterprises::table
        .filter(filter)
        .order(enterprises::uscc)
        .limit(limit)
        .offset(offset)
        .select(EnterpriseRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_in_the_search_text_are_literal() {
        assert_eq!(contains_pattern("甲局"), "%甲局%");
        assert_eq!(contains_pattern("50%_a\\"), "%50\\%\\_a\\\\%");
    }
}
