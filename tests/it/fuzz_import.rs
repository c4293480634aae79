//! Bad input, fuzzed: the CSV importers (units, enterprises, interactions) fed hostile files on
//! SQLite and PostgreSQL — arbitrary bytes, invalid UTF-8 and mixed encodings, NUL bytes, broken
//! quoting, unknown and duplicate columns, huge cells, formula and script text. An import either
//! lands whole or is refused naming line and column (a database error is a bug: it means an input
//! reached the database unchecked), never panics, and a refused file leaves the registry exactly
//! as it was. The corpus in tests/fixtures/nasty/csv/ replays inputs worth keeping.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use crate::common;

use qiping::service::Actor;
use std::cell::RefCell;

use common::{fixture, nasty, no_progress, on_each_backend, uscc};
use diesel::prelude::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use qiping::db::Conn;
use qiping::db::schema::{enterprises, interactions, unit_heads, units};
use qiping::service::{ServiceError, import};

const CASES: u32 = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Units,
    Enterprises,
    Interactions,
}

/// Everything an import may change, to compare before and after a refused file.
#[derive(Debug, PartialEq)]
struct Registry {
    units: Vec<(String, String, String, Option<String>)>,
    heads: i64,
    enterprises: Vec<(String, String, Option<String>, String)>,
    interactions: i64,
}

fn registry(conn: &mut Conn) -> Registry {
    Registry {
        units: units::table
            .order(units::code)
            .select((units::code, units::name, units::kind, units::parent_code))
            .load(conn)
            .unwrap(),
        heads: unit_heads::table.count().get_result(conn).unwrap(),
        enterprises: enterprises::table
            .order(enterprises::uscc)
            .select((
                enterprises::uscc,
                enterprises::name,
                enterprises::email,
                enterprises::size,
            ))
            .load(conn)
            .unwrap(),
        interactions: interactions::table.count().get_result(conn).unwrap(),
    }
}

fn import(conn: &mut Conn, kind: Kind, bytes: &[u8]) -> Result<(), ServiceError> {
    match kind {
        Kind::Units => {
            import::import_units(conn, &Actor::cli(), bytes, &mut no_progress()).map(drop)
        }
        Kind::Enterprises => {
            import::import_enterprises(conn, &Actor::cli(), bytes, &mut no_progress()).map(drop)
        }
        Kind::Interactions => import::import_interactions(
            conn,
            &Actor::cli(),
            &"2019H2".parse().unwrap(),
            bytes,
            &mut no_progress(),
        )
        .map(drop),
    }
}

/// Imports `bytes` and checks the outcome: whole, or refused with nothing changed.
fn check(conn: &mut Conn, kind: Kind, bytes: &[u8]) -> Result<bool, String> {
    let before = registry(conn);
    match import(conn, kind, bytes) {
        Ok(()) => Ok(true),
        Err(ServiceError::Import(errors)) => {
            if errors.errors().iter().any(|e| e.message.is_empty()) {
                return Err(format!("an error without a message: {errors}"));
            }
            if registry(conn) != before {
                return Err(format!(
                    "a refused {kind:?} file changed the registry: {errors}"
                ));
            }
            Ok(false)
        }
        Err(other) => Err(format!("{kind:?}: not an import error: {other}")),
    }
}

/// A registry to import into: the sample units and enterprises.
fn seeded(conn: &mut Conn) {
    import(conn, Kind::Units, &fixture("import/units_good.csv")).unwrap();
    import(
        conn,
        Kind::Enterprises,
        &fixture("import/enterprises_good.csv"),
    )
    .unwrap();
}

fn headers(kind: Kind) -> Vec<&'static str> {
    match kind {
        Kind::Units => vec![
            "code",
            "name",
            "kind",
            "parent_code",
            "peer_group",
            "head_name",
            "head_since",
            "predecessor_code",
            "单位编码",
            "负责人",
        ],
        Kind::Enterprises => vec![
            "uscc",
            "name",
            "email",
            "district",
            "industry",
            "size",
            "统一社会信用代码",
            "邮箱",
        ],
        Kind::Interactions => vec!["uscc", "unit_code", "统一社会信用代码"],
    }
}

fn good_header(kind: Kind) -> Vec<String> {
    let n = match kind {
        Kind::Units => 8,
        Kind::Enterprises => 6,
        Kind::Interactions => 2,
    };
    headers(kind)[..n].iter().map(|s| (*s).to_owned()).collect()
}

/// Plausible cell values of every column, so that fuzzed rows get past the first checks.
fn plausible() -> Vec<String> {
    let mut values: Vec<String> = [
        "FGW",
        "SWJ",
        "NEW1",
        "department",
        "office",
        "station",
        "部门",
        "处室",
        "部门组",
        "张三",
        "2019-01-01",
        "2019/1/1",
        "2019-02-30",
        "市发改委",
        "a@b.cn",
        "not-an-email",
        "small",
        "微型",
        "huge",
        "云龙区",
        "制造业",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    values.extend([
        uscc(1),
        uscc(2),
        "91320312MAT4R7YF5P".into(),
        "913203120000000000".into(),
    ]);
    values
}

fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => proptest::sample::select(plausible()),
        1 => nasty::string(),
    ]
}

#[derive(Debug, Clone)]
enum Encoding {
    Utf8,
    Utf8Bom,
    Gb18030,
    Utf16Le,
}

#[derive(Debug, Clone)]
enum CsvInput {
    Bytes(Vec<u8>),
    Table {
        header: Option<Vec<String>>,
        rows: Vec<Vec<String>>,
        quoted: bool,
        encoding: Encoding,
        splice: Option<(usize, Vec<u8>)>,
    },
}

fn csv_input(kind: Kind) -> impl Strategy<Value = CsvInput> {
    let header = prop_oneof![
        3 => Just(None),
        1 => proptest::collection::vec(
            prop_oneof![proptest::sample::select(headers(kind)).prop_map(str::to_owned), nasty::string()],
            0..9
        )
        .prop_map(Some),
    ];
    let width = good_header(kind).len();
    let row = proptest::collection::vec(cell(), width.saturating_sub(1)..width + 2);
    let encoding = prop_oneof![
        4 => Just(Encoding::Utf8),
        1 => Just(Encoding::Utf8Bom),
        2 => Just(Encoding::Gb18030),
        1 => Just(Encoding::Utf16Le),
    ];
    prop_oneof![
        1 => proptest::collection::vec(any::<u8>(), 0..400).prop_map(CsvInput::Bytes),
        5 => (
            header,
            proptest::collection::vec(row, 0..6),
            any::<bool>(),
            encoding,
            proptest::option::weighted(
                0.2,
                (0usize..1000, proptest::sample::select(nasty::bad_bytes()))
            ),
        )
            .prop_map(|(header, rows, quoted, encoding, splice)| CsvInput::Table {
                header,
                rows,
                quoted,
                encoding,
                splice
            }),
    ]
}

fn render(kind: Kind, input: &CsvInput) -> Vec<u8> {
    let CsvInput::Table {
        header,
        rows,
        quoted,
        encoding,
        splice,
    } = input
    else {
        let CsvInput::Bytes(bytes) = input else {
            unreachable!()
        };
        return bytes.clone();
    };
    let header = header.clone().unwrap_or_else(|| good_header(kind));
    let text = if *quoted {
        let mut writer = csv::WriterBuilder::new()
            .flexible(true)
            .from_writer(Vec::new());
        writer.write_record(&header).unwrap();
        for row in rows {
            writer.write_record(row).unwrap();
        }
        String::from_utf8(writer.into_inner().unwrap()).unwrap()
    } else {
        // Written as a careless script would: no quoting at all.
        std::iter::once(&header)
            .chain(rows)
            .map(|r| r.join(","))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let mut bytes = match encoding {
        Encoding::Utf8 => text.into_bytes(),
        Encoding::Utf8Bom => [b"\xef\xbb\xbf".as_slice(), text.as_bytes()].concat(),
        Encoding::Gb18030 => encoding_rs::GB18030.encode(&text).0.into_owned(),
        Encoding::Utf16Le => text.encode_utf16().flat_map(u16::to_le_bytes).collect(),
    };
    if let Some((at, bad)) = splice {
        let at = bytes.len() * at / 1000;
        bytes.splice(at..at, bad.iter().copied());
    }
    bytes
}

fn fuzz(kind: Kind) {
    on_each_backend(|db| {
        let mut conn = db.conn();
        seeded(&mut conn);
        let mut runner = TestRunner::new(Config::with_cases(CASES));
        let state = RefCell::new((conn, 0usize));
        runner
            .run(&csv_input(kind), |input| {
                let bytes = render(kind, &input);
                let mut state = state.borrow_mut();
                let (conn, landed) = &mut *state;
                *landed += usize::from(check(conn, kind, &bytes).map_err(TestCaseError::fail)?);
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{}: {e}", db.backend));
        let landed = state.into_inner().1;
        eprintln!("{}: {kind:?}: {CASES} files, {landed} imported", db.backend);
    });
}

#[test]
fn fuzzed_unit_files_import_whole_or_not_at_all() {
    fuzz(Kind::Units);
}

#[test]
fn fuzzed_enterprise_files_import_whole_or_not_at_all() {
    fuzz(Kind::Enterprises);
}

#[test]
fn fuzzed_interaction_files_import_whole_or_not_at_all() {
    fuzz(Kind::Interactions);
}

#[test]
fn the_corpus_of_nasty_registry_files_imports_whole_or_not_at_all() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        seeded(&mut conn);
        let mut failures = Vec::new();
        // bad-* sorts before ok-*: every refused file meets the sample registry as it was.
        for (folder, kind) in [
            ("units", Kind::Units),
            ("enterprises", Kind::Enterprises),
            ("interactions", Kind::Interactions),
        ] {
            let dir = format!(
                "{}/tests/fixtures/nasty/csv/{folder}",
                env!("CARGO_MANIFEST_DIR")
            );
            let mut files: Vec<_> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            files.sort();
            for path in files {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                let bytes = std::fs::read(&path).unwrap();
                match (check(&mut conn, kind, &bytes), name.starts_with("ok-")) {
                    (Ok(true), true) | (Ok(false), false) => {}
                    (Ok(imported), _) => failures.push(format!(
                        "{folder}/{name}: {}",
                        if imported { "imported" } else { "refused" }
                    )),
                    (Err(e), _) => failures.push(format!("{folder}/{name}: {e}")),
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{}:\n{}",
            db.backend,
            failures.join("\n")
        );
    });
}
