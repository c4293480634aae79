//! `results.csv`: UTF-8 with a byte-order mark, because Excel on Chinese Windows otherwise reads
//! the file as GBK and garbles every unit name. Headers are the `results.json` keys.
//!
//! Formula injection: a unit name such as `=HYPERLINK(…)` would run when the file is opened, so
//! text cells starting with `=`, `+`, `-`, `@`, tab or CR get a leading `'` ([`table::neutralise`]).
//! Numeric columns are written as plain numbers (shortest round-trip form) and never prefixed: a
//! negative number there is a number, not a formula. `null` is an empty cell; booleans are 是/否.

use super::model::PublicResults;
use super::table::{self, COLUMNS, Cell};

/// The UTF-8 byte-order mark.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The whole file.
pub fn results_csv(results: &PublicResults) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::Writer::from_writer(BOM.to_vec());
    writer.write_record(COLUMNS.iter().map(|(key, _, _)| *key))?;
    for group in &results.peer_groups {
        for unit in table::reading_order(group) {
            let record: Vec<String> = table::row(group, unit)
                .into_iter()
                .map(|cell| match cell {
                    Cell::Text(t) => table::neutralise(&t).into_owned(),
                    Cell::Number(n) => n.to_string(),
                    Cell::Empty => String::new(),
                })
                .collect();
            writer.write_record(&record)?;
        }
    }
    writer
        .into_inner()
        .map_err(|e| csv::Error::from(std::io::Error::other(e.to_string())))
}
