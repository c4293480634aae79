//! `/admin/…`: the 营商办's dashboard. Every page needs `RequireRole<Admin>` (the preview of
//! unpublished results answers 404 to other roles instead of 403: `preview`); every form carries
//! the session's CSRF token; every change is a service call that writes its own audit row in its
//! own transaction (`service::audit::change`), the same row the CLI's command writes. Pages work without JavaScript: an action
//! answers with an outcome page that says what happened, or what was wrong and where.

mod actions;
mod campaign;
mod files;
mod moderation;
mod outcome;
mod preview;
mod registry;

pub use actions::{action, close, confirm_key};
pub use campaign::{create, import_interactions, invitees_csv, show};
pub use files::download;
pub use moderation::{approve_all_comments, approve_comment, comments, hide_comment};
pub use preview::{download as preview_download, page as preview_page};
pub use registry::{bounce, enterprises, import_enterprises, import_units, unit, units};

use actix_web::{HttpResponse, web};
use askama::Template;

use super::{Chrome, private_page};
use crate::service::campaign::{self as campaigns, CampaignSummary};
use crate::web::AppState;
use crate::web::auth::{Admin, RequireRole};
use crate::web::error::WebError;

#[derive(Template)]
#[template(path = "admin/home.html")]
struct AdminHome {
    chrome: Chrome,
    campaigns: Vec<CampaignSummary>,
    /// `[weighting] enabled`: whether the form's 加权 box starts ticked.
    weighted_default: bool,
}

/// `GET /admin/`: the campaigns with their progress, and the form that creates one.
pub async fn home(
    state: web::Data<AppState>,
    admin: RequireRole<Admin>,
) -> Result<HttpResponse, WebError> {
    let campaigns = state.with_conn(|conn| Ok(campaigns::list(conn)?)).await?;
    private_page(&AdminHome {
        chrome: Chrome::of(admin.user()),
        campaigns,
        weighted_default: state.config.weighting.enabled,
    })
}

/// The Chinese label of a stored campaign state.
pub fn state_label(state: &str) -> String {
    state
        .parse::<crate::domain::CampaignState>()
        .map(|s| s.label_zh().to_owned())
        .unwrap_or_else(|_| state.to_owned())
}
