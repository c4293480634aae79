//! The reference city of `tests/fixtures/stats/reference.json` (make_fixtures.py §6) through the
//! database, on both backends: its ratings stored as the survey stores them, the campaign closed,
//! aggregated and published, and every published figure equal to numpy/scipy's to 1e-6 with the
//! SE of docs/method.md §2.1 (every rating its own cluster). Then the ratings' ids and storage
//! order are shuffled and the campaign aggregated again with the same seed: not one bit of the
//! results moves, so nothing published depends on the ids that the sealed ballots' close will
//! randomise.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use crate::common;

use common::{no_progress, on_each_backend};
use diesel::prelude::*;
use qiping::db::Conn;
use qiping::db::schema::{campaigns, ratings, units};
use qiping::domain::Period;
use qiping::service::Actor;
use qiping::service::{aggregate, campaign, import, publication};
use qiping::stats::Settings;
use rand::seq::SliceRandom;
use serde_json::Value;

const PERIOD: &str = "2026H1";
const SEED: u64 = 20261207;

fn city() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/stats/reference.json"
    );
    let all: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    all["city"].clone()
}

fn settings() -> Settings {
    Settings {
        draws: 500,
        ..Settings::default()
    }
}

/// The city's units, a campaign on the standard questionnaire, and its ratings, one response
/// each (a rating is one enterprise's; which enterprise is nobody's business here).
fn load(conn: &mut Conn, city: &Value) -> i64 {
    let mut csv = String::from("code,name,kind,parent_code,peer_group,head_name,head_since\n");
    for u in city["units"].as_array().unwrap() {
        let code = u["code"].as_str().unwrap();
        let (kind, parent) = match u["kind"].as_str().unwrap() {
            "department" => ("department", ""),
            _ => ("station", "D01"),
        };
        csv.push_str(&format!(
            "{code},单位{code},{kind},{parent},{},负责人{code},2020-01-01\n",
            u["peer_group"].as_str().unwrap()
        ));
    }
    import::import_units(conn, &Actor::cli(), csv.as_bytes(), &mut no_progress()).unwrap();
    let period: Period = PERIOD.parse().unwrap();
    campaign::create(
        conn,
        &Actor::cli(),
        std::path::Path::new("survey_templates"),
        &campaign::CreateCampaign {
            period,
            template_name: "standard",
            opens_on: None,
            closes_on: None,
            sample: None,
            seed: None,
            weighted: false,
        },
    )
    .unwrap();
    crate::common::keys::open(conn, &period).unwrap();
    let campaign_id: i64 = campaigns::table.select(campaigns::id).first(conn).unwrap();
    for (i, r) in city["ratings"].as_array().unwrap().iter().enumerate() {
        let unit_id: i64 = units::table
            .filter(units::code.eq(r["unit_code"].as_str().unwrap()))
            .select(units::id)
            .first(conn)
            .unwrap();
        let id = 1000 + i as i64;
        let answers = r["answers"].to_string().replace('\'', "''");
        let sql = format!(
            "INSERT INTO ratings (id, campaign_id, unit_id, self_selected, answers, problems,
                 size, industry, district)
               VALUES ({id}, {campaign_id}, {unit_id}, FALSE, '{answers}', '[]', '', '',
                 '');"
        );
        qiping::on_backend!(conn, |c| {
            diesel::connection::SimpleConnection::batch_execute(c, &sql)
        })
        .unwrap();
    }
    campaign_id
}

fn close(actual: Option<f64>, expected: &Value, what: &str) {
    let expected = expected.as_f64().unwrap();
    let actual = actual.unwrap_or_else(|| panic!("{what}: null, expected {expected}"));
    assert!(
        (actual - expected).abs() <= 1e-6 * expected.abs().max(1.0),
        "{what}: {actual} vs {expected}"
    );
}

#[test]
fn the_reference_city_published_through_the_database_matches_numpy_and_scipy() {
    let city = city();
    on_each_backend(|db| {
        let tag = db.backend;
        let mut conn = db.conn();
        load(&mut conn, &city);
        let period: Period = PERIOD.parse().unwrap();
        crate::common::keys::close(&mut conn, &period).unwrap();
        aggregate::aggregate(
            &mut conn,
            &Actor::cli(),
            &period,
            &settings(),
            false,
            Some(SEED),
        )
        .unwrap();
        publication::publish(&mut conn, &Actor::cli(), &period, None, &settings()).unwrap();
        let published = publication::public_results(&mut conn, &period, None).unwrap();
        assert_eq!(published.method_version, qiping::stats::METHOD_VERSION);
        let expected = &city["expected"];
        for g in expected["groups"].as_array().unwrap() {
            let name = g["name"].as_str().unwrap();
            let group = published
                .peer_groups
                .iter()
                .find(|p| p.name == name)
                .unwrap();
            close(group.tau2, &g["tau2"], &format!("[{tag}] {name} tau2"));
            close(group.mu, &g["mu"], &format!("[{tag}] {name} mu"));
        }
        let units: Vec<_> = published
            .peer_groups
            .iter()
            .flat_map(|g| &g.units)
            .collect();
        let listed = expected["units"].as_array().unwrap();
        assert_eq!(units.len(), listed.len(), "[{tag}]");
        for e in listed {
            let code = e["code"].as_str().unwrap();
            let u = units.iter().find(|u| u.code == code).unwrap();
            assert_eq!(u.n as u64, e["n"].as_u64().unwrap(), "[{tag}] {code} n");
            for (name, actual) in [
                ("score", u.score),
                ("ci_low", u.ci_low),
                ("ci_high", u.ci_high),
                ("satisfied_rate", u.satisfied_rate),
                ("satisfied_low", u.satisfied_low),
                ("satisfied_high", u.satisfied_high),
                ("shrunken", u.shrunken),
            ] {
                match e.get(name) {
                    Some(v) => close(actual, v, &format!("[{tag}] {code} {name}")),
                    None => assert_eq!(actual, None, "[{tag}] {code} {name}"),
                }
            }
            assert_eq!(
                u.rank.map(u64::from),
                e.get("rank").map(|r| r.as_u64().unwrap()),
                "[{tag}] {code} rank"
            );
        }
    });
}

/// Every stored rating as (unit, self-selected, answers, problems, comment, strata).
type Row = (
    i64,
    bool,
    String,
    String,
    Option<String>,
    String,
    String,
    String,
);

#[test]
fn shuffling_the_ratings_ids_and_storage_order_changes_no_published_figure() {
    let city = city();
    on_each_backend(|db| {
        let mut conn = db.conn();
        let campaign_id = load(&mut conn, &city);
        let period: Period = PERIOD.parse().unwrap();
        crate::common::keys::close(&mut conn, &period).unwrap();
        let before = aggregate::aggregate(
            &mut conn,
            &Actor::cli(),
            &period,
            &settings(),
            false,
            Some(SEED),
        )
        .unwrap()
        .aggregation_id;
        let rows: Vec<(Option<i64>, Row)> = ratings::table
            .order(ratings::id)
            .select((
                ratings::response_id,
                (
                    ratings::unit_id,
                    ratings::self_selected,
                    ratings::answers,
                    ratings::problems,
                    ratings::comment,
                    ratings::size,
                    ratings::industry,
                    ratings::district,
                ),
            ))
            .load(&mut conn)
            .unwrap();
        // New ids in a random order, written in another random order.
        let mut rng = rand::rng();
        let mut ids: Vec<i64> = (0..rows.len() as i64).map(|i| 5_000_000 + i * 7).collect();
        ids.shuffle(&mut rng);
        let mut shuffled: Vec<_> = rows.into_iter().zip(ids).collect();
        shuffled.shuffle(&mut rng);
        diesel::delete(ratings::table).execute(&mut conn).unwrap();
        for ((response, r), id) in shuffled {
            diesel::insert_into(ratings::table)
                .values((
                    ratings::id.eq(id),
                    ratings::response_id.eq(response),
                    ratings::campaign_id.eq(campaign_id),
                    ratings::unit_id.eq(r.0),
                    ratings::self_selected.eq(r.1),
                    ratings::answers.eq(r.2),
                    ratings::problems.eq(r.3),
                    ratings::comment.eq(r.4),
                    ratings::size.eq(r.5),
                    ratings::industry.eq(r.6),
                    ratings::district.eq(r.7),
                ))
                .execute(&mut conn)
                .unwrap();
        }
        let after = aggregate::aggregate(
            &mut conn,
            &Actor::cli(),
            &period,
            &settings(),
            false,
            Some(SEED),
        )
        .unwrap()
        .aggregation_id;
        assert_ne!(before, after);
        let json = |conn: &mut Conn, id: i64| -> String {
            use qiping::db::schema::aggregations;
            aggregations::table
                .find(id)
                .select(aggregations::result_json)
                .first(conn)
                .unwrap()
        };
        let (a, b) = (json(&mut conn, before), json(&mut conn, after));
        assert!(a.contains("\"score\""), "{a}");
        assert_eq!(a, b, "[{}] the same figures, to the bit", db.backend);
    });
}
