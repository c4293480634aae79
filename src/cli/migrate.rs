//! `qiping migrate`: apply pending migrations, then the upgrade step ([`crate::service::upgrade`]).

use crate::db::{DatabaseUrl, migrate};
use crate::service::links::LinkSecret;
use crate::service::upgrade;

use super::Context;

#[derive(clap::Args, Debug)]
pub struct MigrateArgs {
    /// Where to write the ballot key of a campaign open during the upgrade (a new file, mode
    /// 0600; removable media, not a disk that is backed up). Needed only then.
    #[arg(long, value_name = "PATH")]
    pub ballot_key_out: Option<std::path::PathBuf>,
}

pub fn run(ctx: &Context, args: &MigrateArgs) -> anyhow::Result<()> {
    let url = DatabaseUrl::parse(&ctx.config.database_url)?;
    let mut conn = url.connect()?;
    let applied = migrate(&mut conn)?;
    if applied.is_empty() {
        eprintln!("数据库已是最新,无待执行的迁移");
    } else {
        for name in applied {
            eprintln!("已执行迁移 {name}");
        }
    }
    if upgrade::pending(&mut conn)?.is_none() {
        return Ok(());
    }
    crate::harden::no_core_dumps()?;
    let secret = LinkSecret::from_config(ctx.config.link_secret.as_deref()).ok();
    let write_key = |info: &crate::ballot::keyfile::KeyFileInfo,
                     key: &crate::ballot::PrivateKey|
     -> Result<(), crate::service::ServiceError> {
        let path = args
            .ballot_key_out
            .as_deref()
            .unwrap_or(std::path::Path::new(""));
        crate::ballot::keyfile::write_new(path, info, key)
            .map_err(|e| crate::service::ServiceError::Invalid(e.to_string()))
    };
    let hand_over: Option<&upgrade::HandOver<'_>> = args
        .ballot_key_out
        .as_ref()
        .map(|_| &write_key as &upgrade::HandOver<'_>);
    let options = upgrade::UpgradeOptions {
        weighting_default: ctx.config.weighting.enabled,
        raking: ctx.config.stats.raking.clone(),
    };
    let report = upgrade::run(&mut conn, &ctx.actor, secret.as_ref(), hand_over, &options)?;
    for (period, ratings, responses) in &report.unlinked {
        eprintln!(
            "{period}:{ratings} 条评分已与答卷脱钩(随机重排、换新编号),删除 {responses} 份旧答卷记录"
        );
    }
    if report.weighed > 0 {
        eprintln!(
            "{} 条评分不再带着企业的规模、行业、区县:加权的评议活动换成了至少 5 家企业共享的权重",
            report.weighed
        );
    }
    if let (Some((period, ballots, fingerprint)), Some(path)) =
        (&report.sealed, &args.ballot_key_out)
    {
        eprintln!(
            "{period}:升级前收到的 {ballots} 份答卷已密封为选票;选票密钥已写入 {}(指纹 {fingerprint})。\
             截止时需要用它开启答卷:请立即把它存到不做备份的移动介质上,另存一份离线副本。",
            path.display()
        );
    }
    if report.scrubbed {
        eprintln!("升级完成:旧答卷已从数据库文件中清除");
    } else {
        eprintln!("升级完成,但清理数据库文件未完成:请再次运行 qiping migrate");
    }
    Ok(())
}
