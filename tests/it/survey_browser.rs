//! The survey in a real browser: Debian's Chromium, driven over WebDriver through
//! `chromedriver`, at a phone's 360×740 viewport, against `qiping serve` on a fresh SQLite
//! database prepared with the CLI. Without Chromium it says it was skipped (CI installs it).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use crate::survey_support;

use diesel::prelude::*;
use qiping::db::DatabaseUrl;
use qiping::db::schema::{invitations, outbox, units};
use qiping::service::links::LinkSecret;
use survey_support::server::{self, SECRET};
use survey_support::webdriver::{self, Browser};

const QUESTIONS: [&str; 6] = [
    "attitude",
    "efficiency",
    "policy",
    "lawful",
    "integrity",
    "overall",
];

#[test]
fn an_enterprise_answers_on_a_phone_and_its_ratings_are_stored() {
    if !webdriver::available() {
        eprintln!("SKIPPED: chromium not installed");
        return;
    }
    let served = server::start(3, 4, 0);
    let mut conn = DatabaseUrl::parse(&served.database_url)
        .unwrap()
        .connect()
        .unwrap();
    // The link of the first invitation queued in the outbox, rendered as the mail would.
    let (invitation_id, version): (i64, i32) = outbox::table
        .inner_join(invitations::table)
        .filter(outbox::kind.eq("invitation"))
        .order(outbox::id)
        .select((invitations::id, invitations::link_version))
        .first(&mut conn)
        .unwrap();
    let token = LinkSecret::from_config(Some(SECRET))
        .unwrap()
        .token(invitation_id, version);
    let link = format!("http://{}/s/{token}", served.addr);

    let browser = Browser::start(360, 740);
    browser.goto(&link);
    assert_eq!(browser.script("return window.innerWidth;"), 360);
    let overflow = browser.script("return document.documentElement.scrollWidth;");
    assert!(
        overflow.as_u64().unwrap() <= 360,
        "no sideways scrolling: {overflow}"
    );
    browser.assert_accessible("the survey page");
    // Answer part of it, reload: the phone kept the progress (localStorage, never the server).
    browser.click("label[for='u0-attitude-5']");
    browser.click("label[for='u0-efficiency-4']");
    browser.goto(&link);
    assert!(
        browser.is_selected("#u0-attitude-5"),
        "progress survives a reload"
    );
    assert!(browser.is_selected("#u0-efficiency-4"));
    browser.script("document.getElementById('unit-0').scrollIntoView(); return 0;");
    let screenshot = browser.screenshot();
    std::fs::write(served.dir.path().join("survey-phone.png"), &screenshot).unwrap();
    if let Ok(path) = std::env::var("QIPING_SCREENSHOT") {
        std::fs::write(path, &screenshot).unwrap();
    }

    for unit in 0..4 {
        for (j, q) in QUESTIONS.iter().enumerate() {
            let choice = if unit == 1 && *q == "policy" {
                "na".to_owned()
            } else {
                (1 + (unit + j) % 5).to_string()
            };
            browser.click(&format!("label[for='u{unit}-{q}-{choice}']"));
        }
    }
    browser.click("label[for='u0-p-slow']");
    browser.type_text("#u2-c", "窗口办事很快,点赞");
    // The page counts what all comments use of the ballot's 2,000 characters, as the server does.
    assert_eq!(browser.text("#comment-count"), "(9 / 2000)");
    browser.click("button.primary");
    let url = browser.wait_for_url("/s/thanks");
    assert!(url.ends_with("/s/thanks"), "{url}");
    assert!(browser.text("h1").contains("提交成功"));
    let left = browser.script(
        "return Object.keys(localStorage).filter(k => k.startsWith('qiping:progress:')).length;",
    );
    assert_eq!(left, 0, "saved progress is cleared after submitting");

    // The stored ballot, opened with the campaign's key (it is sealed until the close), holds
    // the answers given, in the page's unit order.
    crate::common::keys::remember_file(&served.key_file());
    let opened = crate::common::keys::peek(&mut conn);
    assert_eq!(opened.len(), 1, "one sealed ballot");
    let campaign =
        qiping::service::campaign::find(&mut conn, &crate::survey_support::PERIOD.parse().unwrap())
            .unwrap();
    let template = qiping::service::templates::parse_stored(&campaign.template_toml).unwrap();
    let mut stored: Vec<(String, String, String, Option<String>)> = opened[0]
        .units
        .iter()
        .map(|u| {
            let code: String = units::table
                .find(u.unit_id)
                .select(units::code)
                .first(&mut conn)
                .unwrap();
            let (answers, problems) = qiping::service::ballots::stored_form(&template, u)
                .unwrap()
                .unwrap();
            (code, answers, problems, u.comment.clone())
        })
        .collect();
    stored.sort();
    assert_eq!(stored.len(), 4);
    for (unit, (code, answers, problems, comment)) in stored.iter().enumerate() {
        let answers: serde_json::Value = serde_json::from_str(answers).unwrap();
        for (j, q) in QUESTIONS.iter().enumerate() {
            let expected = if unit == 1 && *q == "policy" {
                serde_json::Value::Null
            } else {
                ((1 + (unit + j) % 5) as u64).into()
            };
            assert_eq!(answers[q], expected, "{code} {q}");
        }
        assert_eq!(problems == "[\"slow\"]", unit == 0, "{code} {problems}");
        assert_eq!(
            comment.as_deref() == Some("窗口办事很快,点赞"),
            unit == 2,
            "{code}"
        );
    }
}

/// The 营商办 in a real browser (issue 43): the results' 「未公布 · 预览」 first; then 公布结果 shows
/// what publishing will do, in numbers, before anything happens; 取消 goes back with nothing
/// changed; 确认 publishes.
#[test]
fn the_office_sees_the_numbers_before_publishing_and_cancelling_changes_nothing() {
    use std::io::Write;
    if !webdriver::available() {
        eprintln!("SKIPPED: chromium not installed");
        return;
    }
    const ENTERPRISES: usize = 12;
    let served = server::start(ENTERPRISES, 4, 0);
    let mut conn = DatabaseUrl::parse(&served.database_url)
        .unwrap()
        .connect()
        .unwrap();
    // Every enterprise answers its four units: each unit has 12 ratings, above the threshold.
    let secret = LinkSecret::from_config(Some(SECRET)).unwrap();
    let links: Vec<(i64, i32)> = invitations::table
        .order(invitations::id)
        .select((invitations::id, invitations::link_version))
        .load(&mut conn)
        .unwrap();
    let codes = survey_support::asked_codes();
    let mut http = survey_support::http::Http::connect(served.addr).unwrap();
    for (id, version) in &links {
        let body = survey_support::data::submission_json(&secret.token(*id, *version), &codes);
        assert_eq!(http.post_json("/api/v1/responses", &body).unwrap().0, 201);
    }
    served.close();
    served.run(&["campaign", "aggregate", survey_support::PERIOD]);
    let unit = codes[0].clone();
    for args in [
        vec!["wang", "--role", "admin"],
        vec!["li", "--role", "unit", "--unit", unit.as_str()],
    ] {
        let mut add = served
            .command(&[&["user", "add"][..], &args, &["--password-stdin"]].concat())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        add.stdin
            .take()
            .unwrap()
            .write_all(b"correct-horse-battery\n")
            .unwrap();
        assert!(add.wait().unwrap().success());
    }
    let state = |conn: &mut qiping::db::Conn| -> String {
        qiping::db::schema::campaigns::table
            .select(qiping::db::schema::campaigns::state)
            .first(conn)
            .unwrap()
    };

    let base = format!("http://{}", served.addr);
    let preview_url = format!("{base}/admin/campaigns/{}/preview", survey_support::PERIOD);
    // The unit's own viewer, signed in, finds nothing there: 404, not even a refusal.
    {
        let viewer = Browser::start(360, 740);
        viewer.goto(&format!("{base}/login"));
        viewer.type_text("input[name=name]", "li");
        viewer.type_text("input[name=password]", "correct-horse-battery");
        viewer.click("button[type=submit]");
        viewer.wait_for_url("/unit/");
        viewer.assert_accessible("the unit viewer's page");
        viewer.goto(&preview_url);
        let seen = viewer.wait_for_text("body", "404");
        assert!(seen.contains("404") && !seen.contains("预览"), "{seen}");
    }
    let browser = Browser::start(360, 740);
    browser.goto(&format!("{base}/login"));
    browser.type_text("input[name=name]", "wang");
    browser.type_text("input[name=password]", "correct-horse-battery");
    browser.click("button[type=submit]");
    browser.wait_for_url("/admin/");
    let page = format!("{base}/admin/campaigns/{}", survey_support::PERIOD);
    // Before anything is public, the office looks at the results as they would be published,
    // marked as a preview, on the phone's width.
    browser.goto(&preview_url);
    let preview = browser.wait_for_text("main", "未公布 · 预览");
    browser.assert_accessible("the results' preview");
    assert!(
        preview.contains("只有营商办能看到") && preview.contains("尚未公布"),
        "{preview}"
    );
    let width = browser.script("return document.documentElement.scrollWidth;");
    assert!(
        width.as_u64().unwrap() <= 360,
        "no sideways scrolling: {width}"
    );
    assert_eq!(state(&mut conn), "closed", "previewing published nothing");
    browser.goto(&page);
    browser.assert_accessible("the closed campaign's page");
    // The 营商办's other pages, as axe-core judges them.
    for (path, what) in [
        ("/admin/".to_owned(), "the admin's home"),
        ("/admin/units".to_owned(), "the unit registry"),
        (format!("/admin/units/{unit}"), "a unit's page"),
        ("/admin/enterprises".to_owned(), "the enterprise registry"),
        (
            format!("/admin/campaigns/{}/comments", survey_support::PERIOD),
            "the moderation page",
        ),
        ("/admin/problems".to_owned(), "the problem list"),
    ] {
        browser.goto(&format!("{base}{path}"));
        browser.assert_accessible(what);
    }
    browser.goto(&page);
    let publish = "form[action$='/actions/publish'] button[type=submit]";
    browser.click(publish);
    browser.wait_for_url("/actions/publish");
    let asked = browser.wait_for_text("main", "不能撤回");
    browser.assert_accessible("the publish confirmation");
    for says in [
        "请确认",
        "将公布第 1 版",
        "个单位参加排名",
        "问责提示",
        "不能撤回",
    ] {
        assert!(asked.contains(says), "{says}: {asked}");
    }
    let overflow = browser.script("return document.documentElement.scrollWidth;");
    assert!(
        overflow.as_u64().unwrap() <= 360,
        "no sideways scrolling: {overflow}"
    );
    browser.click("#cancel");
    browser.wait_for_url(&format!("/admin/campaigns/{}", survey_support::PERIOD));
    assert_eq!(state(&mut conn), "closed", "cancelling published nothing");

    browser.click(publish);
    browser.wait_for_url("/actions/publish");
    browser.click("#confirm");
    // The answer comes at the same address: wait for its text.
    let done = browser.wait_for_text("main", "已公布");
    assert!(done.contains("第 1 版已公布"), "{done}");
    assert_eq!(state(&mut conn), "published");
}
