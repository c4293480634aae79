//! A campaign end to end: create it, import its interactions, open, remind, extend, reissue a
//! link, close, aggregate, publish — each calling the service the CLI calls, each audited — and
//! its page: live progress by stratum, results with the charts inline, the download buttons.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::json;

use super::outcome::{Outcome, failed};
use super::registry::import_summary;
use crate::db::{Conn, now};
use crate::domain::Period;
use crate::report::model::PublicResults;
use crate::service::admin::audited;
use crate::service::campaign::{self as campaigns, CampaignSummary, CreateCampaign};
use crate::service::links::LinkSecret;
use crate::service::progress::{self, CampaignProgress, StratumRate};
use crate::service::report_files::{self, ReportFile};
use crate::service::{ServiceError, aggregate, import, outreach, publication};
use crate::web::AppState;
use crate::web::auth::{Admin, RequireRole, csrf};
use crate::web::error::WebError;
use crate::web::pages::{Chrome, private_page};
use crate::web::upload;

#[derive(Template)]
#[template(path = "admin/campaign.html")]
struct CampaignPage {
    chrome: Chrome,
    period: String,
    progress: CampaignProgress,
    state_label: String,
    results: Option<PublicResults>,
    results_error: Option<String>,
    files: Vec<ReportFile>,
    charts: Vec<ReportFile>,
    today: NaiveDate,
}

impl CampaignPage {
    /// The three tables of response rates: by district, industry and size.
    fn strata(&self) -> [(&'static str, &[StratumRate]); 3] {
        [
            ("区县", &self.progress.by_district),
            ("行业", &self.progress.by_industry),
            ("规模", &self.progress.by_size),
        ]
    }
}

fn parse_period(text: &str) -> Result<Period, WebError> {
    text.parse().map_err(|_| WebError::NotFound)
}

/// `GET /admin/campaigns/{period}`.
pub async fn show(
    state: web::Data<AppState>,
    admin: RequireRole<Admin>,
    period: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let period = parse_period(&period)?;
    let reports_dir = state.config.reports_dir.clone();
    let (progress, results, results_error) = state
        .with_conn(move |conn| {
            let progress = progress::of_campaign(conn, &period)?;
            // A stored publication that cannot be read is said on the page, not fatal to it.
            let (results, error) = match publication::public_results(conn, &period, None) {
                Ok(mut r) => {
                    // Best first; the units listed without a rank after them.
                    for group in &mut r.peer_groups {
                        group.units.sort_by_key(|u| u.rank.unwrap_or(u32::MAX));
                    }
                    (Some(r), None)
                }
                Err(ServiceError::NotFound(_)) => (None, None),
                Err(ServiceError::Invalid(message)) => (None, Some(message)),
                Err(e) => return Err(e.into()),
            };
            Ok((progress, results, error))
        })
        .await?;
    let period = parse_period(&progress.summary.period)?;
    let files = report_files::existing(&reports_dir, &period);
    let charts = files
        .iter()
        .filter(|f| f.name.ends_with(".svg"))
        .cloned()
        .collect();
    private_page(&CampaignPage {
        chrome: Chrome::of(admin.user()),
        state_label: super::state_label(&progress.summary.state),
        period: progress.summary.period.clone(),
        progress,
        results,
        results_error,
        files,
        charts,
        today: crate::domain::time::local_day(now()),
    })
}

/// The create form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CreateForm {
    csrf_token: Option<String>,
    period: String,
    template: String,
    opens: String,
    closes: String,
    sample: String,
    seed: String,
}

fn optional<T: std::str::FromStr>(text: &str, what: &str) -> Result<Option<T>, ServiceError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse()
        .map(Some)
        .map_err(|_| ServiceError::Invalid(format!("{what}「{text}」格式有误")))
}

/// `POST /admin/campaigns`: a draft campaign from a questionnaire template.
pub async fn create(
    state: web::Data<AppState>,
    admin: RequireRole<Admin>,
    form: web::Form<CreateForm>,
) -> Result<HttpResponse, WebError> {
    let form = form.into_inner();
    csrf::check(admin.user(), form.csrf_token.as_deref())?;
    let chrome = Chrome::of(admin.user());
    let actor = admin.user().actor();
    let templates_dir = state.config.templates_dir.clone();
    let outcome = state
        .with_conn(move |conn| {
            let run = |conn: &mut Conn| -> Result<CampaignSummary, ServiceError> {
                let period: Period = form.period.trim().parse()?;
                let template = match form.template.trim() {
                    "" => "standard",
                    t => t,
                };
                let request = CreateCampaign {
                    period,
                    template_name: template,
                    opens_on: optional(&form.opens, "开始日期")?,
                    closes_on: optional(&form.closes, "截止日期")?,
                    sample: optional(&form.sample, "样本量")?,
                    seed: optional(&form.seed, "随机种子")?,
                };
                if request.seed.is_some() && request.sample.is_none() {
                    return Err(ServiceError::Invalid(
                        "随机种子只用于抽样:请同时填写样本量".into(),
                    ));
                }
                audited(
                    conn,
                    &actor,
                    "campaign.create",
                    &format!("campaign:{period}"),
                    |conn| campaigns::create(conn, &templates_dir, &request),
                    |s| {
                        json!({"template": s.template, "opens": s.opens, "closes": s.closes,
                               "sample_size": s.sample_size, "sample_seed": s.sample_seed})
                    },
                )
            };
            Ok(run(conn))
        })
        .await?;
    match outcome {
        Ok(s) => {
            let mut lines = vec![format!(
                "已创建 {} 评议活动(草稿),问卷 {},{} 至 {}",
                s.period, s.template, s.opens, s.closes
            )];
            if let (Some(n), Some(seed)) = (s.sample_size, s.sample_seed) {
                lines.push(format!("分层随机抽取 {n} 家企业,随机种子 {seed}(已记录)"));
            }
            let back = format!("/admin/campaigns/{}", s.period);
            Outcome::done(chrome, "创建评议活动", lines, (&back, "前往该评议活动"))
                .respond(StatusCode::OK)
        }
        Err(e) => failed(chrome, "创建评议活动", e, ("/admin/", "返回评议活动列表")),
    }
}

/// `POST /admin/campaigns/{period}/interactions` (multipart: `file`, `csrf_token`): which units
/// each enterprise dealt with in the period.
pub async fn import_interactions(
    state: web::Data<AppState>,
    admin: RequireRole<Admin>,
    period: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, WebError> {
    let form = upload::read(&req, payload).await.map_err(upload::refused)?;
    csrf::check(admin.user(), form.field("csrf_token"))?;
    let period = parse_period(&period)?;
    let chrome = Chrome::of(admin.user());
    let back_url = format!("/admin/campaigns/{period}");
    let back = (back_url.as_str(), "返回该评议活动");
    let title = "导入办事记录";
    let Some(bytes) = form.files.get("file").filter(|b| !b.is_empty()).cloned() else {
        return Outcome {
            ok: false,
            ..Outcome::done(chrome, title, vec!["请选择要上传的 CSV 文件".into()], back)
        }
        .respond(StatusCode::BAD_REQUEST);
    };
    let actor = admin.user().actor();
    let outcome = state
        .with_conn(move |conn| {
            Ok(audited(
                conn,
                &actor,
                "import.interactions",
                &format!("campaign:{period}"),
                |conn| import::import_interactions(conn, &period, &bytes, &mut |_, _| {}),
                |r| json!(r),
            ))
        })
        .await?;
    match outcome {
        Ok(r) => Outcome::done(chrome, title, vec![import_summary("办事记录", &r)], back)
            .respond(StatusCode::OK),
        Err(e) => failed(chrome, title, e, back),
    }
}

/// The fields any campaign action may use.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ActionForm {
    csrf_token: Option<String>,
    /// `extend`: the new last day.
    closes: String,
    /// `reissue`: the enterprise.
    uscc: String,
    /// `aggregate`: reproduce an earlier run.
    seed: String,
    /// `publish`: a correction's reason (supersedes the current version).
    reason: String,
}

/// `POST /admin/campaigns/{period}/actions/{action}`: `open`, `remind`, `extend`, `reissue`,
/// `close`, `aggregate` or `publish`.
pub async fn action(
    state: web::Data<AppState>,
    admin: RequireRole<Admin>,
    path: web::Path<(String, String)>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, WebError> {
    let form = form.into_inner();
    csrf::check(admin.user(), form.csrf_token.as_deref())?;
    let (period, name) = path.into_inner();
    let period = parse_period(&period)?;
    let Some(action) = CampaignAction::parse(&name) else {
        return Err(WebError::NotFound);
    };
    let chrome = Chrome::of(admin.user());
    let actor = admin.user().actor();
    let config = state.config.clone();
    let back_url = format!("/admin/campaigns/{period}");
    let outcome = state
        .with_conn(move |conn| Ok(action.run(conn, &config, &actor, &period, &form)))
        .await?;
    let back = (back_url.as_str(), "返回该评议活动");
    match outcome {
        Ok(lines) => Outcome::done(chrome, action.title(), lines, back).respond(StatusCode::OK),
        Err(e) => failed(chrome, action.title(), e, back),
    }
}

/// The actions of a campaign's page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CampaignAction {
    Open,
    Remind,
    Extend,
    Reissue,
    Close,
    Aggregate,
    Publish,
}

impl CampaignAction {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "open" => Self::Open,
            "remind" => Self::Remind,
            "extend" => Self::Extend,
            "reissue" => Self::Reissue,
            "close" => Self::Close,
            "aggregate" => Self::Aggregate,
            "publish" => Self::Publish,
            _ => return None,
        })
    }

    fn title(self) -> &'static str {
        match self {
            Self::Open => "开始评议(发放邀请)",
            Self::Remind => "发送提醒",
            Self::Extend => "延长截止日期",
            Self::Reissue => "重新发放链接",
            Self::Close => "截止评议",
            Self::Aggregate => "计算结果",
            Self::Publish => "公布结果",
        }
    }

    /// Runs the action with its audit row; the lines say what was done.
    fn run(
        self,
        conn: &mut Conn,
        config: &crate::config::Config,
        actor: &str,
        period: &Period,
        form: &ActionForm,
    ) -> Result<Vec<String>, ServiceError> {
        let target = format!("campaign:{period}");
        let audit = |name: &str| format!("campaign.{name}");
        match self {
            Self::Open => {
                let secret = LinkSecret::from_config(config.link_secret.as_deref())?;
                let r = audited(
                    conn,
                    actor,
                    &audit("open"),
                    &target,
                    |c| campaigns::open(c, &secret, period),
                    |r| json!({"invited": r.invited}),
                )?;
                Ok(vec![format!(
                    "{period} 评议活动已开始:已生成 {} 份邀请,邮件已排队,由发送程序陆续发出",
                    r.invited
                )])
            }
            Self::Remind => {
                let r = audited(
                    conn,
                    actor,
                    &audit("remind"),
                    &target,
                    |c| outreach::remind(c, period, &config.reminders, None, now()),
                    |r| json!({"queued": r.queued}),
                )?;
                Ok(vec![format!(
                    "已为 {} 家未作答的企业排队提醒邮件(每家最多 {} 次,间隔至少 {} 天)",
                    r.queued, config.reminders.max_per_enterprise, config.reminders.min_gap_days
                )])
            }
            Self::Extend => {
                let closes: NaiveDate = form.closes.trim().parse().map_err(|_| {
                    ServiceError::Invalid(format!(
                        "新的截止日期「{}」格式有误,应为 YYYY-MM-DD",
                        form.closes.trim()
                    ))
                })?;
                let r = audited(
                    conn,
                    actor,
                    &audit("extend"),
                    &target,
                    |c| outreach::extend(c, period, closes),
                    |r| json!({"closes": closes, "queued": r.queued}),
                )?;
                Ok(vec![format!(
                    "截止日期已延至 {closes};已为 {} 家未作答的企业排队延期通知",
                    r.queued
                )])
            }
            Self::Reissue => {
                let uscc = form.uscc.trim().to_uppercase();
                if uscc.is_empty() {
                    return Err(ServiceError::Invalid("请填写统一社会信用代码".into()));
                }
                let secret = LinkSecret::from_config(config.link_secret.as_deref())?;
                let version = audited(
                    conn,
                    actor,
                    &audit("reissue"),
                    &target,
                    |c| outreach::reissue(c, &secret, period, &uscc),
                    |v| json!({"uscc": uscc, "link_version": v}),
                )?;
                Ok(vec![format!(
                    "已为 {uscc} 重新生成问卷链接(第 {version} 版),原链接已失效;新邀请邮件已排队"
                )])
            }
            Self::Close => {
                audited(
                    conn,
                    actor,
                    &audit("close"),
                    &target,
                    |c| aggregate::close(c, period),
                    |_| json!({}),
                )?;
                Ok(vec![format!(
                    "{period} 评议活动已截止:问卷链接全部失效,不再接受答卷"
                )])
            }
            Self::Aggregate => {
                let seed = optional::<u64>(&form.seed, "随机种子")?;
                let r = audited(
                    conn,
                    actor,
                    &audit("aggregate"),
                    &target,
                    |c| {
                        aggregate::aggregate(
                            c,
                            period,
                            &config.stats,
                            config.weighting.enabled,
                            seed,
                        )
                    },
                    |r| {
                        json!({"seed": r.seed, "method_version": r.method_version,
                               "ratings": r.ratings, "ranked": r.ranked})
                    },
                )?;
                Ok(vec![format!(
                    "结果已计算(尚未公布):{} 份评分,{} 个单位,其中 {} 个排名、{} 个样本不足;\
                     方法版本 {},随机种子 {}",
                    r.ratings, r.units, r.ranked, r.suppressed, r.method_version, r.seed
                )])
            }
            Self::Publish => {
                let reason = Some(form.reason.trim()).filter(|r| !r.is_empty());
                let r = audited(
                    conn,
                    actor,
                    &audit("publish"),
                    &target,
                    |c| publication::publish(c, period, reason, &config.stats),
                    |r| json!({"version": r.version, "flags": r.flags, "reason": reason}),
                )?;
                let mut lines = vec![format!(
                    "{period} 第 {} 版已公布:问责提示 {} 个(可信 {} 个)",
                    r.version, r.flags, r.credible_flags
                )];
                if let Some(previous) = &r.no_previous_campaign {
                    lines.push(format!(
                        "上一半年度 {previous} 没有已公布的评议结果,本期不产生问责提示"
                    ));
                }
                // The publication stands even if the files cannot be written; say so.
                match publication::write_reports(conn, period, &config.reports_dir, &config.stats)
                {
                    Ok(dir) => lines.push(format!("报告文件已写入 {}", dir.display())),
                    Err(e) => lines.push(format!(
                        "结果已公布,但报告文件写入失败:{e}(可运行 qiping campaign report {period} 重新生成)"
                    )),
                }
                Ok(lines)
            }
        }
    }
}
