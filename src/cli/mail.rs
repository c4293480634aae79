//! `qiping mail send|bounce`.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};

use super::{Context, print_json};
use crate::mail::Mailer;
use crate::service::dispatch::{Dispatcher, Until};
use crate::service::links::LinkSecret;
use crate::service::outreach;

#[derive(Debug, Subcommand)]
pub enum MailCommand {
    /// Send queued mail now (SMTP when mail.smtp_host is set, else .eml files in mail.outbox_dir).
    Send {
        /// Send only what is due now; do not wait for retries that are due later.
        #[arg(long)]
        no_wait: bool,
        /// Print the outcome as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Mark addresses as bounced (one per line); they are not mailed again.
    Bounce { file: PathBuf },
}

pub fn run(ctx: &Context, command: MailCommand) -> anyhow::Result<()> {
    let mut conn = ctx.connect()?;
    match command {
        MailCommand::Send { no_wait, json } => {
            let secret = LinkSecret::from_config(ctx.config.link_secret.as_deref())?;
            let mailer = Mailer::from_config(&ctx.config.mail)?;
            let dispatcher = Dispatcher {
                mailer: &mailer,
                secret: &secret,
                base_url: ctx.config.base_url(),
                settings: &ctx.config.mail,
                weighted_by_default: ctx.config.weighting.enabled,
                before_compose: None,
            };
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template("{bar:40} {pos}/{len} 封 ({per_sec}, {eta})")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            let until = if no_wait {
                Until::NothingDue
            } else {
                Until::Drained
            };
            let report = dispatcher.send_now(&mut conn, &ctx.actor, until, &mut |done, total| {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            });
            bar.finish_and_clear();
            let report = report?;
            if json {
                return print_json(&report);
            }
            eprintln!(
                "已发送 {} 封,失败 {} 封,跳过 {} 封(退信、活动已结束或已作答),待重试 {} 封{}",
                report.sent,
                report.failed,
                report.skipped,
                report.still_queued,
                if report.in_doubt > 0 {
                    format!(
                        ";{} 封因上次发送中断、结果未知而未重发(见 campaign show 的失败数)",
                        report.in_doubt
                    )
                } else {
                    String::new()
                }
            );
            Ok(())
        }
        MailCommand::Bounce { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("无法读取 {}", file.display()))?;
            let report = outreach::bounce(&mut conn, &ctx.actor, &text)?;
            eprintln!(
                "已标记退信:企业 {} 家,邀请 {} 份",
                report.enterprises, report.invitations
            );
            for address in &report.unknown {
                eprintln!("{}: 没有使用 {address} 的企业", file.display());
            }
            Ok(())
        }
    }
}
