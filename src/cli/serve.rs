//! `qiping serve`: the web pages and the API.

use anyhow::Context as _;

use crate::db::DatabaseUrl;
use crate::service::mail_task::MailTaskOptions;
use crate::service::tasks::TaskBoard;
use crate::web::{AppState, serve};

use super::Context;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (default: server.bind of the configuration).
    #[arg(long)]
    pub bind: Option<String>,
}

pub fn run(ctx: Context, args: ServeArgs) -> anyhow::Result<()> {
    // Before any answer reaches this process: no core dump or same-user debugger can keep one.
    let hardened = crate::harden::no_core_dumps()
        .context("无法关闭核心转储(RLIMIT_CORE / PR_SET_DUMPABLE)")?;
    tracing::debug!("{hardened}");
    let url = DatabaseUrl::parse(&ctx.config.database_url)?;
    let pool = url.pool_with_timeout(
        ctx.config.server.pool_size,
        std::time::Duration::from_secs(u64::from(ctx.config.server.pool_timeout_seconds)),
    )?;
    crate::db::migrate(&mut *pool.get()?)?;
    crate::service::upgrade::refuse_if_pending(&mut *pool.get()?)?;
    // Without the link secret no link can be checked for "already answered" and no answer sealed
    // with its spent key: refuse to serve a campaign under way rather than answer every survey
    // with an error.
    if crate::service::links::LinkSecret::from_config(ctx.config.link_secret.as_deref()).is_err()
        && let Some(campaign) = crate::db::campaigns::under_way(&mut *pool.get()?)?.first()
    {
        anyhow::bail!(
            "{} 的评议活动正在进行,但没有配置问卷链接密钥(link_secret / QIPING_LINK_SECRET):\
             企业的问卷链接将无法使用。请配置开始评议时所用的同一个密钥后再启动",
            campaign.period
        );
    }
    // Mail goes out from a background thread; with several `serve` processes a database lease
    // lets one of them dispatch at a time. Both tasks are supervised (restarted after a failure)
    // and report on the board `/healthz?deep=1` reads.
    let board = TaskBoard::default();
    let options = MailTaskOptions::default();
    crate::service::mail_task::spawn(pool.clone(), ctx.config.clone(), &board, options);
    // Problem deadlines (一次督办, 二次督办, escalation) and confirmation requests, likewise.
    crate::service::problems::task::spawn(pool.clone(), ctx.config.clone(), &board);
    let bind = args.bind.unwrap_or_else(|| ctx.config.server.bind.clone());
    let mut state = AppState::new(pool.clone(), ctx.config)?;
    state.tasks = board;
    let views = state.survey.views.clone();
    let served = actix_web::rt::System::new()
        .block_on(serve(state, &bind))
        .with_context(|| format!("无法在 {bind} 上提供服务"));
    // The survey views counted since the last minute's write.
    if let Err(e) = pool
        .get()
        .map_err(anyhow::Error::from)
        .and_then(|mut conn| views.flush(&mut conn).map_err(anyhow::Error::from))
    {
        tracing::warn!("停止时问卷浏览次数未能写入: {e}");
    }
    served
}
