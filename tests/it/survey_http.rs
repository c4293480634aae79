//! One link raced through HTTP: parallel submissions to a real `qiping serve` (its group-commit
//! writer included) store exactly one response, on SQLite and on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use crate::common;
use crate::survey_support;

use std::sync::{Arc, Barrier};

use common::TestDb;
use diesel::prelude::*;
use qiping::db::DatabaseUrl;
use qiping::db::schema::invitations;
use qiping::service::links::LinkSecret;
use survey_support::http::Http;
use survey_support::server::{self, SECRET};
use survey_support::{ASKED, asked_codes, data};

fn race(database_url: Option<String>, backend: &str) {
    let served = server::start_on(database_url, 2, ASKED, 0);
    crate::common::keys::remember_file(&served.key_file());
    let mut conn = DatabaseUrl::parse(&served.database_url)
        .unwrap()
        .connect()
        .unwrap();
    let (id, version): (i64, i32) = invitations::table
        .order(invitations::id)
        .select((invitations::id, invitations::link_version))
        .first(&mut conn)
        .unwrap();
    let token = LinkSecret::from_config(Some(SECRET))
        .unwrap()
        .token(id, version);
    let body = data::submission_json(&token, &asked_codes());
    let clients = 16;
    let barrier = Arc::new(Barrier::new(clients));
    let handles: Vec<_> = (0..clients)
        .map(|_| {
            let (body, barrier, addr) = (body.clone(), barrier.clone(), served.addr);
            std::thread::spawn(move || {
                let mut http = Http::connect(addr).unwrap();
                barrier.wait();
                http.post_json("/api/v1/responses", &body).unwrap().0
            })
        })
        .collect();
    let mut statuses: Vec<u16> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    statuses.sort_unstable();
    let mut expected = vec![201];
    expected.extend(std::iter::repeat_n(409, clients - 1));
    assert_eq!(statuses, expected, "{backend}");
    assert_eq!(crate::common::keys::ballots(&mut conn), 1, "{backend}");
    assert_eq!(crate::common::keys::peek(&mut conn).len(), 1, "{backend}");
}

#[test]
fn parallel_http_submissions_with_one_link_store_exactly_one_response() {
    if common::backend_enabled("sqlite") {
        race(None, "sqlite");
    }
    if let Some(db) = TestDb::postgres() {
        race(Some(db.url.clone()), "postgres");
    }
}
