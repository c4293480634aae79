//! A campaign: create it, import its interactions (both audited), and its page: live progress
//! by stratum, the actions its state allows (`actions`), results with the charts inline, the
//! download buttons.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::NaiveDate;
use serde::Deserialize;

use super::outcome::{Outcome, failed};
use super::registry::import_summary;
use crate::db::{Conn, now};
use crate::domain::Period;
use crate::report::model::PublicResults;
use crate::service::campaign::{self as campaigns, CampaignSummary, CreateCampaign};
use crate::service::progress::{self, CampaignProgress, StratumRate};
use crate::service::report_files::{self, ReportFile};
use crate::service::{ServiceError, import, publication};
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

pub(super) fn parse_period(text: &str) -> Result<Period, WebError> {
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
    let survey = state.survey.templates.clone();
    let (progress, results, results_error) = state
        .with_conn(move |conn| {
            let progress = progress::of_campaign(conn, &period, survey.spent_keys().ok())?;
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
                Err(ServiceError::Internal(detail)) => {
                    tracing::error!(%detail, "已公布的结果无法读取");
                    (
                        None,
                        Some("已公布的结果无法读取,详情见服务器日志".to_owned()),
                    )
                }
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
    /// The 加权 box: present when ticked.
    weighted: Option<String>,
}

pub(super) fn optional<T: std::str::FromStr>(
    text: &str,
    what: &str,
) -> Result<Option<T>, ServiceError> {
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
                    weighted: form.weighted.is_some(),
                };
                if request.seed.is_some() && request.sample.is_none() {
                    return Err(ServiceError::Invalid(
                        "随机种子只用于抽样:请同时填写样本量".into(),
                    ));
                }
                campaigns::create(conn, &actor, &templates_dir, &request)
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
    let CampaignUpload {
        form,
        period,
        chrome,
        back_url,
    } = CampaignUpload::read(&admin, &period, &req, payload).await?;
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
            Ok(import::import_interactions(
                conn,
                &actor,
                &period,
                &bytes,
                &mut |_, _| {},
            ))
        })
        .await?;
    match outcome {
        Ok(r) => Outcome::done(chrome, title, vec![import_summary("办事记录", &r)], back)
            .respond(StatusCode::OK),
        Err(e) => failed(chrome, title, e, back),
    }
}

/// `GET /admin/campaigns/{period}/invitees.csv`: the enterprises the campaign invites (a draft:
/// those opening would invite), as CSV for Excel.
pub async fn invitees_csv(
    state: web::Data<AppState>,
    _admin: RequireRole<Admin>,
    period: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let period = parse_period(&period)?;
    let bytes = state
        .with_conn(move |conn| {
            let list = crate::service::campaign::invitee_list(conn, &period)?;
            Ok(crate::service::campaign::invitee_csv(&list)?)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{period}-invitees.csv\""),
        ))
        .body(bytes))
}

/// What every multipart form of a campaign's page starts with: the form read (up to the upload
/// limit) and its CSRF token checked, the period, the page chrome and the link back.
pub(super) struct CampaignUpload {
    pub form: upload::UploadForm,
    pub period: crate::domain::Period,
    pub chrome: Chrome,
    pub back_url: String,
}

impl CampaignUpload {
    pub(super) async fn read(
        admin: &RequireRole<Admin>,
        period: &str,
        req: &HttpRequest,
        payload: web::Payload,
    ) -> Result<Self, WebError> {
        let form = upload::read(req, payload).await.map_err(upload::refused)?;
        csrf::check(admin.user(), form.field("csrf_token"))?;
        let period = parse_period(period)?;
        Ok(Self {
            form,
            chrome: Chrome::of(admin.user()),
            back_url: format!("/admin/campaigns/{period}"),
            period,
        })
    }
}
