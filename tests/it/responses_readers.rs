//! Issues 37 and 38: nothing reads `responses` or anything that groups one enterprise's ratings.
//! Counts, aggregation, moderation, oversight and the unit pages read ratings by campaign and
//! unit; since sealed ballots nothing writes `responses` either (the close stores ratings with no
//! response). Only `db/answers.rs` names the table, to delete answers stored before sealed
//! ballots when a campaign is discarded. This test reads every Rust file of `src/` and fails on a
//! use of the `responses` table (diesel's `responses::…`, the table in a `schema::{…}` import, or
//! SQL naming it), of its `respondent_key`, of a rating's `response_id`, or of a `db::responses`
//! module, anywhere else.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

/// The files that may name the table: the schema, the discard's deletion of old answers, and
/// the upgrade step that unlinks answers stored the old way (`service::upgrade`).
const SUBMISSION_PATH: &[&str] = &[
    "src/db/answers.rs",
    "src/db/schema.rs",
    "src/db/upgrade.rs",
    "src/service/upgrade.rs",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The file without its comments (line comments and doc comments; qiping has no block comments).
fn code_of(text: &str) -> String {
    text.lines()
        .map(|line| {
            let trimmed = line.trim_start();
            if trimmed.starts_with("//") { "" } else { line }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// What in `code` reads the responses table or a respondent's key, if anything.
fn offences(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    for needle in [
        "responses::",
        "respondent_key",
        "response_id",
        "db::responses",
    ] {
        if code.contains(needle) {
            found.push(needle.to_owned());
        }
    }
    let lower = code.to_lowercase();
    for keyword in ["from", "join", "into", "update", "table"] {
        let pattern = format!("{keyword} responses");
        if lower.match_indices(&pattern).any(|(i, _)| {
            !lower[i + pattern.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_')
        }) {
            found.push(pattern);
        }
    }
    // `use …::schema::{…, responses, …}` over one or several lines.
    let mut rest = code;
    while let Some(start) = rest.find("schema::{") {
        let after = &rest[start + "schema::{".len()..];
        let end = after.find('}').unwrap_or(after.len());
        if after[..end]
            .split([',', ' ', '\n'])
            .any(|name| name.trim() == "responses")
        {
            found.push("schema::{… responses …}".to_owned());
        }
        rest = &after[end..];
    }
    found
}

#[test]
fn no_query_outside_the_submission_path_reads_responses() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    assert!(files.len() > 100, "{} files", files.len());
    let mut readers = Vec::new();
    for file in files {
        let relative = file
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if SUBMISSION_PATH.contains(&relative.as_str()) {
            continue;
        }
        let found = offences(&code_of(&std::fs::read_to_string(&file).unwrap()));
        if !found.is_empty() {
            readers.push(format!("{relative}: {}", found.join(", ")));
        }
    }
    assert!(
        readers.is_empty(),
        "read responses outside the submission path:\n{}",
        readers.join("\n")
    );
}

#[test]
fn the_check_finds_each_way_of_reading_responses() {
    for code in [
        "ratings::table.inner_join(responses::table)",
        "use super::schema::{campaigns,\n    responses, units};",
        "sql_query(\"SELECT id FROM responses WHERE campaign_id = 1\")",
        "\"UPDATE responses SET size = 'x'\"",
        ".select(ratings::response_id)",
        "r.respondent_key",
        "crate::db::responses::insert_response",
    ] {
        assert!(!offences(code).is_empty(), "missed: {code}");
    }
    for code in [
        "\"/api/v1/responses\"",
        "fn accepts_responses(self)",
        "SELECT id FROM responses_archive",
    ] {
        assert!(offences(code).is_empty(), "false alarm: {code}");
    }
    assert_eq!(code_of("// FROM responses\nlet x = 1;"), "\nlet x = 1;");
}
