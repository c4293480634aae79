//! Closing a campaign of 10,000 sealed ballots (issues 38, 39): the close's check of the key, its
//! `closing` commit, the one transaction that opens every ballot, shuffles and stores the ratings
//! and deletes the ballots, and the scrub — on SQLite, and on PostgreSQL when `QIPING_BENCH_PG_URL`
//! names a server to create a scratch database on, with the process's resident peak during the
//! close (reset before it; the process also holds the setup's leftovers). Beside it, in the same run: opening the same
//! ballots in memory alone (what the close cannot do without), and the progress page of the open
//! campaign, which recomputes one spent key per invitation to tell who has answered. Also the
//! database size the ballots take.
//!
//! `cargo bench --bench close` (`QIPING_BENCH_BALLOTS` changes the count, default 10,000)

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark may panic on setup failures

#[path = "../tests/it/survey_support/mod.rs"]
mod survey_support;

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use qiping::ballot::{self, PrivateKey, SpentKey};
use qiping::db::{Conn, DatabaseUrl, ballots as ballot_rows, invitations, write_transaction};
use qiping::domain::RawSubmission;
use qiping::service::closing::{self, CloseOptions};
use qiping::service::links::LinkSecret;
use qiping::service::survey::SurveyContext;
use qiping::service::{Actor, ballots, campaign, import, progress, response, templates};
use survey_support::server::SECRET;
use survey_support::{DEPARTMENTS, OFFICES, PERIOD, data};

/// Units each enterprise was asked about (and rates): the ballot holds these and 5 more.
const UNITS: usize = 10;

fn count() -> usize {
    std::env::var("QIPING_BENCH_BALLOTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

struct Figures {
    close: Duration,
    /// The process's resident peak during the close, MiB.
    close_peak: f64,
    open_in_memory: Duration,
    progress_page: Duration,
    bytes: Option<u64>,
    ratings: usize,
}

fn run(url: &str) -> Figures {
    let n = count();
    let mut conn = DatabaseUrl::parse(url).unwrap().connect().unwrap();
    qiping::db::migrate(&mut conn).unwrap();
    let actor = Actor::cli();
    let ignore = &mut |_: usize, _: usize| {};
    let codes = data::unit_codes(DEPARTMENTS, OFFICES);
    import::import_units(
        &mut conn,
        &actor,
        data::units_csv(DEPARTMENTS, OFFICES).as_bytes(),
        ignore,
    )
    .unwrap();
    import::import_enterprises(
        &mut conn,
        &actor,
        data::enterprises_csv(n).as_bytes(),
        ignore,
    )
    .unwrap();
    let period = PERIOD.parse().unwrap();
    import::import_interactions(
        &mut conn,
        &actor,
        &period,
        data::interactions_csv(n, &codes, UNITS).as_bytes(),
        ignore,
    )
    .unwrap();
    campaign::create(
        &mut conn,
        &actor,
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
    let key = PrivateKey::generate().unwrap();
    campaign::open(
        &mut conn,
        &actor,
        &secret(),
        &period,
        &key,
        false,
        |_, _| Ok(()),
    )
    .unwrap();
    let row = campaign::find(&mut conn, &period).unwrap();

    // Every enterprise answers (sealed as a submission seals), stored in batches of 500.
    let survey = SurveyContext::new(&secret());
    let asked: Vec<String> = codes.iter().take(UNITS).cloned().collect();
    let submission: RawSubmission = {
        let mut v: serde_json::Value =
            serde_json::from_str(&data::submission_json("x", &asked)).unwrap();
        v.as_object_mut().unwrap().remove("token");
        serde_json::from_value(v).unwrap()
    };
    let invited = invitations::of_campaign(&mut conn, row.id).unwrap();
    let before = database_bytes(&mut conn, url);
    for chunk in invited.chunks(500) {
        let prepared: Vec<_> = chunk
            .iter()
            .map(|i| {
                let token = secret().token(i.id, i.link_version);
                response::prepare(&mut conn, &survey, &token, &submission).unwrap()
            })
            .collect();
        write_transaction(&mut conn, |c| {
            for p in &prepared {
                response::store(c, p)?;
            }
            Ok::<_, response::SubmitError>(())
        })
        .unwrap();
    }
    let bytes = database_bytes(&mut conn, url)
        .zip(before)
        .map(|(after, before)| after.saturating_sub(before));

    // Who has answered, as the progress page works it out (one HMAC per invitation).
    let started = Instant::now();
    let shown =
        progress::of_campaign(&mut conn, &period, Some(survey.spent_keys().unwrap())).unwrap();
    let progress_page = started.elapsed();
    assert_eq!(shown.summary.completed as usize, n);

    // The baseline: opening the same ballots in memory, nothing stored.
    let template = templates::parse_stored(&row.template_toml).unwrap();
    let layout = ballots::layout(&row, &template).unwrap();
    let sealed = ballot_rows::of_campaign(&mut conn, row.id).unwrap();
    let started = Instant::now();
    for b in &sealed {
        let spent = SpentKey::from_slice(&b.spent_key).unwrap();
        std::hint::black_box(ballot::open(&key, row.id, &spent, &b.sealed, &layout).unwrap());
    }
    let open_in_memory = started.elapsed();
    drop(sealed);

    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let started = Instant::now();
    let report = closing::close(
        &mut conn,
        &actor,
        &secret(),
        &period,
        Some(&key),
        CloseOptions::default(),
    )
    .unwrap();
    let close = started.elapsed();
    let close_peak = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0);
    assert_eq!(report.ballots, n);
    assert!(report.scrubbed);
    Figures {
        close,
        close_peak,
        open_in_memory,
        progress_page,
        bytes,
        ratings: report.ratings,
    }
}

fn secret() -> LinkSecret {
    LinkSecret::from_config(Some(SECRET)).unwrap()
}

/// The database's size, for the ballots' share (the growth while they are stored): SQLite's file
/// after a truncating checkpoint (`dbstat` is not compiled in); PostgreSQL's
/// `pg_total_relation_size` of `ballots` (its index and TOAST included).
fn database_bytes(conn: &mut Conn, url: &str) -> Option<u64> {
    #[derive(QueryableByName)]
    struct Size {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        bytes: i64,
    }
    match conn {
        Conn::Sqlite(c) => {
            c.batch_execute("PRAGMA wal_checkpoint(TRUNCATE)").ok()?;
            let path = url.trim_start_matches("sqlite://");
            std::fs::metadata(path).ok().map(|m| m.len())
        }
        Conn::Postgres(c) => {
            diesel::sql_query("SELECT pg_total_relation_size('ballots')::bigint AS bytes")
                .get_result::<Size>(c)
                .ok()
                .map(|s| s.bytes as u64)
        }
    }
}

fn print(backend: &str, f: &Figures, what_bytes: &str) {
    let n = count() as f64;
    println!(
        "  {backend:<9} close {:>6.2} s ({:.0} µs per ballot, {} ratings stored, peak {:.0} MiB)   \
         baseline: opening them in memory on one core {:.2} s (close = {:.1}×)",
        f.close.as_secs_f64(),
        f.close.as_secs_f64() * 1e6 / n,
        f.ratings,
        f.close_peak,
        f.open_in_memory.as_secs_f64(),
        f.close.as_secs_f64() / f.open_in_memory.as_secs_f64()
    );
    println!(
        "  {backend:<9} progress page of the open campaign (who answered, by spent key): {:.0} ms",
        f.progress_page.as_secs_f64() * 1e3
    );
    if let Some(bytes) = f.bytes {
        println!(
            "  {backend:<9} {what_bytes}: {:.1} MB ({:.0} bytes per ballot)",
            bytes as f64 / 1e6,
            bytes as f64 / n
        );
    }
}

fn main() {
    let n = count();
    let layout = ballot::BallotLayout::for_campaign(6, 5, UNITS, 2000).unwrap();
    println!(
        "closing a campaign of {n} sealed ballots ({UNITS} units each; {} bytes per sealed ballot)",
        ballot::sealed_len(&layout)
    );
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("close.sqlite").display());
    print("SQLite", &run(&url), "the database file grew by");
    if let Ok(admin_url) = std::env::var("QIPING_BENCH_PG_URL") {
        let name = format!("qiping_bench_close_{}", std::process::id());
        let mut admin = diesel::PgConnection::establish(&admin_url).unwrap();
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        let base = admin_url.rsplit_once('/').map(|(b, _)| b).unwrap();
        let result = run(&format!("{base}/{name}"));
        admin
            .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .unwrap();
        print(
            "Postgres",
            &result,
            "the ballots table with its index and TOAST",
        );
    } else {
        println!("  Postgres  skipped (set QIPING_BENCH_PG_URL=postgres://…/postgres)");
    }
}
