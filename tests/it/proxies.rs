//! Issue 42: behind a trusted reverse proxy every enterprise counts as itself — the survey's
//! per-address limit follows the address the proxy forwarded for — while a client talking to
//! qiping directly cannot choose its address with a forged header.

use std::net::SocketAddr;

use crate::common::TestDb;
use crate::common::scenario::open_survey_campaign;
use actix_web::{App, test as at, web};
use qiping::config::Config;
use qiping::db::DatabaseUrl;
use qiping::web::{AppState, routes};

fn state(db: &TestDb, trusted: &[&str], rate: u32) -> AppState {
    let pool = DatabaseUrl::parse(&db.url).unwrap().pool(4).unwrap();
    let mut config = Config {
        link_secret: Some(crate::survey_support::server::SECRET.into()),
        ..Config::default()
    };
    config.server.submit_rate_per_minute = rate;
    config.server.trusted_proxies = trusted.iter().map(|s| (*s).to_owned()).collect();
    AppState::new(pool, config).unwrap()
}

#[actix_web::test]
async fn the_survey_limit_counts_the_forwarded_client_only_behind_a_trusted_proxy() {
    let db = TestDb::sqlite();
    let tokens = open_survey_campaign(&mut db.conn(), 2);
    let app = at::init_service(
        App::new()
            .app_data(web::Data::new(state(&db, &["10.0.0.0/8"], 3)))
            .configure(routes),
    )
    .await;
    let get = |peer: &str, forwarded: Option<String>| {
        let mut req = at::TestRequest::get()
            .uri(&format!("/s/{}", tokens[0]))
            .peer_addr(peer.parse::<SocketAddr>().unwrap());
        if let Some(f) = forwarded {
            req = req.insert_header(("X-Forwarded-For", f));
        }
        req.to_request()
    };
    // Forty enterprises through the proxy, three views each: nobody is refused.
    for client in 1..=40 {
        for _ in 0..3 {
            let response = at::call_service(
                &app,
                get("10.0.0.5:40000", Some(format!("198.51.100.{client}"))),
            )
            .await;
            assert_eq!(response.status(), 200, "client {client}");
        }
    }
    // One of them past its own limit is refused, and only it.
    let over = at::call_service(&app, get("10.0.0.5:40000", Some("198.51.100.1".into()))).await;
    assert_eq!(over.status(), 429);
    let other = at::call_service(&app, get("10.0.0.5:40000", Some("198.51.100.41".into()))).await;
    assert_eq!(other.status(), 200);
    // A client talking directly, forging a different address each time, is one client.
    let mut statuses = Vec::new();
    for i in 0..5 {
        let response =
            at::call_service(&app, get("203.0.113.9:5000", Some(format!("192.0.2.{i}")))).await;
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 429, 429]);
}

#[actix_web::test]
async fn secure_cookies_follow_a_trusted_proxys_https() {
    let db = TestDb::sqlite();
    let app = at::init_service(
        App::new()
            .app_data(web::Data::new(state(&db, &["10.0.0.5"], 0)))
            .configure(routes),
    )
    .await;
    let login = |peer: &str| {
        at::TestRequest::get()
            .uri("/login")
            .peer_addr(peer.parse::<SocketAddr>().unwrap())
            .insert_header(("X-Forwarded-Proto", "https"))
            .to_request()
    };
    let secure = |response: &actix_web::dev::ServiceResponse| {
        response
            .response()
            .cookies()
            .all(|c| c.secure() == Some(true))
    };
    let behind = at::call_service(&app, login("10.0.0.5:1")).await;
    assert!(behind.response().cookies().count() > 0);
    assert!(
        secure(&behind),
        "HTTPS at the trusted proxy: Secure cookies"
    );
    let direct = at::call_service(&app, login("203.0.113.9:1")).await;
    assert!(!secure(&direct), "a direct client's header is not believed");
}

#[test]
fn a_bad_entry_is_refused_at_start_with_its_text() {
    let err = Config::load(None, |var| {
        (var == "QIPING_TRUSTED_PROXIES").then(|| "10.0.0.5, nginx".to_owned())
    })
    .unwrap_err();
    assert!(err.to_string().contains("nginx"), "{err}");
    let ok = Config::load(None, |var| {
        (var == "QIPING_TRUSTED_PROXIES").then(|| "10.0.0.5, 172.16.0.0/12, ::1".to_owned())
    })
    .unwrap();
    assert_eq!(ok.server.trusted_proxies.len(), 3);
}
