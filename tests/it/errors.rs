//! Whose fault an error is decides what the client sees (issue 36): an internal fault is a 500 that
//! shows a request id and nothing of its cause, a clash with the stored state is a 409, and what
//! the caller sent is a 400/422 naming the field. Through the real route table, on both backends.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use crate::common;
use crate::common::accounts;

use accounts::{app, exec, get, post_form, seeded, sign_in, state};
use actix_web::test as http;
use common::on_each_backend;
use qiping::config::Config;
use qiping::service::ServiceError;

/// Stored data no code can read: a flag whose evidence is not JSON, with a marker that must never
/// reach a client.
const SECRET_DETAIL: &str = "secret-detail-7f3a";

fn corrupt_a_flag(conn: &mut qiping::db::Conn) {
    exec(
        conn,
        &format!(
            "INSERT INTO flags (id, publication_id, unit_id, periods, credible, evidence)
               VALUES (2, 1, 1, '[]', FALSE, 'not json: {SECRET_DETAIL}')"
        ),
    );
}

/// The request id a 500 page shows after 「提供编号」.
fn id_on_page(body: &str) -> Option<String> {
    let start = body.find("提供编号 <strong>")? + "提供编号 <strong>".len();
    Some(
        body[start..]
            .chars()
            .take_while(char::is_ascii_hexdigit)
            .collect(),
    )
}

/// An API token of the fixture's inspector.
fn inspector_token(conn: &mut qiping::db::Conn) -> String {
    let actor = qiping::service::Actor::stored("cli:test");
    let token = qiping::service::accounts::create_token(conn, &actor, "inspector", 7).unwrap();
    token.expose().to_owned()
}

/// `GET /api/v1/flags` with that token.
fn flags_request(token: &str) -> accounts::Request {
    http::TestRequest::get()
        .uri("/api/v1/flags")
        .insert_header(("Authorization", format!("Bearer {token}")))
        .to_request()
}

#[test]
fn an_internal_fault_is_a_500_that_shows_a_request_id_and_no_detail() {
    on_each_backend(|db| {
        let mut conn = seeded(db);
        let token = inspector_token(&mut conn);
        actix_web::rt::System::new().block_on(async {
            let app = app(state(db, Config::default())).await;
            let inspector = sign_in(&app, "inspector").await;
            corrupt_a_flag(&mut conn);

            // The JSON API: {"error", "request_id"}, the id also in the header.
            let response = http::call_service(&app, flags_request(&token)).await;
            assert_eq!(response.status().as_u16(), 500, "{}", db.backend);
            let header = response
                .headers()
                .get("X-Request-Id")
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned();
            let body = String::from_utf8(http::read_body(response).await.to_vec()).unwrap();
            assert!(
                !body.contains(SECRET_DETAIL) && !body.contains("json"),
                "{body}"
            );
            let json: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!(json["request_id"], header.as_str(), "{body}");
            assert!(json["error"].as_str().unwrap().contains(&header), "{body}");

            // The inspector's page: the same fault, an opaque page in Chinese with its own id.
            let response = http::call_service(
                &app,
                http::TestRequest::get()
                    .uri("/inspect/")
                    .cookie(actix_web::cookie::Cookie::new(
                        "qiping_session",
                        inspector.cookie,
                    ))
                    .to_request(),
            )
            .await;
            assert_eq!(response.status().as_u16(), 500);
            let page_id = response
                .headers()
                .get("X-Request-Id")
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned();
            assert!(response.headers().get("Content-Security-Policy").is_some());
            let body = String::from_utf8(http::read_body(response).await.to_vec()).unwrap();
            assert!(body.contains("出错了,请联系管理员并提供编号"), "{body}");
            assert_eq!(
                id_on_page(&body).as_deref(),
                Some(page_id.as_str()),
                "{body}"
            );
            assert_ne!(page_id, header, "each request has its own id");
            assert!(
                !body.contains(SECRET_DETAIL) && !body.contains("evidence"),
                "{body}"
            );

            // Every answer carries an id, not only the failures.
            let response =
                http::call_service(&app, http::TestRequest::get().uri("/login").to_request()).await;
            assert_eq!(response.status().as_u16(), 200);
            assert_eq!(
                response.headers().get("X-Request-Id").map(|v| v.len()),
                Some(12)
            );
        });
    });
}

#[test]
fn a_clash_with_what_is_stored_is_a_409_and_bad_input_a_400_naming_the_field() {
    on_each_backend(|db| {
        let _conn = seeded(db);
        actix_web::rt::System::new().block_on(async {
            let app = app(state(db, Config::default())).await;
            let admin = sign_in(&app, "admin").await;

            // 2019H2 exists: creating it again clashes.
            let (status, body) =
                post_form(&app, &admin, "/admin/campaigns", &[("period", "2019H2")]).await;
            assert_eq!(status, 409, "{body}");
            assert!(body.contains("2019H2 的评议活动已存在"), "{body}");

            // A published campaign cannot be discarded: a state clash, 409 too.
            let (status, body) = post_form(
                &app,
                &admin,
                "/admin/campaigns/2019H2/actions/discard",
                &[("reason", "测试")],
            )
            .await;
            assert_eq!(status, 409, "{body}");

            // What the caller typed wrong: 400, the message names the field and the value.
            let (status, body) = post_form(
                &app,
                &admin,
                "/admin/campaigns",
                &[("period", "2020H1"), ("sample", "很多")],
            )
            .await;
            assert_eq!(status, 400, "{body}");
            assert!(body.contains("样本量「很多」格式有误"), "{body}");
            let (status, body) = post_form(
                &app,
                &admin,
                "/admin/campaigns/2019H2/actions/extend",
                &[("closes", "下个月")],
            )
            .await;
            assert_eq!(status, 400, "{body}");
            assert!(body.contains("新的截止日期「下个月」格式有误"), "{body}");

            // Nothing of the refused actions was written, their audit rows included.
            let (_, log) = get(&app, "/admin/", Some(&admin.cookie)).await;
            assert!(!log.contains("2020H1"), "{log}");
        });
        let mut conn = db.conn();
        let actions: Vec<String> = qiping::service::audit::list(&mut conn)
            .unwrap()
            .into_iter()
            .map(|r| r.action)
            .filter(|a| a.starts_with("campaign."))
            .collect();
        assert!(actions.is_empty(), "{actions:?}");
    });
}

#[test]
fn a_unique_constraint_violation_is_a_conflict_in_one_place_for_every_use_case() {
    on_each_backend(|db| {
        let mut conn = seeded(db);
        // Straight at the table, past the use case's own check: the database refuses the
        // duplicate, and the service error says conflict (409), not an internal fault.
        let duplicate = qiping::db::campaigns::insert(
            &mut conn,
            &qiping::db::campaigns::NewCampaign {
                period: "2019H2",
                state: "draft",
                template_name: "standard",
                template_toml: "",
                opens_on: chrono::NaiveDate::from_ymd_opt(2019, 11, 1).unwrap(),
                closes_on: chrono::NaiveDate::from_ymd_opt(2019, 11, 30).unwrap(),
                sample_size: None,
                sample_seed: None,
                created_at: qiping::db::now(),
                weighted: Some(false),
            },
        )
        .map_err(ServiceError::from)
        .unwrap_err();
        assert!(
            matches!(duplicate, ServiceError::Conflict(ref m) if m == qiping::service::DUPLICATE_MESSAGE),
            "{}: {duplicate:?}",
            db.backend
        );
        let web: qiping::web::error::WebError = duplicate.into();
        assert_eq!(actix_web::ResponseError::status_code(&web).as_u16(), 409);
    });
}

/// A log sink the test can read back.
#[derive(Clone, Default)]
struct Sink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn an_internal_faults_cause_is_logged_with_the_request_id_the_client_was_shown() {
    let sink = Sink::default();
    let writer = sink.clone();
    // The process's subscriber (the handler logs from actix's blocking threads, which a
    // thread's own subscriber would miss), keeping spans and errors only: the other tests of the
    // binary add at most their own error lines to the sink, and this test looks for its id.
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(move || writer.clone())
                .with_ansi(false)
                .with_filter(tracing_subscriber::filter::filter_fn(|meta| {
                    meta.is_span() || *meta.level() == tracing::Level::ERROR
                })),
        )
        .try_init()
        .unwrap();
    on_each_backend(|db| {
        let mut conn = seeded(db);
        let token = inspector_token(&mut conn);
        corrupt_a_flag(&mut conn);
        let id = actix_web::rt::System::new().block_on(async {
            let app = app(state(db, Config::default())).await;
            let response = http::call_service(&app, flags_request(&token)).await;
            assert_eq!(response.status().as_u16(), 500);
            response
                .headers()
                .get("X-Request-Id")
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned()
        });
        let log = String::from_utf8_lossy(&sink.0.lock().unwrap()).into_owned();
        let line = log
            .lines()
            .find(|l| l.contains(&format!("request_id={id}")) && l.contains("ERROR"))
            .unwrap_or_else(|| panic!("{}: no error line with {id}:\n{log}", db.backend));
        assert!(line.contains("存储的问责提示无法读取"), "the cause: {line}");
    });
}
