//! A real `qiping serve` child process on a fresh SQLite database prepared through the CLI, for
//! the browser test (and the same steps the benchmark takes).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::data;
use super::http::{free_port, wait_ready};

/// The command that closes the served campaign with the key file `campaign open` wrote in the
/// installation's folder, confirmed (`--yes`: no terminal asks).
pub const CLOSE: [&str; 6] = [
    "campaign",
    "close",
    super::PERIOD,
    "--ballot-key",
    "ballot.key",
    "--yes",
];

pub const SECRET: &str = "dGVzdC1zZWNyZXQtb2YtdGhpcnR5LXR3by1ieXRlcyE";

/// A served installation in a temporary folder; the server is stopped when this is dropped.
pub struct Served {
    pub dir: tempfile::TempDir,
    pub addr: SocketAddr,
    pub database_url: String,
    child: Child,
    rate_per_minute: u32,
    env: Vec<(String, String)>,
    /// Where `serve` writes its standard error (its log), when not inherited.
    log: Option<PathBuf>,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Served {
    /// CPU seconds (user and system) the server process has used so far, from
    /// `/proc/PID/stat` (Linux).
    pub fn cpu_seconds(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        // The fields after the command name, which is in parentheses and may hold spaces.
        let rest = &stat[stat.rfind(')').unwrap() + 2..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
        let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        // SAFETY: sysconf only reads a constant of the system.
        let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        ticks as f64 / per_second as f64
    }
}

fn qiping(dir: &Path, database_url: &str) -> Command {
    // A benchmark may compare another build of the server in the same run (see benches/submit.rs).
    let binary = std::env::var_os("QIPING_BENCH_SERVE_BIN")
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_qiping").into());
    let mut command = Command::new(binary);
    command
        .current_dir(dir)
        .env("QIPING_DATABASE_URL", database_url)
        .env("QIPING_LINK_SECRET", SECRET)
        .env(
            "QIPING_LOG",
            std::env::var("QIPING_SERVE_LOG").unwrap_or_else(|_| "warn".into()),
        );
    command
}

fn run(dir: &Path, database_url: &str, args: &[&str]) {
    let output = qiping(dir, database_url).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "qiping {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Imports the registry and opens a campaign through the CLI, then serves it, on a fresh SQLite
/// file.
pub fn start(enterprises: usize, asked: usize, rate_per_minute: u32) -> Served {
    start_on(None, enterprises, asked, rate_per_minute)
}

/// The same on `database_url` (an empty database), or a fresh SQLite file when `None`.
pub fn start_on(
    database_url: Option<String>,
    enterprises: usize,
    asked: usize,
    rate_per_minute: u32,
) -> Served {
    start_with(database_url, enterprises, asked, rate_per_minute, &[])
}

/// The same, with extra environment variables for `serve` (settings such as
/// `QIPING_POOL_TIMEOUT_SECONDS`).
pub fn start_with(
    database_url: Option<String>,
    enterprises: usize,
    asked: usize,
    rate_per_minute: u32,
    env: &[(&str, &str)],
) -> Served {
    start_logging(database_url, enterprises, asked, rate_per_minute, env, None)
}

/// The same, with `serve`'s log (its standard error) written to `log` in the installation's
/// folder instead of the test's standard error; with `("QIPING_LOG", "trace")` in `env` it logs
/// everything it can.
pub fn start_logging(
    database_url: Option<String>,
    enterprises: usize,
    asked: usize,
    rate_per_minute: u32,
    env: &[(&str, &str)],
    log: Option<&str>,
) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let path: PathBuf = dir.path().join("qiping.db");
    let database_url = database_url.unwrap_or_else(|| format!("sqlite://{}", path.display()));
    let codes = data::unit_codes(super::DEPARTMENTS, super::OFFICES);
    let files = [
        (
            "units.csv",
            data::units_csv(super::DEPARTMENTS, super::OFFICES),
        ),
        ("enterprises.csv", data::enterprises_csv(enterprises)),
        (
            "interactions.csv",
            data::interactions_csv(enterprises, &codes, asked),
        ),
    ];
    for (name, text) in &files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let d = dir.path();
    run(d, &database_url, &["migrate"]);
    run(d, &database_url, &["import", "units", "units.csv"]);
    run(
        d,
        &database_url,
        &["import", "enterprises", "enterprises.csv"],
    );
    run(
        d,
        &database_url,
        &["import", "interactions", super::PERIOD, "interactions.csv"],
    );
    run(d, &database_url, &["campaign", "create", super::PERIOD]);
    run(
        d,
        &database_url,
        &[
            "campaign",
            "open",
            super::PERIOD,
            "--ballot-key-out",
            "ballot.key",
            "--yes",
        ],
    );
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let log = log.map(|name| d.join(name));
    let (addr, child) = serve(d, &database_url, rate_per_minute, &env, log.as_deref());
    Served {
        dir,
        addr,
        database_url,
        child,
        rate_per_minute,
        env,
        log,
    }
}

/// `qiping serve` on a free loopback port, once it answers `/healthz`.
fn serve(
    dir: &Path,
    database_url: &str,
    rate_per_minute: u32,
    env: &[(String, String)],
    log: Option<&Path>,
) -> (SocketAddr, Child) {
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let mut command = qiping(dir, database_url);
    command
        .env("QIPING_SUBMIT_RATE_PER_MINUTE", rate_per_minute.to_string())
        .envs(env.iter().map(|(k, v)| (k, v)))
        .args(["serve", "--bind", &addr.to_string()])
        .stdout(Stdio::null());
    if let Some(log) = log {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        command.stderr(file);
    }
    let child = command.spawn().unwrap();
    assert!(
        wait_ready(addr, "/healthz", 30),
        "qiping serve did not start"
    );
    (addr, child)
}

/// One more `serve` process of an installation (several processes on one database, as in
/// production); stopped when dropped.
pub struct Extra {
    pub addr: SocketAddr,
    child: Child,
}

impl Drop for Extra {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Served {
    /// Another `serve` process on the same database and folder, on its own port.
    pub fn another(&self) -> Extra {
        let (addr, child) = serve(
            self.dir.path(),
            &self.database_url,
            self.rate_per_minute,
            &self.env,
            self.log.as_deref(),
        );
        Extra { addr, child }
    }

    /// The `serve` process's id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: the process gets no chance to finish anything (and reaps it).
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// A new `serve` process on the same database and folder (on a new port).
    pub fn restart(&mut self) {
        let (addr, child) = serve(
            self.dir.path(),
            &self.database_url,
            self.rate_per_minute,
            &self.env,
            self.log.as_deref(),
        );
        self.addr = addr;
        self.child = child;
    }

    /// A new `serve` process on another database URL (the same file through another path).
    pub fn restart_on(&mut self, database_url: &str) {
        self.database_url = database_url.to_owned();
        self.restart();
    }

    /// The ballot key file `campaign open` wrote in the installation's folder.
    pub fn key_file(&self) -> std::path::PathBuf {
        self.dir.path().join("ballot.key")
    }

    /// Closes the served campaign with the key file `campaign open` wrote ([`CLOSE`]); panics
    /// unless it succeeds.
    pub fn close(&self) {
        self.run(&CLOSE);
    }

    /// Runs a `qiping` command in the installation's folder; panics unless it succeeds.
    pub fn run(&self, args: &[&str]) {
        run(self.dir.path(), &self.database_url, args);
    }

    /// A `qiping` command in the installation's folder with its environment (database, link
    /// secret, log filter), not started: for a test that runs it as a child it can kill, or reads
    /// what it printed whether it succeeds or not.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = qiping(self.dir.path(), &self.database_url);
        command.args(args);
        command
    }

    /// The log `serve` wrote (see [`start_logging`]), as it is now.
    pub fn log(&self) -> Vec<u8> {
        std::fs::read(self.log.as_ref().expect("started with a log file")).unwrap()
    }
}

impl Served {
    /// A connection to the installation's database.
    pub fn conn(&self) -> qiping::db::Conn {
        qiping::db::DatabaseUrl::parse(&self.database_url)
            .unwrap()
            .connect()
            .unwrap()
    }

    /// Every invitation's link, in invitation order.
    pub fn tokens(&self) -> Vec<String> {
        use diesel::prelude::*;
        use qiping::db::schema::invitations;
        let secret = qiping::service::links::LinkSecret::from_config(Some(SECRET)).unwrap();
        invitations::table
            .order(invitations::id)
            .select((invitations::id, invitations::link_version))
            .load::<(i64, i32)>(&mut self.conn())
            .unwrap()
            .into_iter()
            .map(|(id, version)| secret.token(id, version))
            .collect()
    }
}
