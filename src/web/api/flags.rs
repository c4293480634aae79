//! `GET /api/v1/flags?period=PERIOD&peer_group=GROUP&credible=true|false`: inspectors only, every
//! read audited. The body is the flags array of docs/interface.md §4.3, credible flags first; each filter is
//! optional and an empty value means "all".

use actix_web::{HttpResponse, web};

use crate::service::oversight::{self, Channel};
use crate::web::AppState;
use crate::web::auth::{Inspector, RequireRole};
use crate::web::error::ApiError;
use crate::web::pages::inspect::FlagQuery;

/// The flags in the shape of docs/interface.md §4.3; an empty list until a publication raised one.
pub async fn list(
    state: web::Data<AppState>,
    inspector: RequireRole<Inspector>,
    query: web::Query<FlagQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = query.filter()?;
    let actor = inspector.user().actor();
    let flags = state
        .with_conn(move |conn| {
            Ok(oversight::read_flags_filtered(
                conn,
                &actor,
                Channel::Api,
                &filter,
            )?)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(flags))
}
