//! The command line: one clap enum, one file per subcommand. Exit codes: 0 success, 1 failure (the
//! message on stderr says what and where), 2 usage error (clap's own).

mod audit;
mod campaign;
mod confirm;
mod demo;
mod import;
mod init;
mod inspect;
mod mail;
mod migrate;
mod problem;
mod purge;
mod registry;
mod results;
mod serve;
mod user;

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::db::{Conn, DatabaseUrl};
use crate::service::Actor;

/// 企评 qiping — 万企评机关: campaigns, anonymous surveys, rankings and accountability flags.
#[derive(Debug, Parser)]
#[command(name = "qiping", version, about)]
pub struct Cli {
    /// Configuration file (default: ./qiping.toml if present).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://… (env QIPING_DATABASE_URL, then DATABASE_URL).
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// Who the audit log names for this command's changes and reads (default: the
    /// operating-system user), recorded as `cli:NAME`.
    #[arg(long, global = true, value_name = "NAME")]
    pub actor: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented qiping.toml with the defaults and a new link secret.
    Init(init::InitArgs),
    /// Apply pending database migrations, then the upgrade step (answers stored the old way
    /// unlinked; a campaign open during the upgrade gets its ballot key).
    Migrate(migrate::MigrateArgs),
    /// Import the registry (units, enterprises) or a period's interactions from CSV.
    #[command(subcommand)]
    Import(import::ImportCommand),
    /// The units registry.
    #[command(subcommand)]
    Units(registry::UnitsCommand),
    /// The enterprises registry.
    #[command(subcommand)]
    Enterprises(registry::EnterprisesCommand),
    /// Half-year campaigns.
    #[command(subcommand)]
    Campaign(campaign::CampaignCommand),
    /// Accountability flags (问责提示) with their evidence and heads, for inspectors (audited).
    Flags {
        /// Only this half-year's publication (default: every published campaign).
        #[arg(long)]
        period: Option<crate::domain::Period>,
        /// Only this peer group (排名组), e.g. 部门.
        #[arg(long, value_name = "GROUP")]
        peer_group: Option<String>,
        /// Only credible flags.
        #[arg(long, conflicts_with = "uncertain")]
        credible: bool,
        /// Only uncertain flags.
        #[arg(long)]
        uncertain: bool,
        #[arg(long)]
        json: bool,
    },
    /// An inspector's look at a unit's or a person's history (audited).
    #[command(subcommand)]
    History(inspect::HistoryCommand),
    /// Send queued mail, record bounced addresses.
    #[command(subcommand)]
    Mail(mail::MailCommand),
    /// Serve the web pages and the API.
    Serve(serve::ServeArgs),
    /// Accounts: admins (营商办), inspectors (纪委监委) and unit viewers.
    #[command(subcommand)]
    User(user::UserCommand),
    /// The audit log: list it, or `audit verify` its hash chain.
    Audit(audit::AuditArgs),
    /// Delete personal data past its retention period (aggregates are kept).
    Purge(purge::PurgeArgs),
    /// The problem list (问题清单): register, assign, deadlines (一次督办, 二次督办), bulletin.
    #[command(subcommand, visible_alias = "problem")]
    Problems(problem::ProblemCommand),
    /// A fictional city through two half-year campaigns (fresh ./qiping-demo.db), then serve it.
    Demo(demo::DemoArgs),
}

/// What a subcommand gets: the loaded configuration, a way to the database, and who the audit
/// log names for what it does.
pub struct Context {
    pub config: Config,
    pub actor: Actor,
}

impl Context {
    /// Opens one connection and applies pending migrations, so every command sees the current
    /// schema; refuses while the upgrade step of `qiping migrate` is pending
    /// ([`crate::service::upgrade`]).
    pub fn connect(&self) -> anyhow::Result<Conn> {
        let url = DatabaseUrl::parse(&self.config.database_url)?;
        let mut conn = url.connect()?;
        crate::db::migrate(&mut conn)?;
        crate::service::upgrade::refuse_if_pending(&mut conn)?;
        Ok(conn)
    }
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let mut config =
        Config::load(cli.config.as_deref(), |k| std::env::var(k).ok()).context("读取配置失败")?;
    // The demo ignores the configured database: only one named explicitly replaces its own.
    let explicit_database_url = cli.database_url.clone();
    if let Some(url) = cli.database_url {
        config.database_url = url;
    }
    // The demo shows its own progress: only warnings, unless QIPING_LOG asks for more.
    let quiet_demo =
        matches!(cli.command, Command::Demo(_)) && std::env::var("QIPING_LOG").is_err();
    init_logging(if quiet_demo {
        "warn"
    } else {
        &config.log.filter
    });
    let database = crate::db::redact_url(&config.database_url);
    let actor = match cli.actor.as_deref() {
        Some(name) => Actor::cli_named(name)?,
        None => Actor::cli(),
    };
    let ctx = Context { config, actor };
    let outcome = match cli.command {
        Command::Init(args) => init::run(&args),
        Command::Migrate(args) => migrate::run(&ctx, &args),
        Command::Import(cmd) => import::run(&ctx, cmd),
        Command::Units(cmd) => registry::run_units(&ctx, cmd),
        Command::Enterprises(cmd) => registry::run_enterprises(&ctx, cmd),
        Command::Campaign(cmd) => campaign::run(&ctx, cmd),
        Command::Flags {
            period,
            peer_group,
            credible,
            uncertain,
            json,
        } => {
            let filter = crate::service::oversight::FlagFilter {
                period,
                peer_group,
                credible: match (credible, uncertain) {
                    (true, _) => Some(true),
                    (_, true) => Some(false),
                    _ => None,
                },
            };
            inspect::flags(&ctx, &filter, json)
        }
        Command::History(cmd) => inspect::history(&ctx, cmd),
        Command::Mail(cmd) => mail::run(&ctx, cmd),
        Command::Serve(args) => serve::run(ctx, args),
        Command::User(cmd) => user::run(&ctx, cmd),
        Command::Audit(args) => audit::run(&ctx, args),
        Command::Purge(args) => purge::run(&ctx, args),
        Command::Problems(cmd) => problem::run(&ctx, cmd),
        Command::Demo(args) => demo::run(args, explicit_database_url, &ctx.actor),
    };
    outcome.map_err(|e| with_storage_reason(e, &database))
}

/// Puts the reason first when a command failed because the database could not be written (a
/// full disk, a read-only file, a lost connection): the operator reads what to fix and where,
/// then the driver's own words. The failed transaction was rolled back whole.
fn with_storage_reason(error: anyhow::Error, database: &str) -> anyhow::Error {
    let reason = error.chain().find_map(|cause| {
        let db_error = cause
            .downcast_ref::<diesel::result::Error>()
            .or_else(
                || match cause.downcast_ref::<crate::service::ServiceError>() {
                    Some(crate::service::ServiceError::Db(e)) => Some(e),
                    _ => None,
                },
            )
            .or_else(|| match cause.downcast_ref::<crate::db::DbError>() {
                Some(crate::db::DbError::Query(e)) => Some(e),
                _ => None,
            })?;
        crate::db::Unavailable::of(db_error)
    });
    match reason {
        Some(reason) => error.context(format!(
            "数据库 {database} 暂时无法使用:{}。出错的事务已整体回滚,排除故障后请重新执行本命令",
            reason.describe()
        )),
        None => error,
    }
}

fn init_logging(filter: &str) {
    // Logs go to stderr so that `--json` output on stdout stays clean; secrets are scrubbed.
    crate::logging::init(filter);
}

/// Prints `value` as pretty JSON on stdout.
fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_cli_definition_is_valid() {
        super::Cli::command().debug_assert();
    }
}
