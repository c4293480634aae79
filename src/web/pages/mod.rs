//! The signed-in pages: the 营商办's (`/admin/`), the inspectors' (`/inspect/`) and the unit
//! viewers' (`/unit/`). Thin handlers: the role check is the extractor, the query is a service.

pub mod admin;
pub mod inspect;
pub mod problems;
pub mod unit;

use actix_web::HttpResponse;
use askama::Template;

use super::auth::CurrentUser;
use super::error::WebError;

/// What the signed-in layout shows: who, and the logout form's CSRF token.
pub struct Chrome {
    pub user_name: String,
    pub role_label: &'static str,
    pub csrf_token: String,
}

impl Chrome {
    pub fn of(user: &CurrentUser) -> Self {
        Self {
            user_name: user.account.name.clone(),
            role_label: user.account.role.label(),
            csrf_token: user
                .csrf_token
                .as_ref()
                .map(|t| t.expose().to_owned())
                .unwrap_or_default(),
        }
    }
}

/// Renders a page that must not be cached (it is one user's view).
pub fn private_page(page: &impl Template) -> Result<HttpResponse, WebError> {
    let html = page.render().map_err(WebError::internal)?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .content_type("text/html; charset=utf-8")
        .body(html))
}
