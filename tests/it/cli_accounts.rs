//! `qiping user`, `qiping audit` and `qiping purge` as an operator runs them.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use crate::common;
use crate::common::accounts;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::TestDb;

fn qiping(dir: &Path, db: &TestDb, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_qiping"))
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env("QIPING_DATABASE_URL", &db.url)
        .env("QIPING_LOG", "debug")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run qiping");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn users_are_managed_from_the_cli_and_every_change_is_audited_and_verifiable() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::sqlite();
    let mut conn = db.conn();
    accounts::seed(&mut conn);
    let secret = "a-very-secret-password";
    let run = |args: &[&str], stdin: &str| qiping(dir.path(), &db, args, stdin);

    let out = run(
        &[
            "user",
            "add",
            "li",
            "--role",
            "unit",
            "--unit",
            "A01",
            "--password-stdin",
        ],
        &format!("{secret}\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(
        &["user", "add", "wang", "--role", "inspector"],
        &format!("{secret}\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(&["user", "add", "x", "--role", "root"], "");
    assert_eq!(out.status.code(), Some(2), "unknown role is a usage error");
    let out = run(
        &["user", "passwd", "wang", "--password-stdin"],
        "another-secret-pw\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(&["user", "token", "wang", "--expires", "7"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let token = text(&out.stdout).trim().to_owned();
    assert!(token.starts_with("qp_") && token.len() > 40, "{token}");
    let out = run(&["user", "disable", "li"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(&["user", "list", "--json"], "");
    let users: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(users[0]["name"], "li");
    assert_eq!(users[0]["disabled"], true);

    let out = run(&["audit", "--json"], "");
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let actions: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "user.add",
            "user.add",
            "user.passwd",
            "token.create",
            "user.disable"
        ]
    );
    let all_output = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(!all_output.contains(secret) && !all_output.contains(&token));

    let out = run(&["audit", "verify"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("共 5 条记录"));

    accounts::exec(
        &mut conn,
        "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET actor = 'cli:nobody' WHERE seq = 4;",
    );
    let out = run(&["audit", "verify"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("第 4 条记录"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn purge_dry_run_counts_and_purge_deletes_and_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::sqlite();
    let mut conn = db.conn();
    accounts::seed(&mut conn);
    accounts::exec(
        &mut conn,
        "INSERT INTO problems (unit_id, channel, reporter_name, reporter_contact, description, state, created_at, updated_at)
           VALUES (1, 'hotline', '张三', '13800000000', '审批慢', 'resolved', '2019-01-01 00:00:00', '2019-02-01 00:00:00');",
    );
    let out = qiping(dir.path(), &db, &["purge", "--dry-run", "--json"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["problem_reporters"], 1);
    assert_eq!(report["dry_run"], true);
    let out = qiping(dir.path(), &db, &["purge"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("问题反映人姓名与联系方式 1 条"),
        "{}",
        text(&out.stdout)
    );
    let out = qiping(dir.path(), &db, &["audit", "--json"], "");
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows[0]["action"], "purge");
}
