//! The delivery guarantee across a crash: `qiping mail send` runs as a child process, is killed
//! (SIGKILL) mid-batch and started again; the loopback SMTP server counts deliveries. At most once:
//! no address receives its invitation twice, and at most one claim group (`mail.claim_group`) is in
//! doubt.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use crate::common;

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::mailing;
use common::on_each_backend;
use common::smtp::SmtpSink;
use diesel::prelude::*;
use qiping::db::schema::outbox;

const ENTERPRISES: u32 = 30;
/// Messages claimed per commit: at most this many are in doubt after a kill.
const CLAIM_GROUP: i64 = 3;

fn statuses(conn: &mut qiping::db::Conn) -> HashMap<String, i64> {
    outbox::table
        .group_by(outbox::status)
        .select((outbox::status, diesel::dsl::count_star()))
        .load::<(String, i64)>(conn)
        .unwrap()
        .into_iter()
        .collect()
}

#[test]
fn a_killed_and_restarted_dispatcher_sends_each_message_at_most_once() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        mailing::registry(&mut conn, ENTERPRISES, "2019H2");
        mailing::open(&mut conn, "2019H2", None);
        let sink = SmtpSink::start();
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("qiping.toml");
        std::fs::write(
            &config,
            format!(
                "link_secret = \"dGVzdC1zZWNyZXQtb2YtdGhpcnR5LXR3by1ieXRlcyE\"\n\
                 [server]\nbase_url = \"{}\"\n\
                 [mail]\nsmtp_host = \"127.0.0.1\"\nsmtp_port = {}\ntls = \"none\"\n\
                 rate_per_second = 20.0\nbatch_size = 7\nclaim_group = {CLAIM_GROUP}\n",
                mailing::BASE_URL,
                sink.addr.port()
            ),
        )
        .unwrap();
        let send = || {
            Command::new(env!("CARGO_BIN_EXE_qiping"))
                .current_dir(dir.path())
                .env_remove("DATABASE_URL")
                .env("QIPING_LOG", "warn")
                .args(["--config", config.to_str().unwrap()])
                .args(["--database-url", &db.url, "mail", "send"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        };

        let mut child = send();
        let started = Instant::now();
        while sink.received().len() < 8 && started.elapsed() < Duration::from_secs(30) {
            std::thread::sleep(Duration::from_millis(5));
        }
        child.kill().unwrap(); // SIGKILL: no chance to record anything
        child.wait().unwrap();
        let before_restart = sink.received().len();
        assert!(
            before_restart >= 8 && before_restart < ENTERPRISES as usize,
            "killed mid-batch ({before_restart} delivered)"
        );

        let status = send().wait().unwrap();
        assert!(status.success());
        let mut per_address: HashMap<String, usize> = HashMap::new();
        for message in sink.received() {
            *per_address.entry(message.to[0].clone()).or_default() += 1;
        }
        assert!(
            per_address.values().all(|&n| n == 1),
            "{}: an address got a message twice: {per_address:?}",
            db.backend
        );
        let counts = statuses(&mut conn);
        let sending = counts.get("sending").copied().unwrap_or(0);
        assert!(
            sending <= CLAIM_GROUP,
            "at most one claim group is in doubt: {counts:?}"
        );
        assert_eq!(
            counts.get("sent").copied().unwrap_or(0) + sending,
            ENTERPRISES as i64,
            "{counts:?}"
        );
        assert!(per_address.len() as i64 >= ENTERPRISES as i64 - sending);

        // Once its lease has run out, the claim in doubt is marked failed, never sent again.
        diesel::update(outbox::table.filter(outbox::status.eq("sending")))
            .set(outbox::lease_until.eq(Some(qiping::db::now() - chrono::Duration::minutes(1))))
            .execute(&mut conn)
            .unwrap();
        let delivered = sink.received().len();
        let report = mailing::dispatch(&mut conn, &mailing::smtp_settings(sink.addr));
        assert_eq!(report.in_doubt as i64, sending);
        assert_eq!(sink.received().len(), delivered, "nothing is re-sent");
    });
}
