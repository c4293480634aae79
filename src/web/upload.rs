//! File uploads without JavaScript: a `multipart/form-data` body (an `<input type="file">` and
//! the form's hidden fields), read whole up to a limit and split into its parts. Only what the
//! registry uploads need: named parts, an optional file name, the bytes as sent (a CSV saved by
//! Excel may be GBK, so file parts stay bytes; the importer detects the encoding).

use std::collections::HashMap;

use actix_web::{HttpRequest, web};

use super::error::WebError;

/// The largest upload accepted: a city's enterprises file (100,000 rows) is about 12 MB.
pub const UPLOAD_LIMIT_BYTES: usize = 32 * 1024 * 1024;

/// A submitted multipart form: text fields by name, and the file of one field.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct UploadForm {
    pub fields: HashMap<String, String>,
    pub files: HashMap<String, Vec<u8>>,
}

impl UploadForm {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

/// Why a body is not a form we can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UploadError {
    #[error("请求不是文件上传表单 (multipart/form-data)")]
    NotMultipart,
    #[error("上传的表单格式有误:{0}")]
    Malformed(&'static str),
    #[error("文件过大:上限 {} MB", UPLOAD_LIMIT_BYTES / 1024 / 1024)]
    TooLarge,
}

/// Reads the request's body (up to [`UPLOAD_LIMIT_BYTES`]) as a multipart form.
pub async fn read(req: &HttpRequest, payload: web::Payload) -> Result<UploadForm, UploadError> {
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let boundary = boundary(&content_type).ok_or(UploadError::NotMultipart)?;
    let body = payload
        .to_bytes_limited(UPLOAD_LIMIT_BYTES)
        .await
        .map_err(|_| UploadError::TooLarge)?
        .map_err(|_| UploadError::Malformed("读取请求失败"))?;
    parse(&boundary, &body)
}

/// Turns an upload error into the web's error: a form we cannot read carries no readable CSRF
/// token either, so it is refused as such (403) unless it was only too large (400).
pub fn refused(error: UploadError) -> WebError {
    match error {
        UploadError::TooLarge => WebError::BadRequest(error.to_string()),
        _ => WebError::Forbidden,
    }
}

/// The `boundary` parameter of a `multipart/form-data` content type.
fn boundary(content_type: &str) -> Option<String> {
    let mut parts = content_type.split(';');
    let mime = parts.next()?.trim();
    if !mime.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    parts.find_map(|p| {
        let (key, value) = p.trim().split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| value.trim().trim_matches('"').to_owned())
            .filter(|b| !b.is_empty() && b.len() <= 200)
    })
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if from > haystack.len() {
        return None;
    }
    haystack[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// Splits a multipart body (RFC 7578) into its parts.
pub fn parse(boundary: &str, body: &[u8]) -> Result<UploadForm, UploadError> {
    let delimiter = format!("--{boundary}");
    let next_delimiter = format!("\r\n--{boundary}");
    let mut at = find(body, delimiter.as_bytes(), 0).ok_or(UploadError::Malformed("缺少分隔符"))?
        + delimiter.len();
    let mut form = UploadForm::default();
    loop {
        if body[at..].starts_with(b"--") {
            return Ok(form);
        }
        if !body[at..].starts_with(b"\r\n") {
            return Err(UploadError::Malformed("分隔符后缺少换行"));
        }
        at += 2;
        let headers_end =
            find(body, b"\r\n\r\n", at).ok_or(UploadError::Malformed("缺少字段头"))?;
        let headers = std::str::from_utf8(&body[at..headers_end])
            .map_err(|_| UploadError::Malformed("字段头不是 UTF-8"))?;
        let data_start = headers_end + 4;
        let data_end = find(body, next_delimiter.as_bytes(), data_start)
            .ok_or(UploadError::Malformed("表单未结束"))?;
        let (name, is_file) = disposition(headers).ok_or(UploadError::Malformed("缺少字段名"))?;
        let data = &body[data_start..data_end];
        if is_file {
            form.files.insert(name, data.to_vec());
        } else {
            let text = String::from_utf8(data.to_vec())
                .map_err(|_| UploadError::Malformed("文本字段不是 UTF-8"))?;
            form.fields.insert(name, text);
        }
        at = data_end + next_delimiter.len();
    }
}

/// The field name of a part, and whether it is a file (has a `filename`).
fn disposition(headers: &str) -> Option<(String, bool)> {
    let line = headers.lines().find(|l| {
        l.split_once(':')
            .is_some_and(|(k, _)| k.trim().eq_ignore_ascii_case("content-disposition"))
    })?;
    let (_, value) = line.split_once(':')?;
    let mut name = None;
    let mut is_file = false;
    for param in value.split(';').skip(1) {
        let Some((key, v)) = param.trim().split_once('=') else {
            continue;
        };
        let v = v.trim().trim_matches('"').to_owned();
        match key.trim().to_ascii_lowercase().as_str() {
            "name" => name = Some(v),
            "filename" => is_file = true,
            _ => {}
        }
    }
    name.map(|n| (n, is_file))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = b"--XyZ\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\nabc\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"u.csv\"\r\nContent-Type: text/csv\r\n\r\n\
code,name\r\nA,\xbc\xd7\r\n\r\n--XyZ--\r\n";

    #[test]
    fn a_form_with_a_field_and_a_file_is_split_into_both() {
        let form = parse("XyZ", BODY).unwrap();
        assert_eq!(form.field("csrf_token"), Some("abc"));
        // The file keeps its bytes (GBK here) and its own trailing line break.
        assert_eq!(form.files["file"], b"code,name\r\nA,\xbc\xd7\r\n");
    }

    #[test]
    fn the_boundary_comes_from_the_content_type() {
        assert_eq!(
            boundary("multipart/form-data; boundary=\"a b\""),
            Some("a b".into())
        );
        assert_eq!(
            boundary("Multipart/Form-Data;boundary=----x"),
            Some("----x".into())
        );
        assert_eq!(boundary("application/x-www-form-urlencoded"), None);
    }

    #[test]
    fn a_truncated_body_is_refused() {
        assert!(parse("XyZ", &BODY[..60]).is_err());
        assert!(parse("other", BODY).is_err());
    }
}
