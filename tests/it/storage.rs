//! Storage trouble on SQLite: a full disk (a small tmpfs filled up) and a read-only database
//! (the same folder through a read-only bind mount). Writes fail with an error that says what and
//! where — the CLI names the database and the cause, `serve` answers 503 (retry) — and the
//! database stays whole: `PRAGMA integrity_check` is `ok`, nothing half-written, and once the
//! trouble is gone the same commands succeed. Needs root (mount); prints SKIPPED otherwise.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use crate::survey_support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use diesel::prelude::*;
use qiping::db::schema::enterprises;
use qiping::db::{Conn, DatabaseUrl};
use survey_support::http::Http;
use survey_support::server::{self, SECRET};
use survey_support::{ASKED, asked_codes, data};

/// A mount made by the test, unmounted when dropped.
struct Mount {
    path: PathBuf,
}

impl Mount {
    fn run(args: &[&str]) -> bool {
        Command::new("mount")
            .args(args)
            .output()
            .is_ok_and(|o| o.status.success())
    }

    /// A tmpfs of `size` at `path`, or `None` (with a line saying so) without the right to mount.
    fn tmpfs(path: &Path, size: &str) -> Option<Mount> {
        std::fs::create_dir_all(path).unwrap();
        let options = format!("size={size}");
        if !Self::run(&[
            "-t",
            "tmpfs",
            "-o",
            &options,
            "tmpfs",
            path.to_str().unwrap(),
        ]) {
            eprintln!("SKIPPED: cannot mount a tmpfs here (needs root)");
            return None;
        }
        Some(Mount {
            path: path.to_owned(),
        })
    }

    /// `source` seen read-only at `path`.
    fn read_only_view(source: &Path, path: &Path) -> Option<Mount> {
        std::fs::create_dir_all(path).unwrap();
        let (source, target) = (source.to_str().unwrap(), path.to_str().unwrap());
        if !Self::run(&["--bind", source, target]) {
            eprintln!("SKIPPED: cannot bind-mount here (needs root)");
            return None;
        }
        let mount = Mount {
            path: path.to_owned(),
        };
        assert!(Self::run(&["-o", "remount,bind,ro", target]));
        Some(mount)
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

fn qiping(dir: &Path, database: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_qiping"))
        .current_dir(dir)
        .env("QIPING_LINK_SECRET", SECRET)
        .env("QIPING_LOG", "error")
        .args([
            "--database-url",
            &format!("sqlite://{}", database.display()),
        ])
        .args(args)
        .output()
        .unwrap()
}

fn sqlite(path: &Path) -> Conn {
    DatabaseUrl::parse(&format!("sqlite://{}", path.display()))
        .unwrap()
        .connect()
        .unwrap()
}

fn integrity(conn: &mut Conn) -> Vec<String> {
    #[derive(QueryableByName)]
    struct Line {
        #[diesel(sql_type = diesel::sql_types::Text)]
        integrity_check: String,
    }
    diesel::sql_query("PRAGMA integrity_check")
        .load::<Line>(conn)
        .unwrap()
        .into_iter()
        .map(|l| l.integrity_check)
        .collect()
}

fn count_enterprises(conn: &mut Conn) -> i64 {
    enterprises::table.count().get_result(conn).unwrap()
}

/// Writes zeros to `path` until the disk refuses.
fn fill(path: &Path) {
    let mut file = std::fs::File::create(path).unwrap();
    let chunk = vec![0u8; 16 * 1024];
    while file.write_all(&chunk).is_ok() {}
    let _ = file.sync_all();
}

#[test]
fn a_full_disk_refuses_the_import_clearly_and_keeps_the_database_whole() {
    let work = tempfile::tempdir().unwrap();
    let Some(mount) = Mount::tmpfs(&work.path().join("disk"), "16m") else {
        return;
    };
    let database = mount.path.join("qiping.db");
    let small = work.path().join("small.csv");
    let large = work.path().join("large.csv");
    std::fs::write(&small, data::enterprises_csv(50)).unwrap();
    std::fs::write(&large, data::enterprises_csv(20_000)).unwrap();
    let out = qiping(
        work.path(),
        &database,
        &["import", "enterprises", small.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    fill(&mount.path.join("filler"));
    let out = qiping(
        work.path(),
        &database,
        &["import", "enterprises", large.to_str().unwrap()],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("已满") && stderr.contains(&database.display().to_string()),
        "the error names the cause and the database: {stderr}"
    );
    eprintln!("full disk: {stderr}");

    // Space again (opening a WAL database needs a little): whole, nothing of the refused file,
    // and the same command succeeds.
    std::fs::remove_file(mount.path.join("filler")).unwrap();
    let mut conn = sqlite(&database);
    assert_eq!(integrity(&mut conn), ["ok"]);
    assert_eq!(
        count_enterprises(&mut conn),
        50,
        "nothing of the refused file"
    );
    drop(conn);
    let out = qiping(
        work.path(),
        &database,
        &["import", "enterprises", large.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut conn = sqlite(&database);
    assert_eq!(count_enterprises(&mut conn), 20_000);
    assert_eq!(integrity(&mut conn), ["ok"]);
}

#[test]
fn a_read_only_database_refuses_writes_clearly_and_stays_whole() {
    let work = tempfile::tempdir().unwrap();
    let Some(disk) = Mount::tmpfs(&work.path().join("disk"), "64m") else {
        return;
    };
    let writable = disk.path.join("qiping.db");
    let mut served = server::start_on(
        Some(format!("sqlite://{}", writable.display())),
        10,
        ASKED,
        0,
    );
    let tokens = served.tokens();
    let codes = asked_codes();
    let mut http = Http::connect(served.addr).unwrap();
    let (status, _) = http
        .post_json(
            "/api/v1/responses",
            &data::submission_json(&tokens[0], &codes),
        )
        .unwrap();
    assert_eq!(status, 201);
    served.kill();

    // The same database through a read-only mount.
    let Some(view) = Mount::read_only_view(&disk.path, &work.path().join("ro")) else {
        return;
    };
    let read_only = view.path.join("qiping.db");
    let csv = work.path().join("more.csv");
    std::fs::write(&csv, data::enterprises_csv(20)).unwrap();
    let out = qiping(
        work.path(),
        &read_only,
        &["import", "enterprises", csv.to_str().unwrap()],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("只读") && stderr.contains(&read_only.display().to_string()),
        "the error names the cause and the database: {stderr}"
    );
    eprintln!("read-only: {stderr}");

    // Nothing changed, nothing broken; the writable path takes the same work.
    let mut conn = sqlite(&writable);
    assert_eq!(integrity(&mut conn), ["ok"]);
    assert_eq!(count_enterprises(&mut conn), 10);
    assert_eq!(crate::common::keys::ballots(&mut conn), 1);
    // `serve` on the read-only path: a submission is refused with 503 (retry), not lost.
    served.restart_on(&format!("sqlite://{}", read_only.display()));
    let mut http = Http::connect(served.addr).unwrap();
    let (status, body) = http
        .post_json(
            "/api/v1/responses",
            &data::submission_json(&tokens[1], &codes),
        )
        .unwrap();
    assert_eq!(status, 503, "{}", String::from_utf8_lossy(&body));
    let mut form: Vec<String> = codes.iter().map(|c| format!("unit={c}")).collect();
    for i in 0..codes.len() {
        for q in [
            "attitude",
            "efficiency",
            "policy",
            "lawful",
            "integrity",
            "overall",
        ] {
            form.push(format!("u{i}.{q}=4"));
        }
    }
    form.push("action=submit".into());
    let form = form.join("&");
    let (status, page) = http
        .request(
            "POST",
            &format!("/s/{}", tokens[1]),
            Some("application/x-www-form-urlencoded"),
            form.as_bytes(),
        )
        .unwrap();
    let page = String::from_utf8_lossy(&page);
    assert_eq!(status, 503, "{page}");
    assert!(page.contains("请稍候片刻后刷新页面重试"), "{page}");
    served.kill();

    served.restart_on(&format!("sqlite://{}", writable.display()));
    let mut http = Http::connect(served.addr).unwrap();
    let (status, _) = http
        .post_json(
            "/api/v1/responses",
            &data::submission_json(&tokens[1], &codes),
        )
        .unwrap();
    assert_eq!(status, 201);
}
