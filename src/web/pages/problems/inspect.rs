//! `/inspect/problems`: the problems escalated after the second supervision — accountability
//! cases — each beside a link to its unit's ranking history. The read is audited.

use actix_web::{HttpResponse, web};
use askama::Template;

use crate::db::now;
use crate::service::problems::views::{self, ProblemView};
use crate::web::AppState;
use crate::web::auth::{Inspector, RequireRole};
use crate::web::error::WebError;
use crate::web::pages::{Chrome, private_page};

#[derive(Template)]
#[template(path = "problems/inspect_list.html")]
struct ListPage {
    chrome: Chrome,
    problems: Vec<ProblemView>,
}

/// `GET /inspect/problems`.
pub async fn list(
    state: web::Data<AppState>,
    inspector: RequireRole<Inspector>,
) -> Result<HttpResponse, WebError> {
    let actor = inspector.user().actor();
    let calendar = state.config.calendar.clone();
    let problems = state
        .with_conn(move |conn| Ok(views::escalated(conn, &calendar, &actor, now())?))
        .await?;
    private_page(&ListPage {
        chrome: Chrome::of(inspector.user()),
        problems,
    })
}
