//! The authorization matrix: every route of `qiping::web::routes::ROUTES` against every kind of
//! caller, each answer written down in one table. A route without a row fails the test, so a route
//! added later must say who may reach it. Denied means 401/403/404 and none of the protected
//! marker strings in the body.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use crate::common;
use crate::common::accounts;

use accounts::{MARKERS, app, seeded, sign_in, state};
use actix_web::cookie::Cookie;
use actix_web::test;
use common::TestDb;
use qiping::config::Config;
use qiping::web::routes::{ROUTES, Verb};

/// Columns: no login, the public with a forged cookie and token, admin, inspector, the viewer of
/// unit A01, the viewer of unit B01.
const CALLERS: [&str; 6] = ["none", "public", "admin", "inspector", "unit_a", "unit_b"];

/// (method, path pattern) → expected status per caller. POSTs are sent without a CSRF token.
const MATRIX: &[(&str, &str, [u16; 6])] = &[
    //                                       none public admin insp  unitA unitB
    (
        "GET",
        "/healthz",
        /*               */ [200, 200, 200, 200, 200, 200],
    ),
    (
        "GET",
        "/login",
        /*                 */ [200, 200, 200, 200, 200, 200],
    ),
    (
        "POST",
        "/login",
        /*                */ [403, 403, 403, 403, 403, 403],
    ),
    (
        "POST",
        "/logout",
        /*               */ [401, 401, 403, 403, 403, 403],
    ),
    (
        "GET",
        "/admin/",
        /*                */ [401, 401, 200, 403, 403, 403],
    ),
    // The 营商办's dashboard: admins only; POSTs without a CSRF token are refused even for them.
    ("POST", "/admin/campaigns", [401, 401, 403, 403, 403, 403]),
    (
        "GET",
        "/admin/campaigns/{period}",
        [401, 401, 200, 403, 403, 403],
    ),
    (
        "GET",
        "/admin/campaigns/{period}/invitees.csv",
        [401, 401, 200, 403, 403, 403],
    ),
    (
        "POST",
        "/admin/campaigns/{period}/interactions",
        [401, 401, 403, 403, 403, 403],
    ),
    (
        "POST",
        "/admin/campaigns/{period}/actions/{action}",
        [401, 401, 403, 403, 403, 403],
    ),
    // The ballot key's upload back (open) and the close with it: multipart, admins only.
    (
        "POST",
        "/admin/campaigns/{period}/key-check",
        [401, 401, 403, 403, 403, 403],
    ),
    (
        "POST",
        "/admin/campaigns/{period}/close",
        [401, 401, 403, 403, 403, 403],
    ),
    // The 「未公布 · 预览」 of results: admins only, and 404 (not 403) to any other role, so a
    // unit cannot even learn that results are computed. 2019H2 is published here from its newest
    // aggregation: the admin is told there is nothing new to preview (409).
    (
        "GET",
        "/admin/campaigns/{period}/preview",
        [401, 401, 409, 404, 404, 404],
    ),
    (
        "GET",
        "/admin/campaigns/{period}/preview/{file}",
        [401, 401, 409, 404, 404, 404],
    ),
    (
        "GET",
        "/admin/campaigns/{period}/comments",
        [401, 401, 200, 403, 403, 403],
    ),
    (
        "POST",
        "/admin/comments/{id}/hide",
        [401, 401, 403, 403, 403, 403],
    ),
    (
        "POST",
        "/admin/comments/{id}/approve",
        [401, 401, 403, 403, 403, 403],
    ),
    (
        "POST",
        "/admin/campaigns/{period}/comments/approve-all",
        [401, 401, 403, 403, 403, 403],
    ),
    // Nothing was published to files in this database: the admin gets 404.
    (
        "GET",
        "/admin/reports/{period}/{file:.*}",
        [401, 401, 404, 403, 403, 403],
    ),
    ("GET", "/admin/units", [401, 401, 200, 403, 403, 403]),
    ("GET", "/admin/units/{code}", [401, 401, 200, 403, 403, 403]),
    ("GET", "/admin/enterprises", [401, 401, 200, 403, 403, 403]),
    (
        "POST",
        "/admin/import/units",
        [401, 401, 403, 403, 403, 403],
    ),
    (
        "POST",
        "/admin/import/enterprises",
        [401, 401, 403, 403, 403, 403],
    ),
    ("POST", "/admin/mail/bounce", [401, 401, 403, 403, 403, 403]),
    (
        "GET",
        "/inspect/",
        /*              */ [401, 401, 403, 200, 403, 403],
    ),
    (
        "GET",
        "/inspect/search",
        /*        */ [401, 401, 403, 200, 403, 403],
    ),
    (
        "GET",
        "/inspect/units/{code}",
        /*  */ [401, 401, 403, 200, 403, 403],
    ),
    (
        "GET",
        "/inspect/people/{name}",
        /* */ [401, 401, 403, 200, 403, 403],
    ),
    (
        "GET",
        "/unit/",
        /*                 */ [401, 401, 403, 403, 200, 200],
    ),
    (
        "GET",
        "/unit/{code}",
        /*           */ [401, 401, 403, 403, 200, 404],
    ),
    (
        "GET",
        "/api/v1/flags",
        /*          */ [401, 401, 403, 200, 403, 403],
    ),
    (
        "GET",
        "/api/v1/units/{code}/history",
        [401, 401, 403, 200, 403, 403],
    ),
    (
        "GET",
        "/api/v1/people/{name}/history",
        [401, 401, 403, 200, 403, 403],
    ),
    // Public: the published rankings (nothing is published in this database) and the survey
    // behind a one-time link (an unknown link reads the same for everyone).
    ("GET", "/assets/site.css", [200, 200, 200, 200, 200, 200]),
    ("GET", "/rankings/{period}", [404, 404, 404, 404, 404, 404]),
    // Nothing is published in this database: the method page of a publication is 404 too.
    (
        "GET",
        "/rankings/{period}/method",
        [404, 404, 404, 404, 404, 404],
    ),
    (
        "GET",
        "/api/v1/campaigns/{period}/results",
        [404, 404, 404, 404, 404, 404],
    ),
    ("GET", "/static/survey.css", [200, 200, 200, 200, 200, 200]),
    ("GET", "/static/survey.js", [200, 200, 200, 200, 200, 200]),
    ("GET", "/s/thanks", [200, 200, 200, 200, 200, 200]),
    ("GET", "/s/{token}", [404, 404, 404, 404, 404, 404]),
    ("POST", "/s/{token}", [404, 404, 404, 404, 404, 404]),
    (
        "GET",
        "/api/v1/survey/{token}",
        [404, 404, 404, 404, 404, 404],
    ),
    ("POST", "/api/v1/responses", [422, 422, 422, 422, 422, 422]),
    ("GET", "/openapi.json", [200, 200, 200, 200, 200, 200]),
    // The problem list: the 营商办's list and actions, a unit's own problems, the inspectors'
    // escalated cases; forms without a CSRF token are refused (403); problem 999 does not exist.
    ("GET", "/admin/problems", [401, 401, 200, 403, 403, 403]),
    ("POST", "/admin/problems", [401, 401, 403, 403, 403, 403]),
    (
        "GET",
        "/admin/problems/{id}",
        [401, 401, 404, 403, 403, 403],
    ),
    (
        "POST",
        "/admin/problems/{id}/assign",
        [401, 401, 403, 403, 403, 403],
    ),
    (
        "POST",
        "/admin/problems/{id}/verdict",
        [401, 401, 403, 403, 403, 403],
    ),
    ("GET", "/unit/problems", [401, 401, 403, 403, 200, 200]),
    (
        "POST",
        "/unit/problems/{id}/answer",
        [401, 401, 403, 403, 403, 403],
    ),
    ("GET", "/inspect/problems", [401, 401, 403, 200, 403, 403]),
    // The enterprise's named form and confirmation link: an unknown link reads the same for all.
    ("GET", "/s/{token}/problem", [404, 404, 404, 404, 404, 404]),
    ("POST", "/s/{token}/problem", [404, 404, 404, 404, 404, 404]),
    ("GET", "/p/{token}", [404, 404, 404, 404, 404, 404]),
    ("POST", "/p/{token}", [404, 404, 404, 404, 404, 404]),
];

/// A problem assigned to A01-1 (under A01): its text shows only to the 营商办 and A01's viewer.
const PROBLEM_MARK: &str = "营业执照变更拖延";

/// The comments of the open campaign 2020H1 (six commenters on A01-1): no one but the 营商办 may
/// see them, nor anything else of 2020H1, until it is published.
const UNPUBLISHED_MARK: &str = "未公布期留言";
const UNPUBLISHED_PERIOD: &str = "2020H1";

/// Requests about the unpublished campaign, beyond the route examples: (method, path) →
/// expected status per caller, as in [`MATRIX`].
const UNPUBLISHED: &[(&str, &str, [u16; 6])] = &[
    ("GET", "/rankings/2020H1", [404, 404, 404, 404, 404, 404]),
    (
        "GET",
        "/api/v1/campaigns/2020H1/results",
        [404, 404, 404, 404, 404, 404],
    ),
    (
        "GET",
        "/api/v1/flags?period=2020H1",
        [401, 401, 403, 200, 403, 403],
    ),
    (
        "GET",
        "/inspect/?period=2020H1",
        [401, 401, 403, 200, 403, 403],
    ),
    ("GET", "/unit/A01-1", [401, 401, 403, 403, 200, 404]),
    ("GET", "/admin/units/A01-1", [401, 401, 200, 403, 403, 403]),
];

/// An open campaign 2020H1 with six comments on A01-1.
fn seed_unpublished(conn: &mut qiping::db::Conn) {
    accounts::exec(
        conn,
        "INSERT INTO campaigns (id, period, state, template_name, template_toml, opens_on, closes_on, created_at)
           VALUES (2, '2020H1', 'open', 'standard', '', '2020-05-01', '2020-05-31', '2020-04-01 00:00:00')",
    );
    for i in 0..6 {
        accounts::add_response_in(conn, 2, 100 + i, 2, &format!("{UNPUBLISHED_MARK}{i}"));
    }
}

/// Only the 营商办 sees anything of the unpublished campaign, and only marked 「未公布」.
fn check_unpublished(caller: &str, uri: &str, body: &str) {
    if caller == "admin" {
        if body.contains(UNPUBLISHED_MARK) {
            assert!(
                body.contains("未公布"),
                "admin {uri}: unpublished, unmarked"
            );
        }
        return;
    }
    assert!(
        !body.contains(UNPUBLISHED_MARK) && !body.contains(UNPUBLISHED_PERIOD),
        "{caller} sees the unpublished campaign on {uri}: {body}"
    );
}

/// What an allowed answer must (and must not) show, beyond its status.
fn check_allowed(caller: &str, path: &str, body: &str) {
    match (caller, path) {
        ("admin", "/admin/") => assert!(body.contains("2019H2"), "admin sees campaigns"),
        ("admin", "/admin/campaigns/{period}") => assert!(body.contains("已公布")),
        ("admin", "/admin/campaigns/{period}/comments") => {
            assert!(body.contains("五家留言1") && body.contains("少数留言6"));
        }
        ("admin", "/admin/units") => assert!(body.contains("甲局") && !body.contains("乙局")),
        ("admin", "/admin/units/{code}") => {
            assert!(body.contains("甲局审批处") && body.contains("五家留言1"));
            assert!(!body.contains("少数留言"), "three commenters: hidden");
            assert!(
                body.contains(UNPUBLISHED_MARK) && body.contains("未公布"),
                "the 营商办 sees the open campaign's comments, marked: {body}"
            );
        }
        ("inspector", "/inspect/") => assert!(body.contains("甲局审批处")),
        ("inspector", "/api/v1/flags") => {
            let flags: serde_json::Value = serde_json::from_str(body).expect("json");
            assert_eq!(flags[0]["unit_code"], "A01-1");
            assert_eq!(flags[0]["periods"], serde_json::json!(["2019H1", "2019H2"]));
        }
        ("inspector", "/inspect/search") => {
            assert!(body.contains("甲局审批处") && body.contains("甲局"));
        }
        ("inspector", "/inspect/units/{code}" | "/inspect/people/{name}") => {
            assert!(body.contains("甲局审批处") && body.contains("张处长"));
            assert!(
                body.contains("61.0") && body.contains("55.0–67.0"),
                "{body}"
            );
        }
        ("inspector", "/api/v1/units/{code}/history") => {
            let history: serde_json::Value = serde_json::from_str(body).expect("json");
            assert_eq!(history["code"], "A01-1");
            assert_eq!(history["campaigns"][0]["score"], 61.0);
            assert_eq!(history["campaigns"][0]["heads"][0]["name"], "张处长");
        }
        ("inspector", "/api/v1/people/{name}/history") => {
            let history: serde_json::Value = serde_json::from_str(body).expect("json");
            assert_eq!(history["terms"][0]["unit"]["code"], "A01-1");
            assert_eq!(history["terms"][0]["campaigns"][0]["rank"], 12);
        }
        ("admin", "/admin/problems") => assert!(body.contains(PROBLEM_MARK)),
        ("unit_a", "/unit/problems") => assert!(body.contains(PROBLEM_MARK), "A01-1 is A01's"),
        ("unit_b", "/unit/problems") => assert!(!body.contains(PROBLEM_MARK), "not B01's"),
        ("unit_a", _) if path.starts_with("/unit/") => {
            assert!(body.contains("甲局审批处"));
            assert!(body.contains("五家留言1"), "five commenters: shown");
            assert!(!body.contains("少数留言"), "three commenters: hidden");
            assert!(!body.contains("乙局"));
        }
        ("unit_b", _) if path.starts_with("/unit/") => {
            assert!(body.contains("乙局"));
            assert!(!body.contains("甲局"));
        }
        _ => {}
    }
}

/// One request as `caller` (with its session cookie, if any): status and body.
async fn call<S, B>(
    app: &S,
    verb: Verb,
    uri: &str,
    caller: &str,
    session: Option<&str>,
) -> (u16, String)
where
    S: actix_web::dev::Service<
            accounts::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let mut request = match verb {
        Verb::Get => test::TestRequest::get(),
        Verb::Post => test::TestRequest::post().set_form([("name", "x")]),
    }
    .uri(uri);
    if let Some(cookie) = session {
        request = request.cookie(Cookie::new("qiping_session", cookie.to_owned()));
    }
    if caller == "public" {
        request = request.insert_header(("Authorization", "Bearer qp_forged"));
    }
    let response = test::call_service(app, request.to_request()).await;
    let status = response.status().as_u16();
    let body = String::from_utf8(test::read_body(response).await.to_vec()).unwrap();
    (status, body)
}

#[actix_web::test]
async fn every_route_answers_every_role_as_the_matrix_says() {
    for db in common::each_backend() {
        run_matrix(&db).await;
    }
}

async fn run_matrix(db: &TestDb) {
    let mut conn = seeded(db);
    // A head for the person-history routes (heads are recorded by name only).
    accounts::exec(
        &mut conn,
        "INSERT INTO unit_heads (unit_id, name, from_date) VALUES (2, '张处长', '2018-01-01')",
    );
    accounts::exec(
        &mut conn,
        &format!(
            "INSERT INTO problems (id, unit_id, channel, description, state, deadline, created_at,
               updated_at, stage, confirm_version)
             VALUES (1, 2, 'hotline', '{PROBLEM_MARK}', 'assigned', '2026-12-31',
               '2026-11-01 00:00:00', '2026-11-01 00:00:00', 0, 0)"
        ),
    );
    seed_unpublished(&mut conn);
    drop(conn);
    let app = app(state(db, Config::default())).await;
    let mut sessions = vec![None, Some("forged-session-value".to_owned())];
    for name in ["admin", "inspector", "unit_a", "unit_b"] {
        sessions.push(Some(sign_in(&app, name).await.cookie));
    }

    for (verb, path, _) in MATRIX {
        assert!(
            ROUTES
                .iter()
                .any(|r| r.verb.as_str() == *verb && r.path == *path),
            "the matrix names {verb} {path}, which is not in ROUTES"
        );
    }
    for route in ROUTES {
        let verb = route.verb.as_str();
        let Some((_, _, expected)) = MATRIX
            .iter()
            .find(|(v, p, _)| *v == verb && *p == route.path)
        else {
            panic!(
                "{verb} {} has no row in the authorization matrix: say who may reach it",
                route.path
            );
        };
        for (i, caller) in CALLERS.iter().enumerate() {
            let (status, body) = call(
                &app,
                route.verb,
                route.example,
                caller,
                sessions[i].as_deref(),
            )
            .await;
            assert_eq!(
                status, expected[i],
                "[{}] {verb} {} as {caller}: {body}",
                db.backend, route.example
            );
            if matches!(status, 401 | 403 | 404) {
                for marker in MARKERS {
                    assert!(
                        !body.contains(marker),
                        "[{}] denied {verb} {} as {caller} shows {marker}",
                        db.backend,
                        route.example
                    );
                }
            } else {
                check_allowed(caller, route.path, &body);
            }
            check_unpublished(caller, route.example, &body);
        }
    }
    for (verb, uri, expected) in UNPUBLISHED {
        for (i, caller) in CALLERS.iter().enumerate() {
            assert_eq!(*verb, "GET");
            let (status, body) = call(&app, Verb::Get, uri, caller, sessions[i].as_deref()).await;
            assert_eq!(
                status, expected[i],
                "[{}] {uri} as {caller}: {body}",
                db.backend
            );
            check_unpublished(caller, uri, &body);
            if *caller == "inspector" && uri.starts_with("/api/v1/flags") {
                assert_eq!(
                    body, "[]",
                    "[{}] no flag of an unpublished campaign",
                    db.backend
                );
            }
        }
    }

    // Every inspector read was audited (sign-in landed on /inspect/ once, then the matrix read two
    // and the unpublished campaign's requests two more).
    let mut conn = db.conn();
    let rows = qiping::service::audit::list(&mut conn).unwrap();
    let reads = rows.iter().filter(|r| r.action == "inspect.flags").count();
    assert_eq!(
        reads, 5,
        "[{}] one audit row per inspector read",
        db.backend
    );
    assert!(
        rows.iter()
            .all(|r| r.actor != "user:admin" || r.action != "inspect.flags")
    );
    // The other inspector reads: the search page once, each history as a page and through the API.
    for (action, count) in [
        ("inspect.search", 1),
        ("inspect.unit_history", 2),
        ("inspect.person_history", 2),
    ] {
        let audited: Vec<_> = rows.iter().filter(|r| r.action == action).collect();
        assert_eq!(audited.len(), count, "[{}] {action}", db.backend);
        assert!(audited.iter().all(|r| r.actor == "user:inspector"));
    }
}
