//! `qiping campaign close|aggregate|publish|report`.

use super::Context;
use crate::ballot::keyfile;
use crate::domain::Period;
use crate::service::closing::{self, CloseOptions};
use crate::service::links::LinkSecret;
use crate::service::{aggregate, publication};

pub fn close(
    ctx: &Context,
    period: &Period,
    key_file: Option<&std::path::Path>,
    exclude_unopenable: bool,
) -> anyhow::Result<()> {
    crate::harden::no_core_dumps()?;
    let secret = LinkSecret::from_config(ctx.config.link_secret.as_deref())?;
    let key = match key_file {
        Some(path) => Some(keyfile::read(path)?.1),
        None => None,
    };
    let report = closing::close(
        &mut ctx.connect()?,
        &ctx.actor,
        &secret,
        period,
        key.as_ref(),
        CloseOptions::from_config(&ctx.config, exclude_unopenable),
    )?;
    eprintln!(
        "{period} 评议活动已截止:问卷链接全部失效;已开启 {} 份密封答卷,保存 {} 条评价{}{}",
        report.ballots,
        report.ratings,
        if report.withheld_units > 0 {
            format!(
                ",{} 个单位因评价企业不足 5 家只保留份数",
                report.withheld_units
            )
        } else {
            String::new()
        },
        if report.excluded > 0 {
            format!(",舍弃无法开启的答卷 {} 份", report.excluded)
        } else {
            String::new()
        },
    );
    if !report.scrubbed {
        eprintln!("数据库文件清理未完成(见上方警告):请稍后再次运行 qiping campaign close {period}");
    }
    if let Some(path) = key_file {
        match keyfile::destroy(path) {
            Ok(()) => eprintln!(
                "已覆盖并删除密钥文件 {}。请销毁这把密钥的其他所有副本(离线副本、U 盘等):\
                 销毁之后,任何人都无法再开启本期答卷的副本。",
                path.display()
            ),
            Err(e) => eprintln!("未能删除密钥文件:{e};请手动销毁它和其他所有副本"),
        }
    }
    Ok(())
}

pub fn aggregate(ctx: &Context, period: &Period, seed: Option<u64>) -> anyhow::Result<()> {
    let r = aggregate::aggregate(
        &mut ctx.connect()?,
        &ctx.actor,
        period,
        &ctx.config.stats,
        ctx.config.weighting.enabled,
        seed,
    )?;
    eprintln!(
        "{} 结果已计算(尚未公布):{} 份评分,{} 个单位,其中 {} 个排名、{} 个样本不足;\
         方法版本 {},随机种子 {}",
        r.period, r.ratings, r.units, r.ranked, r.suppressed, r.method_version, r.seed
    );
    Ok(())
}

pub fn publish(ctx: &Context, period: &Period, reason: Option<&str>) -> anyhow::Result<()> {
    let r = publication::publish_and_write(
        &mut ctx.connect()?,
        &ctx.actor,
        period,
        reason,
        &ctx.config.stats,
        &ctx.config.reports_dir,
    )?;
    eprintln!(
        "{} 第 {} 版已公布并写入 {}:问责提示 {} 个(可信 {} 个)",
        r.period,
        r.version,
        ctx.config.reports_dir.join(&r.period).display(),
        r.flags,
        r.credible_flags
    );
    if let Some(previous) = r.no_previous_campaign {
        eprintln!("上一半年度 {previous} 没有已公布的评议结果,本期不产生问责提示");
    }
    if r.comments_unreviewed > 0 {
        eprintln!(
            "{}",
            crate::service::moderation::unreviewed_note(&r.period, r.comments_unreviewed)
        );
    }
    Ok(())
}

pub fn report(ctx: &Context, period: &Period) -> anyhow::Result<()> {
    let dir = publication::write_reports(
        &mut ctx.connect()?,
        period,
        &ctx.config.reports_dir,
        &ctx.config.stats,
    )?;
    eprintln!("已写入 {}", dir.display());
    Ok(())
}
