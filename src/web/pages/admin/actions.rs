//! The campaign actions of its page: open, remind, extend, reissue a link, close, discard,
//! aggregate, publish — each the service the CLI calls, which writes its own audit row; the page answers
//! with what it did.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use serde::Deserialize;

use super::campaign::{optional, parse_period};
use super::outcome::{Outcome, failed};
use crate::db::{Conn, now};
use crate::domain::Period;
use crate::service::campaign as campaigns;
use crate::service::links::LinkSecret;
use crate::service::{Actor, ServiceError, aggregate, outreach, publication};
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
    /// `publish`: a correction's reason (supersedes the current version); `discard`: why.
    reason: String,
    /// `discard`: the campaign the page showed (a stale page must not discard the period's next).
    campaign_id: String,
}

/// `POST /admin/campaigns/{period}/actions/{action}`: `open`, `remind`, `extend`, `reissue`,
/// `close`, `discard`, `aggregate` or `publish`.
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
    Discard,
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
            "discard" => Self::Discard,
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
            Self::Discard => "作废本期评议",
            Self::Aggregate => "计算结果",
            Self::Publish => "公布结果",
        }
    }

    /// Runs the action (the service writes its audit row); the lines say what was done.
    fn run(
        self,
        conn: &mut Conn,
        config: &crate::config::Config,
        actor: &Actor,
        period: &Period,
        form: &ActionForm,
    ) -> Result<Vec<String>, ServiceError> {
        match self {
            Self::Open => {
                let secret = LinkSecret::from_config(config.link_secret.as_deref())?;
                let r = campaigns::open(conn, actor, &secret, period)?;
                Ok(vec![format!(
                    "{period} 评议活动已开始:已生成 {} 份邀请,邮件已排队,由发送程序陆续发出",
                    r.invited
                )])
            }
            Self::Remind => {
                let r = outreach::remind(conn, actor, period, &config.reminders, None, now())?;
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
                let r = outreach::extend(conn, actor, period, closes)?;
                Ok(vec![format!(
                    "截止日期已延至 {closes};已为 {} 家未作答的企业排队延期通知",
                    r.queued
                )])
            }
            Self::Reissue => {
                let secret = LinkSecret::from_config(config.link_secret.as_deref())?;
                let version = outreach::reissue(conn, actor, &secret, period, &form.uscc)?;
                Ok(vec![format!(
                    "已为 {} 重新生成问卷链接(第 {version} 版),原链接已失效;新邀请邮件已排队",
                    form.uscc.trim().to_uppercase()
                )])
            }
            Self::Close => {
                aggregate::close(conn, actor, period)?;
                Ok(vec![format!(
                    "{period} 评议活动已截止:问卷链接全部失效,不再接受答卷"
                )])
            }
            Self::Discard => {
                let expected = optional::<i64>(&form.campaign_id, "评议活动编号")?;
                let r = campaigns::discard(conn, actor, period, &form.reason, expected)?;
                Ok(vec![
                    format!(
                        "{period} 评议活动已作废:已删除 {} 份答卷,不会公布任何结果,问卷链接全部失效",
                        r.answers_deleted
                    ),
                    "可以重新创建并开始该期评议活动".to_owned(),
                ])
            }
            Self::Aggregate => {
                let seed = optional::<u64>(&form.seed, "随机种子")?;
                let r = aggregate::aggregate(
                    conn,
                    actor,
                    period,
                    &config.stats,
                    config.weighting.enabled,
                    seed,
                )?;
                Ok(vec![format!(
                    "结果已计算(尚未公布):{} 份评分,{} 个单位,其中 {} 个排名、{} 个样本不足;\
                     方法版本 {},随机种子 {}",
                    r.ratings, r.units, r.ranked, r.suppressed, r.method_version, r.seed
                )])
            }
            Self::Publish => {
                let reason = Some(form.reason.trim()).filter(|r| !r.is_empty());
                let r = publication::publish(conn, actor, period, reason, &config.stats)?;
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
                match publication::write_reports(conn, period, &config.reports_dir, &config.stats) {
                    Ok(dir) => lines.push(format!("报告文件已写入 {}", dir.display())),
                    Err(e) => {
                        tracing::error!("{period} 的报告文件写入失败: {e}");
                        lines.push(format!(
                            "结果已公布,但报告文件写入失败(详情见服务器日志;可运行 qiping campaign report {period} 重新生成)"
                        ));
                    }
                }
                Ok(lines)
            }
        }
    }
}
