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
use qiping::db::schema::{enterprises, invitations, ratings, responses};
use qiping::service::links::token_hash;
use qiping::service::response::{self, SubmitError};
use qiping::service::response_writer::ResponseWriter;
use qiping::service::survey::TemplateCache;
use survey_support::asked_codes;

#[test]
fn a_submission_stores_one_anonymous_response_and_completes_the_invitation() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        let tokens = open_survey_campaign(&mut conn, 2);
        let mut codes = asked_codes();
        codes.push("D03-O2".into()); // a unit the enterprise adds itself
        let cache = TemplateCache::default();
        response::submit(&mut conn, &cache, &tokens[0], &complete(&codes)).unwrap();
        assert_eq!(counts(&mut conn), (1, 5), "{}", db.backend);

        let (size, submitted_on): (String, chrono::NaiveDate) = responses::table
            .select((responses::size, responses::submitted_on))
            .first(&mut conn)
            .unwrap();
        assert_eq!(size, "small", "strata copied from enterprise 1");
        assert_eq!(
            submitted_on,
            qiping::domain::time::local_day(qiping::db::now())
        );
        let self_selected: Vec<bool> = ratings::table
            .order(ratings::unit_id)
            .select(ratings::self_selected)
            .load(&mut conn)
            .unwrap();
        assert_eq!(self_selected.iter().filter(|s| **s).count(), 1);
        let completed: i64 = invitations::table
            .filter(invitations::completed_at.is_not_null())
            .count()
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(completed, 1);
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

const RESPONSE_COLUMNS: &[&str] = &[
    "id",
    "campaign_id",
    "respondent_key",
    "size",
    "industry",
    "district",
    "submitted_on",
];
const RATING_COLUMNS: &[&str] = &[
    "id",
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
    // Issue 37: the campaign (readers take ratings by campaign and unit, never through the
    // response) and the strata weighting reads, the same the response holds.
    "campaign_id",
    "size",
    "industry",
    "district",
];

#[test]
fn no_stored_column_links_the_answers_to_the_enterprise_or_its_link() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        let tokens = open_survey_campaign(&mut conn, 3);
        let cache = TemplateCache::default();
        let mut submission = complete(&asked_codes());
        submission.ratings[0].comment = Some("办事很快".into());
        response::submit(&mut conn, &cache, &tokens[1], &submission).unwrap();

        // The tables have exactly the documented columns (a new column must be reviewed here).
        let mut stored = all_cells(&mut conn, "responses", RESPONSE_COLUMNS);
        stored.extend(all_cells(&mut conn, "ratings", RATING_COLUMNS));
        assert_eq!(
            column_names(&mut conn, "responses"),
            sorted(RESPONSE_COLUMNS)
        );
        assert_eq!(column_names(&mut conn, "ratings"), sorted(RATING_COLUMNS));
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
        for cell in &stored {
            for secret in &secrets {
                assert!(!cell.contains(secret.as_str()), "{cell} leaks {secret}");
            }
        }
        // Ids are neither the enterprise's nor the invitation's, and not sequential.
        let (response_id, key): (i64, String) = responses::table
            .select((responses::id, responses::respondent_key))
            .first(&mut conn)
            .unwrap();
        assert!(
            response_id > 1_000_000,
            "random, not sequential: {response_id}"
        );
        assert_eq!(key.len(), 32, "128-bit respondent key in hex");
        // The invitation records only the day of completion (Beijing midnight), not the moment.
        let completed = qiping::db::invitations::by_id(&mut conn, invitation.id)
            .unwrap()
            .unwrap()
            .completed_at
            .unwrap();
        assert_eq!(
            qiping::domain::time::local(completed)
                .format("%H:%M:%S")
                .to_string(),
            "00:00:00"
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
                    let cache = TemplateCache::default();
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
        let cache = TemplateCache::default();
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
        let cache = TemplateCache::default();
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

/// A submission that fails half-way through being stored (here a trigger refuses the rating of
/// one unit) is undone whole, and the submissions stored in the same group commit are kept: the
/// writer's quick pass gives up and runs the batch again with a savepoint per submission.
#[test]
fn a_submission_failing_half_stored_undoes_only_itself() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        let tokens = open_survey_campaign(&mut conn, 3);
        let cache = TemplateCache::default();
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
        let refuse = match db.backend {
            "sqlite" => format!(
                "CREATE TRIGGER refuse BEFORE INSERT ON ratings \
                 WHEN NEW.unit_id = (SELECT id FROM units WHERE code = '{refused_unit}') \
                 BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;"
            ),
            _ => format!(
                "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN \
                 IF NEW.unit_id = (SELECT id FROM units WHERE code = '{refused_unit}') THEN \
                 RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$ \
                 LANGUAGE plpgsql; \
                 CREATE TRIGGER refuse BEFORE INSERT ON ratings \
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
        let completed: Vec<String> = invitations::table
            .filter(invitations::completed_at.is_not_null())
            .select(invitations::token_hash)
            .load(&mut conn)
            .unwrap();
        assert_eq!(completed.len(), 2, "{}", db.backend);
        assert!(
            !completed.contains(&token_hash(&tokens[1])),
            "{}: the refused submission's link stays usable",
            db.backend
        );
    });
}
