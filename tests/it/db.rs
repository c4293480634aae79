//! The schema and the repositories on both backends.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use crate::common;

use chrono::NaiveDate;
use common::{TestDb, on_each_backend, on_each_empty_backend};
use qiping::db::DatabaseUrl;
use qiping::db::campaigns::{self, NewCampaign};
use qiping::db::{migrate, now, write_transaction};

fn new_campaign(period: &str) -> NewCampaign<'_> {
    NewCampaign {
        period,
        state: "draft",
        template_name: "standard",
        template_toml: qiping::service::templates::STANDARD_TOML,
        opens_on: NaiveDate::from_ymd_opt(2019, 11, 1).expect("date"),
        closes_on: NaiveDate::from_ymd_opt(2019, 11, 30).expect("date"),
        sample_size: None,
        sample_seed: Some(-5),
        created_at: now(),
        weighted: Some(false),
    }
}

#[test]
fn migrations_apply_once_and_then_find_nothing_to_do() {
    // From scratch: an empty database, not a copy of the migrated template.
    on_each_empty_backend(|db| {
        let mut conn = DatabaseUrl::parse(&db.url).unwrap().connect().unwrap();
        assert!(!migrate(&mut conn).unwrap().is_empty(), "{}", db.backend);
        assert!(
            migrate(&mut conn).expect("again").is_empty(),
            "{}",
            db.backend
        );
    });
}

#[test]
fn a_campaign_round_trips_with_its_dates_and_seed() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        let id = campaigns::insert(&mut conn, &new_campaign("2019H2")).expect("insert");
        let row = campaigns::by_period(&mut conn, "2019H2")
            .expect("q")
            .expect("row");
        assert_eq!(row.id, id);
        assert_eq!(row.closes_on.to_string(), "2019-11-30");
        assert_eq!(row.sample_seed, Some(-5));
        assert_eq!(row.template_toml, qiping::service::templates::STANDARD_TOML);
        assert_eq!(campaigns::all(&mut conn).expect("all").len(), 1);
        let counts = campaigns::invitation_counts(&mut conn, id).expect("counts");
        assert_eq!(counts, Default::default());
    });
}

#[test]
fn a_failed_transaction_leaves_nothing_behind() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        let outcome: Result<(), diesel::result::Error> = write_transaction(&mut conn, |conn| {
            campaigns::insert(conn, &new_campaign("2019H1"))?;
            // The same period twice violates the unique constraint: the whole transaction goes.
            campaigns::insert(conn, &new_campaign("2019H1"))?;
            Ok(())
        });
        assert!(outcome.is_err(), "{}", db.backend);
        assert!(campaigns::all(&mut conn).expect("all").is_empty());
    });
}

#[test]
fn nested_write_transactions_become_savepoints() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        write_transaction(&mut conn, |conn| {
            campaigns::insert(conn, &new_campaign("2019H1"))?;
            let inner: Result<(), diesel::result::Error> = write_transaction(conn, |conn| {
                campaigns::insert(conn, &new_campaign("2019H2"))?;
                Err(diesel::result::Error::RollbackTransaction)
            });
            assert!(inner.is_err());
            Ok::<_, diesel::result::Error>(())
        })
        .expect("outer commits");
        let periods: Vec<String> = campaigns::all(&mut conn)
            .expect("all")
            .into_iter()
            .map(|c| c.period)
            .collect();
        assert_eq!(periods, ["2019H1"]);
    });
}

#[test]
fn concurrent_sqlite_writers_wait_instead_of_failing_busy() {
    let db = TestDb::sqlite();
    drop(db.conn());
    let periods: Vec<String> = (2000..2016)
        .flat_map(|y| [format!("{y}H1"), format!("{y}H2")])
        .collect();
    std::thread::scope(|s| {
        for chunk in periods.chunks(4) {
            let db = &db;
            s.spawn(move || {
                let mut conn = db.conn();
                for period in chunk {
                    write_transaction(&mut conn, |conn| {
                        // Read first, then write: a deferred transaction would fail here.
                        let _ = campaigns::all(conn)?;
                        campaigns::insert(conn, &new_campaign(period)).map(drop)
                    })
                    .expect("no SQLITE_BUSY");
                }
            });
        }
    });
    let mut conn = db.conn();
    assert_eq!(campaigns::all(&mut conn).expect("all").len(), periods.len());
}
