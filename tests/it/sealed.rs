//! Sealed ballots (issue 38) attacked as an administrator who holds the database would attack
//! them: what a submission writes, where a comment written during the campaign can be read, what
//! a ballot's length says, what copies of the ballots are worth once the key is destroyed, what a
//! close with the wrong key does, where the web's key goes, submissions racing the close, a close
//! killed half-way, and whether anything stored after the close groups one enterprise's ratings.
//!
//! Each assertion says what leaked. `tests/it/ballot.rs` attacks one ballot and the key file on
//! their own; `survey.rs`, `discard.rs` and `crash.rs` cover the columns, the rating order and a
//! crash under load — not repeated here.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test as web_test;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text};
use hpke::{Deserializable, Kem as _, Serializable};
use sha2::Digest;

use crate::common::scenario::{complete, open_survey_campaign, secret};
use crate::common::{self, TestDb, accounts, count, on_each_backend};
use crate::survey_support::http::Http;
use crate::survey_support::server::{self, SECRET};
use crate::survey_support::{ASKED, DEPARTMENTS, OFFICES, PERIOD, asked_codes, data};
use qiping::ballot::keyfile::{self, KeyFileError, KeyFileInfo};
use qiping::ballot::{self, PrivateKey, PublicKey, SpentKey};
use qiping::db::Conn;
use qiping::domain::Period;
use qiping::service::closing::{self, CloseOptions};
use qiping::service::survey::{self, SurveyContext, ViewCounter};
use qiping::service::{Actor, ServiceError, aggregate, campaign, import, response};

fn period() -> Period {
    PERIOD.parse().unwrap()
}

/// A marker no run shares with another: a test never finds what an earlier run left.
fn marker() -> String {
    format!("QX{:016x}", rand::random::<u64>())
}

// ---------------------------------------------------------------------------------------------
// Reading everything an administrator can read.

#[derive(QueryableByName)]
struct Cell {
    #[diesel(sql_type = Nullable<Text>)]
    value: Option<String>,
}

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    ty: String,
}

fn cells(conn: &mut Conn, sql: &str) -> Vec<Option<String>> {
    diesel::sql_query(sql)
        .load::<Cell>(conn)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .into_iter()
        .map(|c| c.value)
        .collect()
}

/// Every table of the database, from its own catalogue.
fn tables(conn: &mut Conn) -> Vec<String> {
    let sql = match conn {
        Conn::Sqlite(_) => "SELECT name AS value FROM sqlite_master WHERE type = 'table'",
        Conn::Postgres(_) => {
            "SELECT tablename::text AS value FROM pg_tables WHERE schemaname = 'public'"
        }
    };
    let mut names: Vec<String> = cells(conn, sql).into_iter().flatten().collect();
    names.sort();
    names
}

/// A table's columns, each with the SQL expression that gives its cells' bytes in hex (text as
/// UTF-8, binary as stored).
fn hex_columns(conn: &mut Conn, table: &str) -> Vec<(String, String)> {
    let columns: Vec<Column> = match conn {
        Conn::Sqlite(_) => diesel::sql_query(format!(
            "SELECT name AS name, type AS ty FROM pragma_table_info('{table}')"
        ))
        .load(conn)
        .unwrap(),
        Conn::Postgres(_) => diesel::sql_query(format!(
            "SELECT column_name::text AS name, data_type::text AS ty \
             FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name = '{table}'"
        ))
        .load(conn)
        .unwrap(),
    };
    let sqlite = matches!(conn, Conn::Sqlite(_));
    columns
        .into_iter()
        .map(|c| {
            let expr = if sqlite {
                format!("lower(hex(\"{}\"))", c.name)
            } else if c.ty == "bytea" {
                format!("encode(\"{}\", 'hex')", c.name)
            } else {
                format!("encode(convert_to(\"{}\"::text, 'UTF8'), 'hex')", c.name)
            };
            (c.name, expr)
        })
        .collect()
}

/// Every cell of every table, as `table.column` and its bytes.
fn every_cell(conn: &mut Conn) -> Vec<(String, Vec<u8>)> {
    let mut all = Vec::new();
    for table in tables(conn) {
        for (column, expr) in hex_columns(conn, &table) {
            let sql = format!("SELECT {expr} AS value FROM \"{table}\"");
            for value in cells(conn, &sql).into_iter().flatten() {
                all.push((format!("{table}.{column}"), hex::decode(value).unwrap()));
            }
        }
    }
    all
}

/// How often `needle` occurs in `haystack` (overlaps counted).
fn occurrences(haystack: &[u8], needle: &[u8]) -> usize {
    if needle.is_empty() || haystack.len() < needle.len() {
        return 0;
    }
    let first = needle[0];
    (0..=haystack.len() - needle.len())
        .filter(|&i| haystack[i] == first && &haystack[i..i + needle.len()] == needle)
        .count()
}

/// A text as UTF-8, UTF-16BE (how a ballot holds a comment) and UTF-16LE.
fn encodings(text: &str) -> Vec<(String, Vec<u8>)> {
    let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
    let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    vec![
        (format!("{text:?} as UTF-8"), text.as_bytes().to_vec()),
        (format!("{text:?} as UTF-16BE"), be),
        (format!("{text:?} as UTF-16LE"), le),
    ]
}

/// Every file under `dir`, with its bytes.
fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(folder) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let kind = entry.file_type().unwrap();
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file()
                && let Ok(bytes) = std::fs::read(&path)
            {
                found.push((path, bytes));
            }
        }
    }
    found
}

/// Asserts that none of `needles` is in any cell of any table.
fn assert_not_in_tables(conn: &mut Conn, needles: &[(String, Vec<u8>)], what: &str) {
    for (place, bytes) in every_cell(conn) {
        for (name, needle) in needles {
            assert_eq!(
                occurrences(&bytes, needle),
                0,
                "{what}: {name} is readable in {place}"
            );
        }
    }
}

/// The control of the scans: what the database does hold (the campaign's public key) is found
/// where it is stored, by the same reading of every table and, on SQLite, of its files — so a scan
/// that finds nothing has read what it claims to.
fn assert_scans_find_the_public_key(conn: &mut Conn, database_url: &str, what: &str) {
    let public = campaign_row(conn).ballot_public_key.unwrap();
    let holding: Vec<String> = every_cell(conn)
        .into_iter()
        .filter(|(_, bytes)| occurrences(bytes, &public) > 0)
        .map(|(place, _)| place)
        .collect();
    assert_eq!(
        holding,
        ["campaigns.ballot_public_key"],
        "{what}: the scan of every table does not find the public key where it is stored"
    );
    if database_url.starts_with("sqlite://") {
        let files = sqlite_files(database_url);
        assert!(
            files
                .iter()
                .any(|(_, bytes)| occurrences(bytes, &public) > 0),
            "{what}: the scan of the database's files does not find the public key"
        );
    }
}

/// Asserts that none of `needles` is in any file under `dir`.
fn assert_not_in_files(dir: &Path, needles: &[(String, Vec<u8>)], what: &str) {
    for (path, bytes) in files_under(dir) {
        for (name, needle) in needles {
            assert_eq!(
                occurrences(&bytes, needle),
                0,
                "{what}: {name} is in the file {}",
                path.display()
            );
        }
    }
}

/// The SQLite database file and its WAL and shared-memory file (whichever exist).
fn sqlite_files(database_url: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let path = database_url.trim_start_matches("sqlite://");
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|suffix| {
            let p = PathBuf::from(format!("{path}{suffix}"));
            std::fs::read(&p).ok().map(|b| (p, b))
        })
        .collect()
}

fn campaign_row(conn: &mut Conn) -> qiping::db::campaigns::CampaignRow {
    campaign::find(conn, &period()).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Submissions over HTTP.

/// A complete submission for `codes` whose first rating carries `comment`.
fn submission_with_comment(token: &str, codes: &[String], comment: &str) -> String {
    let mut v: serde_json::Value =
        serde_json::from_str(&data::submission_json(token, codes)).unwrap();
    v["ratings"][0]["comment"] = serde_json::Value::String(comment.to_owned());
    v.to_string()
}

/// What one submission got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    NotSent,
    Status(u16),
    NoAnswer,
}

/// Posts `body(i)` for every token `i` from `clients` threads, until the tokens run out or `stop`
/// is set; counts the 201s in `acknowledged` as they come.
fn load(
    addr: std::net::SocketAddr,
    tokens: &[String],
    body: &(dyn Fn(usize, &str) -> String + Sync),
    clients: usize,
    stop: &AtomicBool,
    acknowledged: &AtomicUsize,
) -> Vec<Outcome> {
    let outcomes = Mutex::new(vec![Outcome::NotSent; tokens.len()]);
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..clients {
            scope.spawn(|| {
                let mut http: Option<Http> = None;
                while !stop.load(Ordering::SeqCst) {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(token) = tokens.get(i) else { break };
                    if http.is_none() {
                        http = Http::connect(addr).ok();
                    }
                    let answer = http
                        .as_mut()
                        .map(|h| h.post_json("/api/v1/responses", &body(i, token)));
                    let outcome = match answer {
                        Some(Ok((status, _))) => Outcome::Status(status),
                        _ => {
                            http = None;
                            Outcome::NoAnswer
                        }
                    };
                    if outcome == Outcome::Status(201) {
                        acknowledged.fetch_add(1, Ordering::SeqCst);
                    }
                    outcomes.lock().unwrap()[i] = outcome;
                }
            });
        }
    });
    outcomes.into_inner().unwrap()
}

/// The comment each enterprise `i` of the served tests writes on its first unit.
fn comment_of(mark: &str, i: usize) -> String {
    format!("企业{i:04}的独特留言{mark}")
}

/// How many ratings hold each comment carrying `mark`.
fn stored_comments(conn: &mut Conn, mark: &str) -> HashMap<String, usize> {
    let mut found = HashMap::new();
    for c in cells(
        conn,
        &format!("SELECT comment AS value FROM ratings WHERE comment LIKE '%{mark}%'"),
    )
    .into_iter()
    .flatten()
    {
        *found.entry(c).or_default() += 1;
    }
    found
}

// ---------------------------------------------------------------------------------------------
// 1. Submitting writes nothing to the invitation.

#[derive(QueryableByName, PartialEq, Debug)]
struct SystemColumns {
    #[diesel(sql_type = Text)]
    xmin: String,
    #[diesel(sql_type = Text)]
    xmax: String,
    #[diesel(sql_type = Text)]
    ctid: String,
}

/// The invitations as stored: every column's values in id order (hex) by name, and on
/// PostgreSQL each row's system columns.
type StoredInvitations = (
    BTreeMap<String, Vec<Option<String>>>,
    Option<Vec<SystemColumns>>,
);

/// Every column of every invitation, in id order, as stored (hex), by column name; on
/// PostgreSQL also each row's `xmin`, `xmax` and `ctid` (a new row version changes them even
/// when it writes the same values).
fn invitations_as_stored(conn: &mut Conn) -> StoredInvitations {
    let mut columns = BTreeMap::new();
    for (column, expr) in hex_columns(conn, "invitations") {
        let values = cells(
            conn,
            &format!("SELECT {expr} AS value FROM invitations ORDER BY id"),
        );
        columns.insert(column, values);
    }
    let system = matches!(conn, Conn::Postgres(_)).then(|| {
        diesel::sql_query(
            "SELECT xmin::text AS xmin, xmax::text AS xmax, ctid::text AS ctid \
             FROM invitations ORDER BY id",
        )
        .load(conn)
        .unwrap()
    });
    (columns, system)
}

#[test]
fn submitting_writes_nothing_to_the_invitation() {
    on_each_backend(|db| {
        let tag = db.backend;
        let mut conn = db.conn();
        let tokens = open_survey_campaign(&mut conn, 6);
        let before = invitations_as_stored(&mut conn);
        assert_eq!(before.0["id"].len(), 6, "{tag}");
        let cache = SurveyContext::new(&secret());
        let pool = qiping::db::DatabaseUrl::parse(&db.url)
            .unwrap()
            .pool(2)
            .unwrap();
        let views = ViewCounter::start(pool).unwrap();
        // Views, then answers (one with an added unit and a comment), a second answer of one
        // link, an invalid one, and views of answered links.
        for token in &tokens[..5] {
            survey::view(&mut conn, &cache, token, &[], Some(&views)).unwrap();
        }
        let asked = asked_codes();
        let mut with_more = asked.clone();
        with_more.push("D02".into());
        for (i, token) in tokens[..4].iter().enumerate() {
            let mut submission = complete(if i == 0 { &with_more } else { &asked });
            submission.ratings[0].comment = Some(format!("第{i}家的意见"));
            response::submit(&mut conn, &cache, token, &submission).unwrap();
        }
        let again = response::submit(&mut conn, &cache, &tokens[0], &complete(&asked_codes()));
        assert!(
            matches!(again, Err(response::SubmitError::Used)),
            "{tag}: {again:?}"
        );
        let mut invalid = complete(&asked_codes());
        invalid.ratings[0].answers.insert("overall".into(), Some(9));
        assert!(response::submit(&mut conn, &cache, &tokens[4], &invalid).is_err());
        for token in &tokens[..5] {
            let _ = survey::view(&mut conn, &cache, token, &[], Some(&views));
        }
        views.flush(&mut conn).unwrap();
        assert_eq!(
            common::keys::ballots(&mut conn),
            4,
            "{tag}: the answers were stored"
        );

        let after = invitations_as_stored(&mut conn);
        for (column, values) in &before.0 {
            assert_eq!(
                &after.0[column], values,
                "{tag}: viewing or submitting wrote invitations.{column}: who answered (or \
                 viewed) can be read from it"
            );
        }
        assert_eq!(
            after.1, before.1,
            "{tag}: viewing or submitting made new row versions of invitations (xmin/xmax/ctid): \
             the row versions tell who answered, and when"
        );
    });
}

// ---------------------------------------------------------------------------------------------
// 2. A unique comment while the campaign is open.

fn a_comment_written_while_open(database_url: Option<String>, backend: &str) {
    let mark = marker();
    let unique = format!("王科长窗口办事拖拉{mark}独一无二");
    let mut needles = encodings(&unique);
    // Also the ASCII marker alone: a comment stored escaped (JSON \u, percent-encoding) keeps it.
    needles.extend(encodings(&mark));
    let served = server::start_logging(
        database_url,
        8,
        ASKED,
        0,
        &[("QIPING_LOG", "trace")],
        Some("serve.log"),
    );
    let tokens = served.tokens();
    let mut http = Http::connect(served.addr).unwrap();
    for (i, token) in tokens[..6].iter().enumerate() {
        assert_eq!(
            http.get(&format!("/s/{token}")).unwrap().0,
            200,
            "{backend}"
        );
        let body = if i == 1 {
            submission_with_comment(token, &asked_codes(), &unique)
        } else {
            data::submission_json(token, &asked_codes())
        };
        let (status, answer) = http.post_json("/api/v1/responses", &body).unwrap();
        assert_eq!(
            status,
            201,
            "{backend}: {}",
            String::from_utf8_lossy(&answer)
        );
    }
    // The answered link's page, as the enterprise would look at it again.
    let _ = http.get(&format!("/s/{}", tokens[1])).unwrap();
    let _ = http.get(&format!("/api/v1/survey/{}", tokens[1])).unwrap();

    let mut conn = served.conn();
    assert_eq!(common::keys::ballots(&mut conn), 6, "{backend}");
    let what = format!("{backend}, campaign open");
    assert_scans_find_the_public_key(&mut conn, &served.database_url, &what);
    assert_not_in_tables(&mut conn, &needles, &what);
    if backend == "sqlite" {
        for (path, bytes) in sqlite_files(&served.database_url) {
            for (name, needle) in &needles {
                assert_eq!(
                    occurrences(&bytes, needle),
                    0,
                    "{what}: {name} is in {}",
                    path.display()
                );
            }
        }
    }
    let log = served.log();
    assert!(
        occurrences(&log, b" TRACE ") > 0 && occurrences(&log, b" DEBUG ") > 0,
        "{backend}: serve logged at trace level (else its log proves nothing): {}",
        String::from_utf8_lossy(&log[..log.len().min(2000)])
    );
    for (name, needle) in &needles {
        assert_eq!(
            occurrences(&log, needle),
            0,
            "{what}: {name} is in serve's trace-level log"
        );
    }

    // The close, logging at trace level too, prints nothing of it either; after it the comment is
    // a rating's, once.
    let closed = served
        .command(&server::CLOSE)
        .env("QIPING_LOG", "trace")
        .output()
        .unwrap();
    assert!(
        closed.status.success(),
        "{backend}: {}",
        String::from_utf8_lossy(&closed.stderr)
    );
    for (name, needle) in &needles {
        for (stream, bytes) in [("stdout", &closed.stdout), ("stderr", &closed.stderr)] {
            assert_eq!(
                occurrences(bytes, needle),
                0,
                "{backend}: {name} is in the trace-level {stream} of campaign close"
            );
        }
        assert_eq!(
            occurrences(&served.log(), needle),
            0,
            "{backend}: {name} reached serve's log during the close"
        );
    }
    let holding: Vec<String> = every_cell(&mut conn)
        .into_iter()
        .filter(|(_, bytes)| occurrences(bytes, unique.as_bytes()) > 0)
        .map(|(place, bytes)| format!("{place} ×{}", occurrences(&bytes, unique.as_bytes())))
        .collect();
    assert_eq!(
        holding,
        ["ratings.comment ×1"],
        "{backend}: after the close the comment is stored once, as a rating's comment"
    );
}

#[test]
fn a_comment_written_while_open_is_nowhere_until_the_close() {
    if common::backend_enabled("sqlite") {
        a_comment_written_while_open(None, "sqlite");
    }
    if let Some(db) = TestDb::postgres() {
        a_comment_written_while_open(Some(db.url.clone()), "postgres");
    }
}

// ---------------------------------------------------------------------------------------------
// 3. One ballot length.

#[derive(QueryableByName)]
struct Length {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    bytes: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    stored: i64,
}

#[test]
fn the_smallest_and_the_largest_ballot_have_one_length() {
    on_each_backend(|db| {
        let tag = db.backend;
        let mut conn = db.conn();
        let tokens = open_survey_campaign(&mut conn, 3);
        let cache = SurveyContext::new(&secret());
        let all = data::unit_codes(DEPARTMENTS, OFFICES);
        // The smallest: one unit, no comment.
        let smallest = complete(&asked_codes()[..1]);
        response::submit(&mut conn, &cache, &tokens[0], &smallest).unwrap();
        // The largest: every asked unit, as many added as allowed, and the whole comment budget
        // in comments of the template's longest.
        let added: Vec<String> = all[ASKED..ASKED + ballot::MAX_ADDED_UNITS].to_vec();
        let codes: Vec<String> = asked_codes().into_iter().chain(added).collect();
        let mut largest = complete(&codes);
        let budget = ballot::DEFAULT_COMMENT_BUDGET_CHARS;
        let per_comment = 500;
        let mut left = budget;
        for (i, rating) in largest.ratings.iter_mut().enumerate() {
            let n = left.min(per_comment);
            if n == 0 {
                break;
            }
            // Characters outside the BMP count twice; these are all one UTF-16 unit each.
            rating.comment = Some(
                std::iter::repeat_n(char::from_u32(0x4e00 + i as u32).unwrap(), n)
                    .collect::<String>(),
            );
            left -= n;
        }
        assert_eq!(largest.ratings.len(), ASKED + ballot::MAX_ADDED_UNITS);
        // One more added unit, or one more character, is refused: these are the most allowed.
        let mut too_many = largest.clone();
        let mut extra = complete(&[all[ASKED + ballot::MAX_ADDED_UNITS].clone()]);
        too_many.ratings.push(extra.ratings.remove(0));
        assert!(
            response::prepare(&mut conn, &cache, &tokens[2], &too_many).is_err(),
            "{tag}: {} added units are accepted",
            ballot::MAX_ADDED_UNITS + 1
        );
        let mut too_long = largest.clone();
        too_long.ratings[ASKED + 1].comment = Some("多".into());
        assert!(
            response::prepare(&mut conn, &cache, &tokens[2], &too_long).is_err(),
            "{tag}: {} comment characters are accepted",
            budget + 1
        );
        response::submit(&mut conn, &cache, &tokens[1], &largest).unwrap();

        let opened = common::keys::peek(&mut conn);
        let units: BTreeSet<usize> = opened.iter().map(|b| b.units.len()).collect();
        assert_eq!(
            units,
            BTreeSet::from([1, ASKED + ballot::MAX_ADDED_UNITS]),
            "{tag}: both ballots were stored as sent"
        );
        let sql = match db.backend {
            "sqlite" => "SELECT length(sealed) AS bytes, length(sealed) AS stored FROM ballots",
            _ => {
                "SELECT octet_length(sealed)::bigint AS bytes, \
                 pg_column_size(sealed)::bigint AS stored FROM ballots"
            }
        };
        let lengths: Vec<Length> = diesel::sql_query(sql).load(&mut conn).unwrap();
        assert_eq!(lengths.len(), 2, "{tag}");
        assert_eq!(
            lengths[0].bytes, lengths[1].bytes,
            "{tag}: a ballot's length tells how much its enterprise wrote"
        );
        assert_eq!(
            lengths[0].stored, lengths[1].stored,
            "{tag}: a ballot's stored size (compression) tells how much its enterprise wrote"
        );
        let row = campaign_row(&mut conn);
        let template = qiping::service::templates::parse_stored(&row.template_toml).unwrap();
        let layout = qiping::service::ballots::layout(&row, &template).unwrap();
        assert_eq!(
            lengths[0].bytes as usize,
            ballot::sealed_len(&layout),
            "{tag}"
        );
    });
}

// ---------------------------------------------------------------------------------------------
// 4. Copies of the ballots are useless after the close.

/// The key file's `seed:` value, as written.
fn seed_text(key_file: &[u8]) -> String {
    let text = std::str::from_utf8(key_file).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("seed: "))
        .expect("a seed line")
        .trim()
        .to_owned()
}

/// Everything secret a key file holds, in the forms it could be found in: the seed as the file
/// writes it, as bytes, in hex and in standard base64; and the X-Wing private key HPKE derives
/// from it, as bytes, hex and base64.
fn key_material(key_file: &[u8]) -> Vec<(String, Vec<u8>)> {
    let seed_b64 = seed_text(key_file);
    let seed = URL_SAFE_NO_PAD.decode(&seed_b64).unwrap();
    assert_eq!(seed.len(), 32);
    let (private, _) = hpke::kem::XWing::derive_keypair(&seed);
    let private = private.to_bytes().to_vec();
    let standard = base64::engine::general_purpose::STANDARD;
    let mut material = vec![
        (
            "the seed as the key file writes it".to_owned(),
            seed_b64.clone().into_bytes(),
        ),
        ("the seed".to_owned(), seed.clone()),
        (
            "the seed in hex".to_owned(),
            hex::encode(&seed).into_bytes(),
        ),
        (
            "the seed in HEX".to_owned(),
            hex::encode_upper(&seed).into_bytes(),
        ),
        (
            "the seed in base64".to_owned(),
            standard.encode(&seed).into_bytes(),
        ),
        ("the private key".to_owned(), private.clone()),
        (
            "the private key in hex".to_owned(),
            hex::encode(&private).into_bytes(),
        ),
        (
            "the private key in base64url".to_owned(),
            URL_SAFE_NO_PAD.encode(&private).into_bytes(),
        ),
    ];
    // Half of the seed's text is enough to find a partial copy.
    material.push((
        "the first half of the seed's text".to_owned(),
        seed_b64.as_bytes()[..seed_b64.len() / 2].to_vec(),
    ));
    material
}

/// HPKE's `info` and associated-data label of format 1 (src/ballot/mod.rs), so the test can try
/// keys that are not a [`PrivateKey`].
const INFO: &[u8] = b"qiping sealed ballot v1";
const AAD_LABEL: &[u8] = b"qiping-ballot-v1";

/// Opens a copied ballot with a raw X-Wing private key, at the HPKE level.
fn hpke_open(
    private: &<hpke::kem::XWing as hpke::Kem>::PrivateKey,
    campaign_id: i64,
    spent: &[u8],
    sealed: &[u8],
) -> bool {
    let mut aad = AAD_LABEL.to_vec();
    aad.extend_from_slice(&campaign_id.to_be_bytes());
    aad.extend_from_slice(spent);
    let encapped_len = ballot::ENCAPPED_KEY_BYTES;
    let Ok(encapped) =
        <hpke::kem::XWing as hpke::Kem>::EncappedKey::from_bytes(&sealed[1..1 + encapped_len])
    else {
        return false;
    };
    hpke::single_shot_open::<hpke::aead::ChaCha20Poly1305, hpke::kdf::HkdfSha256, hpke::kem::XWing>(
        &hpke::OpModeR::Base,
        private,
        &encapped,
        INFO,
        &sealed[1 + encapped_len..],
        &aad,
    )
    .is_ok()
}

/// What someone holding qiping.toml (its `link_secret`) and the database could derive a key from.
fn derivable_from_the_link_secret(spent_keys: &[Vec<u8>], public: &[u8]) -> Vec<(String, Vec<u8>)> {
    let raw = URL_SAFE_NO_PAD.decode(SECRET).unwrap();
    let hkdf = |salt: &[u8], info: &[u8]| {
        let mut okm = [0u8; 32];
        hkdf::Hkdf::<sha2::Sha256>::new(Some(salt), &raw)
            .expand(info, &mut okm)
            .unwrap();
        okm.to_vec()
    };
    let mut candidates = vec![
        ("link_secret's text".to_owned(), SECRET.as_bytes().to_vec()),
        ("link_secret's bytes".to_owned(), raw.clone()),
        (
            "SHA-256 of link_secret".to_owned(),
            sha2::Sha256::digest(&raw).to_vec(),
        ),
        (
            "K_spent (HKDF of link_secret)".to_owned(),
            hkdf(b"qiping spent-key salt v1", b"qiping ballot spent keys v1"),
        ),
        (
            "HKDF of link_secret labelled for a ballot key".to_owned(),
            hkdf(b"qiping ballot key", b"qiping sealed ballot v1"),
        ),
        ("the campaign's public key".to_owned(), public.to_vec()),
        (
            "SHA-256 of the public key".to_owned(),
            sha2::Sha256::digest(public).to_vec(),
        ),
    ];
    for (i, spent) in spent_keys.iter().enumerate() {
        candidates.push((format!("spent key {i}"), spent.clone()));
    }
    candidates
}

fn copied_ballots_after_the_close(database_url: Option<String>, backend: &str) {
    let served = server::start_on(database_url, 8, ASKED, 0);
    let tokens = served.tokens();
    let mut http = Http::connect(served.addr).unwrap();
    for token in &tokens[..6] {
        let body = data::submission_json(token, &asked_codes());
        assert_eq!(
            http.post_json("/api/v1/responses", &body).unwrap().0,
            201,
            "{backend}"
        );
    }
    let key_bytes = std::fs::read(served.key_file()).unwrap();
    let (info, key) = keyfile::from_bytes(&key_bytes).unwrap();
    let material = key_material(&key_bytes);
    let mut conn = served.conn();
    let row = campaign_row(&mut conn);
    let template = qiping::service::templates::parse_stored(&row.template_toml).unwrap();
    let layout = qiping::service::ballots::layout(&row, &template).unwrap();
    let public = row.ballot_public_key.clone().unwrap();
    assert_eq!(info.campaign_id, row.id, "{backend}");
    // The copy an administrator (or a backup) takes while the campaign is open.
    let copies: Vec<(Vec<u8>, Vec<u8>)> = qiping::db::ballots::of_campaign(&mut conn, row.id)
        .unwrap()
        .into_iter()
        .map(|b| (b.spent_key, b.sealed))
        .collect();
    assert_eq!(copies.len(), 6, "{backend}");
    // They are real: the key opens them (through qiping, and through HPKE directly with what the
    // file holds, so that the HPKE-level attempts below would open a ballot if they had the key).
    let seed = URL_SAFE_NO_PAD.decode(seed_text(&key_bytes)).unwrap();
    let (raw_private, _) = hpke::kem::XWing::derive_keypair(&seed);
    for (spent, sealed) in &copies {
        let spent_key = SpentKey::from_slice(spent).unwrap();
        ballot::open(&key, row.id, &spent_key, sealed, &layout).unwrap();
        assert!(hpke_open(&raw_private, row.id, spent, sealed), "{backend}");
    }

    // Wrong key files are refused by the CLI and change nothing (kept outside the installation's
    // folder: the damaged copy still holds most of the seed).
    let elsewhere = tempfile::tempdir().unwrap();
    let mut damaged = key_bytes.clone();
    let at = occurrences_at(&damaged, b"seed: ") + 10;
    damaged[at] ^= 0x01;
    let damaged_path = elsewhere.path().join("damaged.key");
    std::fs::write(&damaged_path, &damaged).unwrap();
    let other = PrivateKey::generate().unwrap();
    let other_path = elsewhere.path().join("other.key");
    keyfile::write_new(&other_path, &info, &other).unwrap();
    for (path, expected) in [
        (&damaged_path, "损坏".to_owned()),
        (&other_path, other.public_key().fingerprint().short()),
    ] {
        let refused = served
            .command(&[
                "campaign",
                "close",
                PERIOD,
                "--ballot-key",
                path.to_str().unwrap(),
                "--yes",
            ])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(
            !refused.status.success() && stderr.contains(&expected),
            "{backend}: a close with {} was not refused as it should be: {stderr}",
            path.display()
        );
        assert_eq!(campaign_row(&mut conn).state, "open", "{backend}");
        assert_eq!(common::keys::ballots(&mut conn), 6, "{backend}");
        assert!(path.exists(), "{backend}: a refused key file is left alone");
    }
    keyfile::destroy(&damaged_path).unwrap();

    served.close();
    let row = campaign_row(&mut conn);
    assert_eq!(
        (row.state.as_str(), row.scrub_pending),
        ("closed", false),
        "{backend}"
    );
    assert!(
        !served.key_file().exists(),
        "{backend}: the key file outlived the close"
    );
    assert_eq!(common::keys::ballots(&mut conn), 0, "{backend}");
    let what = format!("{backend}, after the close");
    assert_scans_find_the_public_key(&mut conn, &served.database_url, &what);
    assert_not_in_tables(&mut conn, &material, &what);
    // The installation's folder: the database (SQLite: with its WAL), the CSV files, what the
    // commands left — and where the key file was.
    assert_not_in_files(served.dir.path(), &material, &what);

    // The copies do not open with a key made now, nor with anything derived from link_secret.
    let fresh = PrivateKey::generate().unwrap();
    let spent_keys: Vec<Vec<u8>> = copies.iter().map(|(s, _)| s.clone()).collect();
    for (spent, sealed) in &copies {
        let spent_key = SpentKey::from_slice(spent).unwrap();
        let opened = ballot::open(&fresh, row.id, &spent_key, sealed, &layout);
        assert!(
            matches!(opened, Err(ballot::OpenError::Decrypt)),
            "{backend}: a copied ballot opens with a new key: {opened:?}"
        );
    }
    for (name, candidate) in derivable_from_the_link_secret(&spent_keys, &public) {
        let mut keys = vec![(
            format!("the key derived from {name}"),
            hpke::kem::XWing::derive_keypair(&candidate),
        )];
        if let Ok(private) = <hpke::kem::XWing as hpke::Kem>::PrivateKey::from_bytes(&candidate) {
            let public = hpke::kem::XWing::sk_to_pk(&private);
            keys.push((format!("{name} as a private key"), (private, public)));
        }
        for (what, (private, derived_public)) in keys {
            assert_ne!(
                derived_public.to_bytes().to_vec(),
                public,
                "{backend}: the campaign's ballot key is {what}"
            );
            for (spent, sealed) in &copies {
                assert!(
                    !hpke_open(&private, row.id, spent, sealed),
                    "{backend}: a copied ballot opens with {what}"
                );
            }
        }
    }
}

/// Where `needle` first occurs.
fn occurrences_at(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap()
}

#[test]
fn copied_ballots_are_useless_once_the_close_destroyed_the_key() {
    if common::backend_enabled("sqlite") {
        copied_ballots_after_the_close(None, "sqlite");
    }
    if let Some(db) = TestDb::postgres() {
        copied_ballots_after_the_close(Some(db.url.clone()), "postgres");
    }
}

// ---------------------------------------------------------------------------------------------
// 5. A unit with 3 ratings keeps only its count.

#[derive(QueryableByName, Debug)]
struct UnitResult {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    suppressed: bool,
    #[diesel(sql_type = Nullable<diesel::sql_types::Double>)]
    score: Option<f64>,
}

#[test]
fn a_unit_rated_by_three_keeps_only_its_count() {
    on_each_backend(|db| {
        let tag = db.backend;
        let mut conn = db.conn();
        let tokens = open_survey_campaign(&mut conn, 6);
        let cache = SurveyContext::new(&secret());
        let mark = marker();
        // Three enterprises add D03-O2, two others D03-O1: five added units, so added entries are
        // kept (fewer adders would drop them, see the self_selected test), and each of the two
        // units has fewer than five entries.
        let few = "D03-O2";
        let asked = asked_codes();
        let mut with_few = asked.clone();
        with_few.push(few.into());
        let mut with_other = asked.clone();
        with_other.push("D03-O1".into());
        for (i, token) in tokens.iter().enumerate() {
            let codes = match i {
                0..3 => &with_few,
                3..5 => &with_other,
                _ => &asked,
            };
            let mut submission = complete(codes);
            if i < 3 {
                submission.ratings[ASKED].comment = Some(format!("只有三家评价的单位{i}{mark}"));
            }
            submission.ratings[0].comment = Some(format!("五家以上评价的单位{i}{mark}"));
            response::submit(&mut conn, &cache, token, &submission).unwrap();
        }
        let report = common::keys::close(&mut conn, &period()).unwrap();
        assert_eq!(
            (report.ballots, report.withheld_units, report.dropped_added),
            (6, 2, 0),
            "{tag}: {report:?}"
        );
        let unit_id = |conn: &mut Conn, code: &str| -> i64 {
            qiping::db::schema::units::table
                .filter(qiping::db::schema::units::code.eq(code))
                .select(qiping::db::schema::units::id)
                .first(conn)
                .unwrap()
        };
        let few_id = unit_id(&mut conn, few);
        let campaign_id = campaign_row(&mut conn).id;
        let withheld: Vec<(i64, i64)> =
            qiping::db::answers::withheld(&mut conn, campaign_id).unwrap();
        let other_id = unit_id(&mut conn, "D03-O1");
        let mut expected = vec![(few_id, 3), (other_id, 2)];
        expected.sort_unstable();
        assert_eq!(withheld, expected, "{tag}");
        assert_eq!(
            count(
                &mut conn,
                &format!("SELECT count(*) AS n FROM ratings WHERE unit_id = {few_id}")
            ),
            0,
            "{tag}: the answers of a unit rated by 3 enterprises are stored"
        );
        for code in asked_codes() {
            let id = unit_id(&mut conn, &code);
            assert_eq!(
                count(
                    &mut conn,
                    &format!("SELECT count(*) AS n FROM ratings WHERE unit_id = {id}")
                ),
                6,
                "{tag}: {code}'s ratings are stored"
            );
        }
        // Its comments are nowhere (the others are in ratings); in SQLite's files neither.
        let few_comments: Vec<(String, Vec<u8>)> = (0..3)
            .flat_map(|i| encodings(&format!("只有三家评价的单位{i}{mark}")))
            .collect();
        assert_not_in_tables(&mut conn, &few_comments, &format!("{tag}, withheld unit"));
        if tag == "sqlite" {
            for (path, bytes) in sqlite_files(&db.url) {
                for (name, needle) in &few_comments {
                    assert_eq!(
                        occurrences(&bytes, needle),
                        0,
                        "{tag}: withheld {name} is in {}",
                        path.display()
                    );
                }
            }
        }
        assert_eq!(stored_comments(&mut conn, &mark).len(), 6, "{tag}");

        aggregate::aggregate(
            &mut conn,
            &Actor::cli(),
            &period(),
            &qiping::stats::Settings {
                draws: 200,
                ..qiping::stats::Settings::default()
            },
            false,
            Some(7),
        )
        .unwrap();
        let result = |conn: &mut Conn, id: i64| -> UnitResult {
            diesel::sql_query(format!(
                "SELECT n, suppressed, score FROM unit_results WHERE unit_id = {id} \
                 AND aggregation_id = (SELECT max(id) FROM aggregations)"
            ))
            .get_result(conn)
            .unwrap()
        };
        let few_result = result(&mut conn, few_id);
        assert_eq!(
            (few_result.n, few_result.suppressed, few_result.score),
            (3, true, None),
            "{tag}: the withheld unit's result is its count, suppressed"
        );
        let d01 = unit_id(&mut conn, "D01");
        let asked = result(&mut conn, d01);
        assert_eq!(asked.n, 6, "{tag}: {asked:?}");
    });
}

// ---------------------------------------------------------------------------------------------
// 6. A wrong key refuses the close and changes nothing.

#[test]
fn a_wrong_key_refuses_the_close_and_changes_nothing() {
    on_each_backend(|db| {
        let tag = db.backend;
        let mut conn = db.conn();
        let tokens = open_survey_campaign(&mut conn, 6);
        let cache = SurveyContext::new(&secret());
        for token in &tokens[..5] {
            response::submit(&mut conn, &cache, token, &complete(&asked_codes())).unwrap();
        }
        // Another installation's campaign of the same period (very likely with the same id):
        // what is checked is the key, not what its file says about itself.
        let other_db = TestDb::sqlite();
        let mut other_conn = other_db.conn();
        open_survey_campaign(&mut other_conn, 1);
        let others = common::keys::key_of(&mut other_conn, &period());
        let fresh = PrivateKey::generate().unwrap();
        let row = campaign_row(&mut conn);
        let stored = PublicKey::from_bytes(row.ballot_public_key.as_deref().unwrap()).unwrap();
        let ballots_before = ballot_bytes(&mut conn);
        let audit_before = qiping::service::audit::list(&mut conn).unwrap().len();
        for (name, key) in [("another campaign's key", &others), ("a new key", &fresh)] {
            for exclude_unopenable in [false, true] {
                let refused = closing::close(
                    &mut conn,
                    &Actor::cli(),
                    &secret(),
                    &period(),
                    Some(key),
                    CloseOptions {
                        exclude_unopenable,
                        ..Default::default()
                    },
                );
                let Err(ServiceError::Invalid(text)) = &refused else {
                    panic!("{tag}: {name} closes the campaign: {refused:?}")
                };
                for fingerprint in [
                    stored.fingerprint().short(),
                    key.public_key().fingerprint().short(),
                ] {
                    assert!(
                        text.contains(&fingerprint),
                        "{tag}: the refusal of {name} does not name {fingerprint}: {text}"
                    );
                }
            }
        }
        let missing = closing::close(
            &mut conn,
            &Actor::cli(),
            &secret(),
            &period(),
            None,
            CloseOptions::default(),
        );
        assert!(
            matches!(missing, Err(ServiceError::Invalid(_))),
            "{tag}: {missing:?}"
        );

        let row = campaign_row(&mut conn);
        assert_eq!(row.state, "open", "{tag}: a wrong key moved the campaign");
        assert!(!row.scrub_pending, "{tag}");
        assert_eq!(
            ballot_bytes(&mut conn),
            ballots_before,
            "{tag}: a wrong key changed the ballots"
        );
        let audit = qiping::service::audit::list(&mut conn).unwrap();
        assert_eq!(
            audit.len(),
            audit_before,
            "{tag}: a refused close was audited"
        );
        assert!(
            !audit
                .iter()
                .any(|r| r.action == "campaign.close" || r.action == "campaign.unseal"),
            "{tag}: a refused close left campaign.close/campaign.unseal in the audit log"
        );
        for table in ["ratings", "withheld_units"] {
            assert_eq!(
                count(&mut conn, &format!("SELECT count(*) AS n FROM {table}")),
                0,
                "{tag}: a refused close wrote {table}"
            );
        }
        assert_eq!(
            count(
                &mut conn,
                "SELECT count(*) AS n FROM invitations WHERE answered"
            ),
            0,
            "{tag}: a refused close marked invitations answered"
        );
        // Answers are still taken, and the right key closes it.
        response::submit(&mut conn, &cache, &tokens[5], &complete(&asked_codes())).unwrap();
        let report = common::keys::close(&mut conn, &period()).unwrap();
        assert_eq!(report.ballots, 6, "{tag}");
    });

    // A damaged key file is refused, never read as another key: a flipped bit anywhere in what
    // the file says gives an error or (in the comment lines, or whitespace the reader trims) the
    // same key.
    let key = PrivateKey::generate().unwrap();
    let info = KeyFileInfo {
        period: PERIOD.into(),
        campaign_id: 1,
        created: "2019-11-01".into(),
    };
    let bytes = keyfile::to_bytes(&info, &key).to_vec();
    let seed_at = occurrences_at(&bytes, b"seed: ") + 6;
    for at in 0..bytes.len() {
        for bit in [0x01u8, 0x20, 0x80] {
            let mut damaged = bytes.clone();
            damaged[at] ^= bit;
            match keyfile::from_bytes(&damaged) {
                Err(_) => {}
                Ok((read_info, read_key)) => {
                    assert!(
                        read_key.matches(key.public_key()) && read_info == info,
                        "flipping bit {bit:#04x} of byte {at} gives another key file that is \
                         accepted"
                    );
                    assert!(
                        !(seed_at..seed_at + 43).contains(&at),
                        "a flipped seed byte {at} is accepted"
                    );
                }
            }
        }
    }
    let mut damaged = bytes.clone();
    damaged[seed_at + 5] ^= 0x01;
    assert!(
        matches!(keyfile::from_bytes(&damaged), Err(KeyFileError::Corrupt)),
        "a flipped seed byte is reported as a damaged file (checksum)"
    );
}

/// Every ballot as stored, in hex, sorted.
fn ballot_bytes(conn: &mut Conn) -> Vec<(Vec<u8>, i64, Vec<u8>)> {
    let mut rows: Vec<(Vec<u8>, i64, Vec<u8>)> = qiping::db::schema::ballots::table
        .select((
            qiping::db::schema::ballots::spent_key,
            qiping::db::schema::ballots::campaign_id,
            qiping::db::schema::ballots::sealed,
        ))
        .load(conn)
        .unwrap();
    rows.sort();
    rows
}

// ---------------------------------------------------------------------------------------------
// 7. The web open's key is nowhere on the server.

struct Answer {
    status: u16,
    body: String,
    headers: Vec<(String, String)>,
    bytes: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map_or("", |(_, v)| v.as_str())
    }
}

async fn send<S, B>(app: &S, request: web_test::TestRequest) -> Answer
where
    S: Service<accounts::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let response = web_test::call_service(app, request.to_request()).await;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or_default().to_owned()))
        .collect();
    let bytes = web_test::read_body(response).await.to_vec();
    Answer {
        status,
        body: String::from_utf8_lossy(&bytes).into_owned(),
        headers,
        bytes,
    }
}

fn session(browser: &accounts::Browser) -> actix_web::cookie::Cookie<'static> {
    actix_web::cookie::Cookie::new("qiping_session", browser.cookie.clone())
}

const BOUNDARY: &str = "----qipingSealedBoundary9XQ";

/// A multipart form: the CSRF token, `fields`, and `file` as `ballot_key`.
fn key_form(csrf: &str, fields: &[(&str, &str)], file: &[u8]) -> Vec<u8> {
    let mut head = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{csrf}\r\n"
    );
    for (name, value) in fields {
        head.push_str(&format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    head.push_str(&format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"ballot_key\"; \
         filename=\"ballot.key\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    ));
    let mut body = head.into_bytes();
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// The survey tests' registry (as `open_survey_campaign` imports it) and a draft campaign.
fn draft_survey_campaign(conn: &mut Conn, enterprises: usize) {
    let ignore = &mut |_: usize, _: usize| {};
    let codes = data::unit_codes(DEPARTMENTS, OFFICES);
    import::import_units(
        conn,
        &Actor::cli(),
        data::units_csv(DEPARTMENTS, OFFICES).as_bytes(),
        ignore,
    )
    .unwrap();
    import::import_enterprises(
        conn,
        &Actor::cli(),
        data::enterprises_csv(enterprises).as_bytes(),
        ignore,
    )
    .unwrap();
    import::import_interactions(
        conn,
        &Actor::cli(),
        &period(),
        data::interactions_csv(enterprises, &codes, ASKED).as_bytes(),
        ignore,
    )
    .unwrap();
    common::scenario::create_campaign(conn, PERIOD, None);
}

/// The value of the element `id="…"`'s text.
fn element_text(page: &str, id: &str) -> Option<String> {
    let marker = format!("id=\"{id}\">");
    let start = page.find(&marker)? + marker.len();
    let end = page[start..].find('<')? + start;
    Some(page[start..end].to_owned())
}

async fn the_web_open_leaves_no_key(db: &TestDb) {
    let tag = db.backend;
    let mut conn = db.conn();
    draft_survey_campaign(&mut conn, 6);
    qiping::service::accounts::add_user(
        &mut conn,
        &Actor::stored("test"),
        "admin",
        qiping::domain::Role::Admin,
        None,
        &qiping::domain::Secret::new(accounts::PASSWORD),
    )
    .unwrap();
    let reports = tempfile::tempdir().unwrap();
    let config = qiping::config::Config {
        link_secret: Some(SECRET.into()),
        reports_dir: reports.path().to_owned(),
        ..qiping::config::Config::default()
    };
    let app = accounts::app(accounts::state(db, config)).await;
    let admin = accounts::sign_in(&app, "admin").await;
    let page = format!("/admin/campaigns/{PERIOD}");
    let id = campaign_row(&mut conn).id.to_string();

    let opened = send(
        &app,
        web_test::TestRequest::post()
            .uri(&format!("{page}/actions/open"))
            .cookie(session(&admin))
            .set_form([
                ("csrf_token", admin.csrf.as_str()),
                ("campaign_id", id.as_str()),
                ("confirmed", "1"),
            ]),
    )
    .await;
    assert_eq!(opened.status, 200, "[{tag}] {}", opened.body);
    assert!(
        opened
            .header("content-disposition")
            .starts_with("attachment"),
        "[{tag}] the key comes as a download"
    );
    assert_eq!(
        opened.header("cache-control"),
        "no-store",
        "[{tag}] a proxy or the browser's cache may keep the key"
    );
    let key_file = opened.bytes.clone();
    let (_, key) = keyfile::from_bytes(&key_file).unwrap();
    let material = key_material(&key_file);
    let confirmed = send(
        &app,
        web_test::TestRequest::post()
            .uri(&format!("{page}/key-check"))
            .cookie(session(&admin))
            .insert_header((
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            ))
            .set_payload(key_form(&admin.csrf, &[("campaign_id", &id)], &key_file)),
    )
    .await;
    assert_eq!(confirmed.status, 200, "[{tag}] {}", confirmed.body);
    assert!(
        confirmed.body.contains("操作成功"),
        "[{tag}] {}",
        confirmed.body
    );
    assert_eq!(campaign_row(&mut conn).state, "open", "[{tag}]");

    // The page shows the fingerprint the key file states.
    let shown = send(
        &app,
        web_test::TestRequest::get()
            .uri(&page)
            .cookie(session(&admin)),
    )
    .await;
    let on_page = element_text(&shown.body, "key-fingerprint").expect("id=\"key-fingerprint\"");
    let text = String::from_utf8(key_file.clone()).unwrap();
    let stated_hex = text
        .lines()
        .find_map(|l| l.strip_prefix("fingerprint: "))
        .unwrap()
        .trim()
        .to_owned();
    assert!(
        text.contains(&format!("指纹 {on_page}")),
        "[{tag}] the page's fingerprint {on_page} is not the one the key file states"
    );
    assert!(
        stated_hex.starts_with(&on_page.replace('-', "").to_lowercase()),
        "[{tag}] the page's fingerprint {on_page} is not the start of the file's {stated_hex}"
    );
    assert_eq!(on_page, key.public_key().fingerprint().short(), "[{tag}]");
    for (name, needle) in &material {
        assert_eq!(
            occurrences(&shown.bytes, needle),
            0,
            "[{tag}] the campaign page shows {name}"
        );
        assert_eq!(
            occurrences(&confirmed.bytes, needle),
            0,
            "[{tag}] the key check's answer shows {name}"
        );
    }

    // Nowhere on the server: no table, no file of the database's folder or the reports folder.
    let check = |conn: &mut Conn, when: &str| {
        let what = format!("[{tag}] {when}");
        assert_scans_find_the_public_key(conn, &db.url, &what);
        assert_not_in_tables(conn, &material, &what);
        if tag == "sqlite" {
            let folder = Path::new(db.url.trim_start_matches("sqlite://"))
                .parent()
                .unwrap()
                .to_owned();
            assert!(
                sqlite_files(&db.url).len() >= 2,
                "{what}: the database and its WAL are read"
            );
            assert_not_in_files(&folder, &material, &what);
        }
        assert_not_in_files(reports.path(), &material, &what);
    };
    check(&mut conn, "after the web's open");

    // Some answers, then the close with the same file through the web: still nowhere.
    let cache = SurveyContext::new(&secret());
    let row = campaign_row(&mut conn);
    for invitation in qiping::db::invitations::of_campaign(&mut conn, row.id).unwrap() {
        let token = secret().token(invitation.id, invitation.link_version);
        response::submit(&mut conn, &cache, &token, &complete(&asked_codes())).unwrap();
    }
    let closed = send(
        &app,
        web_test::TestRequest::post()
            .uri(&format!("{page}/close"))
            .cookie(session(&admin))
            .insert_header((
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            ))
            .set_payload(key_form(&admin.csrf, &[("confirmed", "1")], &key_file)),
    )
    .await;
    assert_eq!(closed.status, 200, "[{tag}] {}", closed.body);
    assert!(
        closed.body.contains("已开启 6 份密封答卷"),
        "[{tag}] {}",
        closed.body
    );
    assert_eq!(campaign_row(&mut conn).state, "closed", "[{tag}]");
    check(&mut conn, "after the web's close");
}

#[actix_web::test]
async fn the_key_of_the_webs_open_is_nowhere_on_the_server() {
    for db in common::each_backend() {
        the_web_open_leaves_no_key(&db).await;
    }
}

// ---------------------------------------------------------------------------------------------
// 8. Submissions racing the close.

const RACE_ENTERPRISES: usize = 1500;
const CLIENTS: usize = 16;

fn submissions_racing_the_close(database_url: Option<String>, backend: &str) {
    let started = Instant::now();
    let served = server::start_on(database_url, RACE_ENTERPRISES, ASKED, 0);
    let tokens = served.tokens();
    let mark = marker();
    let body = |i: usize, token: &str| {
        submission_with_comment(token, &asked_codes(), &comment_of(&mark, i))
    };
    let stop = AtomicBool::new(false);
    let acknowledged = AtomicUsize::new(0);
    let acked_when_closed = AtomicUsize::new(0);
    let (outcomes, close_seconds) = std::thread::scope(|scope| {
        let loader =
            scope.spawn(|| load(served.addr, &tokens, &body, CLIENTS, &stop, &acknowledged));
        let deadline = Instant::now() + Duration::from_secs(60);
        while acknowledged.load(Ordering::SeqCst) < 150 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        let close_started = Instant::now();
        let closed = served.command(&server::CLOSE).output().unwrap();
        let close_seconds = close_started.elapsed().as_secs_f64();
        // The clients go on a moment after the close returned: those submissions are refused.
        let acked_at_close = acknowledged.load(Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(300));
        acked_when_closed.store(acked_at_close, Ordering::SeqCst);
        stop.store(true, Ordering::SeqCst);
        let outcomes = loader.join().unwrap();
        assert!(
            closed.status.success(),
            "{backend}: campaign close: {}",
            String::from_utf8_lossy(&closed.stderr)
        );
        (outcomes, close_seconds)
    });

    let sent: Vec<(usize, Outcome)> = outcomes
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, o)| *o != Outcome::NotSent)
        .collect();
    let acked: Vec<usize> = sent
        .iter()
        .filter(|(_, o)| *o == Outcome::Status(201))
        .map(|(i, _)| *i)
        .collect();
    let gone: Vec<usize> = sent
        .iter()
        .filter(|(_, o)| *o == Outcome::Status(410))
        .map(|(i, _)| *i)
        .collect();
    let other: Vec<&(usize, Outcome)> = sent
        .iter()
        .filter(|(_, o)| !matches!(o, Outcome::Status(201 | 410)))
        .collect();
    assert!(
        other.is_empty(),
        "{backend}: submissions racing the close got other answers than 201 or 410: {:?}",
        &other[..other.len().min(20)]
    );
    assert!(
        acked.len() >= 150 && gone.len() >= CLIENTS,
        "{backend}: the close must land mid-load ({} stored, {} refused)",
        acked.len(),
        gone.len()
    );
    assert!(
        acked.len() < tokens.len(),
        "{backend}: the load ran out before the close"
    );

    let mut conn = served.conn();
    let stored = stored_comments(&mut conn, &mark);
    let twice: Vec<(&String, &usize)> = stored.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "{backend}: stored twice: {twice:?}");
    let lost: Vec<usize> = acked
        .iter()
        .copied()
        .filter(|&i| !stored.contains_key(&comment_of(&mark, i)))
        .collect();
    assert!(
        lost.is_empty(),
        "{backend}: acknowledged (201) but not in the ratings after the close: {lost:?}"
    );
    let refused_but_stored: Vec<usize> = gone
        .iter()
        .copied()
        .filter(|&i| stored.contains_key(&comment_of(&mark, i)))
        .collect();
    assert!(
        refused_but_stored.is_empty(),
        "{backend}: refused (410) but stored: {refused_but_stored:?}"
    );
    assert_eq!(stored.len(), acked.len(), "{backend}");
    assert_eq!(
        count(&mut conn, "SELECT count(*) AS n FROM ratings"),
        (acked.len() * ASKED) as i64,
        "{backend}"
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS n FROM invitations WHERE answered"
        ),
        acked.len() as i64,
        "{backend}: answered invitations"
    );
    assert_eq!(common::keys::ballots(&mut conn), 0, "{backend}");
    eprintln!(
        "{backend}: {} stored, {} refused while {} clients raced a close of {close_seconds:.2} s \
         ({} acknowledged when it returned); {:.1} s",
        acked.len(),
        gone.len(),
        CLIENTS,
        acked_when_closed.load(Ordering::SeqCst),
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn submissions_racing_the_close_are_stored_once_or_refused() {
    if common::backend_enabled("sqlite") {
        submissions_racing_the_close(None, "sqlite");
    }
    if let Some(db) = TestDb::postgres() {
        submissions_racing_the_close(Some(db.url.clone()), "postgres");
    }
}

// ---------------------------------------------------------------------------------------------
// 9. kill -9 during `campaign close`.

const KILL_ENTERPRISES: usize = 300;

fn close_killed_half_way(database_url: Option<String>, backend: &str) {
    let started = Instant::now();
    let served = server::start_on(database_url, KILL_ENTERPRISES, ASKED, 0);
    let tokens = served.tokens();
    let mark = marker();
    let body = |i: usize, token: &str| {
        submission_with_comment(token, &asked_codes(), &comment_of(&mark, i))
    };
    let acknowledged = AtomicUsize::new(0);
    let outcomes = load(
        served.addr,
        &tokens,
        &body,
        CLIENTS,
        &AtomicBool::new(false),
        &acknowledged,
    );
    let acked: Vec<usize> = (0..tokens.len())
        .filter(|&i| outcomes[i] == Outcome::Status(201))
        .collect();
    assert_eq!(acked.len(), KILL_ENTERPRISES, "{backend}: {outcomes:?}");

    // The close, killed once it has committed `closing` and is opening the ballots.
    let log = served.dir.path().join("close.log");
    let mut child = served
        .command(&server::CLOSE)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut conn = served.conn();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = String::from("open");
    while Instant::now() < deadline {
        seen = campaign_row(&mut conn).state;
        if seen != "open" {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "{backend}: the close ended before it was seen closing: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }
    // Into the unseal: opening 300 ballots takes this close about half a second (0.45 s on
    // SQLite, 0.77 s on PostgreSQL on the development machine, scrub included), so a kill up to
    // 100 ms after `closing` lands while its transaction is under way, not after it committed.
    let delay = Duration::from_millis(rand::random_range(0..100));
    std::thread::sleep(delay);
    child.kill().unwrap();
    let waited = child.wait().unwrap();
    let killed_after = started.elapsed();
    assert_eq!(seen, "closing", "{backend}: the close was not seen closing");
    assert!(
        !waited.success(),
        "{backend}: the close finished before the kill"
    );

    let row = campaign_row(&mut conn);
    assert_eq!(
        row.state, "closing",
        "{backend}: the kill landed after the unseal committed (make the close longer)"
    );
    assert_eq!(
        common::keys::ballots(&mut conn),
        KILL_ENTERPRISES as i64,
        "{backend}: a killed close lost ballots"
    );
    assert_eq!(
        count(&mut conn, "SELECT count(*) AS n FROM ratings"),
        0,
        "{backend}: a killed close left ratings behind"
    );
    assert!(
        served.key_file().exists(),
        "{backend}: the key file is gone although the close did not finish"
    );
    // No answer is taken while closing, new or repeated.
    let mut http = Http::connect(served.addr).unwrap();
    for token in [&tokens[0], &tokens[KILL_ENTERPRISES - 1]] {
        let (status, _) = http
            .post_json(
                "/api/v1/responses",
                &data::submission_json(token, &asked_codes()),
            )
            .unwrap();
        assert_eq!(status, 410, "{backend}: an answer was taken while closing");
    }

    served.close();
    let row = campaign_row(&mut conn);
    assert_eq!(
        (row.state.as_str(), row.scrub_pending),
        ("closed", false),
        "{backend}"
    );
    assert_eq!(common::keys::ballots(&mut conn), 0, "{backend}");
    assert!(!served.key_file().exists(), "{backend}: key file destroyed");
    let stored = stored_comments(&mut conn, &mark);
    let wrong: Vec<usize> = acked
        .iter()
        .copied()
        .filter(|&i| stored.get(&comment_of(&mark, i)) != Some(&1))
        .collect();
    assert!(
        wrong.is_empty(),
        "{backend}: acknowledged ballots not stored exactly once after the rerun: {wrong:?}"
    );
    assert_eq!(stored.len(), acked.len(), "{backend}");
    assert_eq!(
        count(&mut conn, "SELECT count(*) AS n FROM ratings"),
        (KILL_ENTERPRISES * ASKED) as i64,
        "{backend}"
    );
    eprintln!(
        "{backend}: close killed {} ms after `closing`, at {:.1} s; rerun finished at {:.1} s",
        delay.as_millis(),
        killed_after.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn a_close_killed_half_way_is_finished_by_running_it_again() {
    if common::backend_enabled("sqlite") {
        close_killed_half_way(None, "sqlite");
    }
    if let Some(db) = TestDb::postgres() {
        close_killed_half_way(Some(db.url.clone()), "postgres");
    }
}

// ---------------------------------------------------------------------------------------------
// 10. Grouping attack after the close.

/// Enterprise `e`'s comment on its `u`-th unit: one length for all, so that every rating's row
/// has nearly one size.
fn grouping_comment(mark: &str, e: usize, u: usize) -> String {
    format!("E{e:03}U{u}{mark}")
}

/// Each rating's enterprise (from its planted comment) and its value of every column of `ratings`
/// (as stored), and on PostgreSQL of `xmin`, `xmax`, `cmin` and the page of `ctid`; on SQLite
/// the run of consecutive rowids it falls in.
fn rating_groupings(conn: &mut Conn, mark: &str) -> (Vec<usize>, BTreeMap<String, Vec<String>>) {
    let who: Vec<usize> = cells(conn, "SELECT comment AS value FROM ratings ORDER BY id")
        .into_iter()
        .map(|c| {
            let c = c.expect("every rating has a planted comment");
            assert!(c.ends_with(mark), "{c}");
            c[1..4].parse().unwrap()
        })
        .collect();
    let mut columns = BTreeMap::new();
    for (column, expr) in hex_columns(conn, "ratings") {
        let values = cells(
            conn,
            &format!("SELECT {expr} AS value FROM ratings ORDER BY id"),
        );
        // As stored, shown as text where it is text.
        let shown = |hex_value: String| {
            let bytes = hex::decode(&hex_value).unwrap();
            String::from_utf8(bytes).unwrap_or(hex_value)
        };
        columns.insert(
            column,
            values
                .into_iter()
                .map(|v| v.map_or_else(|| "NULL".into(), shown))
                .collect(),
        );
    }
    match conn {
        Conn::Postgres(_) => {
            for (name, expr) in [
                ("xmin", "xmin::text"),
                ("xmax", "xmax::text"),
                ("cmin", "cmin::text"),
                (
                    "page of ctid",
                    "split_part(trim(both '()' from ctid::text), ',', 1)",
                ),
            ] {
                let values = cells(
                    conn,
                    &format!("SELECT {expr} AS value FROM ratings ORDER BY id"),
                )
                .into_iter()
                .map(Option::unwrap)
                .collect();
                columns.insert(name.to_owned(), values);
            }
        }
        Conn::Sqlite(_) => {
            // Rows whose rowids follow one another (n, n+1, …) form a run: a run is what a
            // rowid handed out in insertion order would give one ballot's ratings.
            let rowids: Vec<i64> = cells(
                conn,
                "SELECT CAST(rowid AS TEXT) AS value FROM ratings ORDER BY id",
            )
            .into_iter()
            .map(|v| v.unwrap().parse().unwrap())
            .collect();
            let mut sorted = rowids.clone();
            sorted.sort_unstable();
            let mut run_of = HashMap::new();
            let mut run = 0;
            for (k, id) in sorted.iter().enumerate() {
                if k > 0 && sorted[k - 1] + 1 != *id {
                    run += 1;
                }
                run_of.insert(*id, run);
            }
            columns.insert(
                "run of consecutive rowids".to_owned(),
                rowids.iter().map(|id| run_of[id].to_string()).collect(),
            );
        }
    }
    (who, columns)
}

/// The groups (by value) of one column that hold 2 or more ratings, not all of them, all of
/// one enterprise: (value, enterprise, ratings).
fn single_enterprise_groups(who: &[usize], values: &[String]) -> Vec<(String, usize, usize)> {
    let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (value, enterprise) in values.iter().zip(who) {
        groups.entry(value).or_default().push(*enterprise);
    }
    groups
        .into_iter()
        .filter(|(_, members)| members.len() >= 2 && members.len() < who.len())
        .filter(|(_, members)| members.iter().all(|e| *e == members[0]))
        .map(|(value, members)| (value.to_owned(), members[0], members.len()))
        .collect()
}

/// The strata columns: the enterprise's own (size, industry, district) until issue 39, which
/// writes them empty and stores a weight per rating instead.
const STRATA: [&str; 3] = ["size", "industry", "district"];

/// 40 enterprises rate the 4 units they were asked about; every third also adds D02 (so the
/// added unit has enough entries to be kept, and `self_selected` is shared by many enterprises).
/// Every rating has a planted comment naming its enterprise; everything else an enterprise writes
/// is what every other enterprise writes for the same position.
const GROUPING_ENTERPRISES: usize = 40;

#[test]
fn no_column_groups_one_enterprises_ratings_after_the_close() {
    on_each_backend(|db| {
        let tag = db.backend;
        let mut conn = db.conn();
        let tokens = open_survey_campaign(&mut conn, GROUPING_ENTERPRISES);
        let cache = SurveyContext::new(&secret());
        let mark = marker();
        let asked = asked_codes();
        let mut with_added = asked.clone();
        with_added.push("D02".into());
        for (e, token) in tokens.iter().enumerate() {
            let codes = if e % 3 == 0 { &with_added } else { &asked };
            let mut submission = complete(codes);
            for (u, rating) in submission.ratings.iter_mut().enumerate() {
                rating.comment = Some(grouping_comment(&mark, e, u));
            }
            response::submit(&mut conn, &cache, token, &submission).unwrap();
        }
        common::keys::close(&mut conn, &period()).unwrap();
        let (who, columns) = rating_groupings(&mut conn, &mark);
        let added = GROUPING_ENTERPRISES.div_ceil(3);
        assert_eq!(who.len(), GROUPING_ENTERPRISES * ASKED + added, "{tag}");
        // Every enterprise has at most 5 ratings: a group of 6 or more spans two enterprises
        // whatever the order, so only small groups can single one out. The rows are of nearly one
        // size (planted comments of one length), so PostgreSQL's pages hold about 40 of them
        // each and the last one the remaining 14 or so: no page is small enough to single one
        // enterprise out by chance.
        let mut checked = Vec::new();
        for (column, values) in &columns {
            let found = single_enterprise_groups(&who, values);
            assert!(
                found.is_empty(),
                "{tag}: grouping the ratings by {column} singles out one enterprise's ratings \
                 (value, enterprise, ratings): {found:?}"
            );
            checked.push(column.clone());
        }
        let mut expected: Vec<String> = [
            "answers",
            "campaign_id",
            "comment",
            "comment_hidden_at",
            "comment_hidden_by",
            "comment_hidden_reason",
            "comment_review",
            "district",
            "id",
            "industry",
            "problems",
            "response_id",
            "self_selected",
            "size",
            "unit_id",
            "weight",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        match tag {
            "postgres" => expected.extend(
                ["cmin", "page of ctid", "xmax", "xmin"]
                    .iter()
                    .map(|s| (*s).to_owned()),
            ),
            _ => expected.push("run of consecutive rowids".into()),
        }
        expected.sort();
        assert_eq!(checked, expected, "{tag}: every column was tried");
        if tag == "postgres" {
            let mut pages: BTreeMap<&String, usize> = BTreeMap::new();
            for page in &columns["page of ctid"] {
                *pages.entry(page).or_default() += 1;
            }
            eprintln!("{tag}: {} ratings on pages {pages:?}", who.len());
        }
    });
}

/// An enterprise alone in its stratum among the respondents (here, of six, the only large one and
/// the only micro one) would have every one of its ratings marked if the close stored its strata,
/// or a weight of its own: in a weighted campaign (issue 39) the close stores no strata and a
/// weight shared by at least five raters of the unit, so grouping by the strata or by the weight
/// finds nothing.
#[test]
fn a_lone_respondent_of_a_stratum_is_not_grouped_by_its_strata_or_its_weight() {
    on_each_backend(|db| {
        let tag = db.backend;
        let mut conn = db.conn();
        // Sizes go small, medium, large, micro, small, medium, large, micro: of the first six,
        // the third alone is large and the fourth alone micro.
        let tokens = crate::common::scenario::open_survey_campaign_as(&mut conn, 8, true);
        let cache = SurveyContext::new(&secret());
        let mark = marker();
        for (e, token) in tokens[..6].iter().enumerate() {
            let mut submission = complete(&asked_codes());
            for (u, rating) in submission.ratings.iter_mut().enumerate() {
                rating.comment = Some(grouping_comment(&mark, e, u));
            }
            response::submit(&mut conn, &cache, token, &submission).unwrap();
        }
        common::keys::close(&mut conn, &period()).unwrap();
        let (who, columns) = rating_groupings(&mut conn, &mark);
        assert!(
            columns["weight"]
                .iter()
                .all(|w| !w.is_empty() && w != "NULL"),
            "{tag}: a weighted campaign's ratings carry weights: {:?}",
            columns["weight"]
        );
        for column in STRATA.into_iter().chain(["weight"]) {
            let found = single_enterprise_groups(&who, &columns[column]);
            assert!(
                found.is_empty(),
                "{tag}: grouping the ratings by {column} singles out one enterprise's ratings \
                 (value, enterprise, ratings): {found:?}"
            );
        }
    });
}

/// Found by the grouping attack: `self_selected` is stored with every rating, so when one
/// enterprise alone added units it was not asked about (units others were asked about, so that
/// they have enough entries to be kept), the group `self_selected = true` was exactly its ratings
/// of those units. The close now drops added entries when fewer than five enterprises added any.
#[test]
fn a_lone_enterprise_that_added_units_is_not_grouped_by_self_selected() {
    on_each_backend(|db| {
        let tag = db.backend;
        let mut conn = db.conn();
        // Six enterprises; the first five were asked about D01's four units and D02, D03; the
        // sixth only about D01's four, and adds D02 and D03 itself.
        let ignore = &mut |_: usize, _: usize| {};
        import::import_units(
            &mut conn,
            &Actor::cli(),
            data::units_csv(DEPARTMENTS, OFFICES).as_bytes(),
            ignore,
        )
        .unwrap();
        import::import_enterprises(
            &mut conn,
            &Actor::cli(),
            data::enterprises_csv(6).as_bytes(),
            ignore,
        )
        .unwrap();
        let extra = ["D02".to_owned(), "D03".to_owned()];
        let mut interactions = String::from("uscc,unit_code\n");
        for i in 1..=6 {
            let added = if i <= 5 { &extra[..] } else { &[] };
            for code in asked_codes().iter().chain(added) {
                interactions.push_str(&format!("{},{code}\n", data::uscc(i)));
            }
        }
        import::import_interactions(
            &mut conn,
            &Actor::cli(),
            &period(),
            interactions.as_bytes(),
            ignore,
        )
        .unwrap();
        common::scenario::open_campaign(&mut conn, PERIOD, None);
        let id = campaign_row(&mut conn).id;
        let cache = SurveyContext::new(&secret());
        let mark = marker();
        let codes: Vec<String> = asked_codes().into_iter().chain(extra).collect();
        for (e, invitation) in qiping::db::invitations::of_campaign(&mut conn, id)
            .unwrap()
            .into_iter()
            .enumerate()
        {
            let token = secret().token(invitation.id, invitation.link_version);
            let mut submission = complete(&codes);
            for (u, rating) in submission.ratings.iter_mut().enumerate() {
                rating.comment = Some(grouping_comment(&mark, e, u));
            }
            response::submit(&mut conn, &cache, &token, &submission).unwrap();
        }
        let report = common::keys::close(&mut conn, &period()).unwrap();
        assert_eq!(
            report.dropped_added, 2,
            "{tag}: the lone adder's two units: {report:?}"
        );
        let (who, columns) = rating_groupings(&mut conn, &mark);
        assert_eq!(
            who.len(),
            6 * codes.len() - 2,
            "{tag}: every rating but the lone adder's added ones is kept"
        );
        let found = single_enterprise_groups(&who, &columns["self_selected"]);
        assert!(
            found.is_empty(),
            "{tag}: grouping the ratings by self_selected singles out one enterprise's ratings \
             (value, enterprise, ratings): {found:?}"
        );
    });
}

// ---------------------------------------------------------------------------------------------
// The named form (实名反映) beside the sealed ballot.

/// An enterprise answers, then reports a problem under its name through the named form behind
/// the same link. The problem is written in its own transaction and shares nothing with any
/// ballot or rating: on PostgreSQL not its transaction id (`xmin`) with a ballot before the close
/// or with a rating after it, nowhere its id, and its text never reaches a rating.
fn named_form_stays_apart(db: &TestDb) {
    use qiping::service::problems::{SurveyProblem, register_from_survey};
    let tag = db.backend;
    let mut conn = db.conn();
    let tokens = open_survey_campaign(&mut conn, 12);
    let cache = SurveyContext::new(&secret());
    let text = marker();
    for (i, token) in tokens[..6].iter().enumerate() {
        let mut submission = complete(&asked_codes());
        submission.ratings[0].comment = Some(format!("第{i}家的意见"));
        response::submit(&mut conn, &cache, token, &submission).unwrap();
    }
    let problem = register_from_survey(
        &mut conn,
        &tokens[0],
        &SurveyProblem {
            unit_code: asked_codes()[0].clone(),
            reporter_name: "钱先生".into(),
            reporter_phone: "13800002222".into(),
            reporter_email: "qian@example.com".into(),
            description: format!("窗口要求重复提交同一份材料 {text}"),
        },
        qiping::db::now(),
    )
    .unwrap();
    let postgres = matches!(conn, Conn::Postgres(_));
    let problem_xmin = postgres.then(|| {
        cells(
            &mut conn,
            &format!("SELECT xmin::text AS value FROM problems WHERE id = {problem}"),
        )
    });
    if let Some(problem_xmin) = &problem_xmin {
        let ballots = cells(&mut conn, "SELECT xmin::text AS value FROM ballots");
        assert_eq!(ballots.len(), 6, "{tag}");
        assert!(
            ballots.iter().all(|x| !problem_xmin.contains(x)),
            "{tag}: the named problem was written in a ballot's transaction"
        );
    }
    crate::common::keys::close(&mut conn, &period()).unwrap();
    let ratings = cells(&mut conn, "SELECT CAST(id AS TEXT) AS value FROM ratings");
    assert!(!ratings.is_empty(), "{tag}");
    assert!(
        !ratings.contains(&Some(problem.to_string())),
        "{tag}: a rating has the problem's id"
    );
    let comments = cells(&mut conn, "SELECT comment AS value FROM ratings");
    assert!(
        comments.iter().flatten().all(|c| !c.contains(&text)),
        "{tag}: the named problem's text reached a rating"
    );
    if let Some(problem_xmin) = &problem_xmin {
        for table in ["ratings", "withheld_units", "invitations"] {
            let xmins = cells(
                &mut conn,
                &format!("SELECT xmin::text AS value FROM {table}"),
            );
            assert!(
                xmins.iter().all(|x| !problem_xmin.contains(x)),
                "{tag}: a row of {table} shares the named problem's transaction"
            );
        }
    }
}

#[test]
fn the_named_form_shares_no_transaction_or_id_with_a_ballot_or_a_rating() {
    on_each_backend(named_form_stays_apart);
}
