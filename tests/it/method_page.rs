//! The method page 「评议结果是怎样算出来的」 on both backends: a publication writes it to
//! `reports/PERIOD/method.html` beside the bulletin, which links to it; the public site serves the
//! same page at `/rankings/{period}/method`; it states the method's name in Chinese and the
//! thresholds stored with the publication's aggregation — not the configuration's — and a
//! superseded version keeps its own.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use crate::common;
use crate::survey_support;

use actix_web::{App, test, web};
use base64::Engine;
use common::TestDb;
use common::scenario::{complete, open_survey_campaign};
use qiping::config::Config;
use qiping::domain::Period;
use qiping::service::Actor;
use qiping::service::response;
use qiping::service::survey::SurveyContext;
use qiping::service::{aggregate, publication};
use qiping::stats::{METHOD_VERSION, Settings, method_name_zh};
use sha2::{Digest, Sha256};
use survey_support::{PERIOD, asked_codes};

const TITLE: &str = "评议结果是怎样算出来的";

/// Settings unlike the configuration's defaults, so the page shows which it read.
fn first_settings() -> Settings {
    Settings {
        min_published_n: 12,
        min_eligible_n: 25,
        draws: 500,
        bottom_n: 3,
        credible_probability: 0.9,
        ..Settings::default()
    }
}

/// The correction is computed with other thresholds.
fn second_settings() -> Settings {
    Settings {
        min_published_n: 11,
        ..first_settings()
    }
}

/// A closed campaign answered by 12 enterprises through the survey service, published as
/// version 1 and corrected as version 2 (each aggregated with its own settings).
fn publish_twice(db: &TestDb, reports: &std::path::Path) -> Period {
    let mut conn = db.conn();
    let tokens = open_survey_campaign(&mut conn, 12);
    let cache = SurveyContext::new(&crate::common::scenario::secret());
    for token in &tokens {
        response::submit(&mut conn, &cache, token, &complete(&asked_codes())).unwrap();
    }
    let period: Period = PERIOD.parse().unwrap();
    crate::common::keys::close(&mut conn, &period).unwrap();
    aggregate::aggregate(
        &mut conn,
        &Actor::cli(),
        &period,
        &first_settings(),
        false,
        Some(7),
    )
    .unwrap();
    publication::publish_and_write(
        &mut conn,
        &Actor::cli(),
        &period,
        None,
        &first_settings(),
        reports,
    )
    .unwrap();
    aggregate::aggregate(
        &mut conn,
        &Actor::cli(),
        &period,
        &second_settings(),
        false,
        Some(7),
    )
    .unwrap();
    publication::publish_and_write(
        &mut conn,
        &Actor::cli(),
        &period,
        Some("更正:阈值调整"),
        &second_settings(),
        reports,
    )
    .unwrap();
    period
}

fn inline_style_hash(html: &str) -> String {
    let start = html.find("<style>").unwrap() + "<style>".len();
    let end = html.find("</style>").unwrap();
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&html.as_bytes()[start..end]))
}

#[actix_web::test]
async fn a_publication_writes_and_serves_its_method_page_with_its_own_settings() {
    for db in &common::each_backend().collect::<Vec<_>>() {
        let reports = tempfile::tempdir().unwrap();
        publish_twice(db, reports.path());
        let dir = reports.path().join(PERIOD);

        // Written beside the bulletin, which links to it; the version it corrected keeps its own.
        let current = std::fs::read_to_string(dir.join("method.html")).unwrap();
        let old = std::fs::read_to_string(dir.join("v1/method.html")).unwrap();
        let bulletin = std::fs::read_to_string(dir.join("index.html")).unwrap();
        assert!(bulletin.contains("href=\"method.html\"") && bulletin.contains(TITLE));
        let name = method_name_zh(METHOD_VERSION).unwrap();
        for page in [&current, &old] {
            assert!(
                page.contains(&format!("<h1>{TITLE}</h1>")),
                "{}",
                db.backend
            );
            assert!(page.contains(name) && page.contains(METHOD_VERSION));
            assert!(page.contains("<style>") && !page.contains("<link") && !page.contains("src="));
            for figure in [
                "不少于 25 份",
                "共 500 次",
                "处于后三位",
                "不低于 90%",
                "连续两次",
            ] {
                assert!(page.contains(figure), "{figure} on {}", db.backend);
            }
            assert!(
                page.contains("非常满意</td><td>100 分"),
                "the questionnaire's points"
            );
        }
        assert!(current.contains("不足 11 份") && current.contains("第 2 版"));
        assert!(old.contains("不足 12 份") && old.contains("第 1 版"));

        // Served publicly from the database: the same bytes, under a policy that allows exactly
        // its inline stylesheet. The configuration's own thresholds (10, 30, 10000) are not used.
        let state = qiping::web::AppState::new(
            qiping::db::DatabaseUrl::parse(&db.url)
                .unwrap()
                .pool(2)
                .unwrap(),
            Config::default(),
        )
        .unwrap();
        let app = test::init_service(
            App::new()
                .app_data(web::Data::new(state))
                .wrap(qiping::web::security::headers())
                .configure(qiping::web::routes),
        )
        .await;
        let get = |uri: &str| test::TestRequest::get().uri(uri).to_request();
        for (uri, file) in [
            (format!("/rankings/{PERIOD}/method"), &current),
            (format!("/rankings/{PERIOD}/method?version=1"), &old),
        ] {
            let response = test::call_service(&app, get(&uri)).await;
            assert_eq!(response.status(), 200, "{uri} on {}", db.backend);
            let policy = response
                .headers()
                .get("Content-Security-Policy")
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned();
            let body = String::from_utf8(test::read_body(response).await.to_vec()).unwrap();
            assert_eq!(
                &body, file,
                "{uri} serves the published file on {}",
                db.backend
            );
            assert!(policy.contains(&format!("'sha256-{}'", inline_style_hash(&body))));
            assert!(policy.starts_with("default-src 'none'"), "{policy}");
        }

        // The rankings page links to it; an unknown version or period has none.
        let response = test::call_service(&app, get(&format!("/rankings/{PERIOD}"))).await;
        let html = String::from_utf8(test::read_body(response).await.to_vec()).unwrap();
        assert!(html.contains(&format!("/rankings/{PERIOD}/method?version=2")));
        for uri in [
            format!("/rankings/{PERIOD}/method?version=9"),
            "/rankings/2031H1/method".to_owned(),
            "/rankings/nonsense/method".to_owned(),
        ] {
            let response = test::call_service(&app, get(&uri)).await;
            assert_eq!(response.status(), 404, "{uri}");
        }
    }
}
