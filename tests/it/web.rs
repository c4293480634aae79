//! The HTTP surface, through actix's test service (no socket) with a real database.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use crate::common;

use actix_web::{App, test, web};
use common::TestDb;
use qiping::config::Config;
use qiping::db::DatabaseUrl;
use qiping::web::{AppState, routes};

#[actix_web::test]
async fn healthz_answers_ok_without_the_database() {
    let db = TestDb::sqlite();
    let pool = DatabaseUrl::parse(&db.url).unwrap().pool(1).unwrap();
    let state = AppState::new(pool, Config::default()).unwrap();
    let app =
        test::init_service(App::new().app_data(web::Data::new(state)).configure(routes)).await;
    let response =
        test::call_service(&app, test::TestRequest::get().uri("/healthz").to_request()).await;
    assert!(response.status().is_success());
    let headers = response.headers();
    assert_eq!(headers.get("referrer-policy").unwrap(), "no-referrer");
    assert_eq!(headers.get("x-frame-options").unwrap(), "DENY");
    assert!(headers.get("content-security-policy").is_some());
    assert_eq!(test::read_body(response).await, "ok");
}
