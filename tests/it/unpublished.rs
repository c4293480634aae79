//! Issue 33: nothing of a campaign reaches unit viewers, inspectors or the public before it is
//! published. Twelve enterprises answer an open campaign through the survey service, six of them
//! with a comment on D01; a viewer of D01 looks at its pages while the campaign is open, after it
//! closed and was aggregated, and after it was published. Inspectors and the public look too.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use crate::common;
use crate::common::accounts;
use crate::survey_support;

use accounts::{PASSWORD, app, get, sign_in, state};
use common::TestDb;
use common::scenario::{complete, open_survey_campaign};
use qiping::config::Config;
use qiping::domain::{Period, Role, Secret};
use qiping::service::Actor;
use qiping::service::response;
use qiping::service::survey::SurveyContext;
use qiping::service::{accounts as account_service, aggregate, publication};
use qiping::stats::Settings;
use survey_support::{PERIOD, asked_codes};

const ENTERPRISES: usize = 12;
/// Every comment carries this, so a page can be searched for any of them.
const MARK: &str = "窗口留言";

fn settings() -> Settings {
    Settings {
        draws: 500,
        ..Settings::default()
    }
}

/// What a viewer, an inspector and the public must not see of the campaign while it is
/// unpublished: its comments, its period, its answer distributions.
fn assert_nothing_of_the_campaign(body: &str, who: &str, stage: &str) {
    assert!(!body.contains(MARK), "{who} sees a comment {stage}: {body}");
    assert!(
        !body.contains(PERIOD),
        "{who} sees {PERIOD} {stage}: {body}"
    );
    assert!(
        !body.contains("家企业评价"),
        "{who} sees a distribution {stage}: {body}"
    );
}

async fn check(db: &TestDb) {
    let tag = db.backend;
    let mut conn = db.conn();
    let tokens = open_survey_campaign(&mut conn, ENTERPRISES);
    for (name, role, unit) in [
        ("admin", Role::Admin, None),
        ("inspector", Role::Inspector, None),
        ("unit_a", Role::Unit, Some("D01")),
    ] {
        account_service::add_user(
            &mut conn,
            &qiping::service::Actor::stored("test"),
            name,
            role,
            unit,
            &Secret::new(PASSWORD),
        )
        .unwrap();
    }
    let cache = SurveyContext::new(&crate::common::scenario::secret());
    for (i, token) in tokens.iter().enumerate() {
        let mut submission = complete(&asked_codes());
        if i < 6 {
            submission.ratings[0].comment = Some(format!("{MARK}{i}"));
        }
        response::submit(&mut conn, &cache, token, &submission).unwrap();
    }
    let reports = tempfile::tempdir().unwrap();
    let config = Config {
        reports_dir: reports.path().to_owned(),
        ..Config::default()
    };
    let app = app(state(db, config)).await;
    let viewer = sign_in(&app, "unit_a").await;
    let inspector = sign_in(&app, "inspector").await;
    let admin = sign_in(&app, "admin").await;
    let period: Period = PERIOD.parse().unwrap();

    let viewer_pages = ["/unit/", "/unit/D01"];
    let inspector_pages = [
        "/inspect/".to_owned(),
        format!("/inspect/?period={PERIOD}"),
        "/inspect/units/D01".to_owned(),
        "/api/v1/units/D01/history".to_owned(),
        format!("/api/v1/flags?period={PERIOD}"),
    ];
    let public_pages = [
        format!("/rankings/{PERIOD}"),
        format!("/api/v1/campaigns/{PERIOD}/results"),
    ];
    for stage in ["while open", "after close and aggregation"] {
        if stage != "while open" {
            crate::common::keys::close(&mut conn, &period).unwrap();
            aggregate::aggregate(
                &mut conn,
                &Actor::cli(),
                &period,
                &settings(),
                false,
                Some(7),
            )
            .unwrap();
        }
        for page in viewer_pages {
            let (status, body) = get(&app, page, Some(&viewer.cookie)).await;
            assert_eq!(status, 200, "[{tag}] {page} {stage}");
            assert_nothing_of_the_campaign(&body, &format!("[{tag}] the viewer on {page}"), stage);
        }
        for page in &inspector_pages {
            let (status, body) = get(&app, page, Some(&inspector.cookie)).await;
            assert!(status == 200 || status == 404, "[{tag}] {page}: {status}");
            if page.starts_with("/api/v1/flags") {
                assert_eq!(body, "[]", "[{tag}] no flag of an unpublished campaign");
                continue;
            }
            assert_nothing_of_the_campaign(
                &body,
                &format!("[{tag}] the inspector on {page}"),
                stage,
            );
        }
        for page in &public_pages {
            let (status, body) = get(&app, page, None).await;
            assert_eq!(status, 404, "[{tag}] the public on {page} {stage}");
            assert!(
                !body.contains(MARK) && !body.contains("D01"),
                "[{tag}] {body}"
            );
        }
        // While open the answers are sealed: nobody, the 营商办 included, reads them.
        let (status, body) = get(&app, "/admin/units/D01", Some(&admin.cookie)).await;
        assert_eq!(status, 200);
        if stage == "while open" {
            assert!(
                !body.contains(MARK),
                "[{tag}] admin while open reads a sealed comment"
            );
            let (_, moderation) = get(
                &app,
                &format!("/admin/campaigns/{PERIOD}/comments"),
                Some(&admin.cookie),
            )
            .await;
            assert!(!moderation.contains(MARK), "[{tag}] moderation while open");
            continue;
        }
        // After the close the 营商办 sees the answers and comments, marked as not yet published.
        assert!(
            body.contains(&format!("{MARK}0")),
            "[{tag}] admin {stage}: {body}"
        );
        assert!(
            body.contains("未公布"),
            "[{tag}] admin page marks it {stage}"
        );
        let (_, moderation) = get(
            &app,
            &format!("/admin/campaigns/{PERIOD}/comments"),
            Some(&admin.cookie),
        )
        .await;
        assert!(moderation.contains(&format!("{MARK}5")) && moderation.contains("未公布"));
    }

    // Published before its comments were reviewed: the office is told how many, and units see
    // none of them until they are approved (issue 39).
    let published =
        publication::publish(&mut conn, &Actor::cli(), &period, None, &settings()).unwrap();
    assert_eq!(published.comments_unreviewed, 6, "[{tag}]");
    for page in viewer_pages {
        let (_, body) = get(&app, page, Some(&viewer.cookie)).await;
        assert!(
            !body.contains(MARK),
            "[{tag}] published unreviewed: {page} shows a comment nobody approved"
        );
    }
    assert_eq!(
        qiping::service::moderation::approve_all(&mut conn, &Actor::cli(), &period).unwrap(),
        6,
        "[{tag}]"
    );
    for page in viewer_pages {
        let (status, body) = get(&app, page, Some(&viewer.cookie)).await;
        assert_eq!(status, 200);
        for i in 0..6 {
            assert!(
                body.contains(&format!("{MARK}{i}")),
                "[{tag}] published: {page} shows every comment: {body}"
            );
        }
        assert!(!body.contains("未公布"), "[{tag}] {page}");
    }
    let (_, page) = get(&app, "/unit/D01", Some(&viewer.cookie)).await;
    assert!(
        page.contains(&format!("{PERIOD}({ENTERPRISES} 家企业评价)")),
        "[{tag}] the distribution after publication: {page}"
    );
    let (_, history) = get(&app, "/api/v1/units/D01/history", Some(&inspector.cookie)).await;
    let history: serde_json::Value = serde_json::from_str(&history).unwrap();
    assert_eq!(history["campaigns"][0]["period"], PERIOD, "[{tag}]");
    assert_eq!(history["campaigns"][0]["n"], ENTERPRISES, "[{tag}]");
    let (status, _) = get(&app, &format!("/rankings/{PERIOD}"), None).await;
    assert_eq!(
        status, 200,
        "[{tag}] the public reads the published rankings"
    );
    let (_, admin_page) = get(&app, "/admin/units/D01", Some(&admin.cookie)).await;
    assert!(!admin_page.contains("未公布"), "[{tag}] published: no mark");
}

#[actix_web::test]
async fn nothing_of_a_campaign_is_visible_to_units_inspectors_or_the_public_before_publication() {
    for db in common::each_backend() {
        check(&db).await;
    }
}

/// A comment needs at least five commenters on its unit in its campaign, published or not.
#[actix_web::test]
async fn a_published_unit_with_four_commenters_shows_none_of_their_comments() {
    for db in common::each_backend() {
        let mut conn = db.conn();
        let tokens = open_survey_campaign(&mut conn, 10);
        account_service::add_user(
            &mut conn,
            &qiping::service::Actor::stored("test"),
            "unit_a",
            Role::Unit,
            Some("D01"),
            &Secret::new(PASSWORD),
        )
        .unwrap();
        let cache = SurveyContext::new(&crate::common::scenario::secret());
        for (i, token) in tokens.iter().enumerate() {
            let mut submission = complete(&asked_codes());
            if i < 4 {
                submission.ratings[0].comment = Some(format!("{MARK}{i}"));
            }
            response::submit(&mut conn, &cache, token, &submission).unwrap();
        }
        let period: Period = PERIOD.parse().unwrap();
        crate::common::keys::close(&mut conn, &period).unwrap();
        aggregate::aggregate(
            &mut conn,
            &Actor::cli(),
            &period,
            &settings(),
            false,
            Some(7),
        )
        .unwrap();
        publication::publish(&mut conn, &Actor::cli(), &period, None, &settings()).unwrap();
        let app = app(state(&db, Config::default())).await;
        let viewer = sign_in(&app, "unit_a").await;
        for page in ["/unit/", "/unit/D01"] {
            let (status, body) = get(&app, page, Some(&viewer.cookie)).await;
            assert_eq!(status, 200);
            assert!(!body.contains(MARK), "[{}] {page}: {body}", db.backend);
        }
        // The distribution (ten raters) is shown: the campaign is published.
        let (_, body) = get(&app, "/unit/D01", Some(&viewer.cookie)).await;
        assert!(body.contains("(10 家企业评价)"), "[{}] {body}", db.backend);
    }
}
