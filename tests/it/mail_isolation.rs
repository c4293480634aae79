//! Nothing dies quietly (issue 36): a name with a line break is refused at import, and one that
//! got into the database anyway fails its own message while the same running `serve` sends the
//! others and says its dispatcher is alive; a panic while composing one message leaves the
//! dispatcher running; a task restarted after a failed round applies the claim-expiry rule. Mail
//! goes to a real SMTP server on loopback; both backends.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use crate::common;
use crate::survey_support;

use std::cell::Cell;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::mailing::{self, smtp_settings};
use common::smtp::SmtpSink;
use common::{TestDb, on_each_backend, uscc};
use diesel::prelude::*;
use qiping::config::Config;
use qiping::db::schema::{enterprises, invitations, outbox};
use qiping::db::{Conn, DatabaseUrl};
use qiping::mail::Letter;
use qiping::service::mail_task::{self, MailTaskOptions};
use qiping::service::tasks::TaskBoard;
use qiping::service::{Actor, campaign, outreach};
use survey_support::http::{Http, free_port, wait_ready};

const SECRET: &str = "dGVzdC1zZWNyZXQtb2YtdGhpcnR5LXR3by1ieXRlcyE";

fn qiping(dir: &Path, database_url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_qiping"));
    command
        .current_dir(dir)
        .env("QIPING_DATABASE_URL", database_url)
        .env("QIPING_LINK_SECRET", SECRET)
        .env("QIPING_LOG", "warn");
    command
}

fn run(dir: &Path, database_url: &str, args: &[&str]) -> Output {
    qiping(dir, database_url).args(args).output().unwrap()
}

fn ok(dir: &Path, database_url: &str, args: &[&str]) -> String {
    let out = run(dir, database_url, args);
    assert!(
        out.status.success(),
        "qiping {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `n` enterprises, `e{i}@firm{i}.example.com`.
fn enterprises_csv(n: u32) -> String {
    let mut csv = String::from("uscc,name,email,district,industry,size\n");
    for i in 0..n {
        csv.push_str(&format!(
            "{},徐州测试企业{i}有限公司,{},鼓楼区,制造业,small\n",
            uscc(i),
            mailing::email(i)
        ));
    }
    csv
}

fn wait_until(what: &str, seconds: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn delivered_to(sink: &SmtpSink, i: u32) -> usize {
    let address = mailing::email(i);
    sink.received()
        .iter()
        .filter(|m| m.to.iter().any(|t| t.contains(&address)))
        .count()
}

#[test]
fn a_name_with_a_line_break_is_refused_at_import_with_its_line_and_column() {
    on_each_backend(|db| {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("enterprises.csv");
        // Excel writes Alt+Enter inside a cell as a quoted line break.
        let csv = format!(
            "uscc,name,email,district,industry,size\n\
             {},徐州甲有限公司,a@a.example.com,鼓楼区,制造业,small\n\
             {},\"徐州乙\n有限公司\",b@b.example.com,鼓楼区,制造业,small\n\
             {},徐州丙\t有限公司,c@c.example.com,鼓楼区,制造业,small\n",
            uscc(1),
            uscc(2),
            uscc(3)
        );
        std::fs::write(&file, csv).unwrap();
        let out = run(
            dir.path(),
            &db.url,
            &["import", "enterprises", file.to_str().unwrap()],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("enterprises.csv"), "the file: {stderr}");
        assert!(
            stderr.contains("第 3 行, 列「name」") && stderr.contains("换行符(U+000A)"),
            "line and column: {stderr}"
        );
        assert!(
            stderr.contains("第 5 行, 列「name」") && stderr.contains("制表符(U+0009)"),
            "{stderr}"
        );
        let listed = ok(dir.path(), &db.url, &["enterprises", "list", "--json"]);
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&listed).unwrap(),
            serde_json::json!([]),
            "nothing of the file is imported ({})",
            db.backend
        );
    });
}

/// A `qiping serve` child process, killed when dropped.
struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(dir: &Path, database_url: &str, smtp: SocketAddr) -> (Serve, SocketAddr) {
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    std::fs::write(
        dir.join("qiping.toml"),
        format!(
            "[server]\nbind = \"{addr}\"\n\n[mail]\nsmtp_host = \"{}\"\nsmtp_port = {}\n\
             tls = \"none\"\npoll_seconds = 1\nrate_per_second = 0\nbackoff_seconds = 1\n",
            smtp.ip(),
            smtp.port()
        ),
    )
    .unwrap();
    let child = qiping(dir, database_url)
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(wait_ready(addr, "/healthz", 30), "serve answers");
    (Serve(child), addr)
}

#[test]
fn a_line_break_written_into_the_database_fails_that_message_alone_and_serve_sends_the_next_ones() {
    on_each_backend(|db| {
        let sink = SmtpSink::start();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("enterprises.csv");
        std::fs::write(&file, enterprises_csv(5)).unwrap();
        ok(
            dir.path(),
            &db.url,
            &["import", "enterprises", file.to_str().unwrap()],
        );
        // Written straight into the database, past the importer (an old import, a hand edit).
        let mut conn = DatabaseUrl::parse(&db.url).unwrap().connect().unwrap();
        diesel::update(enterprises::table.filter(enterprises::uscc.eq(uscc(2))))
            .set(enterprises::name.eq("徐州测试企业2\n有限公司"))
            .execute(&mut conn)
            .unwrap();
        ok(dir.path(), &db.url, &["campaign", "create", "2019H2"]);
        ok(
            dir.path(),
            &db.url,
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

        let (mut server, addr) = serve(dir.path(), &db.url, sink.addr);
        wait_until("the four good invitations", 60, || {
            sink.received().len() >= 4
        });
        let show = ok(
            dir.path(),
            &db.url,
            &["campaign", "show", "2019H2", "--json"],
        );
        let show: serde_json::Value = serde_json::from_str(&show).unwrap();
        assert_eq!(
            (show["sent"].as_i64(), show["failed"].as_i64()),
            (Some(4), Some(1))
        );
        let failures = show["failures"].as_array().unwrap();
        assert_eq!(failures.len(), 1, "{show}");
        assert_eq!(failures[0]["uscc"], uscc(2).as_str());
        let reason = failures[0]["reason"].as_str().unwrap();
        assert!(reason.contains("换行或控制字符"), "{reason}");
        assert_eq!(delivered_to(&sink, 2), 0);
        let text = ok(dir.path(), &db.url, &["campaign", "show", "2019H2"]);
        assert!(
            text.contains(&uscc(2)) && text.contains("换行或控制字符"),
            "{text}"
        );

        // The same process goes on: a new link for another enterprise goes out, and its
        // dispatcher says it is alive and when it last worked.
        ok(
            dir.path(),
            &db.url,
            &["campaign", "reissue", "2019H2", &uscc(4)],
        );
        wait_until("the reissued invitation", 30, || {
            delivered_to(&sink, 4) == 2
        });
        let (status, body) = Http::connect(addr).unwrap().get("/healthz?deep=1").unwrap();
        let health: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(status, 200, "{health}");
        let task = health["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == "mail-dispatcher")
            .unwrap();
        assert_eq!(task["alive"], true, "{health}");
        assert!(task["last_success_at"].is_string(), "{health}");
        assert_eq!(task["failures"], 0, "{health}");
        assert!(server.0.try_wait().unwrap().is_none(), "serve still runs");
        // Plain /healthz stays the cheap liveness answer.
        let (status, body) = Http::connect(addr).unwrap().get("/healthz").unwrap();
        assert_eq!((status, body.as_slice()), (200, b"ok".as_slice()));
    });
}

fn task_config(db: &TestDb, sink: &SmtpSink) -> Config {
    Config {
        database_url: db.url.clone(),
        link_secret: Some(SECRET.into()),
        mail: qiping::config::MailConfig {
            poll_seconds: 1,
            ..smtp_settings(sink.addr)
        },
        ..Config::default()
    }
}

/// Test hook: composing the letter to enterprise 2 panics.
fn panic_on_enterprise_2(letter: &Letter) {
    if letter.email == mailing::email(2) {
        panic!("injected composition failure");
    }
}

fn failure_of(conn: &mut Conn, i: u32) -> Option<String> {
    invitations::table
        .inner_join(enterprises::table.on(enterprises::id.eq(invitations::enterprise_id)))
        .filter(enterprises::uscc.eq(uscc(i)))
        .select(invitations::failure)
        .first(conn)
        .unwrap()
}

#[test]
fn a_panic_injected_into_one_message_leaves_the_dispatcher_running() {
    on_each_backend(|db| {
        let sink = SmtpSink::start();
        let mut conn = db.conn();
        mailing::registry(&mut conn, 5, "2019H2");
        mailing::open(&mut conn, "2019H2", None);
        let pool = DatabaseUrl::parse(&db.url).unwrap().pool(2).unwrap();
        let board = TaskBoard::default();
        let options = MailTaskOptions {
            before_compose: Some(panic_on_enterprise_2),
            ..MailTaskOptions::default()
        };
        mail_task::spawn(pool, task_config(db, &sink), &board, options).unwrap();

        wait_until("the four other invitations", 30, || {
            sink.received().len() >= 4
        });
        wait_until("the failure recorded", 10, || {
            failure_of(&mut conn, 2).is_some()
        });
        let reason = failure_of(&mut conn, 2).unwrap();
        assert!(reason.contains("injected composition failure"), "{reason}");
        assert_eq!(delivered_to(&sink, 2), 0);
        let summary = campaign::show(&mut conn, &"2019H2".parse().unwrap()).unwrap();
        assert_eq!((summary.sent, summary.failed), (4, 1), "{}", db.backend);

        // Still running: a message queued now goes out from the same thread.
        outreach::reissue(
            &mut conn,
            &Actor::cli(),
            &mailing::secret(),
            &"2019H2".parse().unwrap(),
            &uscc(3),
        )
        .unwrap();
        wait_until("the reissued invitation", 30, || {
            delivered_to(&sink, 3) == 2
        });
        let task = board.snapshot().remove(0);
        assert_eq!(task.name, "mail-dispatcher");
        assert!(task.alive && task.last_success_at.is_some(), "{task:?}");
        assert_eq!(
            task.failures, 0,
            "the message failed, not the task: {task:?}"
        );
    });
}

thread_local! {
    /// Whether this task thread has failed its first round yet.
    static FAILED_ONCE: Cell<bool> = const { Cell::new(false) };
}

/// Test hook: the first round of each task thread panics.
fn fail_first_round() {
    if !FAILED_ONCE.with(|f| f.replace(true)) {
        panic!("injected round failure");
    }
}

#[test]
fn a_restarted_dispatcher_marks_expired_claims_in_doubt_and_sends_the_rest() {
    on_each_backend(|db| {
        let sink = SmtpSink::start();
        let mut conn = db.conn();
        mailing::registry(&mut conn, 4, "2019H2");
        mailing::open(&mut conn, "2019H2", None);
        // What a dispatcher killed mid-group leaves: claims whose lease has run out.
        let stale: Vec<i64> = invitations::table
            .inner_join(enterprises::table.on(enterprises::id.eq(invitations::enterprise_id)))
            .filter(enterprises::uscc.eq_any([uscc(0), uscc(1)]))
            .select(invitations::id)
            .load(&mut conn)
            .unwrap();
        diesel::update(outbox::table.filter(outbox::invitation_id.eq_any(&stale)))
            .set((
                outbox::status.eq("sending"),
                outbox::lease_until.eq(Some(qiping::db::now() - chrono::Duration::minutes(10))),
            ))
            .execute(&mut conn)
            .unwrap();

        let pool = DatabaseUrl::parse(&db.url).unwrap().pool(2).unwrap();
        let board = TaskBoard::default();
        let options = MailTaskOptions {
            before_round: Some(fail_first_round),
            ..MailTaskOptions::default()
        };
        mail_task::spawn(pool, task_config(db, &sink), &board, options).unwrap();

        wait_until("the two queued invitations", 30, || {
            sink.received().len() >= 2
        });
        let task = board.snapshot().remove(0);
        assert_eq!(task.failures, 1, "the first round failed: {task:?}");
        assert!(task.alive, "and the task was restarted: {task:?}");
        for i in [0, 1] {
            let reason = failure_of(&mut conn, i).unwrap_or_default();
            assert!(reason.contains("发送结果未知"), "{i}: {reason}");
            assert_eq!(delivered_to(&sink, i), 0, "never sent twice");
        }
        assert_eq!((delivered_to(&sink, 2), delivered_to(&sink, 3)), (1, 1));
    });
}
