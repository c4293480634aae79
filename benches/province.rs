//! Province scale (issues 5 and 39), opt-in: 1,000,000 enterprises answer sealed ballots of 10
//! units each; the bench closes them into 10,000,000 ratings with the one close the product runs
//! (`service::closing::close`, default `[close]` settings: above its memory bound the opened
//! entries wait in sealed scratch buckets), then aggregates them end to end (R = 10,000 rank
//! draws over 3,000 units in 30 peer groups), on SQLite and, when a URL is given, on PostgreSQL.
//! Aims: the close under 5 minutes and under 2 GiB of memory; the aggregation under 60 s and
//! 2 GiB. Printed beside baselines from the same run and database: opening 10,000 of the ballots
//! on one core (the close's unavoidable work per ballot), and one pass streaming every rating
//! row and parsing its answers (the aggregation's). The figures gate nothing.
//!
//! Run: `QIPING_BENCH_PROVINCE=1 cargo bench --bench province`
//! (`QIPING_BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/postgres` adds PostgreSQL in a scratch
//! database it creates and drops; `QIPING_BENCH_ENTERPRISES=N` changes the scale;
//! `QIPING_BENCH_WEIGHTED=1` makes the campaign weighted, so that the close rakes and stores
//! weights.) The ballots are sealed on every core and stored with bulk statements, not through
//! the survey's pages (the submit bench measures those); that setup is timed but not part of the
//! figures. The ballots take about 5.4 GB per backend, and the close's write-ahead log and
//! scratch files as much again: the bench checks the free disk first and skips a backend,
//! saying so, when it lacks room. Peak memory is the process's resident peak, reset before each
//! measured phase (`/proc/self/clear_refs`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark may panic on setup failures

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use qiping::ballot::{self, BallotContent, BallotLayout, PrivateKey, RatedUnit};
use qiping::db::{Conn, DatabaseUrl, migrate, ratings};
use qiping::service::aggregate::aggregate;
use qiping::service::closing::{self, CloseOptions};
use qiping::service::links::LinkSecret;
use qiping::stats::Settings;
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

const UNITS: usize = 3_000;
const GROUPS: usize = 30;
const RATINGS_PER_ENTERPRISE: usize = 10;
/// Enterprises generated and sealed per job (each job its own seeded generator, so the data is
/// the same whatever the threads' order).
const JOB: usize = 5_000;
/// The standard questionnaire's questions (the last is the overall one, always answered).
const QUESTIONS: usize = 6;
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
const SECRET: &str = "province-bench-link-secret-0123456789abcdef";

type Error = Box<dyn std::error::Error>;

fn main() -> Result<(), Error> {
    if std::env::var("QIPING_BENCH_PROVINCE").as_deref() != Ok("1") {
        println!("province benchmark skipped: opt-in, set QIPING_BENCH_PROVINCE=1 (takes minutes)");
        return Ok(());
    }
    // The close and the aggregation log what they do and how long reading took.
    qiping::logging::init("qiping=info");
    let enterprises: usize = std::env::var("QIPING_BENCH_ENTERPRISES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let template = qiping::service::templates::parse_stored(include_str!(
        "../survey_templates/standard.toml"
    ))?;
    assert_eq!(template.questions().len(), QUESTIONS);
    let layout = BallotLayout::for_campaign(
        template.questions().len(),
        template.problems().len(),
        RATINGS_PER_ENTERPRISE,
        ballot::DEFAULT_COMMENT_BUDGET_CHARS,
    )?;
    let ballot_bytes = (enterprises * ballot::sealed_len(&layout)) as u64;
    println!(
        "province campaign: {enterprises} enterprises × {RATINGS_PER_ENTERPRISE} ratings, {UNITS} units in {GROUPS} peer groups; \
         sealed ballots of {} bytes, {:.1} GB in all; {}",
        ballot::sealed_len(&layout),
        ballot_bytes as f64 / 1e9,
        if std::env::var("QIPING_BENCH_WEIGHTED").as_deref() == Ok("1") {
            "weighted"
        } else {
            "unweighted"
        }
    );
    let dir = tempfile::tempdir()?;
    // SQLite: the ballots, a write-ahead log as large while the close zeroes them, the ratings
    // and the close's scratch files, all on this disk.
    let need = ballot_bytes * 5 / 2 + (enterprises * RATINGS_PER_ENTERPRISE * 600) as u64;
    if has_room("SQLite", dir.path(), need) {
        let sqlite = format!("sqlite://{}", dir.path().join("province.db").display());
        run("SQLite", &sqlite, enterprises, &layout)?;
    }
    drop(dir);
    if let Ok(pg) = std::env::var("QIPING_BENCH_PG_URL") {
        let mut admin = PgConnection::establish(&pg)?;
        #[derive(QueryableByName)]
        struct Setting {
            #[diesel(sql_type = diesel::sql_types::Text)]
            data_directory: String,
        }
        let data: Setting = diesel::sql_query("SHOW data_directory").get_result(&mut admin)?;
        // PostgreSQL: the ballots and the ratings in its data folder; the scratch files here.
        let need = ballot_bytes * 3 / 2 + (enterprises * RATINGS_PER_ENTERPRISE * 400) as u64;
        let scratch = std::env::temp_dir();
        if has_room("PostgreSQL", Path::new(&data.data_directory), need)
            && has_room(
                "PostgreSQL (scratch)",
                &scratch,
                (enterprises * RATINGS_PER_ENTERPRISE * 200) as u64,
            )
        {
            let name = format!("qiping_bench_province_{}", std::process::id());
            diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin)?;
            let url = match pg.rsplit_once('/') {
                Some((base, _)) => format!("{base}/{name}"),
                None => return Err("QIPING_BENCH_PG_URL has no database name".into()),
            };
            let outcome = run("PostgreSQL", &url, enterprises, &layout);
            diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin)?;
            outcome?;
        }
    } else {
        println!("PostgreSQL skipped: set QIPING_BENCH_PG_URL to include it");
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("cores {cores}; load average {}", load.join(" "));
    Ok(())
}

/// Whether the file system holding `path` has `need` bytes free; says so when not.
fn has_room(backend: &str, path: &Path, need: u64) -> bool {
    let free = rustix::fs::statvfs(path)
        .map(|s| s.f_bavail.saturating_mul(s.f_frsize))
        .unwrap_or(u64::MAX);
    if free < need {
        println!(
            "{backend} skipped: {} has {:.1} GiB free, the bench needs about {:.1} GiB \
             (QIPING_BENCH_ENTERPRISES=N runs it smaller)",
            path.display(),
            free as f64 / f64::from(1u32 << 30),
            need as f64 / f64::from(1u32 << 30)
        );
    }
    free >= need
}

fn run(backend: &str, url: &str, enterprises: usize, layout: &BallotLayout) -> Result<(), Error> {
    let url = DatabaseUrl::parse(url)?;
    let mut conn = url.connect()?;
    migrate(&mut conn)?;
    let secret = LinkSecret::from_config(Some(SECRET))?;
    let key = PrivateKey::generate()?;
    let started = Instant::now();
    let campaign_id = load(&mut conn, enterprises, layout, &key, &secret)?;
    println!(
        "{backend}: {enterprises} ballots sealed and stored in {:.1} s (setup, not measured)",
        started.elapsed().as_secs_f64()
    );

    // Baseline of the close: opening 10,000 of the stored ballots on one core, nothing kept.
    let sample: Vec<qiping::db::ballots::BallotRow> = {
        use qiping::db::schema::ballots;
        ballots::table
            .select(qiping::db::ballots::BallotRow::as_select())
            .limit(10_000)
            .load(&mut conn)?
    };
    let started = Instant::now();
    for b in &sample {
        let spent = ballot::SpentKey::from_slice(&b.spent_key).ok_or("spent key")?;
        std::hint::black_box(ballot::open(&key, campaign_id, &spent, &b.sealed, layout)?);
    }
    let per_ballot = started.elapsed().as_secs_f64() / sample.len().max(1) as f64;
    drop(sample);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let open_all = per_ballot * enterprises as f64 / cores as f64;
    println!(
        "{backend}: baseline, opening one ballot on one core: {:.0} µs; all of them on {cores} cores: {open_all:.1} s",
        per_ballot * 1e6
    );

    let period: qiping::domain::Period = "2026H1".parse()?;
    let actor = qiping::service::Actor::cli();
    let resident = resident_mib();
    reset_peak();
    let started = Instant::now();
    let report = closing::close(
        &mut conn,
        &actor,
        &secret,
        &period,
        Some(&key),
        CloseOptions::default(),
    )?;
    let seconds = started.elapsed().as_secs_f64();
    let peak = peak_mib();
    println!(
        "{backend}: close {} ballots into {} ratings ({} units withheld), scrub {}: {seconds:7.1} s, \
         peak {peak:6.0} MiB (resident before: {resident:.0} MiB)",
        report.ballots,
        report.ratings,
        report.withheld_units,
        if report.scrubbed { "done" } else { "NOT done" },
    );
    println!(
        "{backend}: ratio close / opening on every core: {:.2}x; aims < 5 min: {}, < 2 GiB: {}",
        seconds / open_all,
        verdict(seconds < 300.0),
        verdict(peak < 2048.0)
    );

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
    let report = aggregate(&mut conn, &actor, &period, &settings, false, Some(20261))?;
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

fn status_mib(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// The resident-set peak since the last reset, in MiB (VmHWM).
fn peak_mib() -> f64 {
    status_mib("VmHWM:")
}

/// The resident set now, in MiB (VmRSS).
fn resident_mib() -> f64 {
    status_mib("VmRSS:")
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
}

/// The registry (units, enterprise `i` with id `i + 1`), an open campaign sealed to `key` with one
/// invitation per enterprise (id `i + 1`), and every enterprise's sealed ballot. Returns the
/// campaign's id.
fn load(
    conn: &mut Conn,
    enterprises: usize,
    layout: &BallotLayout,
    key: &PrivateKey,
    secret: &LinkSecret,
) -> Result<i64, Error> {
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
        "INSERT INTO campaigns (period, state, template_name, template_toml, opens_on, closes_on, created_at, opened_at) \
         VALUES ('2026H1', 'open', 'standard', '{template}', '2026-06-01', '2026-06-30', '2026-06-01 00:00:00', '2026-06-01 00:00:00');"
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
    {
        use qiping::db::schema::campaigns;
        diesel::update(campaigns::table.find(campaign_id))
            .set((
                campaigns::ballot_public_key.eq(key.public_key().to_bytes()),
                campaigns::ballot_suite.eq(ballot::SuiteIds::CURRENT.to_string()),
                campaigns::ballot_units.eq(layout.units as i32),
                campaigns::ballot_comment_chars.eq(layout.comment_chars as i32),
                campaigns::weighted
                    .eq(std::env::var("QIPING_BENCH_WEIGHTED").as_deref() == Ok("1")),
            ))
            .execute(conn)?;
    }
    let registry = Instant::now();
    // Enterprises and their invitations, in batches of one statement each.
    let batch = 5_000;
    let mut i = 0;
    conn.batch_execute("BEGIN")?;
    while i < enterprises {
        let end = (i + batch).min(enterprises);
        let mut firms = String::from(
            "INSERT INTO enterprises (id, uscc, name, email, district, industry, size, created_at, updated_at) VALUES ",
        );
        let mut invited = String::from(
            "INSERT INTO invitations (id, campaign_id, enterprise_id, token_hash, status, issued_at, sent_at) VALUES ",
        );
        for n in i..end {
            let sep = if n == i { "" } else { "," };
            let id = n + 1;
            let (size, industry, district) = strata(n);
            write!(
                firms,
                "{sep}({id}, '91{id:016}', '企业{id}', 'e{id}@example.com', '{district}', '{industry}', '{size}', \
                 '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            )?;
            write!(
                invited,
                "{sep}({id}, {campaign_id}, {id}, 'hash-{id}', 'sent', '2026-06-01 00:00:00', '2026-06-01 00:00:00')"
            )?;
        }
        conn.batch_execute(&format!("{firms};\n{invited};"))?;
        i = end;
    }
    conn.batch_execute("COMMIT")?;
    println!(
        "  registry and invitations stored in {:.1} s",
        registry.elapsed().as_secs_f64()
    );

    // The ballots: sealed on every core, job by job, stored here in order of arrival.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let jobs = enterprises.div_ceil(JOB);
    let spent = secret.spent_keys();
    let public = key.public_key();
    let effects: Vec<f64> = {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(2026);
        (0..unit_ids.len())
            .map(|_| rng.random_range(-0.8..0.8))
            .collect()
    };
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<(Vec<u8>, Vec<u8>)>>(threads * 2);
    std::thread::scope(|s| -> Result<(), Error> {
        for t in 0..threads {
            let tx = tx.clone();
            let (spent, public, unit_ids, effects) = (&spent, &public, &unit_ids, &effects);
            s.spawn(move || {
                for job in (t..jobs).step_by(threads) {
                    let mut rng = Xoshiro256PlusPlus::seed_from_u64(job as u64);
                    let sealed: Vec<(Vec<u8>, Vec<u8>)> = (job * JOB
                        ..((job + 1) * JOB).min(enterprises))
                        .map(|n| {
                            let invitation = (n + 1) as i64;
                            let content = enterprise(&mut rng, unit_ids, effects);
                            let spent = spent.spent_key(campaign_id, invitation);
                            let sealed =
                                ballot::seal(public, campaign_id, &spent, &content, layout)
                                    .expect("seal");
                            (spent.as_bytes().to_vec(), sealed.0)
                        })
                        .collect();
                    if tx.send(sealed).is_err() {
                        return;
                    }
                }
            });
        }
        drop(tx);
        let mut stored = 0usize;
        let started = Instant::now();
        conn.batch_execute("BEGIN")?;
        for job in rx {
            for rows in job.chunks(500) {
                store_ballots(conn, campaign_id, rows)?;
            }
            stored += job.len();
            if stored % 100_000 < JOB {
                println!(
                    "  {stored} ballots stored ({:.0} s)",
                    started.elapsed().as_secs_f64()
                );
            }
        }
        conn.batch_execute("COMMIT")?;
        Ok(())
    })?;
    if let Conn::Postgres(c) = conn {
        c.batch_execute("ANALYZE")?;
    }
    Ok(campaign_id)
}

/// Stores ballots (spent key, sealed bytes) in one statement.
fn store_ballots(
    conn: &mut Conn,
    campaign_id: i64,
    rows: &[(Vec<u8>, Vec<u8>)],
) -> Result<(), Error> {
    use qiping::db::schema::ballots;
    let values: Vec<_> = rows
        .iter()
        .map(|(spent, sealed)| {
            (
                ballots::spent_key.eq(spent),
                ballots::campaign_id.eq(campaign_id),
                ballots::sealed.eq(sealed),
            )
        })
        .collect();
    match conn {
        Conn::Sqlite(c) => diesel::insert_into(ballots::table)
            .values(&values)
            .execute(c)?,
        Conn::Postgres(c) => diesel::insert_into(ballots::table)
            .values(&values)
            .execute(c)?,
    };
    Ok(())
}

/// Enterprise `n`'s size, industry and district.
fn strata(n: usize) -> (&'static str, &'static str, &'static str) {
    (
        SIZES[n % SIZES.len()],
        INDUSTRIES[(n / 4) % INDUSTRIES.len()],
        DISTRICTS[(n / 24) % DISTRICTS.len()],
    )
}

/// One enterprise's ballot: ten units, popularity falling off with the unit's index (a few units
/// see most enterprises), levels from the unit's effect, the enterprise's mood and noise, one
/// answer in twenty 不了解, one enterprise in ten leaving a comment on one unit.
fn enterprise(rng: &mut Xoshiro256PlusPlus, unit_ids: &[i64], effects: &[f64]) -> BallotContent {
    let mood: f64 = rng.random_range(-0.6..0.6);
    let mut chosen: Vec<usize> = Vec::with_capacity(RATINGS_PER_ENTERPRISE);
    while chosen.len() < RATINGS_PER_ENTERPRISE {
        let x: f64 = rng.random();
        let u = ((x * x) * unit_ids.len() as f64) as usize;
        if !chosen.contains(&u) {
            chosen.push(u);
        }
    }
    let comment_on = (rng.random_range(0..10) == 0).then(|| rng.random_range(0..chosen.len()));
    BallotContent {
        units: chosen
            .into_iter()
            .enumerate()
            .map(|(k, u)| RatedUnit {
                unit_id: unit_ids[u],
                self_selected: false,
                levels: (0..QUESTIONS)
                    .map(|q| {
                        let level = 3.8 + effects[u] + mood + rng.random_range(-1.5..1.5);
                        (q == QUESTIONS - 1 || rng.random_range(0..20) != 0)
                            .then_some(level.round().clamp(1.0, 5.0) as u8)
                    })
                    .collect(),
                problems: if rng.random_range(0..8) == 0 {
                    vec![rng.random_range(0..3)]
                } else {
                    Vec::new()
                },
                comment: (comment_on == Some(k))
                    .then(|| "窗口办理时间长,希望增加自助设备。".into()),
            })
            .collect(),
    }
}
