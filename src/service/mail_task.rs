//! The dispatcher inside `qiping serve`: a thread that, every `mail.poll_seconds`, takes the
//! database lease `mail-dispatcher`, applies the reminder schedule, and sends what is due. Of several
//! `serve` processes sharing one database only the lease holder dispatches; if it dies, its lease
//! runs out and another process takes over. The rate limit is per process, and only one process
//! sends at a time, so it holds for the installation.

use std::time::Duration;

use crate::config::Config;
use crate::db::{Pool, leases, now};
use crate::mail::Mailer;

use super::ServiceError;
use super::dispatch::{Dispatcher, Until};
use super::links::LinkSecret;
use super::outreach;

/// The name of the lease.
pub const LEASE: &str = "mail-dispatcher";

/// Starts the thread; returns without starting it (and says why in the log) when mail cannot be
/// sent from this configuration.
pub fn spawn(pool: Pool, config: Config) -> Option<std::thread::JoinHandle<()>> {
    let secret = match LinkSecret::from_config(config.link_secret.as_deref()) {
        Ok(secret) => secret,
        Err(e) => {
            tracing::warn!("邮件发送任务未启动: {e}");
            return None;
        }
    };
    let mailer = match Mailer::from_config(&config.mail) {
        Ok(mailer) => mailer,
        Err(e) => {
            tracing::warn!("邮件发送任务未启动: {e}");
            return None;
        }
    };
    let holder = format!(
        "{}:{}:{:08x}",
        hostname(),
        std::process::id(),
        rand::random::<u32>()
    );
    std::thread::Builder::new()
        .name("mail-dispatcher".into())
        .spawn(move || {
            let poll = Duration::from_secs(config.mail.poll_seconds.max(1));
            loop {
                if let Err(e) = tick(&pool, &config, &secret, &mailer, &holder) {
                    tracing::error!("邮件发送任务出错: {e}");
                }
                std::thread::sleep(poll);
            }
        })
        .map_err(|e| tracing::error!("邮件发送任务无法启动: {e}"))
        .ok()
}

fn hostname() -> String {
    std::env::var("HOSTNAME").unwrap_or_else(|_| "host".into())
}

/// One round: take (or renew) the lease, remind on schedule, send what is due, renewing the lease
/// between batches and stopping if it is lost.
fn tick(
    pool: &Pool,
    config: &Config,
    secret: &LinkSecret,
    mailer: &Mailer,
    holder: &str,
) -> Result<(), ServiceError> {
    let mut conn = pool
        .get()
        .map_err(|e| ServiceError::Invalid(format!("数据库连接池: {e}")))?;
    let lease = chrono::Duration::seconds((config.mail.poll_seconds as i64).max(1) * 3 + 60);
    let mut renew = |c: &mut crate::db::Conn| {
        let at = now();
        leases::acquire(c, LEASE, holder, at, at + lease).unwrap_or(false)
    };
    if !renew(&mut conn) {
        return Ok(());
    }
    let reminded = outreach::remind_on_schedule(&mut conn, &config.reminders, now())?;
    if reminded > 0 {
        tracing::info!(reminded, "按计划排队提醒邮件");
    }
    let dispatcher = Dispatcher {
        mailer,
        secret,
        base_url: config.base_url(),
        settings: &config.mail,
    };
    let report = dispatcher.run(&mut conn, Until::NothingDue, &mut |_, _| {}, &mut renew)?;
    if report.sent + report.failed + report.retried > 0 {
        tracing::info!(?report, "邮件发送");
    }
    Ok(())
}
