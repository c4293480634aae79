//! The repository's documents are its own. No file of the repository names the project's earlier
//! notes, which lived outside it (`STATS`, `DESIGN`, `INTERFACE`, `DOMAIN`, each `.md`, and the
//! folder beside the repository that held them); every `docs/…` path a file names exists, and so
//! does the `§N` section it cites; every relative link of a Markdown file leads to a file. So a
//! document renamed or removed, or a section renumbered, cannot leave a dangling reference behind.
//!
//! Exempt, because they are frozen: stored results and test fixtures of earlier method versions
//! ([`FROZEN`]), and the method version strings themselves, which every published result carries
//! as it was when computed (`qiping::stats::METHOD_NAMES_ZH` lists every version; version 1.0
//! names the document by its earlier name).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Paths (prefixes) of frozen files: the databases made by the release before issue 37, whose
/// stored results carry method version 1.0.
const FROZEN: &[&str] = &["tests/fixtures/upgrade/"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The files git tracks or would track (not ignored), with their working-tree contents; without
/// git, every file outside `target/`, `.git/` and the folders of a running installation's output.
fn repository_files() -> Vec<String> {
    let listed = std::process::Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(root())
        .output();
    if let Ok(out) = listed
        && out.status.success()
    {
        return String::from_utf8(out.stdout)
            .unwrap()
            .split('\0')
            .filter(|p| !p.is_empty() && root().join(p).is_file())
            .map(str::to_owned)
            .collect();
    }
    let mut files = Vec::new();
    let mut stack = vec![root()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path
                .strip_prefix(root())
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if ["target", ".git", "reports", "outbox", "qiping-demo-outbox"].contains(&rel.as_str())
            {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(rel);
            }
        }
    }
    files.sort();
    files
}

/// Each text file with its contents; the frozen method version strings are cut out.
fn texts() -> Vec<(String, String)> {
    repository_files()
        .into_iter()
        .filter(|p| !FROZEN.iter().any(|f| p.starts_with(f)))
        .filter_map(|p| {
            let mut text = String::from_utf8(std::fs::read(root().join(&p)).ok()?).ok()?;
            for (version, _) in qiping::stats::METHOD_NAMES_ZH {
                text = text.replace(version, "");
            }
            Some((p, text))
        })
        .collect()
}

/// The names that must not appear, built here so that this file does not name them itself.
fn outside_names() -> Vec<String> {
    let mut names: Vec<String> = ["STATS", "DESIGN", "INTERFACE", "DOMAIN"]
        .iter()
        .map(|n| format!("{n}.md"))
        .collect();
    names.push(format!("..{}shared", '/'));
    names
}

/// `(line, path, sections)` of every `docs/…` path in `text`, with the `§N` sections that follow it
/// (`docs/method.md §4.2`, `docs/method.md §0, §2.4`, `docs/method.md §1–§2`).
fn doc_references(text: &str) -> Vec<(usize, String, Vec<String>)> {
    let mut found = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let mut from = 0;
        while let Some(at) = line[from..].find("docs/").map(|i| i + from) {
            from = at + "docs/".len();
            let before = line[..at].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || "/.-_".contains(c)) {
                continue; // part of another path or address, e.g. …/foo/docs/
            }
            let rest = &line[at..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || "/._-".contains(c)))
                .unwrap_or(rest.len());
            let path = rest[..end].trim_end_matches('.').to_owned();
            found.push((number + 1, path, sections_after(&rest[end..])));
        }
    }
    found
}

/// The `§N` (or `§N.M`) sections at the start of `text`, joined by `, `, `–`, ` and `.
fn sections_after(text: &str) -> Vec<String> {
    let mut sections = Vec::new();
    let mut rest = text.trim_start_matches(['`', ' ', '\u{a0}']);
    while let Some(after) = rest.strip_prefix('§') {
        let end = after
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(after.len());
        let id = after[..end].trim_end_matches('.');
        if id.is_empty() {
            break;
        }
        sections.push(id.to_owned());
        rest = &after[end..];
        rest = [", and ", " and ", ", ", "–"]
            .iter()
            .find_map(|sep| rest.strip_prefix(sep))
            .unwrap_or("");
    }
    sections
}

/// The `§` sections a document's headings define.
fn sections_of(document: &str) -> BTreeSet<String> {
    document
        .lines()
        .filter(|l| l.starts_with('#'))
        .filter_map(|l| {
            let after = &l[l.find('§')? + '§'.len_utf8()..];
            let end = after
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(after.len());
            Some(after[..end].trim_end_matches('.').to_owned())
        })
        .collect()
}

/// Every problem found in `files`, one line each.
fn dangling(files: &[(String, String)]) -> Vec<String> {
    let mut problems = Vec::new();
    for (path, text) in files {
        for name in outside_names() {
            for (number, line) in text.lines().enumerate() {
                if line.contains(&name) {
                    problems.push(format!(
                        "{path}:{}: names {name}, outside the repository",
                        number + 1
                    ));
                }
            }
        }
        for (number, target, sections) in doc_references(text) {
            let full = root().join(&target);
            if !full.exists() {
                problems.push(format!("{path}:{number}: {target} does not exist"));
                continue;
            }
            if sections.is_empty() {
                continue;
            }
            let defined = sections_of(&std::fs::read_to_string(&full).unwrap_or_default());
            for section in sections {
                if !defined.contains(&section) {
                    problems.push(format!(
                        "{path}:{number}: {target} has no section §{section}"
                    ));
                }
            }
        }
        if path.ends_with(".md") {
            problems.extend(broken_links(path, text));
        }
    }
    problems
}

/// Relative Markdown links (`[text](target)`) of `path` that lead nowhere.
fn broken_links(path: &str, text: &str) -> Vec<String> {
    let dir = Path::new(path).parent().unwrap_or(Path::new(""));
    let mut problems = Vec::new();
    for (number, line) in text.lines().enumerate() {
        // outside code spans: `questions[1](efficiency)` is no link
        let prose: String = line.split('`').step_by(2).collect::<Vec<_>>().join(" ");
        for piece in prose.split("](").skip(1) {
            let Some(end) = piece.find(')') else { continue };
            let target = piece[..end].split('#').next().unwrap_or_default();
            if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            if !root().join(dir).join(target).exists() {
                problems.push(format!(
                    "{path}:{}: link to {target} leads nowhere",
                    number + 1
                ));
            }
        }
    }
    problems
}

#[test]
fn no_file_names_a_document_outside_the_repository_or_a_missing_one() {
    let files = texts();
    assert!(
        files.iter().any(|(p, _)| p == "src/stats/mod.rs") && files.len() > 100,
        "the repository's files were not found ({} files)",
        files.len()
    );
    let problems = dangling(&files);
    assert!(
        problems.is_empty(),
        "dangling references:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_four_documents_exist_and_the_method_numbers_its_sections() {
    for doc in ["method", "architecture", "interface", "domain"] {
        assert!(
            root().join(format!("docs/{doc}.md")).is_file(),
            "docs/{doc}.md"
        );
    }
    let method = sections_of(&std::fs::read_to_string(root().join("docs/method.md")).unwrap());
    for section in ["0", "1", "2.1", "3", "4.2", "5.2", "6", "7", "10", "13"] {
        assert!(method.contains(section), "docs/method.md has no §{section}");
    }
}

#[test]
fn a_dangling_reference_of_each_kind_is_found() {
    // "docs" apart, so that this file names no missing document itself
    let d = "docs";
    let outside = format!("see {} for the rules", outside_names()[0]);
    let files = vec![
        ("src/a.rs".to_owned(), outside),
        ("src/b.rs".to_owned(), format!("({d}/nowhere.md)")),
        ("src/c.rs".to_owned(), format!("({d}/method.md §99)")),
        ("src/d.rs".to_owned(), format!("({d}/method.md §4.2, §4.9)")),
        (format!("{d}/e.md"), "[the method](methods.md)".to_owned()),
        (
            "src/f.rs".to_owned(),
            format!("({d}/method.md §4.2, §0–§5)"),
        ),
    ];
    let problems = dangling(&files);
    for expected in [
        "src/a.rs:1: names STATS".to_owned(),
        format!("src/b.rs:1: {d}/nowhere.md does not exist"),
        format!("src/c.rs:1: {d}/method.md has no section §99"),
        format!("src/d.rs:1: {d}/method.md has no section §4.9"),
        format!("{d}/e.md:1: link to methods.md leads nowhere"),
    ] {
        assert!(
            problems.iter().any(|p| p.starts_with(&expected)),
            "{expected} not found in {problems:?}"
        );
    }
    assert!(
        !problems.iter().any(|p| p.starts_with("src/f.rs")),
        "{problems:?}"
    );
    assert_eq!(problems.len(), 5, "{problems:?}");
}
