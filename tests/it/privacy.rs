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

// What a submission stores (a sealed ballot, nothing else) is tested in `survey.rs` and
// `sealed.rs`, as an administrator with the database would try it.
