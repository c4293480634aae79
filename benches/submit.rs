//! Durable survey submissions per second through HTTP: 64 concurrent clients on loopback posting
//! complete responses (10 units × 6 questions, `POST /api/v1/responses`, each with its own link)
//! to a `qiping serve` child process on SQLite (`synchronous=FULL`) — and on PostgreSQL when
//! `QIPING_BENCH_PG_URL` names a server to create a scratch database on — beside the same
//! server's `/healthz` rate in the same run. Every 201 is checked against the stored rows.
//!
//! The baselines beside them, measured in the same run on the same disk, with no HTTP, validation,
//! sealing or batching: plain SQLite committing ten-row transactions one after another (WAL,
//! `synchronous=FULL`, one prepared insert) — what a submission wrote before sealed ballots — and
//! plain SQLite committing one row of a sealed ballot's size per transaction (a 32-byte key and
//! the ballot's bytes, in a table shaped as `ballots` is: rows by rowid, a unique index on the
//! key) — what a submission writes now. The ratios are
//! what carries over between machines whose disks differ.
//!
//! Beside the rates, the server's CPU time per submission and per respondent (from `/proc`): on a
//! shared two-core machine, where the load generator competes with the server for the cores,
//! it moves far less from run to run than the rates do.
//!
//! `cargo bench --bench submit` (`QIPING_BENCH_SUBMISSIONS` changes the count, default 20,000;
//! `QIPING_BENCH_SERVE_BIN=path/to/qiping` serves with another build, to compare two in one sitting)

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark may panic on setup failures

#[path = "../tests/it/survey_support/mod.rs"]
mod survey_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use qiping::db::DatabaseUrl;
use qiping::db::schema::{ballots, invitations, ratings};
use qiping::service::links::LinkSecret;
use survey_support::data;
use survey_support::http::Http;
use survey_support::server::{self, SECRET, Served};

const CLIENTS: usize = 64;
const UNITS: usize = 10;
const HEALTHZ_SECONDS: u64 = 3;
const PLAIN_SECONDS: u64 = 3;

diesel::table! {
    plain (id) {
        id -> BigInt,
        unit -> BigInt,
        answers -> Text,
    }
}

/// Ten-row transactions per second committed by plain SQLite (WAL, `synchronous=FULL`) in a
/// fresh file under `dir`, one transaction after another.
fn plain_sqlite_rate(dir: &std::path::Path) -> f64 {
    let path = dir.join("plain.sqlite");
    let mut conn = SqliteConnection::establish(&path.display().to_string()).unwrap();
    conn.batch_execute(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
         CREATE TABLE plain (id INTEGER PRIMARY KEY, unit BIGINT NOT NULL, answers TEXT NOT NULL);",
    )
    .unwrap();
    let answers = r#"{"q1":5,"q2":4,"q3":5,"q4":3,"q5":4,"q6":5}"#;
    let stop = Instant::now() + Duration::from_secs(PLAIN_SECONDS);
    let started = Instant::now();
    let mut commits = 0u64;
    while Instant::now() < stop {
        conn.immediate_transaction(|c| {
            for unit in 0..10 {
                diesel::insert_into(plain::table)
                    .values((plain::unit.eq(unit), plain::answers.eq(answers)))
                    .execute(c)?;
            }
            diesel::QueryResult::Ok(())
        })
        .unwrap();
        commits += 1;
    }
    commits as f64 / started.elapsed().as_secs_f64()
}

/// One-row transactions per second committed by plain SQLite, each row a random 32-byte key and
/// `bytes` random bytes (a sealed ballot's size), in a fresh file under `dir`.
fn plain_ballot_rate(dir: &std::path::Path, bytes: usize) -> f64 {
    use rand::RngExt;
    let path = dir.join("plain-ballots.sqlite");
    let mut conn = SqliteConnection::establish(&path.display().to_string()).unwrap();
    conn.batch_execute(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
         CREATE TABLE plain_ballots (spent_key BLOB NOT NULL UNIQUE, sealed BLOB NOT NULL);",
    )
    .unwrap();
    let mut rng = rand::rng();
    let sealed: Vec<u8> = (0..bytes).map(|_| rng.random()).collect();
    let stop = Instant::now() + Duration::from_secs(PLAIN_SECONDS);
    let started = Instant::now();
    let mut commits = 0u64;
    while Instant::now() < stop {
        let key: [u8; 32] = rng.random();
        conn.immediate_transaction(|c| {
            diesel::sql_query("INSERT INTO plain_ballots (spent_key, sealed) VALUES (?, ?)")
                .bind::<diesel::sql_types::Binary, _>(&key[..])
                .bind::<diesel::sql_types::Binary, _>(&sealed)
                .execute(c)
        })
        .unwrap();
        commits += 1;
    }
    commits as f64 / started.elapsed().as_secs_f64()
}

fn submissions() -> usize {
    std::env::var("QIPING_BENCH_SUBMISSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000)
}

/// Requests per second of `GET /healthz` from `CLIENTS` keep-alive clients.
fn healthz_rate(served: &Served) -> f64 {
    let stop = Instant::now() + Duration::from_secs(HEALTHZ_SECONDS);
    let addr = served.addr;
    let handles: Vec<_> = (0..CLIENTS)
        .map(|_| {
            std::thread::spawn(move || {
                let mut http = Http::connect(addr).unwrap();
                let mut n = 0u64;
                while Instant::now() < stop {
                    assert_eq!(http.get("/healthz").unwrap().0, 200);
                    n += 1;
                }
                n
            })
        })
        .collect();
    let total: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    total as f64 / HEALTHZ_SECONDS as f64
}

struct Run {
    per_second: f64,
    /// Plain SQLite ten-row commits per second, in the same run (SQLite only).
    plain: Option<f64>,
    /// Plain SQLite one-ballot-row commits per second, in the same run (SQLite only).
    plain_ballot: Option<f64>,
    /// Respondents per second through the pages, as an enterprise answers: GET the questionnaire,
    /// POST the form, follow the redirect to the thank-you page.
    pages: f64,
    p50: Duration,
    p99: Duration,
    healthz: f64,
    /// The server's CPU time (user and system) per submission through the JSON API.
    cpu_per_submission: Duration,
    /// The server's CPU time per respondent through the pages.
    cpu_per_respondent: Duration,
}

fn run(database_url: Option<String>) -> Run {
    let database_url_is_sqlite = database_url.is_none();
    let count = submissions();
    // Twice the links: the first half answer through the JSON API, the second through the pages.
    let served = server::start_on(database_url, 2 * count, UNITS, 0);
    let mut conn = DatabaseUrl::parse(&served.database_url)
        .unwrap()
        .connect()
        .unwrap();
    let secret = LinkSecret::from_config(Some(SECRET)).unwrap();
    let codes: Vec<String> = data::unit_codes(survey_support::DEPARTMENTS, survey_support::OFFICES)
        .into_iter()
        .take(UNITS)
        .collect();
    let tokens: Vec<String> = invitations::table
        .order(invitations::id)
        .select((invitations::id, invitations::link_version))
        .load::<(i64, i32)>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|(id, v)| secret.token(id, v))
        .collect();
    let (json_tokens, page_tokens) = tokens.split_at(count);
    let bodies: Arc<Vec<String>> = Arc::new(
        json_tokens
            .iter()
            .map(|t| data::submission_json(t, &codes))
            .collect(),
    );
    assert_eq!(bodies.len(), count);
    let healthz = healthz_rate(&served);
    let plain = database_url_is_sqlite.then(|| plain_sqlite_rate(served.dir.path()));
    let layout = qiping::ballot::BallotLayout::for_campaign(6, 5, UNITS, 2000).unwrap();
    let plain_ballot = database_url_is_sqlite
        .then(|| plain_ballot_rate(served.dir.path(), qiping::ballot::sealed_len(&layout)));

    let next = Arc::new(AtomicUsize::new(0));
    let barrier = Arc::new(Barrier::new(CLIENTS + 1));
    let handles: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (next, bodies, barrier, addr) =
                (next.clone(), bodies.clone(), barrier.clone(), served.addr);
            std::thread::spawn(move || {
                let mut http = Http::connect(addr).unwrap();
                let mut latencies = Vec::new();
                barrier.wait();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(body) = bodies.get(i) else { break };
                    let start = Instant::now();
                    let (status, answer) = http.post_json("/api/v1/responses", body).unwrap();
                    latencies.push(start.elapsed());
                    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&answer));
                }
                latencies
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    let cpu_before = served.cpu_seconds();
    let mut latencies: Vec<Duration> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    let elapsed = start.elapsed();
    let cpu_json = served.cpu_seconds() - cpu_before;
    let cpu_before = served.cpu_seconds();
    let pages = pages_rate(&served, page_tokens, &codes);
    let cpu_pages = served.cpu_seconds() - cpu_before;
    let stored: i64 = ballots::table.count().get_result(&mut conn).unwrap();
    let clear: i64 = ratings::table.count().get_result(&mut conn).unwrap();
    assert_eq!(
        (stored as usize, clear),
        (2 * count, 0),
        "every acknowledged submission is stored as one sealed ballot, nothing in the clear"
    );
    latencies.sort_unstable();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    Run {
        per_second: count as f64 / elapsed.as_secs_f64(),
        plain,
        plain_ballot,
        pages,
        p50: at(0.50),
        p99: at(0.99),
        healthz,
        cpu_per_submission: Duration::from_secs_f64(cpu_json / count as f64),
        cpu_per_respondent: Duration::from_secs_f64(cpu_pages / count as f64),
    }
}

/// Respondents per second through the pages, `CLIENTS` at a time: each GETs `/s/{token}`, POSTs
/// the completed form and GETs the thank-you page it is sent to.
fn pages_rate(served: &Served, tokens: &[String], codes: &[String]) -> f64 {
    let mut form = Vec::new();
    for code in codes {
        form.push(("unit".to_owned(), code.clone()));
    }
    for i in 0..codes.len() {
        for q in [
            "attitude",
            "efficiency",
            "policy",
            "lawful",
            "integrity",
            "overall",
        ] {
            form.push((format!("u{i}.{q}"), "4".to_owned()));
        }
    }
    form.push(("action".to_owned(), "submit".to_owned()));
    let body: Arc<String> = Arc::new(serde_urlencoded::to_string(&form).unwrap());
    let tokens: Arc<Vec<String>> = Arc::new(tokens.to_vec());
    let next = Arc::new(AtomicUsize::new(0));
    let barrier = Arc::new(Barrier::new(CLIENTS + 1));
    let handles: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (next, tokens, body, barrier, addr) = (
                next.clone(),
                tokens.clone(),
                body.clone(),
                barrier.clone(),
                served.addr,
            );
            std::thread::spawn(move || {
                let mut http = Http::connect(addr).unwrap();
                barrier.wait();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(token) = tokens.get(i) else { break };
                    let path = format!("/s/{token}");
                    assert_eq!(http.get(&path).unwrap().0, 200);
                    let (status, answer) = http
                        .request(
                            "POST",
                            &path,
                            Some("application/x-www-form-urlencoded"),
                            body.as_bytes(),
                        )
                        .unwrap();
                    assert_eq!(status, 303, "{}", String::from_utf8_lossy(&answer));
                    assert_eq!(http.get("/s/thanks").unwrap().0, 200);
                }
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    for h in handles {
        h.join().unwrap();
    }
    tokens.len() as f64 / start.elapsed().as_secs_f64()
}

fn print(backend: &str, r: &Run) {
    println!(
        "  {backend:<9} {:>7.0} submissions/s   p50 {:>6.1} ms   p99 {:>6.1} ms   /healthz {:>7.0} req/s",
        r.per_second,
        r.p50.as_secs_f64() * 1e3,
        r.p99.as_secs_f64() * 1e3,
        r.healthz
    );
    println!(
        "  {:<9} server CPU (user + system): {:.0} µs per submission, {:.0} µs per respondent \
         through the pages",
        "",
        r.cpu_per_submission.as_secs_f64() * 1e6,
        r.cpu_per_respondent.as_secs_f64() * 1e6
    );
    if let Some(plain) = r.plain {
        println!(
            "  {:<9} {plain:>7.0} ten-row commits/s (plain SQLite, synchronous=FULL, same disk): \
             submissions are {:.2} of it",
            "baseline",
            r.per_second / plain
        );
    }
    println!(
        "  {backend:<9} {:>7.0} respondents/s through the pages (GET the form, POST it, GET the \
         thank-you page)",
        r.pages
    );
    if let Some(plain) = r.plain_ballot {
        println!(
            "  {:<9} {plain:>7.0} one-ballot-row commits/s (plain SQLite, synchronous=FULL, same \
             disk): submissions are {:.2} of it (the aim is 0.80)",
            "baseline",
            r.per_second / plain
        );
        println!(
            "  {:<9} respondents through the pages are {:.2} of the one-ballot-row baseline (the \
             aim is 0.50)",
            "",
            r.pages / plain
        );
    }
}

fn main() {
    println!(
        "survey submissions: {} × ({UNITS} units × 6 questions), {CLIENTS} clients on loopback",
        submissions()
    );
    print("SQLite", &run(None));
    if let Ok(admin_url) = std::env::var("QIPING_BENCH_PG_URL") {
        let name = format!("qiping_bench_submit_{}", std::process::id());
        let mut admin = diesel::PgConnection::establish(&admin_url).unwrap();
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        let base = admin_url.rsplit_once('/').map(|(b, _)| b).unwrap();
        let result = run(Some(format!("{base}/{name}")));
        admin
            .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .unwrap();
        print("Postgres", &result);
    } else {
        println!("  Postgres  skipped (set QIPING_BENCH_PG_URL=postgres://…/postgres)");
    }
}
