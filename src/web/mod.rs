//! The HTTP side: the whole route table in [`routes`], thin handlers, one error type
//! ([`error::WebError`]), security headers on every response ([`security`]).

pub mod api;
mod assets;
pub mod auth;
pub mod client;
pub mod error;
pub mod pages;
pub mod public;
pub mod rate_limit;
pub mod request_id;
pub mod routes;
pub mod security;
mod survey;
pub mod upload;

use actix_web::{App, HttpResponse, HttpServer, web};

use crate::config::Config;
use crate::db::{Conn, Pool};
use crate::service::response_writer::ResponseWriter;
use crate::service::survey::{SurveyContext, ViewCounter};
use crate::service::tasks::TaskBoard;
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
    /// The background tasks of this process, for `/healthz?deep=1` (empty unless `serve` started
    /// them).
    pub tasks: TaskBoard,
    /// `server.trusted_proxies`: whose forwarding headers say who the client is.
    pub trusted: client::TrustedProxies,
}

/// Shared by every worker of one process (so the rate limit and the writer are per process).
#[derive(Clone, Debug)]
pub struct SurveyRuntime {
    /// Parsed questionnaires and the spent-key derivation.
    pub templates: SurveyContext,
    pub writer: ResponseWriter,
    pub limiter: RateLimiter,
    /// Survey views, counted in memory and written about once a second.
    pub views: ViewCounter,
}

impl AppState {
    /// The state of one server process; starts the response writer thread on `pool`.
    pub fn new(pool: Pool, config: Config) -> std::io::Result<Self> {
        let survey = SurveyRuntime {
            templates: match crate::service::links::LinkSecret::from_config(
                config.link_secret.as_deref(),
            ) {
                Ok(secret) => SurveyContext::new(&secret),
                Err(_) => SurveyContext::without_secret(),
            }
            .weighted_by_default(config.weighting.enabled),
            writer: ResponseWriter::start(pool.clone())?,
            limiter: RateLimiter::new(config.server.submit_rate_per_minute),
            views: ViewCounter::start(pool.clone())?,
        };
        let trusted = client::TrustedProxies::parse(&config.server.trusted_proxies)
            .map_err(std::io::Error::other)?;
        Ok(Self {
            pool,
            config,
            survey,
            tasks: TaskBoard::default(),
            trusted,
        })
    }
}

/// The route table: every path the server answers, listed in [`routes::ROUTES`]. Everything sits
/// in one scope wrapped by the security headers, so no route can be added without them.
pub fn routes(cfg: &mut web::ServiceConfig) {
    // The request id wraps the security headers: it sees their response, and keeps their headers
    // when it replaces the body of a 500 with the opaque page.
    let mut scope = web::scope("")
        .wrap(security::headers())
        .wrap(actix_web::middleware::from_fn(request_id::middleware));
    // One resource per path, so that a known path asked with a method it does not take answers
    // 405, not 404 (HTTP; the OpenAPI checker tests it). In the table's order, except that the
    // enterprises' survey paths go first: they carry nearly all the traffic, and actix tries the
    // patterns in order, one regex each (no two patterns of the table overlap, so the order
    // changes no answer).
    let mut paths: Vec<&str> = Vec::new();
    for spec in routes::ROUTES {
        if !paths.contains(&spec.path) {
            paths.push(spec.path);
        }
    }
    paths.sort_by_key(|path| !routes::is_survey(path));
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
    /// The client's address: the peer, or behind a trusted proxy the address it forwarded for
    /// ([`client`]).
    pub fn client_ip(&self, req: &actix_web::HttpRequest) -> Option<std::net::IpAddr> {
        self.trusted.client_ip(req)
    }

    /// Whether cookies must be `Secure`: an `https` base URL, or a trusted proxy that says the
    /// request came to it over HTTPS.
    pub fn is_https(&self, req: &actix_web::HttpRequest) -> bool {
        self.config.is_https() || self.trusted.forwarded_https(req)
    }

    /// Runs blocking database work on actix's thread pool with a pooled connection.
    pub async fn with_conn<T, F>(&self, f: F) -> Result<T, WebError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Conn) -> Result<T, WebError> + Send + 'static,
    {
        let pool = self.pool.clone();
        // The request's span (with its id) goes along, so what the work logs names the request.
        let span = tracing::Span::current();
        web::block(move || {
            let _entered = span.enter();
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await?
    }
}

/// `?deep=1` of `/healthz`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct HealthQuery {
    deep: Option<String>,
}

/// Liveness: plain `/healthz` answers without touching the database, so a load balancer can tell
/// a hung process from a busy database. `/healthz?deep=1` says more, as JSON: whether the
/// database answers and whether each background task of this process is alive and when it last
/// worked; 200 when all is well, 503 otherwise. It shows no error text (that is in the log).
async fn healthz(state: web::Data<AppState>, query: web::Query<HealthQuery>) -> HttpResponse {
    if query
        .deep
        .as_deref()
        .is_none_or(|d| d.is_empty() || d == "0")
    {
        return HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body("ok");
    }
    let database = state
        .with_conn(|conn| Ok(crate::db::ping(conn)?))
        .await
        .is_ok();
    let tasks = state.tasks.snapshot();
    let healthy = database && tasks.iter().all(|t| t.alive);
    let mut response = if healthy {
        HttpResponse::Ok()
    } else {
        HttpResponse::ServiceUnavailable()
    };
    response.insert_header(("Cache-Control", "no-store"));
    response.json(serde_json::json!({
        "status": if healthy { "ok" } else { "degraded" },
        "database": if database { "ok" } else { "unavailable" },
        "tasks": tasks,
    }))
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
    // One worker per core; each worker's pool of blocking threads (where database work runs,
    // `with_conn`) no larger than its share of the connection pool, less two for the response
    // writer and the background tasks: more threads than connections only queue on the pool,
    // and on a busy two-core machine their switching costs more than the work.
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let pool_size = data.config.server.pool_size as usize;
    let blocking = (pool_size.saturating_sub(2) / workers).max(2);
    HttpServer::new(move || App::new().app_data(data.clone()).configure(routes))
        .workers(workers)
        .worker_max_blocking_threads(blocking)
        .bind(bind)?
        .run()
        .await
}
