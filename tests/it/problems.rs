//! The problem list (问题清单) and its supervision, on both backends: a named complaint beside the
//! survey through the pages to closure (with the confirmation email over loopback SMTP), both
//! supervisions and the escalation with time moved forward, deadlines across a holiday and a
//! 调休 working weekend, unlinkability of the named form and the anonymous ratings, unit viewers
//! scoped to their own problems, audit rows, and the quarterly bulletin.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use crate::common;
use crate::common::accounts;
use crate::survey_support;

use actix_web::test as web_test;
use chrono::{NaiveDate, NaiveDateTime};
use common::mailing::{part, smtp_settings};
use common::scenario::{complete, open_survey_campaign, secret};
use common::smtp::SmtpSink;
use common::{TestDb, on_each_backend};
use diesel::prelude::*;
use diesel::sql_types::Text;
use qiping::config::{Config, official_2026};
use qiping::db::Conn;
use qiping::db::schema::{problem_events, problems};
use qiping::domain::Role;
use qiping::domain::Secret;
use qiping::domain::calendar::WorkCalendar;
use qiping::domain::problem::ProblemSettings;
use qiping::mail::Mailer;
use qiping::service::Actor;
use qiping::service::problems::{self as svc, NewProblem, Workflow, confirm_mail, sweep, views};
use qiping::service::{ServiceError, accounts as account_service, audit, response};
use survey_support::asked_codes;

const BASE_URL: &str = "https://qiping.test";

/// A Beijing wall-clock time as stored (UTC).
fn beijing(y: i32, m: u32, d: u32, h: u32) -> NaiveDateTime {
    let local = NaiveDate::from_ymd_opt(y, m, d)
        .unwrap()
        .and_hms_opt(h, 0, 0)
        .unwrap();
    local - chrono::Duration::hours(8)
}

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, d).unwrap()
}

fn state_of(conn: &mut Conn, id: i64) -> (String, i32, Option<NaiveDate>) {
    problems::table
        .find(id)
        .select((problems::state, problems::stage, problems::deadline))
        .first(conn)
        .unwrap()
}

fn hotline(unit: &str, description: &str, email: Option<&str>) -> NewProblem {
    NewProblem {
        channel: Some("hotline".parse().unwrap()),
        unit_code: Some(unit.into()),
        enterprise_name: Some("徐州示例机械有限公司".into()),
        reporter_name: Some("王经理".into()),
        reporter_phone: Some("0516-83881234".into()),
        reporter_email: email.map(str::to_owned),
        description: description.into(),
    }
}

#[test]
fn deadlines_count_working_days_across_a_holiday_and_a_makeup_weekend() {
    let official = official_2026();
    let settings = ProblemSettings::default();
    let wf = Workflow {
        calendar: &official,
        settings: &settings,
    };
    // 15 working days from Tuesday 1 September: Sunday 20 September is a 调休 working day, so
    // the deadline is Monday the 21st (with weekends only it would be the 22nd).
    assert_eq!(
        wf.deadline(day(9, 1), qiping::domain::problem::Stage::Handling),
        day(9, 21)
    );
    let plain = WorkCalendar::default();
    assert_eq!(plain.add_working_days(day(9, 1), 15), day(9, 22));
    // 10 working days from 22 September jump 中秋 (25th) and 国庆 (1–7 October) and count
    // Saturday 10 October.
    assert_eq!(
        wf.deadline(day(9, 22), qiping::domain::problem::Stage::First),
        day(10, 13)
    );
}

#[test]
fn overdue_problems_go_through_both_supervisions_then_to_the_inspectors() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        accounts::seed(&mut conn);
        let config = Config::default();
        let wf = Workflow::of(&config);
        let id = svc::register(
            &mut conn,
            &Actor::cli_named("test").unwrap(),
            &hotline("A01-1", "施工许可审批超过法定时限两个月未办结", None),
            beijing(2026, 9, 1, 9),
        )
        .unwrap();
        let deadline = svc::assign(
            &mut conn,
            &wf,
            &Actor::user("admin"),
            id,
            None,
            beijing(2026, 9, 1, 10),
        )
        .unwrap();
        assert_eq!(deadline, day(9, 21), "[{}]", db.backend);

        // Before the sweep, the 营商办's list already shows it as overdue, ahead of newer ones.
        let newer = svc::register(
            &mut conn,
            &Actor::cli_named("test").unwrap(),
            &hotline("B01", "另一件刚登记、尚未交办的问题", None),
            beijing(2026, 9, 15, 9),
        )
        .unwrap();
        let listed =
            views::all(&mut conn, &config.calendar, beijing(2026, 9, 22, 9), false).unwrap();
        assert_eq!(
            listed.iter().map(|v| (v.id, v.overdue)).collect::<Vec<_>>(),
            vec![(id, true), (newer, false)],
            "[{}] overdue first",
            db.backend
        );
        let only = views::all(&mut conn, &config.calendar, beijing(2026, 9, 22, 9), true).unwrap();
        assert_eq!(only.len(), 1);

        let run =
            |conn: &mut Conn, at| sweep::sweep(conn, &wf, &Actor::system("test"), at).unwrap();
        let r = run(&mut conn, beijing(2026, 9, 21, 23));
        assert_eq!(
            r.first_supervisions, 0,
            "the deadline day itself is not late"
        );
        let r = run(&mut conn, beijing(2026, 9, 22, 1));
        assert_eq!(r.first_supervisions, 1);
        assert_eq!(
            state_of(&mut conn, id),
            ("assigned".into(), 1, Some(day(10, 13))),
            "[{}] 一次督办 with 10 working days across 中秋 and 国庆",
            db.backend
        );
        assert_eq!(
            run(&mut conn, beijing(2026, 10, 13, 12)).second_supervisions,
            0
        );
        let r = run(&mut conn, beijing(2026, 10, 14, 8));
        assert_eq!(r.second_supervisions, 1);
        assert_eq!(
            state_of(&mut conn, id),
            ("assigned".into(), 2, Some(day(10, 21)))
        );
        let r = run(&mut conn, beijing(2026, 10, 22, 8));
        assert_eq!(r.escalated, 1);
        assert_eq!(state_of(&mut conn, id), ("escalated".into(), 2, None));
        assert_eq!(run(&mut conn, beijing(2026, 12, 1, 8)), {
            let mut quiet = sweep::SweepReport {
                today: "2026-12-01".into(),
                ..Default::default()
            };
            quiet.calendar_warning = None;
            quiet
        });

        // Every step is logged with its time and actor, and audited.
        let steps: Vec<(String, String, i32)> = problem_events::table
            .filter(problem_events::problem_id.eq(id))
            .order(problem_events::id)
            .select((
                problem_events::action,
                problem_events::actor,
                problem_events::stage,
            ))
            .load(&mut conn)
            .unwrap();
        assert_eq!(
            steps,
            vec![
                ("register".into(), "cli:test".into(), 0),
                ("assign".into(), "user:admin".into(), 0),
                ("overdue".into(), "system:test".into(), 1),
                ("overdue".into(), "system:test".into(), 2),
                ("overdue".into(), "system:test".into(), 2),
            ]
        );
        let audited: Vec<String> = audit::list(&mut conn)
            .unwrap()
            .into_iter()
            .filter(|r| r.target == format!("problem:{id}"))
            .map(|r| r.action)
            .collect();
        assert_eq!(
            audited,
            [
                "problem.register",
                "problem.assign",
                "problem.overdue",
                "problem.overdue",
                "problem.overdue"
            ]
        );

        // The inspectors see it, and their read is audited; the reporter's name is not in the log.
        let seen = views::escalated(
            &mut conn,
            &config.calendar,
            &Actor::user("inspector"),
            qiping::db::now(),
        )
        .unwrap();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].unit_code.as_deref(), Some("A01-1"));
        let log = audit::list(&mut conn).unwrap();
        assert!(
            log.iter()
                .any(|r| r.action == "inspect.problems" && r.actor == "user:inspector")
        );
        assert!(log.iter().all(|r| !r.detail.contains("王经理")));
        assert_eq!(audit::verify(&mut conn).unwrap(), log.len() as i64);
    });
}

#[test]
fn a_rejected_answer_is_supervised_again_and_an_unconfirmed_one_closes() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        accounts::seed(&mut conn);
        let config = Config::default();
        let wf = Workflow::of(&config);
        let s = secret();
        let id = svc::register(
            &mut conn,
            &Actor::cli_named("test").unwrap(),
            &hotline(
                "B01",
                "企业开办窗口要求重复提交材料",
                Some("wang@example.cn"),
            ),
            beijing(2026, 7, 1, 9),
        )
        .unwrap();
        svc::assign(
            &mut conn,
            &wf,
            &Actor::user("admin"),
            id,
            None,
            beijing(2026, 7, 1, 9),
        )
        .unwrap();
        svc::answer(
            &mut conn,
            &wf,
            &s,
            id,
            &svc::Answer {
                actor: &Actor::user("unit_b"),
                scope: None,
                text: "已电话联系企业并一次性告知材料清单",
            },
            beijing(2026, 7, 3, 9),
        )
        .unwrap();
        let first_link = s.problem_token(id, 1);
        svc::verdict_by_link(
            &mut conn,
            &wf,
            &first_link,
            false,
            Some("仍要求补交"),
            beijing(2026, 7, 4, 9),
        )
        .unwrap();
        assert_eq!(state_of(&mut conn, id).0, "assigned");
        assert_eq!(state_of(&mut conn, id).1, 1, "[{}] 一次督办", db.backend);
        let again = svc::verdict_by_link(
            &mut conn,
            &wf,
            &first_link,
            true,
            None,
            beijing(2026, 7, 4, 10),
        );
        assert!(
            matches!(again, Err(ServiceError::NotFound(_))),
            "a link works once"
        );

        svc::answer(
            &mut conn,
            &wf,
            &s,
            id,
            &svc::Answer {
                actor: &Actor::user("unit_b"),
                scope: Some(&[3]),
                text: "已当场受理并办结开办手续",
            },
            beijing(2026, 7, 6, 9),
        )
        .unwrap();
        let outsider = svc::answer(
            &mut conn,
            &wf,
            &s,
            id,
            &svc::Answer {
                actor: &Actor::user("unit_a"),
                scope: Some(&[1, 2]),
                text: "不是我们的问题",
            },
            beijing(2026, 7, 6, 9),
        );
        assert!(matches!(outsider, Err(ServiceError::NotFound(_))));
        // The enterprise does not answer within 5 working days: closed as no reply.
        let due = problems::table
            .find(id)
            .select(problems::confirm_due)
            .first::<Option<NaiveDate>>(&mut conn)
            .unwrap();
        assert_eq!(due, Some(day(7, 13)));
        let r = sweep::sweep(
            &mut conn,
            &wf,
            &Actor::system("test"),
            beijing(2026, 7, 14, 9),
        )
        .unwrap();
        assert_eq!(r.closed_without_reply, 1);
        let outcome: Option<String> = problems::table
            .find(id)
            .select(problems::outcome)
            .first(&mut conn)
            .unwrap();
        assert_eq!(outcome.as_deref(), Some("no_reply"));
        assert!(
            svc::verdict_by_link(
                &mut conn,
                &wf,
                &s.problem_token(id, 2),
                true,
                None,
                beijing(2026, 7, 14, 10)
            )
            .is_err(),
            "a closed problem's link is dead"
        );
    });
}

#[derive(QueryableByName)]
struct Cell {
    #[diesel(sql_type = Text)]
    value: String,
}

fn cells(conn: &mut Conn, table: &str, columns: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for column in columns {
        let sql = format!(
            "SELECT CAST({column} AS TEXT) AS value FROM {table} WHERE {column} IS NOT NULL"
        );
        let rows: Vec<Cell> =
            qiping::on_backend!(conn, |c| diesel::sql_query(&sql).load(c)).unwrap();
        out.extend(rows.into_iter().map(|c| c.value));
    }
    out
}

const PROBLEM_COLUMNS: &[&str] = &[
    "id",
    "unit_id",
    "channel",
    "reporter_name",
    "reporter_contact",
    "description",
    "state",
    "deadline",
    "created_at",
    "updated_at",
    "stage",
    "enterprise_name",
    "reporter_email",
    "answer",
    "outcome",
    "confirm_due",
    "confirm_version",
    "confirm_token_hash",
    "mail_status",
    "mail_error",
    "mail_lease_until",
];

async fn post_form<S, B>(
    app: &S,
    uri: &str,
    cookie: Option<&str>,
    form: &[(&str, &str)],
) -> (u16, String)
where
    S: actix_web::dev::Service<
            accounts::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let mut request = web_test::TestRequest::post().uri(uri).set_form(form);
    if let Some(cookie) = cookie {
        request = request.cookie(actix_web::cookie::Cookie::new(
            "qiping_session",
            cookie.to_owned(),
        ));
    }
    let response = web_test::call_service(app, request.to_request()).await;
    let status = response.status().as_u16();
    let body = String::from_utf8(web_test::read_body(response).await.to_vec()).unwrap();
    (status, body)
}

#[actix_web::test]
async fn a_survey_complaint_goes_from_the_named_form_to_closure() {
    let sink = SmtpSink::start();
    for db in common::each_backend() {
        complaint_to_closure(&db, &sink).await;
    }
}

async fn complaint_to_closure(db: &TestDb, sink: &SmtpSink) {
    let mut conn = db.conn();
    let tokens = open_survey_campaign(&mut conn, 2);
    let pw = Secret::new(accounts::PASSWORD);
    for (name, role, unit) in [
        ("admin", Role::Admin, None),
        ("unit_d01", Role::Unit, Some("D01")),
        ("unit_d02", Role::Unit, Some("D02")),
    ] {
        account_service::add_user(
            &mut conn,
            &qiping::service::Actor::stored("test"),
            name,
            role,
            unit,
            &pw,
        )
        .unwrap();
    }
    // The anonymous answers, with a comment on D01-O1.
    let comment = "窗口人员态度冷淡,来回跑了三趟";
    let mut submission = complete(&asked_codes());
    let o1 = submission
        .ratings
        .iter()
        .position(|r| r.unit_code == "D01-O1")
        .unwrap();
    submission.ratings[o1].comment = Some(comment.into());
    response::submit(
        &mut conn,
        &qiping::service::survey::SurveyContext::new(&crate::common::scenario::secret()),
        &tokens[0],
        &submission,
    )
    .unwrap();

    let mut config = Config {
        link_secret: Some("dGVzdC1zZWNyZXQtb2YtdGhpcnR5LXR3by1ieXRlcyE".into()),
        ..Config::default()
    };
    config.server.base_url = BASE_URL.into();
    config.mail = smtp_settings(sink.addr);
    let app = accounts::app(accounts::state(db, config.clone())).await;

    // The survey form links every unit to the named form, opened on its own page.
    let (status, survey) = accounts::get(&app, &format!("/s/{}", tokens[1]), None).await;
    assert_eq!(status, 200);
    assert!(survey.contains(&format!("/s/{}/problem?unit=D01-O1", tokens[1])));

    // The named form: its own page and POST, with empty fields (nothing copied from the survey).
    let form_uri = format!("/s/{}/problem", tokens[0]);
    let (status, page) = accounts::get(&app, &format!("{form_uri}?unit=D01-O1"), None).await;
    assert_eq!(status, 200, "[{}] {page}", db.backend);
    assert!(page.contains("第1局第1处") && page.contains("测试企业"));
    assert!(
        !page.contains(comment),
        "the anonymous comment is never copied"
    );
    let description = "营业执照经营范围变更申请提交四十天仍未受理,请督促办理";
    let (status, page) = post_form(
        &app,
        &form_uri,
        None,
        &[
            ("unit", "D01-O1"),
            ("name", "李娜"),
            ("phone", "13905161234"),
            ("email", "lina@firm1.example.com"),
            ("description", "太短"),
        ],
    )
    .await;
    assert_eq!(
        status, 422,
        "a too short text comes back with the fields kept: {page}"
    );
    assert!(page.contains("问题描述至少需要") && page.contains("13905161234"));
    let (status, page) = post_form(
        &app,
        &form_uri,
        None,
        &[
            ("unit", "D01-O1"),
            ("name", "李娜"),
            ("phone", "13905161234"),
            ("email", "lina@firm1.example.com"),
            ("description", description),
        ],
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("已收到"));
    let id: i64 = problems::table
        .select(problems::id)
        .first(&mut conn)
        .unwrap();

    // Unlinkable: no column of the problem holds any value of the anonymous response or its
    // ratings (no shared id, key, day or text), and the response keeps only the day.
    let problem_cells = cells(&mut conn, "problems", PROBLEM_COLUMNS);
    let anonymous = [
        cells(
            &mut conn,
            "responses",
            &["id", "respondent_key", "submitted_on"],
        ),
        cells(
            &mut conn,
            "ratings",
            &["id", "response_id", "comment", "answers", "problems"],
        ),
    ]
    .concat();
    for value in &problem_cells {
        assert!(
            !anonymous.contains(value) || value.len() < 3,
            "[{}] the problem shares {value:?} with the anonymous response",
            db.backend
        );
    }
    assert!(problem_cells.iter().all(|v| !v.contains(comment)));
    let submitted_on: Vec<String> = cells(&mut conn, "responses", &["submitted_on"]);
    assert!(
        submitted_on.iter().all(|d| d.len() == 10),
        "a day, not a time: {submitted_on:?}"
    );

    // The 营商办 sees it and assigns it.
    let admin = accounts::sign_in(&app, "admin").await;
    let (status, page) = accounts::get(&app, "/admin/problems", Some(&admin.cookie)).await;
    assert_eq!(status, 200);
    assert!(page.contains(description) && page.contains("问卷实名反映"));
    let assign = format!("/admin/problems/{id}/assign");
    let (status, _) = post_form(&app, &assign, Some(&admin.cookie), &[("unit", "D01-O1")]).await;
    assert_eq!(status, 403, "no CSRF token, no change");
    let (status, _) = post_form(
        &app,
        &assign,
        Some(&admin.cookie),
        &[("unit", "D01-O1"), ("csrf_token", &admin.csrf)],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(state_of(&mut conn, id).0, "assigned");

    // The unit (D01 covers its office D01-O1) sees and answers it; D02's viewer does not see it
    // and cannot answer it.
    let d02 = accounts::sign_in(&app, "unit_d02").await;
    let (_, page) = accounts::get(&app, "/unit/problems", Some(&d02.cookie)).await;
    assert!(!page.contains(description));
    let answer_uri = format!("/unit/problems/{id}/answer");
    let (status, _) = post_form(
        &app,
        &answer_uri,
        Some(&d02.cookie),
        &[("answer", "与我们无关的答复"), ("csrf_token", &d02.csrf)],
    )
    .await;
    assert_eq!(status, 404, "another unit's problem reads as not found");
    let d01 = accounts::sign_in(&app, "unit_d01").await;
    let (_, page) = accounts::get(&app, "/unit/problems", Some(&d01.cookie)).await;
    assert!(
        page.contains(description) && page.contains("13905161234"),
        "{page}"
    );
    assert!(
        !page.contains("lina@firm1.example.com"),
        "the unit does not get the email"
    );
    let answer = "已于当日受理变更申请并办结,新执照已邮寄";
    let (status, _) = post_form(
        &app,
        &answer_uri,
        Some(&d01.cookie),
        &[("answer", answer), ("csrf_token", &d01.csrf)],
    )
    .await;
    assert_eq!(status, 303);

    // The confirmation request goes out over SMTP with a one-time link.
    let mailer = Mailer::from_config(&config.mail).unwrap();
    let report =
        confirm_mail::deliver(&mut conn, &mailer, &secret(), BASE_URL, &config.mail).unwrap();
    assert_eq!(report.sent, 1, "[{}]", db.backend);
    let message = sink
        .received()
        .into_iter()
        .rev()
        .find(|m| m.to.iter().any(|t| t.contains("lina@firm1.example.com")))
        .expect("the confirmation email");
    let text = String::from_utf8(part(&message.text(), "text/plain").unwrap()).unwrap();
    assert!(
        text.contains(answer) && text.contains("第1局第1处"),
        "{text}"
    );
    let at = text.find(&format!("{BASE_URL}/p/")).expect("link") + BASE_URL.len() + 3;
    let link: String = text[at..].chars().take(43).collect();
    assert_eq!(link, secret().problem_token(id, 1));
    let again =
        confirm_mail::deliver(&mut conn, &mailer, &secret(), BASE_URL, &config.mail).unwrap();
    assert_eq!(again.sent, 0, "sent once");

    let (status, page) = accounts::get(&app, &format!("/p/{link}"), None).await;
    assert_eq!(status, 200);
    assert!(page.contains(answer));
    let (status, page) = post_form(&app, &format!("/p/{link}"), None, &[("resolved", "yes")]).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(state_of(&mut conn, id).0, "closed");
    let (status, _) = post_form(&app, &format!("/p/{link}"), None, &[("resolved", "no")]).await;
    assert_eq!(status, 404, "the link works once");

    // Each step: when, by whom, audited.
    let steps: Vec<(String, String)> = problem_events::table
        .filter(problem_events::problem_id.eq(id))
        .order(problem_events::id)
        .select((problem_events::action, problem_events::actor))
        .load(&mut conn)
        .unwrap();
    assert_eq!(
        steps,
        vec![
            ("register".into(), "enterprise:named-form".into()),
            ("assign".into(), "user:admin".into()),
            ("answer".into(), "user:unit_d01".into()),
            (
                "confirm_resolved".into(),
                "enterprise:confirmation-link".into()
            ),
        ]
    );
    let audited: Vec<(String, String)> = audit::list(&mut conn)
        .unwrap()
        .into_iter()
        .filter(|r| r.target == format!("problem:{id}"))
        .map(|r| (r.action, r.actor))
        .collect();
    assert_eq!(audited.len(), 4, "{audited:?}");
    assert_eq!(audited[1], ("problem.assign".into(), "user:admin".into()));
}

#[test]
fn the_quarterly_bulletin_lists_the_supervised_cases_and_names_no_reporter() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        accounts::seed(&mut conn);
        let config = Config::default();
        let wf = Workflow::of(&config);
        let s = secret();
        let add = |conn: &mut Conn, unit: &str, text: &str, at| {
            let id = svc::register(
                conn,
                &Actor::cli_named("test").unwrap(),
                &hotline(unit, text, None),
                at,
            )
            .unwrap();
            svc::assign(conn, &wf, &Actor::user("admin"), id, None, at).unwrap();
            id
        };
        // Closed in time: not a typical case.
        let plain = add(
            &mut conn,
            "B01",
            "普通问题按时办结的案例",
            beijing(2026, 7, 1, 9),
        );
        svc::answer(
            &mut conn,
            &wf,
            &s,
            plain,
            &svc::Answer {
                actor: &Actor::user("unit_b"),
                scope: None,
                text: "已按时办结",
            },
            beijing(2026, 7, 2, 9),
        )
        .unwrap();
        svc::verdict_by_admin(
            &mut conn,
            &wf,
            &Actor::user("admin"),
            plain,
            true,
            None,
            beijing(2026, 7, 3, 9),
        )
        .unwrap();
        // Supervised once, then resolved.
        let once = add(
            &mut conn,
            "A01",
            "一次督办后解决的案例",
            beijing(2026, 7, 1, 9),
        );
        sweep::sweep(
            &mut conn,
            &wf,
            &Actor::system("test"),
            beijing(2026, 7, 30, 9),
        )
        .unwrap();
        svc::answer(
            &mut conn,
            &wf,
            &s,
            once,
            &svc::Answer {
                actor: &Actor::user("unit_a"),
                scope: None,
                text: "督办后已办结",
            },
            beijing(2026, 8, 3, 9),
        )
        .unwrap();
        svc::verdict_by_admin(
            &mut conn,
            &wf,
            &Actor::user("admin"),
            once,
            true,
            None,
            beijing(2026, 8, 4, 9),
        )
        .unwrap();
        // Escalated.
        let escalated = add(
            &mut conn,
            "A01-1",
            "两次督办仍未解决移交问责的案例",
            beijing(2026, 7, 1, 9),
        );
        for at in [
            beijing(2026, 7, 30, 10),
            beijing(2026, 8, 20, 9),
            beijing(2026, 9, 3, 9),
        ] {
            sweep::sweep(&mut conn, &wf, &Actor::system("test"), at).unwrap();
        }
        assert_eq!(
            state_of(&mut conn, escalated).0,
            "escalated",
            "[{}]",
            db.backend
        );
        // Supervised only in the fourth quarter: not in Q3's bulletin.
        let later = add(
            &mut conn,
            "B01",
            "第四季度才督办的案例",
            beijing(2026, 9, 28, 9),
        );
        sweep::sweep(
            &mut conn,
            &wf,
            &Actor::system("test"),
            beijing(2026, 11, 2, 9),
        )
        .unwrap();
        assert_eq!(state_of(&mut conn, later).1, 1);

        let dir = tempfile::tempdir().unwrap();
        let (folder, b) =
            svc::bulletin::write(&mut conn, dir.path(), "2026Q3".parse().unwrap()).unwrap();
        assert_eq!(folder, dir.path().join("problems").join("2026Q3"));
        let ids: Vec<i64> = b.cases.iter().map(|c| c.id).collect();
        assert_eq!(
            ids,
            vec![escalated, once],
            "escalated first; plain and Q4 cases left out"
        );
        assert_eq!(
            b.summary.registered, 4,
            "the fourth-quarter case was registered in Q3"
        );
        assert_eq!(b.summary.escalated, 1);
        assert_eq!(b.summary.first_supervisions, 2);
        assert_eq!(b.summary.second_supervisions, 1);
        let html = std::fs::read_to_string(folder.join("index.html")).unwrap();
        assert!(html.contains("2026年第三季度") && html.contains("两次督办仍未解决移交问责的案例"));
        assert!(html.contains("甲局审批处") && html.contains("移交纪委监委问责"));
        assert!(!html.contains("第四季度才督办的案例") && !html.contains("普通问题按时办结的案例"));
        assert!(
            !html.contains("王经理")
                && !html.contains("83881234")
                && !html.contains("徐州示例机械")
        );
        let csv = std::fs::read(folder.join("cases.csv")).unwrap();
        assert!(csv.starts_with(b"\xEF\xBB\xBF"), "CSV with BOM");
        let text = String::from_utf8(csv[3..].to_vec()).unwrap();
        assert_eq!(text.lines().count(), 3, "header and two cases: {text}");
        assert!(!text.contains("王经理"));
    });
}

#[test]
fn registering_checks_every_field_and_names_it() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        accounts::seed(&mut conn);
        let mut bad = hotline("NOPE", "短", Some("not-an-email"));
        bad.reporter_phone = Some("电话".into());
        let err = svc::register(
            &mut conn,
            &Actor::cli_named("test").unwrap(),
            &bad,
            qiping::db::now(),
        )
        .unwrap_err();
        let message = err.to_string();
        for part in ["问题描述", "联系电话", "电子邮箱", "单位编码 NOPE 不存在"]
        {
            assert!(message.contains(part), "[{}] {message}", db.backend);
        }
        let count: i64 = problems::table.count().get_result(&mut conn).unwrap();
        assert_eq!(count, 0, "nothing stored");
    });
}

#[test]
fn the_command_line_registers_assigns_lists_sweeps_and_writes_the_bulletin() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        accounts::seed(&mut conn);
        let dir = tempfile::tempdir().unwrap();
        let run = |args: &[&str]| {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_qiping"))
                .args(args)
                .args(["--database-url", &db.url])
                .current_dir(dir.path())
                .env("QIPING_REPORTS_DIR", dir.path().join("reports"))
                .env_remove("QIPING_DATABASE_URL")
                .env_remove("DATABASE_URL")
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "[{}] {args:?}: {}",
                db.backend,
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap()
        };
        let id = run(&[
            "problem",
            "add",
            "--unit",
            "A01-1",
            "--channel",
            "12345热线",
            "--description",
            "不动产登记窗口要求企业重复提交同一份材料",
            "--name",
            "赵女士",
            "--phone",
            "13800001111",
        ]);
        let id = id.trim();
        run(&["problems", "assign", id]);
        let list: serde_json::Value =
            serde_json::from_str(&run(&["problems", "list", "--json"])).unwrap();
        assert_eq!(list[0]["id"].to_string(), id);
        assert_eq!(list[0]["state"], "assigned");
        assert_eq!(list[0]["channel"], "hotline");
        let deadline = list[0]["deadline"].as_str().unwrap().to_owned();
        let config = Config::default();
        let today = qiping::domain::time::local_day(qiping::db::now());
        assert_eq!(
            deadline,
            config.calendar.add_working_days(today, 15).to_string(),
            "15 working days on the configured calendar"
        );
        let overdue: serde_json::Value =
            serde_json::from_str(&run(&["problems", "list", "--overdue", "--json"])).unwrap();
        assert_eq!(overdue, serde_json::json!([]));
        let sweep: serde_json::Value =
            serde_json::from_str(&run(&["problems", "escalate", "--json"])).unwrap();
        assert_eq!(sweep["deadlines"]["first_supervisions"], 0);
        let shown: serde_json::Value =
            serde_json::from_str(&run(&["problems", "show", id, "--json"])).unwrap();
        assert_eq!(shown["steps"].as_array().unwrap().len(), 2);
        let quarter = qiping::domain::Quarter::of(today).to_string();
        run(&["problems", "bulletin", &quarter]);
        let html = dir
            .path()
            .join("reports/problems")
            .join(&quarter)
            .join("index.html");
        assert!(std::fs::read_to_string(html).unwrap().contains("总体情况"));
        let actors: Vec<String> = audit::list(&mut conn)
            .unwrap()
            .into_iter()
            .filter(|r| r.action.starts_with("problem."))
            .map(|r| r.actor)
            .collect();
        assert_eq!(actors.len(), 2);
        assert!(actors.iter().all(|a| a.starts_with("cli:")));
    });
}
