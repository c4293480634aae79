//! `qiping serve` holds every answer it receives in memory until it is stored: it runs with core
//! dumps off, so a crash leaves no file with answers in it (src/harden.rs).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use crate::survey_support;

#[cfg(target_os = "linux")]
#[test]
fn the_server_runs_without_core_dumps() {
    let served = survey_support::server::start(2, 2, 0);
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", served.pid())).unwrap();
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .expect("core limit line");
    let fields: Vec<&str> = core.split_whitespace().collect();
    // "Max core file size  0  0  bytes": soft and hard limit.
    assert_eq!(&fields[4..6], ["0", "0"], "{core}");
}

/// A server without the link secret cannot tell a used link or seal an answer with its spent key:
/// with a campaign under way it refuses to start, saying what is missing, instead of answering
/// every survey with an error.
#[test]
fn the_server_refuses_to_start_without_the_link_secret_while_a_campaign_is_open() {
    let served = survey_support::server::start(2, 2, 0);
    let port = survey_support::http::free_port();
    let output = served
        .command(&["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env_remove("QIPING_LINK_SECRET")
        .output()
        .unwrap();
    assert!(
        !output.status.success(),
        "serve started without the link secret"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("link_secret") && stderr.contains(survey_support::PERIOD),
        "{stderr}"
    );
}
