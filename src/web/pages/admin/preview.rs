//! The 营商办's 「未公布 · 预览」 (issue 43): the results publishing would make public now, built
//! as `publish` builds them and stored nowhere ([`publication::preview_results`]), shown as the
//! public rankings page and as the downloads, each marked. Admins only: any other signed-in user
//! gets 404, as if there were nothing (a unit must not learn that its results are computed, let
//! alone what they are, before they are published); a signed-out caller is asked to sign in (401).
//! The unit pages' preview rows are in [`crate::service::unit_page`].

use actix_web::http::header::{
    Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue,
};
use actix_web::{HttpResponse, web};

use super::campaign::parse_period;
use crate::domain::Role;
use crate::report::model::PublicResults;
use crate::service::publication;
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::WebError;

/// `GET /admin/campaigns/{period}/preview`.
pub async fn page(
    state: web::Data<AppState>,
    user: CurrentUser,
    period: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let results = preview(&state, &user, &period).await?;
    let back = format!("/admin/campaigns/{}", results.period);
    let html = crate::web::public::rankings_html(
        &results,
        Vec::new(),
        state.config.stats.bottom_n,
        Some(back),
    )?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .content_type("text/html; charset=utf-8")
        .body(html))
}

/// `GET /admin/campaigns/{period}/preview/{file}`: `results.csv` (UTF-8 with BOM) or
/// `results.xlsx`, made from the preview in memory; the file name says 未公布预览.
pub async fn download(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, WebError> {
    let (period, file) = path.into_inner();
    let results = preview(&state, &user, &period).await?;
    let (bytes, content_type) = match file.as_str() {
        "results.csv" => (
            crate::report::csv::results_csv(&results).map_err(WebError::internal)?,
            "text/csv; charset=utf-8",
        ),
        "results.xlsx" => (
            crate::report::xlsx::results_xlsx(&results).map_err(WebError::internal)?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        _ => return Err(WebError::NotFound),
    };
    // Old clients read the ASCII name; the rest the UTF-8 one (RFC 6266, actix encodes it).
    let disposition = ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![
            DispositionParam::Filename(format!("{}-preview-{file}", results.period)),
            DispositionParam::FilenameExt(ExtendedValue {
                charset: Charset::Ext("UTF-8".to_owned()),
                language_tag: None,
                value: format!("{}-未公布预览-{file}", results.period).into_bytes(),
            }),
        ],
    };
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(disposition)
        .content_type(content_type)
        .body(bytes))
}

/// The preview of `period`, for an admin; 404 for anyone else signed in.
async fn preview(
    state: &AppState,
    user: &CurrentUser,
    period: &str,
) -> Result<PublicResults, WebError> {
    if user.account.role != Role::Admin {
        return Err(WebError::NotFound);
    }
    let period = parse_period(period)?;
    let settings = state.config.stats.clone();
    state
        .with_conn(move |conn| Ok(publication::preview_results(conn, &period, &settings)?))
        .await
}
