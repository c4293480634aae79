//! Fixtures for the account tests: a small registry with two departments, users of every role,
//! a published campaign with a flag, comments, and helpers that sign in through the real pages.
//! Distinctive marker strings let a test check that a denied answer shows no protected data.
#![allow(dead_code)]

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::{App, test, web};
use diesel::connection::SimpleConnection;
use qiping::config::Config;
use qiping::db::{Conn, DatabaseUrl};
use qiping::domain::{Role, Secret};
use qiping::service::accounts;
use qiping::web::{AppState, routes};

use crate::common::TestDb;

/// Every user's password in these tests.
pub const PASSWORD: &str = "correct-horse-battery";

/// Strings that only appear in protected data.
pub const MARKERS: &[&str] = &[
    "甲局",
    "乙局",
    "问责证据标记",
    "五家留言",
    "少数留言",
    "2019H2",
];

/// Runs SQL on whichever backend `conn` is.
pub fn exec(conn: &mut Conn, sql: &str) {
    let result = match conn {
        Conn::Sqlite(c) => c.batch_execute(sql),
        Conn::Postgres(c) => c.batch_execute(sql),
    };
    result.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Units A01 (甲局) with office A01-1 under it, B01 (乙局); a published 2019H2 campaign with
/// A01-1's results and a flag on it; five commenters on A01-1 and three on A01.
pub fn seed(conn: &mut Conn) {
    exec(
        conn,
        "INSERT INTO peer_groups (id, name) VALUES (1, '部门'), (2, '处室');
         INSERT INTO units (id, code, name, kind, parent_code, peer_group, created_at, updated_at) VALUES
           (1, 'A01', '甲局', 'department', NULL, '部门', '2026-01-01 00:00:00', '2026-01-01 00:00:00'),
           (2, 'A01-1', '甲局审批处', 'office', 'A01', '处室', '2026-01-01 00:00:00', '2026-01-01 00:00:00'),
           (3, 'B01', '乙局', 'department', NULL, '部门', '2026-01-01 00:00:00', '2026-01-01 00:00:00');
         INSERT INTO campaigns (id, period, state, template_name, template_toml, opens_on, closes_on, created_at) VALUES
           (1, '2019H2', 'published', 'standard', '', '2019-11-01', '2019-11-30', '2019-10-01 00:00:00');
         INSERT INTO aggregations (id, campaign_id, method_version, seed, settings, computed_at) VALUES
           (1, 1, 'test', 1, '{}', '2019-12-05 00:00:00');
         INSERT INTO publications (id, campaign_id, version, aggregation_id, published_at, results_json) VALUES
           (1, 1, 1, 1, '2019-12-10 00:00:00', '{\"period\":\"2019H2\",\"version\":1,\"supersedes\":null,\"reason\":null,\"published_at\":\"2019-12-10T08:00:00+08:00\",\"method_version\":\"test\",\"seed\":1,\"peer_groups\":[{\"name\":\"处室\",\"tau2\":12.5,\"mu\":70.0,\"units\":[{\"code\":\"A01-1\",\"name\":\"甲局审批处\",\"kind\":\"office\",\"n\":40,\"n_eff\":38.0,\"response_rate\":0.5,\"score\":61.0,\"ci_low\":55.0,\"ci_high\":67.0,\"satisfied_rate\":0.4,\"satisfied_low\":0.3,\"satisfied_high\":0.5,\"shrunken\":62.0,\"rank\":12,\"rank_mean\":11.5,\"rank_low\":10,\"rank_high\":12,\"p_bottom5\":0.93,\"eligible\":true,\"suppressed\":false}]}],\"flags\":[{\"unit_code\":\"A01-1\",\"periods\":[\"2019H1\",\"2019H2\"],\"credible\":true}]}');
         INSERT INTO flags (id, publication_id, unit_id, periods, credible, evidence) VALUES
           (1, 1, 2, '[\"2019H1\",\"2019H2\"]', TRUE, '{\"unit_code\":\"A01-1\",\"unit_name\":\"甲局审批处\",\"kind\":\"office\",\"peer_group\":\"处室\",\"periods\":[\"2019H1\",\"2019H2\"],\"credible\":true,\"evidence\":[{\"period\":\"2019H2\",\"unit_code\":\"A01-1\",\"n\":40,\"response_rate\":0.5,\"score\":61.0,\"ci_low\":55.0,\"ci_high\":67.0,\"rank\":12,\"rank_low\":10,\"rank_high\":12,\"p_bottom5\":0.93,\"tau2\":12.5,\"heads\":[{\"name\":\"问责证据标记\",\"from\":\"2018-01-01\",\"to\":null}]}]}');",
    );
    for i in 1..=5 {
        add_response(conn, i, 2, &format!("五家留言{i}"));
    }
    for i in 6..=8 {
        add_response(conn, i, 1, &format!("少数留言{i}"));
    }
}

/// One rating of campaign 1 with a comment on one unit, as the close stores it (no response),
/// the comment approved (已通过) by the 营商办.
pub fn add_response(conn: &mut Conn, id: i64, unit_id: i64, comment: &str) {
    add_response_in(conn, 1, id, unit_id, comment);
}

/// One rating of campaign `campaign` with a comment on one unit, as the close stores it.
pub fn add_response_in(conn: &mut Conn, campaign: i64, id: i64, unit_id: i64, comment: &str) {
    exec(
        conn,
        &format!(
            "INSERT INTO ratings (id, campaign_id, unit_id, self_selected, answers, problems,
                 comment, size, industry, district, comment_review)
               VALUES ({id}, {campaign}, {unit_id}, FALSE, '{{}}', '[]', '{comment}', '', '',
                 '', 'approved');"
        ),
    );
}

/// The users of the matrix: admin, inspector, unit_a (A01), unit_b (B01).
pub fn add_users(conn: &mut Conn) {
    let pw = Secret::new(PASSWORD);
    for (name, role, unit) in [
        ("admin", Role::Admin, None),
        ("inspector", Role::Inspector, None),
        ("unit_a", Role::Unit, Some("A01")),
        ("unit_b", Role::Unit, Some("B01")),
    ] {
        accounts::add_user(
            conn,
            &qiping::service::Actor::stored("test"),
            name,
            role,
            unit,
            &pw,
        )
        .expect("add user");
    }
}

/// A migrated, seeded database with the four users.
pub fn seeded(db: &TestDb) -> Conn {
    let mut conn = db.conn();
    seed(&mut conn);
    add_users(&mut conn);
    conn
}

/// The server's state on `db`; links are those of the test secret unless `config` names another
/// (a server without `link_secret` cannot tell whether a link has answered).
pub fn state(db: &TestDb, mut config: Config) -> AppState {
    let pool = DatabaseUrl::parse(&db.url)
        .expect("url")
        .pool(2)
        .expect("pool");
    if config.link_secret.is_none() {
        config.link_secret = Some(crate::survey_support::server::SECRET.into());
    }
    AppState::new(pool, config).expect("state")
}

/// The app under test, as `serve` builds it.
pub async fn app(
    state: AppState,
) -> impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error> {
    test::init_service(App::new().app_data(web::Data::new(state)).configure(routes)).await
}

pub use actix_http::Request;

/// A signed-in browser: its session cookie and the CSRF token of its pages.
#[derive(Debug, Clone)]
pub struct Browser {
    pub cookie: String,
    pub csrf: String,
}

/// Posts the login form (with its double-submit token) from `address`; the raw response.
pub async fn post_login<S, B>(
    app: &S,
    name: &str,
    password: &str,
    address: &str,
) -> (u16, String, Option<String>)
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let form = test::call_service(app, test::TestRequest::get().uri("/login").to_request()).await;
    let login_cookie = set_cookie(&form, "qiping_login_csrf").expect("login csrf cookie");
    let body = String::from_utf8(test::read_body(form).await.to_vec()).expect("utf8");
    let token = hidden_field(&body, "csrf_token").expect("csrf field");
    assert_eq!(token, login_cookie, "double-submit token");
    let response = test::call_service(
        app,
        test::TestRequest::post()
            .uri("/login")
            .peer_addr(address.parse().expect("address"))
            .cookie(actix_web::cookie::Cookie::new(
                "qiping_login_csrf",
                login_cookie,
            ))
            .set_form([
                ("name", name),
                ("password", password),
                ("csrf_token", token.as_str()),
            ])
            .to_request(),
    )
    .await;
    let status = response.status().as_u16();
    let session = set_cookie(&response, "qiping_session");
    let body = String::from_utf8(test::read_body(response).await.to_vec()).expect("utf8");
    (status, body, session)
}

/// Signs in and reads the CSRF token from the user's home page.
pub async fn sign_in<S, B>(app: &S, name: &str) -> Browser
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let (status, body, session) = post_login(app, name, PASSWORD, "10.0.0.1:1000").await;
    assert_eq!(status, 303, "{name} signs in: {body}");
    let cookie = session.expect("session cookie");
    let home = match name {
        "admin" => "/admin/",
        "inspector" => "/inspect/",
        _ => "/unit/",
    };
    let (status, body) = get(app, home, Some(&cookie)).await;
    assert_eq!(status, 200, "{name} home: {body}");
    let csrf = hidden_field(&body, "csrf_token").expect("csrf on page");
    Browser { cookie, csrf }
}

/// GET with an optional session cookie: status and body.
pub async fn get<S, B>(app: &S, uri: &str, cookie: Option<&str>) -> (u16, String)
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut request = test::TestRequest::get().uri(uri);
    if let Some(cookie) = cookie {
        request = request.cookie(actix_web::cookie::Cookie::new(
            "qiping_session",
            cookie.to_owned(),
        ));
    }
    let response = test::call_service(app, request.to_request()).await;
    let status = response.status().as_u16();
    let body = String::from_utf8(test::read_body(response).await.to_vec()).expect("utf8");
    (status, body)
}

/// Posts a form as `browser` (its CSRF token first): status and body.
pub async fn post_form<S, B>(
    app: &S,
    browser: &Browser,
    uri: &str,
    fields: &[(&str, &str)],
) -> (u16, String)
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut form: Vec<(&str, &str)> = vec![("csrf_token", browser.csrf.as_str())];
    form.extend_from_slice(fields);
    let response = test::call_service(
        app,
        test::TestRequest::post()
            .uri(uri)
            .cookie(actix_web::cookie::Cookie::new(
                "qiping_session",
                browser.cookie.clone(),
            ))
            .set_form(form)
            .to_request(),
    )
    .await;
    let status = response.status().as_u16();
    let body = String::from_utf8(test::read_body(response).await.to_vec()).expect("utf8");
    (status, body)
}

/// The value of `name="…" value="…"` in a page.
pub fn hidden_field(body: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body.find(&marker)? + marker.len();
    let end = body[start..].find('"')? + start;
    Some(body[start..end].to_owned())
}

/// The value a response sets for cookie `name`.
pub fn set_cookie<B>(response: &ServiceResponse<B>, name: &str) -> Option<String> {
    response
        .response()
        .cookies()
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}
