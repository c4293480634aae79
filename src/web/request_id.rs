//! A request id for every request: random and short, sent back in `X-Request-Id`, and carried by
//! the tracing span the request runs in, so every log line of the request — an internal error's
//! cause among them — names it. Every 500 is answered here, whatever produced it, as an opaque
//! page (or JSON under `/api/`) that shows only the id: 「出错了,请联系管理员并提供编号 …」. The
//! operator finds the cause in the log by that id; the client learns nothing of it.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse};
use tracing::Instrument;

use super::error::html_escape;

/// The response header that carries the id.
pub const HEADER: &str = "X-Request-Id";

/// The id of the request being answered (in the request's extensions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

/// 12 hexadecimal digits (48 random bits): short enough to read out on the phone, and no two
/// requests of a day will share one in practice.
pub fn new_id() -> String {
    format!("{:012x}", rand::random::<u64>() & 0xffff_ffff_ffff)
}

/// The middleware (`actix_web::middleware::from_fn`): the id, the span, the header, and the opaque
/// 500.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let id = new_id();
    req.extensions_mut().insert(RequestId(id.clone()));
    let api = req.path().starts_with("/api/");
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        path = %req.path()
    );
    let response = next.call(req).instrument(span).await?;
    let mut response = if response.status() == StatusCode::INTERNAL_SERVER_ERROR {
        opaque(response, &id, api)
    } else {
        response.map_into_boxed_body()
    };
    if let Ok(value) = HeaderValue::from_str(&id) {
        response
            .headers_mut()
            .insert(header::HeaderName::from_static("x-request-id"), value);
    }
    Ok(response)
}

/// The 500 as the client sees it: the id and nothing else of what went wrong. The headers the
/// inner layers set (security headers, no-store) are kept; the body and its type are replaced.
fn opaque<B>(response: ServiceResponse<B>, id: &str, api: bool) -> ServiceResponse<BoxBody> {
    let json = api
        || response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("application/json"));
    let (req, old) = response.into_parts();
    let mut new = if json {
        HttpResponse::InternalServerError().json(serde_json::json!({
            "error": format!("服务器内部错误,请联系管理员并提供编号 {id}"),
            "request_id": id,
        }))
    } else {
        HttpResponse::InternalServerError()
            .content_type("text/html; charset=utf-8")
            .body(internal_error_page(id))
    };
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            new.headers_mut().insert(name.clone(), value.clone());
        }
    }
    ServiceResponse::new(req, new)
}

/// The page of a 500: in Chinese, self-contained, with the id to quote.
pub fn internal_error_page(id: &str) -> String {
    let id = html_escape(id);
    format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>500 出错了</title></head>\
         <body style=\"font-family:sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem\">\
         <h1>出错了</h1><p>出错了,请联系管理员并提供编号 <strong>{id}</strong>。</p>\
         <p>您的操作可能没有完成,请稍后再试。</p><p style=\"color:#666\">500</p></body></html>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_twelve_hex_digits_and_differ() {
        let (a, b) = (new_id(), new_id());
        assert_eq!(a.len(), 12);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
