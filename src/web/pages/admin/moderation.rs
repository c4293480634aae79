//! Comment moderation: every comment of a campaign, and a form beside each to hide it with a
//! reason before units see it.

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
    let title = "隐藏留言";
    match outcome {
        Ok(hidden) => {
            let back = format!("/admin/campaigns/{}/comments", hidden.period);
            Outcome::done(
                chrome,
                title,
                vec![format!(
                    "已隐藏 {} 期对 {} 的一条留言;该单位及其上级单位的页面不再显示它",
                    hidden.period, hidden.unit_code
                )],
                (&back, "返回留言审核"),
            )
            .respond(StatusCode::OK)
        }
        Err(e) => failed(chrome, title, e, ("/admin/", "返回评议活动列表")),
    }
}
