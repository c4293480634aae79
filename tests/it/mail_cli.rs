//! The mail commands as an operator runs them: a sampled campaign, `mail send` writing `.eml`
//! files (no relay configured), `campaign show --json`, `mail bounce`, reissue and remind.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use crate::common;

use std::path::Path;
use std::process::{Command, Output};

use common::TestDb;

fn qiping(dir: &Path, db: &TestDb, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_qiping"))
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env("QIPING_DATABASE_URL", &db.url)
        .env("QIPING_LOG", "warn")
        .args(args)
        .output()
        .expect("run qiping");
    assert!(
        out.status.success(),
        "qiping {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn show(dir: &Path, db: &TestDb) -> serde_json::Value {
    let out = qiping(dir, db, &["campaign", "show", "2019H2", "--json"]);
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_sampled_campaign_is_mailed_to_eml_files_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::sqlite();
    let fixture = format!(
        "{}/tests/fixtures/import/enterprises_good.csv",
        env!("CARGO_MANIFEST_DIR")
    );
    qiping(dir.path(), &db, &["init"]);
    qiping(dir.path(), &db, &["import", "enterprises", &fixture]);
    let created = qiping(
        dir.path(),
        &db,
        &[
            "campaign", "create", "2019H2", "--sample", "3", "--seed", "5",
        ],
    );
    assert!(
        String::from_utf8_lossy(&created.stderr).contains("开始评议时将邀请 3 家企业"),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    // The sample can be listed before opening, as a CSV for Excel.
    qiping(
        dir.path(),
        &db,
        &["campaign", "invitees", "2019H2", "--csv", "invitees.csv"],
    );
    let listed = std::fs::read(dir.path().join("invitees.csv")).unwrap();
    assert!(listed.starts_with(b"\xEF\xBB\xBF"));
    assert_eq!(
        String::from_utf8_lossy(&listed).lines().count(),
        4,
        "a header and 3 rows"
    );
    qiping(
        dir.path(),
        &db,
        &[
            "campaign",
            "open",
            "2019H2",
            "--ballot-key-out",
            "ballot.key",
            "--without-interactions",
            "--yes",
        ],
    );
    let shown = show(dir.path(), &db);
    assert_eq!(shown["sample_seed"], 5);
    let invited = shown["invited"].as_i64().unwrap();
    assert_eq!(invited, 3, "exactly the sample");

    qiping(dir.path(), &db, &["mail", "send"]);
    let files = std::fs::read_dir(dir.path().join("outbox"))
        .unwrap()
        .count();
    assert_eq!(files as i64, invited);
    let shown = show(dir.path(), &db);
    assert_eq!(shown["sent"], invited);
    assert_eq!(shown["response_rate"], 0.0);

    // A bounced address: counted, and no reminder goes to it.
    let email = std::fs::read_dir(dir.path().join("outbox"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .find_map(|raw| {
            let to = raw.lines().find(|l| l.starts_with("To:"))?;
            Some(to[to.find('<')? + 1..to.find('>')?].to_owned())
        })
        .unwrap();
    let bounces = dir.path().join("bounces.txt");
    std::fs::write(&bounces, format!("{email}\n")).unwrap();
    qiping(
        dir.path(),
        &db,
        &["mail", "bounce", bounces.to_str().unwrap()],
    );
    assert_eq!(show(dir.path(), &db)["bounced"], 1);
    let out = qiping(dir.path(), &db, &["campaign", "remind", "2019H2"]);
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    // The minimum gap (3 days by default) holds reminders back right after the invitations.
    assert!(said.contains("0 家"), "{said}");
}
