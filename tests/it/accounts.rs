//! Sign-in, sessions, CSRF, lockout and API tokens through the real pages, on both backends.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use crate::common;
use crate::common::accounts;

use accounts::{PASSWORD, app, get, post_login, seeded, sign_in, state};
use actix_web::cookie::Cookie;
use actix_web::test as at;
use common::TestDb;
use diesel::prelude::*;
use qiping::config::Config;
use qiping::service::accounts as service;

async fn each_backend<F, Fut>(test: F)
where
    F: Fn(TestDb) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for db in common::each_backend() {
        test(db).await;
    }
}

#[actix_web::test]
async fn a_form_post_without_the_csrf_token_is_refused() {
    each_backend(|db| async move {
        seeded(&db);
        let app = app(state(&db, Config::default())).await;
        let browser = sign_in(&app, "admin").await;
        for form in [vec![], vec![("csrf_token", "wrong-token")]] {
            let response = at::call_service(
                &app,
                at::TestRequest::post()
                    .uri("/logout")
                    .cookie(Cookie::new("qiping_session", browser.cookie.clone()))
                    .set_form(form)
                    .to_request(),
            )
            .await;
            assert_eq!(response.status().as_u16(), 403, "[{}]", db.backend);
        }
        assert_eq!(get(&app, "/admin/", Some(&browser.cookie)).await.0, 200);
        let response = at::call_service(
            &app,
            at::TestRequest::post()
                .uri("/logout")
                .cookie(Cookie::new("qiping_session", browser.cookie.clone()))
                .set_form([("csrf_token", browser.csrf.as_str())])
                .to_request(),
        )
        .await;
        assert_eq!(response.status().as_u16(), 303);
        assert_eq!(
            get(&app, "/admin/", Some(&browser.cookie)).await.0,
            401,
            "signed out"
        );
    })
    .await;
}

#[actix_web::test]
async fn a_login_post_without_its_double_submit_token_is_refused() {
    let db = TestDb::sqlite();
    seeded(&db);
    let app = app(state(&db, Config::default())).await;
    let response = at::call_service(
        &app,
        at::TestRequest::post()
            .uri("/login")
            .set_form([
                ("name", "admin"),
                ("password", PASSWORD),
                ("csrf_token", "x"),
            ])
            .to_request(),
    )
    .await;
    assert_eq!(response.status().as_u16(), 403);
    assert!(
        response
            .response()
            .cookies()
            .all(|c| c.name() != "qiping_session")
    );
}

#[actix_web::test]
async fn an_account_is_locked_after_repeated_failures_with_a_clear_message() {
    each_backend(|db| async move {
        seeded(&db);
        let app = app(state(&db, Config::default())).await;
        for attempt in 1..=4 {
            let (status, body, session) =
                post_login(&app, "admin", "wrong-password", "10.0.0.2:1").await;
            assert_eq!(status, 401, "attempt {attempt}");
            assert!(body.contains("用户名或密码错误"), "{body}");
            assert!(session.is_none());
        }
        let (status, body, _) = post_login(&app, "admin", "wrong-password", "10.0.0.2:1").await;
        assert_eq!(status, 401);
        assert!(
            body.contains("连续 5 次密码错误,账号已暂时锁定 15 分钟"),
            "[{}] {body}",
            db.backend
        );
        // The right password does not help while the lock lasts.
        let (status, body, session) = post_login(&app, "admin", PASSWORD, "10.0.0.3:1").await;
        assert_eq!(status, 401);
        assert!(body.contains("已暂时锁定"));
        assert!(session.is_none());
        // Another account is not affected, and the lock is audited.
        assert_eq!(
            post_login(&app, "inspector", PASSWORD, "10.0.0.3:1")
                .await
                .0,
            303
        );
        let rows = qiping::service::audit::list(&mut db.conn()).unwrap();
        assert!(
            rows.iter()
                .any(|r| r.action == "user.lock" && r.target == "user:admin")
        );
        // A new password from the operator lifts the lock.
        let pw = qiping::domain::Secret::new("another-long-password");
        service::set_password(
            &mut db.conn(),
            &qiping::service::Actor::stored("test"),
            "admin",
            &pw,
        )
        .unwrap();
        assert_eq!(
            post_login(&app, "admin", "another-long-password", "10.0.0.3:1")
                .await
                .0,
            303
        );
    })
    .await;
}

#[actix_web::test]
async fn too_many_failures_from_one_address_are_refused_for_every_account() {
    let db = TestDb::sqlite();
    seeded(&db);
    let mut config = Config::default();
    config.auth.max_failures_per_address = 3;
    let app = app(state(&db, config)).await;
    for name in ["nobody", "admin", "inspector"] {
        assert_eq!(
            post_login(&app, name, "wrong-password", "10.9.9.9:1")
                .await
                .0,
            401
        );
    }
    let (status, body, session) = post_login(&app, "unit_a", PASSWORD, "10.9.9.9:1").await;
    assert_eq!(status, 429);
    assert!(body.contains("登录失败次数过多"), "{body}");
    assert!(session.is_none());
    assert_eq!(
        post_login(&app, "unit_a", PASSWORD, "10.1.1.1:1").await.0,
        303,
        "other address"
    );
}

#[actix_web::test]
async fn the_session_cookie_is_httponly_strict_and_secure_behind_tls() {
    let db = TestDb::sqlite();
    seeded(&db);
    for (base_url, secure) in [
        ("http://127.0.0.1:8080", false),
        ("https://qiping.example", true),
    ] {
        let mut config = Config::default();
        config.server.base_url = base_url.into();
        let app = app(state(&db, config)).await;
        let form = at::call_service(&app, at::TestRequest::get().uri("/login").to_request()).await;
        let body = String::from_utf8(at::read_body(form).await.to_vec()).unwrap();
        let token = accounts::hidden_field(&body, "csrf_token").unwrap();
        let response = at::call_service(
            &app,
            at::TestRequest::post()
                .uri("/login")
                .cookie(Cookie::new("qiping_login_csrf", token.clone()))
                .set_form([
                    ("name", "admin"),
                    ("password", PASSWORD),
                    ("csrf_token", &token),
                ])
                .to_request(),
        )
        .await;
        assert_eq!(response.status().as_u16(), 303);
        assert_eq!(response.headers().get("location").unwrap(), "/admin/");
        let cookie = response
            .response()
            .cookies()
            .find(|c| c.name() == "qiping_session")
            .unwrap();
        assert_eq!(cookie.http_only(), Some(true));
        assert_eq!(
            cookie.same_site(),
            Some(actix_web::cookie::SameSite::Strict)
        );
        assert_eq!(cookie.secure().unwrap_or(false), secure, "{base_url}");
    }
}

#[actix_web::test]
async fn an_idle_session_expires() {
    let db = TestDb::sqlite();
    seeded(&db);
    let mut config = Config::default();
    config.auth.session_idle_minutes = 0;
    let app = app(state(&db, config)).await;
    let (status, _, session) = post_login(&app, "admin", PASSWORD, "10.0.0.1:1").await;
    assert_eq!(status, 303);
    assert_eq!(get(&app, "/admin/", session.as_deref()).await.0, 401);
}

#[actix_web::test]
async fn a_session_opened_on_one_server_works_on_another() {
    each_backend(|db| async move {
        seeded(&db);
        let first = app(state(&db, Config::default())).await;
        let second = app(state(&db, Config::default())).await;
        let browser = sign_in(&first, "inspector").await;
        let (status, body) = get(&second, "/inspect/", Some(&browser.cookie)).await;
        assert_eq!(status, 200, "[{}] {body}", db.backend);
        // Disabling the account ends the session everywhere.
        service::disable_user(
            &mut db.conn(),
            &qiping::service::Actor::stored("test"),
            "inspector",
        )
        .unwrap();
        assert_eq!(
            get(&second, "/inspect/", Some(&browser.cookie)).await.0,
            401
        );
        assert_eq!(get(&first, "/inspect/", Some(&browser.cookie)).await.0, 401);
    })
    .await;
}

#[actix_web::test]
async fn api_tokens_are_scoped_to_their_role_and_stop_when_the_user_is_disabled() {
    each_backend(|db| async move {
        let mut conn = seeded(&db);
        let inspector = service::create_token(
            &mut conn,
            &qiping::service::Actor::stored("test"),
            "inspector",
            30,
        )
        .unwrap();
        let admin = service::create_token(
            &mut conn,
            &qiping::service::Actor::stored("test"),
            "admin",
            30,
        )
        .unwrap();
        let app = app(state(&db, Config::default())).await;
        let call = |token: String| {
            at::TestRequest::get()
                .uri("/api/v1/flags?period=2019H2")
                .insert_header(("Authorization", format!("Bearer {token}")))
                .to_request()
        };
        let response = at::call_service(&app, call(inspector.expose().to_owned())).await;
        assert_eq!(response.status().as_u16(), 200, "[{}]", db.backend);
        let flags: serde_json::Value = at::read_body_json(response).await;
        assert_eq!(flags.as_array().map(Vec::len), Some(1));
        let response = at::call_service(&app, call(admin.expose().to_owned())).await;
        assert_eq!(response.status().as_u16(), 403);
        let body: serde_json::Value = at::read_body_json(response).await;
        assert_eq!(body["error"], "无权访问");
        let response = at::call_service(&app, call("qp_unknown".into())).await;
        assert_eq!(response.status().as_u16(), 401);
        // A period that is not one is a 400 that says why.
        let response = at::call_service(
            &app,
            at::TestRequest::get()
                .uri("/api/v1/flags?period=2019H3")
                .insert_header(("Authorization", format!("Bearer {}", inspector.expose())))
                .to_request(),
        )
        .await;
        assert_eq!(response.status().as_u16(), 400);
        service::disable_user(
            &mut conn,
            &qiping::service::Actor::stored("test"),
            "inspector",
        )
        .unwrap();
        let response = at::call_service(&app, call(inspector.expose().to_owned())).await;
        assert_eq!(response.status().as_u16(), 401);
    })
    .await;
}

#[test]
fn an_expired_token_opens_nothing() {
    common::on_each_backend(|db| {
        let mut conn = seeded(db);
        let token = service::create_token(
            &mut conn,
            &qiping::service::Actor::stored("test"),
            "inspector",
            1,
        )
        .unwrap();
        assert!(
            service::authenticate_token(&mut conn, &token)
                .unwrap()
                .is_some()
        );
        accounts::exec(
            &mut conn,
            "UPDATE api_tokens SET expires_at = '2020-01-01 00:00:00'",
        );
        assert!(
            service::authenticate_token(&mut conn, &token)
                .unwrap()
                .is_none()
        );
        // Only the digest is stored.
        let rows = qiping::service::audit::list(&mut conn).unwrap();
        assert!(rows.iter().all(|r| !r.detail.contains(token.expose())));
    });
}

#[test]
fn user_rules_are_checked_before_anything_is_stored() {
    common::on_each_backend(|db| {
        let mut conn = seeded(db);
        let pw = qiping::domain::Secret::new(PASSWORD);
        let short = qiping::domain::Secret::new("short");
        use qiping::domain::Role;
        assert!(
            service::add_user(
                &mut conn,
                &qiping::service::Actor::stored("t"),
                "v",
                Role::Unit,
                None,
                &pw
            )
            .is_err()
        );
        assert!(
            service::add_user(
                &mut conn,
                &qiping::service::Actor::stored("t"),
                "v",
                Role::Unit,
                Some("ZZZ"),
                &pw
            )
            .is_err()
        );
        assert!(
            service::add_user(
                &mut conn,
                &qiping::service::Actor::stored("t"),
                "v",
                Role::Admin,
                Some("A01"),
                &pw
            )
            .is_err()
        );
        assert!(
            service::add_user(
                &mut conn,
                &qiping::service::Actor::stored("t"),
                "v",
                Role::Admin,
                None,
                &short
            )
            .is_err()
        );
        assert!(
            service::add_user(
                &mut conn,
                &qiping::service::Actor::stored("t"),
                "admin",
                Role::Admin,
                None,
                &pw
            )
            .is_err()
        );
        assert!(
            service::add_user(
                &mut conn,
                &qiping::service::Actor::stored("t"),
                "a b",
                Role::Admin,
                None,
                &pw
            )
            .is_err()
        );
        let names: Vec<String> = service::list_users(&mut conn)
            .unwrap()
            .into_iter()
            .map(|u| u.name)
            .collect();
        assert_eq!(names, ["admin", "inspector", "unit_a", "unit_b"]);
    });
}

/// A page with its CSRF token taken out (the only thing that may differ between two answers).
fn without_csrf(body: &str) -> String {
    match accounts::hidden_field(body, "csrf_token") {
        Some(token) => body.replace(&token, "CSRF"),
        None => body.to_owned(),
    }
}

#[actix_web::test]
async fn the_sign_in_page_does_not_tell_which_names_exist() {
    each_backend(|db| async move {
        seeded(&db);
        let app = app(state(&db, Config::default())).await;
        // An account and a name no one has, five wrong passwords each, from different addresses
        // (the per-address limit is another rule).
        let mut answers = Vec::new();
        for (name, address) in [("admin", "10.0.1.1:1"), ("no-such-user", "10.0.1.2:1")] {
            let mut pages = Vec::new();
            for _ in 1..=6 {
                let (status, body, session) =
                    post_login(&app, name, "wrong-password", address).await;
                assert!(session.is_none());
                // The form keeps the name typed; apart from it and the CSRF token, byte for byte.
                let page =
                    without_csrf(&body).replace(&format!("value=\"{name}\""), "value=\"NAME\"");
                pages.push((status, page));
            }
            answers.push(pages);
        }
        assert_eq!(
            answers[0], answers[1],
            "[{}] an account and an unknown name answer alike, attempt by attempt",
            db.backend
        );
        assert!(
            answers[1][4].1.contains("已暂时锁定"),
            "the unknown name is locked too"
        );
        assert!(answers[1][0].1.contains("用户名或密码错误"));
        // Nothing of the name is stored, only a digest of it.
        let mut conn = db.conn();
        let stored: Vec<String> = qiping::db::schema::sign_in_names::table
            .select(qiping::db::schema::sign_in_names::name_digest)
            .load(&mut conn)
            .unwrap();
        assert_eq!(stored.len(), 2, "[{}]", db.backend);
        assert!(
            stored
                .iter()
                .all(|d| !d.contains("no-such-user") && !d.contains("admin"))
        );
    })
    .await;
}
