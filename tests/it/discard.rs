//! Issue 38, first steps: a campaign can be discarded (作废) — its answers deleted, from the tables
//! and from the database's files, nothing published, its links dead — and its period run again;
//! at most one campaign is under way at a time; viewing a survey writes nothing to the invitation;
//! a rating's id (which the moderation page shows with its comment) says nothing of its response.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use crate::common;
use crate::common::accounts;
use crate::common::count;
use crate::survey_support;

use common::scenario::{complete, open_survey_campaign};
use diesel::prelude::*;
use diesel::sql_types::Text;
use qiping::db::{Conn, DatabaseUrl, invitations::InvitationRow, schema};
use qiping::domain::Period;
use qiping::service::audit as audit_rows;
use qiping::service::campaign::{self, CreateCampaign};
use qiping::service::survey::{self, LinkError, SurveyContext, ViewCounter};
use qiping::service::{Actor, ServiceError, aggregate, response};
use survey_support::{PERIOD, asked_codes};

const MARK: &str = "作废前的独特留言QX7";

fn period() -> Period {
    PERIOD.parse().unwrap()
}

/// Opens the test campaign for `n` enterprises and has the first `answers` of them answer, each
/// with a comment carrying [`MARK`].
fn answered(conn: &mut Conn, n: usize, answers: usize) -> Vec<String> {
    let tokens = open_survey_campaign(conn, n);
    let cache = SurveyContext::new(&crate::common::scenario::secret());
    for token in &tokens[..answers] {
        let mut submission = complete(&asked_codes());
        submission.ratings[0].comment = Some(MARK.to_owned());
        response::submit(conn, &cache, token, &submission).unwrap();
    }
    tokens
}

fn create(conn: &mut Conn, period: &Period) -> Result<(), ServiceError> {
    campaign::create(
        conn,
        &Actor::cli(),
        std::path::Path::new("survey_templates"),
        &CreateCampaign {
            period: *period,
            template_name: "standard",
            opens_on: None,
            closes_on: None,
            sample: None,
            seed: None,
            weighted: false,
        },
    )
    .map(drop)
}

#[test]
fn a_discarded_campaign_loses_its_answers_and_frees_its_period() {
    common::on_each_backend(|db| {
        let tag = db.backend;
        let mut conn = db.conn();
        let tokens = answered(&mut conn, 6, 3);
        let p = period();
        assert_eq!(crate::common::keys::ballots(&mut conn), 3, "{tag}");

        // A reason is required, and the campaign must be open.
        let err = campaign::discard(&mut conn, &Actor::cli(), &p, "  ", None).unwrap_err();
        assert!(matches!(err, ServiceError::Invalid(_)), "{tag}: {err}");
        let report =
            campaign::discard(&mut conn, &Actor::cli(), &p, "选票密钥全部遗失", None).unwrap();
        assert_eq!(report.answers_deleted, 3, "{tag}");
        let again = campaign::discard(&mut conn, &Actor::cli(), &p, "再次", None).unwrap_err();
        assert!(
            matches!(again, ServiceError::Transition(_)),
            "{tag}: {again}"
        );

        // Nothing of its answers is left, and nothing can be computed from it.
        assert_eq!(crate::common::keys::ballots(&mut conn), 0, "{tag}");
        assert_eq!(
            count(&mut conn, "SELECT count(*) AS n FROM ratings"),
            0,
            "{tag}"
        );
        assert_eq!(
            count(&mut conn, "SELECT count(*) AS n FROM responses"),
            0,
            "{tag}"
        );
        let agg = aggregate::aggregate(
            &mut conn,
            &Actor::cli(),
            &p,
            &qiping::stats::Settings::default(),
            false,
            Some(1),
        )
        .unwrap_err();
        assert!(matches!(agg, ServiceError::Conflict(_)), "{tag}: {agg}");

        // Its links answer 「评议已结束」, for a view and a submission alike.
        let cache = SurveyContext::new(&crate::common::scenario::secret());
        assert!(matches!(
            survey::view(&mut conn, &cache, &tokens[4], &[], None),
            Err(LinkError::Closed)
        ));
        assert!(matches!(
            response::submit(&mut conn, &cache, &tokens[5], &complete(&asked_codes())),
            Err(LinkError::Closed)
        ));

        // The audit log says who discarded it and why.
        let rows = audit_rows::list(&mut conn).unwrap();
        let row = rows
            .iter()
            .find(|r| r.action == "campaign.discard")
            .expect("audit row");
        assert_eq!(row.target, format!("campaign:{PERIOD}"));
        assert!(row.detail.contains("选票密钥全部遗失"), "{}", row.detail);
        assert!(
            row.detail.contains("\"answers_deleted\":3"),
            "{}",
            row.detail
        );

        // The office runs the period again: a new campaign, opened, with working links.
        let shown = campaign::show(&mut conn, &p).unwrap();
        assert_eq!(shown.state, "discarded");
        assert_eq!(shown.discard_reason.as_deref(), Some("选票密钥全部遗失"));
        create(&mut conn, &p).unwrap();
        let report = crate::common::keys::open(&mut conn, &p).unwrap();
        assert_eq!(report.invited, 6, "{tag}");
        let shown = campaign::show(&mut conn, &p).unwrap();
        assert_eq!(
            shown.state, "open",
            "{tag}: the period's live campaign is shown"
        );
        assert_eq!(shown.completed, 0, "{tag}");
        let list = campaign::list(&mut conn).unwrap();
        let states: Vec<&str> = list.iter().map(|c| c.state.as_str()).collect();
        assert_eq!(states, ["discarded", "open"], "{tag}");
        // A second live campaign of the period is still refused.
        let dup = create(&mut conn, &p).unwrap_err();
        assert!(matches!(dup, ServiceError::Conflict(_)), "{tag}: {dup}");
        // The old links stay dead: they belong to the discarded campaign.
        assert!(matches!(
            survey::view(&mut conn, &cache, &tokens[4], &[], None),
            Err(LinkError::Closed)
        ));
    });
}

#[test]
fn only_one_campaign_is_under_way_at_a_time() {
    common::on_each_backend(|db| {
        let tag = db.backend;
        let mut conn = db.conn();
        open_survey_campaign(&mut conn, 3);
        let next: Period = "2020H1".parse().unwrap();
        create(&mut conn, &next).unwrap();
        let err = crate::common::keys::open(&mut conn, &next).unwrap_err();
        match &err {
            ServiceError::Conflict(text) => assert!(text.contains(PERIOD), "{tag}: {text}"),
            other => panic!("{tag}: {other}"),
        }
        assert_eq!(campaign::show(&mut conn, &next).unwrap().state, "draft");
        // The database holds the rule too, whatever the code does.
        let id: i64 = schema::campaigns::table
            .filter(schema::campaigns::period.eq("2020H1"))
            .select(schema::campaigns::id)
            .first(&mut conn)
            .unwrap();
        let raw = diesel::sql_query(format!(
            "UPDATE campaigns SET state = 'open' WHERE id = {id}"
        ))
        .execute(&mut conn);
        assert!(raw.is_err(), "{tag}: a second open campaign was stored");
        crate::common::keys::close(&mut conn, &period()).unwrap();
        crate::common::keys::open(&mut conn, &next).unwrap();
    });
}

#[test]
fn a_discarded_campaigns_comments_leave_the_sqlite_files() {
    let db = common::TestDb::sqlite();
    let path = db.url.trim_start_matches("sqlite://").to_owned();
    let mut conn = db.conn();
    answered(&mut conn, 4, 2);
    let files = |path: &str| -> Vec<u8> {
        let mut bytes = std::fs::read(path).unwrap();
        if let Ok(wal) = std::fs::read(format!("{path}-wal")) {
            bytes.extend(wal);
        }
        bytes
    };
    let found = |bytes: &[u8]| {
        bytes
            .windows(MARK.len())
            .filter(|w| *w == MARK.as_bytes())
            .count()
    };
    // Sealed: the comment is not in the files while the campaign is open; the ballots are.
    assert_eq!(found(&files(&path)), 0, "a sealed comment is in the clear");
    let campaign_id = campaign::find(&mut conn, &period()).unwrap().id;
    let sealed: Vec<Vec<u8>> = qiping::db::ballots::of_campaign(&mut conn, campaign_id)
        .unwrap()
        .into_iter()
        .map(|b| b.sealed[40..104].to_vec())
        .collect();
    assert_eq!(sealed.len(), 2);
    let has = |bytes: &[u8], needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    let before = files(&path);
    assert!(
        sealed.iter().all(|s| has(&before, s)),
        "the ballots are stored before"
    );
    // Another connection stays open, as a server's pool would: closing the last connection
    // would make SQLite checkpoint and delete the WAL by itself, and hide a scrub that did not run.
    let _other = db.conn();
    campaign::discard(&mut conn, &Actor::cli(), &period(), "测试作废", None).unwrap();
    let after = files(&path);
    assert!(
        sealed.iter().all(|s| !has(&after, s)),
        "a discarded ballot is still in the database file or its WAL"
    );
}

#[derive(QueryableByName, PartialEq, Debug)]
struct SystemColumns {
    #[diesel(sql_type = Text)]
    xmin: String,
    #[diesel(sql_type = Text)]
    xmax: String,
    #[diesel(sql_type = Text)]
    ctid: String,
}

#[test]
fn viewing_a_survey_writes_nothing_to_the_invitation() {
    common::on_each_backend(|db| {
        let tag = db.backend;
        let mut conn = db.conn();
        let tokens = open_survey_campaign(&mut conn, 3);
        let invitations = |conn: &mut Conn| -> Vec<InvitationRow> {
            schema::invitations::table
                .order(schema::invitations::id)
                .select(InvitationRow::as_select())
                .load(conn)
                .unwrap()
        };
        let system = |conn: &mut Conn| -> Vec<SystemColumns> {
            diesel::sql_query(
                "SELECT xmin::text AS xmin, xmax::text AS xmax, ctid::text AS ctid \
                 FROM invitations ORDER BY id",
            )
            .load(conn)
            .unwrap()
        };
        let before = invitations(&mut conn);
        let before_system = (tag == "postgres").then(|| system(&mut conn));
        let pool = DatabaseUrl::parse(&db.url).unwrap().pool(2).unwrap();
        let views = ViewCounter::start(pool).unwrap();
        let cache = SurveyContext::new(&crate::common::scenario::secret());
        for token in [&tokens[0], &tokens[0], &tokens[1]] {
            survey::view(&mut conn, &cache, token, &[], Some(&views)).unwrap();
        }
        views.flush(&mut conn).unwrap();
        assert_eq!(
            invitations(&mut conn),
            before,
            "{tag}: an invitation row changed"
        );
        if let Some(before_system) = before_system {
            assert_eq!(
                system(&mut conn),
                before_system,
                "{tag}: xmin/xmax/ctid changed"
            );
        }
        let shown = campaign::show(&mut conn, &period()).unwrap();
        assert_eq!(shown.opened, 3, "{tag}: views are counted, not enterprises");
        assert_eq!(shown.views_by_day.len(), 1, "{tag}");
        assert_eq!(shown.views_by_day[0].views, 3, "{tag}");
        // Nothing per invitation exists to count "who viewed".
        let columns: Vec<String> = match &mut conn {
            Conn::Sqlite(_) => {
                diesel::sql_query("SELECT name AS name FROM pragma_table_info('invitations')")
                    .load::<Name>(&mut conn)
                    .unwrap()
                    .into_iter()
                    .map(|n| n.name)
                    .collect()
            }
            Conn::Postgres(_) => diesel::sql_query(
                "SELECT column_name::text AS name FROM information_schema.columns \
                 WHERE table_name = 'invitations'",
            )
            .load::<Name>(&mut conn)
            .unwrap()
            .into_iter()
            .map(|n| n.name)
            .collect(),
        };
        assert!(
            !columns.iter().any(|c| c.contains("opened")),
            "{tag}: {columns:?}"
        );
    });
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[actix_web::test]
async fn the_campaign_page_discards_with_a_reason_and_says_so() {
    let db = common::TestDb::sqlite();
    let mut conn = db.conn();
    answered(&mut conn, 4, 2);
    qiping::service::accounts::add_user(
        &mut conn,
        &Actor::stored("test"),
        "admin",
        qiping::domain::Role::Admin,
        None,
        &qiping::domain::Secret::new(accounts::PASSWORD),
    )
    .unwrap();
    let app = accounts::app(accounts::state(&db, qiping::config::Config::default())).await;
    let admin = accounts::sign_in(&app, "admin").await;
    let page = format!("/admin/campaigns/{PERIOD}");
    let (status, first_page) = accounts::get(&app, &page, Some(&admin.cookie)).await;
    assert_eq!(status, 200);
    assert!(
        first_page.contains("作废本期评议"),
        "the open campaign offers the discard"
    );
    let action = format!("{page}/actions/discard");
    let (status, body) = accounts::post_form(&app, &admin, &action, &[("reason", " ")]).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("请写明作废的原因"), "{body}");
    assert_eq!(campaign::show(&mut conn, &period()).unwrap().state, "open");
    let id = hidden_campaign_id(&first_page);
    let fields = [
        ("reason", "选票密钥<全部>遗失"),
        ("campaign_id", id.as_str()),
        ("confirmed", "1"),
    ];
    // First the confirmation with the number of answers it deletes; nothing changes yet.
    let (status, body) = accounts::post_form(&app, &admin, &action, &fields[..2]).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("请确认") && body.contains("将删除 2 份答卷"),
        "{body}"
    );
    assert!(
        body.contains("选票密钥&#60;全部&#62;遗失"),
        "the reason is posted again, escaped: {body}"
    );
    assert_eq!(campaign::show(&mut conn, &period()).unwrap().state, "open");
    let (status, body) = accounts::post_form(&app, &admin, &action, &fields).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("已删除 2 份答卷"), "{body}");
    let (_, body) = accounts::get(&app, &page, Some(&admin.cookie)).await;
    assert!(body.contains("本期评议已作废"), "{body}");
    assert!(
        body.contains("全部") && body.contains("遗失"),
        "the reason is shown"
    );
    assert!(!body.contains("选票密钥<全部>"), "the reason is escaped");
    assert!(
        !body.contains("actions/discard"),
        "no discard of a discarded campaign"
    );
    // A page left open on the discarded campaign cannot discard the period's next one.
    create(&mut conn, &period()).unwrap();
    crate::common::keys::open(&mut conn, &period()).unwrap();
    let (status, body) = accounts::post_form(
        &app,
        &admin,
        &action,
        &[("reason", "旧页面"), ("campaign_id", id.as_str())],
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("请刷新页面"), "{body}");
    assert_eq!(campaign::show(&mut conn, &period()).unwrap().state, "open");
    let row = audit_rows::list(&mut conn)
        .unwrap()
        .into_iter()
        .find(|r| r.action == "campaign.discard")
        .unwrap();
    assert_eq!(row.actor, "user:admin");
}

#[derive(QueryableByName)]
struct Commented {
    #[diesel(sql_type = Text)]
    comment: String,
}

/// The number of runs of equal labels in a sequence (`aabba` has three).
fn runs(labels: &[String]) -> usize {
    labels.windows(2).filter(|w| w[0] != w[1]).count() + 1
}

#[test]
fn rating_ids_and_rows_do_not_group_one_enterprises_comments() {
    common::on_each_backend(|db| {
        let tag = db.backend;
        let mut conn = db.conn();
        let tokens = open_survey_campaign(&mut conn, 8);
        let cache = SurveyContext::new(&crate::common::scenario::secret());
        for (i, token) in tokens.iter().enumerate() {
            let mut submission = complete(&asked_codes());
            submission.ratings[0].comment = Some(format!("企业{i}的第一条留言"));
            submission.ratings[1].comment = Some(format!("企业{i}的第二条留言"));
            response::submit(&mut conn, &cache, token, &submission).unwrap();
        }
        crate::common::keys::close(&mut conn, &period()).unwrap();
        // Sorted by id, and in the order the rows sit in the table (PostgreSQL: ctid; SQLite's
        // rowid is the id), one enterprise's two comments are not neighbours: the 16 comments
        // come in more than 8 runs (all 8 pairs adjacent by chance: about 1 in 2 million).
        let mut orders = vec!["SELECT comment FROM ratings WHERE comment IS NOT NULL ORDER BY id"];
        if tag == "postgres" {
            orders.push("SELECT comment FROM ratings WHERE comment IS NOT NULL ORDER BY ctid");
        }
        for sql in orders {
            let rows: Vec<Commented> = diesel::sql_query(sql).load(&mut conn).unwrap();
            assert_eq!(rows.len(), 16, "{tag}");
            let labels: Vec<String> = rows
                .iter()
                .map(|r| r.comment.split('的').next().unwrap().to_owned())
                .collect();
            assert!(
                runs(&labels) > 8,
                "{tag}: {sql} groups one enterprise: {labels:?}"
            );
        }
    });
}

fn hidden_campaign_id(page: &str) -> String {
    accounts::hidden_field(page, "campaign_id").expect("the discard form names its campaign")
}

/// PostgreSQL: a submission that read the campaign open and has not committed when the discard
/// starts is waited for and deleted with the rest — never left behind in a discarded campaign.
#[test]
fn a_submission_in_flight_is_not_left_behind_by_a_discard() {
    use diesel::connection::SimpleConnection;
    let Some(db) = common::TestDb::postgres() else {
        return;
    };
    let mut conn = db.conn();
    let tokens = answered(&mut conn, 4, 1);
    let cache = SurveyContext::new(&crate::common::scenario::secret());
    let prepared =
        response::prepare(&mut conn, &cache, &tokens[1], &complete(&asked_codes())).unwrap();
    let Conn::Postgres(pg) = &mut conn else {
        unreachable!()
    };
    pg.batch_execute("BEGIN").unwrap();
    response::store(&mut conn, &prepared).unwrap();
    let url = db.url.clone();
    let discard = std::thread::spawn(move || {
        let mut other = DatabaseUrl::parse(&url).unwrap().connect().unwrap();
        campaign::discard(&mut other, &Actor::cli(), &period(), "并发作废", None).unwrap()
    });
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(
        !discard.is_finished(),
        "the discard waits for the submission that read the campaign open"
    );
    let Conn::Postgres(pg) = &mut conn else {
        unreachable!()
    };
    pg.batch_execute("COMMIT").unwrap();
    let report = discard.join().unwrap();
    assert_eq!(
        report.answers_deleted, 2,
        "the answer in flight is deleted too"
    );
    assert_eq!(crate::common::keys::ballots(&mut conn), 0);
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM ratings"), 0);
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM responses"), 0);
}
