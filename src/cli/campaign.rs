//! `qiping campaign create|open|remind|reissue|extend|discard|invitees|list|show`.

use chrono::NaiveDate;
use clap::Subcommand;
use comfy_table::Table;

use super::{Context, print_json};
use crate::domain::Period;
use crate::service::campaign::{self, CampaignSummary, CreateCampaign};
use crate::service::links::LinkSecret;
use crate::service::outreach;

#[derive(Debug, Subcommand)]
pub enum CampaignCommand {
    /// Create a draft campaign for a half year (e.g. 2019H2).
    Create {
        period: Period,
        /// Survey template name (survey_templates/NAME.toml; `standard` is built in).
        #[arg(long, default_value = "standard")]
        template: String,
        /// First day enterprises may answer (default: today, Beijing time).
        #[arg(long, value_name = "YYYY-MM-DD")]
        opens: Option<NaiveDate>,
        /// Last day enterprises may answer (default: 30 days after opening).
        #[arg(long, value_name = "YYYY-MM-DD")]
        closes: Option<NaiveDate>,
        /// Invite a stratified random sample of N enterprises (district × industry × size).
        #[arg(long, value_name = "N")]
        sample: Option<u64>,
        /// Seed of the sample (default: drawn at random and recorded with the campaign).
        #[arg(long, value_name = "S", requires = "sample")]
        seed: Option<u64>,
        /// Weight the answers (raking to the invited enterprises' size, industry and district);
        /// stored with the campaign. Default: `[weighting] enabled` in qiping.toml.
        #[arg(long, conflicts_with = "unweighted")]
        weighted: bool,
        /// Do not weight the answers, whatever `[weighting] enabled` says.
        #[arg(long)]
        unweighted: bool,
    },
    /// Queue reminders to enterprises that have not answered.
    Remind { period: Period },
    /// Give one enterprise a new link; the old one stops working.
    Reissue { period: Period, uscc: String },
    /// Move the deadline of an open campaign and tell those who have not answered.
    Extend {
        period: Period,
        #[arg(long, value_name = "YYYY-MM-DD")]
        closes: NaiveDate,
    },
    /// Issue the invitations (one link per enterprise, queued for the mail dispatcher) and write
    /// the campaign's ballot key to a new file: answers stay sealed until the close opens them
    /// with it.
    Open {
        period: Period,
        /// Where to write the ballot key (a new file; removable media, not a disk that is backed
        /// up). Losing every copy loses the campaign's answers; keep a second copy offline.
        #[arg(long, value_name = "PATH")]
        ballot_key_out: std::path::PathBuf,
        /// Open although no interactions were imported: every enterprise then chooses the units it
        /// rates itself (at most 5).
        #[arg(long)]
        without_interactions: bool,
        /// Go on without asking (scripts): the command otherwise shows what it will do and asks
        /// on a terminal, and refuses without one.
        #[arg(long)]
        yes: bool,
    },
    /// Stop accepting answers (every link expires), open the sealed ballots with the ballot key
    /// and store the answers unlinked; then the key file is overwritten and deleted.
    Close {
        period: Period,
        /// The ballot key file written by `campaign open` (not needed to finish an interrupted
        /// scrub).
        #[arg(long, value_name = "FILE")]
        ballot_key: Option<std::path::PathBuf>,
        /// Drop ballots that do not open with the key instead of refusing the close (audited;
        /// the bulletin states how many).
        #[arg(long)]
        exclude_unopenable: bool,
        /// Go on without asking (scripts): the command otherwise shows what it will do and asks
        /// on a terminal, and refuses without one.
        #[arg(long)]
        yes: bool,
    },
    /// Discard (作废) an open campaign: its answers are deleted, nothing is published, and the
    /// period's campaign can be created again.
    Discard {
        period: Period,
        /// Why (recorded in the audit log and shown with the campaign), e.g. 选票密钥全部遗失.
        #[arg(long)]
        reason: String,
        /// Go on without asking (scripts): the command otherwise shows what it will do and asks
        /// on a terminal, and refuses without one.
        #[arg(long)]
        yes: bool,
    },
    /// Compute every unit's result (not yet public). The seed is drawn and stored unless given.
    Aggregate {
        period: Period,
        /// Reproduce an earlier aggregation with its seed.
        #[arg(long)]
        seed: Option<u64>,
    },
    /// Freeze the results, compute the flags, write reports/PERIOD/.
    Publish {
        period: Period,
        /// Publish a correction as a new version (the old one stays readable).
        #[arg(long, requires = "reason")]
        supersede: bool,
        /// Why the correction was needed (required with --supersede).
        #[arg(long, requires = "supersede")]
        reason: Option<String>,
        /// Go on without asking (scripts): the command otherwise shows what it will do and asks
        /// on a terminal, and refuses without one.
        #[arg(long)]
        yes: bool,
    },
    /// Write reports/PERIOD/ again from the published results.
    Report { period: Period },
    /// Every campaign with its progress.
    List {
        #[arg(long)]
        json: bool,
    },
    /// The enterprises a campaign invites (a draft: those `campaign open` would invite, so the
    /// sample can be checked and the interactions file prepared before opening).
    Invitees {
        period: Period,
        /// Write the list as CSV for Excel (UTF-8 with BOM) to FILE instead of printing it.
        #[arg(long, value_name = "FILE")]
        csv: Option<std::path::PathBuf>,
        #[arg(long, conflicts_with = "csv")]
        json: bool,
    },
    /// One campaign with its progress.
    Show {
        period: Period,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(ctx: &Context, command: CampaignCommand) -> anyhow::Result<()> {
    let mut conn = ctx.connect()?;
    match command {
        CampaignCommand::Create {
            period,
            template,
            opens,
            closes,
            sample,
            seed,
            weighted,
            unweighted,
        } => {
            let weighted = weighted || (!unweighted && ctx.config.weighting.enabled);
            let summary = campaign::create(
                &mut conn,
                &ctx.actor,
                &ctx.config.templates_dir,
                &CreateCampaign {
                    period,
                    template_name: &template,
                    opens_on: opens,
                    closes_on: closes,
                    sample,
                    seed,
                    weighted,
                },
            )?;
            if let (Some(n), Some(seed)) = (summary.sample_size, summary.sample_seed) {
                eprintln!("抽样:分层随机抽取 {n} 家企业,随机种子 {seed}(已记录)");
            }
            eprintln!(
                "开始评议时将邀请 {} 家企业(名单:qiping campaign invitees {} --csv 文件名)",
                summary.to_invite, summary.period
            );
            eprintln!(
                "已创建 {} 评议活动(草稿),问卷 {},{} 至 {}",
                summary.period, summary.template, summary.opens, summary.closes
            );
            Ok(())
        }
        CampaignCommand::Open {
            period,
            ballot_key_out,
            without_interactions,
            yes,
        } => {
            let mut what =
                crate::service::confirmation::open(&mut conn, &period, without_interactions)?;
            what.push(format!("选票密钥将写入 {}。", ballot_key_out.display()));
            super::confirm::confirm(yes, "开始评议", &what)?;
            crate::harden::no_core_dumps()?;
            let secret = LinkSecret::from_config(ctx.config.link_secret.as_deref())?;
            let key = crate::ballot::PrivateKey::generate()
                .map_err(|e| anyhow::anyhow!("无法生成选票密钥:{e}"))?;
            let report = campaign::open(
                &mut conn,
                &ctx.actor,
                &secret,
                &period,
                &key,
                without_interactions,
                |info, key| {
                    crate::ballot::keyfile::write_new(&ballot_key_out, info, key)
                        .map_err(|e| crate::service::ServiceError::Invalid(e.to_string()))
                },
            )?;
            eprintln!(
                "{} 评议活动已开始:已生成 {} 份邀请,等待发送(qiping mail send)",
                report.period, report.invited
            );
            eprintln!(
                "选票密钥已写入 {}(指纹 {}),服务器上不保存它。截止时需要用它开启答卷:\
                 请立即把它存到不做备份的移动介质上,另存一份离线副本;全部遗失则本期答卷无法开启,只能作废。",
                ballot_key_out.display(),
                report.key_fingerprint
            );
            Ok(())
        }
        CampaignCommand::Close {
            period,
            ballot_key,
            exclude_unopenable,
            yes,
        } => {
            let what = crate::service::confirmation::close(&mut conn, &period)?;
            super::confirm::confirm(yes, "截止评议", &what)?;
            super::results::close(ctx, &period, ballot_key.as_deref(), exclude_unopenable)
        }
        CampaignCommand::Discard {
            period,
            reason,
            yes,
        } => {
            let what = crate::service::confirmation::discard(&mut conn, &period, &reason)?;
            super::confirm::confirm(yes, "作废评议活动", &what)?;
            let report = campaign::discard(&mut conn, &ctx.actor, &period, &reason, None)?;
            eprintln!(
                "{} 评议活动已作废:已删除 {} 份答卷,不会公布任何结果;可重新创建该期评议活动",
                report.period, report.answers_deleted
            );
            Ok(())
        }
        CampaignCommand::Aggregate { period, seed } => {
            super::results::aggregate(ctx, &period, seed)
        }
        CampaignCommand::Publish {
            period,
            reason,
            yes,
            ..
        } => {
            let p = crate::service::publication::preview(
                &mut conn,
                &period,
                reason.as_deref(),
                &ctx.config.stats,
            )?;
            let what = p.lines();
            super::confirm::confirm(
                yes,
                if reason.is_some() {
                    "公布更正版本"
                } else {
                    "公布结果"
                },
                &what,
            )?;
            super::results::publish(ctx, &period, reason.as_deref())
        }
        CampaignCommand::Report { period } => super::results::report(ctx, &period),
        CampaignCommand::Remind { period } => {
            let secret = LinkSecret::from_config(ctx.config.link_secret.as_deref())?;
            let report = outreach::remind(
                &mut conn,
                &ctx.actor,
                &secret,
                &period,
                &ctx.config.reminders,
                None,
                crate::db::now(),
            )?;
            eprintln!(
                "{}:已为 {} 家未作答的企业排队提醒邮件(qiping mail send 发送)",
                report.period, report.queued
            );
            Ok(())
        }
        CampaignCommand::Reissue { period, uscc } => {
            let secret = LinkSecret::from_config(ctx.config.link_secret.as_deref())?;
            let version = outreach::reissue(&mut conn, &ctx.actor, &secret, &period, &uscc)?;
            eprintln!(
                "已为 {uscc} 重新生成 {period} 问卷链接(第 {version} 版),原链接已失效;新邀请邮件已排队"
            );
            Ok(())
        }
        CampaignCommand::Extend { period, closes } => {
            let secret = LinkSecret::from_config(ctx.config.link_secret.as_deref())?;
            let report = outreach::extend(&mut conn, &ctx.actor, &secret, &period, closes)?;
            eprintln!(
                "{} 截止日期已延至 {closes};已为 {} 家未作答的企业排队延期通知",
                report.period, report.queued
            );
            Ok(())
        }
        CampaignCommand::List { json } => {
            let list = campaign::list(&mut conn)?;
            if json {
                return print_json(&list);
            }
            println!("{}", table(&list));
            Ok(())
        }
        CampaignCommand::Invitees { period, csv, json } => {
            let list = campaign::invitee_list(&mut conn, &period)?;
            if json {
                return print_json(&list);
            }
            if let Some(path) = csv {
                std::fs::write(&path, campaign::invitee_csv(&list)?)
                    .map_err(|e| anyhow::anyhow!("无法写入 {}:{e}", path.display()))?;
                eprintln!("已写入 {}:{} 家受邀企业", path.display(), list.len());
                return Ok(());
            }
            let mut table = Table::new();
            table.set_header([
                "统一社会信用代码",
                "企业名称",
                "所在区县",
                "行业",
                "企业规模",
            ]);
            for i in &list {
                table.add_row([&i.uscc, &i.name, &i.district, &i.industry, &i.size]);
            }
            println!("{table}");
            eprintln!("共 {} 家", list.len());
            Ok(())
        }
        CampaignCommand::Show { period, json } => {
            let summary = campaign::show(&mut conn, &period)?;
            if json {
                return print_json(&summary);
            }
            println!("{}", table(std::slice::from_ref(&summary)));
            println!(
                "\n{}",
                match summary.weighted {
                    Some(true) => "加权:按规模、行业、区县校准到受邀企业的构成",
                    Some(false) => "不加权:每份评价权重相同",
                    None => "加权与否:按 qiping.toml 的 [weighting] enabled(本期创建时尚未记录)",
                }
            );
            if let Some(reason) = &summary.discard_reason {
                println!("\n已作废,原因:{}", reason.escape_debug());
            }
            if let Some(fingerprint) = &summary.key_fingerprint {
                println!("\n选票密钥指纹:{fingerprint}(与密钥文件中写明的一致才是本期的密钥)");
            }
            if summary.scrub_pending {
                println!(
                    "\n截止后的数据库清理尚未完成:请再次运行 qiping campaign close {}",
                    summary.period
                );
            }
            if let Some(n) = summary.unopenable_excluded.filter(|n| *n > 0) {
                println!("\n截止时舍弃无法开启的答卷 {n} 份");
            }
            if !summary.views_by_day.is_empty() {
                let days: Vec<String> = summary
                    .views_by_day
                    .iter()
                    .map(|d| format!("{} {} 次", d.day.format("%-m月%-d日"), d.views))
                    .collect();
                println!("\n问卷浏览(按日):{}", days.join(","));
            }
            if !summary.failures.is_empty() {
                println!(
                    "\n发送失败的邀请({} 份;改正后可用 campaign reissue 重新发放):",
                    summary.failures.len()
                );
                let mut failed = Table::new();
                failed.set_header(["统一社会信用代码", "企业", "原因"]);
                for f in &summary.failures {
                    failed.add_row([
                        f.uscc.clone(),
                        f.enterprise.escape_debug().to_string(),
                        f.reason.clone(),
                    ]);
                }
                println!("{failed}");
            }
            Ok(())
        }
    }
}

fn table(list: &[CampaignSummary]) -> Table {
    let mut table = Table::new();
    table.set_header([
        "期次",
        "状态",
        "开始",
        "截止",
        "邀请",
        "已发送",
        "发送失败",
        "退信",
        "问卷浏览",
        "已完成",
        "回复率",
    ]);
    for c in list {
        let state = c
            .state
            .parse::<crate::domain::CampaignState>()
            .map(|s| s.label_zh().to_owned())
            .unwrap_or_else(|_| c.state.clone());
        table.add_row([
            c.period.clone(),
            state,
            c.opens.to_string(),
            c.closes.to_string(),
            if c.state == "draft" {
                format!("(将邀请 {})", c.to_invite)
            } else {
                c.invited.to_string()
            },
            c.sent.to_string(),
            c.failed.to_string(),
            c.bounced.to_string(),
            c.opened.to_string(),
            c.completed.to_string(),
            c.response_rate
                .map(|r| format!("{:.1}%", r * 100.0))
                .unwrap_or_else(|| "—".into()),
        ]);
    }
    table
}
