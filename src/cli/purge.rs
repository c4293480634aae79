//! `qiping purge [--dry-run]`: deletes personal data past `[retention] personal_data_days`.

use super::{Context, print_json};
use crate::service::purge;

#[derive(Debug, clap::Args)]
pub struct PurgeArgs {
    /// Count what would be deleted, change nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Context, args: PurgeArgs) -> anyhow::Result<()> {
    let days = ctx.config.retention.personal_data_days;
    let report = purge::purge(&mut ctx.connect()?, &ctx.actor, days, args.dry_run)?;
    if args.json {
        return print_json(&report);
    }
    let verb = if report.dry_run {
        "将删除"
    } else {
        "已删除"
    };
    println!(
        "{verb}超过 {days} 天的个人信息:企业联系邮箱 {} 条,问题反映人姓名与联系方式 {} 条",
        report.enterprise_contacts, report.problem_reporters
    );
    Ok(())
}
