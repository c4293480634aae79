//! Issue 7's scenario: three campaigns with known answers on both backends. Twelve departments and
//! ten stations; the five lowest departments are clear. Across the campaigns a department is
//! renamed (lineage), a head changes mid half-year, a station group is low both times (stations
//! are ranked, never flagged), and the third campaign follows a half-year without one.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use crate::common;

use qiping::service::Actor;
use std::collections::BTreeMap;

use common::scenario::{city_levels, city_registry, city_settings, city_units_csv, run_campaign};
use common::{TestDb, no_progress, on_each_backend};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use qiping::db::Conn;
use qiping::db::schema::{ratings, unit_results, units};
use qiping::domain::Period;
use qiping::service::publication::{self, InspectorFlag};
use qiping::service::{aggregate, campaign, import};
use qiping::stats::NotFlaggedReason;

/// A unit's published figures that are doubles (n_eff, score, its interval, satisfied rate,
/// shrunken score, mean rank, chance of the bottom five).
type UnitFigures = (
    f64,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
);

fn flagged(flags: &[InspectorFlag]) -> Vec<(&str, bool)> {
    flags
        .iter()
        .map(|f| (f.unit_code.as_str(), f.credible))
        .collect()
}

fn scenario(db: &TestDb) {
    let mut conn = db.conn();
    let reports = tempfile::tempdir().unwrap();
    city_registry(&mut conn, false);

    // 2019H1: D08..D12 are the five lowest.
    let h1 = city_levels(
        [5.0, 5.0, 5.0, 5.0, 5.0, 4.0, 4.0, 2.0, 2.0, 2.0, 1.0, 1.0],
        None,
        &[],
    );
    run_campaign(&mut conn, "2019H1", &h1, &[]);
    let p1: Period = "2019H1".parse().unwrap();
    let r1 = publication::publish_and_write(
        &mut conn,
        &Actor::cli(),
        &p1,
        None,
        &city_settings(),
        reports.path(),
    )
    .unwrap();
    assert_eq!(r1.flags, 0, "{}", db.backend);
    assert_eq!(r1.no_previous_campaign.as_deref(), Some("2018H2"));
    let notes = publication::flag_notes(&mut conn, &p1).unwrap();
    assert!(notes.iter().all(|n| matches!(
        &n.reason,
        NotFlaggedReason::NoPreviousCampaign { period } if period == "2018H2"
    )));
    let bottom: Vec<&str> = r1
        .results
        .peer_groups
        .iter()
        .find(|g| g.name == "部门")
        .unwrap()
        .units
        .iter()
        .filter(|u| u.rank.is_some_and(|r| r > 7))
        .map(|u| u.code.as_str())
        .collect();
    assert_eq!(bottom, ["D08", "D09", "D10", "D11", "D12"]);

    // Between the campaigns: D10 is renamed D10N, and D12 gets a new head on 2019-09-01.
    import::import_units(
        &mut conn,
        &Actor::cli(),
        city_units_csv(
            false,
            "D10N,第十局(新),department,,部门,赵新,2019-07-01,D10\n",
            "李红梅,2019-09-01",
        )
        .as_bytes(),
        &mut no_progress(),
    )
    .unwrap();

    // 2019H2: D08 recovers, D07 falls; the renamed D10N stays low.
    let h2 = city_levels(
        [5.0, 5.0, 5.0, 5.0, 5.0, 4.0, 1.0, 5.0, 2.0, 2.0, 1.0, 1.0],
        None,
        &[("D10N", 2.0)],
    );
    let mut h2 = h2;
    h2.remove("D10");
    run_campaign(&mut conn, "2019H2", &h2, &[]);
    let p2: Period = "2019H2".parse().unwrap();
    let r2 = publication::publish_and_write(
        &mut conn,
        &Actor::cli(),
        &p2,
        None,
        &city_settings(),
        reports.path(),
    )
    .unwrap();
    let flags = publication::inspector_flags(&mut conn, Some(&p2)).unwrap();
    assert_eq!(
        flagged(&flags),
        [("D09", true), ("D10N", true), ("D11", true), ("D12", true)],
        "{}",
        db.backend
    );
    assert_eq!(r2.results.flags.len(), 4);
    // What inspectors read (API and pages) is exactly this, and the read is audited.
    let read = qiping::service::oversight::read_flags(
        &mut conn,
        &qiping::service::Actor::stored("inspector:test"),
        Some("2019H2"),
    )
    .unwrap();
    assert_eq!(read, flags);
    let audited = qiping::service::audit::list(&mut conn).unwrap();
    assert!(audited.iter().any(|row| row.actor == "inspector:test"));
    reports_of_2019h2(reports.path(), &r2.results, db.backend);
    // Stations low twice are ranked but never flagged; nor are D07 (once) and D08 (recovered).
    let notes = publication::flag_notes(&mut conn, &p2).unwrap();
    assert!(notes.iter().all(|n| !n.unit_code.starts_with('S')));
    let note = |code: &str| {
        notes
            .iter()
            .find(|n| n.unit_code == code)
            .map(|n| n.reason.clone())
    };
    assert!(
        matches!(note("D07"), Some(NotFlaggedReason::NotInBottom { ref period, .. }) if period == "2019H1")
    );
    assert!(
        matches!(note("D08"), Some(NotFlaggedReason::NotInBottom { ref period, .. }) if period == "2019H2")
    );

    // Heads: the head on the half-year's last day first; after the change, who headed when.
    let d12 = flags.iter().find(|f| f.unit_code == "D12").unwrap();
    let heads = |period: &str| -> Vec<(String, String, Option<String>)> {
        d12.evidence
            .iter()
            .find(|e| e.period == period)
            .unwrap()
            .heads
            .iter()
            .map(|h| {
                (
                    h.name.clone(),
                    h.from.to_string(),
                    h.to.map(|d| d.to_string()),
                )
            })
            .collect()
    };
    assert_eq!(
        heads("2019H1"),
        [(
            "王建国".into(),
            "2018-01-01".into(),
            Some("2019-08-31".into())
        )]
    );
    assert_eq!(
        heads("2019H2"),
        [
            ("李红梅".into(), "2019-09-01".into(), None),
            (
                "王建国".into(),
                "2018-01-01".into(),
                Some("2019-08-31".into())
            ),
        ]
    );
    // Lineage: D10N's first half-year is D10's, with D10's head.
    let d10n = flags.iter().find(|f| f.unit_code == "D10N").unwrap();
    let h1_evidence = d10n.evidence.iter().find(|e| e.period == "2019H1").unwrap();
    assert_eq!(h1_evidence.unit_code, "D10");
    assert_eq!(h1_evidence.heads[0].name, "钱旧");
    assert_eq!(
        d10n.evidence
            .iter()
            .find(|e| e.period == "2019H2")
            .unwrap()
            .heads[0]
            .name,
        "赵新"
    );
    for f in &flags {
        assert_eq!(f.evidence.len(), 2);
        for e in &f.evidence {
            assert!(e.rank.unwrap() > 7 && e.p_bottom5.unwrap() >= 0.8 && e.tau2.unwrap() > 0.0);
        }
    }

    // A published result cannot be altered, not even by SQL behind the service's back.
    let publication = publication::publication(&mut conn, &p2, None).unwrap();
    for sql in [
        format!(
            "UPDATE unit_results SET score = 99 WHERE aggregation_id = {}",
            publication.aggregation_id
        ),
        format!(
            "DELETE FROM unit_results WHERE aggregation_id = {}",
            publication.aggregation_id
        ),
        format!(
            "UPDATE publications SET results_json = '{{}}' WHERE id = {}",
            publication.id
        ),
        format!("DELETE FROM publications WHERE id = {}", publication.id),
        format!(
            "UPDATE flags SET credible = FALSE WHERE publication_id = {}",
            publication.id
        ),
        format!(
            "DELETE FROM flags WHERE publication_id = {}",
            publication.id
        ),
        format!(
            "UPDATE aggregations SET seed = 1 WHERE id = {}",
            publication.aggregation_id
        ),
    ] {
        let outcome = match &mut conn {
            Conn::Sqlite(c) => c.batch_execute(&sql),
            Conn::Postgres(c) => c.batch_execute(&sql),
        };
        let err = outcome.expect_err(&sql).to_string();
        assert!(err.contains("frozen"), "{sql}: {err}");
    }
    assert_eq!(
        publication::public_results(&mut conn, &p2, None).unwrap(),
        r2.results
    );
    // The published figures are the aggregation's stored figures to the last bit, though the
    // publication reads them back from the aggregation's JSON (about one double in ten would
    // come back one bit off with serde_json's default float parsing).
    let stored: Vec<(String, UnitFigures)> = unit_results::table
        .inner_join(units::table)
        .filter(unit_results::aggregation_id.eq(publication.aggregation_id))
        .select((
            units::code,
            (
                unit_results::n_eff,
                unit_results::score,
                unit_results::ci_low,
                unit_results::ci_high,
                unit_results::satisfied_rate,
                unit_results::shrunken,
                unit_results::rank_mean,
                unit_results::p_bottom5,
            ),
        ))
        .load(&mut conn)
        .unwrap();
    let published: BTreeMap<String, UnitFigures> = r2
        .results
        .peer_groups
        .iter()
        .flat_map(|g| &g.units)
        .map(|u| {
            let figures = (
                u.n_eff,
                u.score,
                u.ci_low,
                u.ci_high,
                u.satisfied_rate,
                u.shrunken,
                u.rank_mean,
                u.p_bottom5,
            );
            (u.code.clone(), figures)
        })
        .collect();
    assert_eq!(stored.len(), published.len());
    for (code, figures) in &stored {
        assert_eq!(Some(figures), published.get(code), "{code}");
    }
    // Publishing again without --supersede is refused.
    assert!(publication::publish(&mut conn, &Actor::cli(), &p2, None, &city_settings()).is_err());

    // A correction: re-aggregate with another seed, publish as version 2 with its reason.
    aggregate::aggregate(
        &mut conn,
        &Actor::cli(),
        &p2,
        &city_settings(),
        false,
        Some(7),
    )
    .unwrap();
    let v2 = publication::publish_and_write(
        &mut conn,
        &Actor::cli(),
        &p2,
        Some("更正:剔除重复导入的答卷"),
        &city_settings(),
        reports.path(),
    )
    .unwrap();
    assert_eq!((v2.version, v2.results.supersedes), (2, Some(1)));
    assert_eq!(
        v2.results.reason.as_deref(),
        Some("更正:剔除重复导入的答卷")
    );
    assert_eq!(
        publication::public_results(&mut conn, &p2, Some(1)).unwrap(),
        r2.results
    );
    assert_eq!(
        publication::public_results(&mut conn, &p2, None)
            .unwrap()
            .version,
        2
    );
    let v1_file: serde_json::Value = serde_json::from_slice(
        &std::fs::read(reports.path().join("2019H2/v1/results.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(v1_file["version"], 1);
    let current_file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(reports.path().join("2019H2/results.json")).unwrap())
            .unwrap();
    assert_eq!(current_file["version"], 2);
    assert_eq!(current_file["supersedes"], 1);
    assert!(reports.path().join("2019H2/REASON.txt").exists());

    // 2020H2 follows a half-year with no campaign: no flag, and the reason says which.
    run_campaign(&mut conn, "2020H2", &h2, &[]);
    let p3: Period = "2020H2".parse().unwrap();
    let r3 = publication::publish_and_write(
        &mut conn,
        &Actor::cli(),
        &p3,
        None,
        &city_settings(),
        reports.path(),
    )
    .unwrap();
    assert_eq!(r3.flags, 0);
    assert_eq!(r3.no_previous_campaign.as_deref(), Some("2020H1"));
}

#[test]
fn three_campaigns_flag_exactly_the_units_twice_in_the_bottom_five() {
    on_each_backend(scenario);
}

#[test]
fn the_same_inputs_and_seed_give_identical_results_on_both_backends() {
    let Some(pg) = TestDb::postgres() else { return };
    let sqlite = TestDb::sqlite();
    let results: Vec<String> = [&sqlite, &pg]
        .into_iter()
        .map(|db| {
            let mut conn = db.conn();
            city_registry(&mut conn, false);
            run_campaign(
                &mut conn,
                "2019H1",
                &city_levels(
                    [5.0, 4.0, 5.0, 3.0, 5.0, 4.0, 4.0, 2.0, 3.0, 2.0, 1.0, 2.0],
                    None,
                    &[],
                ),
                &[],
            );
            let row = campaign::find(&mut conn, &"2019H1".parse().unwrap()).unwrap();
            // Aggregation reads ratings unit by unit: together they are every rating, once.
            let unit_ids: Vec<i64> = units::table.select(units::id).load(&mut conn).unwrap();
            let read: usize = unit_ids
                .iter()
                .map(|u| {
                    qiping::db::ratings::of_unit(&mut conn, row.id, *u)
                        .unwrap()
                        .len()
                })
                .sum();
            let stored: i64 = ratings::table.count().get_result(&mut conn).unwrap();
            assert!(
                read > 100 && read as i64 == stored,
                "{read} of {stored} ratings"
            );
            qiping::db::results::latest_aggregation(&mut conn, row.id)
                .unwrap()
                .unwrap()
                .result_json
        })
        .collect();
    assert_eq!(results[0], results[1]);
}

#[actix_web::test]
async fn the_public_sees_published_rankings_and_nothing_unpublished() {
    use actix_web::{App, test, web};
    let db = TestDb::sqlite();
    {
        let mut conn = db.conn();
        city_registry(&mut conn, false);
        run_campaign(
            &mut conn,
            "2019H1",
            &city_levels(
                [5.0, 5.0, 5.0, 5.0, 5.0, 4.0, 4.0, 2.0, 2.0, 2.0, 1.0, 1.0],
                None,
                &[],
            ),
            &[],
        );
        let reports = tempfile::tempdir().unwrap();
        publication::publish_and_write(
            &mut conn,
            &Actor::cli(),
            &"2019H1".parse().unwrap(),
            None,
            &city_settings(),
            reports.path(),
        )
        .unwrap();
        run_campaign(
            &mut conn,
            "2019H2",
            &city_levels(
                [5.0, 5.0, 5.0, 5.0, 5.0, 4.0, 4.0, 2.0, 2.0, 2.0, 1.0, 1.0],
                None,
                &[],
            ),
            &[],
        );
    }
    let state = qiping::web::AppState::new(
        qiping::db::DatabaseUrl::parse(&db.url)
            .unwrap()
            .pool(2)
            .unwrap(),
        qiping::config::Config::default(),
    )
    .unwrap();
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(state))
            .configure(qiping::web::routes),
    )
    .await;
    let get = |uri: &str| test::TestRequest::get().uri(uri).to_request();

    let response = test::call_service(&app, get("/api/v1/campaigns/2019H1/results")).await;
    assert_eq!(response.status(), 200);
    let json: serde_json::Value = test::read_body_json(response).await;
    for key in [
        "period",
        "version",
        "supersedes",
        "reason",
        "published_at",
        "method_version",
        "seed",
        "peer_groups",
        "flags",
    ] {
        assert!(json.get(key).is_some(), "missing {key}");
    }
    let unit = &json["peer_groups"][0]["units"][0];
    for key in [
        "code",
        "name",
        "kind",
        "n",
        "n_eff",
        "response_rate",
        "score",
        "ci_low",
        "ci_high",
        "satisfied_rate",
        "satisfied_low",
        "satisfied_high",
        "shrunken",
        "rank",
        "rank_mean",
        "rank_low",
        "rank_high",
        "p_bottom5",
        "eligible",
        "suppressed",
    ] {
        assert!(unit.get(key).is_some(), "missing unit key {key}");
    }

    let response = test::call_service(&app, get("/rankings/2019H1")).await;
    assert_eq!(response.status(), 200);
    let html = String::from_utf8(test::read_body(response).await.to_vec()).unwrap();
    assert!(html.contains("2019H1 「万企评机关」满意度排名"));
    assert!(html.contains("第12局") && html.contains("处于后五位的概率"));
    assert!(!html.contains("王建国"), "heads are for inspectors only");

    // Aggregated but not published: nothing to see. Unknown versions and periods: 404.
    for uri in [
        "/rankings/2019H2",
        "/api/v1/campaigns/2019H2/results",
        "/api/v1/campaigns/2019H1/results?version=9",
        "/rankings/nonsense",
    ] {
        let response = test::call_service(&app, get(uri)).await;
        assert_eq!(response.status(), 404, "{uri}");
    }
}

/// The files `campaign publish` wrote for 2019H2, and the report model and `results.json` against
/// their snapshots (`tests/it/snapshots/`; `cargo insta review` shows and accepts a change).
fn reports_of_2019h2(
    reports: &std::path::Path,
    results: &publication::PublicResults,
    backend: &str,
) {
    let dir = reports.join("2019H2");
    for file in ["index.html", "results.json", "results.csv", "results.xlsx"] {
        assert!(dir.join(file).is_file(), "{file} missing on {backend}");
    }
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    // The summary counts the campaign's invitations; a flagged unit is named, its head is not.
    assert!(html.contains("邀请企业 40 家"), "{backend}");
    assert!(html.contains("第十局(新)") && !html.contains("王建国") && !html.contains("李红梅"));
    // The trend charts reach back to 2019H1.
    let trend = std::fs::read_to_string(dir.join("charts/trend-g1-1.svg")).unwrap();
    assert!(trend.contains("2019H1") && trend.contains("2019H2"));

    // The report model and the file written from it, both against their reviewed snapshots
    // (`cargo insta review`); the publication time is the only figure of the run.
    let mut model = serde_json::to_value(results).unwrap();
    model["published_at"] = "[published_at]".into();
    insta::assert_json_snapshot!("report_model_2019H2", model);
    let file = std::fs::read_to_string(dir.join("results.json")).unwrap();
    let published_at = format!("\"published_at\": \"{}\"", results.published_at);
    assert!(file.contains(&published_at), "{backend}");
    insta::assert_snapshot!(
        "results_json_2019H2",
        file.replace(&published_at, "\"published_at\": \"[published_at]\"")
    );
}

/// A campaign that no unit has enough answers in (here none at all) is not published: the public
/// page would list every unit as 样本不足 and no flag could be raised. Nothing changes.
#[test]
fn a_campaign_with_no_publishable_unit_is_not_published() {
    on_each_backend(|db| {
        let tag = db.backend;
        let mut conn = db.conn();
        city_registry(&mut conn, false);
        let period: Period = "2019H1".parse().unwrap();
        common::scenario::open_campaign(&mut conn, "2019H1", None);
        common::keys::close(&mut conn, &period).unwrap();
        aggregate::aggregate(
            &mut conn,
            &Actor::cli(),
            &period,
            &city_settings(),
            false,
            Some(1),
        )
        .unwrap();
        let err = publication::publish(&mut conn, &Actor::cli(), &period, None, &city_settings())
            .unwrap_err();
        assert!(
            matches!(err, qiping::service::ServiceError::Conflict(_))
                && err.to_string().contains("样本不足"),
            "{tag}: {err}"
        );
        assert_eq!(
            campaign::show(&mut conn, &period).unwrap().state,
            "closed",
            "{tag}"
        );
        assert_eq!(
            common::count(&mut conn, "SELECT count(*) AS n FROM publications"),
            0,
            "{tag}"
        );
    });
}
