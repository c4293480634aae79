//! The campaign actions of its page: open, remind, extend, reissue a link, close, discard,
//! aggregate, publish — each the service the CLI calls, which writes its own audit row; the page answers
//! with what it did.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDate;
use serde::Deserialize;
use zeroize::Zeroizing;

use super::campaign::{CampaignUpload, optional, parse_period};
use super::outcome::{Outcome, failed};
use crate::ballot::keyfile;
use crate::db::{Conn, now};
use crate::domain::Period;
use crate::service::campaign as campaigns;
use crate::service::closing::{self, CloseOptions};
use crate::service::links::LinkSecret;
use crate::service::{Actor, ServiceError, aggregate, confirmation, outreach, publication};
use crate::web::AppState;
use crate::web::auth::{Admin, RequireRole, csrf};
use crate::web::error::WebError;
use crate::web::pages::Chrome;
use crate::web::upload::UploadForm;

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
    /// `open`: the office confirms a campaign without interactions (enterprises choose their
    /// units); any value is a yes.
    without_interactions: Option<String>,
    /// `discard`, `open`: the campaign the page showed (a stale page must not act on the period's
    /// next).
    campaign_id: String,
    /// `open`, `discard`, `publish`: present once the office has seen the confirmation page with
    /// the numbers ([`Confirmation`]); without it the action only shows that page. (`close` always
    /// shows it: the key file is chosen there.)
    confirmed: Option<String>,
}

/// The page that asks before an irreversible action (issue 43): what it will do, in numbers, a
/// button that posts the same form again confirmed, and a way back that changes nothing.
#[derive(askama::Template)]
#[template(path = "admin/confirm.html")]
struct Confirmation {
    chrome: Chrome,
    title: &'static str,
    lines: Vec<String>,
    action: String,
    /// The form's own fields, posted again.
    fields: Vec<(&'static str, String)>,
    /// The close: the form asks for the ballot key file (multipart) beside the confirmation.
    key_upload: bool,
    /// Publishing: the address of the results' 「未公布 · 预览」.
    preview: Option<String>,
    back: String,
}

/// `POST /admin/campaigns/{period}/actions/{action}`: `open`, `remind`, `extend`, `reissue`,
/// `close`, `discard`, `aggregate` or `publish`. The irreversible ones (`open`, `close`,
/// `discard`, `publish`) first answer a confirmation page with their numbers.
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
    let confirmed = form.confirmed.is_some();
    match action {
        CampaignAction::Open if confirmed => {
            return issue_key(&state, chrome, actor, period, &form, &back_url).await;
        }
        CampaignAction::Open
        | CampaignAction::Close
        | CampaignAction::Discard
        | CampaignAction::Publish
            if !confirmed || action == CampaignAction::Close =>
        {
            return confirm(&state, chrome, action, period, form, back_url).await;
        }
        _ => {}
    }
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
    const ALL: [Self; 8] = [
        Self::Open,
        Self::Remind,
        Self::Extend,
        Self::Reissue,
        Self::Close,
        Self::Discard,
        Self::Aggregate,
        Self::Publish,
    ];

    fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The action's name in its address.
    fn name(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Remind => "remind",
            Self::Extend => "extend",
            Self::Reissue => "reissue",
            Self::Close => "close",
            Self::Discard => "discard",
            Self::Aggregate => "aggregate",
            Self::Publish => "publish",
        }
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
            Self::Open | Self::Close => Err(ServiceError::internal(
                self.title(),
                "handled by issue_key / close",
            )),
            Self::Remind => {
                let secret = LinkSecret::from_config(config.link_secret.as_deref())?;
                let r =
                    outreach::remind(conn, actor, &secret, period, &config.reminders, None, now())?;
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
                let secret = LinkSecret::from_config(config.link_secret.as_deref())?;
                let r = outreach::extend(conn, actor, &secret, period, closes)?;
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
                if r.comments_unreviewed > 0 {
                    lines.push(crate::service::moderation::unreviewed_note(
                        &r.period,
                        r.comments_unreviewed,
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

/// The web's open, first half: the ballot key comes back as a file download in the response to
/// this POST and is written nowhere on the server; the campaign then waits 「待核对密钥」 until the
/// file is uploaded back ([`confirm_key`]).
async fn issue_key(
    state: &AppState,
    chrome: Chrome,
    actor: Actor,
    period: Period,
    form: &ActionForm,
    back_url: &str,
) -> Result<HttpResponse, WebError> {
    let expected = match optional::<i64>(&form.campaign_id, "评议活动编号") {
        Ok(expected) => expected,
        Err(e) => return failed(chrome, "开始评议", e, (back_url, "返回该评议活动")),
    };
    let without_interactions = form.without_interactions.is_some();
    let issued = state
        .with_conn(move |conn| {
            Ok(campaigns::issue_key(
                conn,
                &actor,
                &period,
                expected,
                without_interactions,
            ))
        })
        .await?;
    match issued {
        Ok(key) => Ok(HttpResponse::Ok()
            .content_type("application/octet-stream")
            .insert_header((
                "Content-Disposition",
                format!("attachment; filename=\"{}\"", key.file_name),
            ))
            .insert_header(("Cache-Control", "no-store"))
            .body(key.bytes.to_vec())),
        Err(e) => failed(chrome, "开始评议", e, (back_url, "返回该评议活动")),
    }
}

/// `POST /admin/campaigns/{period}/key-check` (multipart: `ballot_key`, `campaign_id`): the
/// uploaded key file must match the stored public key; then the invitations are created and the
/// campaign is open.
pub async fn confirm_key(
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
    let title = "核对选票密钥并开始评议";
    let Some(key) = key_file(&form) else {
        return missing_key(chrome, title, back);
    };
    let expected = match optional::<i64>(form.field("campaign_id").unwrap_or(""), "评议活动编号")
    {
        Ok(expected) => expected,
        Err(e) => return failed(chrome, title, e, back),
    };
    let actor = admin.user().actor();
    let config = state.config.clone();
    let outcome = state
        .with_conn(move |conn| {
            let secret = match LinkSecret::from_config(config.link_secret.as_deref()) {
                Ok(secret) => secret,
                Err(e) => return Ok(Err(e)),
            };
            Ok(campaigns::confirm_key(
                conn, &actor, &secret, &period, &key, expected,
            ))
        })
        .await?;
    match outcome {
        Ok(r) => Outcome::done(
            chrome,
            title,
            vec![
                format!(
                    "密钥核对无误(指纹 {}),{} 评议活动已开始:已生成 {} 份邀请,邮件已排队,由发送程序陆续发出",
                    r.key_fingerprint, r.period, r.invited
                ),
                "服务器上没有保存这把密钥。请把下载的密钥文件存到不做备份的移动介质上,另存一份离线副本,并删除电脑上下载的那一份;截止时需要上传它来开启答卷,全部遗失则本期答卷无法开启。".to_owned(),
            ],
            back,
        )
        .respond(StatusCode::OK),
        Err(e) => failed(chrome, title, e, back),
    }
}

/// `POST /admin/campaigns/{period}/close` (multipart: `confirmed`, `ballot_key`, optional
/// `exclude_unopenable`): closes the campaign and opens its ballots with the uploaded key, which
/// is held only for this request. Without `confirmed` (a form that skipped the confirmation page)
/// it only shows that page, and the key sent along is dropped unread.
pub async fn close(
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
    if form.field("confirmed").is_none() {
        let action = CampaignAction::Close;
        return confirm(
            &state,
            chrome,
            action,
            period,
            ActionForm::default(),
            back_url,
        )
        .await;
    }
    let back = (back_url.as_str(), "返回该评议活动");
    let title = CampaignAction::Close.title();
    let exclude_unopenable = form.field("exclude_unopenable").is_some();
    let key = match key_file(&form) {
        Some(bytes) => match keyfile::from_bytes(&bytes) {
            Ok((_, key)) => Some(key),
            Err(e) => return failed(chrome, title, ServiceError::Invalid(e.to_string()), back),
        },
        None => None,
    };
    let actor = admin.user().actor();
    let config = state.config.clone();
    let outcome = state
        .with_conn(move |conn| {
            let secret = match LinkSecret::from_config(config.link_secret.as_deref()) {
                Ok(secret) => secret,
                Err(e) => return Ok(Err(e)),
            };
            Ok(closing::close(
                conn,
                &actor,
                &secret,
                &period,
                key.as_ref(),
                CloseOptions::from_config(&config, exclude_unopenable),
            ))
        })
        .await?;
    match outcome {
        Ok(r) => {
            let mut lines = vec![format!(
                "{} 评议活动已截止:问卷链接全部失效;已开启 {} 份密封答卷,保存 {} 条评价",
                r.period, r.ballots, r.ratings
            )];
            if r.withheld_units > 0 {
                lines.push(format!(
                    "{} 个单位的评价企业不足 5 家,只保留份数,评价内容不保存",
                    r.withheld_units
                ));
            }
            if r.excluded > 0 {
                lines.push(format!(
                    "舍弃无法开启的答卷 {} 份(已记入审计日志)",
                    r.excluded
                ));
            }
            if !r.scrubbed {
                lines.push("数据库文件清理尚未完成,请稍后再次提交「截止评议」完成清理".to_owned());
            }
            lines.push("请销毁这把密钥的所有副本(下载的文件、U 盘、离线副本):销毁之后,任何人都无法再开启本期答卷的副本。".to_owned());
            Outcome::done(chrome, title, lines, back).respond(StatusCode::OK)
        }
        Err(e) => failed(chrome, title, e, back),
    }
}

/// The uploaded key file, if one was chosen; its bytes are zeroed when dropped.
fn key_file(form: &UploadForm) -> Option<Zeroizing<Vec<u8>>> {
    form.files
        .get("ballot_key")
        .filter(|b| !b.is_empty())
        .map(|b| Zeroizing::new(b.clone()))
}

fn missing_key(
    chrome: Chrome,
    title: &'static str,
    back: (&str, &'static str),
) -> Result<HttpResponse, WebError> {
    Outcome {
        ok: false,
        ..Outcome::done(chrome, title, vec!["请选择选票密钥文件(.key)".into()], back)
    }
    .respond(StatusCode::BAD_REQUEST)
}

/// The confirmation page of an irreversible step: its numbers ([`confirmation`],
/// [`publication::preview`]), the form's fields posted again with `confirmed`, and for the close
/// the key file to choose.
async fn confirm(
    state: &web::Data<AppState>,
    chrome: Chrome,
    action: CampaignAction,
    period: Period,
    form: ActionForm,
    back_url: String,
) -> Result<HttpResponse, WebError> {
    let stats = state.config.stats.clone();
    let reason = Some(form.reason.trim().to_owned()).filter(|r| !r.is_empty());
    let without_interactions = form.without_interactions.is_some();
    let r = reason.clone();
    let discard_reason = form.reason.clone();
    let expected = match optional::<i64>(&form.campaign_id, "评议活动编号") {
        Ok(expected) => expected,
        Err(e) => {
            return failed(
                chrome,
                action.title(),
                e,
                (back_url.as_str(), "返回该评议活动"),
            );
        }
    };
    let lines = state
        .with_conn(move |conn| {
            if let Err(e) = campaigns::require_shown(conn, &period, expected) {
                return Ok(Err(e));
            }
            Ok(match action {
                CampaignAction::Open => confirmation::open(conn, &period, without_interactions)
                    .map(|mut lines| {
                        lines.push(
                            "确认后浏览器会下载本期的选票密钥文件(.key),服务器不保存它;\
                             下载后请回到评议活动页面上传核对,核对无误后才生成邀请、发送邮件。"
                                .to_owned(),
                        );
                        lines
                    }),
                CampaignAction::Close => confirmation::close(conn, &period),
                CampaignAction::Discard => confirmation::discard(conn, &period, &discard_reason),
                _ => publication::preview(conn, &period, r.as_deref(), &stats).map(|p| p.lines()),
            })
        })
        .await?;
    let title = action.title();
    let lines = match lines {
        Ok(lines) => lines,
        Err(e) => return failed(chrome, title, e, (back_url.as_str(), "返回该评议活动")),
    };
    let mut fields: Vec<(&'static str, String)> = Vec::new();
    if !form.campaign_id.is_empty() {
        fields.push(("campaign_id", form.campaign_id.clone()));
    }
    if without_interactions {
        fields.push(("without_interactions", "1".to_owned()));
    }
    if let Some(reason) = reason {
        fields.push(("reason", reason));
    }
    let page = Confirmation {
        chrome,
        title,
        lines,
        action: match action {
            CampaignAction::Close => format!("{back_url}/close"),
            _ => format!("{back_url}/actions/{}", action.name()),
        },
        fields,
        key_upload: action == CampaignAction::Close,
        preview: (action == CampaignAction::Publish).then(|| format!("{back_url}/preview")),
        back: back_url,
    };
    crate::web::pages::private_page(&page)
}
