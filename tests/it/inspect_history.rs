//! Issue 7, the inspectors' queries, on both backends: three consecutive campaigns with known
//! answers (the generator of `tests/it/publication.rs`, with fractional levels so that one flag is
//! uncertain). Between the first two, department D10 is renamed D10N (lineage) and D12's head
//! changes on 2019-09-01; the third campaign is corrected once (`--supersede`). The inspectors'
//! flags by peer group and credibility, a unit's history against the stored results, a person's
//! history, the pages, the API, the CLI and the audit rows of every read are checked.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use crate::common;
use crate::common::accounts;

use qiping::service::Actor;
use std::collections::BTreeMap;

use common::scenario::{city_levels, city_registry, city_settings, city_units_csv, run_campaign};
use common::{TestDb, no_progress};
use diesel::prelude::*;
use qiping::config::Config;
use qiping::db::Conn;
use qiping::db::schema::{unit_results, units};
use qiping::domain::{Period, Role, Secret};
use qiping::service::history::{self, CampaignFigures};
use qiping::service::oversight::{self, Channel, FlagFilter};
use qiping::service::{aggregate, audit, import, publication};

/// After the rename: D10 is gone, D10N is rated instead.
fn renamed(mut map: BTreeMap<&'static str, f64>) -> BTreeMap<&'static str, f64> {
    let d10 = map.remove("D10").unwrap();
    map.insert("D10N", d10);
    map
}

/// The three campaigns, published; 2020H1 corrected once. Returns the reports folder.
fn three_campaigns(conn: &mut Conn) -> tempfile::TempDir {
    let reports = tempfile::tempdir().unwrap();
    city_registry(conn, true);
    let offices = [5.0, 5.0, 5.0, 5.0, 5.0, 2.0, 2.0, 2.0, 1.0, 1.0];
    let h1 = city_levels(
        [5.0, 5.0, 5.0, 5.0, 5.0, 4.0, 4.0, 2.0, 2.0, 2.0, 1.0, 1.0],
        Some(offices),
        &[],
    );
    let p1 = run_campaign(conn, "2019H1", &h1, &[]);
    publication::publish_and_write(
        conn,
        &Actor::cli(),
        &p1,
        None,
        &city_settings(),
        reports.path(),
    )
    .unwrap();

    import::import_units(
        conn,
        &Actor::cli(),
        city_units_csv(
            true,
            "D10N,第十局(新),department,,部门,赵新,2019-07-01,D10\n",
            "李红梅,2019-09-01",
        )
        .as_bytes(),
        &mut no_progress(),
    )
    .unwrap();
    // 2019H2: O06 is barely below O05 on average but its raters disagree widely, so its second
    // time in the bottom five is uncertain.
    let h2 = renamed(city_levels(
        [5.0, 5.0, 5.0, 5.0, 5.0, 4.0, 1.0, 5.0, 2.0, 2.0, 1.0, 1.0],
        Some([5.0, 5.0, 5.0, 5.0, 3.05, 3.0, 2.0, 2.0, 1.0, 1.0]),
        &[],
    ));
    let p2 = run_campaign(conn, "2019H2", &h2, &["O06"]);
    publication::publish_and_write(
        conn,
        &Actor::cli(),
        &p2,
        None,
        &city_settings(),
        reports.path(),
    )
    .unwrap();

    // 2020H1: the departments stay low; the offices' order turns round, so none is flagged.
    let h3 = renamed(city_levels(
        [5.0, 5.0, 5.0, 5.0, 5.0, 4.0, 1.0, 5.0, 2.0, 2.0, 1.0, 1.0],
        Some([1.0, 1.0, 2.0, 2.0, 2.0, 5.0, 5.0, 5.0, 5.0, 5.0]),
        &[],
    ));
    let p3 = run_campaign(conn, "2020H1", &h3, &[]);
    publication::publish_and_write(
        conn,
        &Actor::cli(),
        &p3,
        None,
        &city_settings(),
        reports.path(),
    )
    .unwrap();
    aggregate::aggregate(conn, &Actor::cli(), &p3, &city_settings(), false, Some(7)).unwrap();
    publication::publish_and_write(
        conn,
        &Actor::cli(),
        &p3,
        Some("更正:重新计算"),
        &city_settings(),
        reports.path(),
    )
    .unwrap();
    reports
}

/// The stored row of `code` in the aggregation behind `period`'s current publication.
fn stored(
    conn: &mut Conn,
    period: &str,
    code: &str,
) -> (qiping::db::results::UnitResultFields, i32) {
    let publication = publication::publication(conn, &period.parse().unwrap(), None).unwrap();
    let row = unit_results::table
        .inner_join(units::table)
        .filter(unit_results::aggregation_id.eq(publication.aggregation_id))
        .filter(units::code.eq(code))
        .select(qiping::db::results::UnitResultFields::as_select())
        .first(conn)
        .unwrap();
    (row, publication.version)
}

/// The history's figures are the publication's frozen `results.json` exactly, and the stored
/// `unit_results` row of the aggregation behind it (to the last few ulps: the frozen JSON was
/// parsed back from the aggregation's JSON, and serde_json's default float parsing may round the
/// last bit differently).
fn assert_matches_stored(conn: &mut Conn, c: &CampaignFigures, backend: &str) {
    let what = format!("[{backend}] {} {}", c.period, c.unit_code);
    let frozen = publication::public_results(conn, &c.period.parse().unwrap(), None).unwrap();
    let unit = frozen
        .peer_groups
        .iter()
        .flat_map(|g| g.units.iter())
        .find(|u| u.code == c.unit_code)
        .unwrap();
    assert_eq!(c.version, frozen.version, "{what}: current version");
    assert_eq!(
        (
            c.n,
            c.score,
            c.ci_low,
            c.ci_high,
            c.rank,
            c.rank_low,
            c.rank_high
        ),
        (
            unit.n,
            unit.score,
            unit.ci_low,
            unit.ci_high,
            unit.rank,
            unit.rank_low,
            unit.rank_high
        ),
        "{what}"
    );
    assert_eq!(
        (c.p_bottom5, c.response_rate),
        (unit.p_bottom5, unit.response_rate)
    );

    let (row, version) = stored(conn, &c.period, &c.unit_code);
    assert_eq!(c.version, version, "{what}: current version");
    assert_eq!(c.n as i64, row.n, "{what}");
    let close = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * a.abs().max(1.0),
        (a, b) => a == b,
    };
    for (name, ours, theirs) in [
        ("score", c.score, row.score),
        ("ci_low", c.ci_low, row.ci_low),
        ("ci_high", c.ci_high, row.ci_high),
        ("p_bottom5", c.p_bottom5, row.p_bottom5),
        ("response_rate", c.response_rate, row.response_rate),
    ] {
        assert!(close(ours, theirs), "{what} {name}: {ours:?} vs {theirs:?}");
    }
    assert_eq!(c.rank.map(i64::from), row.rank, "{what}");
    assert_eq!(
        (c.rank_low.map(i64::from), c.rank_high.map(i64::from)),
        (row.rank_low, row.rank_high),
        "{what}"
    );
    assert_eq!(c.peer_group, row.peer_group, "{what}");
    assert!(c.score.is_some() && c.rank.is_some(), "{what}: ranked");
}

fn head_names(c: &CampaignFigures) -> Vec<&str> {
    c.heads.iter().map(|h| h.name.as_str()).collect()
}

fn flag_codes(flags: &[oversight::FlagView]) -> Vec<(&str, &str, bool)> {
    flags
        .iter()
        .map(|f| (f.unit_code.as_str(), f.peer_group.as_str(), f.credible))
        .collect()
}

/// The service layer: flags by filter, the histories against the stored results.
fn check_service(conn: &mut Conn, backend: &str) {
    let p2: Period = "2019H2".parse().unwrap();
    let all = oversight::read_flags_filtered(
        conn,
        &qiping::service::Actor::stored("user:test"),
        Channel::Cli,
        &FlagFilter {
            period: Some(p2),
            ..FlagFilter::default()
        },
    )
    .unwrap();
    // Credible first, then the uncertain one; within each, the stored order (by unit code).
    assert_eq!(
        flag_codes(&all),
        [
            ("D09", "部门", true),
            ("D10N", "部门", true),
            ("D11", "部门", true),
            ("D12", "部门", true),
            ("O07", "处室", true),
            ("O08", "处室", true),
            ("O09", "处室", true),
            ("O10", "处室", true),
            ("O06", "处室", false),
        ],
        "[{backend}] the 2019H2 flags"
    );
    let o06 = all.iter().find(|f| f.unit_code == "O06").unwrap();
    let p = o06.evidence.iter().find(|e| e.period == "2019H2").unwrap();
    assert!(p.p_bottom5.unwrap() < 0.8, "[{backend}] uncertain: {p:?}");
    let by = |filter: FlagFilter, conn: &mut Conn| {
        oversight::read_flags_filtered(
            conn,
            &qiping::service::Actor::stored("user:test"),
            Channel::Cli,
            &filter,
        )
        .unwrap()
    };
    let offices = by(
        FlagFilter {
            period: Some(p2),
            peer_group: Some("处室".into()),
            credible: None,
        },
        conn,
    );
    assert_eq!(offices.len(), 5, "[{backend}]");
    assert!(offices.iter().all(|f| f.peer_group == "处室"));
    let uncertain = by(
        FlagFilter {
            credible: Some(false),
            ..FlagFilter::default()
        },
        conn,
    );
    assert_eq!(
        flag_codes(&uncertain),
        [("O06", "处室", false)],
        "[{backend}]"
    );
    let stations = by(
        FlagFilter {
            peer_group: Some("基层站所".into()),
            ..FlagFilter::default()
        },
        conn,
    );
    assert!(stations.is_empty(), "stations are never flagged");
    // Every period: 2019H2's nine and 2020H1's five departments (D07 is low a second time; the
    // offices recovered).
    let every = by(FlagFilter::default(), conn);
    assert_eq!(every.len(), 14, "[{backend}] {:?}", flag_codes(&every));

    // A unit's history follows the rename: D10's 2019H1, then D10N's two half-years.
    let d10n = history::unit_history(conn, "D10N").unwrap();
    assert_eq!(d10n.predecessors[0].code, "D10");
    let rows: Vec<(&str, &str, Vec<&str>)> = d10n
        .campaigns
        .iter()
        .map(|c| (c.period.as_str(), c.unit_code.as_str(), head_names(c)))
        .collect();
    assert_eq!(
        rows,
        [
            ("2019H1", "D10", vec!["钱旧"]),
            ("2019H2", "D10N", vec!["赵新"]),
            ("2020H1", "D10N", vec!["赵新"]),
        ],
        "[{backend}]"
    );
    for c in &d10n.campaigns {
        assert_matches_stored(conn, c, backend);
        assert_eq!(c.ranked, 12);
    }
    assert!(d10n.campaigns[0].flag.is_none());
    assert!(d10n.campaigns[1].flag.as_ref().is_some_and(|f| f.credible));
    assert_eq!(d10n.campaigns[2].version, 2, "the corrected version");
    let d10 = history::unit_history(conn, "D10").unwrap();
    assert_eq!(d10.campaigns.len(), 1);
    assert_eq!(d10.successors[0].code, "D10N");

    // D12's head changed on 2019-09-01: each half-year names who headed it then.
    let d12 = history::unit_history(conn, "D12").unwrap();
    let heads: Vec<(&str, Vec<&str>)> = d12
        .campaigns
        .iter()
        .map(|c| (c.period.as_str(), head_names(c)))
        .collect();
    assert_eq!(
        heads,
        [
            ("2019H1", vec!["王建国"]),
            ("2019H2", vec!["李红梅", "王建国"]),
            ("2020H1", vec!["李红梅"]),
        ],
        "[{backend}]"
    );
    for c in &d12.campaigns {
        assert_matches_stored(conn, c, backend);
    }

    // A person's history: the units headed and their results during each term.
    let wang = history::person_history(conn, "王建国").unwrap();
    assert_eq!(wang.terms.len(), 1);
    let term = &wang.terms[0];
    assert_eq!(term.unit.code, "D12");
    assert_eq!(
        term.to.map(|d| d.to_string()).as_deref(),
        Some("2019-08-31")
    );
    let periods: Vec<&str> = term.campaigns.iter().map(|c| c.period.as_str()).collect();
    assert_eq!(periods, ["2019H1", "2019H2"], "[{backend}]");
    let li = history::person_history(conn, " 李红梅 ").unwrap();
    let periods: Vec<&str> = li.terms[0]
        .campaigns
        .iter()
        .map(|c| c.period.as_str())
        .collect();
    assert_eq!(periods, ["2019H2", "2020H1"], "[{backend}]");
    for c in &li.terms[0].campaigns {
        assert_matches_stored(conn, c, backend);
    }
    let qian = history::person_history(conn, "钱旧").unwrap();
    assert_eq!(qian.terms[0].unit.code, "D10");
    assert_eq!(qian.terms[0].campaigns.len(), 1);
    assert!(matches!(
        history::person_history(conn, "无此人"),
        Err(qiping::service::ServiceError::NotFound(_))
    ));
    assert!(matches!(
        history::unit_history(conn, "NOPE"),
        Err(qiping::service::ServiceError::NotFound(_))
    ));
}

async fn check_web(db: &TestDb, backend: &str) {
    {
        let mut conn = db.conn();
        let pw = Secret::new(accounts::PASSWORD);
        qiping::service::accounts::add_user(
            &mut conn,
            &qiping::service::Actor::stored("test"),
            "inspector",
            Role::Inspector,
            None,
            &pw,
        )
        .unwrap();
        qiping::service::accounts::add_user(
            &mut conn,
            &qiping::service::Actor::stored("test"),
            "viewer",
            Role::Unit,
            Some("D12"),
            &pw,
        )
        .unwrap();
    }
    let app = accounts::app(accounts::state(db, Config::default())).await;
    let inspector = accounts::sign_in(&app, "inspector").await;
    let viewer = accounts::sign_in(&app, "viewer").await;
    let get = |uri: &'static str, cookie: Option<String>| {
        let app = &app;
        async move { accounts::get(app, uri, cookie.as_deref()).await }
    };
    let me = Some(inspector.cookie.clone());

    // The flags page: credible and uncertain apart, filtered, linked to the histories.
    let (status, page) = get(
        "/inspect/?period=2019H2&peer_group=%E5%A4%84%E5%AE%A4",
        me.clone(),
    )
    .await;
    assert_eq!(status, 200, "[{backend}] {page}");
    let credible_at = page.find("可信的问责提示(4 个)").expect("credible heading");
    let uncertain_at = page
        .find("存疑的问责提示(1 个)")
        .expect("uncertain heading");
    let o06_at = page.find("/inspect/units/O06").expect("O06 linked");
    assert!(
        credible_at < uncertain_at && uncertain_at < o06_at,
        "[{backend}]"
    );
    assert!(!page.contains("/inspect/units/D12"), "filtered to 处室");
    assert!(
        page.contains("/inspect/people/%E5%A4%84%E9%95%BF06"),
        "heads link to people"
    );
    let (status, _) = get("/inspect/?credible=maybe", me.clone()).await;
    assert_eq!(status, 400);

    // The API: the same filters, the shape of docs/interface.md §4.3.
    let (status, body) = get("/api/v1/flags?period=2019H2&credible=false", me.clone()).await;
    assert_eq!(status, 200, "{body}");
    let flags: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(flags.as_array().unwrap().len(), 1);
    assert_eq!(flags[0]["unit_code"], "O06");
    assert_eq!(flags[0]["credible"], false);
    let (_, body) = get("/api/v1/flags?peer_group=%E9%83%A8%E9%97%A8", me.clone()).await;
    let flags: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        flags.as_array().unwrap().len(),
        9,
        "[{backend}] 部门 in both periods"
    );

    // A unit's history: page and API.
    let (status, page) = get("/inspect/units/D10N", me.clone()).await;
    assert_eq!(status, 200);
    assert!(page.contains("第十局(新)") && page.contains("前身单位") && page.contains("钱旧"));
    assert!(page.contains("2020H1(第 2 版)"));
    let (status, body) = get("/api/v1/units/D12/history", me.clone()).await;
    assert_eq!(status, 200);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["campaigns"].as_array().unwrap().len(), 3);
    assert_eq!(json["campaigns"][1]["heads"][0]["name"], "李红梅");
    assert_eq!(json["campaigns"][1]["heads"][1]["to"], "2019-08-31");
    let (status, _) = get("/api/v1/units/NOPE/history", me.clone()).await;
    assert_eq!(status, 404);

    // A person's history and the search box.
    let (status, page) = get("/inspect/people/%E7%8E%8B%E5%BB%BA%E5%9B%BD", me.clone()).await;
    assert_eq!(status, 200);
    assert!(page.contains("第12局") && page.contains("2019-08-31"));
    let (status, body) = get(
        "/api/v1/people/%E6%9D%8E%E7%BA%A2%E6%A2%85/history",
        me.clone(),
    )
    .await;
    assert_eq!(status, 200);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["terms"][0]["unit"]["code"], "D12");
    assert_eq!(json["terms"][0]["campaigns"].as_array().unwrap().len(), 2);
    let (status, page) = get("/inspect/search?q=%E5%BB%BA%E5%9B%BD", me.clone()).await;
    assert_eq!(status, 200);
    assert!(page.contains("/inspect/people/%E7%8E%8B%E5%BB%BA%E5%9B%BD"));

    // A unit viewer (of D12 itself) and anonymous callers are refused.
    for uri in [
        "/inspect/units/D12",
        "/api/v1/units/D12/history",
        "/api/v1/people/%E7%8E%8B%E5%BB%BA%E5%9B%BD/history",
    ] {
        let (status, body) = get(uri, Some(viewer.cookie.clone())).await;
        assert_eq!(status, 403, "[{backend}] viewer {uri}");
        assert!(!body.contains("王建国"));
        let (status, _) = get(uri, None).await;
        assert_eq!(status, 401, "[{backend}] anonymous {uri}");
    }

    // Every inspector read above wrote one row: who, what, when.
    let mut conn = db.conn();
    let rows = audit::list(&mut conn).unwrap();
    let count = |action: &str| {
        rows.iter()
            .filter(|r| r.actor == "user:inspector" && r.action == action)
            .count()
    };
    // Sign-in lands on /inspect/ once; then three flags pages/API reads (one a 400, not audited).
    assert_eq!(count("inspect.flags"), 4, "[{backend}]");
    assert_eq!(
        count("inspect.unit_history"),
        3,
        "[{backend}] the 404 is audited too"
    );
    assert_eq!(count("inspect.person_history"), 2, "[{backend}]");
    assert_eq!(count("inspect.search"), 1, "[{backend}]");
    let probe = rows
        .iter()
        .find(|r| r.target == "unit:NOPE")
        .expect("the probe is audited");
    assert!(probe.detail.contains("\"found\":false") && probe.detail.contains("\"via\":\"api\""));
    assert!(
        rows.iter()
            .all(|r| r.actor != "user:viewer" || !r.action.starts_with("inspect."))
    );
    audit::verify(&mut conn).unwrap();
}

fn qiping_cli(db: &TestDb, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_qiping"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("DATABASE_URL")
        .env("QIPING_DATABASE_URL", &db.url)
        .env("QIPING_LOG", "warn")
        .env("USER", "inspector-wang")
        .args(args)
        .output()
        .expect("run qiping")
}

fn check_cli(db: &TestDb, backend: &str) {
    let out = qiping_cli(
        db,
        &[
            "flags",
            "--period",
            "2019H2",
            "--peer-group",
            "处室",
            "--uncertain",
            "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let flags: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(flags.as_array().unwrap().len(), 1, "[{backend}]");
    assert_eq!(flags[0]["unit_code"], "O06");

    let out = qiping_cli(db, &["flags", "--period", "2019H2"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("可信的问责提示:8 个") && text.contains("存疑的问责提示:1 个"),
        "{text}"
    );

    let out = qiping_cli(db, &["history", "unit", "D10N", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["campaigns"][0]["unit_code"], "D10");
    assert_eq!(json["campaigns"][0]["heads"][0]["name"], "钱旧");

    let out = qiping_cli(db, &["history", "person", "李红梅"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("第12局(D12)") && text.contains("2020H1"),
        "{text}"
    );

    let out = qiping_cli(db, &["history", "unit", "NOPE"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("NOPE"));

    let out = qiping_cli(db, &["audit", "--action", "inspect.", "--json"]);
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cli_rows: Vec<&serde_json::Value> = rows
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["actor"] == "cli:inspector-wang")
        .collect();
    assert_eq!(cli_rows.len(), 5, "[{backend}] one row per command: {rows}");
    assert!(
        rows.as_array()
            .unwrap()
            .iter()
            .all(|r| r["action"].as_str().unwrap().starts_with("inspect."))
    );
}

#[actix_web::test]
async fn inspectors_query_flags_and_histories_over_three_campaigns() {
    for db in common::each_backend() {
        let mut conn = db.conn();
        let _reports = three_campaigns(&mut conn);
        check_service(&mut conn, db.backend);
        drop(conn);
        check_web(&db, db.backend).await;
        check_cli(&db, db.backend);
    }
}
