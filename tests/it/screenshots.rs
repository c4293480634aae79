//! The README's screenshots, taken from a running `qiping demo` with headless Chromium:
//! `cargo test --test it screenshots:: -- --ignored` writes `docs/screenshots/` (or the folder in
//! `QIPING_SCREENSHOT_DIR`): the survey at a phone's width, the inspectors' flags page, the public
//! rankings page, and the demo's department ranking chart.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use crate::survey_support;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use survey_support::http::{free_port, wait_ready};
use survey_support::webdriver::{Browser, available};

/// The value after `label` on the first stdout line containing `marker`.
fn field(lines: &[String], marker: &str, label: &str) -> String {
    let line = lines
        .iter()
        .find(|l| l.contains(marker))
        .unwrap_or_else(|| panic!("no line with {marker}: {lines:?}"));
    let start = line.find(label).expect("label") + label.len();
    line[start..]
        .split_whitespace()
        .next()
        .unwrap()
        .split('(')
        .next()
        .unwrap()
        .to_owned()
}

#[test]
#[ignore = "writes docs/screenshots/ with headless Chromium: cargo test --test it screenshots:: -- --ignored"]
fn the_readme_screenshots() {
    if !available() {
        eprintln!("SKIPPED: chromium not installed");
        return;
    }
    let out: PathBuf = std::env::var("QIPING_SCREENSHOT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots"));
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut demo = Command::new(env!("CARGO_BIN_EXE_qiping"))
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .env_remove("QIPING_DATABASE_URL")
        .args(["demo", "--port", &port.to_string()])
        .args(["--enterprises", "4000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = Vec::new();
    for line in BufReader::new(demo.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        let last = line.contains("通报");
        lines.push(line);
        if last {
            break;
        }
    }
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    assert!(wait_ready(addr, "/healthz", 30), "{lines:?}");
    let base = format!("http://{addr}");
    let survey = field(&lines, "未作答的问卷", "问卷");
    let password = field(&lines, "用户名 inspector", "密码 ");

    let phone = Browser::start(390, 844);
    phone.goto(&survey);
    std::fs::write(out.join("survey-phone.png"), phone.screenshot()).unwrap();

    let desk = Browser::start(1100, 860);
    desk.goto(&format!("{base}/login"));
    desk.type_text("input[name=name]", "inspector");
    desk.type_text("input[name=password]", &password);
    desk.click("button[type=submit]");
    desk.wait_for_url("/inspect/");
    desk.goto(&format!("{base}/inspect/?period=2026H1"));
    std::fs::write(out.join("flags-page.png"), desk.screenshot()).unwrap();
    desk.goto(&format!("{base}/rankings/2026H1"));
    std::fs::write(out.join("rankings-page.png"), desk.screenshot()).unwrap();

    // The 营商办's pages, signed in as the demo's admin: every comment shown comes from a closed
    // campaign (sealed ballots are opened only at the close, issue 38).
    let admin_line = lines
        .iter()
        .find(|l| l.contains("管理员"))
        .expect("the demo prints the admin's sign-in");
    let admin_name = admin_line
        .split("用户名 ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap()
        .to_owned();
    let admin_password = field(&lines, "管理员", "密码 ");
    let open_period = lines
        .iter()
        .find(|l| l.contains("未作答的问卷"))
        .and_then(|l| l.split('(').nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap()
        .to_owned();
    let office = Browser::start(1100, 860);
    let office_phone = Browser::start(390, 844);
    for browser in [&office, &office_phone] {
        browser.goto(&format!("{base}/login"));
        browser.type_text("input[name=name]", &admin_name);
        browser.type_text("input[name=password]", &admin_password);
        browser.click("button[type=submit]");
        browser.wait_for_url("/admin/");
    }
    office.goto(&format!("{base}/admin/campaigns/2026H1"));
    std::fs::write(
        out.join("admin-campaign-published-desktop.png"),
        office.screenshot(),
    )
    .unwrap();
    let unit = office.script(
        "const a = document.querySelector(\"a[href^='/admin/units/']\"); return a ? a.getAttribute('href') : '/admin/units';",
    );
    office.goto(&format!("{base}{}", unit.as_str().unwrap()));
    std::fs::write(out.join("admin-unit-desktop.png"), office.screenshot()).unwrap();
    office_phone.goto(&format!("{base}/admin/campaigns/{open_period}"));
    std::fs::write(
        out.join("admin-campaign-progress-phone.png"),
        office_phone.screenshot(),
    )
    .unwrap();
    office_phone.goto(&format!("{base}/admin/campaigns/2026H1/comments"));
    std::fs::write(
        out.join("admin-comments-phone.png"),
        office_phone.screenshot(),
    )
    .unwrap();

    let _ = demo.kill();
    let _ = demo.wait();
    // The published bulletin (issue 8), a self-contained file, at desktop and phone widths.
    let bulletin = format!(
        "file://{}",
        dir.path().join("reports/2026H1/index.html").display()
    );
    desk.goto(&bulletin);
    std::fs::write(out.join("bulletin-desktop.png"), desk.screenshot()).unwrap();
    phone.goto(&bulletin);
    std::fs::write(out.join("bulletin-phone.png"), phone.screenshot()).unwrap();
    let charts = dir.path().join("reports/2026H1/charts");
    let chart = std::fs::read_dir(&charts)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with("ranking-") && name.ends_with("-1.png")
        })
        .max_by_key(|p| p.to_string_lossy().into_owned())
        .expect("a ranking chart");
    std::fs::copy(chart, out.join("ranking-chart.png")).unwrap();
}
