//! The web's one error type. Error policy: handlers return [`WebError`] (pages) or [`ApiError`]
//! (JSON under `/api/`), converted from the service's error ([`ServiceError`]):
//!
//! | service error | status | shown |
//! | --- | --- | --- |
//! | `NotFound` | 404 | 「页面不存在」 |
//! | `Invalid`, `Period`, `Import` | 400 (the JSON survey API: 422 with each field) | the message, which names the field |
//! | `Transition`, `Conflict` (a unique-constraint violation too) | 409 | the message |
//! | `Db`, database out of reach | 503 + `Retry-After` | 「请稍候片刻后刷新页面重试」 |
//! | `Internal`, any other `Db` | 500 | only the request id (`request_id.rs`); the cause is logged with it |
//!
//! So no internal text (SQL, paths, tokens, stored data) reaches a client.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::service::ServiceError;

/// One field's validation failure, as in the 422 body of docs/interface.md §3.1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// What went wrong while answering a request.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("页面不存在")]
    NotFound,
    #[error("请先登录")]
    Unauthorized,
    #[error("无权访问")]
    Forbidden,
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Gone(String),
    #[error("提交的内容有误")]
    Unprocessable(Vec<FieldError>),
    #[error("请求过于频繁,请稍后再试")]
    TooManyRequests,
    #[error("服务暂时不可用,请稍后重试")]
    Unavailable,
    #[error("服务器内部错误")]
    Internal,
}

impl WebError {
    /// Logs the detail of an unexpected failure and returns the opaque error shown to the client.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "请求处理失败");
        WebError::Internal
    }
}

impl From<diesel::result::Error> for WebError {
    fn from(e: diesel::result::Error) -> Self {
        match e {
            diesel::result::Error::NotFound => WebError::NotFound,
            other => match crate::db::Unavailable::of(&other) {
                Some(reason) => WebError::unavailable(reason, other),
                None => WebError::internal(other),
            },
        }
    }
}

impl WebError {
    /// Logs why the database is out of reach and returns the 503 that tells the client to retry.
    pub fn unavailable(reason: crate::db::Unavailable, detail: impl std::fmt::Display) -> Self {
        tracing::warn!(reason = reason.describe(), %detail, "数据库不可用");
        WebError::Unavailable
    }
}

impl From<r2d2_error::PoolError> for WebError {
    fn from(e: r2d2_error::PoolError) -> Self {
        tracing::warn!(error = %e, "无法取得数据库连接");
        WebError::Unavailable
    }
}

/// The r2d2 error type as diesel re-exports it.
mod r2d2_error {
    pub use diesel::r2d2::PoolError;
}

impl From<ServiceError> for WebError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::NotFound(_) => WebError::NotFound,
            ServiceError::Invalid(m) => WebError::BadRequest(m),
            ServiceError::Transition(t) => WebError::Conflict(t.to_string()),
            ServiceError::Conflict(m) => WebError::Conflict(m),
            ServiceError::Internal(detail) => WebError::internal(detail),
            ServiceError::Db(db) => db.into(),
            // Listed one by one, so that a new variant must be given its status here.
            e @ (ServiceError::Import(_) | ServiceError::Period(_)) => {
                WebError::BadRequest(e.to_string())
            }
        }
    }
}

impl From<actix_web::error::BlockingError> for WebError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        WebError::internal(e)
    }
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match self {
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::Unauthorized => StatusCode::UNAUTHORIZED,
            WebError::Forbidden => StatusCode::FORBIDDEN,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Conflict(_) => StatusCode::CONFLICT,
            WebError::Gone(_) => StatusCode::GONE,
            WebError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            WebError::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            WebError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let mut response = HttpResponse::build(status);
        if matches!(self, WebError::Unavailable | WebError::TooManyRequests) {
            response.insert_header(("Retry-After", "5"));
        }
        response
            .content_type("text/html; charset=utf-8")
            .body(error_page(status, &self.to_string()))
    }
}

/// A minimal, self-contained error page in Chinese (no external assets).
pub fn error_page(status: StatusCode, message: &str) -> String {
    let message = html_escape(message);
    let hint = match status.as_u16() {
        503 | 429 => "请稍候片刻后刷新页面重试。您已填写的内容不会因此丢失。",
        404 => "请检查链接是否完整。",
        401 => "<a href=\"/login\">前往登录</a>",
        _ => "",
    };
    format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{code} {message}</title></head>\
         <body style=\"font-family:sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem\">\
         <h1>{message}</h1><p>{hint}</p><p style=\"color:#666\">{code}</p></body></html>",
        code = status.as_u16()
    )
}

/// Escapes text for HTML (templates escape by themselves; this is for the few hand-built pages).
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The same errors as JSON, for `/api/`: `{"error": "...", "errors": [{field, message}]}`.
#[derive(Debug)]
pub struct ApiError(pub WebError);

impl<E: Into<WebError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Serialize)]
struct ApiErrorBody<'a> {
    error: String,
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    errors: &'a [FieldError],
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.0.status_code()
    }

    fn error_response(&self) -> HttpResponse {
        let errors = match &self.0 {
            WebError::Unprocessable(errors) => errors.as_slice(),
            _ => &[],
        };
        let mut response = HttpResponse::build(self.status_code());
        if matches!(self.0, WebError::Unavailable | WebError::TooManyRequests) {
            response.insert_header(("Retry-After", "5"));
        }
        response.json(ApiErrorBody {
            error: self.0.to_string(),
            errors,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_pages_escape_what_they_show() {
        let page = error_page(StatusCode::BAD_REQUEST, "<script>alert(1)</script>");
        assert!(!page.contains("<script>"));
        assert!(page.contains("&lt;script&gt;"));
    }

    #[test]
    fn an_unreachable_database_is_a_503_that_says_to_retry() {
        let e: WebError = diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::ClosedConnection,
            Box::new("gone".to_owned()),
        )
        .into();
        assert_eq!(e.status_code(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(error_page(e.status_code(), &e.to_string()).contains("重试"));
    }

    /// Each service error as a handler of a page and of the API returns it, through the request-id
    /// middleware as `serve` runs it: the status, and what the body shows.
    #[actix_web::test]
    async fn every_service_error_maps_to_its_status_and_body_for_pages_and_json() {
        use actix_web::{App, test, web};

        use crate::service::registry_csv::{ImportError, ImportErrors};
        use crate::web::request_id;

        const SECRET: &str = "secret-detail-SELECT-password";
        fn case(i: usize) -> ServiceError {
            use diesel::result::{DatabaseErrorKind as Kind, Error};
            let db = |kind| Error::DatabaseError(kind, Box::new(SECRET.to_owned()));
            match i {
                0 => ServiceError::NotFound("没有 2019H2 的评议活动".into()),
                1 => ServiceError::Invalid("新的截止日期「x」格式有误".into()),
                2 => ServiceError::Import(ImportErrors(vec![
                    ImportError::new(3, "必填项为空").in_column("name"),
                ])),
                3 => "2019H3"
                    .parse::<crate::domain::Period>()
                    .unwrap_err()
                    .into(),
                4 => crate::domain::CampaignState::Published
                    .apply(crate::domain::CampaignAction::Open)
                    .unwrap_err()
                    .into(),
                5 => ServiceError::Conflict("2019H2 的评议活动已存在".into()),
                6 => db(Kind::UniqueViolation).into(),
                7 => db(Kind::ClosedConnection).into(),
                8 => db(Kind::ForeignKeyViolation).into(),
                9 => ServiceError::internal("存储的结果无法读取", SECRET),
                _ => ServiceError::Db(Error::NotFound),
            }
        }
        // (status, text the body shows; None: only the request id)
        let expected: [(u16, Option<&str>); 11] = [
            (404, Some("页面不存在")),
            (400, Some("新的截止日期「x」格式有误")),
            (400, Some("第 3 行, 列「name」")),
            (400, Some("2019H3")),
            (409, Some("已公布")),
            (409, Some("2019H2 的评议活动已存在")),
            (409, Some(crate::service::DUPLICATE_MESSAGE)),
            (503, Some("请稍后重试")),
            (500, None),
            (500, None),
            (404, Some("页面不存在")),
        ];
        async fn page(i: web::Path<usize>) -> Result<HttpResponse, WebError> {
            Err(case(*i).into())
        }
        async fn api(i: web::Path<usize>) -> Result<HttpResponse, ApiError> {
            Err(case(*i).into())
        }
        let app = test::init_service(
            App::new()
                .wrap(actix_web::middleware::from_fn(request_id::middleware))
                .route("/page/{i}", web::get().to(page))
                .route("/api/{i}", web::get().to(api)),
        )
        .await;
        for (i, (status, shown)) in expected.into_iter().enumerate() {
            for path in ["page", "api"] {
                let response = test::call_service(
                    &app,
                    test::TestRequest::get()
                        .uri(&format!("/{path}/{i}"))
                        .to_request(),
                )
                .await;
                let what = format!("{path} case {i}");
                assert_eq!(response.status().as_u16(), status, "{what}");
                let id = response
                    .headers()
                    .get("X-Request-Id")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
                    .unwrap_or_default();
                assert_eq!(id.len(), 12, "{what}");
                if status == 503 {
                    assert!(response.headers().contains_key("Retry-After"), "{what}");
                }
                let body = String::from_utf8(test::read_body(response).await.to_vec()).unwrap();
                assert!(!body.contains(SECRET), "{what}: {body}");
                let message = if path == "api" {
                    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
                    if status == 500 {
                        assert_eq!(json["request_id"], id.as_str(), "{what}");
                    }
                    json["error"].as_str().unwrap().to_owned()
                } else {
                    assert!(body.starts_with("<!doctype html>"), "{what}: {body}");
                    body
                };
                match shown {
                    Some(text) => assert!(message.contains(text), "{what}: {message}"),
                    None => assert!(
                        message.contains("请联系管理员并提供编号") && message.contains(&id),
                        "{what}: {message}"
                    ),
                }
            }
        }
    }

    #[actix_web::test]
    async fn a_rejected_field_shows_in_the_json_errors() {
        let error = ApiError(WebError::Unprocessable(vec![FieldError {
            field: "ratings[0].answers.q1".into(),
            message: "超出范围".into(),
        }]));
        assert_eq!(error.status_code().as_u16(), 422);
        let body = error.error_response().into_body();
        let bytes = actix_web::body::to_bytes(body).await.unwrap();
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(json["errors"][0]["field"], "ratings[0].answers.q1");
    }
}
