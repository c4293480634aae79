//! The dispatcher inside `qiping serve`: two servers share one database and one relay; the lease
//! lets one of them send at a time, so every invitation arrives exactly once.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use crate::common;

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::mailing;
use common::on_each_backend;
use common::smtp::SmtpSink;

/// Kills a server when the test ends, also when it fails.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn two_servers_share_the_dispatcher_lease_and_send_each_invitation_once() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        mailing::registry(&mut conn, 12, "2019H2");
        mailing::open(&mut conn, "2019H2", None);
        let sink = SmtpSink::start();
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("qiping.toml");
        std::fs::write(
            &config,
            format!(
                "link_secret = \"dGVzdC1zZWNyZXQtb2YtdGhpcnR5LXR3by1ieXRlcyE\"\n\
                 [server]\nbase_url = \"{}\"\npool_size = 2\n\
                 [mail]\nsmtp_host = \"127.0.0.1\"\nsmtp_port = {}\ntls = \"none\"\n\
                 rate_per_second = 0\npoll_seconds = 1\n",
                mailing::BASE_URL,
                sink.addr.port()
            ),
        )
        .unwrap();
        let serve = || {
            Server(
                Command::new(env!("CARGO_BIN_EXE_qiping"))
                    .current_dir(dir.path())
                    .env_remove("DATABASE_URL")
                    .env("QIPING_LOG", "warn")
                    .args(["--config", config.to_str().unwrap()])
                    .args(["--database-url", &db.url, "serve", "--bind", "127.0.0.1:0"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap(),
            )
        };
        let _a = serve();
        let _b = serve();
        let started = Instant::now();
        while sink.received().len() < 12 && started.elapsed() < Duration::from_secs(30) {
            std::thread::sleep(Duration::from_millis(50));
        }
        // Give a second server time to send a duplicate, if the lease let it.
        std::thread::sleep(Duration::from_millis(2500));
        let mut per_address: HashMap<String, usize> = HashMap::new();
        for message in sink.received() {
            *per_address.entry(message.to[0].clone()).or_default() += 1;
        }
        assert_eq!(per_address.len(), 12, "{}: {per_address:?}", db.backend);
        assert!(per_address.values().all(|&n| n == 1), "{per_address:?}");
        // Only the lease holder talked to the relay (over one pooled connection).
        assert_eq!(sink.connections(), 1);
    });
}
