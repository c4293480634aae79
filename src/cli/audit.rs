//! `qiping audit [--json]` lists the audit log; `qiping audit verify` recomputes its hash chain
//! and fails (exit 1) naming the first row that does not fit.

use clap::{Args, Subcommand};
use comfy_table::Table;

use super::{Context, print_json};
use crate::service::audit;

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub command: Option<AuditCommand>,
    /// Only rows whose action starts with this, e.g. `inspect.` for every inspector read.
    #[arg(long, value_name = "PREFIX")]
    pub action: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the hash chain; exit 1 at the first edited or deleted row.
    Verify,
}

pub fn run(ctx: &Context, args: AuditArgs) -> anyhow::Result<()> {
    let mut conn = ctx.connect()?;
    if let Some(AuditCommand::Verify) = args.command {
        let rows = audit::verify(&mut conn)?;
        eprintln!("审计日志完整:共 {rows} 条记录,哈希链校验通过");
        return Ok(());
    }
    let mut rows = audit::list(&mut conn)?;
    if let Some(prefix) = &args.action {
        rows.retain(|r| r.action.starts_with(prefix.as_str()));
    }
    if args.json {
        return print_json(&rows);
    }
    let mut table = Table::new();
    table.set_header(["序号", "时间", "操作者", "操作", "对象", "详情"]);
    for r in &rows {
        table.add_row([
            r.seq.to_string(),
            crate::domain::time::show(r.at),
            r.actor.clone(),
            r.action.clone(),
            r.target.clone(),
            r.detail.clone(),
        ]);
    }
    println!("{table}\n共 {} 条记录", rows.len());
    Ok(())
}
