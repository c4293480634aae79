//! `GET /admin/reports/{period}/{file}`: the files `campaign publish` wrote, with their content
//! types. Charts are shown inline (the campaign page embeds them); everything else downloads,
//! so the bulletin's inline styles never run under this site's policy.

use actix_web::{HttpResponse, web};

use crate::domain::Period;
use crate::service::report_files;
use crate::web::AppState;
use crate::web::auth::{Admin, RequireRole};
use crate::web::error::WebError;

/// `GET /admin/reports/{period}/{file:.*}`.
pub async fn download(
    state: web::Data<AppState>,
    _admin: RequireRole<Admin>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, WebError> {
    let (period, name) = path.into_inner();
    let period: Period = period.parse().map_err(|_| WebError::NotFound)?;
    let file = report_files::allowed(&name).ok_or(WebError::NotFound)?;
    let full = report_files::path_of(&state.config.reports_dir, &period, &file);
    let bytes = web::block(move || std::fs::read(full))
        .await?
        .map_err(|_| WebError::NotFound)?;
    let mut response = HttpResponse::Ok();
    response
        .content_type(file.content_type)
        .insert_header(("Cache-Control", "no-store"));
    if !file.name.starts_with("charts/") {
        let download_name = format!("{period}-{}", file.name);
        response.insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{download_name}\""),
        ));
    }
    Ok(response.body(bytes))
}
