//! `GET /api/v1/flags?period=PERIOD`: inspectors only, every read audited.

use actix_web::{HttpResponse, web};

use crate::service::oversight;
use crate::web::AppState;
use crate::web::auth::{Inspector, RequireRole};
use crate::web::error::ApiError;
use crate::web::pages::inspect::PeriodQuery;

/// The flags in INTERFACE.md's shape; an empty list until a publication raised one.
pub async fn list(
    state: web::Data<AppState>,
    inspector: RequireRole<Inspector>,
    query: web::Query<PeriodQuery>,
) -> Result<HttpResponse, ApiError> {
    let period = query.parsed()?;
    let actor = inspector.user().actor();
    let flags = state
        .with_conn(move |conn| Ok(oversight::read_flags(conn, &actor, period.as_deref())?))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(flags))
}
