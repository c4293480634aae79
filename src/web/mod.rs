//! The HTTP side: the whole route table in [`routes`], thin handlers, one error type
//! ([`error::WebError`]), security headers on every response ([`security`]).

pub mod api;
mod assets;
pub mod auth;
pub mod error;
pub mod pages;
pub mod public;
pub mod rate_limit;
pub mod routes;
pub mod security;
mod survey;
pub mod upload;

use actix_web::{App, HttpResponse, HttpServer, web};

use crate::config::Config;
use crate::db::{Conn, Pool};
use crate::service::response_writer::ResponseWriter;
use crate::service::survey::TemplateCache;
use error::WebError;
use rate_limit::RateLimiter;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    pub config: Config,
    /// The survey's per-process parts: parsed questionnaires, the group-commit writer, the
    /// per-address rate limit.
    pub survey: SurveyRuntime,
}

/// Shared by every worker of one process (so the rate limit and the writer are per process).
#[derive(Clone, Debug)]
pub struct SurveyRuntime {
    pub templates: TemplateCache,
    pub writer: ResponseWriter,
    pub limiter: RateLimiter,
}

impl AppState {
    /// The state of one server process; starts the response writer thread on `pool`.
    pub fn new(pool: Pool, config: Config) -> std::io::Result<Self> {
        let survey = SurveyRuntime {
            templates: TemplateCache::default(),
            writer: ResponseWriter::start(pool.clone())?,
            limiter: RateLimiter::new(config.server.submit_rate_per_minute),
        };
        Ok(Self {
            pool,
            config,
            survey,
        })
    }
}

/// The route table: every path the server answers, listed in [`routes::ROUTES`]. Everything sits
/// in one scope wrapped by the security headers, so no route can be added without them.
pub fn routes(cfg: &mut web::ServiceConfig) {
    let mut scope = web::scope("").wrap(security::headers());
    // One resource per path, in the table's order, so that a known path asked with a method it
    // does not take answers 405, not 404 (HTTP; the OpenAPI checker tests it).
    let mut paths: Vec<&str> = Vec::new();
    for spec in routes::ROUTES {
        if !paths.contains(&spec.path) {
            paths.push(spec.path);
        }
    }
    for path in paths {
        let mut resource = web::resource(path);
        for spec in routes::ROUTES.iter().filter(|s| s.path == path) {
            resource = resource.route(spec.route());
        }
        scope = scope.service(resource);
    }
    cfg.service(scope);
}

impl AppState {
    /// Runs blocking database work on actix's thread pool with a pooled connection.
    pub async fn with_conn<T, F>(&self, f: F) -> Result<T, WebError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Conn) -> Result<T, WebError> + Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await?
    }
}

/// Liveness: answers without touching the database, so a load balancer can tell a hung process
/// from a busy database.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("ok")
}

/// Starts the server on a listener the caller bound (so it knows the address, port 0 included,
/// before the first request); the returned future runs it until it is stopped. Call it inside an
/// actix system (`actix_web::rt::System`).
pub fn start(
    state: AppState,
    listener: std::net::TcpListener,
) -> std::io::Result<actix_web::dev::Server> {
    let data = web::Data::new(state);
    tracing::info!(addr = ?listener.local_addr().ok(), "qiping serve 已启动");
    Ok(
        HttpServer::new(move || App::new().app_data(data.clone()).configure(routes))
            .listen(listener)?
            .run(),
    )
}

/// Runs the server until it is stopped.
pub async fn serve(state: AppState, bind: &str) -> std::io::Result<()> {
    let data = web::Data::new(state);
    tracing::info!(%bind, "qiping serve 已启动");
    HttpServer::new(move || App::new().app_data(data.clone()).configure(routes))
        .bind(bind)?
        .run()
        .await
}
