//! Province-scale aggregation (issue 5), opt-in: 1,000,000 responding enterprises × 10 ratings =
//! 10,000,000 ratings of 3,000 units in 30 peer groups, read from the database unit by unit
//! and aggregated end to end (R = 10,000 rank draws), on SQLite and, when a URL is given, on
//! PostgreSQL. Aims: under 60 s and under 2 GB peak memory. Printed beside a baseline from the
//! same run and database: one pass streaming every rating row and parsing its answers, no statistics.
//!
//! Run: `QIPING_BENCH_PROVINCE=1 cargo bench --bench province`
//! (`QIPING_BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/postgres` adds PostgreSQL in a scratch
//! database it creates and drops; `QIPING_BENCH_ENTERPRISES=N` changes the scale.) The data is
//! loaded with bulk statements (PostgreSQL `COPY`), not through the survey path, and the load
//! time is printed but not part of the figures. Peak memory is the process's resident peak,
//! reset before each measured phase (`/proc/self/clear_refs`).

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use qiping::db::{Conn, DatabaseUrl, migrate, ratings};
use qiping::service::aggregate::aggregate;
use qiping::stats::Settings;
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Instant;

const UNITS: usize = 3_000;
const GROUPS: usize = 30;
const RATINGS_PER_ENTERPRISE: usize = 10;
const QUESTIONS: [&str; 6] = [
    "attitude",
    "efficiency",
    "policy",
    "lawful",
    "integrity",
    "overall",
];
const SIZES: [&str; 4] = ["large", "medium", "small", "micro"];
const INDUSTRIES: [&str; 6] = [
    "制造业",
    "批发零售",
    "建筑业",
    "信息技术",
    "餐饮住宿",
    "其他",
];
const DISTRICTS: [&str; 8] = [
    "东城", "西城", "南湖", "北岸", "高新", "经开", "临港", "山区",
];

type Error = Box<dyn std::error::Error>;

fn main() -> Result<(), Error> {
    if std::env::var("QIPING_BENCH_PROVINCE").as_deref() != Ok("1") {
        println!("province benchmark skipped: opt-in, set QIPING_BENCH_PROVINCE=1 (takes minutes)");
        return Ok(());
    }
    // The aggregation logs how long reading took and how long the rest did.
    qiping::logging::init("qiping=info");
    let enterprises: usize = std::env::var("QIPING_BENCH_ENTERPRISES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    println!(
        "province campaign: {enterprises} enterprises × {RATINGS_PER_ENTERPRISE} ratings, {UNITS} units in {GROUPS} peer groups"
    );
    let dir = tempfile::tempdir()?;
    let sqlite = format!("sqlite://{}", dir.path().join("province.db").display());
    run("SQLite", &sqlite, enterprises)?;
    if let Ok(pg) = std::env::var("QIPING_BENCH_PG_URL") {
        let scratch = format!("qiping_bench_province_{}", std::process::id());
        let mut admin = PgConnection::establish(&pg)?;
        diesel::sql_query(format!("CREATE DATABASE {scratch}")).execute(&mut admin)?;
        let url = match pg.rsplit_once('/') {
            Some((base, _)) => format!("{base}/{scratch}"),
            None => return Err("QIPING_BENCH_PG_URL has no database name".into()),
        };
        let outcome = run("PostgreSQL", &url, enterprises);
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {scratch} WITH (FORCE)"))
            .execute(&mut admin)?;
        outcome?;
    } else {
        println!("PostgreSQL skipped: set QIPING_BENCH_PG_URL to include it");
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("cores {cores}; load average {}", load.join(" "));
    Ok(())
}

fn run(backend: &str, url: &str, enterprises: usize) -> Result<(), Error> {
    let url = DatabaseUrl::parse(url)?;
    let mut conn = url.connect()?;
    migrate(&mut conn)?;
    let started = Instant::now();
    load(&mut conn, enterprises)?;
    println!(
        "{backend}: loaded in {:.1} s (setup, not measured)",
        started.elapsed().as_secs_f64()
    );
    let campaign_id: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
        "(SELECT id FROM campaigns WHERE period = '2026H1')",
    ))
    .get_result(&mut conn)?;

    reset_peak();
    let started = Instant::now();
    let mut levels = 0u64;
    let mut read = 0usize;
    let unit_ids: Vec<i64> = diesel::sql_query("SELECT id FROM units ORDER BY code")
        .load::<Id>(&mut conn)?
        .into_iter()
        .map(|r| r.id)
        .collect();
    for unit_id in unit_ids {
        for r in ratings::of_unit(&mut conn, campaign_id, unit_id)? {
            let answers: BTreeMap<String, Option<u8>> = serde_json::from_str(&r.answers)?;
            levels += answers
                .values()
                .flatten()
                .map(|l| u64::from(*l))
                .sum::<u64>();
            read += 1;
        }
    }
    let baseline = started.elapsed().as_secs_f64();
    let baseline_peak = peak_mib();
    println!(
        "{backend}: baseline, stream {read} ratings and parse answers: {baseline:7.1} s, peak {baseline_peak:6.0} MiB (sum {levels})"
    );

    reset_peak();
    let started = Instant::now();
    let settings = Settings::default();
    let actor = qiping::service::Actor::cli();
    let report = aggregate(
        &mut conn,
        &actor,
        &"2026H1".parse()?,
        &settings,
        false,
        Some(20261),
    )?;
    let seconds = started.elapsed().as_secs_f64();
    let peak = peak_mib();
    println!(
        "{backend}: aggregate {} ratings, {} units, {} ranked, R = {}: {seconds:7.1} s, peak {peak:6.0} MiB",
        report.ratings, report.units, report.ranked, settings.draws
    );
    println!(
        "{backend}: ratio aggregate / baseline: {:.2}x; aims < 60 s: {}, < 2 GiB: {}",
        seconds / baseline,
        verdict(seconds < 60.0),
        verdict(peak < 2048.0)
    );
    Ok(())
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}

/// Resets the resident-set peak (Linux ≥ 4.0); harmless elsewhere.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The resident-set peak since the last reset, in MiB (VmHWM).
fn peak_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// The registry, a closed campaign and its responses and ratings, with unit effects, enterprise
/// effects and noise, and uneven unit popularity (a few units see most enterprises).
fn load(conn: &mut Conn, enterprises: usize) -> Result<(), Error> {
    let template = include_str!("../survey_templates/standard.toml").replace('\'', "''");
    let mut setup = String::from("BEGIN;\n");
    for g in 0..GROUPS {
        writeln!(
            setup,
            "INSERT INTO peer_groups (name) VALUES ('group-{g:02}');"
        )?;
    }
    for u in 0..UNITS {
        let kind = ["department", "office", "station"][u % 3];
        writeln!(
            setup,
            "INSERT INTO units (code, name, kind, peer_group, created_at, updated_at) \
             VALUES ('U{u:05}', '单位{u}', '{kind}', 'group-{:02}', '2026-01-01 00:00:00', '2026-01-01 00:00:00');",
            u % GROUPS
        )?;
    }
    writeln!(
        setup,
        "INSERT INTO campaigns (period, state, template_name, template_toml, opens_on, closes_on, created_at) \
         VALUES ('2026H1', 'closed', 'standard', '{template}', '2026-06-01', '2026-06-30', '2026-06-01 00:00:00');"
    )?;
    setup.push_str("COMMIT;\n");
    conn.batch_execute(&setup)?;
    let unit_ids: Vec<i64> = diesel::sql_query("SELECT id FROM units ORDER BY code")
        .load::<Id>(conn)?
        .into_iter()
        .map(|r| r.id)
        .collect();
    let campaign_id: i64 = diesel::sql_query("SELECT id FROM campaigns")
        .get_result::<Id>(conn)?
        .id;

    match conn {
        Conn::Sqlite(c) => load_sqlite(c, enterprises, campaign_id, &unit_ids),
        Conn::Postgres(c) => load_postgres(c, enterprises, campaign_id, &unit_ids),
    }
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
}

/// One generated response: its id, respondent key and strata (size, industry, district), and its
/// ratings (unit id, answers JSON).
struct Generated {
    /// Random, like the survey path's ids (`service::response`): ratings are `id << 7 | i`.
    id: i64,
    key: String,
    strata: (&'static str, &'static str, &'static str),
    ratings: Vec<(i64, String)>,
}

/// The deterministic population: enterprise `i` of the province.
struct Province {
    rng: Xoshiro256PlusPlus,
    unit_effect: Vec<f64>,
}

impl Province {
    fn new(units: usize) -> Self {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(2026);
        let unit_effect = (0..units).map(|_| rng.random_range(-0.8..0.8)).collect();
        Province { rng, unit_effect }
    }

    fn enterprise(&mut self, unit_ids: &[i64]) -> Generated {
        let rng = &mut self.rng;
        let id = (rng.random::<i64>() & (i64::MAX >> 7)).max(1);
        let key = format!("{:032x}", rng.random::<u128>());
        let strata = (
            SIZES[rng.random_range(0..SIZES.len())],
            INDUSTRIES[rng.random_range(0..INDUSTRIES.len())],
            DISTRICTS[rng.random_range(0..DISTRICTS.len())],
        );
        let mood: f64 = rng.random_range(-0.6..0.6);
        let mut chosen: Vec<usize> = Vec::with_capacity(RATINGS_PER_ENTERPRISE);
        while chosen.len() < RATINGS_PER_ENTERPRISE {
            // Popularity falls off with the unit's index: squared uniform.
            let x: f64 = rng.random();
            let u = ((x * x) * unit_ids.len() as f64) as usize;
            if !chosen.contains(&u) {
                chosen.push(u);
            }
        }
        let ratings = chosen
            .into_iter()
            .map(|u| {
                let mut json = String::from("{");
                for (i, q) in QUESTIONS.iter().enumerate() {
                    let level = 3.8 + self.unit_effect[u] + mood + rng.random_range(-1.5..1.5);
                    let level = level.round().clamp(1.0, 5.0) as u8;
                    let sep = if i == 0 { "" } else { "," };
                    if rng.random_range(0..20) == 0 && *q != "overall" {
                        let _ = write!(json, "{sep}\"{q}\":null");
                    } else {
                        let _ = write!(json, "{sep}\"{q}\":{level}");
                    }
                }
                json.push('}');
                (unit_ids[u], json)
            })
            .collect();
        Generated {
            id,
            key,
            strata,
            ratings,
        }
    }
}

fn load_sqlite(
    conn: &mut SqliteConnection,
    enterprises: usize,
    campaign_id: i64,
    unit_ids: &[i64],
) -> Result<(), Error> {
    conn.batch_execute("PRAGMA synchronous = OFF; BEGIN;")?;
    let mut province = Province::new(unit_ids.len());
    let batch = 200;
    let mut i = 0;
    while i < enterprises {
        let end = (i + batch).min(enterprises);
        let mut responses = String::from(
            "INSERT INTO responses (id, campaign_id, respondent_key, size, industry, district, submitted_on) VALUES ",
        );
        let mut ratings = String::from(
            "INSERT INTO ratings (id, response_id, campaign_id, unit_id, self_selected, answers, problems, size, industry, district) VALUES ",
        );
        let mut first_rating = true;
        for n in i..end {
            let g = province.enterprise(unit_ids);
            let sep = if n == i { "" } else { "," };
            let (s, ind, d) = g.strata;
            let id = g.id;
            write!(
                responses,
                "{sep}({id}, {campaign_id}, '{}', '{s}', '{ind}', '{d}', '2026-06-15')",
                g.key
            )?;
            for (r, (unit, answers)) in g.ratings.into_iter().enumerate() {
                let sep = if first_rating { "" } else { "," };
                first_rating = false;
                write!(
                    ratings,
                    "{sep}({}, {id}, {campaign_id}, {unit}, 0, '{answers}', '[]', '{s}', '{ind}', '{d}')",
                    id << 7 | r as i64
                )?;
            }
        }
        conn.batch_execute(&format!("{responses};\n{ratings};"))?;
        i = end;
    }
    conn.batch_execute("COMMIT; PRAGMA synchronous = FULL;")?;
    Ok(())
}

fn load_postgres(
    conn: &mut PgConnection,
    enterprises: usize,
    campaign_id: i64,
    unit_ids: &[i64],
) -> Result<(), Error> {
    use qiping::db::schema::{ratings, responses};
    // Generate once into two COPY text streams (tab-separated, the data has no tabs or
    // backslashes), chunk by chunk so memory stays flat.
    let chunk = 100_000;
    let mut province = Province::new(unit_ids.len());
    let mut i = 0;
    while i < enterprises {
        let end = (i + chunk).min(enterprises);
        let mut resp_text = String::new();
        let mut rating_text = String::new();
        for _ in i..end {
            let g = province.enterprise(unit_ids);
            let (s, ind, d) = g.strata;
            let id = g.id;
            writeln!(
                resp_text,
                "{id}\t{campaign_id}\t{}\t{s}\t{ind}\t{d}\t2026-06-15",
                g.key
            )?;
            for (r, (unit, answers)) in g.ratings.into_iter().enumerate() {
                writeln!(
                    rating_text,
                    "{}\t{id}\t{campaign_id}\t{unit}\tf\t{answers}\t[]\t{s}\t{ind}\t{d}",
                    id << 7 | r as i64
                )?;
            }
        }
        diesel::copy_from(responses::table)
            .from_raw_data(
                (
                    responses::id,
                    responses::campaign_id,
                    responses::respondent_key,
                    responses::size,
                    responses::industry,
                    responses::district,
                    responses::submitted_on,
                ),
                |w| write_all(w, &resp_text),
            )
            .execute(conn)?;
        diesel::copy_from(ratings::table)
            .from_raw_data(
                (
                    ratings::id,
                    ratings::response_id,
                    ratings::campaign_id,
                    ratings::unit_id,
                    ratings::self_selected,
                    ratings::answers,
                    ratings::problems,
                    ratings::size,
                    ratings::industry,
                    ratings::district,
                ),
                |w| write_all(w, &rating_text),
            )
            .execute(conn)?;
        i = end;
    }
    conn.batch_execute("ANALYZE responses; ANALYZE ratings;")?;
    Ok(())
}

/// A COPY callback's write, its error as diesel's.
fn write_all(w: &mut dyn std::io::Write, text: &str) -> Result<(), diesel::result::Error> {
    w.write_all(text.as_bytes())
        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))
}
