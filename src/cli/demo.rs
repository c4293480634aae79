//! `qiping demo`: a fresh `qiping-demo.db` in the current folder, a fictional city run through two
//! half-year campaigns (`service::demo`) against a server started in this process, then that
//! server keeps serving on 127.0.0.1 and the command prints what to open.

use crate::service::Actor;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Instant;

use anyhow::{Context as _, bail};
use base64::Engine;
use indicatif::{ProgressBar, ProgressStyle};
use rand::RngExt;

use crate::config::Config;
use crate::db::{Conn, DatabaseUrl};
use crate::service::demo::{self, DemoOutcome, DemoSettings, Progress};
use crate::web::AppState;

/// Where the demo keeps its state, in the current folder.
const DEMO_DB: &str = "qiping-demo.db";
const DEMO_CONFIG: &str = "qiping-demo.toml";
const DEMO_OUTBOX: &str = "qiping-demo-outbox";

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Stop after publishing instead of serving.
    #[arg(long)]
    pub no_serve: bool,
    /// Port on 127.0.0.1 for the server (0: any free port).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Enterprises in the fictional city.
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    pub enterprises: usize,
    /// Seed of the city, its answers and the aggregations (the same seed, the same demo).
    #[arg(long, default_value_t = 2019)]
    pub seed: u64,
    /// Enterprises answering at the same time.
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub clients: usize,
}

/// Runs the demo. `database_url` is the global `--database-url` if it was given: an empty database
/// (the tests use an empty PostgreSQL one); otherwise `./qiping-demo.db`, replaced.
pub fn run(args: DemoArgs, database_url: Option<String>, actor: &Actor) -> anyhow::Result<()> {
    let started = Instant::now();
    let listener = TcpListener::bind(("127.0.0.1", args.port)).with_context(|| {
        format!(
            "无法监听 127.0.0.1:{}(端口是否已被占用?可用 --port 换一个端口)",
            args.port
        )
    })?;
    let addr = listener.local_addr()?;
    // Only the demo's own file is replaced; a database named with --database-url must be empty.
    if database_url.is_none() {
        remove_sqlite(Path::new(DEMO_DB))?;
    }
    let url = DatabaseUrl::parse(&database_url.unwrap_or_else(|| format!("sqlite://{DEMO_DB}")))?;
    let config = demo_config(&url, &addr.to_string());
    let pool = url.pool(config.server.pool_size)?;
    // The script's own connection, not a pooled one: its commits need not wait for the disk
    // (a throwaway database), while the server's pooled connections keep durable commits.
    let mut conn = url.connect()?;
    crate::db::migrate(&mut conn)?;
    require_empty(&mut conn)?;
    crate::db::relax_durability(&mut conn)?;
    remove_dir(Path::new(DEMO_OUTBOX))?;
    write_config(&config)?;
    // The demo's server holds answers too, if only simulated ones: the same rule as `serve`.
    crate::harden::no_core_dumps()?;
    let state = AppState::new(pool.clone(), config.clone())?;
    let server = Server::start(state, listener)?;

    let progress = StderrProgress::new(started);
    let outcome = demo::run(
        &mut conn,
        &DemoSettings {
            config: &config,
            enterprises: args.enterprises,
            seed: args.seed,
            server: &format!("http://{addr}"),
            clients: args.clients,
            actor,
        },
        &progress,
    );
    progress.bar.finish_and_clear();
    drop(conn);
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(e) => {
            server.stop();
            return Err(e.into());
        }
    };
    print_outcome(&outcome, &config, started, args.no_serve);
    if args.no_serve {
        server.stop();
        return Ok(());
    }
    eprintln!("正在 http://{addr} 提供服务,按 Ctrl-C 停止。");
    server.wait()
}

/// The demo's settings: a new link secret, its own database, outbox and port, the survey rate
/// limit raised for the simulated enterprises (they all come from 127.0.0.1), mail unthrottled.
fn demo_config(url: &DatabaseUrl, addr: &str) -> Config {
    let secret: [u8; 32] = rand::rng().random();
    let mut config = Config {
        database_url: match url {
            DatabaseUrl::Sqlite(path) => format!("sqlite://{path}"),
            DatabaseUrl::Postgres(url) => url.clone(),
        },
        link_secret: Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)),
        ..Config::default()
    };
    config.server.bind = addr.to_owned();
    config.server.base_url = format!("http://{addr}");
    config.server.submit_rate_per_minute = 1_000_000;
    config.mail.outbox_dir = DEMO_OUTBOX.into();
    config.mail.rate_per_second = 0.0;
    config.log.filter = "warn".into();
    config
}

/// `qiping-demo.toml`, so `qiping --config qiping-demo.toml serve` brings the demo back.
fn write_config(config: &Config) -> anyhow::Result<()> {
    let text = toml::to_string(config).context("无法生成演示配置")?;
    let header = "# qiping demo 生成的配置(演示用,含新生成的链接密钥)。\n\
                  # 再次启动演示站点:qiping --config qiping-demo.toml serve\n\n";
    std::fs::write(DEMO_CONFIG, format!("{header}{text}"))
        .with_context(|| format!("无法写入 {DEMO_CONFIG}"))
}

/// Deletes an SQLite database with its WAL and shared-memory files (a demo always starts fresh).
fn remove_sqlite(path: &Path) -> anyhow::Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let file = PathBuf::from(format!("{}{suffix}", path.display()));
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("无法删除旧的 {}", file.display())),
        }
    }
    Ok(())
}

fn remove_dir(path: &Path) -> anyhow::Result<()> {
    match std::fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("无法删除旧的 {}", path.display())),
    }
}

/// A database given with `--database-url` must be empty: the demo never mixes its fictional city
/// into real data.
fn require_empty(conn: &mut Conn) -> anyhow::Result<()> {
    if !crate::db::units::all(conn)?.is_empty() || crate::db::enterprises::count(conn)? > 0 {
        bail!("演示需要一个空数据库:该数据库已有单位或企业数据");
    }
    Ok(())
}

/// The web server, running on its own thread inside an actix system.
struct Server {
    handle: actix_web::dev::ServerHandle,
    thread: std::thread::JoinHandle<std::io::Result<()>>,
}

impl Server {
    fn start(state: AppState, listener: TcpListener) -> anyhow::Result<Server> {
        let (sender, receiver) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("demo-server".into())
            .spawn(move || {
                actix_web::rt::System::new().block_on(async move {
                    let server = crate::web::start(state, listener)?;
                    let _ = sender.send(server.handle());
                    server.await
                })
            })?;
        match receiver.recv() {
            Ok(handle) => Ok(Server { handle, thread }),
            Err(_) => match thread.join() {
                Ok(Err(e)) => Err(e).context("演示服务器无法启动"),
                _ => bail!("演示服务器无法启动"),
            },
        }
    }

    /// Stops accepting, lets requests in flight finish, and waits for the thread.
    fn stop(self) {
        actix_web::rt::System::new().block_on(self.handle.stop(true));
        let _ = self.thread.join();
    }

    /// Serves until the process is interrupted (Ctrl-C stops the server gracefully).
    fn wait(self) -> anyhow::Result<()> {
        match self.thread.join() {
            Ok(outcome) => outcome.context("演示服务器出错"),
            Err(_) => bail!("演示服务器线程异常退出"),
        }
    }
}

/// Steps as lines on stderr with the time since the start, long steps with a bar.
struct StderrProgress {
    bar: ProgressBar,
    started: Instant,
}

impl StderrProgress {
    fn new(started: Instant) -> Self {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("        {bar:40} {pos}/{len} ({per_sec})")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Self { bar, started }
    }
}

impl Progress for StderrProgress {
    fn step(&self, message: &str) {
        let elapsed = self.started.elapsed().as_secs_f64();
        self.bar
            .suspend(|| eprintln!("[{elapsed:6.1} 秒] {message}"));
        self.bar.reset();
        self.bar.set_length(0);
    }

    fn advance(&self, done: usize, total: usize) {
        self.bar.set_length(total as u64);
        self.bar.set_position(done as u64);
    }
}

fn print_outcome(outcome: &DemoOutcome, config: &Config, started: Instant, no_serve: bool) {
    let base = config.base_url();
    let reports = config.reports_dir.display();
    println!(
        "\n演示数据已就绪,用时 {:.1} 秒:虚构城市 {} 个被评议单位、{} 家企业;\
         数据库 {},配置 {DEMO_CONFIG},邮件 {DEMO_OUTBOX}/",
        started.elapsed().as_secs_f64(),
        outcome.units,
        outcome.enterprises,
        crate::db::redact_url(&config.database_url),
    );
    for c in &outcome.published {
        println!(
            "  {}:邀请 {} 家,作答 {} 家({:.1}%),邮件 {} 封;排名 {} 个单位,\
             有得分未排名 {} 个,样本不足 {} 个;问责提示 {} 个(可信 {},存疑 {});报告 {reports}/{}/",
            c.period,
            c.invited,
            c.answered,
            100.0 * c.answered as f64 / c.invited.max(1) as f64,
            c.mails,
            c.ranked,
            c.unranked,
            c.suppressed,
            c.flags,
            c.credible_flags,
            c.flags - c.credible_flags,
            c.period
        );
    }
    let latest = outcome.published.last().map_or("", |c| c.period.as_str());
    println!("\n请打开:");
    println!("  公开排名      {base}/rankings/{latest}");
    for a in &outcome.accounts {
        println!(
            "  {}登录  {base}/login  用户名 {}  密码 {}",
            if a.role == crate::domain::Role::Admin {
                "管理员  "
            } else {
                "纪检监察"
            },
            a.name,
            a.password.expose()
        );
    }
    println!("  问责提示      {base}/inspect/?period={latest}(以 inspector 登录)");
    println!(
        "  未作答的问卷  {}({} 进行中,可在手机上打开)",
        outcome.survey_link, outcome.open_period
    );
    println!("  通报          {reports}/{latest}/index.html");
    if no_serve {
        println!("\n启动站点:qiping --config {DEMO_CONFIG} serve");
    }
}
