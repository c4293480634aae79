//! The HTTP side: the whole route table in [`routes`], thin handlers, one error type.

use actix_web::{App, HttpResponse, HttpServer, web};

use crate::config::Config;
use crate::db::Pool;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    pub config: Config,
}

/// The route table: every path the server answers, in one place.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz));
}

/// Liveness: answers without touching the database, so a load balancer can tell a hung process
/// from a busy database.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("ok")
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
