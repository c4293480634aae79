//! `qiping campaign close|aggregate|publish|report`.

use super::Context;
use crate::domain::Period;
use crate::service::{aggregate, publication};

pub fn close(ctx: &Context, period: &Period) -> anyhow::Result<()> {
    aggregate::close(&mut ctx.connect()?, &ctx.actor, period)?;
    eprintln!("{period} 评议活动已截止:问卷链接全部失效,不再接受答卷");
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
