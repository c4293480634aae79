//! Recording responses on both backends: anonymity, the one-link-one-response race, and links that
//! are used, expired or unknown.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use crate::common;
use crate::survey_support;

use std::sync::{Arc, Barrier};

use common::on_each_backend;
use common::scenario::{complete, counts, expire, open_survey_campaign};
use diesel::prelude::*;
use diesel::sql_types::Text;
use qiping::db::DatabaseUrl;
use qiping::db::schema::{enterprises, ratings, responses};
use qiping::service::links::token_hash;
use qiping::service::response::{self, SubmitError};
use qiping::service::response_writer::ResponseWriter;
use qiping::service::survey::SurveyContext;
use survey_support::asked_codes;

#[test]
fn a_submission_stores_one_sealed_ballot_and_leaves_the_invitation_untouched() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        let tokens = open_survey_campaign(&mut conn, 2);
        let mut codes = asked_codes();
        codes.push("D03-O2".into()); // a unit the enterprise adds itself
        let cache = SurveyContext::new(&crate::common::scenario::secret());
        let invitation = |conn: &mut qiping::db::Conn| {
            qiping::db::invitations::by_token_hash(conn, &token_hash(&tokens[0]))
                .unwrap()
                .unwrap()
        };
        let before = invitation(&mut conn);
        response::submit(&mut conn, &cache, &tokens[0], &complete(&codes)).unwrap();
        assert_eq!(counts(&mut conn), (1, 5), "{}", db.backend);
        assert_eq!(
            invitation(&mut conn),
            before,
            "{}: the invitation row is not written",
            db.backend
        );
        // Nothing readable is stored while the campaign is open.
        let clear: i64 = ratings::table.count().get_result(&mut conn).unwrap();
        let responses: i64 = responses::table.count().get_result(&mut conn).unwrap();
        assert_eq!((clear, responses), (0, 0), "{}", db.backend);
        let opened = crate::common::keys::peek(&mut conn);
        assert_eq!(
            opened[0].units.iter().filter(|u| u.self_selected).count(),
            1,
            "{}",
            db.backend
        );
        // The link now reads "already answered" — found through the spent key, not the row.
        let again = response::submit(&mut conn, &cache, &tokens[0], &complete(&codes));
        assert!(matches!(again, Err(SubmitError::Used)), "{again:?}");
        assert_eq!(
            qiping::service::campaign::show(&mut conn, &survey_support::PERIOD.parse().unwrap())
                .unwrap()
                .completed,
            1
        );
    });
}

#[derive(QueryableByName)]
struct Cell {
    #[diesel(sql_type = Text)]
    value: String,
}

/// Every value of every column of `table`, as text.
fn all_cells(conn: &mut qiping::db::Conn, table: &str, columns: &[&str]) -> Vec<String> {
    let mut cells = Vec::new();
    for column in columns {
        let sql = format!(
            "SELECT CAST({column} AS TEXT) AS value FROM {table} WHERE {column} IS NOT NULL"
        );
        let rows: Vec<Cell> = diesel::sql_query(sql).load(conn).unwrap();
        cells.extend(rows.into_iter().map(|c| c.value));
    }
    cells
}

fn sorted(columns: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = columns.iter().map(|c| (*c).to_owned()).collect();
    v.sort();
    v
}

/// The column names of a table, sorted, from the backend's own catalogue.
fn column_names(conn: &mut qiping::db::Conn, table: &str) -> Vec<String> {
    let sql = match conn {
        qiping::db::Conn::Sqlite(_) => {
            format!("SELECT name AS value FROM pragma_table_info('{table}')")
        }
        qiping::db::Conn::Postgres(_) => format!(
            "SELECT CAST(column_name AS TEXT) AS value FROM information_schema.columns \
             WHERE table_name = '{table}' AND table_schema = 'public'"
        ),
    };
    let rows: Vec<Cell> = diesel::sql_query(sql).load(conn).unwrap();
    let mut names: Vec<String> = rows.into_iter().map(|c| c.value).collect();
    names.sort();
    names
}

const RATING_COLUMNS: &[&str] = &[
    "id",
    // Only answers stored before sealed ballots have one (issue 38); the close writes none.
    "response_id",
    "unit_id",
    "self_selected",
    "answers",
    "problems",
    "comment",
    "comment_hidden_reason",
    // Moderation (000005): which admin hid the comment and when; never set by a submission,
    // and the time is the moderator's, not the writer's.
    "comment_hidden_at",
    "comment_hidden_by",
    // Issue 39: the comment's review (pending, approved, hidden), set by the 营商办 after the close;
    // every comment starts pending.
    "comment_review",
    // Issue 37: the campaign (readers take ratings by campaign and unit, never through the
    // response).
    "campaign_id",
    // Written empty since issue 39 (the enterprise's strata are never stored)…
    "size",
    "industry",
    "district",
    // …and instead, in a weighted campaign, a weight shared by at least five raters of the unit.
    "weight",
];

/// Every binary column of `table` as hex text.
fn hex_cells(conn: &mut qiping::db::Conn, table: &str, columns: &[&str]) -> Vec<String> {
    let mut cells = Vec::new();
    for column in columns {
        let expr = match conn {
            qiping::db::Conn::Sqlite(_) => format!("lower(hex({column}))"),
            qiping::db::Conn::Postgres(_) => format!("encode({column}, 'hex')"),
        };
        let sql = format!("SELECT {expr} AS value FROM {table}");
        let rows: Vec<Cell> = diesel::sql_query(sql).load(conn).unwrap();
        cells.extend(rows.into_iter().map(|c| c.value));
    }
    cells
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

const BALLOT_COLUMNS: &[&str] = &["spent_key", "campaign_id", "sealed"];

#[test]
fn no_stored_column_links_the_answers_to_the_enterprise_or_its_link() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        let tokens = open_survey_campaign(&mut conn, 6);
        let cache = SurveyContext::new(&crate::common::scenario::secret());
        let unique = "窗口的王师傅办事很快独一无二的留言";
        for (i, token) in tokens.iter().take(5).enumerate() {
            let mut submission = complete(&asked_codes());
            if i == 1 {
                submission.ratings[0].comment = Some(unique.into());
            }
            response::submit(&mut conn, &cache, token, &submission).unwrap();
        }
        let invitation = qiping::db::invitations::by_token_hash(&mut conn, &token_hash(&tokens[1]))
            .unwrap()
            .unwrap();
        let (uscc, email, name): (String, Option<String>, String) = enterprises::table
            .find(invitation.enterprise_id)
            .select((enterprises::uscc, enterprises::email, enterprises::name))
            .first(&mut conn)
            .unwrap();
        let secrets = [
            tokens[1].clone(),
            token_hash(&tokens[1]),
            uscc,
            email.unwrap(),
            name,
        ];

        // While open: a ballot row is its spent key, its campaign and sealed bytes of one length;
        // neither the comment (UTF-8 or UTF-16) nor anything of the enterprise is in it.
        assert_eq!(column_names(&mut conn, "ballots"), sorted(BALLOT_COLUMNS));
        let sealed = hex_cells(&mut conn, "ballots", &["sealed"]);
        assert_eq!(sealed.len(), 5);
        assert!(
            sealed.iter().all(|c| c.len() == sealed[0].len()),
            "one length"
        );
        let utf16: Vec<u8> = unique.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let mut needles: Vec<String> = vec![hex_of(unique.as_bytes()), hex_of(&utf16)];
        needles.extend(secrets.iter().map(|s| hex_of(s.as_bytes())));
        for cell in hex_cells(&mut conn, "ballots", &["spent_key", "sealed"]) {
            for needle in &needles {
                assert!(
                    !cell.contains(needle.as_str()),
                    "{}: a ballot leaks",
                    db.backend
                );
            }
        }

        // After the close: the ratings have exactly the documented columns, none of them names
        // the enterprise, its link or a response, and the comment is there once.
        let period = survey_support::PERIOD.parse().unwrap();
        let report = crate::common::keys::close(&mut conn, &period).unwrap();
        assert_eq!((report.ballots, report.ratings), (5, 20), "{}", db.backend);
        assert_eq!(column_names(&mut conn, "ratings"), sorted(RATING_COLUMNS));
        let stored = all_cells(&mut conn, "ratings", RATING_COLUMNS);
        for cell in &stored {
            for secret in &secrets {
                assert!(!cell.contains(secret.as_str()), "{cell} leaks {secret}");
            }
        }
        assert_eq!(stored.iter().filter(|c| c.contains(unique)).count(), 1);
        let linked: i64 = ratings::table
            .filter(ratings::response_id.is_not_null())
            .count()
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(linked, 0, "{}: no rating belongs to a response", db.backend);
        assert_eq!(
            crate::common::keys::ballots(&mut conn),
            0,
            "opened ballots are deleted"
        );
    });
}

#[test]
fn two_racing_submissions_with_one_link_store_exactly_one_response() {
    on_each_backend(|db| {
        let tokens = open_survey_campaign(&mut db.conn(), 1);
        let url = DatabaseUrl::parse(&db.url).unwrap();
        let threads = 8;
        let barrier = Arc::new(Barrier::new(threads));
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let (url, token, barrier) = (url.clone(), tokens[0].clone(), barrier.clone());
                std::thread::spawn(move || {
                    let mut conn = url.connect().unwrap();
                    let cache = SurveyContext::new(&crate::common::scenario::secret());
                    let submission = complete(&asked_codes());
                    // Every thread has passed the look-up before any stores.
                    let prepared = response::prepare(&mut conn, &cache, &token, &submission);
                    barrier.wait();
                    prepared.and_then(|p| {
                        qiping::db::write_transaction(&mut conn, |c| response::store(c, &p))
                    })
                })
            })
            .collect();
        let outcomes: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let stored = outcomes.iter().filter(|o| o.is_ok()).count();
        let refused = outcomes
            .iter()
            .filter(|o| matches!(o, Err(SubmitError::Used)))
            .count();
        assert_eq!(
            (stored, refused),
            (1, threads - 1),
            "{}: {outcomes:?}",
            db.backend
        );
        assert_eq!(counts(&mut db.conn()).0, 1);
    });
}

#[test]
fn used_expired_and_unknown_links_are_refused_and_store_nothing() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        let tokens = open_survey_campaign(&mut conn, 2);
        let cache = SurveyContext::new(&crate::common::scenario::secret());
        let submission = complete(&asked_codes());
        response::submit(&mut conn, &cache, &tokens[0], &submission).unwrap();
        let again = response::submit(&mut conn, &cache, &tokens[0], &submission);
        assert!(matches!(again, Err(SubmitError::Used)), "{again:?}");
        let unknown = response::submit(&mut conn, &cache, &"A".repeat(43), &submission);
        assert!(matches!(unknown, Err(SubmitError::Unknown)), "{unknown:?}");
        let malformed = response::submit(&mut conn, &cache, "../etc", &submission);
        assert!(matches!(malformed, Err(SubmitError::Unknown)));
        expire(&mut conn);
        let expired = response::submit(&mut conn, &cache, &tokens[1], &submission);
        assert!(matches!(expired, Err(SubmitError::Closed)), "{expired:?}");
        assert_eq!(counts(&mut conn), (1, 4));
    });
}

#[test]
fn an_invalid_submission_stores_nothing_and_leaves_the_link_usable() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        let tokens = open_survey_campaign(&mut conn, 1);
        let cache = SurveyContext::new(&crate::common::scenario::secret());
        let mut submission = complete(&asked_codes());
        submission.ratings[1]
            .answers
            .insert("overall".into(), Some(9));
        let refused = response::submit(&mut conn, &cache, &tokens[0], &submission);
        let Err(SubmitError::Invalid(errors)) = refused else {
            panic!("{refused:?}")
        };
        assert_eq!(errors[0].field, "ratings[1].answers.overall");
        assert_eq!(counts(&mut conn), (0, 0));
        response::submit(&mut conn, &cache, &tokens[0], &complete(&asked_codes())).unwrap();
    });
}

/// A submission that fails while being stored (here a trigger refuses the ballot of one link) is
/// undone whole, and the submissions stored in the same group commit are kept: the
/// writer's quick pass gives up and runs the batch again with a savepoint per submission.
#[test]
fn a_submission_failing_half_stored_undoes_only_itself() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        let tokens = open_survey_campaign(&mut conn, 3);
        let cache = SurveyContext::new(&crate::common::scenario::secret());
        let refused_unit = "D03-O2"; // not asked: only the second enterprise adds it
        let mut with_refused = asked_codes();
        with_refused.push(refused_unit.into());
        let prepared: Vec<_> = tokens
            .iter()
            .enumerate()
            .map(|(i, token)| {
                let codes = if i == 1 {
                    with_refused.clone()
                } else {
                    asked_codes()
                };
                response::prepare(&mut conn, &cache, token, &complete(&codes)).unwrap()
            })
            .collect();
        let second = qiping::db::invitations::by_token_hash(&mut conn, &token_hash(&tokens[1]))
            .unwrap()
            .unwrap();
        let spent = crate::common::scenario::secret()
            .spent_keys()
            .spent_key(second.campaign_id, second.id);
        let spent: String = spent
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let refuse = match db.backend {
            "sqlite" => format!(
                "CREATE TRIGGER refuse BEFORE INSERT ON ballots \
                 WHEN NEW.spent_key = X'{spent}' \
                 BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;"
            ),
            _ => format!(
                "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN \
                 IF NEW.spent_key = '\\x{spent}'::bytea THEN \
                 RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$ \
                 LANGUAGE plpgsql; \
                 CREATE TRIGGER refuse BEFORE INSERT ON ballots \
                 FOR EACH ROW EXECUTE FUNCTION refuse();"
            ),
        };
        diesel::connection::SimpleConnection::batch_execute(&mut conn, &refuse).unwrap();

        let pool = DatabaseUrl::parse(&db.url).unwrap().pool(2).unwrap();
        let writer = ResponseWriter::start(pool).unwrap();
        let outcomes = actix_web::rt::System::new().block_on(async move {
            // Queued together, so that they usually share one batch.
            let tasks: Vec<_> = prepared
                .into_iter()
                .map(|p| {
                    let writer = writer.clone();
                    actix_web::rt::spawn(async move { writer.store(p).await })
                })
                .collect();
            let mut outcomes = Vec::new();
            for task in tasks {
                outcomes.push(task.await.unwrap());
            }
            outcomes
        });
        assert!(outcomes[0].is_ok(), "{}: {outcomes:?}", db.backend);
        assert!(
            matches!(outcomes[1], Err(SubmitError::Db(_))),
            "{}: {outcomes:?}",
            db.backend
        );
        assert!(outcomes[2].is_ok(), "{}: {outcomes:?}", db.backend);
        let asked = asked_codes().len() as i64;
        assert_eq!(counts(&mut conn), (2, 2 * asked), "{}", db.backend);
        let again = response::prepare(&mut conn, &cache, &tokens[1], &complete(&with_refused));
        assert!(
            again.is_ok(),
            "{}: the refused submission's link stays usable: {again:?}",
            db.backend
        );
    });
}

/// A request in flight with a link that is then reissued cannot add a second ballot: the spent key
/// names the invitation, not the link version. The reissued link answers; the one in flight, when
/// it reaches the writer, is refused as used (409), and a reissue of an answered link is refused.
#[test]
fn a_reissued_link_and_a_request_in_flight_store_one_ballot() {
    on_each_backend(|db| {
        let tag = db.backend;
        let mut conn = db.conn();
        let tokens = open_survey_campaign(&mut conn, 2);
        let cache = SurveyContext::new(&crate::common::scenario::secret());
        // Prepared (validated and sealed) with the first link, not yet stored.
        let in_flight =
            response::prepare(&mut conn, &cache, &tokens[0], &complete(&asked_codes())).unwrap();
        let invitation = qiping::db::invitations::by_token_hash(&mut conn, &token_hash(&tokens[0]))
            .unwrap()
            .unwrap();
        let uscc: String = enterprises::table
            .find(invitation.enterprise_id)
            .select(enterprises::uscc)
            .first(&mut conn)
            .unwrap();
        let period = survey_support::PERIOD.parse().unwrap();
        let secret = crate::common::scenario::secret();
        let version = qiping::service::outreach::reissue(
            &mut conn,
            &qiping::service::Actor::cli(),
            &secret,
            &period,
            &uscc,
        )
        .unwrap();
        assert_eq!(version, 2, "{tag}");
        let reissued = secret.token(invitation.id, version);
        response::submit(&mut conn, &cache, &reissued, &complete(&asked_codes())).unwrap();
        let late = qiping::db::write_transaction(&mut conn, |c| response::store(c, &in_flight));
        assert!(matches!(late, Err(SubmitError::Used)), "{tag}: {late:?}");
        let old = response::submit(&mut conn, &cache, &tokens[0], &complete(&asked_codes()));
        assert!(matches!(old, Err(SubmitError::Unknown)), "{tag}: {old:?}");
        assert_eq!(counts(&mut conn).0, 1, "{tag}: one ballot");
        let again = qiping::service::outreach::reissue(
            &mut conn,
            &qiping::service::Actor::cli(),
            &secret,
            &period,
            &uscc,
        );
        assert!(again.is_err(), "{tag}: an answered link is not reissued");
    });
}
