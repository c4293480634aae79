//! The inspectors' histories as JSON, inspectors only, every read audited:
//! `GET /api/v1/units/{code}/history` (a unit's published campaigns along its lineage) and
//! `GET /api/v1/people/{name}/history` (every term recorded under a head's name, with the units'
//! results). Unknown codes and names answer 404 (and are audited too).

use actix_web::{HttpResponse, web};

use crate::service::oversight::{self, Channel};
use crate::web::AppState;
use crate::web::auth::{Inspector, RequireRole};
use crate::web::error::ApiError;

/// `GET /api/v1/units/{code}/history`.
pub async fn unit(
    state: web::Data<AppState>,
    inspector: RequireRole<Inspector>,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let code = code.into_inner();
    let actor = inspector.user().actor();
    let history = state
        .with_conn(move |conn| {
            Ok(oversight::read_unit_history(
                conn,
                &actor,
                Channel::Api,
                &code,
            )?)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(history))
}

/// `GET /api/v1/people/{name}/history`.
pub async fn person(
    state: web::Data<AppState>,
    inspector: RequireRole<Inspector>,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let name = name.into_inner();
    let actor = inspector.user().actor();
    let history = state
        .with_conn(move |conn| {
            Ok(oversight::read_person_history(
                conn,
                &actor,
                Channel::Api,
                &name,
            )?)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(history))
}
