//! `/inspect/`: the inspectors' home, the accountability flags. Every view is audited.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Chrome, private_page};
use crate::domain::Period;
use crate::service::oversight::{self, FlagView};
use crate::web::AppState;
use crate::web::auth::{Inspector, RequireRole};
use crate::web::error::WebError;

#[derive(Template)]
#[template(path = "inspect/home.html")]
struct InspectHome {
    chrome: Chrome,
    flags: Vec<FlagView>,
}

/// `?period=2019H2`, optional.
#[derive(Debug, Deserialize)]
pub struct PeriodQuery {
    pub period: Option<String>,
}

impl PeriodQuery {
    /// The period asked for, checked (a bad one is a 400 that says why).
    pub fn parsed(&self) -> Result<Option<String>, WebError> {
        match self
            .period
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            None => Ok(None),
            Some(p) => p
                .parse::<Period>()
                .map(|p| Some(p.to_string()))
                .map_err(|e| WebError::BadRequest(e.to_string())),
        }
    }
}

/// `GET /inspect/`.
pub async fn home(
    state: web::Data<AppState>,
    inspector: RequireRole<Inspector>,
    query: web::Query<PeriodQuery>,
) -> Result<HttpResponse, WebError> {
    let period = query.parsed()?;
    let actor = inspector.user().actor();
    let flags = state
        .with_conn(move |conn| Ok(oversight::read_flags(conn, &actor, period.as_deref())?))
        .await?;
    private_page(&InspectHome {
        chrome: Chrome::of(inspector.user()),
        flags,
    })
}
