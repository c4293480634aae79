//! Comment moderation: every comment of a campaign with its review state (未审核 / 已通过 /
//! 已隐藏), a button to approve a pending one, a form to hide one with a reason, and one to
//! approve every pending comment at once.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::outcome::{Outcome, failed};
use crate::db::moderation::ModeratedComment;
use crate::domain::Period;
use crate::service::moderation::{self, REASON_MAX_CHARS};
use crate::web::AppState;
use crate::web::auth::{Admin, RequireRole, csrf};
use crate::web::error::WebError;
use crate::web::pages::{Chrome, private_page};

#[derive(Template)]
#[template(path = "admin/comments.html")]
struct CommentsPage {
    chrome: Chrome,
    period: String,
    published: bool,
    comments: Vec<ModeratedComment>,
    pending: usize,
    reason_max: usize,
}

/// `GET /admin/campaigns/{period}/comments`.
pub async fn comments(
    state: web::Data<AppState>,
    admin: RequireRole<Admin>,
    period: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let period: Period = period.parse().map_err(|_| WebError::NotFound)?;
    let shown = period.to_string();
    let found = state
        .with_conn(move |conn| Ok(moderation::comments(conn, &period)?))
        .await?;
    private_page(&CommentsPage {
        chrome: Chrome::of(admin.user()),
        period: shown,
        published: found.published,
        comments: found.comments,
        pending: found.pending,
        reason_max: REASON_MAX_CHARS,
    })
}

/// The hide form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct HideForm {
    csrf_token: Option<String>,
    reason: String,
}

/// `POST /admin/comments/{id}/hide`.
pub async fn hide_comment(
    state: web::Data<AppState>,
    admin: RequireRole<Admin>,
    id: web::Path<i64>,
    form: web::Form<HideForm>,
) -> Result<HttpResponse, WebError> {
    let form = form.into_inner();
    csrf::check(admin.user(), form.csrf_token.as_deref())?;
    let id = id.into_inner();
    let chrome = Chrome::of(admin.user());
    let actor = admin.user().actor();
    let outcome = state
        .with_conn(move |conn| Ok(moderation::hide(conn, &actor, id, &form.reason)))
        .await?;
    reviewed(chrome, "隐藏留言", outcome, |c| {
        format!(
            "已隐藏 {} 期对 {} 的一条留言;该单位及其上级单位的页面不再显示它",
            c.period, c.unit_code
        )
    })
}

/// The page after one comment's review: what was done, and the way back to the moderation page.
fn reviewed(
    chrome: Chrome,
    title: &str,
    outcome: Result<moderation::Hidden, crate::service::ServiceError>,
    says: impl Fn(&moderation::Hidden) -> String,
) -> Result<HttpResponse, WebError> {
    match outcome {
        Ok(comment) => {
            let back = format!("/admin/campaigns/{}/comments", comment.period);
            Outcome::done(chrome, title, vec![says(&comment)], (&back, "返回留言审核"))
                .respond(StatusCode::OK)
        }
        Err(e) => failed(chrome, title, e, ("/admin/", "返回评议活动列表")),
    }
}

/// A form with only its CSRF token.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TokenForm {
    csrf_token: Option<String>,
}

/// `POST /admin/comments/{id}/approve`.
pub async fn approve_comment(
    state: web::Data<AppState>,
    admin: RequireRole<Admin>,
    id: web::Path<i64>,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, WebError> {
    csrf::check(admin.user(), form.csrf_token.as_deref())?;
    let id = id.into_inner();
    let chrome = Chrome::of(admin.user());
    let actor = admin.user().actor();
    let outcome = state
        .with_conn(move |conn| Ok(moderation::approve(conn, &actor, id)))
        .await?;
    reviewed(chrome, "通过留言", outcome, |c| {
        format!(
            "已通过 {} 期对 {} 的一条留言;公布后该单位及其上级单位的页面会显示它",
            c.period, c.unit_code
        )
    })
}

/// `POST /admin/campaigns/{period}/comments/approve-all`.
pub async fn approve_all_comments(
    state: web::Data<AppState>,
    admin: RequireRole<Admin>,
    period: web::Path<String>,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, WebError> {
    csrf::check(admin.user(), form.csrf_token.as_deref())?;
    let period: Period = period.parse().map_err(|_| WebError::NotFound)?;
    let shown = period.to_string();
    let chrome = Chrome::of(admin.user());
    let actor = admin.user().actor();
    let outcome = state
        .with_conn(move |conn| Ok(moderation::approve_all(conn, &actor, &period)))
        .await?;
    let title = "通过全部未审核留言";
    let back = format!("/admin/campaigns/{shown}/comments");
    match outcome {
        Ok(n) => Outcome::done(
            chrome,
            title,
            vec![format!("已通过 {shown} 期 {n} 条未审核的留言")],
            (&back, "返回留言审核"),
        )
        .respond(StatusCode::OK),
        Err(e) => failed(chrome, title, e, (&back, "返回留言审核")),
    }
}
