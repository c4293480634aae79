//! A real `qiping serve` child process on a fresh SQLite database prepared through the CLI, for
//! the browser test (and the same steps the benchmark takes).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::data;
use super::http::{free_port, wait_ready};

pub const SECRET: &str = "dGVzdC1zZWNyZXQtb2YtdGhpcnR5LXR3by1ieXRlcyE";

/// A served installation in a temporary folder; the server is stopped when this is dropped.
pub struct Served {
    pub dir: tempfile::TempDir,
    pub addr: SocketAddr,
    pub database_url: String,
    child: Child,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn qiping(dir: &Path, database_url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_qiping"));
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
    run(d, &database_url, &["campaign", "open", super::PERIOD]);
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let child = qiping(d, &database_url)
        .env("QIPING_SUBMIT_RATE_PER_MINUTE", rate_per_minute.to_string())
        .args(["serve", "--bind", &addr.to_string()])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let served = Served {
        dir,
        addr,
        database_url,
        child,
    };
    assert!(
        wait_ready(addr, "/healthz", 30),
        "qiping serve did not start"
    );
    served
}
