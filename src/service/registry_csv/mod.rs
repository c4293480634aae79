//! Registry import files, parsed without touching the database: bytes → text ([`decode`]) → rows of
//! domain values ([`parse_units`], [`parse_enterprises`], [`parse_interactions`]), or every error of the
//! file with its line and column. Columns and their Chinese names are in docs/interface.md §2.1; the header and
//! row rules are in `table.rs`, the value rules at the top of each file's module.

mod cells;
mod decode;
mod enterprises;
mod error;
mod interactions;
mod table;
mod units;

pub use decode::{DecodeError, SourceEncoding, decode};
pub use enterprises::{EnterpriseRow, parse_enterprises};
pub use error::{ImportError, ImportErrors};
pub use interactions::{InteractionRow, parse_interactions};
pub use units::{
    PARENT_COLUMN, PREDECESSOR_COLUMN, UnitRow, check_parents, check_predecessors, parse_units,
};

impl From<DecodeError> for ImportError {
    fn from(error: DecodeError) -> Self {
        ImportError::new(error.line(), error.reason())
    }
}

impl From<DecodeError> for ImportErrors {
    fn from(error: DecodeError) -> Self {
        ImportErrors(vec![error.into()])
    }
}

/// Decodes and parses a units file in one step.
pub fn read_units(bytes: &[u8]) -> Result<(Vec<UnitRow>, SourceEncoding), ImportErrors> {
    let (text, encoding) = decode(bytes)?;
    Ok((parse_units(&text)?, encoding))
}

/// Decodes and parses an enterprises file in one step.
pub fn read_enterprises(
    bytes: &[u8],
) -> Result<(Vec<EnterpriseRow>, SourceEncoding), ImportErrors> {
    let (text, encoding) = decode(bytes)?;
    Ok((parse_enterprises(&text)?, encoding))
}

/// Decodes and parses an interactions file in one step.
pub fn read_interactions(
    bytes: &[u8],
) -> Result<(Vec<InteractionRow>, SourceEncoding), ImportErrors> {
    let (text, encoding) = decode(bytes)?;
    Ok((parse_interactions(&text)?, encoding))
}

/// Reads a file of `tests/fixtures/import/`.
#[cfg(test)]
fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/import/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `(line, column)` of each error, to compare with what a fixture is known to contain.
#[cfg(test)]
fn lines_and_columns(errors: &ImportErrors) -> Vec<(usize, Option<&str>)> {
    errors
        .0
        .iter()
        .map(|e| (e.line, e.column.as_deref()))
        .collect()
}
