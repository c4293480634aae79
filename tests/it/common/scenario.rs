//! Scenario builders, one copy for every test: a registry, a campaign created and opened, a
//! campaign with known answers closed and aggregated, a published period. The survey tests' open
//! campaign with invitations is `survey_support::open_campaign`; the mail tests' registry of
//! mailable enterprises is `mailing::registry`; both build on these.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;

use diesel::prelude::*;
use qiping::db::Conn;
use qiping::db::schema::{ratings, responses, units};
use qiping::domain::Period;
use qiping::service::campaign::{self, CreateCampaign};
use qiping::service::links::LinkSecret;
use qiping::service::{Actor, aggregate, import, publication};
use qiping::stats::Settings;

use super::{fixture, no_progress, uscc};
use crate::survey_support::{ASKED, DEPARTMENTS, OFFICES, PERIOD, data};

/// The tests' link secret (`survey_support::server::SECRET` gives it to `qiping serve` children).
pub fn secret() -> LinkSecret {
    LinkSecret::from_config(Some(crate::survey_support::server::SECRET)).unwrap()
}

/// The registry of `tests/fixtures/import/`: `units_good.csv` and `enterprises_good.csv`.
pub fn fixture_registry(conn: &mut Conn) {
    import::import_units(
        conn,
        &Actor::cli(),
        &fixture("import/units_good.csv"),
        &mut no_progress(),
    )
    .unwrap();
    import::import_enterprises(
        conn,
        &Actor::cli(),
        &fixture("import/enterprises_good.csv"),
        &mut no_progress(),
    )
    .unwrap();
}

/// Creates the campaign of `period` from the standard template (optionally sampled:
/// `(size, seed)`), without opening it.
pub fn create_campaign(conn: &mut Conn, period: &str, sample: Option<(u64, u64)>) -> Period {
    create_campaign_as(conn, period, sample, false)
}

/// [`create_campaign`], weighted or not.
pub fn create_campaign_as(
    conn: &mut Conn,
    period: &str,
    sample: Option<(u64, u64)>,
    weighted: bool,
) -> Period {
    let period: Period = period.parse().unwrap();
    campaign::create(
        conn,
        &Actor::cli(),
        Path::new("survey_templates"),
        &CreateCampaign {
            period,
            template_name: "standard",
            opens_on: None,
            closes_on: None,
            sample: sample.map(|s| s.0),
            seed: sample.map(|s| s.1),
            weighted,
        },
    )
    .unwrap();
    period
}

/// Creates and opens the campaign of `period` (links made with [`secret`]).
pub fn open_campaign(conn: &mut Conn, period: &str, sample: Option<(u64, u64)>) -> Period {
    let period = create_campaign(conn, period, sample);
    super::keys::open(conn, &period).unwrap();
    period
}

// The survey tests' campaign, answered through the survey service.

/// The survey tests' open campaign (`survey_support::data`: 3 departments with 3 offices each,
/// each enterprise asked about the first 4 units) with `enterprises` invitations; returns one token per enterprise, in
/// invitation order.
pub fn open_survey_campaign(conn: &mut Conn, enterprises: usize) -> Vec<String> {
    open_survey_campaign_as(conn, enterprises, false)
}

/// [`open_survey_campaign`], the campaign weighted or not.
pub fn open_survey_campaign_as(conn: &mut Conn, enterprises: usize, weighted: bool) -> Vec<String> {
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
    create_campaign_as(conn, PERIOD, None, weighted);
    super::keys::open(conn, &period).unwrap();
    let row = campaign::find(conn, &period).unwrap();
    qiping::db::invitations::of_campaign(conn, row.id)
        .unwrap()
        .into_iter()
        .map(|inv| secret().token(inv.id, inv.link_version))
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
    diesel::update(qiping::db::schema::campaigns::table)
        .set(
            qiping::db::schema::campaigns::closes_on
                .eq(chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap()),
        )
        .execute(conn)
        .unwrap();
}

/// Answers stored and the units they rate: sealed ballots (opened with the test's kept keys, see
/// [`super::keys::peek`]) and their units, plus ratings already opened by a close (or written
/// directly by [`answer_campaign`]) with their responses.
pub fn counts(conn: &mut Conn) -> (i64, i64) {
    let sealed = super::keys::peek(conn);
    let units: usize = sealed.iter().map(|b| b.units.len()).sum();
    (
        sealed.len() as i64 + responses::table.count().get_result::<i64>(conn).unwrap(),
        units as i64 + ratings::table.count().get_result::<i64>(conn).unwrap(),
    )
}

// The city of the publication and inspection tests: twelve departments (部门), optionally ten
// offices under D01 (处室), ten stations (基层站所), forty enterprises that each rate every unit.

/// Enterprises of [`city_enterprises_csv`].
pub const CITY_ENTERPRISES: u32 = 40;

/// The settings the city's campaigns are aggregated and published with.
pub fn city_settings() -> Settings {
    Settings {
        draws: 4000,
        ..Settings::default()
    }
}

/// The city's units: D10's head is 钱旧, D12's is `d12_head` (`name,since`); `extra` is appended.
pub fn city_units_csv(offices: bool, extra: &str, d12_head: &str) -> String {
    let mut csv = String::from(
        "code,name,kind,parent_code,peer_group,head_name,head_since,predecessor_code\n",
    );
    for d in 1..=12 {
        let head = match d {
            12 => d12_head.to_owned(),
            10 => "钱旧,2018-01-01".to_owned(),
            _ => format!("负责人{d:02},2018-01-01"),
        };
        csv.push_str(&format!("D{d:02},第{d}局,department,,部门,{head},\n"));
    }
    if offices {
        for o in 1..=10 {
            csv.push_str(&format!(
                "O{o:02},第{o}处,office,D01,处室,处长{o:02},2018-01-01,\n"
            ));
        }
    }
    for s in 1..=10 {
        csv.push_str(&format!(
            "S{s:02},第{s}所,station,D01,基层站所,所长{s:02},2018-01-01,\n"
        ));
    }
    csv.push_str(extra);
    csv
}

/// The city's forty enterprises, alternately in 鼓楼区 and 云龙区.
pub fn city_enterprises_csv() -> String {
    let mut csv = String::from("uscc,name,email,district,industry,size\n");
    for n in 0..CITY_ENTERPRISES {
        csv.push_str(&format!(
            "{},企业{n},e{n}@example.com,{},制造业,small\n",
            uscc(n),
            ["鼓楼区", "云龙区"][n as usize % 2]
        ));
    }
    csv
}

/// Imports the city's enterprises and units (D12 headed by 王建国 since 2018).
pub fn city_registry(conn: &mut Conn, offices: bool) {
    import::import_enterprises(
        conn,
        &Actor::cli(),
        city_enterprises_csv().as_bytes(),
        &mut no_progress(),
    )
    .unwrap();
    import::import_units(
        conn,
        &Actor::cli(),
        city_units_csv(offices, "", "王建国,2018-01-01").as_bytes(),
        &mut no_progress(),
    )
    .unwrap();
}

/// Departments D01..D12 at the given levels, offices O01..O10 too when given, stations half low
/// (S01..S05: 1) and half high (5); then `extra`.
pub fn city_levels(
    departments: [f64; 12],
    offices: Option<[f64; 10]>,
    extra: &[(&'static str, f64)],
) -> BTreeMap<&'static str, f64> {
    const DEPARTMENTS: [&str; 12] = [
        "D01", "D02", "D03", "D04", "D05", "D06", "D07", "D08", "D09", "D10", "D11", "D12",
    ];
    const OFFICES: [&str; 10] = [
        "O01", "O02", "O03", "O04", "O05", "O06", "O07", "O08", "O09", "O10",
    ];
    const STATIONS: [&str; 10] = [
        "S01", "S02", "S03", "S04", "S05", "S06", "S07", "S08", "S09", "S10",
    ];
    let mut map: BTreeMap<&str, f64> = DEPARTMENTS.iter().copied().zip(departments).collect();
    if let Some(offices) = offices {
        map.extend(OFFICES.iter().copied().zip(offices));
    }
    for (i, s) in STATIONS.iter().enumerate() {
        map.insert(s, if i < 5 { 1.0 } else { 5.0 });
    }
    for (code, level) in extra {
        map.insert(code, *level);
    }
    map
}

/// Every enterprise rates every unit in `levels`. A level of 3.05 means that 2 of the 40
/// enterprises start from 4 and the others from 3; a unit in `spread` starts one higher for even
/// enterprises and one lower for odd ones (same mean, wide interval); each answer then adds a
/// deterministic −1/0/+1 (which sums to zero over one enterprise's six answers), clamped to 1..=5.
/// The rows are written as the survey writes them.
pub fn answer_campaign(
    conn: &mut Conn,
    period: &str,
    levels: &BTreeMap<&str, f64>,
    spread: &[&str],
) {
    let row = campaign::find(conn, &period.parse().unwrap()).unwrap();
    let ids: BTreeMap<String, i64> = units::table
        .select((units::code, units::id))
        .load::<(String, i64)>(conn)
        .unwrap()
        .into_iter()
        .collect();
    let questions = [
        "attitude",
        "efficiency",
        "policy",
        "lawful",
        "integrity",
        "overall",
    ];
    for e in 0..CITY_ENTERPRISES {
        for (i, (code, level)) in levels.iter().enumerate() {
            let up = ((level.fract() * f64::from(CITY_ENTERPRISES)).round() as u32) > e;
            let wide = match (spread.contains(code), e % 2) {
                (false, _) => 0,
                (true, 0) => 1,
                (true, _) => -1,
            };
            let base = level.floor() as i32 + i32::from(up) + wide;
            let answers: BTreeMap<&str, i32> = questions
                .iter()
                .enumerate()
                .map(|(q, id)| {
                    let noise = ((e as usize * 7 + i * 3 + q) % 3) as i32 - 1;
                    (*id, (base + noise).clamp(1, 5))
                })
                .collect();
            diesel::insert_into(ratings::table)
                .values((
                    ratings::campaign_id.eq(row.id),
                    ratings::size.eq(""),
                    ratings::industry.eq(""),
                    ratings::district.eq(""),
                    ratings::unit_id.eq(ids[*code]),
                    ratings::self_selected.eq(false),
                    ratings::answers.eq(serde_json::to_string(&answers).unwrap()),
                    ratings::problems.eq("[]"),
                ))
                .execute(conn)
                .unwrap();
        }
    }
}

/// A campaign with known answers: created, opened, answered ([`answer_campaign`]), closed and
/// aggregated with [`city_settings`] and seed 20191231; not published.
pub fn run_campaign(
    conn: &mut Conn,
    period: &str,
    levels: &BTreeMap<&str, f64>,
    spread: &[&str],
) -> Period {
    let p = open_campaign(conn, period, None);
    answer_campaign(conn, period, levels, spread);
    super::keys::close(conn, &p).unwrap();
    aggregate::aggregate(
        conn,
        &Actor::cli(),
        &p,
        &city_settings(),
        false,
        Some(20191231),
    )
    .unwrap();
    p
}

/// Publishes the latest aggregation of `period` with [`city_settings`] and writes its reports
/// under `reports` (a correction when `reason` is given).
pub fn publish(
    conn: &mut Conn,
    period: &Period,
    reason: Option<&str>,
    reports: &Path,
) -> publication::PublishReport {
    publication::publish_and_write(
        conn,
        &Actor::cli(),
        period,
        reason,
        &city_settings(),
        reports,
    )
    .unwrap()
}
