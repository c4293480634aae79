//! Upgrading an installation made by the release before the anonymity issues
//! (`tests/fixtures/upgrade/`: two published campaigns and one open with 150 answers, an SQLite
//! file and a pg_dump). The SQL migrations give every stored rating its campaign and strata from
//! its response (issue 37) without changing a published figure; the upgrade step of `qiping
//! migrate` (issue 39) then unlinks the ratings of the published campaigns from their responses
//! and seals the open campaign's answers under a new ballot key, and the open campaign closes,
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

    upgrade_step(
        &mut conn,
        tag,
        (tag == "sqlite").then(|| db.url.trim_start_matches("sqlite://")),
    );
    assert_eq!(
        publications(&mut conn),
        published,
        "[{tag}] published results are frozen through the upgrade step: byte for byte"
    );

    // The open campaign goes on under the new method; the old publications stay readable.
    let settings = Settings {
        draws: 500,
        ..Settings::default()
    };
    let open: Period = "2026H2".parse().unwrap();
    let report =
        aggregate::aggregate(&mut conn, &Actor::cli(), &open, &settings, false, Some(1)).unwrap();
    assert!(report.ratings > 500, "[{tag}] {} ratings", report.ratings);
    publication::publish(&mut conn, &Actor::cli(), &open, None, &settings).unwrap();
    let new = publication::public_results(&mut conn, &open, None).unwrap();
    assert_eq!(new.method_version, qiping::stats::METHOD_VERSION);
    let old = publication::public_results(&mut conn, &"2026H1".parse().unwrap(), None).unwrap();
    assert_eq!(old.method_version, qiping::stats::METHOD_VERSION_1);
}

#[derive(diesel::QueryableByName)]
struct RespondentKey {
    #[diesel(sql_type = diesel::sql_types::Text)]
    respondent_key: String,
}

/// A stored rating as a user of the results sees it (no id, no response): what must survive the
/// unlinking unchanged, as a sorted list.
/// A rating's content: what the upgrade keeps (its strata it drops: issue 39).
type Entry = (
    i64,
    i64,
    bool,
    String,
    String,
    Option<String>,
    Option<String>,
);

fn entries(conn: &mut Conn, campaign_id: i64) -> Vec<Entry> {
    use qiping::db::schema::ratings as r;
    let mut all: Vec<Entry> = r::table
        .filter(r::campaign_id.eq(campaign_id))
        .select((
            r::campaign_id,
            r::unit_id,
            r::self_selected,
            r::answers,
            r::problems,
            r::comment,
            r::comment_hidden_reason,
        ))
        .load(conn)
        .unwrap();
    all.sort();
    all
}

fn rating_ids(conn: &mut Conn) -> std::collections::HashSet<i64> {
    use qiping::db::schema::ratings as r;
    r::table
        .select(r::id)
        .load::<i64>(conn)
        .unwrap()
        .into_iter()
        .collect()
}

/// The upgrade step on the migrated fixture: refused without a key path, then run.
/// `file`: the SQLite database's path, searched afterwards for what was deleted.
fn upgrade_step(conn: &mut Conn, tag: &str, file: Option<&str>) {
    use qiping::db::schema::{campaigns, invitations};
    use qiping::service::upgrade;
    let ids: Vec<(String, i64)> = campaigns::table
        .order(campaigns::id)
        .select((campaigns::period, campaigns::id))
        .load(conn)
        .unwrap();
    let id_of = |p: &str| ids.iter().find(|(q, _)| q == p).unwrap().1;
    let open_id = id_of("2026H2");
    let why = upgrade::pending(conn)
        .unwrap()
        .expect("pending after the SQL migrations");
    assert!(
        why.contains("2026H2")
            && why.contains("--ballot-key-out")
            && why.contains("qiping migrate"),
        "[{tag}] {why}"
    );
    let before_ids = rating_ids(conn);
    let closed: Vec<(i64, Vec<Entry>)> = ["2025H2", "2026H1"]
        .iter()
        .map(|p| (id_of(p), entries(conn, id_of(p))))
        .collect();
    let open_before = entries(conn, open_id);
    let answered_before: Vec<i64> = invitations::table
        .filter(invitations::campaign_id.eq(open_id))
        .filter(invitations::answered.eq(true))
        .order(invitations::id)
        .select(invitations::id)
        .load(conn)
        .unwrap();
    assert_eq!(answered_before.len(), 150, "[{tag}]");

    let respondent_keys: Vec<String> = diesel::sql_query("SELECT respondent_key FROM responses")
        .load::<RespondentKey>(conn)
        .unwrap()
        .into_iter()
        .map(|r| r.respondent_key)
        .collect();
    assert_eq!(respondent_keys.len(), 829, "[{tag}]");

    // Without a place for the open campaign's key: refused, nothing changed.
    let err = upgrade::run(
        conn,
        &Actor::cli(),
        Some(&crate::common::scenario::secret()),
        None,
        &upgrade::UpgradeOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("--ballot-key-out") && err.contains("2026H2"),
        "[{tag}] {err}"
    );
    assert_eq!(rating_ids(conn), before_ids, "[{tag}] nothing changed");
    assert_eq!(
        count(conn, "SELECT count(*) AS n FROM responses"),
        150 + 336 + 343
    );

    // Another process running it (holding the lease `upgrade`): refused, nothing changed.
    let at = qiping::db::now();
    assert!(
        qiping::db::leases::acquire(
            conn,
            "upgrade",
            "other",
            at,
            at + chrono::Duration::hours(1)
        )
        .unwrap()
    );
    let err = crate::common::keys::upgrade(conn).unwrap_err().to_string();
    assert!(err.contains("另一个进程正在执行升级"), "[{tag}] {err}");
    assert_eq!(rating_ids(conn), before_ids, "[{tag}] nothing changed");
    qiping::db::leases::release(conn, "upgrade", "other").unwrap();

    let report = crate::common::keys::upgrade(conn).unwrap();
    let unlinked: Vec<(String, usize)> = report
        .unlinked
        .iter()
        .map(|(p, n, _)| (p.clone(), *n))
        .collect();
    assert_eq!(
        unlinked,
        closed
            .iter()
            .zip(["2025H2", "2026H1"])
            .map(|((_, e), p)| (p.to_owned(), e.len()))
            .collect::<Vec<_>>(),
        "[{tag}]"
    );
    let (period, sealed, _) = report.sealed.clone().unwrap();
    assert_eq!((period.as_str(), sealed), ("2026H2", 150), "[{tag}]");
    assert!(report.scrubbed, "[{tag}]");
    assert_eq!(upgrade::pending(conn).unwrap(), None, "[{tag}]");

    // No response, no rating naming one, no old id; every published rating as it was.
    assert_eq!(
        count(conn, "SELECT count(*) AS n FROM responses"),
        0,
        "[{tag}]"
    );
    assert_eq!(
        count(
            conn,
            "SELECT count(*) AS n FROM ratings WHERE response_id IS NOT NULL"
        ),
        0,
        "[{tag}]"
    );
    assert!(
        rating_ids(conn).is_disjoint(&before_ids),
        "[{tag}] every id new"
    );
    // Nor in the file: the deleted responses were overwritten and the WAL truncated.
    if let Some(path) = file {
        let mut bytes = std::fs::read(path).unwrap();
        bytes.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
        let lengths: std::collections::BTreeSet<usize> =
            respondent_keys.iter().map(String::len).collect();
        let wanted: std::collections::HashSet<&[u8]> =
            respondent_keys.iter().map(|k| k.as_bytes()).collect();
        let found = lengths
            .iter()
            .map(|&n| bytes.windows(n).filter(|w| wanted.contains(w)).count())
            .sum::<usize>();
        assert_eq!(
            found, 0,
            "[{tag}] respondent keys left in the database file or its WAL"
        );
    }
    for (id, before) in &closed {
        assert_eq!(
            &entries(conn, *id),
            before,
            "[{tag}] campaign {id}'s ratings unchanged"
        );
    }
    // No rating keeps its enterprise's strata; these campaigns are unweighted: no weight either.
    assert_eq!(
        count(
            conn,
            "SELECT count(*) AS n FROM ratings WHERE size <> '' OR industry <> '' OR district <> '' \
             OR weight IS NOT NULL"
        ),
        0,
        "[{tag}]"
    );
    // The open campaign's answers are sealed ballots now: none in the clear, its answered
    // invitations exactly those a ballot's spent key names, none marked.
    assert!(entries(conn, open_id).is_empty(), "[{tag}]");
    assert_eq!(crate::common::keys::ballots(conn), 150, "[{tag}]");
    let marks: Vec<(i64, bool)> = invitations::table
        .filter(invitations::campaign_id.eq(open_id))
        .select((invitations::id, invitations::answered))
        .load(conn)
        .unwrap();
    assert!(marks.iter().all(|(_, m)| !m), "[{tag}] no flag while open");
    let spent = crate::common::scenario::secret().spent_keys();
    let mut answered: Vec<i64> =
        qiping::service::ballots::answered(conn, Some(&spent), open_id, &marks)
            .unwrap()
            .into_iter()
            .collect();
    answered.sort_unstable();
    assert_eq!(
        answered, answered_before,
        "[{tag}] the same enterprises have answered"
    );
    // A second run finds nothing to do.
    assert_eq!(
        crate::common::keys::upgrade(conn).unwrap().unlinked,
        Vec::new(),
        "[{tag}]"
    );

    // The close opens them with the key the upgrade handed over: the same answers, less what the
    // close never stores (entries that say nothing, units under five entries).
    let close = crate::common::keys::close(conn, &"2026H2".parse().unwrap()).unwrap();
    assert_eq!(close.ballots, 150, "[{tag}]");
    let withheld: Vec<i64> = qiping::db::answers::withheld(conn, open_id)
        .unwrap()
        .into_iter()
        .map(|(unit, _)| unit)
        .collect();
    let says_nothing = |e: &Entry| {
        let levels: std::collections::BTreeMap<String, Option<u8>> =
            serde_json::from_str(&e.3).unwrap();
        levels.values().all(Option::is_none)
            && e.4 == "[]"
            && e.5.as_deref().is_none_or(str::is_empty)
    };
    let strip = |e: &Entry| (e.1, e.2, e.3.clone(), e.4.clone(), e.5.clone());
    let mut expected: Vec<_> = open_before
        .iter()
        .filter(|e| !says_nothing(e) && !withheld.contains(&e.1))
        .filter(|e| close.dropped_added == 0 || !e.2)
        .map(strip)
        .collect();
    expected.sort();
    let mut after: Vec<_> = entries(conn, open_id).iter().map(strip).collect();
    after.sort();
    assert_eq!(
        after, expected,
        "[{tag}] the answers stored before the upgrade, opened at close"
    );
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

/// The operator's way through the upgrade, on the command line: until `qiping migrate` has run
/// its step, other commands and `serve` refuse and say what to run; `migrate` without a key path
/// refuses while a campaign is open; with one it writes the key file (mode 0600) that then closes
/// the campaign.
fn upgrade_on_the_command_line(db: &TestDb) {
    let tag = db.backend;
    drop(restore(db));
    let dir = tempfile::tempdir().unwrap();
    let qiping = |args: &[&str]| common::qiping_cli(dir.path(), &db.url, args);
    let stderr = |out: &std::process::Output| String::from_utf8_lossy(&out.stderr).into_owned();
    let refused = qiping(&["migrate"]);
    assert!(!refused.status.success(), "[{tag}]");
    let said = stderr(&refused);
    assert!(
        said.contains("--ballot-key-out") && said.contains("2026H2"),
        "[{tag}] {said}"
    );
    for args in [
        &["campaign", "show", "2026H2"][..],
        &["serve", "--bind", "127.0.0.1:0"][..],
    ] {
        let out = qiping(args);
        assert!(!out.status.success(), "[{tag}] {args:?}");
        assert!(
            stderr(&out).contains("qiping migrate"),
            "[{tag}] {args:?}: {}",
            stderr(&out)
        );
    }
    let key = dir.path().join("2026H2.key");
    let out = qiping(&["migrate", "--ballot-key-out", key.to_str().unwrap()]);
    assert!(out.status.success(), "[{tag}] {}", stderr(&out));
    assert!(
        stderr(&out).contains("150 份答卷已密封"),
        "[{tag}] {}",
        stderr(&out)
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&key).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "[{tag}]");
    let out = qiping(&["campaign", "show", "2026H2"]);
    assert!(out.status.success(), "[{tag}] {}", stderr(&out));
    let out = qiping(&[
        "campaign",
        "close",
        "2026H2",
        "--ballot-key",
        key.to_str().unwrap(),
        "--yes",
    ]);
    assert!(out.status.success(), "[{tag}] {}", stderr(&out));
    let mut conn = DatabaseUrl::parse(&db.url).unwrap().connect().unwrap();
    assert!(
        count(
            &mut conn,
            "SELECT count(*) AS n FROM ratings WHERE campaign_id = 3"
        ) > 500
    );
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM ballots"), 0);
    assert!(
        !key.exists(),
        "[{tag}] the close destroys the key file it read"
    );

    // Publishing without a terminal and without --yes: it says what it would do and stops
    // (issue 43); with --yes it publishes.
    let out = qiping(&["campaign", "aggregate", "2026H2"]);
    assert!(out.status.success(), "[{tag}] {}", stderr(&out));
    let refused = qiping(&["campaign", "publish", "2026H2"]);
    assert!(!refused.status.success(), "[{tag}] published without a yes");
    let said = stderr(&refused);
    assert!(
        said.contains("将公布第 1 版") && said.contains("个单位参加排名") && said.contains("--yes"),
        "[{tag}] {said}"
    );
    assert_eq!(
        publications(&mut conn).len(),
        2,
        "[{tag}] nothing published"
    );
    let out = qiping(&["campaign", "publish", "2026H2", "--yes"]);
    assert!(out.status.success(), "[{tag}] {}", stderr(&out));
    assert_eq!(publications(&mut conn).len(), 3, "[{tag}]");
}

#[test]
fn the_command_line_refuses_until_migrate_has_run_the_upgrade_step() {
    if common::backend_enabled("sqlite") {
        upgrade_on_the_command_line(&TestDb::empty_sqlite());
    }
    if let Some(db) = TestDb::empty_postgres() {
        upgrade_on_the_command_line(&db);
    }
}

/// A weighted campaign closed by the release before weights (issue 39) has its enterprises'
/// strata on every rating. `migrate` turns them into weights — each value shared by at least five
/// raters of its unit — and empties the strata; until then every command refuses.
fn strata_become_weights(db: &TestDb) {
    use qiping::db::schema::{invitations, ratings};
    use qiping::service::upgrade;
    let tag = db.backend;
    let mut conn = db.conn();
    let conn = &mut conn;
    let tokens = common::scenario::open_survey_campaign_as(conn, 12, true);
    let cache = qiping::service::survey::SurveyContext::new(&common::scenario::secret());
    for token in &tokens[..10] {
        let submission = common::scenario::complete(&crate::survey_support::asked_codes());
        qiping::service::response::submit(conn, &cache, token, &submission).unwrap();
    }
    let period: Period = crate::survey_support::PERIOD.parse().unwrap();
    common::keys::close(conn, &period).unwrap();
    // As that release left it: strata on each rating (the answering enterprises', round robin),
    // no weight.
    let strata: Vec<(String, String, String)> = invitations::table
        .inner_join(qiping::db::schema::enterprises::table)
        .filter(invitations::answered.eq(true))
        .order(invitations::id)
        .select((
            qiping::db::schema::enterprises::size,
            qiping::db::schema::enterprises::industry,
            qiping::db::schema::enterprises::district,
        ))
        .load(conn)
        .unwrap();
    let ids: Vec<i64> = ratings::table
        .order(ratings::id)
        .select(ratings::id)
        .load(conn)
        .unwrap();
    for (k, id) in ids.iter().enumerate() {
        let (s, i, d) = &strata[k % strata.len()];
        diesel::update(ratings::table.find(id))
            .set((
                ratings::size.eq(s),
                ratings::industry.eq(i),
                ratings::district.eq(d),
                ratings::weight.eq(None::<f64>),
            ))
            .execute(conn)
            .unwrap();
    }
    let why = upgrade::pending(conn).unwrap().unwrap();
    assert!(why.contains("规模、行业、区县"), "[{tag}] {why}");
    let report = upgrade::run(
        conn,
        &Actor::cli(),
        None,
        None,
        &upgrade::UpgradeOptions::default(),
    )
    .unwrap();
    assert_eq!(report.weighed, ids.len(), "[{tag}]");
    assert_eq!(upgrade::pending(conn).unwrap(), None, "[{tag}]");
    let stored: Vec<(i64, String, Option<f64>)> = ratings::table
        .select((ratings::unit_id, ratings::size, ratings::weight))
        .load(conn)
        .unwrap();
    assert!(
        stored.iter().all(|r| r.1.is_empty()),
        "[{tag}] strata emptied"
    );
    let mut shared: std::collections::BTreeMap<(i64, u64), usize> = Default::default();
    for (unit, _, weight) in &stored {
        let w =
            weight.unwrap_or_else(|| panic!("[{tag}] a weighted campaign's rating has a weight"));
        *shared.entry((*unit, w.to_bits())).or_default() += 1;
    }
    assert!(
        shared.values().all(|&n| n >= 5),
        "[{tag}] every weight shared by five raters of its unit: {shared:?}"
    );
    // And the campaign aggregates with those weights.
    aggregate::aggregate(
        conn,
        &Actor::cli(),
        &period,
        &Settings {
            draws: 100,
            ..Settings::default()
        },
        false,
        Some(1),
    )
    .unwrap();
    let result: String = qiping::db::schema::aggregations::table
        .select(qiping::db::schema::aggregations::result_json)
        .first(conn)
        .unwrap();
    let result: serde_json::Value = serde_json::from_str(&result).unwrap();
    assert!(
        result["weighting"]["converged"].is_boolean(),
        "[{tag}] the raking report reaches the results: {}",
        result["weighting"]
    );
}

#[test]
fn ratings_closed_with_their_strata_get_weights_shared_by_five() {
    common::on_each_backend(strata_become_weights);
}
