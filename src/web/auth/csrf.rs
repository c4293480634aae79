//! CSRF: every form of a signed-in page carries the session's token in a hidden field
//! `csrf_token`, checked on POST. The login form, before any session exists, uses a
//! double-submit cookie: a random value both in a cookie and in the form, which another site can
//! neither read nor set. (SameSite=Strict cookies already stop most of this; the token makes it
//! not depend on the browser.)

use actix_web::HttpRequest;

use super::CurrentUser;
use crate::web::error::WebError;

/// The cookie of the login form's double-submit token.
pub const LOGIN_CSRF_COOKIE: &str = "qiping_login_csrf";

/// Compares in time independent of where the strings differ.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Refuses (403) a form whose token is missing or not the session's.
pub fn check(user: &CurrentUser, submitted: Option<&str>) -> Result<(), WebError> {
    match (&user.csrf_token, submitted) {
        (Some(expected), Some(given)) if same(expected.expose(), given) => Ok(()),
        _ => Err(WebError::Forbidden),
    }
}

/// Refuses (403) a login form whose token does not match its cookie.
pub fn check_login(req: &HttpRequest, submitted: Option<&str>) -> Result<(), WebError> {
    let cookie = req.cookie(LOGIN_CSRF_COOKIE);
    match (cookie, submitted) {
        (Some(c), Some(given)) if !given.is_empty() && same(c.value(), given) => Ok(()),
        _ => Err(WebError::Forbidden),
    }
}
