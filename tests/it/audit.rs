//! The audit log: rows chain by hash, the table refuses edits, and an edit or deletion made anyway
//! (by someone who can drop the guard) is found by `verify`, naming the first bad row.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use crate::common;
use crate::common::accounts;

use accounts::exec;
use common::{TestDb, on_each_backend};
use diesel::connection::SimpleConnection;
use qiping::db::Conn;
use qiping::service::audit;
use serde_json::json;

fn five_rows(conn: &mut Conn) {
    for i in 1..=5 {
        audit::record(
            conn,
            &qiping::service::Actor::stored("cli:test"),
            "user.add",
            &format!("user:u{i}"),
            json!({"i": i}),
        )
        .unwrap();
    }
}

fn drop_guard(conn: &mut Conn) {
    match conn {
        Conn::Sqlite(_) => exec(
            conn,
            "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;",
        ),
        Conn::Postgres(_) => exec(
            conn,
            "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only",
        ),
    }
}

fn try_exec(conn: &mut Conn, sql: &str) -> bool {
    match conn {
        Conn::Sqlite(c) => c.batch_execute(sql).is_ok(),
        Conn::Postgres(c) => c.batch_execute(sql).is_ok(),
    }
}

#[test]
fn an_untouched_chain_verifies() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        assert_eq!(audit::verify(&mut conn).unwrap(), 0);
        five_rows(&mut conn);
        assert_eq!(audit::verify(&mut conn).unwrap(), 5, "[{}]", db.backend);
        let rows = audit::list(&mut conn).unwrap();
        assert_eq!(rows[0].prev_hash, audit::GENESIS_HASH);
        assert!(rows.windows(2).all(|w| w[1].prev_hash == w[0].hash));
    });
}

#[test]
fn the_table_refuses_updates_and_deletes() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        five_rows(&mut conn);
        assert!(!try_exec(
            &mut conn,
            "UPDATE audit_log SET actor = 'x' WHERE seq = 2"
        ));
        assert!(!try_exec(&mut conn, "DELETE FROM audit_log WHERE seq = 2"));
        assert_eq!(audit::verify(&mut conn).unwrap(), 5);
    });
}

#[test]
fn an_edited_row_breaks_the_chain_at_that_row() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        five_rows(&mut conn);
        drop_guard(&mut conn);
        exec(
            &mut conn,
            "UPDATE audit_log SET target = 'user:someone-else' WHERE seq = 3",
        );
        let err = audit::verify(&mut conn).unwrap_err();
        match err {
            audit::VerifyError::Broken(b) => assert_eq!(b.seq, 3, "[{}] {b}", db.backend),
            other => panic!("{other}"),
        }
    });
}

#[test]
fn an_edited_row_with_a_recomputed_hash_breaks_the_next_link() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        five_rows(&mut conn);
        drop_guard(&mut conn);
        let mut row = audit::list(&mut conn).unwrap().remove(1);
        row.detail = "{\"i\":99}".into();
        let hash = audit::row_hash(&row);
        exec(
            &mut conn,
            &format!("UPDATE audit_log SET detail = '{{\"i\":99}}', hash = '{hash}' WHERE seq = 2"),
        );
        let audit::VerifyError::Broken(b) = audit::verify(&mut conn).unwrap_err() else {
            panic!("db error")
        };
        assert_eq!(b.seq, 3, "[{}] {b}", db.backend);
    });
}

#[test]
fn a_deleted_row_breaks_the_chain_and_is_named() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        five_rows(&mut conn);
        drop_guard(&mut conn);
        exec(&mut conn, "DELETE FROM audit_log WHERE seq = 2");
        let audit::VerifyError::Broken(b) = audit::verify(&mut conn).unwrap_err() else {
            panic!("db error")
        };
        assert_eq!(b.seq, 3, "[{}]", db.backend);
        assert!(b.to_string().contains("缺少第 2"), "{b}");
    });
}

#[test]
fn audit_rows_land_with_the_change_or_not_at_all() {
    let db = TestDb::sqlite();
    let mut conn = db.conn();
    let pw = qiping::domain::Secret::new("long-enough-password");
    // Refused (unknown unit): neither the user nor an audit row.
    let refused = qiping::service::accounts::add_user(
        &mut conn,
        &qiping::service::Actor::stored("cli:test"),
        "v",
        qiping::domain::Role::Unit,
        Some("NOPE"),
        &pw,
    );
    assert!(refused.is_err());
    assert!(audit::list(&mut conn).unwrap().is_empty());
    qiping::service::accounts::add_user(
        &mut conn,
        &qiping::service::Actor::stored("cli:test"),
        "a",
        qiping::domain::Role::Admin,
        None,
        &pw,
    )
    .unwrap();
    let rows = audit::list(&mut conn).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].action.as_str(), rows[0].target.as_str()),
        ("user.add", "user:a")
    );
    assert!(!rows[0].detail.contains("long-enough-password"));
}

#[test]
fn concurrent_writers_keep_one_unbroken_chain() {
    on_each_backend(|db| {
        db.conn();
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let url = db.url.clone();
                std::thread::spawn(move || {
                    let mut conn = qiping::db::DatabaseUrl::parse(&url)
                        .unwrap()
                        .connect()
                        .unwrap();
                    for i in 0..10 {
                        audit::record(
                            &mut conn,
                            &qiping::service::Actor::stored("cli:test"),
                            "t",
                            &format!("{w}:{i}"),
                            json!({}),
                        )
                        .unwrap();
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        assert_eq!(
            audit::verify(&mut db.conn()).unwrap(),
            40,
            "[{}]",
            db.backend
        );
    });
}
