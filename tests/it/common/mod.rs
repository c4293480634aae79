//! Test harness: every test gets its own database — a fresh SQLite file, or a fresh PostgreSQL
//! database created on the server named by `QIPING_TEST_PG_URL` and dropped afterwards — so tests
//! run in parallel and never share state.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use qiping::db::{Conn, DatabaseUrl};

/// One test's database.
pub struct TestDb {
    pub url: String,
    pub backend: &'static str,
    _dir: Option<tempfile::TempDir>,
    pg: Option<PgDrop>,
}

struct PgDrop {
    admin_url: String,
    name: String,
}

impl Drop for PgDrop {
    fn drop(&mut self) {
        if let Ok(mut admin) = diesel::PgConnection::establish(&self.admin_url) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ));
        }
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl TestDb {
    /// A fresh SQLite file in a temporary folder.
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("qiping.db").display());
        TestDb {
            url,
            backend: "sqlite",
            _dir: Some(dir),
            pg: None,
        }
    }

    /// A fresh PostgreSQL database, or `None` (and a line saying the test was skipped) when
    /// `QIPING_TEST_PG_URL` is unset. CI always sets it.
    pub fn postgres() -> Option<TestDb> {
        let Ok(admin_url) = std::env::var("QIPING_TEST_PG_URL") else {
            eprintln!("SKIPPED on PostgreSQL: QIPING_TEST_PG_URL is not set");
            return None;
        };
        let name = format!(
            "qiping_t_{}_{}_{:08x}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            rand::random::<u32>()
        );
        let mut admin = diesel::PgConnection::establish(&admin_url)
            .unwrap_or_else(|e| panic!("QIPING_TEST_PG_URL does not answer: {e}"));
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .expect("create test database");
        let url = replace_database(&admin_url, &name);
        Some(TestDb {
            url,
            backend: "postgres",
            _dir: None,
            pg: Some(PgDrop { admin_url, name }),
        })
    }

    /// A migrated connection.
    pub fn conn(&self) -> Conn {
        let mut conn = DatabaseUrl::parse(&self.url)
            .expect("url")
            .connect()
            .expect("connect");
        qiping::db::migrate(&mut conn).expect("migrate");
        conn
    }
}

/// Runs `test` on SQLite, then on PostgreSQL when it is configured.
pub fn on_each_backend(test: impl Fn(&TestDb)) {
    test(&TestDb::sqlite());
    if let Some(db) = TestDb::postgres() {
        test(&db);
    }
}

fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let after_scheme = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[after_scheme..].find('/') {
        Some(slash) => &base[..after_scheme + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// A file of `tests/fixtures/`.
pub fn fixture(path: &str) -> Vec<u8> {
    let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// A valid USCC made from a number (check character computed, never guessed).
pub fn uscc(n: u32) -> String {
    let first17 = format!("91320300MA{n:07}");
    let check = qiping::domain::uscc_check_character(&first17).expect("17 characters");
    format!("{first17}{check}")
}

/// Ignores import progress.
pub fn no_progress() -> impl FnMut(usize, usize) {
    |_, _| {}
}

pub mod smtp;

pub mod mailing;

pub mod nasty;
