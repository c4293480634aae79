//! Reading a CSV table by column name: headers in English (any case) or Chinese, in any order.
//!
//! Header rules: a required column that is missing is one error naming it; a column named twice is an
//! error; a header that matches no known column is an error listing the accepted names (a misspelt
//! optional column would otherwise be silently dropped). A column with a blank header is ignored when
//! all its cells are blank (Excel leaves such columns behind), otherwise each non-blank cell is an
//! error. Rows whose cells are all blank are skipped. A row with fewer fields than the header, or with
//! extra non-blank fields, is an error.

use std::collections::HashMap;

use csv::{ReaderBuilder, StringRecord};

use super::{ImportError, ImportErrors};

/// One column an import file may have: its English header (also its key in code) and Chinese header.
#[derive(Debug)]
pub(super) struct Column {
    pub key: &'static str,
    pub zh: &'static str,
    pub required: bool,
}

impl Column {
    pub const fn required(key: &'static str, zh: &'static str) -> Column {
        Column {
            key,
            zh,
            required: true,
        }
    }

    pub const fn optional(key: &'static str, zh: &'static str) -> Column {
        Column {
            key,
            zh,
            required: false,
        }
    }
}

/// A table whose header matched its columns, with its data rows.
#[derive(Debug)]
pub(super) struct Table {
    /// The header as written in the file, by column key.
    headers: HashMap<&'static str, (usize, String)>,
    width: usize,
    blank_header: Vec<usize>,
    pub rows: Vec<(usize, StringRecord)>,
}

/// One data row and the table it belongs to.
pub(super) struct Row<'a> {
    pub line: usize,
    record: &'a StringRecord,
    table: &'a Table,
}

impl Table {
    pub fn read(text: &str, columns: &[Column]) -> Result<Table, ImportErrors> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut reader = ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut lines = LineCounter::new(text);
        let mut records = reader.records();
        let header = match records.next() {
            None => {
                return Err(
                    ImportError::new(1, "文件为空,缺少表头 (empty file: no header row)").into(),
                );
            }
            Some(Err(e)) => return Err(csv_error(&e, &mut lines).into()),
            Some(Ok(header)) => header,
        };
        let header_line = lines.line_of(header.position());
        let mut table = match_header(&header, header_line, columns)?;
        let mut errors = Vec::new();
        for record in records {
            match record {
                Err(e) => errors.push(csv_error(&e, &mut lines)),
                Ok(record) if record.iter().all(|f| f.trim().is_empty()) => {}
                Ok(record) => {
                    let line = lines.line_of(record.position());
                    table.rows.push((line, record));
                }
            }
        }
        ImportErrors::check(errors)?;
        Ok(table)
    }

    /// The header as written in the file, for error messages.
    pub fn header(&self, key: &str) -> Option<&str> {
        self.headers.get(key).map(|(_, name)| name.as_str())
    }

    pub fn rows(&self) -> impl Iterator<Item = Row<'_>> {
        self.rows.iter().map(|(line, record)| Row {
            line: *line,
            record,
            table: self,
        })
    }
}

/// The longest cell a registry file may hold: the longest names (units, enterprises) are far
/// shorter, and a longer value is a pasted mistake that would break pages and reports.
pub const CELL_MAX_CHARS: usize = 200;

impl Row<'_> {
    /// The trimmed cell of a column; empty when the column is absent.
    pub fn get(&self, key: &str) -> &str {
        self.table
            .headers
            .get(key)
            .and_then(|(i, _)| self.record.get(*i))
            .map_or("", str::trim)
    }

    /// An error about one cell, naming the column as the file does and quoting the value.
    pub fn error(&self, key: &str, message: impl Into<String>) -> ImportError {
        let mut error = ImportError::new(self.line, message);
        if let Some(header) = self.table.header(key) {
            error = error.in_column(header);
        }
        let value = self.get(key);
        if !value.is_empty() {
            error = error.with_value(value);
        }
        error
    }

    /// Fewer fields than the header: the row's values are not read further (one error, not one per cell).
    pub fn is_short(&self) -> bool {
        self.record.len() < self.table.width
    }

    /// Errors about the row's shape: too few fields, or content beyond the header or under a blank header.
    pub fn shape_errors(&self) -> Vec<ImportError> {
        let width = self.table.width;
        let mut errors = Vec::new();
        if self.record.len() < width {
            errors.push(ImportError::new(
                self.line,
                format!(
                    "字段数应为 {width},实为 {} (wrong number of fields: expected {width}, found {})",
                    self.record.len(),
                    self.record.len()
                ),
            ));
        } else if self.record.iter().skip(width).any(|f| !f.trim().is_empty()) {
            errors.push(ImportError::new(
                self.line,
                format!(
                    "字段数应为 {width},实为 {},多出的字段有内容 (wrong number of fields: extra non-empty fields)",
                    self.record.len()
                ),
            ));
        }
        let mut long: Vec<(usize, &str, usize)> = self
            .table
            .headers
            .iter()
            .filter_map(|(key, (i, _))| {
                let found = self.record.get(*i)?.trim().chars().count();
                (found > CELL_MAX_CHARS).then_some((*i, *key, found))
            })
            .collect();
        long.sort_unstable();
        for (_, key, found) in long {
            errors.push(self.error(
                key,
                format!(
                    "内容过长:最多 {CELL_MAX_CHARS} 个字符,实为 {found} 个 (value longer than {CELL_MAX_CHARS} characters)"
                ),
            ));
        }
        let mut controlled: Vec<(usize, &str, usize, char)> = self
            .table
            .headers
            .iter()
            .filter_map(|(key, (i, _))| {
                let (at, c) = forbidden_char(self.record.get(*i)?.trim())?;
                Some((*i, *key, at, c))
            })
            .collect();
        controlled.sort_unstable();
        for (_, key, at, c) in controlled {
            errors.push(self.error(
                key,
                format!(
                    "第 {} 个字符是{}(U+{:04X}):单元格内不能换行或含控制字符,\
                     请删除单元格内的换行(Excel 中的 Alt+Enter)后重新保存 \
                     (control character in cell)",
                    at + 1,
                    char_name(c),
                    u32::from(c)
                ),
            ));
        }
        for &i in &self.table.blank_header {
            if let Some(value) = self.record.get(i).filter(|v| !v.trim().is_empty()) {
                errors.push(
                    ImportError::new(
                        self.line,
                        format!(
                            "第 {} 列没有表头却有内容 (a column without a header has content)",
                            i + 1
                        ),
                    )
                    .with_value(value.trim()),
                );
            }
        }
        errors
    }
}

/// The first character a registry cell must not hold, with its position: C0 and C1 control
/// characters (line breaks, tabs, NUL, DEL …) and the Unicode line and paragraph separators
/// (U+2028, U+2029), which break lines just the same in pages, CSV exports and mail headers. A
/// line break inside a quoted cell (Excel's Alt+Enter) is the usual case; an enterprise name with
/// one once made composing its mail panic. Leading and trailing ones are trimmed away with the
/// spaces before this check, as they never reach the database.
pub(super) fn forbidden_char(value: &str) -> Option<(usize, char)> {
    value
        .chars()
        .enumerate()
        .find(|&(_, c)| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'))
}

/// What the operator calls a forbidden character.
fn char_name(c: char) -> &'static str {
    match c {
        '\n' => "换行符",
        '\r' => "回车符",
        '\t' => "制表符",
        '\u{2028}' => "行分隔符",
        '\u{2029}' => "段落分隔符",
        _ => "控制字符",
    }
}

fn match_header(
    header: &StringRecord,
    line: usize,
    columns: &[Column],
) -> Result<Table, ImportErrors> {
    let mut errors = Vec::new();
    let mut headers: HashMap<&'static str, (usize, String)> = HashMap::new();
    let mut blank_header = Vec::new();
    let mut chinese = false;
    for (i, raw) in header.iter().enumerate() {
        let name = raw.trim().trim_start_matches('\u{feff}').trim();
        if name.is_empty() {
            blank_header.push(i);
            continue;
        }
        let Some(column) = columns
            .iter()
            .find(|c| c.key.eq_ignore_ascii_case(name) || c.zh == name)
        else {
            let accepted: Vec<String> = columns
                .iter()
                .map(|c| format!("{}/{}", c.zh, c.key))
                .collect();
            errors.push(
                ImportError::new(
                    line,
                    format!(
                        "未知的列,可用的列为:{} (unknown column)",
                        accepted.join("、")
                    ),
                )
                .in_column(name),
            );
            continue;
        };
        chinese |= column.zh == name;
        if let Some((first, _)) = headers.get(column.key) {
            errors.push(
                ImportError::new(
                    line,
                    format!("列重复,第 {} 列已是此列 (duplicate column)", first + 1),
                )
                .in_column(name),
            );
            continue;
        }
        headers.insert(column.key, (i, name.to_string()));
    }
    for column in columns
        .iter()
        .filter(|c| c.required && !headers.contains_key(c.key))
    {
        let expected = if chinese { column.zh } else { column.key };
        errors.push(
            ImportError::new(
                line,
                format!(
                    "缺少必需的列「{}」({}) (missing column)",
                    column.zh, column.key
                ),
            )
            .in_column(expected),
        );
    }
    ImportErrors::check(errors)?;
    Ok(Table {
        headers,
        width: header.len(),
        blank_header,
        rows: Vec::new(),
    })
}

fn csv_error(error: &csv::Error, lines: &mut LineCounter<'_>) -> ImportError {
    let line = lines.line_of(error.position());
    ImportError::new(line, format!("CSV 格式错误 (malformed CSV): {error}"))
}

/// Line numbers of records. The csv crate's own `Position::line` skips the blank lines it skips and
/// miscounts CRLF files, so the line is recounted from the record's byte offset, which points at or
/// just before the terminators that precede the record.
struct LineCounter<'a> {
    text: &'a [u8],
    pos: usize,
    line: usize,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        LineCounter {
            text: text.as_bytes(),
            pos: 0,
            line: 1,
        }
    }

    /// 1-based line where the record at `position` starts; positions must come in file order.
    fn line_of(&mut self, position: Option<&csv::Position>) -> usize {
        let byte = position
            .map_or(self.pos, |p| p.byte() as usize)
            .min(self.text.len());
        if byte < self.pos {
            self.pos = 0;
            self.line = 1;
        }
        self.line += self.text[self.pos..byte]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        self.pos = byte;
        // A record never starts with a line terminator, so any at `byte` precede it.
        let mut at = byte;
        let mut line = self.line;
        loop {
            match self.text.get(at..) {
                Some([b'\n', ..]) => at += 1,
                Some([b'\r', b'\n', ..]) => at += 2,
                _ => break,
            }
            line += 1;
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: [Column; 3] = [
        Column::required("code", "单位编码"),
        Column::required("name", "单位名称"),
        Column::optional("predecessor_code", "前身单位编码"),
    ];

    #[test]
    fn headers_match_in_either_language_in_any_order_and_any_case() {
        let table = Table::read(" 单位名称 ,CODE\n税务局,SW\n", &COLUMNS).unwrap();
        let row = table.rows().next().unwrap();
        assert_eq!(
            (
                row.line,
                row.get("code"),
                row.get("name"),
                row.get("predecessor_code")
            ),
            (2, "SW", "税务局", "")
        );
        assert_eq!(table.header("code"), Some("CODE"));
    }

    #[test]
    fn each_missing_column_is_one_error_named_in_the_files_language() {
        let err = Table::read("单位名称,前身单位编码\n", &COLUMNS).unwrap_err();
        assert_eq!(err.len(), 1);
        assert_eq!(err.0[0].column.as_deref(), Some("单位编码"));
        assert!(err.0[0].message.contains("缺少必需的列"));
        let err = Table::read("name\n", &COLUMNS).unwrap_err();
        assert_eq!(err.0[0].column.as_deref(), Some("code"));
    }

    #[test]
    fn unknown_and_duplicate_columns_are_errors() {
        let err = Table::read("code,name,备注,Name\n", &COLUMNS).unwrap_err();
        let columns: Vec<_> = err.0.iter().map(|e| e.column.as_deref().unwrap()).collect();
        assert_eq!(columns, ["备注", "Name"]);
        assert!(err.0[0].message.contains("未知的列") && err.0[1].message.contains("列重复"));
    }

    #[test]
    fn blank_rows_and_blank_header_columns_are_ignored_but_content_under_them_is_not() {
        let table = Table::read("code,name,\n\n,,\nSW,税务局,\nGA,公安局,x\n", &COLUMNS).unwrap();
        let rows: Vec<_> = table.rows().collect();
        assert_eq!(rows.len(), 2);
        assert!(rows[0].shape_errors().is_empty());
        let errors = rows[1].shape_errors();
        assert_eq!((errors.len(), errors[0].line), (1, 5));
    }

    #[test]
    fn a_cell_longer_than_the_limit_is_an_error_in_its_column() {
        let text = format!(
            "code,name\nSW,{}\nGA,{}\n",
            "名".repeat(201),
            "名".repeat(200)
        );
        let table = Table::read(&text, &COLUMNS).unwrap();
        let errors: Vec<Vec<ImportError>> = table.rows().map(|r| r.shape_errors()).collect();
        assert_eq!(errors[0].len(), 1);
        assert_eq!(errors[0][0].column.as_deref(), Some("name"));
        assert!(errors[0][0].message.contains("最多 200 个字符,实为 201 个"));
        assert!(errors[1].is_empty());
    }

    #[test]
    fn short_rows_and_extra_fields_are_wrong_field_counts() {
        let table = Table::read("code,name\nSW\nGA,公安局,,\nJT,交通局,x\n", &COLUMNS).unwrap();
        let counts: Vec<usize> = table.rows().map(|r| r.shape_errors().len()).collect();
        assert_eq!(counts, [1, 0, 1]);
        assert!(
            table.rows().next().unwrap().shape_errors()[0]
                .message
                .contains("字段数应为 2,实为 1")
        );
    }

    #[test]
    fn lines_are_counted_across_blank_lines_crlf_and_quoted_line_breaks() {
        for text in [
            "code,name\n\"SW\n1\",a\n\n\nGA,b\n  \n,\nJT,c\n",
            "code,name\r\n\"SW\r\n1\",a\r\n\r\n\r\nGA,b\r\n  \r\n,\r\nJT,c\r\n",
            "\n\ncode,name\n\"SW\n1\",a\n\n\nGA,b\n  \n,\nJT,c",
        ] {
            let table = Table::read(text, &COLUMNS).unwrap();
            let offset = if text.starts_with('\n') { 2 } else { 0 };
            let lines: Vec<usize> = table.rows().map(|r| r.line - offset).collect();
            assert_eq!(lines, [2, 6, 9], "{text:?}");
        }
    }

    #[test]
    fn an_empty_file_has_no_header() {
        let err = Table::read("", &COLUMNS).unwrap_err();
        assert!(err.0[0].message.contains("缺少表头"));
    }

    #[test]
    fn a_cell_with_a_line_break_tab_or_separator_inside_is_refused_naming_line_and_column() {
        let text =
            "code,name\nSW,\"市商务局\n招商处\"\nGA,公安\t局\nJT,交通\u{2028}局\nZJ, 住建局 \n";
        let table = Table::read(text, &COLUMNS).unwrap();
        let errors: Vec<Vec<ImportError>> = table.rows().map(|r| r.shape_errors()).collect();
        let first = &errors[0][0];
        assert_eq!((first.line, first.column.as_deref()), (2, Some("name")));
        assert!(first.message.contains("换行符") && first.message.contains("U+000A"));
        assert!(errors[1][0].message.contains("制表符"), "{:?}", errors[1]);
        assert!(errors[2][0].message.contains("U+2028"), "{:?}", errors[2]);
        assert!(
            errors[3].is_empty(),
            "spaces around a name are trimmed, not refused"
        );
        for c in ['\0', '\u{7f}', '\u{85}', '\u{9b}', '\u{2029}', '\r'] {
            assert!(forbidden_char(&format!("a{c}b")).is_some(), "{c:?}");
        }
        assert_eq!(forbidden_char("徐州·云龙区 (A&B)"), None);
    }
}
