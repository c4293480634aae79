//! The page an admin action answers with: what happened, or why nothing did (an import's
//! errors one per row: line, column, value, rule), and the way back.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;

use crate::service::ServiceError;
use crate::web::error::WebError;
use crate::web::pages::Chrome;

/// One bad row of an import file.
pub struct ErrorRow {
    pub line: usize,
    pub column: String,
    pub value: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "admin/outcome.html")]
pub struct Outcome {
    pub chrome: Chrome,
    pub title: String,
    pub ok: bool,
    pub lines: Vec<String>,
    pub errors: Vec<ErrorRow>,
    pub back: String,
    pub back_label: String,
}

impl Outcome {
    /// A success: `lines` say what was done.
    pub fn done(chrome: Chrome, title: &str, lines: Vec<String>, back: (&str, &str)) -> Self {
        Self {
            chrome,
            title: title.to_owned(),
            ok: true,
            lines,
            errors: Vec::new(),
            back: back.0.to_owned(),
            back_label: back.1.to_owned(),
        }
    }

    /// Renders with `status`.
    pub fn respond(&self, status: StatusCode) -> Result<HttpResponse, WebError> {
        let html = self.render().map_err(WebError::internal)?;
        Ok(HttpResponse::build(status)
            .insert_header(("Cache-Control", "no-store"))
            .content_type("text/html; charset=utf-8")
            .body(html))
    }
}

/// The answer to an action that failed: an import's errors as a table (422), anything else as
/// its message with the status the web gives that error (400, 404, 409, 500 …).
pub fn failed(
    chrome: Chrome,
    title: &str,
    error: ServiceError,
    back: (&str, &str),
) -> Result<HttpResponse, WebError> {
    let (status, lines, errors) = match error {
        ServiceError::Import(errors) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            vec![format!(
                "文件有 {} 处错误,未写入任何数据。请改正后重新上传:",
                errors.len()
            )],
            errors
                .errors()
                .iter()
                .map(|e| ErrorRow {
                    line: e.line,
                    column: e.column.clone().unwrap_or_default(),
                    value: e.value.clone().unwrap_or_default(),
                    message: e.message.clone(),
                })
                .collect(),
        ),
        other => {
            let web: WebError = other.into();
            let status = actix_web::ResponseError::status_code(&web);
            (status, vec![web.to_string()], Vec::new())
        }
    };
    Outcome {
        chrome,
        title: title.to_owned(),
        ok: false,
        lines,
        errors,
        back: back.0.to_owned(),
        back_label: back.1.to_owned(),
    }
    .respond(status)
}
