//! `results.xlsx`: one sheet per peer group (the 营商办 works from Excel), Chinese headers, the
//! header row frozen, scores with one decimal and shares as percentages. Every text is written as
//! a string cell, so a unit named `=HYPERLINK(…)` stays text and never becomes a formula.

use std::collections::HashSet;

use rust_xlsxwriter::{Format, FormatAlign, Workbook, XlsxError};

use super::model::PublicResults;
use super::table::{self, COLUMNS, Cell, Shape};

/// Excel's limit on sheet names.
const SHEET_NAME_MAX: usize = 31;

/// The whole workbook.
pub fn results_xlsx(results: &PublicResults) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let header = Format::new()
        .set_bold()
        .set_background_color("#DDE7F2")
        .set_align(FormatAlign::Center)
        .set_text_wrap();
    let formats = |shape: Shape| match shape {
        Shape::Text => Format::new(),
        Shape::Count => Format::new().set_num_format("0"),
        Shape::Score | Shape::Decimal => Format::new().set_num_format("0.0"),
        Shape::Percent => Format::new().set_num_format("0.0%"),
    };
    let mut used = HashSet::new();
    for (i, group) in results.peer_groups.iter().enumerate() {
        let sheet = workbook.add_worksheet();
        sheet.set_name(sheet_name(&group.name, i, &mut used))?;
        for (col, (_, zh, shape)) in COLUMNS.iter().enumerate() {
            let col = col as u16;
            sheet.write_string_with_format(0, col, *zh, &header)?;
            let width = match shape {
                Shape::Text if *zh == "单位名称" => 28.0,
                Shape::Text if *zh == "说明" => 22.0,
                _ => 11.0,
            };
            sheet.set_column_width(col, width)?;
        }
        sheet.set_row_height(0, 32)?;
        sheet.set_freeze_panes(1, 0)?;
        for (r, unit) in table::reading_order(group).into_iter().enumerate() {
            let row = r as u32 + 1;
            for (col, (cell, (_, _, shape))) in
                table::row(group, unit).into_iter().zip(COLUMNS).enumerate()
            {
                let col = col as u16;
                match cell {
                    Cell::Text(t) => {
                        sheet.write_string(row, col, t)?;
                    }
                    Cell::Number(n) => {
                        sheet.write_number_with_format(row, col, n, &formats(shape))?;
                    }
                    Cell::Empty => {}
                }
            }
        }
    }
    workbook.save_to_buffer()
}

/// A legal, unique sheet name: Excel forbids `[]:*?/\`, a leading or trailing `'`, and more than
/// 31 characters; two groups cut to the same name get the group's number.
pub fn sheet_name(group: &str, index: usize, used: &mut HashSet<String>) -> String {
    let clean: String = group
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .collect();
    let clean = clean.trim_matches('\'').trim();
    let mut name: String = clean.chars().take(SHEET_NAME_MAX).collect();
    if name.is_empty()
        || used.contains(&name.to_lowercase())
        || name.eq_ignore_ascii_case("history")
    {
        let suffix = format!("-{}", index + 1);
        let keep = SHEET_NAME_MAX - suffix.chars().count();
        name = clean.chars().take(keep).collect::<String>() + &suffix;
    }
    used.insert(name.to_lowercase());
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_names_are_legal_and_unique() {
        let mut used = HashSet::new();
        let long = "很长的排名组名称".repeat(6);
        let a = sheet_name(&long, 0, &mut used);
        let b = sheet_name(&long, 1, &mut used);
        assert!(a.chars().count() <= 31 && b.chars().count() <= 31);
        assert_ne!(a, b);
        assert_eq!(sheet_name("a/b:c", 2, &mut used), "a_b_c");
        assert_eq!(sheet_name("''", 3, &mut used), "-4");
    }
}
