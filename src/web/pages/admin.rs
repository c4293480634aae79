//! `/admin/`: the 营商办's home, the campaigns with their progress.

use actix_web::{HttpResponse, web};
use askama::Template;

use super::{Chrome, private_page};
use crate::service::campaign::{self, CampaignSummary};
use crate::web::AppState;
use crate::web::auth::{Admin, RequireRole};
use crate::web::error::WebError;

#[derive(Template)]
#[template(path = "admin/home.html")]
struct AdminHome {
    chrome: Chrome,
    campaigns: Vec<CampaignSummary>,
}

/// `GET /admin/`.
pub async fn home(
    state: web::Data<AppState>,
    admin: RequireRole<Admin>,
) -> Result<HttpResponse, WebError> {
    let campaigns = state.with_conn(|conn| Ok(campaign::list(conn)?)).await?;
    private_page(&AdminHome {
        chrome: Chrome::of(admin.user()),
        campaigns,
    })
}
