//! Parsing single cells into domain values, turning each failure into an [`ImportError`] that names
//! its line, column and value.

use std::fmt::Display;

use chrono::NaiveDate;

use super::ImportError;
use super::table::Row;

pub(super) const REQUIRED_MESSAGE: &str = "必填项为空 (required value missing)";

/// A required cell: its trimmed text, or an error when it is blank.
pub(super) fn required<'a>(
    row: &'a Row<'_>,
    key: &str,
    errors: &mut Vec<ImportError>,
) -> Option<&'a str> {
    let value = row.get(key);
    if value.is_empty() {
        errors.push(row.error(key, REQUIRED_MESSAGE));
        return None;
    }
    Some(value)
}

/// A required cell parsed with `parse`; the parser's message (which names the rule) becomes the error.
pub(super) fn parsed<T, E: Display>(
    row: &Row<'_>,
    key: &str,
    parse: impl FnOnce(&str) -> Result<T, E>,
    errors: &mut Vec<ImportError>,
) -> Option<T> {
    let value = required(row, key, errors)?;
    parse(value)
        .map_err(|e| errors.push(row.error(key, e.to_string())))
        .ok()
}

/// An optional cell: `Ok(None)` when blank, else parsed (an error is recorded and `Err(())` returned).
pub(super) fn optional<T, E: Display>(
    row: &Row<'_>,
    key: &str,
    parse: impl FnOnce(&str) -> Result<T, E>,
    errors: &mut Vec<ImportError>,
) -> Result<Option<T>, ()> {
    let value = row.get(key);
    if value.is_empty() {
        return Ok(None);
    }
    match parse(value) {
        Ok(v) => Ok(Some(v)),
        Err(e) => {
            errors.push(row.error(key, e.to_string()));
            Err(())
        }
    }
}

/// Why a date cell is not a date.
#[derive(Debug, thiserror::Error)]
#[error("日期格式应为 YYYY-MM-DD,如 2019-03-01 (malformed date: expected YYYY-MM-DD)")]
pub(super) struct DateError;

/// `YYYY-MM-DD`; Excel's own `YYYY/M/D` (what it writes back after opening a CSV) is accepted too.
pub(super) fn parse_date(value: &str) -> Result<NaiveDate, DateError> {
    let well_formed = value.len() <= 10
        && value.split(['-', '/']).count() == 3
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'-' || b == b'/')
        && !(value.contains('-') && value.contains('/'));
    if !well_formed {
        return Err(DateError);
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(value, "%Y/%m/%d"))
        .map_err(|_| DateError)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_iso_or_excels_slashes() {
        let day = NaiveDate::from_ymd_opt(2019, 3, 1).unwrap();
        assert_eq!(parse_date("2019-03-01").unwrap(), day);
        assert_eq!(parse_date("2019/3/1").unwrap(), day);
        for bad in [
            "2019-02-30",
            "2019.03.01",
            "01-03-2019x",
            "2019-03",
            "2019/03-01",
            "20190301",
            "二〇一九年",
        ] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
    }
}
