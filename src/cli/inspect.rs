//! The inspectors' commands: `qiping flags` (filtered by period, peer group and credibility;
//! credible and uncertain listed apart) and `qiping history unit CODE | person NAME`. Each run
//! writes an audit row (`cli:USER`), like a read from the pages or the API.

use clap::Subcommand;
use comfy_table::Table;

use super::{Context, print_json};
use crate::service::history::CampaignFigures;
use crate::service::oversight::{self, Channel, FlagFilter, FlagView};

#[derive(Debug, Subcommand)]
pub enum HistoryCommand {
    /// Every published campaign of a unit and of the units it replaced, with the heads of each
    /// half-year.
    Unit {
        code: String,
        #[arg(long)]
        json: bool,
    },
    /// Every term recorded under a head's name (exact; homonyms are listed together, by unit)
    /// and the units' results during each term.
    Person {
        name: String,
        #[arg(long)]
        json: bool,
    },
}

pub fn flags(ctx: &Context, filter: &FlagFilter, json: bool) -> anyhow::Result<()> {
    let flags =
        oversight::read_flags_filtered(&mut ctx.connect()?, &ctx.actor, Channel::Cli, filter)?;
    if json {
        return print_json(&flags);
    }
    let (credible, uncertain): (Vec<FlagView>, Vec<FlagView>) =
        flags.into_iter().partition(|f| f.credible);
    for (title, list) in [("可信", &credible), ("存疑", &uncertain)] {
        if filter.credible.is_some_and(|c| c != (title == "可信")) {
            continue;
        }
        println!("{title}的问责提示:{} 个", list.len());
        if !list.is_empty() {
            println!("{}", flag_table(list));
        }
    }
    Ok(())
}

fn flag_table(flags: &[FlagView]) -> Table {
    let mut table = Table::new();
    table.set_header(["单位", "名称", "排名组", "期次", "各期名次", "各期负责人"]);
    for f in flags {
        table.add_row([
            f.unit_code.clone(),
            f.unit_name.clone(),
            f.peer_group.clone(),
            f.periods.join("、"),
            f.evidence
                .iter()
                .map(|e| {
                    format!(
                        "{}: 第 {} 名(区间 {}–{},后五位概率 {}){}",
                        e.period,
                        e.rank.map_or("—".into(), |r| r.to_string()),
                        e.rank_low.map_or("—".into(), |r| r.to_string()),
                        e.rank_high.map_or("—".into(), |r| r.to_string()),
                        e.p_bottom5
                            .map_or("—".into(), |p| format!("{:.0}%", p * 100.0)),
                        if e.unit_code == f.unit_code {
                            String::new()
                        } else {
                            format!(",前身 {}", e.unit_code)
                        }
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"),
            f.evidence
                .iter()
                .map(|e| {
                    let names: Vec<&str> = e.heads.iter().map(|h| h.name.as_str()).collect();
                    format!("{}: {}", e.period, names.join("、"))
                })
                .collect::<Vec<_>>()
                .join("\n"),
        ]);
    }
    table
}

pub fn history(ctx: &Context, cmd: HistoryCommand) -> anyhow::Result<()> {
    let mut conn = ctx.connect()?;
    match cmd {
        HistoryCommand::Unit { code, json } => {
            let h = oversight::read_unit_history(&mut conn, &ctx.actor, Channel::Cli, &code)?;
            if json {
                return print_json(&h);
            }
            println!("{}({})  排名组:{}", h.name, h.code, h.peer_group);
            for p in &h.predecessors {
                println!("前身单位:{}({})", p.name, p.code);
            }
            for s in &h.successors {
                println!("已由 {}({})接替", s.name, s.code);
            }
            for t in &h.heads {
                println!(
                    "负责人:{},{} 至 {}",
                    t.name,
                    t.from,
                    t.to.map_or("今".into(), |d| d.to_string())
                );
            }
            println!("{}", figures_table(&h.campaigns));
            println!("共 {} 期公布结果", h.campaigns.len());
        }
        HistoryCommand::Person { name, json } => {
            let h = oversight::read_person_history(&mut conn, &ctx.actor, Channel::Cli, &name)?;
            if json {
                return print_json(&h);
            }
            println!("{}:共 {} 段任职记录(同名者一并列出)", h.name, h.terms.len());
            for t in &h.terms {
                println!(
                    "\n{}({}),{} 至 {}",
                    t.unit.name,
                    t.unit.code,
                    t.from,
                    t.to.map_or("今".into(), |d| d.to_string())
                );
                if t.campaigns.is_empty() {
                    println!("任职期间该单位没有公布的评议结果");
                } else {
                    println!("{}", figures_table(&t.campaigns));
                }
            }
        }
    }
    Ok(())
}

fn figures_table(campaigns: &[CampaignFigures]) -> Table {
    let mut table = Table::new();
    table.set_header([
        "期次",
        "被评单位",
        "得分",
        "95% 区间",
        "名次",
        "名次区间",
        "后五位概率",
        "n",
        "回复率",
        "当期负责人",
        "说明",
    ]);
    for c in campaigns {
        let heads: Vec<&str> = c.heads.iter().map(|h| h.name.as_str()).collect();
        table.add_row([
            if c.version > 1 {
                format!("{}(第 {} 版)", c.period, c.version)
            } else {
                c.period.clone()
            },
            c.unit_code.clone(),
            c.score_text(),
            c.interval_text(),
            c.rank_text(),
            c.rank_interval_text(),
            c.p_bottom5_text(),
            c.n.to_string(),
            c.response_rate_text(),
            heads.join("、"),
            format!("{}{}", c.status_text(), c.flag_text()),
        ]);
    }
    table
}
