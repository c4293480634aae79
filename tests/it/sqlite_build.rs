//! The bundled SQLite is built the way `.cargo/config.toml` asks.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use diesel::prelude::*;
use diesel::sql_types::Text;

#[derive(QueryableByName)]
struct CompileOption {
    #[diesel(sql_type = Text)]
    compile_options: String,
}

fn compile_options() -> Vec<String> {
    let mut conn = SqliteConnection::establish(":memory:").unwrap();
    diesel::sql_query("PRAGMA compile_options")
        .load::<CompileOption>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|o| o.compile_options)
        .collect()
}

/// Asserts `PRAGMA compile_options` lists `option` (`wanted`) or does not.
fn assert_option(option: &str, wanted: bool) {
    let options = compile_options();
    assert_eq!(
        options.iter().any(|o| o == option),
        wanted,
        "SQLite built {} SQLITE_{option} (is LIBSQLITE3_FLAGS in .cargo/config.toml \
         overridden?): {options:?}",
        if wanted { "without" } else { "with" }
    );
}

fn assert_built_with(option: &str) {
    assert_option(option, true);
}

/// With the query planner stability guarantee off, every statement with a bound `LIMIT` (each
/// diesel `.first()`) is parsed again whenever a value is bound; the survey's request path spent a
/// third of its time there.
#[test]
fn sqlite_is_built_with_the_query_planner_stability_guarantee() {
    assert_built_with("ENABLE_QPSG");
}

/// With memory statistics on, every SQLite allocation in every thread takes one process-wide
/// mutex, and the response writer queues on it behind the request handlers.
#[test]
fn sqlite_keeps_no_memory_statistics() {
    assert_built_with("DEFAULT_MEMSTATUS=0");
}

/// Multi-thread mode: connections lock no mutex of their own (each is used by one thread at a
/// time), and the mode is really in force for the library this binary links.
#[test]
fn sqlite_runs_in_multi_thread_mode() {
    assert_built_with("THREADSAFE=2");
    assert_eq!(unsafe { libsqlite3_sys::sqlite3_threadsafe() }, 2);
}

/// With memory management on, every connection of the process shares one page cache behind one
/// mutex, taken for every page any of them fetches.
#[test]
fn sqlite_gives_each_connection_its_own_page_cache() {
    assert_option("ENABLE_MEMORY_MANAGEMENT", false);
}

/// No shared-cache mode, so no shared-cache lock checks on every B-tree access.
#[test]
fn sqlite_is_built_without_shared_cache() {
    assert_built_with("OMIT_SHARED_CACHE");
}
