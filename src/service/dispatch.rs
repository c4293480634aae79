//! The mail dispatcher: sends what the outbox holds, rendering each message at send time (the link
//! re-derived from the secret), at the configured rate, retrying transient failures with
//! exponential backoff, and recording each outcome.
//!
//! **Delivery guarantee: at most once.** Before the SMTP call a message is claimed — marked
//! `sending` with a lease time — in a committed transaction; after the relay accepts it, it is
//! marked `sent`. Claims go in groups of `mail.claim_group` (default 8) per commit, and the
//! outcomes of one group are recorded in the commit that claims the next: one disk sync per group
//! instead of two per message. A process killed mid-group leaves the group's unrecorded rows
//! `sending`. No dispatcher touches a `sending` row while its lease runs; once the lease has run out
//! the row is marked `failed` with "发送结果未知" and is **not** sent again, because the relay may
//! already have accepted it. So a kill and restart never sends a message twice; at worst one group
//! (`claim_group` messages, 1 for the strictest setting) per kill is in doubt, reported in
//! `campaign show` as failed, and the operator can
//! `campaign reissue` that enterprise. The Message-ID is stable per outbox row as well, so even a
//! relay that retries on its own is recognisable downstream.
//!
//! **One message fails alone.** Each claimed message is built and sent inside
//! [`std::panic::catch_unwind`]: an error or a panic while reading its invitation, rendering it or
//! handing it to the transport marks that message (and its invitation) `failed` with the reason,
//! shown by `campaign show` and the campaign page, and the run goes on with the next. Only a
//! database that cannot be reached stops a run (nothing could be recorded), to be tried again.

use std::time::Duration;

use chrono::NaiveDateTime;
use serde::Serialize;

use super::campaign::units_for_invitation;
use super::links::{LinkSecret, survey_url};
use super::tasks::one_item_on;
use super::{Actor, ServiceError, audit};
use crate::config::MailConfig;
use crate::db::outbox::{self, OutboxRow};
use crate::db::{Conn, campaigns, enterprises, invitations, now, write_transaction};
use crate::domain::{Half, Period, time};
use crate::mail::{Letter, Mailer, MessageKind, SendError, Sender, Throttle, backoff, compose};

/// How long a claim lasts: well past one SMTP exchange (lettre's timeout is 30 s per command).
pub const CLAIM_LEASE_SECONDS: i64 = 300;

/// What the dispatcher needs besides a connection.
pub struct Dispatcher<'a> {
    pub mailer: &'a Mailer,
    pub secret: &'a LinkSecret,
    pub base_url: &'a str,
    pub settings: &'a MailConfig,
    /// `[weighting] enabled`: whether a campaign created before the choice was stored is
    /// weighted (its letters then say what the weights leave).
    pub weighted_by_default: bool,
    /// Test-only: called with each letter just before it is composed, so that a test can make
    /// the composition of one chosen message panic and watch the rest go out. It is a function
    /// pointer set in code — no setting, variable or input reaches it — so production, where
    /// every caller passes `None`, cannot trigger it by accident.
    pub before_compose: Option<ComposeHook>,
}

/// See [`Dispatcher::before_compose`].
pub type ComposeHook = fn(&Letter);

/// Progress and outcome of one run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DispatchReport {
    /// Messages the relay accepted.
    pub sent: usize,
    /// Transient failures put back in the queue for a later attempt.
    pub retried: usize,
    /// Messages given up on: a 5xx reply, too many attempts, or a message that could not be built.
    pub failed: usize,
    /// Messages not sent because the address bounced, the campaign ended or the enterprise answered.
    pub skipped: usize,
    /// Claims of a dead dispatcher found expired: possibly delivered, so not sent again.
    pub in_doubt: usize,
    /// Messages still queued (waiting for a retry) when the run ended.
    pub still_queued: i64,
}

/// What became of one claimed message, recorded in the next transaction.
enum Outcome {
    /// Not sent, and why (bounced, campaign over, already answered, unknown kind).
    Skipped { row: OutboxRow, reason: String },
    /// Could not be built or sent because of something wrong with this message (its stored data,
    /// a control character in a header, a panic): failed alone, with the reason.
    Broken { row: OutboxRow, reason: String },
    /// Handed to the relay: accepted, or its error.
    Attempted {
        row: OutboxRow,
        result: Result<(), SendError>,
        at: NaiveDateTime,
    },
}

/// How long a run goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// Until nothing is queued any more, waiting for retries that are due later.
    Drained,
    /// Until nothing is due now (the background task: it comes back on its next tick).
    NothingDue,
}

impl Dispatcher<'_> {
    /// Sends queued messages until `until` holds. `progress(done, total)` is called after each
    /// message; `keep_going` is asked between batches (the `serve` task renews its lease there).
    pub fn run(
        &self,
        conn: &mut Conn,
        until: Until,
        progress: &mut dyn FnMut(usize, usize),
        keep_going: &mut dyn FnMut(&mut Conn) -> bool,
    ) -> Result<DispatchReport, ServiceError> {
        let mut report = DispatchReport {
            in_doubt: recover_expired_claims(conn, now())?,
            ..DispatchReport::default()
        };
        let total = outbox::queued_count(conn)? as usize;
        let mut throttle = Throttle::new(self.settings.rate_per_second);
        let mut done = 0;
        let batch = i64::from(self.settings.batch_size.max(1));
        while keep_going(conn) {
            let due = outbox::due(conn, now(), batch)?;
            if due.is_empty() {
                match (until, outbox::next_due_at(conn)?) {
                    (Until::Drained, Some(next)) => {
                        let wait = (next - now()).to_std().unwrap_or_default();
                        std::thread::sleep(wait.min(Duration::from_secs(5)));
                        continue;
                    }
                    _ => break,
                }
            }
            // A group of messages is claimed in one commit, and the outcomes of the previous
            // group are recorded in that same commit: one disk sync per group, not two per message.
            let mut pending: Vec<Outcome> = Vec::new();
            let group = self.settings.claim_group.max(1) as usize;
            for ids in due.chunks(group) {
                let lease = now() + chrono::Duration::seconds(CLAIM_LEASE_SECONDS);
                let claimed = write_transaction(conn, |c| -> Result<_, ServiceError> {
                    for outcome in pending.drain(..) {
                        self.record(c, outcome, &mut report)?;
                    }
                    let mut rows = Vec::with_capacity(ids.len());
                    for &id in ids {
                        rows.extend(outbox::claim(c, id, lease)?);
                    }
                    Ok(rows)
                })?;
                for row in claimed {
                    match self.deliver_alone(conn, row, &mut throttle) {
                        Ok(outcome) => pending.push(outcome),
                        Err(e) => {
                            // Keep what was sent from being reported in doubt, then give up.
                            let _ = self.record_all(conn, &mut pending, &mut report);
                            return Err(e);
                        }
                    }
                    done += 1;
                    progress(done, total.max(done));
                }
            }
            if !pending.is_empty() {
                self.record_all(conn, &mut pending, &mut report)?;
            }
        }
        report.still_queued = outbox::queued_count(conn)?;
        Ok(report)
    }

    /// Sends one claimed message so that whatever goes wrong with it — an error or a panic —
    /// fails it alone. Only a database out of reach is returned as an error (the run stops and
    /// the task tries again later); the message stays claimed and its lease decides, as after a
    /// crash.
    fn deliver_alone(
        &self,
        conn: &mut Conn,
        row: OutboxRow,
        throttle: &mut Throttle,
    ) -> Result<Outcome, ServiceError> {
        let reason = match one_item_on(conn, |conn| self.deliver(conn, &row, throttle))? {
            Ok(outcome) => return Ok(outcome),
            Err(reason) => format!("无法生成或发送此邮件:{reason}"),
        };
        tracing::error!(outbox_id = row.id, message_id = %row.message_id, "{reason}");
        Ok(Outcome::Broken { row, reason })
    }

    /// Sends one claimed message; the caller records the outcome.
    fn deliver(
        &self,
        conn: &mut Conn,
        row: &OutboxRow,
        throttle: &mut Throttle,
    ) -> Result<Outcome, ServiceError> {
        let row = row.clone();
        let letter = match self.letter(conn, &row)? {
            Ok(letter) => letter,
            Err(reason) => return Ok(Outcome::Skipped { row, reason }),
        };
        if let Some(hook) = self.before_compose {
            hook(&letter);
        }
        let sender = Sender {
            name: self.settings.from_name.clone(),
            address: self.settings.from_address.clone(),
        };
        let result = match compose(&letter, &sender) {
            Ok(message) => {
                throttle.wait();
                self.mailer.send(&message)
            }
            Err(e) => Err(SendError::Permanent(e.to_string())),
        };
        if let Err(e) = &result {
            tracing::warn!(outbox_id = row.id, message_id = %row.message_id, "{e}");
        }
        Ok(Outcome::Attempted {
            row,
            result,
            at: now(),
        })
    }

    /// Records every pending outcome in one transaction of its own.
    fn record_all(
        &self,
        conn: &mut Conn,
        pending: &mut Vec<Outcome>,
        report: &mut DispatchReport,
    ) -> Result<(), ServiceError> {
        write_transaction(conn, |c| {
            pending
                .drain(..)
                .try_for_each(|o| self.record(c, o, report))
        })
    }

    /// Records what became of a claimed message, inside the caller's transaction.
    fn record(
        &self,
        c: &mut Conn,
        outcome: Outcome,
        report: &mut DispatchReport,
    ) -> Result<(), ServiceError> {
        let (row, result, at) = match outcome {
            Outcome::Skipped { row, reason } => {
                outbox::mark_failed(c, row.id, &reason)?;
                report.skipped += 1;
                return Ok(());
            }
            Outcome::Broken { row, reason } => {
                outbox::mark_failed(c, row.id, &reason)?;
                invitations::mark_failed(c, row.invitation_id, &reason)?;
                report.failed += 1;
                return Ok(());
            }
            Outcome::Attempted { row, result, at } => (row, result, at),
        };
        match &result {
            Ok(()) => {
                outbox::mark_sent(c, row.id, at)?;
                if row.kind == MessageKind::Invitation.as_str() {
                    invitations::mark_sent(c, row.invitation_id, at)?;
                }
                report.sent += 1;
            }
            Err(SendError::Transient(reply))
                if (row.attempts as u32) < self.settings.max_attempts =>
            {
                let wait = backoff(self.settings.backoff_seconds, row.attempts as u32);
                let next = at + chrono::Duration::from_std(wait).unwrap_or_default();
                outbox::requeue(c, row.id, next, reply)?;
                report.retried += 1;
            }
            Err(SendError::Transient(reply) | SendError::Permanent(reply)) => {
                outbox::mark_failed(c, row.id, reply)?;
                invitations::mark_failed(c, row.invitation_id, reply)?;
                report.failed += 1;
            }
        }
        Ok(())
    }

    /// The letter for an outbox row, or why it must not be sent (`Err(reason)`).
    fn letter(
        &self,
        conn: &mut Conn,
        row: &OutboxRow,
    ) -> Result<Result<Letter, String>, ServiceError> {
        let Some(kind) = MessageKind::parse(&row.kind) else {
            return Ok(Err(format!("未知的邮件类型 {}", row.kind)));
        };
        let invitation = invitations::by_id(conn, row.invitation_id)?
            .ok_or_else(|| ServiceError::NotFound(format!("邀请 {} 不存在", row.invitation_id)))?;
        let campaign = campaigns::by_id(conn, invitation.campaign_id)?.ok_or_else(|| {
            ServiceError::NotFound(format!("活动 {} 不存在", invitation.campaign_id))
        })?;
        let enterprise = enterprises::by_id(conn, invitation.enterprise_id)?.ok_or_else(|| {
            ServiceError::NotFound(format!("企业 {} 不存在", invitation.enterprise_id))
        })?;
        if campaign.state != "open" {
            return Ok(Err(format!(
                "{} 评议活动已不在进行中,不再发送",
                campaign.period
            )));
        }
        let email = match enterprise.email {
            Some(email) if enterprise.mail_status == "ok" && invitation.status != "bounced" => {
                email
            }
            _ => return Ok(Err("邮箱已退信或退订,不再发送".into())),
        };
        if kind != MessageKind::Invitation
            && super::ballots::has_answered(conn, &self.secret.spent_keys(), &invitation)?
        {
            return Ok(Err("企业已提交问卷,无需再发".into()));
        }
        let units = units_for_invitation(conn, &invitation)?
            .into_iter()
            .map(|u| u.name)
            .collect();
        let token = self.secret.token(invitation.id, invitation.link_version);
        Ok(Ok(Letter {
            kind,
            enterprise_name: enterprise.name,
            email,
            period_label: period_label(&campaign.period),
            units,
            deadline: deadline_label(campaign.closes_on),
            url: survey_url(self.base_url, &token),
            message_id: row.message_id.clone(),
            weighted: campaign.is_weighted(self.weighted_by_default),
        }))
    }
}

impl Dispatcher<'_> {
    /// `qiping mail send` (and the demo's sending): one run until `until`, recorded as
    /// `mail.send` (target `outbox`, the run's counts) when it ends. The dispatcher inside
    /// `serve` runs unrecorded: it is the system's own work, every poll.
    pub fn send_now(
        &self,
        conn: &mut Conn,
        actor: &Actor,
        until: Until,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<DispatchReport, ServiceError> {
        let report = self.run(conn, until, progress, &mut |_| true)?;
        audit::record(
            conn,
            actor,
            "mail.send",
            "outbox",
            serde_json::json!(report),
        )?;
        Ok(report)
    }
}

/// Marks the claims of dead dispatchers failed — possibly delivered, so never re-sent — and their
/// invitations failed with the reason. Returns how many.
pub fn recover_expired_claims(conn: &mut Conn, at: NaiveDateTime) -> Result<usize, ServiceError> {
    write_transaction(conn, |c| {
        let expired = outbox::expired_claims(c, at)?;
        for row in &expired {
            let reason = "发送结果未知:发送进程在投递中途中断。为避免重复发送,系统不会自动重发;\
                          如企业未收到,请运行 qiping campaign reissue 重新发放链接";
            outbox::mark_failed(c, row.id, reason)?;
            if row.kind == MessageKind::Invitation.as_str() {
                invitations::mark_failed(c, row.invitation_id, reason)?;
            }
            tracing::warn!(outbox_id = row.id, message_id = %row.message_id, "{reason}");
        }
        Ok(expired.len())
    })
}

/// `2019H2` as the letters say it: `2019年下半年`.
fn period_label(period: &str) -> String {
    match period.parse::<Period>() {
        Ok(p) => match p.half() {
            Half::H1 => format!("{}年上半年", p.year()),
            Half::H2 => format!("{}年下半年", p.year()),
        },
        Err(_) => period.to_owned(),
    }
}

/// The last day as a Beijing-time deadline: answers are accepted until the end of that day.
fn deadline_label(closes_on: chrono::NaiveDate) -> String {
    let end = time::local(time::end_of_local_day(closes_on));
    format!("{} 24:00(北京时间)", end.format("%Y年%-m月%-d日"))
}
