//! The problem list's pages (问题清单): the 营商办's list and actions (`/admin/problems…`), a unit
//! viewer's own problems and answers (`/unit/problems…`), the inspectors' escalated cases
//! (`/inspect/problems`), and the enterprise's two public pages: the named form beside its survey
//! (`/s/{token}/problem`) and the one-time confirmation link (`/p/{token}`). Thin handlers: roles
//! are the extractors, CSRF is checked on every signed-in form, the work is in
//! `service::problems`.

pub mod admin;
pub mod enterprise;
pub mod inspect;
pub mod unit;

use actix_web::HttpResponse;
use serde::Deserialize;

use crate::web::error::WebError;

/// A signed-in form's fields; all optional so that a form without its token is refused by the
/// CSRF check (403), not by the parser (400).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ProblemForm {
    pub csrf_token: Option<String>,
    pub channel: String,
    pub unit: String,
    pub enterprise: String,
    pub name: String,
    pub phone: String,
    pub email: String,
    pub description: String,
    pub answer: String,
    pub resolved: String,
    pub note: String,
}

/// `?overdue=1` on the 营商办's list.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    pub overdue: Option<String>,
}

/// After a POST, back to a page (303, so a reload does not post again).
pub fn see_other(location: &str) -> Result<HttpResponse, WebError> {
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", location))
        .finish())
}

/// `yes`/`no` of a verdict form.
pub fn resolved(value: &str) -> Result<bool, WebError> {
    match value {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err(WebError::BadRequest("请选择「已解决」或「未解决」".into())),
    }
}
