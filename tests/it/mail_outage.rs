//! Mail outage: the SMTP relay stops mid-dispatch (its port refuses connections, open sessions
//! are cut) and comes back. The dispatcher retries with backoff, and in the end every invitation
//! arrives exactly once: a message cut before the relay's reply to its final `.` was not kept by
//! the relay, so sending it again is no duplicate (README, "Mail and its delivery guarantee").

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use crate::common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::mailing::{self, smtp_settings};
use common::on_each_backend;
use common::smtp::SmtpSink;
use diesel::prelude::*;
use qiping::db::schema::{invitations, outbox};

const ENTERPRISES: u32 = 40;

#[test]
fn a_relay_that_stops_mid_dispatch_and_returns_gets_every_invitation_exactly_once() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        mailing::registry(&mut conn, ENTERPRISES, "2019H2");
        mailing::open(&mut conn, "2019H2", None);
        let sink = SmtpSink::start();
        let mut settings = smtp_settings(sink.addr);
        // Slow enough that the outage lands mid-batch; retries after 1 s, 2 s, 4 s, … so a
        // 1.5 s outage is ridden out well within `max_attempts`.
        settings.rate_per_second = 40.0;
        settings.backoff_seconds = 1;
        settings.max_attempts = 5;
        let started = Instant::now();

        let dispatcher = {
            let mut conn = db.conn();
            let settings = settings.clone();
            std::thread::spawn(move || mailing::dispatch(&mut conn, &settings))
        };
        while sink.received().len() < 10 && started.elapsed() < Duration::from_secs(20) {
            std::thread::sleep(Duration::from_millis(2));
        }
        sink.stop();
        let during = sink.received().len();
        std::thread::sleep(Duration::from_millis(1500));
        assert_eq!(
            sink.received().len(),
            during,
            "nothing arrives while stopped"
        );
        sink.start_again();
        let report = dispatcher.join().unwrap();

        assert!(
            (10..ENTERPRISES as usize).contains(&during),
            "{}: the outage came mid-dispatch ({during} delivered before it)",
            db.backend
        );
        assert!(report.retried > 0, "{}: {report:?}", db.backend);
        assert_eq!(
            report.sent, ENTERPRISES as usize,
            "{}: {report:?}",
            db.backend
        );
        assert_eq!(
            (report.failed, report.in_doubt, report.still_queued),
            (0, 0, 0)
        );
        let mut per_address: HashMap<String, usize> = HashMap::new();
        for message in sink.received() {
            *per_address.entry(message.to[0].clone()).or_default() += 1;
        }
        assert_eq!(
            per_address.len(),
            ENTERPRISES as usize,
            "every invitation arrived"
        );
        assert!(
            per_address.values().all(|&n| n == 1),
            "{}: none twice: {per_address:?}",
            db.backend
        );
        let not_sent: i64 = outbox::table
            .filter(outbox::status.ne("sent"))
            .count()
            .get_result(&mut conn)
            .unwrap();
        let unsent_invitations: i64 = invitations::table
            .filter(invitations::sent_at.is_null())
            .count()
            .get_result(&mut conn)
            .unwrap();
        assert_eq!((not_sent, unsent_invitations), (0, 0), "{}", db.backend);
        eprintln!(
            "{}: {during} sent before the outage, {} retries; {:.1} s",
            db.backend,
            report.retried,
            started.elapsed().as_secs_f64()
        );
    });
}
