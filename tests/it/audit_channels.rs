//! Every change is audited whoever makes it (issue 36): the same action from the command line and
//! from the dashboard leaves the same row apart from the actor, the command line names the
//! operating-system user even where `USER` is unset (cron, containers), or `--actor`, and the
//! chain verifies over a run of both. Both backends.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use crate::common;
use crate::common::accounts;

use std::path::Path;
use std::process::{Command, Output};

use accounts::{app, post_form, seeded, sign_in, state};
use common::TestDb;
use qiping::config::Config;
use qiping::db::audit::AuditRow;
use qiping::service::audit;

/// The CLI as cron or `docker exec` runs it: no `USER`, `LOGNAME` or `USERNAME`.
fn qiping(dir: &Path, db: &TestDb, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_qiping"))
        .current_dir(dir)
        .env("QIPING_DATABASE_URL", &db.url)
        .env(
            "QIPING_LINK_SECRET",
            "dGVzdC1zZWNyZXQtb2YtdGhpcnR5LXR3by1ieXRlcyE",
        )
        .env("QIPING_LOG", "warn")
        .env_remove("USER")
        .env_remove("LOGNAME")
        .env_remove("USERNAME")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "qiping {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The operating-system user, as `id -un` names it.
fn os_user() -> String {
    let out = Command::new("id").arg("-un").output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn rows_of<'a>(rows: &'a [AuditRow], action: &str) -> Vec<&'a AuditRow> {
    rows.iter().filter(|r| r.action == action).collect()
}

#[test]
fn the_same_action_from_the_cli_and_the_web_leaves_the_same_row_apart_from_the_actor() {
    common::on_each_backend(|db| {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        let mut conn = seeded(db);
        if db.backend == "postgres" {
            // The fixture inserts its campaign with an explicit id; move the sequence past it.
            accounts::exec(
                &mut conn,
                "SELECT setval(pg_get_serial_sequence('campaigns', 'id'), 100)",
            );
        }
        drop(conn);
        let bounces = dir.join("bounces.txt");
        std::fs::write(&bounces, "nobody@example.com\n").unwrap();
        let dates = ["--opens", "2020-01-01", "--closes", "2020-06-30"];
        qiping(
            dir,
            db,
            &[&["campaign", "create", "2020H1"], &dates[..]].concat(),
        );
        qiping(dir, db, &["mail", "bounce", bounces.to_str().unwrap()]);
        actix_web::rt::System::new().block_on(async {
            let app = app(state(db, Config::default())).await;
            let admin = sign_in(&app, "admin").await;
            let fields = [
                ("period", "2020H2"),
                ("opens", "2020-01-01"),
                ("closes", "2020-06-30"),
            ];
            assert_eq!(
                post_form(&app, &admin, "/admin/campaigns", &fields).await.0,
                200
            );
            let fields = [("addresses", "nobody@example.com")];
            assert_eq!(
                post_form(&app, &admin, "/admin/mail/bounce", &fields)
                    .await
                    .0,
                200
            );
        });
        qiping(
            dir,
            db,
            &[
                "--actor",
                "王科长",
                "campaign",
                "open",
                "2020H1",
                "--ballot-key-out",
                "ballot.key",
                "--without-interactions",
                "--yes",
            ],
        );
        qiping(dir, db, &["flags", "--json"]);

        let rows = audit::list(&mut db.conn()).unwrap();
        let cli = format!("cli:{}", os_user());
        assert_ne!(cli, "cli:unknown");
        for action in ["campaign.create", "mail.bounce"] {
            let pair = rows_of(&rows, action);
            assert_eq!(pair.len(), 2, "{}: {action} {pair:?}", db.backend);
            let (from_cli, from_web) = (pair[0], pair[1]);
            assert_eq!(from_cli.actor, cli, "{action}");
            assert_eq!(from_web.actor, "user:admin", "{action}");
            assert_eq!(from_cli.detail, from_web.detail, "{action}");
            assert_eq!(
                from_cli.target.replace("2020H1", "2020H2"),
                from_web.target,
                "{action}"
            );
        }
        let opened = rows_of(&rows, "campaign.open");
        assert_eq!(
            (opened[0].actor.as_str(), opened[0].target.as_str()),
            ("cli:王科长", "campaign:2020H1")
        );
        let read = rows_of(&rows, "inspect.flags");
        assert_eq!(read[0].actor, cli, "a CLI read names the user too");

        let verified = qiping(dir, db, &["audit", "verify"]);
        assert!(
            String::from_utf8_lossy(&verified.stderr).contains("哈希链校验通过"),
            "{}",
            db.backend
        );
    });
}

#[test]
fn an_actor_name_with_a_line_break_is_refused_before_anything_runs() {
    let db = TestDb::sqlite();
    let out = Command::new(env!("CARGO_BIN_EXE_qiping"))
        .env("QIPING_DATABASE_URL", &db.url)
        .args(["--actor", "li\nuser:admin", "campaign", "create", "2020H1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("操作者名称"));
    assert!(audit::list(&mut db.conn()).unwrap().is_empty());
}
