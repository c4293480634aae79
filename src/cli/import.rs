//! `qiping import units|enterprises|interactions`: all or nothing, every bad row reported.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};

use super::Context;
use crate::domain::Period;
use crate::service::import::{ImportReport, import_enterprises, import_interactions, import_units};

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// code,name,kind,parent_code,peer_group,head_name,head_since[,predecessor_code]
    Units { file: PathBuf },
    /// uscc,name,email,district,industry,size
    Enterprises { file: PathBuf },
    /// uscc,unit_code — which units each enterprise dealt with in PERIOD
    Interactions { period: Period, file: PathBuf },
}

pub fn run(ctx: &Context, command: ImportCommand) -> anyhow::Result<()> {
    let mut conn = ctx.connect()?;
    let (file, what) = match &command {
        ImportCommand::Units { file } => (file, "单位"),
        ImportCommand::Enterprises { file } => (file, "企业"),
        ImportCommand::Interactions { file, .. } => (file, "办事记录"),
    };
    let bytes = read(file)?;
    let bar = progress_bar();
    let mut progress = |done: usize, total: usize| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    };
    let outcome = match &command {
        ImportCommand::Units { .. } => import_units(&mut conn, &ctx.actor, &bytes, &mut progress),
        ImportCommand::Enterprises { .. } => {
            import_enterprises(&mut conn, &ctx.actor, &bytes, &mut progress)
        }
        ImportCommand::Interactions { period, .. } => {
            import_interactions(&mut conn, &ctx.actor, period, &bytes, &mut progress)
        }
    };
    bar.finish_and_clear();
    let report = outcome.with_context(|| format!("{}", file.display()))?;
    print_report(what, file, &report);
    Ok(())
}

fn read(file: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(file).with_context(|| format!("无法读取 {}", file.display()))
}

fn progress_bar() -> ProgressBar {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} 行 ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

fn print_report(what: &str, file: &Path, r: &ImportReport) {
    eprintln!(
        "已导入{what} {}({}): 共 {} 行,新增 {},更新 {},未变 {}{}",
        file.display(),
        r.encoding,
        r.rows,
        r.inserted,
        r.updated,
        r.unchanged,
        if r.head_terms_added > 0 {
            format!(",新任负责人记录 {}", r.head_terms_added)
        } else {
            String::new()
        }
    );
}
