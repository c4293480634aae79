// Not in tests/it: it installs the process-wide tracing subscriber (set_global_default) at TRACE.
//! Hygiene: a full run — sign-in, a failed sign-in, pages, an API call with a token, logout —
//! logged at TRACE leaves no password, token, cookie or link secret in the log.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

#[path = "it/common/mod.rs"]
mod common;
#[path = "it/survey_support/mod.rs"]
mod survey_support;

use common::accounts;

use std::io::Write;
use std::sync::{Arc, Mutex};

use accounts::{PASSWORD, app, get, post_login, seeded, sign_in, state};
use actix_web::cookie::Cookie;
use actix_web::test as at;
use common::TestDb;
use qiping::config::Config;
use qiping::logging::RedactingMakeWriter;
use tracing_subscriber::layer::SubscriberExt;

/// A log sink the test can read back.
#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Sink {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[actix_web::test]
async fn no_password_token_or_cookie_reaches_the_logs() {
    // Two sinks: what the code itself writes, and what the redacting writer passes on.
    let raw = Sink::default();
    let redacted = Sink::default();
    let (r, d) = (raw.clone(), redacted.clone());
    let subscriber = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(move || r.clone())
                .with_ansi(false),
        )
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(RedactingMakeWriter(move || d.clone()))
                .with_ansi(false),
        )
        .with(tracing_subscriber::filter::LevelFilter::TRACE);
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let db = TestDb::sqlite();
    let mut conn = seeded(&db);
    let token = qiping::service::accounts::create_token(
        &mut conn,
        &qiping::service::Actor::stored("test"),
        "inspector",
        7,
    )
    .unwrap();
    let config = Config {
        link_secret: Some("LINK-SECRET-abcdefghijklmnopqrstuvwxyz".into()),
        ..Config::default()
    };
    tracing::info!(?config, "配置");
    let app = app(state(&db, config)).await;

    let wrong = "wrong-password-0123456789";
    assert_eq!(post_login(&app, "admin", wrong, "10.0.0.1:1").await.0, 401);
    let browser = sign_in(&app, "admin").await;
    assert_eq!(get(&app, "/admin/", Some(&browser.cookie)).await.0, 200);
    let response = at::call_service(
        &app,
        at::TestRequest::get()
            .uri("/api/v1/flags")
            .insert_header(("Authorization", format!("Bearer {}", token.expose())))
            .to_request(),
    )
    .await;
    assert_eq!(response.status().as_u16(), 200);
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
    // A line that does carry secrets, as a careless log statement would.
    tracing::warn!(
        "careless: password={PASSWORD} cookie qiping_session={} Authorization: Bearer {}",
        browser.cookie,
        token.expose()
    );

    let secrets = [
        PASSWORD,
        wrong,
        browser.cookie.as_str(),
        browser.csrf.as_str(),
        token.expose(),
        "LINK-SECRET",
    ];
    let raw = raw.text();
    let redacted = redacted.text();
    assert!(
        redacted.contains("登录成功"),
        "the run was logged: {redacted}"
    );
    for secret in secrets {
        assert!(
            !redacted.contains(secret),
            "{secret} in the logs:\n{redacted}"
        );
    }
    // Without the careless line, the code logs no secret even before redaction.
    let honest: String = raw
        .lines()
        .filter(|l| !l.contains("careless"))
        .collect::<Vec<_>>()
        .join("\n");
    for secret in secrets {
        assert!(
            !honest.contains(secret),
            "{secret} logged by the code:\n{honest}"
        );
    }
}
