//! Bad input, fuzzed: hostile survey submissions, as JSON (`POST /api/v1/responses`) and as the
//! form (`POST /s/{token}`), against a real `qiping serve` on SQLite and PostgreSQL. Whatever
//! arrives — arbitrary bytes, invalid UTF-8, NUL bytes, wrong types, duplicate keys, huge fields,
//! formula and script text — the server answers below 500 and stores a whole response or nothing:
//! after every request, responses = completed invitations and no response lacks its ratings.
//! The corpus in tests/fixtures/nasty/ replays inputs worth keeping (see its README).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use crate::common;
use crate::survey_support;

use std::cell::RefCell;

use common::TestDb;
use common::nasty;
use diesel::prelude::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use qiping::db::Conn;
use qiping::db::schema::{ratings, responses};
use serde_json::{Value, json};
use survey_support::http::Http;
use survey_support::server::{self, Served};
use survey_support::{ASKED, asked_codes, data};

const ENTERPRISES: usize = 60;
/// Cases per strategy and backend: enough to find what these inputs find, small enough to keep
/// each test to a few seconds.
const CASES: u32 = 96;

/// The invariants of a submission path that stores whole ballots or nothing: every stored ballot
/// opens with the campaign's key to a ballot that rates at least one unit, and nothing is stored
/// unsealed while the campaign is open.
fn whole_or_nothing(conn: &mut Conn) -> Result<(), String> {
    let stored = crate::common::keys::ballots(conn);
    let opened = crate::common::keys::peek(conn);
    let bare = opened.iter().filter(|b| b.units.is_empty()).count();
    let unsealed: i64 = ratings::table.count().get_result(conn).unwrap();
    let responses: i64 = responses::table.count().get_result(conn).unwrap();
    if stored != opened.len() as i64 || bare != 0 || unsealed != 0 || responses != 0 {
        return Err(format!(
            "{stored} ballots, {} opened, {bare} without units, {unsealed} ratings and {responses} responses stored in the clear",
            opened.len()
        ));
    }
    Ok(())
}

/// Percent-encodes a path segment.
fn segment(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Sends one request and checks the answer and the database.
fn probe(
    http: &mut Http,
    conn: &mut Conn,
    method: &str,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> Result<u16, TestCaseError> {
    // The server may close a keep-alive connection after an error answer (a body it did not
    // read); a client then connects again, once.
    let (status, answer) = match http.request(method, path, Some(content_type), body) {
        Ok(answer) => answer,
        Err(_) => {
            *http = Http::connect(http.addr()).map_err(|e| TestCaseError::fail(e.to_string()))?;
            http.request(method, path, Some(content_type), body)
                .map_err(|e| TestCaseError::fail(format!("{method} {path}: connection: {e}")))?
        }
    };
    if status >= 500 {
        return Err(TestCaseError::fail(format!(
            "{method} {path} answered {status}: {}",
            String::from_utf8_lossy(&answer)
        )));
    }
    whole_or_nothing(conn).map_err(TestCaseError::fail)?;
    Ok(status)
}

fn json_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        Just(json!(true)),
        Just(json!(0)),
        Just(json!(6)),
        Just(json!(-1)),
        Just(json!(4.5)),
        Just(json!(1e308)),
        Just(json!(i64::MAX)),
        Just(json!(u64::MAX)),
        Just(json!("4")),
        Just(json!([])),
        Just(json!({})),
        Just(json!([4, 4])),
        (1i64..=5).prop_map(|n| json!(n)),
        nasty::string().prop_map(Value::String),
    ]
}

/// One change to a valid submission.
#[derive(Debug, Clone)]
enum Mutation {
    UnitCode(usize, Value),
    Answer(usize, String, Value),
    Comment(usize, Value),
    Problems(usize, Value),
    Token(Value),
    Extra(String, Value),
    Remove(String),
    DuplicateRatings(usize),
    Ratings(Value),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let question = prop_oneof![
        proptest::sample::select(vec!["attitude", "overall", "efficiency", "policy"])
            .prop_map(str::to_owned),
        nasty::string(),
    ];
    let unit_code = prop_oneof![
        3 => nasty::string().prop_map(Value::String),
        1 => json_value(),
    ];
    prop_oneof![
        (0..ASKED, unit_code).prop_map(|(i, v)| Mutation::UnitCode(i, v)),
        (0..ASKED, question, json_value()).prop_map(|(i, q, v)| Mutation::Answer(i, q, v)),
        (0..ASKED, json_value()).prop_map(|(i, v)| Mutation::Comment(i, v)),
        (
            0..ASKED,
            prop_oneof![
                json_value(),
                proptest::collection::vec(nasty::string(), 0..4).prop_map(|v| json!(v)),
            ]
        )
            .prop_map(|(i, v)| Mutation::Problems(i, v)),
        json_value().prop_map(Mutation::Token),
        (nasty::string(), json_value()).prop_map(|(k, v)| Mutation::Extra(k, v)),
        proptest::sample::select(vec!["token", "ratings"])
            .prop_map(|k| Mutation::Remove(k.to_owned())),
        (1usize..200).prop_map(Mutation::DuplicateRatings),
        json_value().prop_map(Mutation::Ratings),
    ]
}

fn apply(submission: &mut Value, mutation: &Mutation) {
    fn obj(s: &mut Value) -> &mut serde_json::Map<String, Value> {
        s.as_object_mut().unwrap()
    }
    fn rating(s: &mut Value, i: usize) -> Option<&mut serde_json::Map<String, Value>> {
        s.get_mut("ratings")?.get_mut(i)?.as_object_mut()
    }
    match mutation {
        Mutation::UnitCode(i, v) => {
            if let Some(r) = rating(submission, *i) {
                r.insert("unit_code".into(), v.clone());
            }
        }
        Mutation::Answer(i, q, v) => {
            if let Some(answers) = rating(submission, *i)
                .and_then(|r| r.get_mut("answers"))
                .and_then(Value::as_object_mut)
            {
                answers.insert(q.clone(), v.clone());
            }
        }
        Mutation::Comment(i, v) => {
            if let Some(r) = rating(submission, *i) {
                r.insert("comment".into(), v.clone());
            }
        }
        Mutation::Problems(i, v) => {
            if let Some(r) = rating(submission, *i) {
                r.insert("problems".into(), v.clone());
            }
        }
        Mutation::Token(v) => {
            obj(submission).insert("token".into(), v.clone());
        }
        Mutation::Extra(k, v) => {
            obj(submission).insert(k.clone(), v.clone());
        }
        Mutation::Remove(k) => {
            obj(submission).remove(k);
        }
        Mutation::DuplicateRatings(n) => {
            if let Some(list) = obj(submission)
                .get_mut("ratings")
                .and_then(Value::as_array_mut)
                && let Some(first) = list.first().cloned()
            {
                list.extend(std::iter::repeat_n(first, *n));
            }
        }
        Mutation::Ratings(v) => {
            obj(submission).insert("ratings".into(), v.clone());
        }
    }
}

/// How the mutated JSON is finally written out.
#[derive(Debug, Clone)]
enum Framing {
    AsIs,
    /// `{"token": <other>, "token": …}`: serde_json takes the last, or refuses.
    DuplicateKey(String),
    /// Bytes that are not UTF-8 spliced in at a position (per mille of the length).
    Splice(usize, Vec<u8>),
    Truncate(usize),
}

fn framing() -> impl Strategy<Value = Framing> {
    prop_oneof![
        3 => Just(Framing::AsIs),
        1 => nasty::string().prop_map(Framing::DuplicateKey),
        1 => (0usize..1000, proptest::sample::select(nasty::bad_bytes()))
            .prop_map(|(at, b)| Framing::Splice(at, b)),
        1 => (0usize..1000).prop_map(Framing::Truncate),
    ]
}

fn frame(value: &Value, framing: &Framing) -> Vec<u8> {
    let text = value.to_string();
    match framing {
        Framing::AsIs => text.into_bytes(),
        Framing::DuplicateKey(token) => text
            .replacen('{', &format!("{{\"token\":{},", json!(token)), 1)
            .into_bytes(),
        Framing::Splice(at, bytes) => {
            let mut out = text.into_bytes();
            let at = out.len() * at / 1000;
            out.splice(at..at, bytes.iter().copied());
            out
        }
        Framing::Truncate(at) => {
            let mut out = text.into_bytes();
            out.truncate(out.len() * at / 1000);
            out
        }
    }
}

#[derive(Debug, Clone)]
enum JsonInput {
    Bytes(Vec<u8>),
    Mutated {
        token: usize,
        mutations: Vec<Mutation>,
        framing: Framing,
    },
}

fn json_input() -> impl Strategy<Value = JsonInput> {
    prop_oneof![
        1 => proptest::collection::vec(any::<u8>(), 0..600).prop_map(JsonInput::Bytes),
        4 => (
            0..ENTERPRISES,
            proptest::collection::vec(mutation(), 0..4),
            framing()
        )
            .prop_map(|(token, mutations, framing)| JsonInput::Mutated {
                token,
                mutations,
                framing
            }),
    ]
}

fn fuzz_json(served: &Served, backend: &str) {
    let tokens = served.tokens();
    let codes = asked_codes();
    let state = RefCell::new((served.conn(), Http::connect(served.addr).unwrap(), 0usize));
    let mut runner = TestRunner::new(Config::with_cases(CASES));
    runner
        .run(&json_input(), |input| {
            let mut state = state.borrow_mut();
            let (conn, http, stored) = &mut *state;
            let body = match &input {
                JsonInput::Bytes(bytes) => bytes.clone(),
                JsonInput::Mutated {
                    token,
                    mutations,
                    framing,
                } => {
                    let mut value: Value =
                        serde_json::from_str(&data::submission_json(&tokens[*token], &codes))
                            .unwrap();
                    for m in mutations {
                        apply(&mut value, m);
                    }
                    frame(&value, framing)
                }
            };
            let status = probe(
                http,
                conn,
                "POST",
                "/api/v1/responses",
                "application/json",
                &body,
            )?;
            *stored += usize::from(status == 201);
            prop_assert!(
                [201, 404, 409, 410, 413, 422].contains(&status),
                "unexpected {status}"
            );
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{backend}: {e}"));
    let stored = state.into_inner().2;
    eprintln!("{backend}: {CASES} JSON submissions, {stored} stored whole");
}

/// Field names the form knows, and some it does not.
fn form_key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(vec![
            "unit", "u0.attitude", "u0.overall", "u1.efficiency", "u0.p", "u1.p", "u0.c", "u3.c",
            "action", "q", "u0.", "u.x", "u-1.overall", "u99999999999999999999.overall",
            "u0.c\u{0}", "lang",
        ])
        .prop_map(str::to_owned),
        1 => nasty::string(),
    ]
}

fn form_value() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => proptest::sample::select(vec![
            "submit", "search", "add:D02", "add:", "add:\u{0}", "4", "na", "D01", "D02-O1",
            "slow", "unfair", "6", "4.0",
        ])
        .prop_map(str::to_owned),
        1 => nasty::string(),
    ]
}

#[derive(Debug, Clone)]
enum FormInput {
    Bytes(usize, Vec<u8>),
    Pairs {
        token: String,
        complete: bool,
        extra: Vec<(String, String)>,
        splice: Option<(usize, Vec<u8>)>,
    },
}

fn complete_form(codes: &[String]) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = codes
        .iter()
        .map(|c| ("unit".to_owned(), c.clone()))
        .collect();
    for i in 0..codes.len() {
        for q in [
            "attitude",
            "efficiency",
            "policy",
            "lawful",
            "integrity",
            "overall",
        ] {
            pairs.push((format!("u{i}.{q}"), "4".to_owned()));
        }
    }
    pairs.push(("action".into(), "submit".into()));
    pairs
}

fn fuzz_form(served: &Served, backend: &str) {
    let tokens = served.tokens();
    let codes = asked_codes();
    let state = RefCell::new((served.conn(), Http::connect(served.addr).unwrap(), 0usize));
    let token = prop_oneof![
        8 => proptest::sample::select(tokens.clone()),
        1 => nasty::string(),
    ];
    let input = prop_oneof![
        1 => (0..tokens.len(), proptest::collection::vec(any::<u8>(), 0..600))
            .prop_map(|(t, b)| FormInput::Bytes(t, b)),
        4 => (
            token,
            any::<bool>(),
            proptest::collection::vec((form_key(), form_value()), 0..6),
            proptest::option::weighted(
                0.2,
                (0usize..1000, proptest::sample::select(nasty::bad_bytes()))
            ),
        )
            .prop_map(|(token, complete, extra, splice)| FormInput::Pairs {
                token,
                complete,
                extra,
                splice
            }),
    ];
    let mut runner = TestRunner::new(Config::with_cases(CASES));
    runner
        .run(&input, |input| {
            let mut state = state.borrow_mut();
            let (conn, http, stored) = &mut *state;
            let (token, body) = match &input {
                FormInput::Bytes(t, bytes) => (tokens[*t].clone(), bytes.clone()),
                FormInput::Pairs {
                    token,
                    complete,
                    extra,
                    splice,
                } => {
                    let mut pairs = if *complete {
                        complete_form(&codes)
                    } else {
                        Vec::new()
                    };
                    pairs.extend(extra.iter().cloned());
                    let mut body = serde_urlencoded::to_string(&pairs).unwrap().into_bytes();
                    if let Some((at, bytes)) = splice {
                        let at = body.len() * at / 1000;
                        body.splice(at..at, bytes.iter().copied());
                    }
                    (token.clone(), body)
                }
            };
            let status = probe(
                http,
                conn,
                "POST",
                &format!("/s/{}", segment(&token)),
                "application/x-www-form-urlencoded",
                &body,
            )?;
            *stored += usize::from(status == 303);
            prop_assert!(
                [200, 303, 400, 404, 409, 410, 413, 422].contains(&status),
                "unexpected {status}"
            );
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{backend}: {e}"));
    let stored = state.into_inner().2;
    eprintln!("{backend}: {CASES} form posts, {stored} stored whole");
}

/// The survey page and the JSON questionnaire behind hostile tokens.
fn fuzz_tokens(served: &Served, backend: &str) {
    let state = RefCell::new((served.conn(), Http::connect(served.addr).unwrap()));
    let mut runner = TestRunner::new(Config::with_cases(CASES / 2));
    runner
        .run(&nasty::string(), |token| {
            let mut state = state.borrow_mut();
            let (conn, http) = &mut *state;
            let path = segment(&token);
            for url in [format!("/s/{path}"), format!("/api/v1/survey/{path}")] {
                let status = probe(http, conn, "GET", &url, "text/plain", b"")?;
                prop_assert!((400..500).contains(&status), "{url}: {status}");
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{backend}: {e}"));
}

fn on_each_served(test: impl Fn(&Served, &str)) {
    let keep_key = |served: Served| {
        common::keys::remember_file(&served.key_file());
        served
    };
    if common::backend_enabled("sqlite") {
        test(&keep_key(server::start(ENTERPRISES, ASKED, 0)), "sqlite");
    }
    if let Some(db) = TestDb::postgres() {
        test(
            &keep_key(server::start_on(
                Some(db.url.clone()),
                ENTERPRISES,
                ASKED,
                0,
            )),
            "postgres",
        );
    }
}

#[test]
fn fuzzed_json_submissions_never_fail_the_server_nor_store_half_a_response() {
    on_each_served(fuzz_json);
}

#[test]
fn fuzzed_survey_forms_never_fail_the_server_nor_store_half_a_response() {
    on_each_served(fuzz_form);
}

#[test]
fn hostile_tokens_read_as_unknown_links() {
    on_each_served(fuzz_tokens);
}

/// The files of `tests/fixtures/nasty/{folder}/`, sorted: (name, expected status, bytes).
fn corpus(folder: &str) -> Vec<(String, u16, Vec<u8>)> {
    let dir = format!(
        "{}/tests/fixtures/nasty/{folder}",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let status = name[..3].parse().unwrap();
            (name, status, std::fs::read(&path).unwrap())
        })
        .collect()
}

/// Replaces `@TOKEN@` in raw bytes.
fn with_token(bytes: &[u8], token: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while let Some(at) = rest.windows(7).position(|w| w == b"@TOKEN@") {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(token.as_bytes());
        rest = &rest[at + 7..];
    }
    out.extend_from_slice(rest);
    out
}

fn replay_corpus(served: &Served, backend: &str) {
    let mut tokens = served.tokens().into_iter();
    let mut conn = served.conn();
    let mut http = Http::connect(served.addr).unwrap();
    let mut failures = Vec::new();
    for (folder, content_type) in [
        ("json", "application/json"),
        ("form", "application/x-www-form-urlencoded"),
    ] {
        for (name, expected, bytes) in corpus(folder) {
            let token = tokens.next().unwrap();
            let (path, body) = match folder {
                "json" => ("/api/v1/responses".to_owned(), with_token(&bytes, &token)),
                _ => (format!("/s/{token}"), bytes),
            };
            let (status, answer) = match http.request("POST", &path, Some(content_type), &body) {
                Ok(answer) => answer,
                Err(_) => {
                    http = Http::connect(served.addr).unwrap();
                    http.request("POST", &path, Some(content_type), &body)
                        .unwrap()
                }
            };
            if status != expected {
                failures.push(format!(
                    "{folder}/{name}: {status} (expected {expected}): {}",
                    String::from_utf8_lossy(&answer)
                        .chars()
                        .take(300)
                        .collect::<String>()
                ));
            }
            if let Err(e) = whole_or_nothing(&mut conn) {
                failures.push(format!("{folder}/{name}: {e}"));
            }
        }
    }
    assert!(failures.is_empty(), "{backend}:\n{}", failures.join("\n"));
}

#[test]
fn the_corpus_of_nasty_submissions_is_answered_as_recorded() {
    on_each_served(replay_corpus);
}
