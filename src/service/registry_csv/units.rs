//! The units file: `code,name,kind,parent_code,peer_group,head_name,head_since[,predecessor_code]`.
//!
//! Values: `code`, `name` and `kind` are required. `peer_group` may be blank: the unit is then ranked
//! with its kind (部门 / 处室 / 基层站所). `head_name` without `head_since` is accepted (the importer
//! dates the term itself, e.g. the import day); `head_since` without `head_name` is an error. A code
//! appearing twice is an error naming both lines. Whether a parent exists needs the database too:
//! see [`check_parents`].

use std::collections::HashMap;

use chrono::NaiveDate;

use super::cells::{optional, parse_date, parsed, required};
use super::table::{Column, Row, Table};
use super::{ImportError, ImportErrors};
use crate::domain::{Unit, UnitCode, UnitError, UnitKind};

/// One unit row of the file, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitRow {
    /// 1-based line in the file.
    pub line: usize,
    pub unit: Unit,
    pub head_name: Option<String>,
    pub head_since: Option<NaiveDate>,
}

const COLUMNS: [Column; 8] = [
    Column::required("code", "单位编码"),
    Column::required("name", "单位名称"),
    Column::required("kind", "类型"),
    Column::required("parent_code", "上级单位编码"),
    Column::required("peer_group", "排名组"),
    Column::required("head_name", "负责人"),
    Column::required("head_since", "任职起始日期"),
    Column::optional("predecessor_code", "前身单位编码"),
];

/// The column name used by [`check_parents`], which no longer sees the file's header.
pub const PARENT_COLUMN: &str = "上级单位编码 (parent_code)";
/// The column name used by [`check_predecessors`].
pub const PREDECESSOR_COLUMN: &str = "前身单位编码 (predecessor_code)";

/// Parses a units file (already decoded); every bad row is reported.
pub fn parse_units(text: &str) -> Result<Vec<UnitRow>, ImportErrors> {
    let table = Table::read(text, &COLUMNS)?;
    let mut errors = Vec::new();
    let mut units = Vec::with_capacity(table.rows.len());
    let mut first_line: HashMap<UnitCode, usize> = HashMap::new();
    for row in table.rows() {
        errors.extend(row.shape_errors());
        if row.is_short() {
            continue;
        }
        let Some(unit_row) = parse_row(&row, &mut errors) else {
            continue;
        };
        if let Some(first) = first_line.get(&unit_row.unit.code) {
            errors.push(row.error(
                "code",
                format!(
                    "单位编码重复:第 {first} 行和第 {} 行 (duplicate code, first on line {first})",
                    row.line
                ),
            ));
            continue;
        }
        first_line.insert(unit_row.unit.code.clone(), row.line);
        units.push(unit_row);
    }
    ImportErrors::check(errors)?;
    Ok(units)
}

fn parse_row(row: &Row<'_>, errors: &mut Vec<ImportError>) -> Option<UnitRow> {
    let before = errors.len();
    let code = parsed(row, "code", UnitCode::parse, errors);
    let name = required(row, "name", errors);
    let kind = parsed(row, "kind", str::parse::<UnitKind>, errors);
    let parent = optional(row, "parent_code", UnitCode::parse, errors);
    let predecessor = optional(row, "predecessor_code", UnitCode::parse, errors);
    let head_since = optional(row, "head_since", parse_date, errors);
    let head_name = Some(row.get("head_name"))
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    if head_name.is_none() && !row.get("head_since").is_empty() {
        errors.push(row.error(
            "head_since",
            "填了任职起始日期却没有负责人 (head_since given without head_name)",
        ));
    }
    let (Some(code), Some(name), Some(kind), Ok(parent), Ok(predecessor), Ok(head_since)) =
        (code, name, kind, parent, predecessor, head_since)
    else {
        return None;
    };
    let peer_group = Some(row.get("peer_group"))
        .filter(|g| !g.is_empty())
        .unwrap_or(kind.default_peer_group());
    match Unit::new(code, name, kind, parent, peer_group, predecessor) {
        Ok(unit) if errors.len() == before => Some(UnitRow {
            line: row.line,
            unit,
            head_name,
            head_since,
        }),
        Ok(_) => None,
        Err(e) => {
            let column = match e {
                UnitError::EmptyName => "name",
                UnitError::EmptyPeerGroup => "peer_group",
                UnitError::OwnPredecessor => "predecessor_code",
                UnitError::MissingParent { .. }
                | UnitError::DepartmentWithParent { .. }
                | UnitError::OwnParent => "parent_code",
            };
            errors.push(row.error(column, e.to_string()));
            None
        }
    }
}

/// Parents named in the rows must be a department of the file or a unit the database knows
/// (`known_in_db`). A parent in the file that is not a department is an error. The caller checks the
/// kind of parents found only in the database.
pub fn check_parents(
    rows: &[UnitRow],
    known_in_db: impl Fn(&UnitCode) -> bool,
) -> Vec<ImportError> {
    let in_file: HashMap<&UnitCode, &UnitRow> = rows.iter().map(|r| (&r.unit.code, r)).collect();
    let mut errors = Vec::new();
    for row in rows {
        let Some(parent) = &row.unit.parent_code else {
            continue;
        };
        let error = match in_file.get(parent) {
            Some(p) if p.unit.kind != UnitKind::Department => format!(
                "上级单位「{parent}」(第 {} 行) 是{},上级单位必须是部门 (parent is a {}, not a department)",
                p.line,
                p.unit.kind.label_zh(),
                p.unit.kind.as_str()
            ),
            Some(_) => continue,
            None if known_in_db(parent) => continue,
            None => format!("上级单位「{parent}」既不在本文件中,也不在单位名录中 (unknown parent)"),
        };
        errors.push(
            ImportError::new(row.line, error)
                .in_column(PARENT_COLUMN)
                .with_value(parent.as_str()),
        );
    }
    errors
}

/// Predecessors named in the rows must be in the file or known to the database.
pub fn check_predecessors(
    rows: &[UnitRow],
    known_in_db: impl Fn(&UnitCode) -> bool,
) -> Vec<ImportError> {
    let in_file: HashMap<&UnitCode, usize> = rows.iter().map(|r| (&r.unit.code, r.line)).collect();
    rows.iter()
        .filter_map(|row| {
            let pred = row.unit.predecessor_code.as_ref()?;
            if in_file.contains_key(pred) || known_in_db(pred) {
                return None;
            }
            Some(
                ImportError::new(
                    row.line,
                    format!(
                        "前身单位「{pred}」既不在本文件中,也不在单位名录中 (unknown predecessor)"
                    ),
                )
                .in_column(PREDECESSOR_COLUMN)
                .with_value(pred.as_str()),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::{SourceEncoding, fixture, lines_and_columns, read_units};
    use super::*;

    fn code(s: &str) -> UnitCode {
        UnitCode::parse(s).unwrap()
    }

    #[test]
    fn the_good_units_file_parses_every_row() {
        let (rows, encoding) = read_units(&fixture("units_good.csv")).unwrap();
        assert_eq!(encoding, SourceEncoding::Utf8);
        assert_eq!(rows.len(), 11);
        assert_eq!(rows[0].line, 2);
        let nsfw = &rows[6];
        assert_eq!(
            (nsfw.line, nsfw.unit.code.as_str(), nsfw.unit.kind),
            (8, "SWJ-NSFW", UnitKind::Office)
        );
        assert_eq!(nsfw.unit.parent_code, Some(code("SWJ")));
        assert_eq!(nsfw.unit.predecessor_code, Some(code("SWJ-NSFWK")));
        assert_eq!(nsfw.head_name.as_deref(), Some("赵志刚"));
        assert_eq!(nsfw.head_since, NaiveDate::from_ymd_opt(2019, 5, 6));
        assert_eq!(
            (rows[4].head_name.as_deref(), rows[4].head_since),
            (None, None)
        );
        assert!(check_parents(&rows, |_| false).is_empty());
        assert!(check_predecessors(&rows, |_| false).is_empty());
        // Without the old unit's own row (line 12), the predecessor is unknown.
        let unknown = check_predecessors(&rows[..10], |_| false);
        assert_eq!(
            lines_and_columns(&ImportErrors(unknown)),
            [(8, Some(PREDECESSOR_COLUMN))]
        );
        assert!(check_predecessors(&rows[..10], |c| c.as_str() == "SWJ-NSFWK").is_empty());
    }

    #[test]
    fn a_bom_file_with_chinese_headers_and_values_parses() {
        let (rows, encoding) = read_units(&fixture("units_bom.csv")).unwrap();
        assert_eq!(encoding, SourceEncoding::Utf8WithBom);
        let kinds: Vec<UnitKind> = rows.iter().map(|r| r.unit.kind).collect();
        assert_eq!(
            kinds,
            [UnitKind::Department, UnitKind::Office, UnitKind::Station]
        );
        assert_eq!(rows[0].unit.name, "市住房和城乡建设局");
        assert_eq!(rows[1].head_since, NaiveDate::from_ymd_opt(2019, 3, 1));
        let groups: Vec<&str> = rows.iter().map(|r| r.unit.peer_group.as_str()).collect();
        assert_eq!(
            groups,
            ["部门", "处室", "基层站所"],
            "a blank peer group is the kind's"
        );
    }

    #[test]
    fn the_bad_units_file_reports_every_bad_row_with_its_line_column_and_rule() {
        let errors = read_units(&fixture("units_bad.csv")).unwrap_err();
        let expected: [(usize, Option<&str>, &str); 9] = [
            (3, Some("code"), "单位编码重复:第 2 行和第 3 行"),
            (4, Some("kind"), "未知的单位类型「科室」"),
            (5, Some("code"), "第3个字符「 」不允许"),
            (6, Some("name"), "必填项为空"),
            (7, Some("head_since"), "日期格式应为 YYYY-MM-DD"),
            (8, Some("head_since"), "没有负责人"),
            (9, Some("parent_code"), "必须填写上级单位编码"),
            (10, Some("parent_code"), "部门不能有上级单位"),
            (11, None, "字段数应为 8,实为 2"),
        ];
        assert_eq!(errors.len(), expected.len(), "{errors}");
        for (error, (line, column, rule)) in errors.0.iter().zip(expected) {
            assert_eq!(
                (error.line, error.column.as_deref()),
                (line, column),
                "{error}"
            );
            assert!(error.message.contains(rule), "{error} should say {rule}");
        }
        assert_eq!(errors.0[1].value.as_deref(), Some("科室"));
    }

    #[test]
    fn parents_must_be_departments_in_the_file_or_known_units() {
        // Keep lines 1, 2, 12–14 of the bad file; blank lines keep the line numbers.
        let text = String::from_utf8(fixture("units_bad.csv")).unwrap();
        let kept: Vec<&str> = text
            .lines()
            .enumerate()
            .map(|(i, l)| if i == 0 || i == 1 || i >= 11 { l } else { "" })
            .collect();
        let rows = parse_units(&kept.join("\n")).unwrap();
        let errors = check_parents(&rows, |_| false);
        assert_eq!(
            lines_and_columns(&ImportErrors(errors.clone())),
            [(13, Some(PARENT_COLUMN)), (14, Some(PARENT_COLUMN))]
        );
        assert!(
            errors[0].message.contains("是处室,上级单位必须是部门"),
            "{}",
            errors[0]
        );
        assert!(
            errors[1]
                .message
                .contains("既不在本文件中,也不在单位名录中"),
            "{}",
            errors[1]
        );
        assert_eq!(check_parents(&rows, |c| c.as_str() == "NOPE").len(), 1);
    }

    #[test]
    fn a_missing_column_is_one_error_naming_it() {
        let errors =
            parse_units("code,name,kind,parent_code,peer_group,head_name\nSWJ,税务局,部门,,,\n")
                .unwrap_err();
        assert_eq!(lines_and_columns(&errors), [(1, Some("head_since"))]);
        assert!(errors.0[0].message.contains("缺少必需的列「任职起始日期」"));
    }

    #[test]
    fn an_unknown_column_is_an_error_not_silently_dropped() {
        let errors = parse_units(
            "code,name,kind,parent_code,peer_group,head_name,head_since,predecesor_code\n",
        )
        .unwrap_err();
        assert_eq!(lines_and_columns(&errors), [(1, Some("predecesor_code"))]);
    }
}
