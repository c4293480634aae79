//! `qiping units list` and `qiping enterprises list`.

use clap::Subcommand;
use comfy_table::Table;

use super::{Context, print_json};
use crate::service::registry::{list_enterprises, list_units};

#[derive(Debug, Subcommand)]
pub enum UnitsCommand {
    /// List every unit with its current head.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum EnterprisesCommand {
    /// List every enterprise.
    List {
        #[arg(long)]
        json: bool,
    },
}

pub fn run_units(ctx: &Context, command: UnitsCommand) -> anyhow::Result<()> {
    let UnitsCommand::List { json } = command;
    let units = list_units(&mut ctx.connect()?)?;
    if json {
        return print_json(&units);
    }
    let mut table = Table::new();
    table.set_header([
        "编码",
        "名称",
        "类型",
        "上级",
        "排名组",
        "负责人",
        "任职起始",
    ]);
    for u in &units {
        table.add_row([
            u.code.clone(),
            u.name.clone(),
            u.kind.clone(),
            u.parent_code.clone().unwrap_or_default(),
            u.peer_group.clone(),
            u.head.as_ref().map(|h| h.name.clone()).unwrap_or_default(),
            u.head
                .as_ref()
                .map(|h| h.since.to_string())
                .unwrap_or_default(),
        ]);
    }
    println!("{table}\n共 {} 个单位", units.len());
    Ok(())
}

pub fn run_enterprises(ctx: &Context, command: EnterprisesCommand) -> anyhow::Result<()> {
    let EnterprisesCommand::List { json } = command;
    let list = list_enterprises(&mut ctx.connect()?)?;
    if json {
        return print_json(&list);
    }
    let mut table = Table::new();
    table.set_header([
        "统一社会信用代码",
        "企业名称",
        "邮箱",
        "区县",
        "行业",
        "规模",
        "邮件状态",
    ]);
    for e in &list {
        table.add_row([
            e.uscc.clone(),
            e.name.clone(),
            e.email.clone().unwrap_or_default(),
            e.district.clone(),
            e.industry.clone(),
            e.size.clone(),
            e.mail_status.clone(),
        ]);
    }
    println!("{table}\n共 {} 家企业", list.len());
    Ok(())
}
