//! Crash under load: a real `qiping serve` takes concurrent submissions and is killed with SIGKILL
//! mid-load, then started again on the same database. Every submission that was answered 201 is
//! stored, exactly once; the ones cut off without an answer are stored once or not at all (a retry
//! then says which); and the database passes its integrity checks. On SQLite and PostgreSQL.
//!
//! SIGKILL ends the process, not the machine: what it proves is that nothing is acknowledged
//! before its commit returned. That a returned commit survives power loss rests on
//! `synchronous=FULL` (SQLite) and `synchronous_commit` (PostgreSQL), as the README says.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use crate::common;
use crate::survey_support;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::TestDb;
use diesel::prelude::*;
use qiping::db::Conn;
use qiping::db::schema::ratings;
use survey_support::http::Http;
use survey_support::server::{self, Served};
use survey_support::{ASKED, asked_codes, data};

const ENTERPRISES: usize = 400;
const CLIENTS: usize = 16;

/// What one submission got: an HTTP status, or nothing (the connection died with the server).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Status(u16),
    NoAnswer,
}

/// Posts every token once from `CLIENTS` threads; returns each token's outcome.
fn load(served: &Served, tokens: &[String], acknowledged: &Arc<AtomicUsize>) -> Vec<Outcome> {
    let outcomes = Arc::new(Mutex::new(vec![Outcome::NoAnswer; tokens.len()]));
    let next = Arc::new(AtomicUsize::new(0));
    let codes = asked_codes();
    let handles: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (outcomes, next, acknowledged) =
                (outcomes.clone(), next.clone(), acknowledged.clone());
            let (tokens, codes, addr) = (tokens.to_vec(), codes.clone(), served.addr);
            std::thread::spawn(move || {
                let mut http: Option<Http> = None;
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(token) = tokens.get(i) else { break };
                    let body = data::submission_json(token, &codes);
                    if http.is_none() {
                        http = Http::connect(addr).ok();
                    }
                    let answer = http
                        .as_mut()
                        .map(|h| h.post_json("/api/v1/responses", &body));
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
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    Arc::try_unwrap(outcomes).unwrap().into_inner().unwrap()
}

/// Answers stored: one sealed ballot per answered link.
fn completed(conn: &mut Conn) -> i64 {
    crate::common::keys::ballots(conn)
}

/// Answers stored (sealed ballots, each opened with the test's kept key) and the units they rate.
fn stored(conn: &mut Conn) -> (i64, i64) {
    crate::common::scenario::counts(conn)
}

/// SQLite's own checks (pages, indexes, foreign keys); on PostgreSQL, which checks its pages
/// itself, the relations the schema promises: no rating without its response.
fn assert_integrity(conn: &mut Conn, backend: &str) {
    #[derive(QueryableByName)]
    struct Line {
        #[diesel(sql_type = diesel::sql_types::Text)]
        integrity_check: String,
    }
    if backend == "sqlite" {
        let lines: Vec<Line> = diesel::sql_query("PRAGMA integrity_check")
            .load(conn)
            .unwrap();
        let lines: Vec<String> = lines.into_iter().map(|l| l.integrity_check).collect();
        assert_eq!(lines, ["ok"], "PRAGMA integrity_check");
        #[derive(QueryableByName)]
        struct Violation {
            #[diesel(sql_type = diesel::sql_types::Text)]
            table: String,
        }
        let violations: Vec<Violation> = diesel::sql_query("PRAGMA foreign_key_check")
            .load(conn)
            .unwrap();
        let tables: Vec<String> = violations.into_iter().map(|v| v.table).collect();
        assert!(tables.is_empty(), "foreign key violations in {tables:?}");
    }
    // Every stored ballot opens with the campaign's key (a torn one would not).
    let ballots = crate::common::keys::peek(conn).len() as i64;
    assert_eq!(
        ballots,
        crate::common::keys::ballots(conn),
        "{backend}: every ballot opens"
    );
}

fn crash_under_load(database_url: Option<String>, backend: &str) {
    let started = Instant::now();
    let mut served = server::start_on(database_url, ENTERPRISES, ASKED, 0);
    crate::common::keys::remember_file(&served.key_file());
    let tokens = served.tokens();
    let acknowledged = Arc::new(AtomicUsize::new(0));

    // Kill the server once a third of the submissions were acknowledged, while the rest are in
    // flight.
    let outcomes = std::thread::scope(|scope| {
        let loader = scope.spawn(|| load(&served, &tokens, &acknowledged));
        let deadline = Instant::now() + Duration::from_secs(30);
        while acknowledged.load(Ordering::SeqCst) < ENTERPRISES / 3 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        kill_9(served.pid());
        loader.join().unwrap()
    });
    served.kill();
    let acked: Vec<usize> = (0..tokens.len())
        .filter(|&i| outcomes[i] == Outcome::Status(201))
        .collect();
    let cut_off = outcomes.iter().filter(|o| **o == Outcome::NoAnswer).count();
    let other: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| !matches!(o, Outcome::Status(201) | Outcome::NoAnswer))
        .collect();
    assert!(other.is_empty(), "{backend}: unexpected answers {other:?}");
    assert!(
        acked.len() >= ENTERPRISES / 3 && cut_off > 0,
        "{backend}: the kill must land mid-load ({} acknowledged, {cut_off} cut off)",
        acked.len()
    );

    // After the restart: every acknowledged submission is there, once.
    served.restart();
    let mut conn = served.conn();
    assert_integrity(&mut conn, backend);
    let (responses_after_crash, ratings_after_crash) = stored(&mut conn);
    assert_eq!(
        responses_after_crash,
        completed(&mut conn),
        "{backend}: one response per completed invitation"
    );
    assert_eq!(ratings_after_crash, responses_after_crash * ASKED as i64);
    assert!(
        responses_after_crash >= acked.len() as i64,
        "{backend}: {} acknowledged, {responses_after_crash} stored",
        acked.len()
    );
    // A stored submission may have lost only its answer (killed between COMMIT and the reply):
    // those are the cut-off ones, never more.
    assert!(responses_after_crash <= (acked.len() + cut_off) as i64);

    // Each link again: an acknowledged one says "already answered" (409) and stores nothing;
    // a cut-off one is stored now (201) or was stored before the kill (409).
    let mut http = Http::connect(served.addr).unwrap();
    let codes = asked_codes();
    let acked: HashSet<usize> = acked.into_iter().collect();
    let mut newly_stored = 0;
    for (i, token) in tokens.iter().enumerate() {
        let (status, _) = http
            .post_json("/api/v1/responses", &data::submission_json(token, &codes))
            .unwrap();
        if acked.contains(&i) {
            assert_eq!(status, 409, "{backend}: acknowledged link {i} stored once");
        } else {
            assert!(
                status == 201 || status == 409,
                "{backend}: link {i}: {status}"
            );
            newly_stored += i64::from(status == 201);
        }
    }
    let (responses_now, ratings_now) = stored(&mut conn);
    assert_eq!(responses_now, responses_after_crash + newly_stored);
    assert_eq!(
        responses_now, ENTERPRISES as i64,
        "{backend}: every link once"
    );
    assert_eq!(completed(&mut conn), ENTERPRISES as i64);
    assert_eq!(ratings_now, ENTERPRISES as i64 * ASKED as i64);
    assert_integrity(&mut conn, backend);

    // The close opens every ballot: each answer is a rating once, none twice, and the key file
    // the close read is gone.
    served.close();
    let opened: i64 = ratings::table.count().get_result(&mut conn).unwrap();
    assert_eq!(opened, ENTERPRISES as i64 * ASKED as i64, "{backend}");
    assert_eq!(crate::common::keys::ballots(&mut conn), 0, "{backend}");
    assert!(
        !served.dir.path().join("ballot.key").exists(),
        "{backend}: key file destroyed"
    );
    eprintln!(
        "{backend}: killed after {} acknowledged, {cut_off} cut off, {responses_after_crash} \
         stored at restart; {:.1} s",
        acked.len(),
        started.elapsed().as_secs_f64()
    );
}

/// SIGKILL by process id, from the thread that watches the load.
fn kill_9(pid: u32) {
    let status = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn a_server_killed_under_load_keeps_every_acknowledged_submission_exactly_once() {
    if common::backend_enabled("sqlite") {
        crash_under_load(None, "sqlite");
    }
    if let Some(db) = TestDb::postgres() {
        crash_under_load(Some(db.url.clone()), "postgres");
    }
}
