//! The command line: one clap enum, one file per subcommand. Exit codes: 0 success, 1 failure (the
//! message on stderr says what and where), 2 usage error (clap's own).

mod campaign;
mod import;
mod init;
mod mail;
mod migrate;
mod registry;
mod serve;

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::db::{Conn, DatabaseUrl};

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
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented qiping.toml with the defaults and a new link secret.
    Init(init::InitArgs),
    /// Apply pending database migrations.
    Migrate,
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
    /// Send queued mail, record bounced addresses.
    #[command(subcommand)]
    Mail(mail::MailCommand),
    /// Serve the web pages and the API.
    Serve(serve::ServeArgs),
}

/// What a subcommand gets: the loaded configuration and a way to the database.
pub struct Context {
    pub config: Config,
}

impl Context {
    /// Opens one connection and applies pending migrations, so every command sees the current schema.
    pub fn connect(&self) -> anyhow::Result<Conn> {
        let url = DatabaseUrl::parse(&self.config.database_url)?;
        let mut conn = url.connect()?;
        crate::db::migrate(&mut conn)?;
        Ok(conn)
    }
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let mut config =
        Config::load(cli.config.as_deref(), |k| std::env::var(k).ok()).context("读取配置失败")?;
    if let Some(url) = cli.database_url {
        config.database_url = url;
    }
    init_logging(&config.log.filter);
    let ctx = Context { config };
    match cli.command {
        Command::Init(args) => init::run(&args),
        Command::Migrate => migrate::run(&ctx),
        Command::Import(cmd) => import::run(&ctx, cmd),
        Command::Units(cmd) => registry::run_units(&ctx, cmd),
        Command::Enterprises(cmd) => registry::run_enterprises(&ctx, cmd),
        Command::Campaign(cmd) => campaign::run(&ctx, cmd),
        Command::Mail(cmd) => mail::run(&ctx, cmd),
        Command::Serve(args) => serve::run(ctx, args),
    }
}

fn init_logging(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Logs go to stderr so that `--json` output on stdout stays clean.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
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
