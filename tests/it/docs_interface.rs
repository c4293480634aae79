//! `docs/interface.md` lists the whole interface of the code: every subcommand of the clap
//! definition with every one of its flags (§1), and every route of `qiping::web::routes::ROUTES`
//! with its method (§3). A command, flag or route added without its line here fails this test.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use clap::CommandFactory;
use qiping::web::routes::ROUTES;

fn interface() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/interface.md")).unwrap()
}

/// The text of section `heading` (`## §1 …`) up to the next `## `.
fn section<'a>(doc: &'a str, heading: &str) -> &'a str {
    let start = doc.find(heading).unwrap_or_else(|| panic!("no {heading}"));
    let body = &doc[start + heading.len()..];
    &body[..body.find("\n## ").unwrap_or(body.len())]
}

/// The command list of §1: each entry (`qiping …` and its indented continuation lines) as one
/// string.
fn command_entries(doc: &str) -> Vec<String> {
    let text = section(doc, "## §1");
    let start = text.find("```").unwrap() + 3;
    let block = &text[start..start + text[start..].find("```").unwrap()];
    let mut entries: Vec<String> = Vec::new();
    for line in block.lines() {
        if line.starts_with("qiping") {
            entries.push(line.to_owned());
        } else if line.starts_with(' ')
            && let Some(last) = entries.last_mut()
        {
            last.push(' ');
            last.push_str(line.trim());
        }
    }
    entries
}

/// Every subcommand path with its long flags and visible aliases, depth first.
fn commands(
    command: &clap::Command,
    path: &str,
    out: &mut Vec<(String, Vec<String>, Vec<String>)>,
) {
    let flags = command
        .get_arguments()
        .filter(|a| !a.is_global_set() || path == "qiping")
        .filter_map(|a| a.get_long())
        .filter(|l| !["help", "version"].contains(l))
        .map(|l| format!("--{l}"))
        .collect();
    let aliases = command.get_visible_aliases().map(str::to_owned).collect();
    out.push((path.to_owned(), flags, aliases));
    for sub in command.get_subcommands() {
        if sub.get_name() != "help" {
            commands(sub, &format!("{path} {}", sub.get_name()), out);
        }
    }
}

#[test]
fn every_subcommand_and_flag_of_the_cli_is_in_the_interface() {
    let doc = interface();
    let entries = command_entries(&doc);
    let cli_section = section(&doc, "## §1");
    let mut all = Vec::new();
    commands(&qiping::cli::Cli::command(), "qiping", &mut all);
    assert!(all.len() > 40, "{} commands", all.len());
    let mut missing = Vec::new();
    for (path, flags, aliases) in &all {
        if path == "qiping" {
            for flag in flags {
                if !cli_section.contains(flag.as_str()) {
                    missing.push(format!("global {flag}"));
                }
            }
            continue;
        }
        let mine: Vec<&String> = entries
            .iter()
            .filter(|e| *e == path || e.starts_with(&format!("{path} ")))
            .collect();
        if mine.is_empty() {
            missing.push(path.clone());
            continue;
        }
        for flag in flags {
            if !mine
                .iter()
                .any(|e| e.split([' ', '[', ']', '|']).any(|w| w == flag))
            {
                missing.push(format!("{path} {flag}"));
            }
        }
        for alias in aliases {
            if !cli_section.contains(alias.as_str()) {
                missing.push(format!("{path}: alias {alias}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "not in docs/interface.md §1: {missing:?}"
    );
}

#[test]
fn every_route_is_in_the_interface_with_its_method() {
    let doc = interface();
    let table = section(&doc, "## §3");
    let mut missing = Vec::new();
    for route in ROUTES {
        // `{file:.*}` is written `{file}`
        let path = match route.path.split_once(":.*") {
            Some((head, tail)) => format!("{head}{tail}"),
            None => route.path.to_owned(),
        };
        let listed = table.lines().any(|line| {
            line.starts_with('|')
                && line
                    .split('|')
                    .nth(1)
                    .is_some_and(|m| m.contains(route.verb.as_str()))
                && line
                    .split('|')
                    .nth(2)
                    .is_some_and(|p| p.split(", ").any(|p| p.trim().trim_matches('`') == path))
        });
        if !listed {
            missing.push(format!("{} {path}", route.verb.as_str()));
        }
    }
    assert!(
        missing.is_empty(),
        "not in docs/interface.md §3: {missing:?}"
    );
}
