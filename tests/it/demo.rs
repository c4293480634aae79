//! `qiping demo` as a newcomer runs it — with a smaller city and `--no-serve`, in an empty folder —
//! then checked the way they would look at it: two publications with their reports, flags both
//! credible and uncertain, small units shown without a rank, and the printed survey link of the
//! campaign left open loads once the demo is served again. On SQLite (the default
//! `qiping-demo.db`) and on an empty PostgreSQL database given with `--database-url`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use crate::common;
use crate::survey_support;

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::TestDb;
use serde_json::Value;
use survey_support::http::{Http, free_port, wait_ready};

/// Enough enterprises for departments to be ranked and flagged while many offices stay small.
const ENTERPRISES: &str = "1500";

fn qiping(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_qiping"));
    command
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("QIPING_DATABASE_URL")
        .env_remove("QIPING_LOG");
    command
}

fn run_demo(dir: &Path, database_url: Option<&str>) -> Output {
    let mut command = qiping(dir);
    command.args([
        "demo",
        "--no-serve",
        "--port",
        "0",
        "--enterprises",
        ENTERPRISES,
    ]);
    if let Some(url) = database_url {
        command.args(["--database-url", url]);
    }
    command.output().expect("run qiping demo")
}

fn json_of(dir: &Path, args: &[&str]) -> Value {
    let out = qiping(dir)
        .args(["--config", "qiping-demo.toml"])
        .args(args)
        .output()
        .expect("run qiping");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

fn results(dir: &Path, period: &str) -> Value {
    let path = dir.join("reports").join(period).join("results.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("results.json parses")
}

fn units(results: &Value) -> Vec<&Value> {
    results["peer_groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["units"].as_array().unwrap())
        .collect()
}

/// The token of the survey link the demo printed for the campaign it left open.
fn printed_token(stdout: &str) -> String {
    let line = stdout
        .lines()
        .find(|l| l.contains("未作答的问卷"))
        .unwrap_or_else(|| panic!("no survey link printed:\n{stdout}"));
    let start = line.find("/s/").expect("a /s/ link") + 3;
    line[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

fn check(database_url: Option<&str>, backend: &str) {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let started = std::time::Instant::now();
    let out = run_demo(dir, database_url);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(out.status.success(), "{backend}: demo failed\n{stderr}");
    eprintln!(
        "{backend}: demo took {:.1} s\n{stderr}{stdout}",
        started.elapsed().as_secs_f64()
    );
    assert!(
        stderr.contains("通过 HTTP 作答"),
        "{backend}: progress\n{stderr}"
    );
    if database_url.is_none() {
        assert!(dir.join("qiping-demo.db").exists(), "{backend}");
    }

    // Two publications, the third half-year still open.
    let campaigns = json_of(dir, &["campaign", "list", "--json"]);
    let states: Vec<(&str, &str)> = campaigns
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["period"].as_str().unwrap(), c["state"].as_str().unwrap()))
        .collect();
    assert_eq!(
        states,
        [
            ("2025H2", "published"),
            ("2026H1", "published"),
            ("2026H2", "open")
        ],
        "{backend}"
    );
    for c in &campaigns.as_array().unwrap()[..2] {
        let rate = c["response_rate"].as_f64().unwrap();
        assert!(rate > 0.3 && rate < 0.9, "{backend}: response rate {rate}");
    }

    // The audit log holds a row for every action the demo took from the command line — the
    // enterprises' answers over HTTP are survey submissions, which write nothing that could name
    // them — all by the operating-system user, and the chain verifies.
    let log = json_of(dir, &["audit", "--json"]);
    let rows: Vec<(&str, &str)> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["action"].as_str().unwrap(), r["target"].as_str().unwrap()))
        .collect();
    let mut expected = vec![
        ("import.units", "registry:units".to_owned()),
        ("import.enterprises", "registry:enterprises".to_owned()),
    ];
    for (i, period) in ["2025H2", "2026H1"].iter().enumerate() {
        if i > 0 {
            expected.push(("import.units", "registry:units".to_owned()));
        }
        let target = format!("campaign:{period}");
        for action in ["campaign.create", "import.interactions", "campaign.open"] {
            expected.push((action, target.clone()));
        }
        expected.push(("mail.send", "outbox".to_owned()));
        expected.push(("campaign.remind", target.clone()));
        expected.push(("mail.send", "outbox".to_owned()));
        for action in [
            "campaign.close",
            "campaign.unseal",
            "campaign.aggregate",
            "comment.approve_all",
            "campaign.publish",
        ] {
            expected.push((action, target.clone()));
        }
    }
    for action in ["campaign.create", "import.interactions", "campaign.open"] {
        expected.push((action, "campaign:2026H2".to_owned()));
    }
    expected.push(("user.add", "user:admin".to_owned()));
    expected.push(("user.add", "user:inspector".to_owned()));
    let expected: Vec<(&str, &str)> = expected.iter().map(|(a, t)| (*a, t.as_str())).collect();
    assert_eq!(rows, expected, "{backend}");
    let actors: std::collections::BTreeSet<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["actor"].as_str().unwrap())
        .collect();
    assert_eq!(actors.len(), 1, "{backend}: {actors:?}");
    let actor = actors.into_iter().next().unwrap();
    assert!(
        actor.starts_with("cli:") && actor != "cli:unknown",
        "{backend}: {actor}"
    );
    let verified = qiping(dir)
        .args(["--config", "qiping-demo.toml", "audit", "verify"])
        .output()
        .unwrap();
    assert!(
        verified.status.success(),
        "{backend}: {}",
        String::from_utf8_lossy(&verified.stderr)
    );

    // Both report folders, with the bulletin, the tables and the charts.
    for period in ["2025H2", "2026H1"] {
        let folder = dir.join("reports").join(period);
        for file in ["index.html", "results.json", "results.csv", "results.xlsx"] {
            assert!(folder.join(file).is_file(), "{backend}: {period}/{file}");
        }
        let charts = std::fs::read_dir(folder.join("charts")).unwrap().count();
        assert!(charts >= 4, "{backend}: {period} has {charts} chart files");
    }
    let emails = std::fs::read_dir(dir.join("qiping-demo-outbox"))
        .unwrap()
        .count();
    assert!(emails >= 2 * 1500, "{backend}: {emails} .eml files");

    // The first half-year cannot flag anyone; the second flags credible and uncertain units.
    assert_eq!(
        results(dir, "2025H2")["flags"],
        Value::Array(vec![]),
        "{backend}"
    );
    let latest = results(dir, "2026H1");
    let flags = latest["flags"].as_array().unwrap();
    assert!(
        flags.iter().any(|f| f["credible"] == true),
        "{backend}: no credible flag in {flags:?}"
    );
    assert!(
        flags.iter().any(|f| f["credible"] == false),
        "{backend}: no uncertain flag in {flags:?}"
    );
    let all = units(&latest);
    let ranked = all.iter().filter(|u| u["rank"].is_u64()).count();
    let unranked = all
        .iter()
        .filter(|u| u["score"].is_f64() && u["rank"].is_null())
        .count();
    assert!(ranked >= 30, "{backend}: {ranked} ranked units");
    assert!(
        unranked >= 5,
        "{backend}: {unranked} units with a score but no rank"
    );

    // Inspectors see who headed each flagged unit: the reorganisation changed some heads.
    let inspected = json_of(dir, &["flags", "--period", "2026H1", "--json"]);
    let heads_changed = inspected.as_array().unwrap().iter().any(|f| {
        let names: Vec<String> = f["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["heads"][0]["name"].to_string())
            .collect();
        names.len() == 2 && names[0] != names[1]
    });
    assert!(
        heads_changed,
        "{backend}: no flag names two heads: {inspected}"
    );

    // The printed link of the open campaign loads once the demo is served again.
    let token = printed_token(&stdout);
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let mut server = qiping(dir)
        .args(["--config", "qiping-demo.toml", "serve", "--bind"])
        .arg(addr.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    let ready = wait_ready(addr, "/healthz", 30);
    let page = ready.then(|| {
        Http::connect(addr)
            .unwrap()
            .get(&format!("/s/{token}"))
            .unwrap()
    });
    let _ = server.kill();
    let _ = server.wait();
    let (status, body) = page.expect("the demo's server came up");
    assert_eq!(status, 200, "{backend}: GET /s/{{token}}");
    assert!(
        String::from_utf8_lossy(&body).contains("<form"),
        "{backend}"
    );
}

#[test]
fn the_demo_publishes_two_half_years_with_flags_and_leaves_a_survey_to_answer() {
    if common::backend_enabled("sqlite") {
        check(None, "sqlite");
    }
    if let Some(db) = TestDb::empty_postgres() {
        check(Some(&db.url), "postgres");
    }
}

#[test]
fn the_demo_refuses_a_database_that_already_holds_a_registry() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let db = TestDb::sqlite();
    let units = format!(
        "{}/tests/fixtures/import/units_good.csv",
        env!("CARGO_MANIFEST_DIR")
    );
    let imported = qiping(dir)
        .args(["--database-url", &db.url, "import", "units", &units])
        .output()
        .unwrap();
    assert!(imported.status.success());
    let out = run_demo(dir, Some(&db.url));
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("演示需要一个空数据库"), "{stderr}");
    assert!(!dir.join("qiping-demo.toml").exists());
}
