//! Database outage: a private PostgreSQL cluster (its own data folder and port, started by the
//! test as the `postgres` user: `initdb` refuses root) serves a real `qiping serve`. The cluster is
//! stopped under load and started again: while it is down every survey request answers 503 — the
//! page says to retry, the JSON API gives its error body — never 500; nothing answered 201 is
//! lost; and after the restart requests succeed again without restarting qiping.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use crate::survey_support;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use survey_support::http::{Http, free_port};
use survey_support::server::{self, Served};
use survey_support::{ASKED, asked_codes, data};

/// A PostgreSQL cluster of the test's own; stopped and removed when dropped.
struct Cluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
}

/// `runuser -u postgres -- BIN ARGS…`.
fn as_postgres(bin: &Path, tool: &str, args: &[&str]) -> std::process::Output {
    Command::new("runuser")
        .args(["-u", "postgres", "--"])
        .arg(bin.join(tool))
        .args(args)
        .output()
        .unwrap()
}

impl Cluster {
    /// `None` (with a line saying why) where the test cannot run: not root, or no PostgreSQL
    /// server binaries under /usr/lib/postgresql.
    fn create() -> Option<Cluster> {
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .and_then(|dirs| {
                dirs.flatten()
                    .map(|d| d.path().join("bin"))
                    .filter(|b| b.join("initdb").exists())
                    .max()
            });
        let (true, Some(bin)) = (root, bin) else {
            eprintln!("SKIPPED: needs root and PostgreSQL's server binaries (/usr/lib/postgresql)");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let chown = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(chown.success());
        let data = dir.path().join("data");
        let init = as_postgres(
            &bin,
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "postgres",
                "-A",
                "trust",
                "--no-sync",
                "-E",
                "UTF8",
            ],
        );
        assert!(
            init.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&init.stderr)
        );
        let cluster = Cluster {
            bin,
            dir,
            port: free_port(),
        };
        cluster.start();
        Some(cluster)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("log").display().to_string();
        let out = as_postgres(
            &self.bin,
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-o",
                &options,
                "-l",
                &log,
                "-w",
                "start",
            ],
        );
        assert!(
            out.status.success(),
            "pg_ctl start: {}{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    /// A fast shutdown: open connections are cut, as when the server goes down under load.
    fn stop(&self) {
        let out = as_postgres(
            &self.bin,
            "pg_ctl",
            &["-D", &self.data(), "-m", "fast", "-w", "stop"],
        );
        assert!(
            out.status.success(),
            "pg_ctl stop: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = as_postgres(
            &self.bin,
            "pg_ctl",
            &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
        );
    }
}

/// What the load saw: each link's last status, and every status seen.
#[derive(Default)]
struct Seen {
    last: Vec<Option<u16>>,
    statuses: Vec<u16>,
}

/// Clients that submit links one after another until `stop` is set or the links run out.
fn submit_until(
    served: &Served,
    tokens: &[String],
    stop: &AtomicBool,
    acknowledged: &AtomicUsize,
    seen: &Mutex<Seen>,
) {
    let next = AtomicUsize::new(0);
    let codes = asked_codes();
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                let mut http = Http::connect(served.addr).unwrap();
                while !stop.load(Ordering::SeqCst) {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(token) = tokens.get(i) else { break };
                    let (status, body) = http
                        .post_json("/api/v1/responses", &data::submission_json(token, &codes))
                        .unwrap();
                    if status == 503 {
                        let error: serde_json::Value = serde_json::from_slice(&body).unwrap();
                        assert!(error["error"].as_str().is_some(), "503 body: {error}");
                    }
                    if status == 201 {
                        acknowledged.fetch_add(1, Ordering::SeqCst);
                    }
                    let mut seen = seen.lock().unwrap();
                    seen.last[i] = Some(status);
                    seen.statuses.push(status);
                }
            });
        }
    });
}

#[test]
fn a_database_outage_answers_503_and_qiping_recovers_without_a_restart() {
    let Some(cluster) = Cluster::create() else {
        return;
    };
    let started = Instant::now();
    // A request waits 2 s for a connection (not the default 10 s) to keep the test short.
    let served = server::start_with(
        Some(cluster.url()),
        300,
        ASKED,
        0,
        &[("QIPING_POOL_TIMEOUT_SECONDS", "2")],
    );
    crate::common::keys::remember_file(&served.key_file());
    let tokens = served.tokens();
    let codes = asked_codes();

    // Load, then the cluster stops under it.
    let stop = AtomicBool::new(false);
    let acknowledged = AtomicUsize::new(0);
    let seen = Mutex::new(Seen {
        last: vec![None; tokens.len()],
        statuses: Vec::new(),
    });
    let (page_status, page) = std::thread::scope(|scope| {
        let load =
            scope.spawn(|| submit_until(&served, &tokens[..250], &stop, &acknowledged, &seen));
        while acknowledged.load(Ordering::SeqCst) < 30 {
            std::thread::sleep(Duration::from_millis(1));
        }
        cluster.stop();
        // The survey page during the outage (a link no client touches).
        let mut http = Http::connect(served.addr).unwrap();
        let page = http.get(&format!("/s/{}", tokens[299])).unwrap();
        // Every client has met the outage by now (a request waits at most the pool's
        // timeout for a connection).
        stop.store(true, Ordering::SeqCst);
        load.join().unwrap();
        page
    });
    let seen = seen.into_inner().unwrap();
    let page = String::from_utf8(page).unwrap();
    assert_eq!(page_status, 503, "{page}");
    assert!(page.contains("请稍候片刻后刷新页面重试"), "{page}");
    let unexpected: Vec<u16> = seen
        .statuses
        .iter()
        .copied()
        .filter(|s| ![201, 503].contains(s))
        .collect();
    assert!(
        unexpected.is_empty(),
        "only 201 or 503 during the outage: {unexpected:?}"
    );
    assert!(seen.statuses.contains(&503), "the outage was met");

    // The JSON API and the form while the database is still down.
    let mut http = Http::connect(served.addr).unwrap();
    let (status, body) = http
        .get(&format!("/api/v1/survey/{}", tokens[298]))
        .unwrap();
    assert_eq!(status, 503);
    let error: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(error["error"].as_str().unwrap().contains("重试"), "{error}");

    // Back up: the same qiping process answers again.
    cluster.start();
    let (status, _) = http.get(&format!("/s/{}", tokens[299])).unwrap();
    assert_eq!(status, 200, "the page after the restart");
    let (status, _) = http
        .post_json(
            "/api/v1/responses",
            &data::submission_json(&tokens[299], &codes),
        )
        .unwrap();
    assert_eq!(status, 201, "a submission after the restart");

    // Nothing acknowledged was lost; a link refused with 503 can be sent again.
    let acked: HashSet<usize> = (0..tokens.len())
        .filter(|&i| seen.last[i] == Some(201))
        .collect();
    let mut retried = 0;
    for (i, last) in seen.last.iter().enumerate() {
        if *last == Some(503) {
            let (status, _) = http
                .post_json(
                    "/api/v1/responses",
                    &data::submission_json(&tokens[i], &codes),
                )
                .unwrap();
            // 409 only where the commit landed and its reply was lost with the connection.
            assert!(
                status == 201 || status == 409,
                "retry of link {i}: {status}"
            );
            retried += 1;
        }
    }
    let mut conn = served.conn();
    let stored = crate::common::keys::ballots(&mut conn);
    let opened = crate::common::keys::peek(&mut conn).len() as i64;
    assert_eq!(
        stored, opened,
        "every stored ballot opens, one per answered link"
    );
    assert_eq!(stored, (acked.len() + retried + 1) as i64);
    eprintln!(
        "{} acknowledged before the outage, {retried} refused with 503 and sent again; {:.1} s",
        acked.len(),
        started.elapsed().as_secs_f64()
    );
}
