//! `/unit/` and `/unit/{code}`: a unit viewer's own unit and those under it. A unit outside the
//! viewer's scope answers 404, the same as a unit that does not exist, so codes cannot be probed.
//! `/unit/{code}` is the unit's page ([`UnitPageView`]), the same page the 营商办 sees at
//! `/admin/units/{code}`.

use actix_web::{HttpResponse, web};
use askama::Template;

use super::{Chrome, private_page};
use crate::domain::MIN_CROWD;
use crate::service::oversight::{self, UnitOverview};
use crate::service::unit_page::{self, Audience, UnitPage};
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

/// One unit's page: its answers' distributions, its trend, the comments; `link_prefix` is where
/// the links to units under it point (`/unit/` or `/admin/units/`).
#[derive(Template)]
#[template(path = "unit/page.html")]
pub struct UnitPageView {
    chrome: Chrome,
    page: UnitPage,
    link_prefix: &'static str,
    min_commenters: usize,
}

impl UnitPageView {
    pub fn new(chrome: Chrome, page: UnitPage, link_prefix: &'static str) -> Self {
        Self {
            chrome,
            page,
            link_prefix,
            min_commenters: MIN_CROWD,
        }
    }
}

fn own_unit(viewer: &RequireRole<UnitViewer>) -> Result<String, WebError> {
    viewer
        .user()
        .account
        .unit_code
        .clone()
        .ok_or(WebError::Forbidden)
}

/// `GET /unit/`: the viewer's units and the comments on them.
pub async fn home(
    state: web::Data<AppState>,
    viewer: RequireRole<UnitViewer>,
) -> Result<HttpResponse, WebError> {
    let own = own_unit(&viewer)?;
    let overview = state
        .with_conn(move |conn| Ok(oversight::unit_overview(conn, &own, Audience::UnitViewer)?))
        .await?;
    private_page(&UnitHome {
        chrome: Chrome::of(viewer.user()),
        overview,
        min_commenters: MIN_CROWD,
    })
}

/// `GET /unit/{code}`: the page of the viewer's unit or one under it.
pub async fn one(
    state: web::Data<AppState>,
    viewer: RequireRole<UnitViewer>,
    code: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let own = own_unit(&viewer)?;
    let code = code.into_inner();
    let page = state
        .with_conn(move |conn| {
            let scope = oversight::unit_scope(conn, &own)?;
            if !scope.iter().any(|u| u.code == code) {
                return Err(WebError::NotFound);
            }
            Ok(unit_page::unit_page(conn, &code, Audience::UnitViewer)?)
        })
        .await?;
    private_page(&UnitPageView::new(
        Chrome::of(viewer.user()),
        page,
        "/unit/",
    ))
}
