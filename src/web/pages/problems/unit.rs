//! `/unit/problems`: a unit viewer sees the problems assigned to its unit and those under it, and
//! answers them. A problem outside the viewer's scope reads as not found.

use actix_web::{HttpResponse, web};
use askama::Template;

use super::{ProblemForm, see_other};
use crate::db::now;
use crate::service::links::LinkSecret;
use crate::service::oversight;
use crate::service::problems::views::{self, ProblemView};
use crate::service::problems::{self, Workflow};
use crate::web::AppState;
use crate::web::auth::{RequireRole, UnitViewer, csrf};
use crate::web::error::WebError;
use crate::web::pages::{Chrome, private_page};

#[derive(Template)]
#[template(path = "problems/unit_list.html")]
struct ListPage {
    chrome: Chrome,
    problems: Vec<ProblemView>,
}

fn own_unit(viewer: &RequireRole<UnitViewer>) -> Result<String, WebError> {
    viewer
        .user()
        .account
        .unit_code
        .clone()
        .ok_or(WebError::Forbidden)
}

/// `GET /unit/problems`.
pub async fn list(
    state: web::Data<AppState>,
    viewer: RequireRole<UnitViewer>,
) -> Result<HttpResponse, WebError> {
    let own = own_unit(&viewer)?;
    let calendar = state.config.calendar.clone();
    let problems = state
        .with_conn(move |conn| {
            let scope: Vec<i64> = oversight::unit_scope(conn, &own)?
                .into_iter()
                .map(|u| u.id)
                .collect();
            Ok(views::of_units(conn, &calendar, &scope, now())?)
        })
        .await?;
    private_page(&ListPage {
        chrome: Chrome::of(viewer.user()),
        problems,
    })
}

/// `POST /unit/problems/{id}/answer`: what the unit did.
pub async fn answer(
    state: web::Data<AppState>,
    viewer: RequireRole<UnitViewer>,
    id: web::Path<i64>,
    form: web::Form<ProblemForm>,
) -> Result<HttpResponse, WebError> {
    csrf::check(viewer.user(), form.csrf_token.as_deref())?;
    let own = own_unit(&viewer)?;
    let id = id.into_inner();
    let text = form.into_inner().answer;
    let actor = viewer.user().actor();
    let config = state.config.clone();
    state
        .with_conn(move |conn| {
            let scope: Vec<i64> = oversight::unit_scope(conn, &own)?
                .into_iter()
                .map(|u| u.id)
                .collect();
            let secret = LinkSecret::from_config(config.link_secret.as_deref())?;
            let wf = Workflow::of(&config);
            let given = problems::Answer {
                actor: &actor,
                scope: Some(&scope),
                text: &text,
            };
            Ok(problems::answer(conn, &wf, &secret, id, &given, now())?)
        })
        .await?;
    see_other("/unit/problems")
}
