//! Invitations over real SMTP (a loopback server built on the `mailin` crate): headers, encoding
//! and a working link; the rate limit; 4xx retried, 5xx recorded without stopping the batch; a
//! killed dispatcher never sends twice; `.eml` files without a relay.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use crate::common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::mailing::{self, BASE_URL, decode_words, dispatch, header, part, smtp_settings};
use common::on_each_backend;
use common::smtp::SmtpSink;
use diesel::prelude::*;
use qiping::db::schema::outbox;
use qiping::db::{Conn, invitations};
use qiping::service::campaign;
use qiping::service::links::token_hash;

fn campaign_id(conn: &mut Conn, period: &str) -> i64 {
    campaign::find(conn, &period.parse().unwrap()).unwrap().id
}

#[test]
fn invitations_arrive_with_encoded_chinese_headers_and_a_link_that_matches_the_stored_hash() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        mailing::registry(&mut conn, 6, "2019H2");
        mailing::open(&mut conn, "2019H2", None);
        let sink = SmtpSink::start();
        let report = dispatch(&mut conn, &smtp_settings(sink.addr));
        assert_eq!(report.sent, 6, "{}: {report:?}", db.backend);
        let received = sink.received();
        assert_eq!(received.len(), 6);
        let id = campaign_id(&mut conn, "2019H2");
        let by_enterprise: HashMap<i64, invitations::InvitationRow> =
            invitations::of_campaign(&mut conn, id)
                .unwrap()
                .into_iter()
                .map(|i| (i.enterprise_id, i))
                .collect();
        for message in &received {
            let raw = message.text();
            let subject = header(&raw, "Subject").unwrap();
            assert!(
                subject.to_ascii_lowercase().starts_with("=?utf-8?b?"),
                "{subject}"
            );
            assert!(decode_words(&subject).contains("2019年下半年"), "{subject}");
            assert!(decode_words(&subject).contains("万企评机关"));
            let from = decode_words(&header(&raw, "From").unwrap());
            assert!(
                from.contains("营商环境办公室") && from.contains("yingshang@"),
                "{from}"
            );
            let to = decode_words(&header(&raw, "To").unwrap());
            assert!(to.contains("徐州测试企业"), "{to}");
            assert!(header(&raw, "Message-ID").unwrap().ends_with("@qiping>"));
            assert!(header(&raw, "Date").is_some());
            assert!(raw.contains("multipart/alternative"));
            let html = String::from_utf8(part(&raw, "text/html").unwrap()).unwrap();
            assert!(html.contains("cid:survey-qr"), "{html}");
            assert_eq!(&part(&raw, "image/png").unwrap()[1..4], b"PNG");

            // The link works: its token hashes to the stored hash of that enterprise's invitation.
            let token = mailing::token_in(&raw);
            let found = invitations::by_token_hash(&mut conn, &token_hash(&token))
                .unwrap()
                .expect("the emailed link finds its invitation");
            let address = &message.to[0];
            let enterprise = qiping::db::enterprises::by_id(&mut conn, found.enterprise_id)
                .unwrap()
                .unwrap();
            assert_eq!(enterprise.email.as_deref(), Some(address.as_str()));
            assert_eq!(by_enterprise[&enterprise.id].status, "sent");
        }
        // Enterprise 0 has interactions: its letter names the units; the others choose on the form.
        let first = received
            .iter()
            .find(|m| m.to[0] == mailing::email(0))
            .unwrap();
        let text = String::from_utf8(part(&first.text(), "text/plain").unwrap()).unwrap();
        assert!(text.contains("市发展和改革委员会"), "{text}");
        assert!(
            text.contains("匿名") && text.contains("回复本邮件"),
            "{text}"
        );
        let other = received
            .iter()
            .find(|m| m.to[0] == mailing::email(1))
            .unwrap();
        let text = String::from_utf8(part(&other.text(), "text/plain").unwrap()).unwrap();
        assert!(text.contains("自行选择"), "{text}");
        assert!(text.contains(BASE_URL));
        let shown = campaign::show(&mut conn, &"2019H2".parse().unwrap()).unwrap();
        assert_eq!((shown.invited, shown.sent, shown.failed), (6, 6, 0));
    });
}

#[test]
fn the_rate_limit_holds() {
    let db = common::TestDb::sqlite();
    let mut conn = db.conn();
    mailing::registry(&mut conn, 12, "2019H2");
    mailing::open(&mut conn, "2019H2", None);
    let sink = SmtpSink::start();
    let settings = qiping::config::MailConfig {
        rate_per_second: 10.0,
        ..smtp_settings(sink.addr)
    };
    let started = Instant::now();
    assert_eq!(dispatch(&mut conn, &settings).sent, 12);
    let received = sink.received();
    // Twelve messages at 10/s need at least eleven intervals of 100 ms.
    assert!(started.elapsed() >= Duration::from_millis(1100));
    for (i, m) in received.iter().enumerate() {
        let in_a_second = received[i..]
            .iter()
            .take_while(|n| n.at.duration_since(m.at) < Duration::from_secs(1))
            .count();
        assert!(
            in_a_second <= 11,
            "{in_a_second} messages within one second"
        );
    }
}

#[test]
fn a_4xx_reply_is_retried_with_backoff_then_succeeds() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        mailing::registry(&mut conn, 3, "2019H2");
        mailing::open(&mut conn, "2019H2", None);
        let sink = SmtpSink::start();
        sink.fail_temporarily(&mailing::email(1), 451, 2);
        let settings = qiping::config::MailConfig {
            backoff_seconds: 1,
            ..smtp_settings(sink.addr)
        };
        let started = Instant::now();
        let report = dispatch(&mut conn, &settings);
        assert_eq!((report.sent, report.retried, report.failed), (3, 2, 0));
        // Backoff 1 s, then 2 s.
        assert!(
            started.elapsed() >= Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        let to_one: Vec<_> = sink
            .received()
            .into_iter()
            .filter(|m| m.to[0] == mailing::email(1))
            .collect();
        assert_eq!(to_one.len(), 1, "delivered once after the retries");
        let attempts: Vec<i32> = outbox::table
            .order(outbox::attempts.desc())
            .select(outbox::attempts)
            .load(&mut conn)
            .unwrap();
        assert_eq!(attempts[0], 3);
    });
}

#[test]
fn a_5xx_reply_marks_that_invitation_failed_and_the_batch_goes_on() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        mailing::registry(&mut conn, 5, "2019H2");
        mailing::open(&mut conn, "2019H2", None);
        let sink = SmtpSink::start();
        sink.reject(&mailing::email(0), 550);
        let report = dispatch(&mut conn, &smtp_settings(sink.addr));
        assert_eq!((report.sent, report.failed), (4, 1), "{report:?}");
        assert_eq!(sink.received().len(), 4);
        let id = campaign_id(&mut conn, "2019H2");
        let failed: Vec<_> = invitations::of_campaign(&mut conn, id)
            .unwrap()
            .into_iter()
            .filter(|i| i.status == "failed")
            .collect();
        assert_eq!(failed.len(), 1);
        let reason = failed[0].failure.clone().unwrap();
        assert!(
            reason.contains("550"),
            "the server's reply is kept: {reason}"
        );
        let shown = campaign::show(&mut conn, &"2019H2".parse().unwrap()).unwrap();
        assert_eq!((shown.sent, shown.failed), (4, 1));
    });
}

#[test]
fn without_an_smtp_host_messages_are_written_as_eml_files() {
    let db = common::TestDb::sqlite();
    let mut conn = db.conn();
    mailing::registry(&mut conn, 2, "2019H2");
    mailing::open(&mut conn, "2019H2", None);
    let dir = tempfile::tempdir().unwrap();
    let settings = qiping::config::MailConfig {
        outbox_dir: dir.path().join("outbox"),
        rate_per_second: 0.0,
        ..qiping::config::MailConfig::default()
    };
    assert_eq!(dispatch(&mut conn, &settings).sent, 2);
    let files: Vec<_> = std::fs::read_dir(dir.path().join("outbox"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 2);
    let raw = std::fs::read_to_string(&files[0]).unwrap();
    assert!(mailing::token_in(&raw).len() == 43);
}
