//! The binary as an operator uses it: exit codes, messages on stderr, JSON on stdout.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use crate::common;

use std::path::Path;
use std::process::{Command, Output};

use common::TestDb;

fn qiping(dir: &Path, db: &TestDb, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_qiping"))
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env("QIPING_DATABASE_URL", &db.url)
        .env("QIPING_LOG", "warn")
        .args(args)
        .output()
        .expect("run qiping")
}

fn fixture_path(name: &str) -> String {
    format!(
        "{}/tests/fixtures/import/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn init_writes_a_config_with_a_secret_and_refuses_to_overwrite_it() {
    let dir = tempfile::tempdir().expect("dir");
    let db = TestDb::sqlite();
    let out = qiping(dir.path(), &db, &["init"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(dir.path().join("qiping.toml")).expect("written");
    let config: qiping::config::Config = toml::from_str(&text).expect("parses");
    assert!(config.link_secret.as_deref().is_some_and(|s| s.len() >= 43));
    let again = qiping(dir.path(), &db, &["init"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("--force"));
}

#[test]
fn a_bad_file_exits_1_and_names_file_line_and_column() {
    let dir = tempfile::tempdir().expect("dir");
    let db = TestDb::sqlite();
    let file = fixture_path("enterprises_bad.csv");
    let out = qiping(dir.path(), &db, &["import", "enterprises", &file]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("enterprises_bad.csv"), "{err}");
    assert!(err.contains("第 6 行, 列「uscc」"), "{err}");
    let listed = qiping(dir.path(), &db, &["enterprises", "list", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("json");
    assert_eq!(json.as_array().map(Vec::len), Some(0));
}

#[test]
fn imported_units_list_as_json_with_their_heads() {
    let dir = tempfile::tempdir().expect("dir");
    let db = TestDb::sqlite();
    let out = qiping(
        dir.path(),
        &db,
        &["import", "units", &fixture_path("units_good.csv")],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("新增 11"), "{}", stderr(&out));
    let out = qiping(dir.path(), &db, &["units", "list", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("only JSON on stdout");
    let fgw = json
        .as_array()
        .and_then(|a| a.iter().find(|u| u["code"] == "FGW"))
        .expect("FGW listed");
    assert_eq!(fgw["head"]["name"], "张明远");
    assert_eq!(fgw["kind"], "department");
}

#[test]
fn campaigns_are_created_and_shown_with_the_interface_keys() {
    let dir = tempfile::tempdir().expect("dir");
    let db = TestDb::sqlite();
    let out = qiping(
        dir.path(),
        &db,
        &[
            "campaign",
            "create",
            "2019H2",
            "--opens",
            "2019-11-01",
            "--closes",
            "2019-11-30",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = qiping(dir.path(), &db, &["campaign", "show", "2019H2", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    for key in [
        "period",
        "state",
        "opens",
        "closes",
        "invited",
        "sent",
        "failed",
        "bounced",
        "opened",
        "completed",
        "response_rate",
    ] {
        assert!(json.get(key).is_some(), "missing {key}: {json}");
    }
    assert_eq!(json["state"], "draft");
    assert_eq!(json["closes"], "2019-11-30");

    let dup = qiping(dir.path(), &db, &["campaign", "create", "2019H2"]);
    assert_eq!(dup.status.code(), Some(1));
    assert!(stderr(&dup).contains("已存在"));
    let bad_period = qiping(dir.path(), &db, &["campaign", "show", "2019H3"]);
    assert_eq!(bad_period.status.code(), Some(2), "usage error");
    let missing = qiping(dir.path(), &db, &["campaign", "show", "2020H1"]);
    assert_eq!(missing.status.code(), Some(1));
}

#[test]
fn a_database_url_with_an_unknown_scheme_is_refused_clearly() {
    let dir = tempfile::tempdir().expect("dir");
    let out = Command::new(env!("CARGO_BIN_EXE_qiping"))
        .current_dir(dir.path())
        .args(["--database-url", "mysql://x/y", "units", "list"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("sqlite://"), "{}", stderr(&out));
}

/// An irreversible command without a terminal and without `--yes` says what it would do, in
/// numbers, refuses and changes nothing (issue 43); with `--yes` it goes on.
#[test]
fn an_irreversible_command_without_a_terminal_refuses_unless_yes_is_given() {
    common::on_each_backend(|db| {
        let dir = tempfile::tempdir().expect("dir");
        let run = |args: &[&str]| common::qiping_cli(dir.path(), &db.url, args);
        for args in [
            &["import", "units", &fixture_path("units_good.csv")][..],
            &[
                "import",
                "enterprises",
                &fixture_path("enterprises_good.csv"),
            ][..],
            &[
                "campaign", "create", "2019H2", "--sample", "3", "--seed", "1",
            ][..],
        ] {
            let out = run(args);
            assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        }
        let open = [
            "campaign",
            "open",
            "2019H2",
            "--ballot-key-out",
            "ballot.key",
            "--without-interactions",
        ];
        let refused = run(&open);
        assert!(
            !refused.status.success(),
            "[{}] opened without a yes",
            db.backend
        );
        let said = stderr(&refused);
        assert!(
            said.contains("将生成 3 份邀请")
                && said.contains("--yes")
                && said.contains("未作任何改动"),
            "[{}] {said}",
            db.backend
        );
        assert!(
            !said.contains("   "),
            "[{}] a run of spaces in the message: {said}",
            db.backend
        );
        assert!(
            !dir.path().join("ballot.key").exists(),
            "no key file written"
        );
        let shown = run(&["campaign", "show", "2019H2", "--json"]);
        let shown: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
        assert_eq!(shown["state"], "draft", "[{}] nothing changed", db.backend);
        assert_eq!(shown["invited"], 0);

        let mut with_yes = open.to_vec();
        with_yes.push("--yes");
        let opened = run(&with_yes);
        assert!(
            opened.status.success(),
            "[{}] {}",
            db.backend,
            stderr(&opened)
        );
        let close = ["campaign", "close", "2019H2", "--ballot-key", "ballot.key"];
        let refused = run(&close);
        assert!(!refused.status.success());
        assert!(
            stderr(&refused).contains("现有 0 份密封答卷") && !stderr(&refused).contains("   "),
            "{}",
            stderr(&refused)
        );
        assert!(
            dir.path().join("ballot.key").exists(),
            "the key file is kept"
        );
        let shown = run(&["campaign", "show", "2019H2", "--json"]);
        let shown: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
        assert_eq!(shown["state"], "open", "[{}] still open", db.backend);
    });
}
