//! `qiping problems …` (also `qiping problem …`): the problem list (问题清单) from the command
//! line — register a problem from another channel, list it, assign it, apply the deadlines, and
//! write the quarterly bulletin.

use comfy_table::Table;

use super::{Context, print_json};
use crate::db::now;
use crate::domain::Quarter;
use crate::domain::problem::Channel;
use crate::service::links::LinkSecret;
use crate::service::problems::{self, NewProblem, Workflow, bulletin, confirm_mail, sweep, views};

#[derive(Debug, clap::Subcommand)]
pub enum ProblemCommand {
    /// Register a problem reported through another channel (hotline, visit, letter, …).
    Add {
        /// The unit it is about (its code).
        #[arg(long)]
        unit: Option<String>,
        /// survey|hotline|visit|letter|online|other (or 12345热线, 来访, 来信, 网上留言, 其他渠道).
        #[arg(long, default_value = "other")]
        channel: Channel,
        /// What the enterprise reported.
        #[arg(long)]
        description: String,
        #[arg(long)]
        enterprise: Option<String>,
        /// The reporter's name.
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        phone: Option<String>,
        /// Where the confirmation request goes once the unit has answered.
        #[arg(long)]
        email: Option<String>,
    },
    /// The problem list, overdue first.
    List {
        /// Only problems whose deadline has passed.
        #[arg(long)]
        overdue: bool,
        #[arg(long)]
        json: bool,
    },
    /// One problem with every step: when, by whom.
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// 交办: give a problem to a unit with the normal deadline (problems.deadline_working_days).
    Assign {
        id: i64,
        /// The unit's code (default: the unit the problem names).
        #[arg(long)]
        unit: Option<String>,
    },
    /// Apply the deadlines (一次督办, 二次督办, escalation) and send queued confirmation requests.
    #[command(visible_alias = "escalate")]
    Sweep {
        #[arg(long)]
        json: bool,
    },
    /// Write the quarterly bulletin of typical cases to reports/problems/QUARTER/.
    Bulletin {
        /// e.g. 2026Q3.
        quarter: Quarter,
    },
}

pub fn run(ctx: &Context, cmd: ProblemCommand) -> anyhow::Result<()> {
    let mut conn = ctx.connect()?;
    let wf = Workflow::of(&ctx.config);
    match cmd {
        ProblemCommand::Add {
            unit,
            channel,
            description,
            enterprise,
            name,
            phone,
            email,
        } => {
            let new = NewProblem {
                channel: Some(channel),
                unit_code: unit,
                enterprise_name: enterprise,
                reporter_name: name,
                reporter_phone: phone,
                reporter_email: email,
                description,
            };
            let id = problems::register(&mut conn, &ctx.actor, &new, now())?;
            println!("{id}");
            eprintln!("问题 {id} 已登记;用 qiping problems assign {id} 交办");
        }
        ProblemCommand::List { overdue, json } => {
            let list = views::all(&mut conn, &ctx.config.calendar, now(), overdue)?;
            if json {
                return print_json(&list);
            }
            let mut table = Table::new();
            table.set_header([
                "编号", "单位", "渠道", "状态", "阶段", "期限", "逾期", "问题",
            ]);
            for v in &list {
                table.add_row([
                    v.id.to_string(),
                    v.unit_name.clone().unwrap_or_default(),
                    v.channel_label.clone(),
                    v.state_label.clone(),
                    v.stage_label.clone(),
                    v.deadline.map(|d| d.to_string()).unwrap_or_default(),
                    if v.overdue { "是" } else { "" }.to_owned(),
                    v.description.chars().take(30).collect(),
                ]);
            }
            println!("{table}");
        }
        ProblemCommand::Show { id, json } => {
            let (view, steps) = views::one(&mut conn, &ctx.config.calendar, id, now())?;
            if json {
                return print_json(&serde_json::json!({ "problem": view, "steps": steps }));
            }
            println!(
                "问题 {}:{} · {} · {}",
                view.id, view.state_label, view.stage_label, view.description
            );
            for s in steps {
                println!(
                    "  {} {} {}{}",
                    s.at,
                    s.action_label,
                    s.actor,
                    s.deadline.map(|d| format!(" 期限 {d}")).unwrap_or_default()
                );
            }
        }
        ProblemCommand::Assign { id, unit } => {
            let deadline =
                problems::assign(&mut conn, &wf, &ctx.actor, id, unit.as_deref(), now())?;
            eprintln!("问题 {id} 已交办,办理期限 {deadline}(工作日计算)");
        }
        ProblemCommand::Sweep { json } => {
            let report = sweep::sweep(&mut conn, &wf, &ctx.actor, now())?;
            let mail = match LinkSecret::from_config(ctx.config.link_secret.as_deref()) {
                Ok(secret) => {
                    let mailer = crate::mail::Mailer::from_config(&ctx.config.mail)?;
                    Some(confirm_mail::deliver(
                        &mut conn,
                        &mailer,
                        &secret,
                        ctx.config.base_url(),
                        &ctx.config.mail,
                    )?)
                }
                Err(e) => {
                    eprintln!("确认邮件未发送: {e}");
                    None
                }
            };
            if json {
                return print_json(&serde_json::json!({ "deadlines": report, "mail": mail }));
            }
            if let Some(w) = &report.calendar_warning {
                eprintln!("注意:{w}");
            }
            eprintln!(
                "{}:一次督办 {} 件,二次督办 {} 件,移交问责 {} 件,逾期未反馈办结 {} 件;确认邮件发出 {} 封",
                report.today,
                report.first_supervisions,
                report.second_supervisions,
                report.escalated,
                report.closed_without_reply,
                mail.map(|m| m.sent).unwrap_or_default()
            );
        }
        ProblemCommand::Bulletin { quarter } => {
            let (dir, b) = bulletin::write(&mut conn, &ctx.config.reports_dir, quarter)?;
            eprintln!(
                "{} 通报已写入 {}:典型案例 {} 件",
                b.label,
                dir.display(),
                b.cases.len()
            );
        }
    }
    Ok(())
}
