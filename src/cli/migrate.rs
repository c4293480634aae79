//! `qiping migrate`: apply pending migrations.

use crate::db::{DatabaseUrl, migrate};

use super::Context;

pub fn run(ctx: &Context) -> anyhow::Result<()> {
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
    Ok(())
}
