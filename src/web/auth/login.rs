//! `GET/POST /login` and `POST /logout`. The session cookie is HttpOnly, SameSite=Strict, and
//! Secure when `server.base_url` is https; it has no Max-Age, as the server ends sessions itself.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::csrf::{self, LOGIN_CSRF_COOKIE};
use super::{CurrentUser, SESSION_COOKIE};
use crate::domain::{Role, Secret};
use crate::service::accounts::{self, LoginOutcome, secrets};
use crate::web::AppState;
use crate::web::error::WebError;

#[derive(Template)]
#[template(path = "auth/login.html")]
struct LoginPage<'a> {
    csrf_token: &'a str,
    name: &'a str,
    message: &'a str,
}

/// The login form's fields. Debug hides the password.
#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    csrf_token: Option<String>,
}

impl std::fmt::Debug for LoginForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginForm")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// A form that only carries the CSRF token (logout).
#[derive(Debug, Deserialize)]
pub struct TokenForm {
    pub csrf_token: Option<String>,
}

/// `secure`: [`AppState::is_https`] of the request (an `https` base URL, or a trusted proxy that
/// received it over HTTPS).
fn cookie<'c>(secure: bool, name: &'c str, value: String, path: &'c str) -> Cookie<'c> {
    Cookie::build(name, value)
        .path(path)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .finish()
}

/// Renders the form with a fresh double-submit token in a cookie and in the form.
fn login_page(
    secure: bool,
    status: StatusCode,
    name: &str,
    message: &str,
) -> Result<HttpResponse, WebError> {
    let token = secrets::random_secret();
    let html = LoginPage {
        csrf_token: token.expose(),
        name,
        message,
    }
    .render()
    .map_err(WebError::internal)?;
    Ok(HttpResponse::build(status)
        .cookie(cookie(
            secure,
            LOGIN_CSRF_COOKIE,
            token.expose().to_owned(),
            "/login",
        ))
        .insert_header(("Cache-Control", "no-store"))
        .content_type("text/html; charset=utf-8")
        .body(html))
}

/// `GET /login`.
pub async fn form(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    login_page(state.is_https(&req), StatusCode::OK, "", "")
}

/// Where each role lands after signing in.
pub fn home_of(role: Role) -> &'static str {
    match role {
        Role::Admin => "/admin/",
        Role::Inspector => "/inspect/",
        Role::Unit => "/unit/",
    }
}

/// The client address the per-address limit counts: the connection's peer, or behind a trusted
/// proxy the address it forwarded for (src/web/client.rs); never a header a client could forge.
fn client_address(state: &AppState, req: &HttpRequest) -> String {
    state
        .client_ip(req)
        .map(|a| a.to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// `POST /login`.
pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, WebError> {
    let form = form.into_inner();
    csrf::check_login(&req, form.csrf_token.as_deref())?;
    let settings = state.config.auth.clone();
    let name = form.name.trim().to_owned();
    let password = Secret::new(form.password);
    let address = client_address(&state, &req);
    let outcome = {
        let (settings, name) = (settings.clone(), name.clone());
        state
            .with_conn(move |conn| {
                Ok(accounts::login(
                    conn, &settings, &name, &password, &address,
                )?)
            })
            .await?
    };
    let status = match &outcome {
        LoginOutcome::SignedIn {
            cookie: value,
            account,
        } => {
            tracing::info!(user = %account.name, "登录成功");
            return Ok(HttpResponse::SeeOther()
                .cookie(cookie(
                    state.is_https(&req),
                    SESSION_COOKIE,
                    value.expose().to_owned(),
                    "/",
                ))
                .insert_header(("Location", home_of(account.role)))
                .finish());
        }
        LoginOutcome::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        LoginOutcome::Rejected | LoginOutcome::Locked { .. } => StatusCode::UNAUTHORIZED,
    };
    tracing::info!(user = %name, "登录失败");
    login_page(
        state.is_https(&req),
        status,
        &name,
        &outcome.message(&settings),
    )
}

/// `POST /logout`: ends the session on every server and clears the cookie.
pub async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, WebError> {
    csrf::check(&user, form.csrf_token.as_deref())?;
    if let Some(id) = user.session_id.clone() {
        state
            .with_conn(move |conn| Ok(accounts::end_session(conn, &id)?))
            .await?;
    }
    let mut gone = cookie(state.is_https(&req), SESSION_COOKIE, String::new(), "/");
    gone.make_removal();
    Ok(HttpResponse::SeeOther()
        .cookie(gone)
        .insert_header(("Location", "/login"))
        .finish())
}
