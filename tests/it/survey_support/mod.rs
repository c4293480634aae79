//! Setting up an open campaign with invitations for the survey tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod data;
pub mod http;
pub mod server;
pub mod webdriver;

use diesel::prelude::*;
use qiping::db::Conn;
use qiping::service::Actor;
use qiping::service::campaign::{self, CreateCampaign};
use qiping::service::import;
use qiping::service::links::LinkSecret;

pub const PERIOD: &str = "2019H2";
/// 3 departments with 3 offices each: 12 units.
pub const DEPARTMENTS: usize = 3;
pub const OFFICES: usize = 3;
/// Each enterprise is asked about the first 4 units (D01, D01-O1, D01-O2, D01-O3).
pub const ASKED: usize = 4;

pub fn secret() -> LinkSecret {
    LinkSecret::from_config(Some("dGVzdC1zZWNyZXQtb2YtdGhpcnR5LXR3by1ieXRlcyE")).unwrap()
}

/// An open campaign with `enterprises` invitations; returns one token per enterprise, in
/// invitation order.
pub fn open_campaign(conn: &mut Conn, enterprises: usize) -> Vec<String> {
    let ignore = &mut |_: usize, _: usize| {};
    let codes = data::unit_codes(DEPARTMENTS, OFFICES);
    import::import_units(
        conn,
        &Actor::cli(),
        data::units_csv(DEPARTMENTS, OFFICES).as_bytes(),
        ignore,
    )
    .unwrap();
    import::import_enterprises(
        conn,
        &Actor::cli(),
        data::enterprises_csv(enterprises).as_bytes(),
        ignore,
    )
    .unwrap();
    let period = PERIOD.parse().unwrap();
    import::import_interactions(
        conn,
        &Actor::cli(),
        &period,
        data::interactions_csv(enterprises, &codes, ASKED).as_bytes(),
        ignore,
    )
    .unwrap();
    campaign::create(
        conn,
        &Actor::cli(),
        std::path::Path::new("survey_templates"),
        &CreateCampaign {
            period,
            template_name: "standard",
            opens_on: None,
            closes_on: None,
            sample: None,
            seed: None,
        },
    )
    .unwrap();
    campaign::open(conn, &Actor::cli(), &secret(), &period).unwrap();
    let row = campaign::find(conn, &period).unwrap();
    qiping::db::invitations::of_campaign(conn, row.id)
        .unwrap()
        .into_iter()
        .map(|inv| secret().token(inv.id, inv.link_version))
        .collect()
}

/// The codes the enterprises were asked about.
pub fn asked_codes() -> Vec<String> {
    data::unit_codes(DEPARTMENTS, OFFICES)
        .into_iter()
        .take(ASKED)
        .collect()
}

/// A complete submission for `codes`.
pub fn complete(codes: &[String]) -> qiping::domain::RawSubmission {
    let mut v: serde_json::Value =
        serde_json::from_str(&data::submission_json("x", codes)).unwrap();
    v.as_object_mut().unwrap().remove("token");
    serde_json::from_value(v).unwrap()
}

/// Moves the campaign's closing day into the past.
pub fn expire(conn: &mut Conn) {
    use qiping::db::schema::campaigns;
    diesel::update(campaigns::table)
        .set(campaigns::closes_on.eq(chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap()))
        .execute(conn)
        .unwrap();
}

/// Number of stored responses and ratings.
pub fn counts(conn: &mut Conn) -> (i64, i64) {
    use qiping::db::schema::{ratings, responses};
    (
        responses::table.count().get_result(conn).unwrap(),
        ratings::table.count().get_result(conn).unwrap(),
    )
}
