//! The dispatcher inside `qiping serve`: a thread that, every `mail.poll_seconds`, takes the
//! database lease `mail-dispatcher`, applies the reminder schedule, and sends what is due. Of several
//! `serve` processes sharing one database only the lease holder dispatches; if it dies, its lease
//! runs out and another process takes over. The rate limit is per process, and only one process
//! sends at a time, so it holds for the installation. The thread runs under
//! [`supervise`](super::tasks::supervise): a round that fails is logged and tried again with
//! backoff, and a message that cannot be built fails alone (`dispatch`).

use std::time::Duration;

use crate::config::Config;
use crate::db::{Pool, leases, now};
use crate::mail::Mailer;

use super::dispatch::{ComposeHook, Dispatcher, Until};
use super::links::LinkSecret;
use super::outreach;
use super::tasks::{TaskBoard, supervise};
use super::{Actor, ServiceError};

/// The name of the lease, and of the task on the [`TaskBoard`].
pub const LEASE: &str = "mail-dispatcher";

/// Who the schedule's reminders are recorded as in the audit log.
pub const ACTOR: &str = "reminder-schedule";

/// What a caller may change about the task besides the configuration.
#[derive(Debug, Clone, Copy, Default)]
pub struct MailTaskOptions {
    /// Test-only, see [`Dispatcher::before_compose`]; `serve` passes `None`.
    pub before_compose: Option<ComposeHook>,
    /// Test-only: called at the start of each round, so a test can make a round fail and watch
    /// the task restart. A function pointer set in code, like `before_compose`; `serve` passes
    /// `None`.
    pub before_round: Option<fn()>,
}

/// Starts the supervised thread; returns without starting it (says why in the log, and marks the
/// task `not_started` on the board) when mail cannot be sent from this configuration.
pub fn spawn(
    pool: Pool,
    config: Config,
    board: &TaskBoard,
    options: MailTaskOptions,
) -> Option<std::thread::JoinHandle<()>> {
    let secret = match LinkSecret::from_config(config.link_secret.as_deref()) {
        Ok(secret) => secret,
        Err(e) => {
            tracing::warn!("邮件发送任务未启动: {e}");
            board.not_started(LEASE);
            return None;
        }
    };
    let mailer = match Mailer::from_config(&config.mail) {
        Ok(mailer) => mailer,
        Err(e) => {
            tracing::warn!("邮件发送任务未启动: {e}");
            board.not_started(LEASE);
            return None;
        }
    };
    let holder = format!(
        "{}:{}:{:08x}",
        hostname(),
        std::process::id(),
        rand::random::<u32>()
    );
    let poll = Duration::from_secs(config.mail.poll_seconds.max(1));
    // A healthy round is quiet at most for one SMTP exchange (lettre's timeout is 30 s a command)
    // or one poll; five minutes without a sign of life means it is stuck.
    let stale_after = (poll * 3).max(Duration::from_secs(300));
    supervise(board, LEASE, poll, stale_after, move |board| {
        tick(&pool, &config, &secret, &mailer, &holder, board, options)
    })
    .map_err(|e| {
        tracing::error!("邮件发送任务无法启动: {e}");
        board.not_started(LEASE);
    })
    .ok()
}

fn hostname() -> String {
    std::env::var("HOSTNAME").unwrap_or_else(|_| "host".into())
}

/// One round: take (or renew) the lease, remind on schedule, send what is due (the run first marks
/// the expired claims of a dead or restarted dispatcher in doubt), renewing the lease between
/// batches and stopping if it is lost.
fn tick(
    pool: &Pool,
    config: &Config,
    secret: &LinkSecret,
    mailer: &Mailer,
    holder: &str,
    board: &TaskBoard,
    options: MailTaskOptions,
) -> Result<(), ServiceError> {
    let mut conn = pool
        .get()
        .map_err(|e| ServiceError::internal("数据库连接池", e))?;
    let lease = chrono::Duration::seconds((config.mail.poll_seconds as i64).max(1) * 3 + 60);
    let mut renew = |c: &mut crate::db::Conn| {
        board.heartbeat(LEASE);
        let at = now();
        leases::acquire(c, LEASE, holder, at, at + lease).unwrap_or(false)
    };
    if !renew(&mut conn) {
        return Ok(());
    }
    if let Some(hook) = options.before_round {
        hook();
    }
    let actor = Actor::system(ACTOR);
    let reminded =
        outreach::remind_on_schedule(&mut conn, &actor, secret, &config.reminders, now())?;
    if reminded > 0 {
        tracing::info!(reminded, "按计划排队提醒邮件");
    }
    let dispatcher = Dispatcher {
        mailer,
        secret,
        base_url: config.base_url(),
        settings: &config.mail,
        weighted_by_default: config.weighting.enabled,
        before_compose: options.before_compose,
    };
    let report = dispatcher.run(
        &mut conn,
        Until::NothingDue,
        &mut |_, _| board.heartbeat(LEASE),
        &mut renew,
    )?;
    if report.sent + report.failed + report.retried > 0 {
        tracing::info!(?report, "邮件发送");
    }
    Ok(())
}
