//! Who is asking: the [`CurrentUser`] extractor (a session cookie or `Authorization: Bearer`), the
//! [`RequireRole`] extractor that refuses everyone else, and CSRF checks for forms.
//!
//! Denials never show data: 401 when nobody is signed in, 403 for a signed-in user of another
//! role; a page of another unit answers 404 (see `pages::unit`). Under `/api/` the error is JSON.

pub mod csrf;
pub mod login;

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, dev::Payload, web};

use super::AppState;
use super::error::{ApiError, WebError};
use crate::domain::{Role, Secret};
use crate::service::accounts::{self, Account};

/// The session cookie: a random value whose SHA-256 names the session row.
pub const SESSION_COOKIE: &str = "qiping_session";

/// A signed-in user, from a live session or a valid API token.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub account: Account,
    /// The session's CSRF token; `None` for bearer tokens (no cookie, so nothing to forge).
    pub csrf_token: Option<Secret>,
    /// The session row's id (a digest), to end it on logout.
    pub session_id: Option<String>,
}

impl CurrentUser {
    /// The audit actor for this user.
    pub fn actor(&self) -> crate::service::Actor {
        crate::service::Actor::user(&self.account.name)
    }
}

/// A refusal rendered as a page, or as JSON under `/api/`.
#[derive(Debug)]
pub struct AuthError {
    api: bool,
    error: WebError,
}

impl std::fmt::Display for AuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl ResponseError for AuthError {
    fn status_code(&self) -> StatusCode {
        self.error.status_code()
    }
    fn error_response(&self) -> HttpResponse {
        if self.api {
            ApiError(clone_error(&self.error)).error_response()
        } else {
            self.error.error_response()
        }
    }
}

fn clone_error(e: &WebError) -> WebError {
    match e {
        WebError::Unauthorized => WebError::Unauthorized,
        WebError::Forbidden => WebError::Forbidden,
        WebError::Unavailable => WebError::Unavailable,
        WebError::NotFound => WebError::NotFound,
        _ => WebError::Internal,
    }
}

fn is_api(req: &HttpRequest) -> bool {
    req.path().starts_with("/api/")
}

/// The bearer token of the request, if any.
fn bearer(req: &HttpRequest) -> Option<Secret> {
    let value = req.headers().get("authorization")?.to_str().ok()?;
    let token = value.strip_prefix("Bearer ")?.trim();
    (!token.is_empty()).then(|| Secret::new(token))
}

/// The session cookie of the request, if any.
pub fn session_cookie(req: &HttpRequest) -> Option<Secret> {
    req.cookie(SESSION_COOKIE)
        .map(|c| Secret::new(c.value()))
        .filter(|s| !s.expose().is_empty())
}

async fn authenticate(req: &HttpRequest) -> Result<Option<CurrentUser>, WebError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| WebError::internal("AppState 未注册"))?
        .clone();
    if let Some(token) = bearer(req) {
        let account = state
            .with_conn(move |conn| Ok(accounts::authenticate_token(conn, &token)?))
            .await?;
        return Ok(account.map(|account| CurrentUser {
            account,
            csrf_token: None,
            session_id: None,
        }));
    }
    let Some(cookie) = session_cookie(req) else {
        return Ok(None);
    };
    let settings = state.config.auth.clone();
    let session = state
        .with_conn(move |conn| Ok(accounts::session_user(conn, &settings, &cookie)?))
        .await?;
    Ok(session.map(|s| CurrentUser {
        account: s.account,
        csrf_token: Some(s.csrf_token),
        session_id: Some(s.session_id),
    }))
}

/// Like [`CurrentUser`], but `None` for the public instead of a refusal (for public pages that
/// greet a signed-in user).
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<CurrentUser>);

impl FromRequest for MaybeUser {
    type Error = AuthError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            authenticate(&req)
                .await
                .map(MaybeUser)
                .map_err(|error| AuthError {
                    api: is_api(&req),
                    error,
                })
        })
    }
}

impl FromRequest for CurrentUser {
    type Error = AuthError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let api = is_api(&req);
            match authenticate(&req).await {
                Ok(Some(user)) => Ok(user),
                Ok(None) => Err(AuthError {
                    api,
                    error: WebError::Unauthorized,
                }),
                Err(error) => Err(AuthError { api, error }),
            }
        })
    }
}

/// A role a handler can demand: `RequireRole<Admin>`, `RequireRole<Inspector>`,
/// `RequireRole<UnitViewer>`.
pub trait RoleMarker {
    const ROLE: Role;
}

/// The 营商办.
#[derive(Debug, Clone, Copy)]
pub struct Admin;
/// The 纪委监委.
#[derive(Debug, Clone, Copy)]
pub struct Inspector;
/// A unit viewer.
#[derive(Debug, Clone, Copy)]
pub struct UnitViewer;

impl RoleMarker for Admin {
    const ROLE: Role = Role::Admin;
}
impl RoleMarker for Inspector {
    const ROLE: Role = Role::Inspector;
}
impl RoleMarker for UnitViewer {
    const ROLE: Role = Role::Unit;
}

/// A signed-in user of role `R`; anyone else is refused (401 signed out, 403 another role).
#[derive(Debug, Clone)]
pub struct RequireRole<R: RoleMarker>(pub CurrentUser, PhantomData<R>);

impl<R: RoleMarker> RequireRole<R> {
    pub fn user(&self) -> &CurrentUser {
        &self.0
    }
}

impl<R: RoleMarker + 'static> FromRequest for RequireRole<R> {
    type Error = AuthError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let api = is_api(req);
        let user = CurrentUser::from_request(req, payload);
        Box::pin(async move {
            let user = user.await?;
            if user.account.role == R::ROLE {
                Ok(RequireRole(user, PhantomData))
            } else {
                Err(AuthError {
                    api,
                    error: WebError::Forbidden,
                })
            }
        })
    }
}
