//! The bundled SQLite is built the way `.cargo/config.toml` asks.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use diesel::prelude::*;
use diesel::sql_types::Text;

#[derive(QueryableByName)]
struct CompileOption {
    #[diesel(sql_type = Text)]
    compile_options: String,
}

/// With the query planner stability guarantee off, every statement with a bound `LIMIT` (each
/// diesel `.first()`) is parsed again whenever a value is bound; the survey's request path spent a
/// third of its time there.
#[test]
fn sqlite_is_built_with_the_query_planner_stability_guarantee() {
    let mut conn = SqliteConnection::establish(":memory:").unwrap();
    let options: Vec<String> = diesel::sql_query("PRAGMA compile_options")
        .load::<CompileOption>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|o| o.compile_options)
        .collect();
    assert!(
        options.iter().any(|o| o == "ENABLE_QPSG"),
        "SQLite built without SQLITE_ENABLE_QPSG (is LIBSQLITE3_FLAGS in .cargo/config.toml \
         overridden?): {options:?}"
    );
}
