//! The 营商办's dashboard over real HTTP (actix's test service, the app `serve` builds) on both
//! backends: registry uploads (valid, and invalid with the error list and nothing written),
//! search, bounces, a campaign run end to end from its page with every action audited, its
//! progress figures for a known fixture, the published files with their content types, and
//! comment moderation as a unit viewer sees it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use crate::common;
use crate::common::accounts;

use qiping::service::Actor;
use std::collections::BTreeMap;

use accounts::{Browser, PASSWORD, add_response, app, get, seeded, sign_in, state};
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test;
use common::{TestDb, fixture, uscc};
use diesel::prelude::*;
use qiping::config::Config;
use qiping::db::Conn;
use qiping::db::schema::{ratings, units};
use qiping::service::{audit, campaign, registry};

/// Only the 营商办's account, for tests that start from an empty registry.
fn add_admin(conn: &mut Conn) {
    qiping::service::accounts::add_user(
        conn,
        &qiping::service::Actor::stored("test"),
        "admin",
        qiping::domain::Role::Admin,
        None,
        &qiping::domain::Secret::new(PASSWORD),
    )
    .unwrap();
}

const BOUNDARY: &str = "----qipingTestBoundary7MA4YWxkTrZu0gW";

/// A multipart body with the CSRF token and one file.
fn multipart(csrf: &str, file: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{csrf}\r\n\
         --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"upload.csv\"\r\n\
         Content-Type: text/csv\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// A multipart form with a ballot key file and other fields.
fn key_multipart(csrf: &str, fields: &[(&str, &str)], key: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{csrf}\r\n"
    );
    for (name, value) in fields {
        body.push_str(&format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"ballot_key\"; filename=\"2019H1.key\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    ));
    let mut body = body.into_bytes();
    body.extend_from_slice(key);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn upload_key<S, B>(
    app: &S,
    browser: &Browser,
    uri: &str,
    key: &[u8],
    fields: &[(&str, &str)],
) -> Answer
where
    S: Service<accounts::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let request = test::TestRequest::post()
        .uri(uri)
        .cookie(session(browser))
        .insert_header((
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        ))
        .set_payload(key_multipart(&browser.csrf, fields, key));
    send(app, request).await
}

struct Answer {
    status: u16,
    body: String,
    content_type: String,
    disposition: String,
    bytes: Vec<u8>,
}

async fn send<S, B>(app: &S, request: test::TestRequest) -> Answer
where
    S: Service<accounts::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let response = test::call_service(app, request.to_request()).await;
    let status = response.status().as_u16();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let content_type = header("content-type");
    let disposition = header("content-disposition");
    let bytes = test::read_body(response).await.to_vec();
    Answer {
        status,
        body: String::from_utf8_lossy(&bytes).into_owned(),
        content_type,
        disposition,
        bytes,
    }
}

fn session(browser: &Browser) -> actix_web::cookie::Cookie<'static> {
    actix_web::cookie::Cookie::new("qiping_session", browser.cookie.clone())
}

async fn upload<S, B>(app: &S, browser: &Browser, uri: &str, file: &[u8]) -> Answer
where
    S: Service<accounts::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let request = test::TestRequest::post()
        .uri(uri)
        .cookie(session(browser))
        .insert_header((
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        ))
        .set_payload(multipart(&browser.csrf, file));
    send(app, request).await
}

async fn post<S, B>(app: &S, browser: &Browser, uri: &str, fields: &[(&str, &str)]) -> Answer
where
    S: Service<accounts::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut form: Vec<(&str, &str)> = vec![("csrf_token", browser.csrf.as_str())];
    form.extend_from_slice(fields);
    let request = test::TestRequest::post()
        .uri(uri)
        .cookie(session(browser))
        .set_form(form);
    send(app, request).await
}

async fn fetch<S, B>(app: &S, browser: &Browser, uri: &str) -> Answer
where
    S: Service<accounts::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    send(
        app,
        test::TestRequest::get().uri(uri).cookie(session(browser)),
    )
    .await
}

fn audit_actions(conn: &mut Conn) -> Vec<(String, String, String)> {
    audit::list(conn)
        .unwrap()
        .into_iter()
        .filter(|r| r.actor == "user:admin")
        .map(|r| (r.action, r.target, r.detail))
        .collect()
}

#[actix_web::test]
async fn registry_uploads_import_valid_files_and_list_every_error_of_a_bad_one() {
    for db in common::each_backend() {
        let mut conn = db.conn();
        add_admin(&mut conn);
        let app = app(state(&db, Config::default())).await;
        let admin = sign_in(&app, "admin").await;
        let tag = db.backend;

        // A bad file: every error with line, column and value; nothing written.
        let bad = upload(
            &app,
            &admin,
            "/admin/import/units",
            &fixture("import/units_bad.csv"),
        )
        .await;
        assert_eq!(bad.status, 422, "[{tag}] {}", bad.body);
        assert!(bad.body.contains("未写入任何数据"), "[{tag}] {}", bad.body);
        assert!(
            bad.body.contains("<td>4</td><td>kind</td><td>科室</td>"),
            "[{tag}] the unknown kind on line 4: {}",
            bad.body
        );
        assert!(bad.body.contains("<td>3</td><td>code</td><td>SWJ</td>"));
        assert!(registry::list_units(&mut conn).unwrap().is_empty());
        let bad = upload(
            &app,
            &admin,
            "/admin/import/enterprises",
            &fixture("import/enterprises_bad.csv"),
        )
        .await;
        assert_eq!(bad.status, 422, "[{tag}] {}", bad.body);
        assert!(registry::list_enterprises(&mut conn).unwrap().is_empty());
        assert!(
            audit_actions(&mut conn).is_empty(),
            "a failed import is not a change"
        );

        // Good files, one of them GBK as Excel saves it.
        let good = upload(
            &app,
            &admin,
            "/admin/import/units",
            &fixture("import/units_good.csv"),
        )
        .await;
        assert_eq!(good.status, 200, "[{tag}] {}", good.body);
        assert!(good.body.contains("已导入单位"), "{}", good.body);
        let units_count = registry::list_units(&mut conn).unwrap().len();
        assert!(good.body.contains(&format!("共 {units_count} 行")));
        let good = upload(
            &app,
            &admin,
            "/admin/import/enterprises",
            &fixture("import/enterprises_gbk.csv"),
        )
        .await;
        assert_eq!(good.status, 200, "[{tag}] {}", good.body);
        assert!(good.body.contains("GB18030"), "{}", good.body);
        assert!(!registry::list_enterprises(&mut conn).unwrap().is_empty());
        let actions: Vec<String> = audit_actions(&mut conn).into_iter().map(|a| a.0).collect();
        assert_eq!(actions, ["import.units", "import.enterprises"]);

        // Without its CSRF token an upload is refused and writes nothing.
        let before = audit::list(&mut conn).unwrap().len();
        let forged = Browser {
            csrf: "forged".into(),
            ..admin.clone()
        };
        let refused = upload(
            &app,
            &forged,
            "/admin/import/units",
            &fixture("import/units_good.csv"),
        )
        .await;
        assert_eq!(refused.status, 403);
        assert_eq!(audit::list(&mut conn).unwrap().len(), before);
    }
}

#[actix_web::test]
async fn the_registry_is_searched_by_code_name_and_uscc_and_bounces_are_marked() {
    for db in common::each_backend() {
        let mut conn = db.conn();
        add_admin(&mut conn);
        let mut import_progress = |_, _| {};
        qiping::service::import::import_units(
            &mut conn,
            &Actor::cli(),
            &fixture("import/units_good.csv"),
            &mut import_progress,
        )
        .unwrap();
        qiping::service::import::import_enterprises(
            &mut conn,
            &Actor::cli(),
            &fixture("import/enterprises_good.csv"),
            &mut import_progress,
        )
        .unwrap();
        let app = app(state(&db, Config::default())).await;
        let admin = sign_in(&app, "admin").await;

        let by_code = fetch(&app, &admin, "/admin/units?q=fgw").await;
        assert_eq!(by_code.status, 200);
        assert!(
            by_code.body.contains("市发展和改革委员会"),
            "{}",
            by_code.body
        );
        assert!(!by_code.body.contains("市市场监督管理局"));
        let by_name = fetch(&app, &admin, "/admin/units?q=%E5%B8%82%E5%9C%BA").await; // 市场
        assert!(by_name.body.contains("市市场监督管理局"));
        assert!(!by_name.body.contains("市发展和改革委员会"));
        let none = fetch(&app, &admin, "/admin/units?q=%25").await; // a literal %
        assert!(none.body.contains("共 0 条"), "{}", none.body);

        let by_uscc = fetch(&app, &admin, "/admin/enterprises?q=91320312mat4r7yf5p").await;
        assert!(
            by_uscc.body.contains("徐州恒信机械制造有限公司"),
            "{}",
            by_uscc.body
        );
        assert!(!by_uscc.body.contains("徐州鼎盛物流有限公司"));
        let by_name = fetch(&app, &admin, "/admin/enterprises?q=%E9%BC%8E%E7%9B%9B").await; // 鼎盛
        assert!(by_name.body.contains("徐州鼎盛物流有限公司"));

        // Bounces: the known address is marked, the unknown one is listed; the audit row holds
        // counts, not addresses.
        let bounced = post(
            &app,
            &admin,
            "/admin/mail/bounce",
            &[(
                "addresses",
                "# 退信\nhr@hengxin-jx.com\nnobody@unknown.example\n",
            )],
        )
        .await;
        assert_eq!(bounced.status, 200, "{}", bounced.body);
        assert!(
            bounced.body.contains("已将 1 家企业标记为退信"),
            "{}",
            bounced.body
        );
        assert!(bounced.body.contains("nobody@unknown.example"));
        let listing = registry::list_enterprises(&mut conn).unwrap();
        let hengxin = listing
            .iter()
            .find(|e| e.uscc == "91320312MAT4R7YF5P")
            .unwrap();
        assert_eq!(hengxin.mail_status, "bounced");
        let page = fetch(&app, &admin, "/admin/enterprises?q=91320312MAT4R7YF5P").await;
        assert!(page.body.contains("退信"));
        let rows = audit_actions(&mut conn);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].0, "mail.bounce");
        assert!(
            !rows[0].2.contains('@'),
            "no address in the audit: {}",
            rows[0].2
        );
    }
}

const ENTERPRISES: u32 = 20;

fn units_csv() -> String {
    let mut csv = String::from("code,name,kind,parent_code,peer_group,head_name,head_since\n");
    for d in 1..=8 {
        csv.push_str(&format!(
            "D{d:02},第{d}局,department,,部门,负责人{d},2018-01-01\n"
        ));
    }
    csv
}

/// Even enterprises are in 鼓楼区, odd ones in 云龙区; the first ten are small, the rest medium.
fn enterprises_csv() -> String {
    let mut csv = String::from("uscc,name,email,district,industry,size\n");
    for n in 0..ENTERPRISES {
        csv.push_str(&format!(
            "{},企业{n},e{n}@example.com,{},制造业,{}\n",
            uscc(n),
            ["鼓楼区", "云龙区"][n as usize % 2],
            if n < 10 { "small" } else { "medium" }
        ));
    }
    csv
}

fn interactions_csv() -> String {
    let mut csv = String::from("uscc,unit_code\n");
    for n in 0..ENTERPRISES {
        for d in 1..=8 {
            csv.push_str(&format!("{},D{d:02}\n", uscc(n)));
        }
    }
    csv
}

/// Twelve anonymous responses rating every unit, department d at level (d+1)/2 ± 1.
fn answer(conn: &mut Conn, period: &str) {
    let row = campaign::find(conn, &period.parse().unwrap()).unwrap();
    let ids: BTreeMap<String, i64> = units::table
        .select((units::code, units::id))
        .load::<(String, i64)>(conn)
        .unwrap()
        .into_iter()
        .collect();
    for e in 0..12 {
        for d in 1..=8i32 {
            let level = ((d + 1) / 2 + (e % 3) - 1).clamp(1, 5);
            let answers: BTreeMap<&str, i32> = [
                "attitude",
                "efficiency",
                "policy",
                "lawful",
                "integrity",
                "overall",
            ]
            .into_iter()
            .map(|q| (q, level))
            .collect();
            diesel::insert_into(ratings::table)
                .values((
                    ratings::campaign_id.eq(row.id),
                    ratings::size.eq("small"),
                    ratings::industry.eq("制造业"),
                    ratings::district.eq("鼓楼区"),
                    ratings::unit_id.eq(ids[&format!("D{d:02}")]),
                    ratings::self_selected.eq(false),
                    ratings::answers.eq(serde_json::to_string(&answers).unwrap()),
                    ratings::problems.eq("[]"),
                ))
                .execute(conn)
                .unwrap();
        }
    }
}

#[actix_web::test]
async fn a_campaign_runs_end_to_end_from_its_page_with_every_action_audited() {
    for db in common::each_backend() {
        run_campaign_end_to_end(&db).await;
    }
}

async fn run_campaign_end_to_end(db: &TestDb) {
    let tag = db.backend;
    let mut conn = db.conn();
    add_admin(&mut conn);
    let reports = tempfile::tempdir().unwrap();
    let mut config = Config {
        link_secret: Some(crate::survey_support::server::SECRET.into()),
        reports_dir: reports.path().to_owned(),
        ..Config::default()
    };
    config.stats.draws = 2000;
    let app = app(state(db, config)).await;
    let admin = sign_in(&app, "admin").await;
    let ok = |a: &Answer, what: &str| {
        assert_eq!(a.status, 200, "[{tag}] {what}: {}", a.body);
        assert!(a.body.contains("操作成功"), "[{tag}] {what}: {}", a.body);
    };
    ok(
        &upload(&app, &admin, "/admin/import/units", units_csv().as_bytes()).await,
        "units",
    );
    ok(
        &upload(
            &app,
            &admin,
            "/admin/import/enterprises",
            enterprises_csv().as_bytes(),
        )
        .await,
        "enterprises",
    );
    let created = post(
        &app,
        &admin,
        "/admin/campaigns",
        &[("period", "2019H1"), ("template", "standard")],
    )
    .await;
    ok(&created, "create");
    assert!(created.body.contains("已创建 2019H1 评议活动"));
    let draft = fetch(&app, &admin, "/admin/campaigns/2019H1").await;
    assert_eq!(draft.status, 200);
    assert!(draft.body.contains("草稿") && draft.body.contains("actions/open"));

    ok(
        &upload(
            &app,
            &admin,
            "/admin/campaigns/2019H1/interactions",
            interactions_csv().as_bytes(),
        )
        .await,
        "interactions",
    );
    // Opening hands the ballot key over as a download and waits for it to come back; no
    // invitation exists until then.
    let campaign_id = campaign::find(&mut conn, &"2019H1".parse().unwrap())
        .unwrap()
        .id
        .to_string();
    let id_field = [("campaign_id", campaign_id.as_str()), ("confirmed", "1")];
    // First the confirmation, with the number of invitations; nothing is made yet.
    let asked = post(
        &app,
        &admin,
        "/admin/campaigns/2019H1/actions/open",
        &id_field[..1],
    )
    .await;
    assert_eq!(asked.status, 200, "[{tag}] {}", asked.body);
    assert!(
        asked.disposition.is_empty(),
        "[{tag}] no key before the confirmation"
    );
    for says in [
        "请确认".to_owned(),
        format!("将生成 {ENTERPRISES} 份邀请"),
        "已导入办事记录".to_owned(),
        "name=\"confirmed\"".to_owned(),
    ] {
        assert!(asked.body.contains(&says), "[{tag}] {says}: {}", asked.body);
    }
    let state = |conn: &mut qiping::db::Conn| {
        campaign::find(conn, &"2019H1".parse().unwrap())
            .unwrap()
            .state
    };
    assert_eq!(state(&mut conn), "draft", "[{tag}] still a draft");
    let opened = post(
        &app,
        &admin,
        "/admin/campaigns/2019H1/actions/open",
        &id_field,
    )
    .await;
    assert_eq!(opened.status, 200, "[{tag}] {}", opened.body);
    assert!(
        opened.disposition.starts_with("attachment") && opened.disposition.contains(".key"),
        "[{tag}] {}",
        opened.disposition
    );
    // A lost download is replaced while the campaign waits: the first key then opens nothing.
    let lost = opened.bytes.clone();
    let reissued = post(
        &app,
        &admin,
        "/admin/campaigns/2019H1/actions/open",
        &id_field,
    )
    .await;
    assert_eq!(reissued.status, 200, "[{tag}] {}", reissued.body);
    let key = reissued.bytes.clone();
    assert_ne!(key, lost, "[{tag}] a new key");
    let stale = upload_key(
        &app,
        &admin,
        "/admin/campaigns/2019H1/key-check",
        &lost,
        &id_field,
    )
    .await;
    assert!(stale.body.contains("操作未完成"), "[{tag}] {}", stale.body);
    let waiting = fetch(&app, &admin, "/admin/campaigns/2019H1").await;
    assert!(waiting.body.contains("待核对密钥") && waiting.body.contains("key-check"));
    assert_eq!(
        common::count(&mut conn, "SELECT COUNT(*) AS n FROM invitations"),
        0
    );
    let wrong = upload_key(
        &app,
        &admin,
        "/admin/campaigns/2019H1/key-check",
        b"qiping-ballot-key 1\nnot a key\n",
        &id_field,
    )
    .await;
    assert!(wrong.body.contains("操作未完成"), "[{tag}] {}", wrong.body);
    assert_eq!(
        common::count(&mut conn, "SELECT COUNT(*) AS n FROM invitations"),
        0
    );
    let confirmed = upload_key(
        &app,
        &admin,
        "/admin/campaigns/2019H1/key-check",
        &key,
        &id_field,
    )
    .await;
    ok(&confirmed, "key check");
    assert!(
        confirmed
            .body
            .contains(&format!("已生成 {ENTERPRISES} 份邀请"))
    );
    // Opening twice is refused with the reason, and not audited.
    let again = post(
        &app,
        &admin,
        "/admin/campaigns/2019H1/actions/open",
        &id_field,
    )
    .await;
    assert_eq!(again.status, 409, "[{tag}] {}", again.body);
    assert!(again.body.contains("操作未完成"));

    // Progress for a known fixture: enterprises 0, 1, 2, 4 and 6 answered (sealed ballots: the
    // page works out who answered from their spent keys).
    let survey = qiping::service::survey::SurveyContext::new(&crate::common::scenario::secret());
    let row = campaign::find(&mut conn, &"2019H1".parse().unwrap()).unwrap();
    for n in [0, 1, 2, 4, 6] {
        let enterprise = qiping::db::enterprises::by_uscc(&mut conn, &uscc(n))
            .unwrap()
            .unwrap();
        let invitation = qiping::db::invitations::of_enterprise(&mut conn, row.id, enterprise.id)
            .unwrap()
            .unwrap();
        let token = crate::common::scenario::secret().token(invitation.id, invitation.link_version);
        let codes: Vec<String> = (1..=8).map(|d| format!("D{d:02}")).collect();
        qiping::service::response::submit(
            &mut conn,
            &survey,
            &token,
            &crate::common::scenario::complete(&codes),
        )
        .unwrap();
    }
    let live = fetch(&app, &admin, "/admin/campaigns/2019H1").await;
    assert_eq!(live.status, 200);
    for expected in [
        "<dd id=\"invited\">20</dd>",
        "<dd id=\"completed\">5</dd>",
        "<dd id=\"response-rate\">25.0%</dd>",
        // 鼓楼区: 0, 2, 4, 6 of the ten even ones; 云龙区: 1 of ten.
        "<td>鼓楼区</td><td>10</td><td>4</td>",
        "40.0%",
        "<td>云龙区</td><td>10</td><td>1</td>",
        "10.0%",
        "<td>制造业</td><td>20</td><td>5</td>",
        // Sizes: all five among the first ten (small).
        "<td>小型</td><td>10</td><td>5</td>",
        "<td>中型</td><td>10</td><td>0</td>",
        "问卷页面被打开的次数",
    ] {
        assert!(
            live.body.contains(expected),
            "[{tag}] progress shows {expected}: {}",
            live.body
        );
    }

    ok(
        &post(&app, &admin, "/admin/campaigns/2019H1/actions/remind", &[]).await,
        "remind",
    );
    let today = qiping::domain::time::local_day(qiping::db::now());
    let later = (today + chrono::Duration::days(45)).to_string();
    let extended = post(
        &app,
        &admin,
        "/admin/campaigns/2019H1/actions/extend",
        &[("closes", later.as_str())],
    )
    .await;
    ok(&extended, "extend");
    assert!(extended.body.contains(&later));
    let reissued = post(
        &app,
        &admin,
        "/admin/campaigns/2019H1/actions/reissue",
        &[("uscc", uscc(19).to_lowercase().as_str())],
    )
    .await;
    ok(&reissued, "reissue");
    assert!(reissued.body.contains("第 2 版"));

    answer(&mut conn, "2019H1");
    // 截止评议 first shows what it will do, and asks for the key there.
    let asked = post(&app, &admin, "/admin/campaigns/2019H1/actions/close", &[]).await;
    assert_eq!(asked.status, 200, "[{tag}] {}", asked.body);
    for says in [
        "请确认",
        "现有 5 份密封答卷",
        "回收率",
        "name=\"ballot_key\"",
    ] {
        assert!(asked.body.contains(says), "[{tag}] {says}: {}", asked.body);
    }
    // A close posted without that confirmation only shows it again; nothing changes.
    let skipped = upload_key(&app, &admin, "/admin/campaigns/2019H1/close", &key, &[]).await;
    assert!(skipped.body.contains("请确认"), "[{tag}] {}", skipped.body);
    assert_eq!(state(&mut conn), "open", "[{tag}] still open");
    let confirmed = [("confirmed", "1")];
    let refused = upload_key(
        &app,
        &admin,
        "/admin/campaigns/2019H1/close",
        b"junk",
        &confirmed,
    )
    .await;
    assert!(
        refused.body.contains("操作未完成"),
        "[{tag}] {}",
        refused.body
    );
    let closed = upload_key(
        &app,
        &admin,
        "/admin/campaigns/2019H1/close",
        &key,
        &confirmed,
    )
    .await;
    ok(&closed, "close");
    assert!(
        closed.body.contains("已开启 5 份密封答卷"),
        "[{tag}] {}",
        closed.body
    );
    let closed = fetch(&app, &admin, "/admin/campaigns/2019H1").await;
    assert!(closed.body.contains("已截止") && closed.body.contains("actions/aggregate"));
    let aggregated = post(
        &app,
        &admin,
        "/admin/campaigns/2019H1/actions/aggregate",
        &[("seed", "20190630")],
    )
    .await;
    ok(&aggregated, "aggregate");
    assert!(aggregated.body.contains("随机种子 20190630"));
    // The unit's own viewer sees nothing of a campaign before it is published.
    qiping::service::accounts::add_user(
        &mut conn,
        &qiping::service::Actor::stored("test"),
        "viewer8",
        qiping::domain::Role::Unit,
        Some("D08"),
        &qiping::domain::Secret::new(PASSWORD),
    )
    .unwrap();
    let viewer = sign_in(&app, "viewer8").await;
    let unpublished = get(&app, "/unit/D08", Some(&viewer.cookie)).await;
    assert_eq!(unpublished.0, 200);
    assert!(
        unpublished.1.contains("暂无答卷"),
        "[{tag}] {}",
        unpublished.1
    );
    assert!(!unpublished.1.contains("家企业评价"));

    // The 营商办 previews what publishing would show, marked 「未公布 · 预览」: the rankings page,
    // the unit's page and the downloads. The unit's viewer gets 404 for every one of them, and
    // the public page still does not exist (issue 43).
    let preview = fetch(&app, &admin, "/admin/campaigns/2019H1/preview").await;
    assert_eq!(preview.status, 200, "[{tag}] {}", preview.body);
    for says in ["未公布 · 预览", "尚未公布", "2019H1", "preview/results.csv"] {
        assert!(
            preview.body.contains(says),
            "[{tag}] {says}: {}",
            preview.body
        );
    }
    let csv = fetch(&app, &admin, "/admin/campaigns/2019H1/preview/results.csv").await;
    assert_eq!(csv.status, 200, "[{tag}] {}", csv.body);
    assert!(
        csv.bytes.starts_with(b"\xEF\xBB\xBF"),
        "[{tag}] BOM for Excel"
    );
    assert!(
        csv.disposition.contains("preview")
            && csv
                .disposition
                .contains("%E6%9C%AA%E5%85%AC%E5%B8%83%E9%A2%84%E8%A7%88"),
        "[{tag}] the file's name says 未公布预览: {}",
        csv.disposition
    );
    let xlsx = fetch(&app, &admin, "/admin/campaigns/2019H1/preview/results.xlsx").await;
    assert_eq!(xlsx.status, 200, "[{tag}]");
    assert!(xlsx.bytes.starts_with(b"PK"), "[{tag}] a workbook");
    let unit_preview = fetch(&app, &admin, "/admin/units/D08").await;
    assert!(
        unit_preview
            .body
            .contains("2019H1 <span class=\"state unpublished\">未公布 · 预览"),
        "[{tag}] {}",
        unit_preview.body
    );
    for uri in [
        "/admin/campaigns/2019H1/preview",
        "/admin/campaigns/2019H1/preview/results.csv",
        "/admin/campaigns/2019H1/preview/results.xlsx",
    ] {
        let (status, body) = get(&app, uri, Some(&viewer.cookie)).await;
        assert_eq!(status, 404, "[{tag}] {uri}: {body}");
        assert!(!body.contains("预览"), "[{tag}] {uri}: {body}");
    }
    assert!(
        !get(&app, "/unit/D08", Some(&viewer.cookie))
            .await
            .1
            .contains("预览"),
        "[{tag}] the unit's own page shows no preview row"
    );
    assert_eq!(get(&app, "/rankings/2019H1", None).await.0, 404, "[{tag}]");

    // 公布结果 first shows what publishing will do, in numbers; the page alone changes nothing
    // (its 取消 leads back), and its button posts the form again, confirmed (issue 43).
    let asked = post(&app, &admin, "/admin/campaigns/2019H1/actions/publish", &[]).await;
    assert_eq!(asked.status, 200, "[{tag}] {}", asked.body);
    for says in [
        "请确认",
        "将公布第 1 版",
        "个单位参加排名",
        "样本不足",
        "问责提示",
        "id=\"cancel\"",
    ] {
        assert!(asked.body.contains(says), "[{tag}] {says}: {}", asked.body);
    }
    let state: String = qiping::db::schema::campaigns::table
        .filter(qiping::db::schema::campaigns::period.eq("2019H1"))
        .select(qiping::db::schema::campaigns::state)
        .first(&mut conn)
        .unwrap();
    assert_eq!(
        state, "closed",
        "[{tag}] the confirmation page published nothing"
    );
    let published = post(
        &app,
        &admin,
        "/admin/campaigns/2019H1/actions/publish",
        &[("confirmed", "1")],
    )
    .await;
    ok(&published, "publish");
    assert!(published.body.contains("第 1 版已公布"));
    // Published: the unit page's row is the published one now, no longer a preview.
    let unit_published = fetch(&app, &admin, "/admin/units/D08").await;
    assert!(
        unit_published.body.contains("<td>2019H1</td>")
            && !unit_published.body.contains("未公布 · 预览"),
        "[{tag}] {}",
        unit_published.body
    );
    assert!(
        published.body.contains("报告文件已写入"),
        "{}",
        published.body
    );

    // Every action has its audit row, in order, and the chain holds.
    let actions: Vec<String> = audit_actions(&mut conn).into_iter().map(|a| a.0).collect();
    assert_eq!(
        actions,
        [
            "import.units",
            "import.enterprises",
            "campaign.create",
            "import.interactions",
            "campaign.issue_key",
            "campaign.issue_key",
            "campaign.open",
            "campaign.remind",
            "campaign.extend",
            "campaign.reissue",
            "campaign.close",
            "campaign.unseal",
            "campaign.aggregate",
            "campaign.publish",
        ],
        "[{tag}]"
    );
    assert!(
        audit_actions(&mut conn)
            .iter()
            .all(|(_, target, _)| target.starts_with("registry:") || target == "campaign:2019H1")
    );
    audit::verify(&mut conn).unwrap();

    // The published page: results, charts inline, download buttons.
    let results = fetch(&app, &admin, "/admin/campaigns/2019H1").await;
    assert!(results.body.contains("已公布"));
    assert!(
        results.body.contains("公布结果(第 1 版)"),
        "{}",
        results.body
    );
    assert!(results.body.contains("第8局"));
    assert!(
        results
            .body
            .contains("<img src=\"/admin/reports/2019H1/charts/")
    );
    for file in ["results.csv", "results.xlsx", "results.json", "index.html"] {
        assert!(
            results
                .body
                .contains(&format!("href=\"/admin/reports/2019H1/{file}\"")),
            "download button for {file}"
        );
    }

    // Downloads: the files as written, with their content types.
    let csv = fetch(&app, &admin, "/admin/reports/2019H1/results.csv").await;
    assert_eq!(csv.status, 200);
    assert_eq!(csv.content_type, "text/csv; charset=utf-8");
    assert!(csv.bytes.starts_with(b"\xEF\xBB\xBF"), "CSV keeps its BOM");
    assert!(csv.disposition.starts_with("attachment"));
    assert_eq!(
        csv.bytes,
        std::fs::read(reports.path().join("2019H1/results.csv")).unwrap()
    );
    let xlsx = fetch(&app, &admin, "/admin/reports/2019H1/results.xlsx").await;
    assert_eq!(
        xlsx.content_type,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert!(xlsx.bytes.starts_with(b"PK"));
    let json = fetch(&app, &admin, "/admin/reports/2019H1/results.json").await;
    assert_eq!(json.content_type, "application/json");
    let parsed: serde_json::Value = serde_json::from_slice(&json.bytes).unwrap();
    assert_eq!(parsed["period"], "2019H1");
    let html = fetch(&app, &admin, "/admin/reports/2019H1/index.html").await;
    assert_eq!(html.content_type, "text/html; charset=utf-8");
    assert!(html.disposition.starts_with("attachment"));
    let chart = std::fs::read_dir(reports.path().join("2019H1/charts"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().into_string().unwrap())
        .find(|n| n.ends_with(".svg"))
        .unwrap();
    let svg = fetch(
        &app,
        &admin,
        &format!("/admin/reports/2019H1/charts/{chart}"),
    )
    .await;
    assert_eq!(svg.status, 200);
    assert_eq!(svg.content_type, "image/svg+xml");
    let png_name = chart.replace(".svg", ".png");
    let png = fetch(
        &app,
        &admin,
        &format!("/admin/reports/2019H1/charts/{png_name}"),
    )
    .await;
    assert_eq!(png.content_type, "image/png");
    assert!(png.bytes.starts_with(b"\x89PNG"));
    for outside in [
        "/admin/reports/2019H1/..%2F..%2Fqiping.db",
        "/admin/reports/2019H1/charts/..%2F..%2Fresults.csv",
        "/admin/reports/2019H1/REASON.txt",
    ] {
        assert_eq!(fetch(&app, &admin, outside).await.status, 404, "{outside}");
    }

    // The unit's page: distributions (seventeen respondents: twelve written directly, five sealed
    // ballots opened at the close) and the published trend.
    let unit = fetch(&app, &admin, "/admin/units/D08").await;
    assert_eq!(unit.status, 200);
    assert!(unit.body.contains("第8局"));
    assert!(unit.body.contains("2019H1(17 家企业评价)"), "{}", unit.body);
    assert!(unit.body.contains("非常满意"));
    let own = get(&app, "/unit/D08", Some(&viewer.cookie)).await;
    assert!(
        own.1.contains("2019H1(17 家企业评价)"),
        "[{tag}] the viewer sees the same page once published: {}",
        own.1
    );
    assert_eq!(get(&app, "/unit/D01", Some(&viewer.cookie)).await.0, 404);
}

#[actix_web::test]
async fn a_hidden_comment_leaves_the_unit_page_and_is_audited_without_its_text() {
    for db in common::each_backend() {
        let tag = db.backend;
        let mut conn = seeded(&db);
        // A sixth commenter, so that five remain after one comment is hidden.
        add_response(&mut conn, 9, 2, "第六家留言");
        let app = app(state(&db, Config::default())).await;
        let admin = sign_in(&app, "admin").await;
        let viewer = sign_in(&app, "unit_a").await;

        let before = get(&app, "/unit/A01-1", Some(&viewer.cookie)).await;
        assert_eq!(before.0, 200);
        assert!(before.1.contains("五家留言1") && before.1.contains("第六家留言"));

        let listing = fetch(&app, &admin, "/admin/campaigns/2019H2/comments").await;
        assert_eq!(listing.status, 200);
        assert!(
            listing.body.contains("少数留言6"),
            "the moderator sees every comment"
        );
        let rating_id: i64 = ratings::table
            .filter(ratings::comment.eq("五家留言1"))
            .select(ratings::id)
            .first(&mut conn)
            .unwrap();
        assert!(listing.body.contains(&format!("comment-{rating_id}")));

        // A reason is required.
        let no_reason = post(
            &app,
            &admin,
            &format!("/admin/comments/{rating_id}/hide"),
            &[("reason", "  ")],
        )
        .await;
        assert_eq!(no_reason.status, 400, "[{tag}] {}", no_reason.body);

        let hidden = post(
            &app,
            &admin,
            &format!("/admin/comments/{rating_id}/hide"),
            &[("reason", "可识别留言企业")],
        )
        .await;
        assert_eq!(hidden.status, 200, "[{tag}] {}", hidden.body);
        assert!(hidden.body.contains("已隐藏"));

        for page in ["/unit/A01-1", "/unit/A01"] {
            let after = get(&app, page, Some(&viewer.cookie)).await;
            assert_eq!(after.0, 200);
            assert!(
                !after.1.contains("五家留言1"),
                "[{tag}] {page}: {}",
                after.1
            );
            assert!(
                after.1.contains("五家留言2") && after.1.contains("第六家留言"),
                "[{tag}] five others remain"
            );
        }
        let home = get(&app, "/unit/", Some(&viewer.cookie)).await;
        assert!(!home.1.contains("五家留言1"));
        let admin_view = fetch(&app, &admin, "/admin/units/A01-1").await;
        assert!(!admin_view.body.contains("五家留言1"));
        let listing = fetch(&app, &admin, "/admin/campaigns/2019H2/comments").await;
        assert!(listing.body.contains("已隐藏:可识别留言企业"));

        let rows = audit_actions(&mut conn);
        assert_eq!(rows.len(), 1, "[{tag}] {rows:?}");
        let (action, target, detail) = &rows[0];
        assert_eq!(action, "comment.hide");
        assert_eq!(target, &format!("rating:{rating_id}"));
        assert!(detail.contains("可识别留言企业") && detail.contains("A01-1"));
        assert!(
            !detail.contains("五家留言1"),
            "the text stays out of the log"
        );

        // Hiding it again is refused: a clash with what is stored, not a bad form.
        let again = post(
            &app,
            &admin,
            &format!("/admin/comments/{rating_id}/hide"),
            &[("reason", "重复")],
        )
        .await;
        assert_eq!(again.status, 409);
        assert_eq!(audit_actions(&mut conn).len(), 1);
    }
}

#[actix_web::test]
async fn a_comment_reaches_units_only_once_approved_and_each_review_is_audited() {
    for db in common::each_backend() {
        let tag = db.backend;
        let mut conn = seeded(&db);
        // Three comments the close has just opened: 未审核.
        for (id, text) in [(9, "待审留言甲"), (10, "待审留言乙"), (11, "待审留言丙")]
        {
            add_response(&mut conn, id, 2, text);
        }
        diesel::update(ratings::table.filter(ratings::comment.like("待审留言%")))
            .set(ratings::comment_review.eq("pending"))
            .execute(&mut conn)
            .unwrap();
        let app = app(state(&db, Config::default())).await;
        let admin = sign_in(&app, "admin").await;
        let viewer = sign_in(&app, "unit_a").await;
        let unit_page = get(&app, "/unit/A01-1", Some(&viewer.cookie)).await;
        assert!(
            !unit_page.1.contains("待审留言"),
            "[{tag}] a unit sees a comment nobody approved"
        );
        let listing = fetch(&app, &admin, "/admin/campaigns/2019H2/comments").await;
        assert!(
            listing.body.contains("还有 3 条留言未审核") && listing.body.contains("未审核"),
            "[{tag}] {}",
            listing.body
        );
        let first: i64 = ratings::table
            .filter(ratings::comment.eq("待审留言甲"))
            .select(ratings::id)
            .first(&mut conn)
            .unwrap();
        let approved = post(
            &app,
            &admin,
            &format!("/admin/comments/{first}/approve"),
            &[],
        )
        .await;
        assert_eq!(approved.status, 200, "[{tag}] {}", approved.body);
        let unit_page = get(&app, "/unit/A01-1", Some(&viewer.cookie)).await;
        assert!(unit_page.1.contains("待审留言甲") && !unit_page.1.contains("待审留言乙"));
        let again = post(
            &app,
            &admin,
            &format!("/admin/comments/{first}/approve"),
            &[],
        )
        .await;
        assert_eq!(again.status, 409, "[{tag}] approved twice");

        let all = post(
            &app,
            &admin,
            "/admin/campaigns/2019H2/comments/approve-all",
            &[],
        )
        .await;
        assert_eq!(all.status, 200, "[{tag}] {}", all.body);
        assert!(all.body.contains("2 条"), "[{tag}] {}", all.body);
        let unit_page = get(&app, "/unit/A01-1", Some(&viewer.cookie)).await;
        assert!(unit_page.1.contains("待审留言乙") && unit_page.1.contains("待审留言丙"));

        let rows = audit_actions(&mut conn);
        let actions: Vec<&str> = rows.iter().map(|(a, _, _)| a.as_str()).collect();
        assert_eq!(
            actions,
            ["comment.approve", "comment.approve_all"],
            "[{tag}]"
        );
        assert_eq!(rows[0].1, format!("rating:{first}"));
        assert!(
            rows[1].2.contains("\"approved\":2"),
            "[{tag}] {}",
            rows[1].2
        );
        assert!(
            rows.iter().all(|(_, _, d)| !d.contains("待审留言")),
            "[{tag}] the text stays out of the log"
        );
    }
}
