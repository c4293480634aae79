//! Upgrading an installation made by the release before the anonymity issues
//! (`tests/fixtures/upgrade/`: two published campaigns and one open with 150 answers, an SQLite
//! file and a pg_dump). `qiping migrate` gives every stored rating its campaign and strata from its
//! response (issue 37) without changing a published figure, and the open campaign then closes,
//! aggregates and publishes with the current method.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use crate::common;
use crate::common::count;

use std::io::Read;

use common::TestDb;
use diesel::prelude::*;
use qiping::db::{Conn, DatabaseUrl};
use qiping::domain::Period;
use qiping::service::Actor;
use qiping::service::{aggregate, publication};
use qiping::stats::Settings;

fn gunzip(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/upgrade/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&path).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// The fixture loaded into `db` as the old release left it (no migration of this release run).
fn restore(db: &TestDb) -> Conn {
    match db.backend {
        "sqlite" => {
            let path = db.url.trim_start_matches("sqlite://");
            std::fs::write(path, gunzip("sqlite.db.gz")).unwrap();
        }
        _ => {
            let mut psql = std::process::Command::new("psql")
                .args([db.url.as_str(), "-q", "-v", "ON_ERROR_STOP=1", "-f", "-"])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("psql (PostgreSQL's client) loads the dump");
            {
                use std::io::Write;
                let mut stdin = psql.stdin.take().unwrap();
                stdin.write_all(&gunzip("postgres.sql.gz")).unwrap();
            }
            assert!(psql.wait().unwrap().success(), "the dump loads");
        }
    }
    DatabaseUrl::parse(&db.url).unwrap().connect().unwrap()
}

fn publications(conn: &mut Conn) -> Vec<(i64, String)> {
    use qiping::db::schema::publications;
    publications::table
        .order(publications::id)
        .select((publications::id, publications::results_json))
        .load(conn)
        .unwrap()
}

fn upgrade(db: &TestDb) {
    let tag = db.backend;
    let mut conn = restore(db);
    let ratings = count(&mut conn, "SELECT count(*) AS n FROM ratings");
    let published = publications(&mut conn);
    assert_eq!(published.len(), 2, "[{tag}] the fixture's two publications");
    assert!(ratings > 3_000, "[{tag}] {ratings} ratings");

    let applied = qiping::db::migrate(&mut conn).unwrap();
    // The release's own migration, 000007_ratings_campaign: the fixture had 1–6.
    assert!(
        applied.first().is_some_and(|m| m == "20261207000007"),
        "[{tag}] {applied:?}"
    );
    assert_eq!(
        count(&mut conn, "SELECT count(*) AS n FROM ratings"),
        ratings,
        "[{tag}] every rating kept"
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS n FROM ratings g JOIN responses r ON r.id = g.response_id
              WHERE g.campaign_id = r.campaign_id AND g.size = r.size
                AND g.industry = r.industry AND g.district = r.district"
        ),
        ratings,
        "[{tag}] each rating carries its response's campaign and strata"
    );
    assert_eq!(
        publications(&mut conn),
        published,
        "[{tag}] published results are frozen: byte for byte"
    );
    // 000008: each invitation opened before counts as one view on the day it was first opened
    // (the fixture's three campaigns: 336, 343 and 150 opened, all on 2026-12-07, Beijing time),
    // and nothing per invitation is left.
    for (period, opened) in [("2025H2", 336), ("2026H1", 343), ("2026H2", 150)] {
        let shown = qiping::service::campaign::show(&mut conn, &period.parse().unwrap()).unwrap();
        assert_eq!(shown.opened, opened, "[{tag}] {period}");
        let days: Vec<(String, i64)> = shown
            .views_by_day
            .iter()
            .map(|d| (d.day.to_string(), d.views))
            .collect();
        assert_eq!(
            days,
            [("2026-12-07".to_owned(), opened)],
            "[{tag}] {period}"
        );
    }
    assert!(
        diesel::sql_query("SELECT opened_at FROM invitations")
            .execute(&mut conn)
            .is_err(),
        "[{tag}] opened_at is gone"
    );

    // The open campaign goes on under the new method; the old publications stay readable.
    let settings = Settings {
        draws: 500,
        ..Settings::default()
    };
    let open: Period = "2026H2".parse().unwrap();
    crate::common::keys::close(&mut conn, &open).unwrap();
    let report =
        aggregate::aggregate(&mut conn, &Actor::cli(), &open, &settings, false, Some(1)).unwrap();
    assert!(report.ratings > 500, "[{tag}] {} ratings", report.ratings);
    publication::publish(&mut conn, &Actor::cli(), &open, None, &settings).unwrap();
    let new = publication::public_results(&mut conn, &open, None).unwrap();
    assert_eq!(new.method_version, qiping::stats::METHOD_VERSION);
    let old = publication::public_results(&mut conn, &"2026H1".parse().unwrap(), None).unwrap();
    assert_eq!(old.method_version, qiping::stats::METHOD_VERSION_1);
}

#[test]
fn an_installation_of_the_previous_release_upgrades_without_changing_a_published_figure() {
    // The fixture is restored into an empty database, then migrated.
    if common::backend_enabled("sqlite") {
        upgrade(&TestDb::empty_sqlite());
    }
    if let Some(db) = TestDb::empty_postgres() {
        upgrade(&db);
    }
}

/// An earlier release let an office open two campaigns at once; the new one allows one. The
/// upgrade then stops before it changes anything and says which campaigns and what to do.
fn two_open_campaigns_stop_the_upgrade(db: &TestDb) {
    let tag = db.backend;
    let mut conn = restore(db);
    diesel::sql_query("UPDATE campaigns SET state = 'open' WHERE period = '2025H2'")
        .execute(&mut conn)
        .unwrap();
    let ratings = count(&mut conn, "SELECT count(*) AS n FROM ratings");
    let err = qiping::db::migrate(&mut conn).unwrap_err().to_string();
    assert!(
        err.contains("2025H2") && err.contains("2026H2") && err.contains("campaign close"),
        "[{tag}] {err}"
    );
    // Nothing ran: the release's own migrations are all still pending.
    assert_eq!(
        count(&mut conn, "SELECT count(*) AS n FROM ratings"),
        ratings
    );
    assert!(
        diesel::sql_query("SELECT campaign_id FROM ratings")
            .execute(&mut conn)
            .is_err(),
        "[{tag}] 000007 did not run"
    );
    // Closing one lets it through.
    diesel::sql_query("UPDATE campaigns SET state = 'closed' WHERE period = '2025H2'")
        .execute(&mut conn)
        .unwrap();
    qiping::db::migrate(&mut conn).unwrap();
}

#[test]
fn two_open_campaigns_stop_the_upgrade_before_it_changes_anything() {
    if common::backend_enabled("sqlite") {
        two_open_campaigns_stop_the_upgrade(&TestDb::empty_sqlite());
    }
    if let Some(db) = TestDb::empty_postgres() {
        two_open_campaigns_stop_the_upgrade(&db);
    }
}
