//! Import errors: every bad row of a file is reported, each with its line and column, so a file can be
//! fixed in one pass. A file with any error imports nothing.

use std::fmt;

/// One problem in an import file. `line` is 1-based (the header is line 1; a quoted field spanning
/// several lines is reported at the line where its record starts). `column` is the header as written
/// in the file (or the expected name when the column is missing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    pub line: usize,
    pub column: Option<String>,
    pub value: Option<String>,
    pub message: String,
}

impl ImportError {
    pub fn new(line: usize, message: impl Into<String>) -> ImportError {
        ImportError {
            line,
            column: None,
            value: None,
            message: message.into(),
        }
    }

    pub fn in_column(mut self, column: impl Into<String>) -> ImportError {
        self.column = Some(column.into());
        self
    }

    pub fn with_value(mut self, value: impl Into<String>) -> ImportError {
        self.value = Some(value.into());
        self
    }
}

/// Values longer than this are shortened in messages so one error stays one readable line.
const VALUE_SHOWN_MAX: usize = 60;

impl fmt::Display for ImportError {
    /// `第 7 行, 列「统一社会信用代码」, 值「91320300MA1MXXXX03」: 校验位错误,应为 Y,实为 3 (…)`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "第 {} 行", self.line)?;
        if let Some(column) = &self.column {
            write!(f, ", 列「{column}」")?;
        }
        if let Some(value) = &self.value {
            let shown: String = value.chars().take(VALUE_SHOWN_MAX).collect();
            let more = if value.chars().count() > VALUE_SHOWN_MAX {
                "…"
            } else {
                ""
            };
            let shown: String = shown
                .chars()
                .map(|c| {
                    if c.is_control() {
                        c.escape_default().to_string()
                    } else {
                        c.to_string()
                    }
                })
                .collect();
            write!(f, ", 值「{shown}{more}」")?;
        }
        write!(f, ": {}", self.message.replace(['\r', '\n'], " "))
    }
}

/// Every error found in one file, in line order; never empty when returned as an `Err`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportErrors(pub Vec<ImportError>);

impl ImportErrors {
    pub fn errors(&self) -> &[ImportError] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(())` when there are no errors, else the errors sorted by line (stable within a line).
    pub(crate) fn check(mut errors: Vec<ImportError>) -> Result<(), ImportErrors> {
        if errors.is_empty() {
            return Ok(());
        }
        errors.sort_by_key(|e| e.line);
        Err(ImportErrors(errors))
    }
}

impl fmt::Display for ImportErrors {
    /// One error per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ImportErrors {}

impl From<ImportError> for ImportErrors {
    fn from(error: ImportError) -> Self {
        ImportErrors(vec![error])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_reads_as_one_line_with_line_column_and_value() {
        let error = ImportError::new(7, "校验位错误,应为 Y,实为 3")
            .in_column("统一社会信用代码")
            .with_value("91320300MA1MXXXX03");
        assert_eq!(
            error.to_string(),
            "第 7 行, 列「统一社会信用代码」, 值「91320300MA1MXXXX03」: 校验位错误,应为 Y,实为 3"
        );
        assert_eq!(
            ImportError::new(1, "文件为空").to_string(),
            "第 1 行: 文件为空"
        );
    }

    #[test]
    fn long_or_multi_line_values_stay_on_one_line() {
        let error = ImportError::new(3, "x").with_value(format!("a\nb{}", "c".repeat(100)));
        let text = error.to_string();
        assert!(
            !text.contains('\n') && text.contains("a\\nb") && text.contains('…'),
            "{text}"
        );
    }

    #[test]
    fn errors_are_listed_one_per_line_in_line_order() {
        let errors = ImportErrors::check(vec![ImportError::new(9, "b"), ImportError::new(2, "a")]);
        assert_eq!(errors.unwrap_err().to_string(), "第 2 行: a\n第 9 行: b");
        assert_eq!(ImportErrors::check(vec![]), Ok(()));
    }
}
