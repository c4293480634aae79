//! Test harness: every test gets its own database — an SQLite file, or a PostgreSQL database
//! created on the server named by `QIPING_TEST_PG_URL` and dropped afterwards, even when the test
//! fails — so tests run in parallel and never share state.
//!
//! The migrations run once per process, into a template: an SQLite file whose bytes each test's
//! file is written from, and a PostgreSQL database (`qiping_t_tpl_…`) that each test's database is
//! created from (`CREATE DATABASE … TEMPLATE …`). The `empty_*` constructors give an unmigrated
//! database to the tests of the migrations themselves.
//!
//! `QIPING_TEST_BACKENDS` (`sqlite`, `postgres`, or both: the default) says which backends the
//! tests of both backends run on, so CI runs the SQLite and the PostgreSQL halves as two phases.
#![allow(dead_code)]

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use qiping::db::{Conn, DatabaseUrl};

/// One test's database.
pub struct TestDb {
    pub url: String,
    pub backend: &'static str,
    /// Cloned from the migrated template (else [`TestDb::conn`] migrates).
    migrated: bool,
    _dir: Option<tempfile::TempDir>,
    pg: Option<PgDrop>,
}

struct PgDrop {
    admin_url: String,
    name: String,
}

impl Drop for PgDrop {
    fn drop(&mut self) {
        drop_pg_database(&self.admin_url, &self.name);
    }
}

fn drop_pg_database(admin_url: &str, name: &str) {
    if let Ok(mut admin) = diesel::PgConnection::establish(admin_url) {
        let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Whether the tests of both backends run on `backend` (`QIPING_TEST_BACKENDS`, a comma-separated
/// list; unset: both).
pub fn backend_enabled(backend: &str) -> bool {
    match std::env::var("QIPING_TEST_BACKENDS") {
        Ok(list) => list.split(',').any(|b| b.trim() == backend),
        Err(_) => true,
    }
}

/// The bytes of an SQLite database with every migration applied, made once per process.
fn sqlite_template() -> &'static [u8] {
    static TEMPLATE: OnceLock<Vec<u8>> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("template.db");
        {
            let mut conn = DatabaseUrl::parse(&format!("sqlite://{}", path.display()))
                .expect("url")
                .connect()
                .expect("connect the template");
            qiping::db::migrate(&mut conn).expect("migrate the template");
            if let Conn::Sqlite(c) = &mut conn {
                // Everything into the main file: the copies are made of that file alone.
                c.batch_execute("PRAGMA wal_checkpoint(TRUNCATE)")
                    .expect("checkpoint");
            }
        }
        std::fs::read(&path).expect("read the template")
    })
}

/// The process's PostgreSQL template database: created and migrated on first use, its
/// connection closed before anything is cloned from it, dropped when the process exits.
fn pg_template(admin_url: &str) -> &'static str {
    PG_TEMPLATE.get_or_init(|| {
        let name = format!(
            "qiping_t_tpl_{}_{:08x}",
            std::process::id(),
            rand::random::<u32>()
        );
        let mut admin = diesel::PgConnection::establish(admin_url)
            .unwrap_or_else(|e| panic!("QIPING_TEST_PG_URL does not answer: {e}"));
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .expect("create the template database");
        {
            let mut conn = DatabaseUrl::parse(&replace_database(admin_url, &name))
                .expect("url")
                .connect()
                .expect("connect the template");
            qiping::db::migrate(&mut conn).expect("migrate the template");
        }
        register_template_drop();
        name
    })
}

/// The name of the process's PostgreSQL template, once made.
static PG_TEMPLATE: OnceLock<String> = OnceLock::new();

/// Drops the PostgreSQL template when the process exits (a test binary returns from `main`, or
/// calls `exit` when a test failed). A killed run leaves it to `.ci/run`'s cleanup (`qiping_t_%`).
#[cfg(target_os = "linux")]
fn register_template_drop() {
    extern "C" fn drop_template() {
        if let Some(admin_url) = std::env::var("QIPING_TEST_PG_URL").ok()
            && let Some(name) = PG_TEMPLATE.get()
        {
            drop_pg_database(&admin_url, name);
        }
    }
    // SAFETY: registers a plain function, called once at exit.
    unsafe {
        libc::atexit(drop_template);
    }
}

#[cfg(not(target_os = "linux"))]
fn register_template_drop() {}

impl TestDb {
    /// An SQLite file in a temporary folder, migrated (a copy of the template).
    pub fn sqlite() -> TestDb {
        let db = TestDb::empty_sqlite();
        let path = db.url.trim_start_matches("sqlite://");
        std::fs::write(path, sqlite_template()).expect("copy the template");
        TestDb {
            migrated: true,
            ..db
        }
    }

    /// A new, empty SQLite file (nothing migrated), for the tests of the migrations.
    pub fn empty_sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("qiping.db").display());
        TestDb {
            url,
            backend: "sqlite",
            migrated: false,
            _dir: Some(dir),
            pg: None,
        }
    }

    /// A PostgreSQL database of its own, migrated (created from the template); or `None` (and
    /// a line saying the test was skipped) when `QIPING_TEST_PG_URL` is unset or
    /// `QIPING_TEST_BACKENDS` leaves PostgreSQL out. Under CI (`CI` set) the variable is required.
    pub fn postgres() -> Option<TestDb> {
        TestDb::new_postgres(true)
    }

    /// The same, empty (nothing migrated), for the tests of the migrations.
    pub fn empty_postgres() -> Option<TestDb> {
        TestDb::new_postgres(false)
    }

    fn new_postgres(migrated: bool) -> Option<TestDb> {
        if !backend_enabled("postgres") {
            eprintln!("SKIPPED on PostgreSQL: QIPING_TEST_BACKENDS leaves it out");
            return None;
        }
        let Ok(admin_url) = std::env::var("QIPING_TEST_PG_URL") else {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI runs every test on PostgreSQL: set QIPING_TEST_PG_URL"
            );
            eprintln!("SKIPPED on PostgreSQL: QIPING_TEST_PG_URL is not set");
            return None;
        };
        let template = if migrated {
            let name = pg_template(&admin_url);
            format!(" TEMPLATE \"{name}\"")
        } else {
            String::new()
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
            .batch_execute(&format!("CREATE DATABASE \"{name}\"{template}"))
            .expect("create test database");
        let url = replace_database(&admin_url, &name);
        Some(TestDb {
            url,
            backend: "postgres",
            migrated,
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
        if !self.migrated {
            qiping::db::migrate(&mut conn).expect("migrate");
        }
        conn
    }
}

/// Runs `test` on SQLite, then on PostgreSQL when it is configured (each on a migrated database;
/// `QIPING_TEST_BACKENDS` may leave one out).
pub fn on_each_backend(test: impl Fn(&TestDb)) {
    if backend_enabled("sqlite") {
        test(&TestDb::sqlite());
    }
    if let Some(db) = TestDb::postgres() {
        test(&db);
    }
}

/// A migrated database on each backend this run tests, made one at a time as the loop asks
/// (for the tests that `await` between backends).
pub fn each_backend() -> impl Iterator<Item = TestDb> {
    let sqlite = std::iter::once_with(|| backend_enabled("sqlite").then(TestDb::sqlite));
    let postgres = std::iter::once_with(TestDb::postgres);
    sqlite.chain(postgres).flatten()
}

/// The same on empty databases (nothing migrated): for the tests of the migrations.
pub fn on_each_empty_backend(test: impl Fn(&TestDb)) {
    if backend_enabled("sqlite") {
        test(&TestDb::empty_sqlite());
    }
    if let Some(db) = TestDb::empty_postgres() {
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

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// The one number a `SELECT count(*) AS n …` answers.
pub fn count(conn: &mut Conn, sql: &str) -> i64 {
    qiping::on_backend!(conn, |c| diesel::sql_query(sql).get_result::<Count>(c))
        .unwrap()
        .n
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

/// Runs the `qiping` binary in `dir` on `database_url`, with the tests' link secret, warnings
/// only and no terminal (so an irreversible command asks for `--yes`); what it printed and how it
/// ended, whether it succeeded or not.
pub fn qiping_cli(
    dir: &std::path::Path,
    database_url: &str,
    args: &[&str],
) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_qiping"))
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env("QIPING_DATABASE_URL", database_url)
        .env("QIPING_LINK_SECRET", crate::survey_support::server::SECRET)
        .env("QIPING_LOG", "warn")
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run qiping")
}

pub mod accounts;

pub mod keys;

pub mod smtp;

pub mod mailing;

pub mod nasty;

pub mod scenario;
