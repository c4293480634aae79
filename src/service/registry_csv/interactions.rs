//! The interactions file of a period: `uscc,unit_code` (统一社会信用代码, 单位编码), one row per unit an
//! enterprise dealt with. A pair listed twice is harmless and kept once (the first line).

use std::collections::HashSet;

use super::ImportErrors;
use super::cells::parsed;
use super::table::{Column, Table};
use crate::domain::{UnitCode, Uscc};

/// One enterprise–unit pair of the file, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InteractionRow {
    /// 1-based line in the file.
    pub line: usize,
    pub uscc: Uscc,
    pub unit_code: UnitCode,
}

const COLUMNS: [Column; 2] = [
    Column::required("uscc", "统一社会信用代码"),
    Column::required("unit_code", "单位编码"),
];

/// Parses an interactions file (already decoded); every bad row is reported. Whether the enterprise
/// and the unit exist is the importer's check against the database.
pub fn parse_interactions(text: &str) -> Result<Vec<InteractionRow>, ImportErrors> {
    let table = Table::read(text, &COLUMNS)?;
    let mut errors = Vec::new();
    let mut rows = Vec::with_capacity(table.rows.len());
    let mut seen: HashSet<(Uscc, UnitCode)> = HashSet::new();
    for row in table.rows() {
        errors.extend(row.shape_errors());
        if row.is_short() {
            continue;
        }
        let uscc = parsed(&row, "uscc", Uscc::parse, &mut errors);
        let unit_code = parsed(&row, "unit_code", UnitCode::parse, &mut errors);
        let (Some(uscc), Some(unit_code)) = (uscc, unit_code) else {
            continue;
        };
        if seen.insert((uscc.clone(), unit_code.clone())) {
            rows.push(InteractionRow {
                line: row.line,
                uscc,
                unit_code,
            });
        }
    }
    ImportErrors::check(errors)?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_parse_with_chinese_headers_and_duplicates_are_kept_once() {
        let text = "单位编码,统一社会信用代码\nSW-01,91350100M000100Y43\nSW-01,91350100m000100y43\nGA,91350100M000100Y43\n";
        let rows = parse_interactions(text).unwrap();
        let pairs: Vec<(usize, &str)> = rows
            .iter()
            .map(|r| (r.line, r.unit_code.as_str()))
            .collect();
        assert_eq!(pairs, [(2, "SW-01"), (4, "GA")]);
    }

    #[test]
    fn bad_codes_are_reported_with_line_and_column() {
        let text = "uscc,unit_code\n91350100M000100Y40,SW 01\n,GA\n";
        let errors = parse_interactions(text).unwrap_err().0;
        let found: Vec<(usize, &str)> = errors
            .iter()
            .map(|e| (e.line, e.column.as_deref().unwrap()))
            .collect();
        assert_eq!(found, [(2, "uscc"), (2, "unit_code"), (3, "uscc")]);
        assert!(errors[0].message.contains("校验位错误"));
        assert!(errors[1].message.contains("不允许"));
        assert!(errors[2].message.contains("必填项为空"));
    }
}
