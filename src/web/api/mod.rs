//! The JSON twin of the survey (docs/interface.md §3.1): `GET /api/v1/survey/{token}`,
//! `POST /api/v1/responses`, and `GET /openapi.json`, the hand-written OpenAPI 3 document of
//! `/api/v1` (a file beside this one, checked against the handlers by `tests/it/survey_web.rs`).

pub mod flags;
pub mod history;
mod shapes;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::AppState;
use super::error::{ApiError, FieldError, WebError};
use crate::domain::RawSubmission;
use crate::service::response::{self, SubmitError};
use crate::service::survey::{self, LinkError};
use shapes::{SubmissionBody, SurveyJson};

const OPENAPI: &str = include_str!("openapi.json");

/// `GET /openapi.json`.
pub async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(OPENAPI)
}

fn limited(state: &AppState, req: &HttpRequest) -> Result<(), ApiError> {
    if state.survey.limiter.allow(state.client_ip(req)) {
        Ok(())
    } else {
        Err(ApiError(WebError::TooManyRequests))
    }
}

/// `GET /api/v1/survey/{token}`: the questionnaire behind one link; records the first opening.
pub async fn survey(
    state: web::Data<AppState>,
    token: web::Path<String>,
    query: web::Query<Vec<(String, String)>>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    limited(&state, &req)?;
    let english = query.iter().any(|(k, v)| k == "lang" && v == "en");
    let cache = state.survey.templates.clone();
    let views = state.survey.views.clone();
    let token = token.into_inner();
    let view = state
        .with_conn(move |conn| Ok(survey::view(conn, &cache, &token, &[], Some(&views))))
        .await?
        .map_err(link_error)?;
    Ok(HttpResponse::Ok().json(SurveyJson::new(&view, english)))
}

/// `POST /api/v1/responses`: one submission; 201, or 404/409/410/422 as docs/interface.md §3.1 says.
pub async fn submit(
    state: web::Data<AppState>,
    body: web::Bytes,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    limited(&state, &req)?;
    let body =
        SubmissionBody::parse(&body).map_err(|errors| ApiError(WebError::Unprocessable(errors)))?;
    let cache = state.survey.templates.clone();
    let submission = RawSubmission {
        ratings: body.ratings,
    };
    let token = body.token;
    let prepared = state
        .with_conn(move |conn| Ok(response::prepare(conn, &cache, &token, &submission)))
        .await?
        .map_err(link_error)?;
    super::survey::store(&state, prepared)
        .await?
        .map_err(link_error)?;
    Ok(HttpResponse::build(StatusCode::CREATED).json(serde_json::json!({"status": "stored"})))
}

fn link_error(e: LinkError) -> ApiError {
    ApiError(match e {
        SubmitError::Unknown => WebError::NotFound,
        SubmitError::Closed => WebError::Gone("评议已结束".into()),
        SubmitError::Used => WebError::Conflict("此链接已提交过答卷".into()),
        SubmitError::Invalid(errors) => WebError::Unprocessable(
            errors
                .into_iter()
                .map(|e| FieldError {
                    field: e.field,
                    message: e.message,
                })
                .collect(),
        ),
        SubmitError::Db(db) => db.into(),
        SubmitError::Unavailable(reason) => WebError::unavailable(reason, "答卷未保存"),
        SubmitError::Internal(m) => WebError::internal(m),
    })
}
