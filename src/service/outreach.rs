//! Messages after the invitation: a new link for one enterprise (reissue), a later deadline
//! (extend), reminders (by hand or on the configured schedule), and bounced addresses.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use serde::Serialize;

use serde_json::json;

use super::campaign::{find, queue, state_of, target as target_of};
use super::links::{LinkSecret, token_hash};
use super::tasks::one_item_on;
use super::{Actor, ServiceError, audit};
use crate::config::RemindersConfig;
use crate::db::campaigns::{self as rows, CampaignRow};
use crate::db::{Conn, enterprises, invitations, now, outbox, write_transaction};
use crate::domain::{CampaignState, Period, time};

fn require_open(campaign: &CampaignRow, what: &str) -> Result<(), ServiceError> {
    if state_of(campaign)? != CampaignState::Open {
        return Err(ServiceError::Conflict(format!(
            "{} 评议活动当前为「{}」状态,只有进行中的活动才能{what}",
            campaign.period, campaign.state
        )));
    }
    Ok(())
}

/// Gives one enterprise a new link: the link version goes up (the old token no longer matches the
/// stored hash, so the old link stops working), any message still queued for it is dropped, and a
/// new invitation message is queued. A failed or bounced invitation is tried again. Audited
/// `campaign.reissue`.
pub fn reissue(
    conn: &mut Conn,
    actor: &Actor,
    secret: &LinkSecret,
    period: &Period,
    uscc: &str,
) -> Result<i32, ServiceError> {
    let uscc = uscc.trim().to_uppercase();
    let uscc = uscc.as_str();
    if uscc.is_empty() {
        return Err(ServiceError::Invalid("请填写统一社会信用代码".into()));
    }
    let change = |conn: &mut Conn| -> Result<_, ServiceError> {
        let campaign = find(conn, period)?;
        require_open(&campaign, "重新发放链接")?;
        let enterprise = enterprises::by_uscc(conn, uscc)?.ok_or_else(|| {
            ServiceError::NotFound(format!("没有统一社会信用代码为 {uscc} 的企业"))
        })?;
        let invitation =
            invitations::of_enterprise(conn, campaign.id, enterprise.id)?.ok_or_else(|| {
                ServiceError::NotFound(format!("{uscc} 不在 {period} 评议活动的邀请名单中"))
            })?;
        if super::ballots::has_answered(conn, &secret.spent_keys(), &invitation)? {
            return Err(ServiceError::Conflict(format!(
                "{uscc} 已经提交过 {period} 的问卷,无需重新发放链接"
            )));
        }
        let version = invitation.link_version + 1;
        invitations::set_link(
            conn,
            invitation.id,
            &token_hash(&secret.token(invitation.id, version)),
            version,
        )?;
        outbox::drop_queued_of(conn, invitation.id)?;
        if invitation.status != "sent" {
            invitations::mark_sent_pending(conn, invitation.id)?;
        }
        queue(conn, &campaign, invitation.id, "invitation", now())?;
        Ok(version)
    };
    audit::change(
        conn,
        actor,
        "campaign.reissue",
        &target_of(period),
        change,
        |v| json!({"uscc": uscc, "link_version": v}),
    )
}

/// What `campaign extend` and `campaign remind` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueuedReport {
    pub period: String,
    pub queued: usize,
}

/// Moves an open campaign's last day and queues an `extension` notice to every enterprise that was
/// reached and has not answered. Audited `campaign.extend`.
pub fn extend(
    conn: &mut Conn,
    actor: &Actor,
    secret: &LinkSecret,
    period: &Period,
    closes_on: NaiveDate,
) -> Result<QueuedReport, ServiceError> {
    let change = |conn: &mut Conn| -> Result<_, ServiceError> {
        let campaign = find(conn, period)?;
        require_open(&campaign, "延期")?;
        let today = time::local_day(now());
        if closes_on <= campaign.closes_on || closes_on < today {
            return Err(ServiceError::Invalid(format!(
                "新的截止日期 {closes_on} 必须晚于原截止日期 {} 且不早于今天 {today}",
                campaign.closes_on
            )));
        }
        rows::set_closes_on(conn, campaign.id, closes_on)?;
        let at = now();
        let waiting = awaiting_answer(conn, secret, campaign.id)?;
        for invitation in &waiting {
            queue(conn, &campaign, invitation.id, "extension", at)?;
        }
        Ok(QueuedReport {
            period: campaign.period,
            queued: waiting.len(),
        })
    };
    audit::change(
        conn,
        actor,
        "campaign.extend",
        &target_of(period),
        change,
        |r| json!({"closes": closes_on, "queued": r.queued}),
    )
}

/// Queues reminders in an open campaign to enterprises that were reached and have not answered,
/// that have had fewer than `target` reminders (and fewer than the configured maximum), and whose
/// last message is at least the configured gap old. `campaign remind` passes the maximum as the
/// target; the schedule passes how many reminder days have come. Audited `campaign.remind`; the
/// schedule's own runs are recorded only when they queued something.
pub fn remind(
    conn: &mut Conn,
    actor: &Actor,
    secret: &LinkSecret,
    period: &Period,
    settings: &RemindersConfig,
    target: Option<u32>,
    at: NaiveDateTime,
) -> Result<QueuedReport, ServiceError> {
    queue_reminders(
        conn,
        actor,
        secret,
        period,
        settings,
        target,
        at,
        Record::Always,
    )
}

/// When a reminder run writes its audit row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Record {
    Always,
    /// The schedule runs every poll: a row only when it queued something.
    WhenQueued,
}

#[allow(clippy::too_many_arguments)]
fn queue_reminders(
    conn: &mut Conn,
    actor: &Actor,
    secret: &LinkSecret,
    period: &Period,
    settings: &RemindersConfig,
    target: Option<u32>,
    at: NaiveDateTime,
    record: Record,
) -> Result<QueuedReport, ServiceError> {
    write_transaction(conn, |conn| {
        let campaign = find(conn, period)?;
        let campaign_target = target_of(period);
        require_open(&campaign, "发送提醒")?;
        let limit = target
            .unwrap_or(settings.max_per_enterprise)
            .min(settings.max_per_enterprise) as i32;
        let gap = Duration::days(i64::from(settings.min_gap_days));
        let mut queued = 0;
        for invitation in awaiting_answer(conn, secret, campaign.id)? {
            let last = invitation.last_reminded_at.or(invitation.sent_at);
            let gap_ok = last.is_none_or(|last| at - last >= gap);
            if invitation.reminders_sent < limit && gap_ok {
                queue(conn, &campaign, invitation.id, "reminder", at)?;
                invitations::record_reminder(conn, invitation.id, at)?;
                queued += 1;
            }
        }
        if queued > 0 || record == Record::Always {
            let detail = json!({"queued": queued, "up_to": limit});
            audit::record(conn, actor, "campaign.remind", &campaign_target, detail)?;
        }
        Ok(QueuedReport {
            period: campaign.period,
            queued,
        })
    })
}

/// How many scheduled reminders are due on `today` for a campaign opened on `opened`: the number of
/// schedule days that have come.
pub fn scheduled_target(settings: &RemindersConfig, opened: NaiveDate, today: NaiveDate) -> u32 {
    settings
        .days
        .iter()
        .filter(|&&d| opened + Duration::days(i64::from(d)) <= today)
        .count() as u32
}

/// Applies the reminder schedule to every open campaign (the task inside `serve` runs this, as
/// `actor`). A campaign whose reminders cannot be queued (its stored row cannot be read, a panic)
/// is logged and left out; the others are reminded and the dispatcher still sends. Only a
/// database out of reach stops the round.
pub fn remind_on_schedule(
    conn: &mut Conn,
    actor: &Actor,
    secret: &LinkSecret,
    settings: &RemindersConfig,
    at: NaiveDateTime,
) -> Result<usize, ServiceError> {
    let mut queued = 0;
    for campaign in rows::all(conn)? {
        let period = campaign.period.clone();
        match one_item_on(conn, |conn| {
            remind_one_on_schedule(conn, actor, secret, &campaign, settings, at)
        })? {
            Ok(n) => queued += n,
            Err(reason) => tracing::error!(%period, "按计划排队提醒失败,已跳过该活动: {reason}"),
        }
    }
    Ok(queued)
}

fn remind_one_on_schedule(
    conn: &mut Conn,
    actor: &Actor,
    secret: &LinkSecret,
    campaign: &CampaignRow,
    settings: &RemindersConfig,
    at: NaiveDateTime,
) -> Result<usize, ServiceError> {
    if state_of(campaign)? != CampaignState::Open {
        return Ok(0);
    }
    let Some(opened_at) = campaign.opened_at else {
        return Ok(0);
    };
    let target = scheduled_target(settings, time::local_day(opened_at), time::local_day(at));
    if target == 0 {
        return Ok(0);
    }
    let period: Period = campaign.period.parse()?;
    let report = queue_reminders(
        conn,
        actor,
        secret,
        &period,
        settings,
        Some(target),
        at,
        Record::WhenQueued,
    )?;
    Ok(report.queued)
}

/// What `mail bounce` did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BounceReport {
    /// Enterprises marked bounced.
    pub enterprises: usize,
    /// Their open invitations marked bounced.
    pub invitations: usize,
    /// Addresses that match no enterprise, as given.
    pub unknown: Vec<String>,
}

/// Marks the enterprises with these addresses `bounced` (they are not mailed again) and their
/// unanswered invitations in draft or open campaigns, in one transaction. Blank lines and `#`
/// comments are ignored. Audited `mail.bounce` with the counts only: the addresses are personal
/// data, and audit rows are never purged.
pub fn bounce(
    conn: &mut Conn,
    actor: &Actor,
    addresses: &str,
) -> Result<BounceReport, ServiceError> {
    let change = |conn: &mut Conn| -> Result<_, ServiceError> {
        let at = now();
        let live: Vec<i64> = rows::all(conn)?
            .into_iter()
            .filter(|c| matches!(c.state.as_str(), "draft" | "open"))
            .map(|c| c.id)
            .collect();
        let mut report = BounceReport::default();
        for line in addresses.lines() {
            let address = line.trim().trim_start_matches('\u{feff}');
            if address.is_empty() || address.starts_with('#') {
                continue;
            }
            let found = enterprises::by_email(conn, address)?;
            if found.is_empty() {
                report.unknown.push(address.to_owned());
            }
            for enterprise in found {
                enterprises::set_mail_status(conn, enterprise.id, "bounced", at)?;
                report.enterprises += 1;
                report.invitations += invitations::mark_bounced(conn, enterprise.id, &live)?;
            }
        }
        Ok(report)
    };
    audit::change(
        conn,
        actor,
        "mail.bounce",
        "registry:enterprises",
        change,
        |r| json!({"enterprises": r.enterprises, "invitations": r.invitations, "unknown": r.unknown.len()}),
    )
}

/// The invitations of a campaign that may get a reminder or an extension notice: delivered, not
/// bounced or failed, and not answered — which, while the campaign is open, only the ballots'
/// spent keys say (the invitation row is never touched by an answer).
fn awaiting_answer(
    conn: &mut Conn,
    secret: &LinkSecret,
    campaign_id: i64,
) -> Result<Vec<invitations::InvitationRow>, ServiceError> {
    let candidates = invitations::awaiting_answer(conn, campaign_id)?;
    let pairs: Vec<(i64, bool)> = candidates.iter().map(|i| (i.id, i.answered)).collect();
    let answered = super::ballots::answered(conn, Some(&secret.spent_keys()), campaign_id, &pairs)?;
    Ok(candidates
        .into_iter()
        .filter(|i| !answered.contains(&i.id))
        .collect())
}
