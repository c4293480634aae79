//! Personal data: the purge deletes contacts and named reporters past retention and keeps the
//! rest; a stored response cannot be linked back to the enterprise that gave it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use crate::common;
use crate::common::accounts;
use crate::common::count;

use accounts::exec;
use common::{on_each_backend, uscc};
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text};
use qiping::db::Conn;
use qiping::service::purge::purge;

#[derive(QueryableByName, Debug, PartialEq)]
struct Contact {
    #[diesel(sql_type = Text)]
    uscc: String,
    #[diesel(sql_type = Nullable<Text>)]
    email: Option<String>,
}

fn contacts(conn: &mut Conn) -> Vec<Contact> {
    let q = "SELECT uscc, email FROM enterprises ORDER BY uscc";
    qiping::on_backend!(conn, |c| diesel::sql_query(q).load(c)).unwrap()
}

/// Three enterprises: one last invited to a campaign that closed in 2019 (stale), one invited to
/// a campaign that closes next year (in use), one never invited but imported recently (kept).
fn enterprises(conn: &mut Conn) -> [String; 3] {
    let ids = [uscc(1), uscc(2), uscc(3)];
    exec(
        conn,
        &format!(
            "INSERT INTO enterprises (id, uscc, name, email, district, industry, size, created_at, updated_at) VALUES
               (1, '{a}', '旧企业', 'old@example.cn', '鼓楼区', '制造业', 'small', '2019-01-01 00:00:00', '2019-01-01 00:00:00'),
               (2, '{b}', '在评企业', 'busy@example.cn', '鼓楼区', '制造业', 'small', '2019-01-01 00:00:00', '2019-01-01 00:00:00'),
               (3, '{c}', '新企业', 'new@example.cn', '鼓楼区', '制造业', 'small', '2019-01-01 00:00:00', CURRENT_TIMESTAMP);
             INSERT INTO campaigns (id, period, state, template_name, template_toml, opens_on, closes_on, created_at) VALUES
               (2, '2099H1', 'open', 'standard', '', '2099-01-01', '2099-06-30', '2019-10-01 00:00:00');
             INSERT INTO invitations (campaign_id, enterprise_id, token_hash, issued_at) VALUES
               (1, 1, 'h1', '2019-11-01 00:00:00'), (1, 2, 'h2', '2019-11-01 00:00:00'),
               (2, 2, 'h3', '2099-01-01 00:00:00');
             INSERT INTO problems (unit_id, channel, reporter_name, reporter_contact, description, state, created_at, updated_at) VALUES
               (1, 'survey', '张三', '13800000000', '审批慢', 'resolved', '2019-01-01 00:00:00', '2019-02-01 00:00:00'),
               (1, 'survey', '李四', 'li@example.cn', '推绕拖', 'open', '2019-01-01 00:00:00', CURRENT_TIMESTAMP);",
            a = ids[0],
            b = ids[1],
            c = ids[2]
        ),
    );
    ids
}

#[test]
fn purge_deletes_personal_data_past_retention_and_keeps_the_rest() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        accounts::seed(&mut conn);
        let ids = enterprises(&mut conn);
        let dry = purge(
            &mut conn,
            &qiping::service::Actor::stored("cli:test"),
            730,
            true,
        )
        .unwrap();
        assert_eq!(
            (dry.enterprise_contacts, dry.problem_reporters),
            (1, 1),
            "[{}]",
            db.backend
        );
        assert_eq!(
            contacts(&mut conn)
                .iter()
                .filter(|c| c.email.is_some())
                .count(),
            3
        );
        assert!(
            qiping::service::audit::list(&mut conn).unwrap().is_empty(),
            "a dry run is not audited"
        );

        let done = purge(
            &mut conn,
            &qiping::service::Actor::stored("cli:test"),
            730,
            false,
        )
        .unwrap();
        assert_eq!((done.enterprise_contacts, done.problem_reporters), (1, 1));
        let after = contacts(&mut conn);
        assert_eq!(
            after[0],
            Contact {
                uscc: ids[0].clone(),
                email: None
            }
        );
        assert!(after[1].email.is_some() && after[2].email.is_some());
        assert_eq!(
            count(
                &mut conn,
                "SELECT COUNT(*) AS n FROM problems WHERE reporter_name IS NULL AND reporter_contact IS NULL"
            ),
            1
        );
        assert_eq!(
            count(&mut conn, "SELECT COUNT(*) AS n FROM problems"),
            2,
            "problems stay"
        );
        assert_eq!(
            count(&mut conn, "SELECT COUNT(*) AS n FROM enterprises"),
            3,
            "the registry stays"
        );
        assert_eq!(
            count(&mut conn, "SELECT COUNT(*) AS n FROM ratings"),
            8,
            "answers stay"
        );
        let rows = qiping::service::audit::list(&mut conn).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].action, "purge");
        assert!(!rows[0].detail.contains("old@example.cn"));
        assert_eq!(
            qiping::service::purge::purge(
                &mut conn,
                &qiping::service::Actor::stored("cli:test"),
                730,
                true
            )
            .unwrap()
            .enterprise_contacts,
            0
        );
    });
}

#[derive(QueryableByName, Debug)]
struct ColumnName {
    #[diesel(sql_type = Text)]
    name: String,
}

fn columns(conn: &mut Conn, table: &str) -> Vec<String> {
    let rows: Vec<ColumnName> = match conn {
        Conn::Sqlite(c) => diesel::sql_query(format!("SELECT name FROM pragma_table_info('{table}')")).load(c),
        Conn::Postgres(c) => diesel::sql_query(format!(
            "SELECT column_name::text AS name FROM information_schema.columns WHERE table_name = '{table}'"
        ))
        .load(c),
    }
    .unwrap();
    rows.into_iter().map(|r| r.name).collect()
}

#[derive(QueryableByName, Debug)]
struct RowText {
    #[diesel(sql_type = Text)]
    t: String,
}

fn row_texts(conn: &mut Conn, sql: &str) -> Vec<String> {
    let rows: Vec<RowText> = qiping::on_backend!(conn, |c| diesel::sql_query(sql).load(c)).unwrap();
    rows.into_iter().map(|r| r.t).collect()
}

#[test]
fn a_stored_response_cannot_be_linked_to_its_enterprise() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        accounts::seed(&mut conn);
        let ids = enterprises(&mut conn);
        let before = row_texts(
            &mut conn,
            "SELECT token_hash || '|' || status || '|' || link_version || '|' || issued_at AS t FROM invitations WHERE id = 1",
        );
        // What the survey code does on submission: mark the invitation completed and store an
        // anonymous response (random key, strata, the day) with its ratings.
        exec(
            &mut conn,
            "UPDATE invitations SET completed_at = '2019-11-15 10:31:07' WHERE id = 1;",
        );
        accounts::add_response(&mut conn, 100, 2, "办事很快");

        for table in ["responses", "ratings"] {
            for column in columns(&mut conn, table) {
                for forbidden in ["enterprise", "uscc", "email", "token", "invitation", "name"] {
                    assert!(
                        !column.contains(forbidden),
                        "[{}] {table}.{column}",
                        db.backend
                    );
                }
            }
        }
        let stored = row_texts(
            &mut conn,
            "SELECT r.respondent_key || '|' || r.size || '|' || r.industry || '|' || r.district || '|' ||
                    r.submitted_on || '|' || g.answers || '|' || g.problems || '|' || COALESCE(g.comment, '') AS t
               FROM responses r JOIN ratings g ON g.response_id = r.id WHERE r.id = 100",
        );
        for value in [ids[0].as_str(), "old@example.cn", "旧企业", "h1", "10:31"] {
            assert!(
                stored.iter().all(|s| !s.contains(value)),
                "[{}] {value} in {stored:?}",
                db.backend
            );
        }
        // The invitation changed only in its completion time.
        let after = row_texts(
            &mut conn,
            "SELECT token_hash || '|' || status || '|' || link_version || '|' || issued_at AS t FROM invitations WHERE id = 1",
        );
        assert_eq!(before, after);
        // The response holds the day only, not the time that could be joined to completed_at.
        let day = row_texts(
            &mut conn,
            "SELECT CAST(submitted_on AS TEXT) AS t FROM responses WHERE id = 100",
        );
        assert_eq!(day, ["2019-11-15"]);
    });
}
