//! Dispatcher throughput: 10,000 invitations rendered (text, HTML, QR code PNG) and sent to a
//! loopback SMTP sink with no rate limit, through the whole dispatcher (claim, send, record in
//! SQLite), once with pooled connections and once opening one connection per message, in the same
//! run. `QIPING_BENCH_MESSAGES` changes the count.
//!
//! `cargo bench --bench mail`

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark may panic on setup failures

#[path = "../tests/it/common/smtp.rs"]
mod smtp;

use qiping::service::Actor;
use std::time::Instant;

use qiping::config::{MailConfig, TlsMode};
use qiping::db::{Conn, DatabaseUrl};
use qiping::mail::Mailer;
use qiping::service::campaign::{self, CreateCampaign};
use qiping::service::dispatch::{Dispatcher, Until};
use qiping::service::import::import_enterprises;
use qiping::service::links::LinkSecret;

fn registry(conn: &mut Conn, n: u32) {
    let mut csv = String::from("uscc,name,email,district,industry,size\n");
    for i in 0..n {
        let first17 = format!("91320300MA{i:07}");
        let check = qiping::domain::uscc_check_character(&first17).unwrap();
        csv.push_str(&format!(
            "{first17}{check},徐州市第{i}号商贸有限公司,contact{i}@example.com,鼓楼区,制造业,small\n"
        ));
    }
    import_enterprises(conn, &Actor::cli(), csv.as_bytes(), &mut |_, _| {}).unwrap();
}

fn open(conn: &mut Conn, secret: &LinkSecret, period: &str) {
    campaign::create(
        conn,
        &Actor::cli(),
        std::path::Path::new("survey_templates"),
        &CreateCampaign {
            period: period.parse().unwrap(),
            template_name: "standard",
            opens_on: None,
            closes_on: None,
            sample: None,
            seed: None,
            weighted: false,
        },
    )
    .unwrap();
    let key = qiping::ballot::PrivateKey::generate().unwrap();
    campaign::open(
        conn,
        &Actor::cli(),
        secret,
        &period.parse().unwrap(),
        &key,
        true,
        |_, _| Ok(()),
    )
    .unwrap();
}

fn run(conn: &mut Conn, mailer: &Mailer, secret: &LinkSecret, settings: &MailConfig) -> f64 {
    let started = Instant::now();
    let report = Dispatcher {
        mailer,
        secret,
        base_url: "https://qiping.example.gov.cn",
        settings,
        weighted_by_default: false,
        before_compose: None,
    }
    .run(conn, Until::Drained, &mut |_, _| {}, &mut |_| true)
    .unwrap();
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(report.failed + report.retried, 0, "{report:?}");
    report.sent as f64 / seconds
}

fn main() {
    let n: u32 = std::env::var("QIPING_BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    // QIPING_BENCH_DIR puts the database elsewhere (e.g. /dev/shm to take the disk out).
    let dir = match std::env::var("QIPING_BENCH_DIR") {
        Ok(base) => tempfile::tempdir_in(base).unwrap(),
        Err(_) => tempfile::tempdir().unwrap(),
    };
    let url =
        DatabaseUrl::parse(&format!("sqlite://{}", dir.path().join("b.db").display())).unwrap();
    let mut conn = url.connect().unwrap();
    qiping::db::migrate(&mut conn).unwrap();
    let secret =
        LinkSecret::from_config(Some("YmVuY2htYXJrLXNlY3JldC1vZi1lbm91Z2gtbGVuZ3Ro")).unwrap();
    registry(&mut conn, n);
    let sink = smtp::SmtpSink::start();
    let settings = MailConfig {
        smtp_host: Some("127.0.0.1".into()),
        smtp_port: sink.addr.port(),
        tls: TlsMode::None,
        rate_per_second: 0.0,
        batch_size: 500,
        ..MailConfig::default()
    };

    open(&mut conn, &secret, "2019H1");
    let pooled = run(
        &mut conn,
        &Mailer::from_config(&settings).unwrap(),
        &secret,
        &settings,
    );
    let after_pooled = sink.connections();
    open(&mut conn, &secret, "2019H2");
    let fresh = run(
        &mut conn,
        &Mailer::per_message(&settings).unwrap(),
        &secret,
        &settings,
    );
    assert_eq!(sink.received().len(), 2 * n as usize);
    println!(
        "{n} invitations, SQLite, loopback SMTP, no rate limit:\n  \
         pooled connections:     {pooled:>7.0} messages/s ({after_pooled} connection(s))\n  \
         one connection/message: {fresh:>7.0} messages/s ({} connections)\n  \
         pooled / per message:   {:.2}×",
        sink.connections() - after_pooled,
        pooled / fresh
    );
}
