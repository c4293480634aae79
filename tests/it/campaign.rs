//! Campaign use cases on both backends: create, open.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use crate::common;

use common::on_each_backend;
use common::scenario::{create_campaign, fixture_registry, secret};
use diesel::prelude::*;
use qiping::db::schema::outbox;
use qiping::service::ServiceError;
use qiping::service::campaign;
use qiping::service::links::token_hash;

#[test]
fn opening_invites_every_mailable_enterprise_and_queues_one_message_each() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        fixture_registry(&mut conn);
        create_campaign(&mut conn, "2019H2", None);
        let period = "2019H2".parse().unwrap();
        let report = crate::common::keys::open(&mut conn, &period).unwrap();
        let with_email = qiping::db::enterprises::mailable(&mut conn).unwrap().len();
        assert!(with_email > 0);
        assert_eq!(report.invited, with_email, "{}", db.backend);
        let shown = campaign::show(&mut conn, &period).unwrap();
        assert_eq!(
            (shown.state.as_str(), shown.invited),
            ("open", with_email as i64)
        );
        let queued: i64 = outbox::table
            .filter(outbox::kind.eq("invitation"))
            .count()
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(queued, with_email as i64);

        // Only the hash of each link is stored, and it is the hash of the derived token.
        let row = qiping::service::campaign::find(&mut conn, &period).unwrap();
        for inv in qiping::db::invitations::of_campaign(&mut conn, row.id).unwrap() {
            let token = secret().token(inv.id, inv.link_version);
            assert_eq!(inv.token_hash, token_hash(&token));
            assert_ne!(inv.token_hash, token);
        }

        let again = crate::common::keys::open(&mut conn, &period).unwrap_err();
        assert!(matches!(again, ServiceError::Transition(_)), "{again}");
    });
}
