//! The promise of anonymity has one source, `qiping::domain::anonymity`, and every place that makes
//! it shows that text: the campaign letters' footer (text and HTML, every kind), the problem
//! confirmation letter, the survey page in both languages (on both backends), the named form, the
//! public rankings page, the standard questionnaire's introduction and the README. None of the
//! earlier sentences that promised more is left in `src/`, `survey_templates/` or the README.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use crate::common;
use crate::survey_support;

use std::path::{Path, PathBuf};

use common::accounts;
use common::mailing::part;
use common::scenario::{complete, open_survey_campaign};
use qiping::config::Config;
use qiping::domain::anonymity::{PAGE_EN, PAGE_ZH, SHORT_EN, SHORT_ZH};
use qiping::domain::{STANDARD_TOML, SurveyTemplate};
use qiping::mail::{Letter, MessageKind, ProblemLetter, Sender};
use qiping::service::survey::SurveyContext;
use qiping::service::{Actor, aggregate, publication, response};
use qiping::stats::Settings;
use survey_support::{PERIOD, asked_codes};

/// Sentences that promised more than the guarantees, as they stood; none may come back.
const OVERCLAIMS: &[&str] = &[
    "任何人(包括管理员)都无法",
    "任何单位和管理人员都无法查看",
    "任何人都无法把答卷与贵企业对应起来",
    "您的评分仍然无法被追溯",
    "任何单位和个人都无法查到某家企业的评价内容",
    "评分仍然无法追溯到贵单位",
    "不会让您的评分被追溯",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn sender() -> Sender {
    Sender {
        name: "营商环境办公室".into(),
        address: "noreply@example.org".into(),
    }
}

/// The text and HTML parts of a composed message, decoded.
fn bodies(message: &lettre::Message) -> (String, String) {
    let raw = String::from_utf8_lossy(&message.formatted()).into_owned();
    let body = |kind| String::from_utf8(part(&raw, kind).expect(kind)).unwrap();
    (body("text/plain"), body("text/html"))
}

#[test]
fn every_campaign_letter_and_the_problem_confirmation_carry_the_short_form() {
    for kind in [
        MessageKind::Invitation,
        MessageKind::Reminder,
        MessageKind::Extension,
    ] {
        for weighted in [false, true] {
            let letter = Letter {
                kind,
                enterprise_name: "徐州测试有限公司".into(),
                email: "a@example.com".into(),
                period_label: "2019年下半年".into(),
                units: vec!["市税务局 · 纳税服务科".into()],
                deadline: "2019年11月30日 24:00(北京时间)".into(),
                url: "https://qiping.test/s/abc".into(),
                message_id: "2019H2.1.invitation.1@qiping".into(),
                weighted,
            };
            let (text, html) = bodies(&qiping::mail::compose(&letter, &sender()).unwrap());
            assert!(
                text.contains(&format!("关于匿名:{SHORT_ZH}")),
                "{kind:?}: {text}"
            );
            assert!(html.contains(SHORT_ZH), "{kind:?}: {html}");
            assert_eq!(text.matches(SHORT_ZH).count(), 1, "said once");
            // A weighted campaign's letters say what the stored weights leave (issue 39).
            let says = qiping::domain::anonymity::WEIGHTED_ZH;
            assert_eq!(text.contains(says), weighted, "{kind:?}: {text}");
            assert_eq!(html.contains(says), weighted, "{kind:?}: {html}");
        }
    }
    let letter = ProblemLetter {
        reporter_name: "张经理".into(),
        email: "zhang@example.com".into(),
        unit_name: "市市场监管局".into(),
        problem: "营业执照变更拖了两个月".into(),
        answer: "已于 10 月 9 日办结变更".into(),
        due: "2026年10月16日".into(),
        url: "https://qiping.test/p/abc".into(),
        message_id: "problem.7.1@qiping".into(),
    };
    let (text, html) = bodies(&qiping::mail::compose_problem_letter(&letter, &sender()).unwrap());
    assert!(text.contains(SHORT_ZH), "{text}");
    assert!(html.contains(SHORT_ZH), "{html}");
}

#[test]
fn the_standard_introduction_has_the_short_form_on_a_line_of_its_own() {
    let template = SurveyTemplate::from_toml(STANDARD_TOML).unwrap();
    let lines = |intro: &str| {
        intro
            .lines()
            .map(str::trim)
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert!(
        lines(template.intro_zh()).iter().any(|l| l == SHORT_ZH),
        "{}",
        template.intro_zh()
    );
    assert!(
        lines(template.intro_en()).iter().any(|l| l == SHORT_EN),
        "{}",
        template.intro_en()
    );
    // The shipped file itself, not only the built-in copy.
    let file = std::fs::read_to_string(root().join("survey_templates/standard.toml")).unwrap();
    assert_eq!(file, STANDARD_TOML);
}

#[test]
fn the_readme_quotes_the_source_text_verbatim() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let section = readme
        .split("\n## ")
        .find(|s| s.starts_with("What anonymity means here\n"))
        .expect("the README's section \"What anonymity means here\"");
    assert!(section.contains(&format!("> {PAGE_ZH}\n")), "{section}");
    assert!(section.contains("G1") && section.contains("G2"));
}

/// Every file under `dir` (recursively), or `dir` itself when it is a file.
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    if dir.is_file() {
        out.push(dir.to_owned());
        return;
    }
    for entry in std::fs::read_dir(dir).unwrap() {
        files(&entry.unwrap().path(), out);
    }
}

#[test]
fn no_earlier_overclaim_is_left() {
    let mut paths = Vec::new();
    for place in ["src", "survey_templates", "README.md"] {
        files(&root().join(place), &mut paths);
    }
    assert!(paths.len() > 50, "{paths:?}");
    for path in paths {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue; // binary
        };
        // Full-width punctuation counts as its ASCII twin.
        let text: String = text
            .chars()
            .map(|c| match c {
                '\u{FF08}' => '(',
                '\u{FF09}' => ')',
                '\u{FF0C}' => ',',
                c => c,
            })
            .collect();
        for phrase in OVERCLAIMS {
            assert!(
                !text.contains(phrase),
                "{} still says 「{phrase}」",
                path.display()
            );
        }
    }
}

#[actix_web::test]
async fn the_survey_page_and_the_named_form_show_the_page_form() {
    for db in &common::each_backend().collect::<Vec<_>>() {
        let tokens = open_survey_campaign(&mut db.conn(), 1);
        let app = accounts::app(accounts::state(db, Config::default())).await;
        let (status, page) = accounts::get(&app, &format!("/s/{}", tokens[0]), None).await;
        assert_eq!(status, 200, "[{}] {page}", db.backend);
        assert!(
            page.contains(&format!(r#"<p class="promise">{PAGE_ZH}</p>"#)),
            "[{}] {page}",
            db.backend
        );
        // The introduction's own line is left out: the promise below begins with it.
        assert_eq!(
            page.matches(SHORT_ZH).count(),
            1,
            "[{}] said once",
            db.backend
        );
        assert!(
            page.contains("评议链接仅供贵企业使用一次"),
            "the rest of the line's paragraph stays"
        );

        let (status, page) = accounts::get(&app, &format!("/s/{}?lang=en", tokens[0]), None).await;
        assert_eq!(status, 200);
        assert!(page.contains(PAGE_EN), "[{}] {page}", db.backend);
        assert_eq!(page.matches(SHORT_EN).count(), 1);

        let (status, page) = accounts::get(&app, &format!("/s/{}/problem", tokens[0]), None).await;
        assert_eq!(status, 200, "[{}] {page}", db.backend);
        assert!(page.contains(PAGE_ZH), "[{}] {page}", db.backend);
    }
}

#[actix_web::test]
async fn the_public_rankings_page_shows_the_short_form() {
    for db in &common::each_backend().collect::<Vec<_>>() {
        let mut conn = db.conn();
        let tokens = open_survey_campaign(&mut conn, 12);
        let cache = SurveyContext::new(&crate::common::scenario::secret());
        for token in &tokens {
            response::submit(&mut conn, &cache, token, &complete(&asked_codes())).unwrap();
        }
        let period = PERIOD.parse().unwrap();
        let settings = Settings {
            draws: 500,
            ..Settings::default()
        };
        crate::common::keys::close(&mut conn, &period).unwrap();
        aggregate::aggregate(&mut conn, &Actor::cli(), &period, &settings, false, Some(7)).unwrap();
        let reports = tempfile::tempdir().unwrap();
        publication::publish_and_write(
            &mut conn,
            &Actor::cli(),
            &period,
            None,
            &settings,
            reports.path(),
        )
        .unwrap();
        let app = accounts::app(accounts::state(db, Config::default())).await;
        let (status, page) = accounts::get(&app, &format!("/rankings/{PERIOD}"), None).await;
        assert_eq!(status, 200, "[{}] {page}", db.backend);
        assert!(
            page.contains(&format!("<p>关于匿名:{SHORT_ZH}</p>")),
            "[{}] {page}",
            db.backend
        );
    }
}
