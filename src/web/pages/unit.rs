//! `/unit/` and `/unit/{code}`: a unit viewer's own unit and those under it. A unit outside the
//! viewer's scope answers 404, the same as a unit that does not exist, so codes cannot be probed.

use actix_web::{HttpResponse, web};
use askama::Template;

use super::{Chrome, private_page};
use crate::service::oversight::{self, MIN_COMMENTERS, UnitOverview};
use crate::web::AppState;
use crate::web::auth::{RequireRole, UnitViewer};
use crate::web::error::WebError;

#[derive(Template)]
#[template(path = "unit/home.html")]
struct UnitHome {
    chrome: Chrome,
    overview: UnitOverview,
    min_commenters: usize,
}

async fn render(
    state: &AppState,
    viewer: &RequireRole<UnitViewer>,
    code: Option<String>,
) -> Result<HttpResponse, WebError> {
    let own = viewer
        .user()
        .account
        .unit_code
        .clone()
        .ok_or(WebError::Forbidden)?;
    let overview = state
        .with_conn(move |conn| {
            let code = match code {
                None => own,
                Some(code) => {
                    let scope = oversight::unit_scope(conn, &own)?;
                    if !scope.iter().any(|u| u.code == code) {
                        return Err(WebError::NotFound);
                    }
                    code
                }
            };
            Ok(oversight::unit_overview(conn, &code)?)
        })
        .await?;
    private_page(&UnitHome {
        chrome: Chrome::of(viewer.user()),
        overview,
        min_commenters: MIN_COMMENTERS,
    })
}

/// `GET /unit/`.
pub async fn home(
    state: web::Data<AppState>,
    viewer: RequireRole<UnitViewer>,
) -> Result<HttpResponse, WebError> {
    render(&state, &viewer, None).await
}

/// `GET /unit/{code}`.
pub async fn one(
    state: web::Data<AppState>,
    viewer: RequireRole<UnitViewer>,
    code: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    render(&state, &viewer, Some(code.into_inner())).await
}
