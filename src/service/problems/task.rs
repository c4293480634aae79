//! The problem list's background work inside `qiping serve`: every `mail.poll_seconds` the holder
//! of the database lease `problem-sweep` applies the deadlines (the sweep is idempotent within a
//! day, so running it often only makes it prompt) and sends queued confirmation requests. With
//! several `serve` processes one does it at a time; if it dies another takes over.

use std::time::Duration;

use crate::config::Config;
use crate::db::{Pool, leases, now};
use crate::mail::Mailer;
use crate::service::ServiceError;
use crate::service::links::LinkSecret;

use super::{Workflow, confirm_mail, sweep};

/// The lease's name.
pub const LEASE: &str = "problem-sweep";

/// Starts the thread, or says in the log why it cannot run with this configuration.
pub fn spawn(pool: Pool, config: Config) -> Option<std::thread::JoinHandle<()>> {
    let secret = match LinkSecret::from_config(config.link_secret.as_deref()) {
        Ok(secret) => secret,
        Err(e) => {
            tracing::warn!("问题督办任务未启动: {e}");
            return None;
        }
    };
    let mailer = match Mailer::from_config(&config.mail) {
        Ok(mailer) => mailer,
        Err(e) => {
            tracing::warn!("问题督办任务未启动: {e}");
            return None;
        }
    };
    let holder = format!("{}:{:08x}", std::process::id(), rand::random::<u32>());
    std::thread::Builder::new()
        .name(LEASE.into())
        .spawn(move || {
            let poll = Duration::from_secs(config.mail.poll_seconds.max(1));
            loop {
                if let Err(e) = tick(&pool, &config, &secret, &mailer, &holder) {
                    tracing::error!("问题督办任务出错: {e}");
                }
                std::thread::sleep(poll);
            }
        })
        .map_err(|e| tracing::error!("问题督办任务无法启动: {e}"))
        .ok()
}

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
    let at = now();
    if !leases::acquire(&mut conn, LEASE, holder, at, at + lease)? {
        return Ok(());
    }
    let report = sweep::sweep(&mut conn, &Workflow::of(config), "system:serve", at)?;
    if report.first_supervisions + report.second_supervisions + report.escalated > 0 {
        tracing::info!(?report, "问题督办:逾期处理");
    }
    let sent = confirm_mail::deliver(&mut conn, mailer, secret, config.base_url(), &config.mail)?;
    if sent.sent + sent.failed > 0 {
        tracing::info!(?sent, "问题督办:确认邮件");
    }
    Ok(())
}
