//! The survey's HTTP surface through actix's test service (no socket), on SQLite: the page, the
//! form, the JSON twin, every validation path, link states, the rate limit and the OpenAPI file.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use crate::common;
use crate::survey_support;

use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::{App, test, web};
use common::TestDb;
use common::scenario::{counts, expire, open_survey_campaign};
use qiping::config::Config;
use qiping::db::{Conn, DatabaseUrl};
use qiping::web::{AppState, routes};
use serde_json::{Value, json};
use survey_support::{asked_codes, data};

struct Setup {
    db: TestDb,
    tokens: Vec<String>,
    state: AppState,
}

fn setup(rate: u32) -> Setup {
    let db = TestDb::sqlite();
    let tokens = open_survey_campaign(&mut db.conn(), 3);
    let pool = DatabaseUrl::parse(&db.url).unwrap().pool(4).unwrap();
    let mut config = Config {
        link_secret: Some(crate::survey_support::server::SECRET.into()),
        ..Config::default()
    };
    config.server.submit_rate_per_minute = rate;
    let state = AppState::new(pool, config).unwrap();
    Setup { db, tokens, state }
}

impl Setup {
    fn conn(&self) -> Conn {
        self.db.conn()
    }
}

async fn app(
    s: &Setup,
) -> impl Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error> {
    test::init_service(
        App::new()
            .app_data(web::Data::new(s.state.clone()))
            .configure(routes),
    )
    .await
}

async fn body_text(response: ServiceResponse) -> String {
    String::from_utf8(test::read_body(response).await.to_vec()).unwrap()
}

fn form_body(pairs: &[(String, String)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap()
}

/// A complete posted form for `codes`, answering 4 (满意) everywhere except `skip`.
fn complete_form(codes: &[String], skip: Option<(usize, &str)>) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    for code in codes {
        pairs.push(("unit".to_owned(), code.clone()));
    }
    for i in 0..codes.len() {
        for q in [
            "attitude",
            "efficiency",
            "policy",
            "lawful",
            "integrity",
            "overall",
        ] {
            if skip != Some((i, q)) {
                pairs.push((format!("u{i}.{q}"), "4".to_owned()));
            }
        }
    }
    pairs.push(("action".to_owned(), "submit".to_owned()));
    pairs
}

#[actix_web::test]
async fn the_page_shows_every_unit_with_labelled_choices_and_counts_the_view() {
    let s = setup(0);
    let app = app(&s).await;
    let uri = format!("/s/{}", s.tokens[0]);
    let response = test::call_service(&app, test::TestRequest::get().uri(&uri).to_request()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert_eq!(headers.get("cache-control").unwrap(), "no-store");
    assert_eq!(headers.get("referrer-policy").unwrap(), "no-referrer");
    assert!(headers.get("content-security-policy").is_some());
    let page = body_text(response).await;
    assert!(page.contains("<h2>第1局</h2>"), "grouped by department");
    assert!(page.contains("第1局第3处"));
    assert!(page.contains(r#"<label for="u0-attitude-5"><input type="radio" id="u0-attitude-5" name="u0.attitude" value="5">"#));
    assert!(page.contains("不了解/未接触"));
    assert!(page.contains("匿名"));
    assert!(
        page.contains("所有单位的意见合计最多 2000 字"),
        "the comment budget is said"
    );
    assert!(
        page.contains(r#"id="comment-count""#),
        "with room for the script's counter"
    );
    assert!(!page.contains("<script>"), "no inline script");
    // The view is counted for the campaign and the day, never on the invitation.
    s.state.survey.views.flush(&mut s.conn()).unwrap();
    let period = survey_support::PERIOD.parse().unwrap();
    let shown = qiping::service::campaign::show(&mut s.conn(), &period).unwrap();
    assert_eq!(shown.opened, 1);

    let english = test::call_service(
        &app,
        test::TestRequest::get()
            .uri(&format!("{uri}?lang=en"))
            .to_request(),
    )
    .await;
    let page = body_text(english).await;
    assert!(
        page.contains("Don&#39;t know / no contact") || page.contains("Don&#x27;t know"),
        "{page}"
    );
}

#[actix_web::test]
async fn a_complete_form_is_stored_and_answered_with_the_thank_you_page() {
    let s = setup(0);
    let app = app(&s).await;
    let uri = format!("/s/{}", s.tokens[0]);
    let request = test::TestRequest::post()
        .uri(&uri)
        .insert_header(("content-type", "application/x-www-form-urlencoded"))
        .set_payload(form_body(&complete_form(&asked_codes(), None)))
        .to_request();
    let response = test::call_service(&app, request).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers().get("location").unwrap(), "/s/thanks");
    assert_eq!(counts(&mut s.conn()), (1, 4));
    let thanks =
        test::call_service(&app, test::TestRequest::get().uri("/s/thanks").to_request()).await;
    let page = body_text(thanks).await;
    assert!(page.contains("提交成功") && page.contains(r#"data-submitted="1""#));
    // The link now shows the used page.
    let used = test::call_service(&app, test::TestRequest::get().uri(&uri).to_request()).await;
    assert_eq!(used.status(), StatusCode::CONFLICT);
    assert!(body_text(used).await.contains("已提交过"));
}

#[actix_web::test]
async fn a_refused_form_comes_back_with_the_answers_kept_and_each_error_beside_its_field() {
    let s = setup(0);
    let app = app(&s).await;
    let mut pairs = complete_form(&asked_codes(), Some((1, "overall")));
    pairs.push(("u2.c".into(), "字".repeat(501)));
    pairs.push(("u0.p".into(), "slow".into()));
    let request = test::TestRequest::post()
        .uri(&format!("/s/{}", s.tokens[0]))
        .insert_header(("content-type", "application/x-www-form-urlencoded"))
        .set_payload(form_body(&pairs))
        .to_request();
    let response = test::call_service(&app, request).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = body_text(response).await;
    assert!(page.contains("此题必答"));
    assert!(page.contains("意见建议最多 500 字"));
    assert!(page.contains(r#"value="4" checked"#), "answers kept");
    assert!(page.contains(r#"value="slow" checked"#), "problems kept");
    assert!(page.contains(&"字".repeat(501)), "comment kept");
    assert!(
        page.contains(r#"data-restore="0""#),
        "the server's copy wins"
    );
    // The error sits in the fieldset of unit 1's overall question.
    let at = page.find("此题必答").unwrap();
    let fieldset = page[..at].rfind("<fieldset").unwrap();
    assert!(page[fieldset..at].contains("has-error"));
    assert!(page[at..].find("name=\"u1.overall\"").is_some());
    assert_eq!(counts(&mut s.conn()), (0, 0));
}

#[actix_web::test]
async fn a_unit_can_be_found_and_added_without_javascript_keeping_the_answers() {
    let s = setup(0);
    let app = app(&s).await;
    let uri = format!("/s/{}", s.tokens[0]);
    let mut pairs = complete_form(&asked_codes(), None);
    pairs.retain(|(k, _)| k != "action");
    pairs.push(("q".into(), "第3局".into()));
    pairs.push(("action".into(), "search".into()));
    let post = |pairs: &[(String, String)]| {
        test::TestRequest::post()
            .uri(&uri)
            .insert_header(("content-type", "application/x-www-form-urlencoded"))
            .set_payload(form_body(pairs))
            .to_request()
    };
    let found = test::call_service(&app, post(&pairs)).await;
    assert_eq!(found.status(), StatusCode::OK);
    let page = body_text(found).await;
    assert!(page.contains(r#"value="add:D03-O2""#), "{page}");
    assert!(!page.contains(r#"value="add:D01""#), "already on the form");

    pairs.pop();
    pairs.push(("action".into(), "add:D03-O2".into()));
    let added = body_text(test::call_service(&app, post(&pairs)).await).await;
    assert!(added.contains(r#"<input type="hidden" name="unit" value="D03-O2">"#));
    assert!(added.contains("您添加的单位"));
    assert!(added.contains(r#"value="4" checked"#));

    // Submitting with the added unit answered stores it as self-selected.
    let mut codes = asked_codes();
    codes.push("D03-O2".into());
    let response = test::call_service(&app, post(&complete_form(&codes, None))).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(counts(&mut s.conn()), (1, 5));
}

async fn post_json(
    app: &impl Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
    body: impl Into<actix_web::web::Bytes>,
) -> (StatusCode, Value) {
    let request = test::TestRequest::post()
        .uri("/api/v1/responses")
        .insert_header(("content-type", "application/json"))
        .set_payload(body.into())
        .to_request();
    let response = test::call_service(app, request).await;
    let status = response.status();
    let body = test::read_body(response).await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

fn valid(token: &str) -> Value {
    serde_json::from_str(&data::submission_json(token, &asked_codes())).unwrap()
}

fn error_fields(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn the_json_survey_lists_units_questions_and_problems() {
    let s = setup(0);
    let app = app(&s).await;
    let uri = format!("/api/v1/survey/{}", s.tokens[0]);
    let response = test::call_service(&app, test::TestRequest::get().uri(&uri).to_request()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = test::read_body_json(response).await;
    assert_eq!(body["period"], "2019H2");
    assert!(body["closes_at"].as_str().unwrap().ends_with("15:59:59Z"));
    assert_eq!(body["units"].as_array().unwrap().len(), 4);
    assert_eq!(body["units"][1]["department"], "第1局");
    assert_eq!(body["questions"][0]["id"], "attitude");
    assert_eq!(
        body["questions"][0]["levels"][0],
        json!({"value": 5, "label": "非常满意", "points": 100.0})
    );
    assert_eq!(body["questions"][0]["allows_na"], true);
    assert_eq!(
        body["problems"][1],
        json!({"id": "slow", "label": "慢作为"})
    );
    let unknown = test::call_service(
        &app,
        test::TestRequest::get()
            .uri(&format!("/api/v1/survey/{}", "x".repeat(43)))
            .to_request(),
    )
    .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn the_json_submission_answers_201_then_409_and_404_for_an_unknown_link() {
    let s = setup(0);
    let app = app(&s).await;
    let (status, body) = post_json(&app, valid(&s.tokens[0]).to_string()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = post_json(&app, valid(&s.tokens[0]).to_string()).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body["error"].as_str().unwrap().contains("已提交过"));
    let (status, _) = post_json(&app, valid(&"Q".repeat(43)).to_string()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = post_json(&app, valid("short").to_string()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    expire(&mut s.conn());
    let (status, _) = post_json(&app, valid(&s.tokens[1]).to_string()).await;
    assert_eq!(status, StatusCode::GONE);
    assert_eq!(counts(&mut s.conn()), (1, 4));
}

/// One way to spoil a valid submission.
type Change = Box<dyn Fn(&mut Value)>;

#[actix_web::test]
async fn every_invalid_answer_is_a_422_naming_its_field() {
    let s = setup(0);
    let app = app(&s).await;
    let token = &s.tokens[0];
    let cases: Vec<(Change, &str)> = vec![
        (
            Box::new(|v| v["ratings"][0]["answers"]["efficiency"] = json!(6)),
            "ratings[0].answers.efficiency",
        ),
        (
            Box::new(|v| v["ratings"][0]["answers"]["efficiency"] = json!(0)),
            "ratings[0].answers.efficiency",
        ),
        (
            Box::new(|v| v["ratings"][1]["answers"]["mood"] = json!(3)),
            "ratings[1].answers.mood",
        ),
        (
            Box::new(|v| {
                v["ratings"][2]["answers"]
                    .as_object_mut()
                    .unwrap()
                    .remove("overall");
            }),
            "ratings[2].answers.overall",
        ),
        (
            Box::new(|v| v["ratings"][0]["unit_code"] = json!("NOPE")),
            "ratings[0].unit_code",
        ),
        (
            Box::new(|v| v["ratings"][1]["unit_code"] = json!("D01")),
            "ratings[1].unit_code",
        ),
        (
            Box::new(|v| v["ratings"][0]["problems"] = json!(["slow", "lazy"])),
            "ratings[0].problems[1]",
        ),
        (
            Box::new(|v| v["ratings"][3]["comment"] = json!("评".repeat(501))),
            "ratings[3].comment",
        ),
        (
            Box::new(|v| v["ratings"][0]["comment"] = json!("a\u{0}b")),
            "ratings[0].comment",
        ),
        (Box::new(|v| v["ratings"] = json!([])), "ratings"),
        // Five units with 401 characters each: every comment within its own 500, all of them
        // over the 2,000 of one ballot.
        (
            Box::new(|v| {
                let mut fifth = v["ratings"][0].clone();
                fifth["unit_code"] = json!("D02-O1");
                v["ratings"].as_array_mut().unwrap().push(fifth);
                for i in 0..5 {
                    v["ratings"][i]["comment"] = json!("评".repeat(401));
                }
            }),
            "ratings",
        ),
        (
            Box::new(|v| v["ratings"][0]["answers"]["efficiency"] = json!("good")),
            "body",
        ),
        (Box::new(|v| v["extra"] = json!(1)), "body"),
        (
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("token");
            }),
            "body",
        ),
    ];
    for (change, field) in cases {
        let mut body = valid(token);
        change(&mut body);
        let (status, answer) = post_json(&app, body.to_string()).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}: {answer}"
        );
        assert_eq!(error_fields(&answer)[0], field, "{answer}");
    }
    let (status, answer) = post_json(&app, b"{\"token\":\"\xff\xfe\"}".to_vec()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        answer["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("UTF-8")
    );
    let (status, _) = post_json(&app, "not json").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(counts(&mut s.conn()), (0, 0));
    // 不了解/未接触 everywhere is a valid answer.
    let mut body = valid(token);
    for q in [
        "attitude",
        "efficiency",
        "policy",
        "lawful",
        "integrity",
        "overall",
    ] {
        body["ratings"][0]["answers"][q] = Value::Null;
    }
    assert_eq!(
        post_json(&app, body.to_string()).await.0,
        StatusCode::CREATED
    );
}

#[actix_web::test]
async fn unknown_and_expired_links_read_the_same_and_a_used_link_says_so() {
    let s = setup(0);
    let app = app(&s).await;
    let get = |uri: String| test::TestRequest::get().uri(&uri).to_request();
    let unknown = test::call_service(&app, get(format!("/s/{}", "z".repeat(43)))).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let unknown_page = body_text(unknown).await;
    expire(&mut s.conn());
    let expired = test::call_service(&app, get(format!("/s/{}", s.tokens[0]))).await;
    assert_eq!(expired.status(), StatusCode::GONE);
    let expired_page = body_text(expired).await;
    assert_eq!(unknown_page, expired_page, "nothing tells the two apart");
    assert!(unknown_page.contains("链接无效或评议已结束"));
    assert!(!expired_page.contains(&s.tokens[0]));
}

#[actix_web::test]
async fn an_address_past_its_rate_is_refused_with_429() {
    let s = setup(2);
    let app = app(&s).await;
    let peer: std::net::SocketAddr = "203.0.113.9:5555".parse().unwrap();
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let request = test::TestRequest::get()
            .uri(&format!("/s/{}", s.tokens[0]))
            .peer_addr(peer)
            .to_request();
        statuses.push(test::call_service(&app, request).await.status());
    }
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    let request = test::TestRequest::post()
        .uri("/api/v1/responses")
        .peer_addr(peer)
        .insert_header(("content-type", "application/json"))
        .set_payload(valid(&s.tokens[0]).to_string())
        .to_request();
    let response = test::call_service(&app, request).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().get("retry-after").is_some());
}

#[actix_web::test]
async fn the_openapi_document_describes_the_survey_api_and_its_statuses() {
    let s = setup(0);
    let app = app(&s).await;
    let response = test::call_service(
        &app,
        test::TestRequest::get().uri("/openapi.json").to_request(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let doc: Value = test::read_body_json(response).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let post = &doc["paths"]["/api/v1/responses"]["post"]["responses"];
    for code in ["201", "404", "409", "410", "422", "429"] {
        assert!(post.get(code).is_some(), "{code}");
    }
    let get = &doc["paths"]["/api/v1/survey/{token}"]["get"]["responses"];
    for code in ["200", "404", "409", "410", "429"] {
        assert!(get.get(code).is_some(), "{code}");
    }
    let rating = &doc["components"]["schemas"]["Rating"]["properties"];
    for key in ["unit_code", "answers", "problems", "comment"] {
        assert!(rating.get(key).is_some(), "{key}");
    }
}

#[actix_web::test]
async fn the_stylesheet_and_script_are_served_from_this_origin() {
    let s = setup(0);
    let app = app(&s).await;
    for (uri, kind) in [
        ("/static/survey.css", "text/css"),
        ("/static/survey.js", "text/javascript"),
    ] {
        let response =
            test::call_service(&app, test::TestRequest::get().uri(uri).to_request()).await;
        assert_eq!(response.status(), StatusCode::OK);
        let content_type = response
            .headers()
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap();
        assert!(content_type.starts_with(kind), "{content_type}");
    }
}
