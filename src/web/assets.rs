//! The survey's stylesheet and script, served from this origin (the CSP allows only `'self'`, no
//! inline code) and embedded in the binary so a deployment is one file.

use actix_web::HttpResponse;

const SURVEY_CSS: &str = include_str!("assets/survey.css");
const SURVEY_JS: &str = include_str!("assets/survey.js");

/// `GET /static/survey.css`.
pub async fn survey_css() -> HttpResponse {
    asset("text/css; charset=utf-8", SURVEY_CSS)
}

/// `GET /static/survey.js`.
pub async fn survey_js() -> HttpResponse {
    asset("text/javascript; charset=utf-8", SURVEY_JS)
}

fn asset(content_type: &str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(body)
}
