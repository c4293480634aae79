//! Registry import speed: 100,000 enterprises into a fresh SQLite database (and PostgreSQL when
//! `QIPING_BENCH_PG_URL` names a server to create a scratch database on), beside the baseline of
//! decoding and parsing the same file without a database, measured in the same run.
//!
//! `cargo bench --bench import`

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark may panic on setup failures

use qiping::service::Actor;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use qiping::db::DatabaseUrl;
use qiping::service::import::import_enterprises;

const ENTERPRISES: u32 = 100_000;

fn file() -> Vec<u8> {
    let districts = ["鼓楼区", "云龙区", "贾汪区", "泉山区", "铜山区"];
    let industries = [
        "制造业",
        "批发和零售业",
        "建筑业",
        "信息技术服务业",
        "住宿和餐饮业",
    ];
    let sizes = ["micro", "small", "medium", "large"];
    let mut csv = String::from("uscc,name,email,district,industry,size\n");
    for n in 0..ENTERPRISES {
        let first17 = format!("91320300MA{n:07}");
        let check = qiping::domain::uscc_check_character(&first17).unwrap();
        let i = n as usize;
        csv.push_str(&format!(
            "{first17}{check},徐州市第{n}号商贸有限公司,contact{n}@example.com,{},{},{}\n",
            districts[i % 5],
            industries[(i / 5) % 5],
            sizes[(i / 25) % 4]
        ));
    }
    csv.into_bytes()
}

fn time<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let value = f();
    (value, start.elapsed())
}

fn import_into(url: &str, bytes: &[u8]) -> Duration {
    let mut conn = DatabaseUrl::parse(url).unwrap().connect().unwrap();
    qiping::db::migrate(&mut conn).unwrap();
    let (report, elapsed) =
        time(|| import_enterprises(&mut conn, &Actor::cli(), bytes, &mut |_, _| {}).unwrap());
    assert_eq!(report.inserted, ENTERPRISES as usize);
    elapsed
}

fn main() {
    let bytes = file();
    let (_, parse) = time(|| qiping::service::registry_csv::read_enterprises(&bytes).unwrap());
    println!(
        "import: {} enterprises, {:.1} MB CSV",
        ENTERPRISES,
        bytes.len() as f64 / 1e6
    );
    println!(
        "  baseline  decode + parse only      {:>8.2} s",
        parse.as_secs_f64()
    );

    let dir = tempfile::tempdir().unwrap();
    let sqlite = import_into(
        &format!("sqlite://{}", dir.path().join("bench.db").display()),
        &bytes,
    );
    println!(
        "  SQLite    full import, one commit  {:>8.2} s  ({:.1}× the parse, {:.0} rows/s)",
        sqlite.as_secs_f64(),
        sqlite.as_secs_f64() / parse.as_secs_f64(),
        ENTERPRISES as f64 / sqlite.as_secs_f64()
    );

    if let Ok(admin_url) = std::env::var("QIPING_BENCH_PG_URL") {
        let name = format!("qiping_bench_{}", std::process::id());
        let mut admin = diesel::PgConnection::establish(&admin_url).unwrap();
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        let base = admin_url.rsplit_once('/').map(|(b, _)| b).unwrap();
        let pg = import_into(&format!("{base}/{name}"), &bytes);
        admin
            .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .unwrap();
        println!(
            "  Postgres  full import, one commit  {:>8.2} s  ({:.1}× the parse, {:.0} rows/s)",
            pg.as_secs_f64(),
            pg.as_secs_f64() / parse.as_secs_f64(),
            ENTERPRISES as f64 / pg.as_secs_f64()
        );
    } else {
        println!("  Postgres  skipped (set QIPING_BENCH_PG_URL=postgres://…/postgres)");
    }
}
