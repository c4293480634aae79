//! The campaign actions of its page: open, remind, extend, reissue a link, close, aggregate,
//! publish — each the service the CLI calls, run with its audit row, answering with what it did.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::json;

use super::campaign::{optional, parse_period};
use super::outcome::{Outcome, failed};
use crate::db::{Conn, now};
use crate::domain::Period;
use crate::service::admin::audited;
use crate::service::campaign as campaigns;
use crate::service::links::LinkSecret;
use crate::service::{ServiceError, aggregate, outreach, publication};
use crate::web::AppState;
use crate::web::auth::{Admin, RequireRole, csrf};
use crate::web::error::WebError;
use crate::web::pages::Chrome;

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
