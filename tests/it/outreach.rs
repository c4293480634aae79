//! Who gets which message: the stratified sample, unique links and reissue, reminders only to those
//! who have not answered, bounced addresses skipped, deadline extensions, the dispatcher lease.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use crate::common;

use qiping::service::Actor;
use std::collections::{BTreeMap, HashSet};

use common::mailing::{self, dispatch, secret, smtp_settings};
use common::on_each_backend;
use common::smtp::SmtpSink;
use qiping::config::RemindersConfig;
use qiping::db::{Conn, enterprises, invitations, leases, now};
use qiping::service::campaign;
use qiping::service::links::token_hash;
use qiping::service::outreach;

fn invited(conn: &mut Conn, period: &str) -> Vec<invitations::InvitationRow> {
    let id = campaign::find(conn, &period.parse().unwrap()).unwrap().id;
    invitations::of_campaign(conn, id).unwrap()
}

fn no_gap() -> RemindersConfig {
    RemindersConfig {
        days: vec![7, 12],
        max_per_enterprise: 2,
        min_gap_days: 0,
    }
}

#[test]
fn a_sample_smaller_than_the_strata_invites_exactly_its_size() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        // 12 strata of 10: a sample of 5 invites 5, not one from every stratum (12).
        mailing::registry(&mut conn, 120, "2019H1");
        mailing::open(&mut conn, "2019H1", Some((5, 11)));
        assert_eq!(invited(&mut conn, "2019H1").len(), 5, "{}", db.backend);
    });
}

/// The office asks for 40 and sees 40: the draft states it, the list before opening has those 40
/// (as CSV for Excel, with a byte-order mark), opening invites exactly them.
#[test]
fn the_sample_is_stated_and_listed_before_opening_and_opening_invites_exactly_it() {
    on_each_backend(|db| {
        let tag = db.backend;
        let mut conn = db.conn();
        mailing::registry(&mut conn, 120, "2019H1");
        let period = common::scenario::create_campaign(&mut conn, "2019H1", Some((40, 3)));
        let draft = campaign::show(&mut conn, &period).unwrap();
        assert_eq!((draft.to_invite, draft.invited), (40, 0), "{tag}");
        let before = campaign::invitee_list(&mut conn, &period).unwrap();
        assert_eq!(before.len(), 40, "{tag}");
        assert!(
            before.iter().all(|i| i.size == "小型" || i.size == "中型"),
            "{tag}: sizes in Chinese"
        );
        let csv = campaign::invitee_csv(&before).unwrap();
        assert!(csv.starts_with(b"\xEF\xBB\xBF"), "{tag}: a BOM for Excel");
        let text = String::from_utf8(csv[3..].to_vec()).unwrap();
        assert_eq!(text.lines().count(), 41, "{tag}: a header and 40 rows");
        assert!(
            text.starts_with("统一社会信用代码,企业名称"),
            "{tag}: {text}"
        );
        common::keys::open(&mut conn, &period).unwrap();
        let opened = campaign::show(&mut conn, &period).unwrap();
        assert_eq!((opened.to_invite, opened.invited), (40, 40), "{tag}");
        let after = campaign::invitee_list(&mut conn, &period).unwrap();
        assert_eq!(
            after, before,
            "{tag}: the list before opening is who was invited"
        );
    });
}

#[test]
fn the_sample_is_stratified_and_reproducible_from_its_seed() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        mailing::registry(&mut conn, 120, "2019H1");
        // One campaign is open at a time: each closes before the next opens.
        for (period, seed) in [("2019H1", 7), ("2019H2", 7), ("2020H1", 8)] {
            mailing::open(&mut conn, period, Some((24, seed)));
            crate::common::keys::close(&mut conn, &period.parse().unwrap()).unwrap();
        }
        let shown = campaign::show(&mut conn, &"2019H1".parse().unwrap()).unwrap();
        assert_eq!((shown.sample_size, shown.sample_seed), (Some(24), Some(7)));
        let ids = |conn: &mut Conn, p: &str| -> Vec<i64> {
            invited(conn, p).iter().map(|i| i.enterprise_id).collect()
        };
        let first = ids(&mut conn, "2019H1");
        assert_eq!(first.len(), 24, "{}", db.backend);
        assert_eq!(first, ids(&mut conn, "2019H2"), "same seed, same sample");
        assert_ne!(
            first,
            ids(&mut conn, "2020H1"),
            "another seed, another sample"
        );
        // 12 strata of 10 enterprises each: proportional allocation gives 2 from each.
        let mut per_stratum: BTreeMap<(String, String, String), usize> = BTreeMap::new();
        for id in &first {
            let e = enterprises::by_id(&mut conn, *id).unwrap().unwrap();
            *per_stratum
                .entry((e.district, e.industry, e.size))
                .or_default() += 1;
        }
        assert_eq!(per_stratum.len(), 12);
        assert!(per_stratum.values().all(|&n| n == 2), "{per_stratum:?}");
    });
}

#[test]
fn tokens_are_unique_only_hashes_are_stored_and_a_reissue_kills_the_old_link() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        mailing::registry(&mut conn, 8, "2019H2");
        mailing::open(&mut conn, "2019H2", None);
        let rows = invited(&mut conn, "2019H2");
        let tokens: HashSet<String> = rows
            .iter()
            .map(|i| secret().token(i.id, i.link_version))
            .collect();
        assert_eq!(tokens.len(), rows.len(), "every link is different");
        for (row, token) in rows
            .iter()
            .map(|r| (r, secret().token(r.id, r.link_version)))
        {
            assert_eq!(row.token_hash, token_hash(&token));
            assert!(!tokens.contains(&row.token_hash), "no token is stored");
        }

        let target = &rows[2];
        let old = secret().token(target.id, target.link_version);
        let enterprise = enterprises::by_id(&mut conn, target.enterprise_id)
            .unwrap()
            .unwrap();
        let version = outreach::reissue(
            &mut conn,
            &Actor::cli(),
            &secret(),
            &"2019H2".parse().unwrap(),
            &enterprise.uscc,
        )
        .unwrap();
        assert_eq!(version, 2);
        assert!(
            invitations::by_token_hash(&mut conn, &token_hash(&old))
                .unwrap()
                .is_none(),
            "the old link no longer opens anything"
        );
        let new = secret().token(target.id, 2);
        assert_ne!(new, old);
        let found = invitations::by_token_hash(&mut conn, &token_hash(&new))
            .unwrap()
            .unwrap();
        assert_eq!(found.id, target.id);

        // The first invitation still queued was replaced: one message with the new link arrives.
        let sink = SmtpSink::start();
        dispatch(&mut conn, &smtp_settings(sink.addr));
        let to_target: Vec<_> = sink
            .received()
            .into_iter()
            .filter(|m| Some(&m.to[0]) == enterprise.email.as_ref())
            .collect();
        assert_eq!(to_target.len(), 1);
        assert_eq!(mailing::token_in(&to_target[0].text()), new);
    });
}

#[test]
fn reminders_go_only_to_those_who_have_not_completed_and_respect_the_maximum() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        mailing::registry(&mut conn, 5, "2019H2");
        mailing::open(&mut conn, "2019H2", None);
        let sink = SmtpSink::start();
        let settings = smtp_settings(sink.addr);
        dispatch(&mut conn, &settings);
        let rows = invited(&mut conn, "2019H2");
        crate::common::keys::ballot_for(&mut conn, &rows[0]);
        let completed = enterprises::by_id(&mut conn, rows[0].enterprise_id)
            .unwrap()
            .unwrap()
            .email
            .unwrap();
        let period = "2019H2".parse().unwrap();
        let queued = outreach::remind(
            &mut conn,
            &Actor::cli(),
            &crate::common::scenario::secret(),
            &period,
            &no_gap(),
            None,
            now(),
        )
        .unwrap();
        assert_eq!(queued.queued, 4, "{}", db.backend);
        let before = sink.received().len();
        dispatch(&mut conn, &settings);
        let reminders = &sink.received()[before..];
        assert_eq!(reminders.len(), 4);
        assert!(reminders.iter().all(|m| m.to[0] != completed));
        let subject =
            mailing::decode_words(&mailing::header(&reminders[0].text(), "Subject").unwrap());
        assert!(subject.contains("提醒"), "{subject}");

        // A minimum gap holds a reminder back; the maximum stops them.
        let gap = RemindersConfig {
            min_gap_days: 3,
            ..no_gap()
        };
        assert_eq!(
            outreach::remind(
                &mut conn,
                &Actor::cli(),
                &crate::common::scenario::secret(),
                &period,
                &gap,
                None,
                now()
            )
            .unwrap()
            .queued,
            0
        );
        assert_eq!(
            outreach::remind(
                &mut conn,
                &Actor::cli(),
                &crate::common::scenario::secret(),
                &period,
                &no_gap(),
                None,
                now()
            )
            .unwrap()
            .queued,
            4
        );
        assert_eq!(
            outreach::remind(
                &mut conn,
                &Actor::cli(),
                &crate::common::scenario::secret(),
                &period,
                &no_gap(),
                None,
                now()
            )
            .unwrap()
            .queued,
            0
        );

        // The schedule: nothing before day 7 after opening, the first reminder on day 7.
        let opened = qiping::domain::time::local_day(now());
        assert_eq!(
            outreach::scheduled_target(&no_gap(), opened, opened + chrono::Duration::days(6)),
            0
        );
        assert_eq!(
            outreach::scheduled_target(&no_gap(), opened, opened + chrono::Duration::days(7)),
            1
        );
        assert_eq!(
            outreach::scheduled_target(&no_gap(), opened, opened + chrono::Duration::days(30)),
            2
        );
    });
}

#[test]
fn bounced_addresses_are_skipped_and_counted() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        mailing::registry(&mut conn, 4, "2019H2");
        mailing::open(&mut conn, "2019H2", None);
        let file = format!(
            "# bounces\n{}\n\nnobody@example.com\n",
            mailing::email(1).to_uppercase()
        );
        let report = outreach::bounce(&mut conn, &Actor::cli(), &file).unwrap();
        assert_eq!((report.enterprises, report.invitations), (1, 1));
        assert_eq!(report.unknown, vec!["nobody@example.com".to_owned()]);
        let sink = SmtpSink::start();
        let sent = dispatch(&mut conn, &smtp_settings(sink.addr));
        assert_eq!((sent.sent, sent.skipped), (3, 1));
        assert!(sink.received().iter().all(|m| m.to[0] != mailing::email(1)));
        let shown = campaign::show(&mut conn, &"2019H2".parse().unwrap()).unwrap();
        assert_eq!((shown.sent, shown.bounced), (3, 1));
        // Not reminded in this campaign, not invited again in the next.
        let period = "2019H2".parse().unwrap();
        assert_eq!(
            outreach::remind(
                &mut conn,
                &Actor::cli(),
                &crate::common::scenario::secret(),
                &period,
                &no_gap(),
                None,
                now()
            )
            .unwrap()
            .queued,
            3
        );
        crate::common::keys::close(&mut conn, &period).unwrap();
        mailing::open(&mut conn, "2020H1", None);
        assert_eq!(invited(&mut conn, "2020H1").len(), 3);
    });
}

#[test]
fn extending_moves_the_deadline_and_tells_those_who_have_not_answered() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        mailing::registry(&mut conn, 3, "2019H2");
        mailing::open(&mut conn, "2019H2", None);
        let sink = SmtpSink::start();
        dispatch(&mut conn, &smtp_settings(sink.addr));
        let rows = invited(&mut conn, "2019H2");
        crate::common::keys::ballot_for(&mut conn, &rows[0]);
        let period = "2019H2".parse().unwrap();
        let closes = campaign::show(&mut conn, &period).unwrap().closes;
        assert!(
            outreach::extend(
                &mut conn,
                &Actor::cli(),
                &crate::common::scenario::secret(),
                &period,
                closes
            )
            .is_err(),
            "must be later"
        );
        let later = closes + chrono::Duration::days(10);
        assert_eq!(
            outreach::extend(
                &mut conn,
                &Actor::cli(),
                &crate::common::scenario::secret(),
                &period,
                later
            )
            .unwrap()
            .queued,
            2
        );
        assert_eq!(campaign::show(&mut conn, &period).unwrap().closes, later);
        dispatch(&mut conn, &smtp_settings(sink.addr));
        let notices = &sink.received()[3..];
        assert_eq!(notices.len(), 2);
        let subject =
            mailing::decode_words(&mailing::header(&notices[0].text(), "Subject").unwrap());
        assert!(
            subject.contains("延期") && subject.contains(&format!("{}日", later.format("%-d"))),
            "{subject}"
        );
    });
}

#[test]
fn only_one_process_holds_the_dispatcher_lease_until_it_expires() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        let t = now();
        let later = t + chrono::Duration::seconds(60);
        assert!(leases::acquire(&mut conn, "mail-dispatcher", "a", t, later).unwrap());
        assert!(!leases::acquire(&mut conn, "mail-dispatcher", "b", t, later).unwrap());
        assert!(
            leases::acquire(&mut conn, "mail-dispatcher", "a", t, later).unwrap(),
            "renewal"
        );
        let after = later + chrono::Duration::seconds(1);
        assert!(
            leases::acquire(
                &mut conn,
                "mail-dispatcher",
                "b",
                after,
                after + chrono::Duration::seconds(60)
            )
            .unwrap()
        );
    });
}
