//! The problem list's background work inside `qiping serve`: every `mail.poll_seconds` the holder
//! of the database lease `problem-sweep` applies the deadlines (the sweep is idempotent within a
//! day, so running it often only makes it prompt) and sends queued confirmation requests. With
//! several `serve` processes one does it at a time; if it dies another takes over.

use std::time::Duration;

use crate::config::Config;
use crate::db::{Pool, leases, now};
use crate::mail::Mailer;
use crate::service::links::LinkSecret;
use crate::service::tasks::{TaskBoard, supervise};
use crate::service::{Actor, ServiceError};

use super::{Workflow, confirm_mail, sweep};

/// The lease's name.
pub const LEASE: &str = "problem-sweep";

/// Who the sweep's steps are recorded as (problem events and the audit log).
pub const ACTOR: &str = "serve";

/// Starts the supervised thread (see `service::tasks`). Without a link secret or a usable mail
/// transport it still applies the deadlines, and says in the log that confirmation letters wait.
pub fn spawn(pool: Pool, config: Config, board: &TaskBoard) -> Option<std::thread::JoinHandle<()>> {
    let letters = match (
        LinkSecret::from_config(config.link_secret.as_deref()),
        Mailer::from_config(&config.mail),
    ) {
        (Ok(secret), Ok(mailer)) => Some((secret, mailer)),
        (Err(e), _) => {
            tracing::warn!("问题确认邮件暂不发送: {e}");
            None
        }
        (_, Err(e)) => {
            tracing::warn!("问题确认邮件暂不发送: {e}");
            None
        }
    };
    let holder = format!("{}:{:08x}", std::process::id(), rand::random::<u32>());
    let poll = Duration::from_secs(config.mail.poll_seconds.max(1));
    let stale_after = (poll * 3).max(Duration::from_secs(300));
    // A stale calendar is worth one warning a day, not one per poll.
    let mut warned_on = None;
    supervise(board, LEASE, poll, stale_after, move |_| {
        if let Some(warning) = tick(&pool, &config, letters.as_ref(), &holder)?
            && warned_on.as_ref() != Some(&warning.0)
        {
            tracing::warn!("{}", warning.1);
            warned_on = Some(warning.0);
        }
        Ok(())
    })
    .map_err(|e| {
        tracing::error!("问题督办任务无法启动: {e}");
        board.not_started(LEASE);
    })
    .ok()
}

/// One round; returns the day and text of a calendar warning, if any.
fn tick(
    pool: &Pool,
    config: &Config,
    letters: Option<&(LinkSecret, Mailer)>,
    holder: &str,
) -> Result<Option<(String, String)>, ServiceError> {
    let mut conn = pool
        .get()
        .map_err(|e| ServiceError::internal("数据库连接池", e))?;
    let lease = chrono::Duration::seconds((config.mail.poll_seconds as i64).max(1) * 3 + 60);
    let at = now();
    if !leases::acquire(&mut conn, LEASE, holder, at, at + lease)? {
        return Ok(None);
    }
    let actor = Actor::system(ACTOR);
    let report = sweep::sweep(&mut conn, &Workflow::of(config), &actor, at)?;
    if report.first_supervisions + report.second_supervisions + report.escalated > 0 {
        tracing::info!(?report, "问题督办:逾期处理");
    }
    if let Some((secret, mailer)) = letters {
        let sent =
            confirm_mail::deliver(&mut conn, mailer, secret, config.base_url(), &config.mail)?;
        if sent.sent + sent.failed > 0 {
            tracing::info!(?sent, "问题督办:确认邮件");
        }
    }
    Ok(report.calendar_warning.map(|w| (report.today, w)))
}
