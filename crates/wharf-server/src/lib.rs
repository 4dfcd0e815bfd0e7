//! Wharf's server: the HTTP surfaces, the services behind them, configuration
//! and start-up.

pub mod cache;
pub mod config;
pub mod error;
pub mod negotiate;
pub mod pages;
pub mod ratelimit;
pub mod routes;
pub mod services;
pub mod state;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use config::Config;
use routes::*;
use state::{App, StartError};
use std::net::SocketAddr;

/// Builds the router for every surface.
pub fn router(app: App) -> Router {
    let upload_limit = (app.config.max_upload_bytes + routes::upload::FORM_OVERHEAD) as usize;
    let uploads = Router::new()
        .route("/legacy/", post(upload::upload))
        .route("/legacy", post(upload::upload))
        .route("/", post(upload::upload))
        .layer(DefaultBodyLimit::max(upload_limit));
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/simple/", get(simple::index))
        .route("/simple/{name}/", get(simple::project))
        .route("/simple/{name}", get(simple::project_no_slash))
        .route("/files/{sha256}/{filename}", get(files::download))
        .route("/api/v1/projects/{name}", get(api::project))
        .route(
            "/api/v1/projects/{name}/releases/{version}/yank",
            post(api::yank_release),
        )
        .route(
            "/api/v1/projects/{name}/releases/{version}/unyank",
            post(api::unyank_release),
        )
        .route("/api/v1/admin/audit", get(admin::audit_log))
        .route("/api/{*rest}", axum::routing::any(api::not_found))
        .merge(uploads)
        .layer(axum::middleware::map_response(security_headers))
        .with_state(app)
}

/// Headers every response carries (security.md, "Transport and browser").
async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    h.insert(
        axum::http::HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'self'; frame-ancestors 'none'"),
    );
    response
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Start(#[from] StartError),
    #[error("cannot listen on {addr}: {reason}")]
    Bind { addr: SocketAddr, reason: String },
    #[error("server failed: {0}")]
    Serve(String),
}

/// Runs `wharf serve` until SIGINT or SIGTERM, letting requests in flight finish.
pub async fn serve(config: Config, migrate: bool) -> Result<(), ServeError> {
    let started = std::time::Instant::now();
    let addr = config.listen;
    let app = App::open(config, migrate).await?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| ServeError::Bind {
            addr,
            reason: e.to_string(),
        })?;
    let local = listener.local_addr().map_err(|e| ServeError::Bind {
        addr,
        reason: e.to_string(),
    })?;
    tracing::info!(
        url = %format!("http://{local}/"),
        data_dir = %app.config.data_dir.display(),
        startup_ms = started.elapsed().as_millis() as u64,
        "wharf is listening; create the first admin token with `wharf admin user create NAME --admin` \
         then `wharf admin token create --user NAME --scope read,publish,admin`"
    );
    axum::serve(
        listener,
        router(app.clone()).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .map_err(|e| ServeError::Serve(e.to_string()))?;
    app.db.close().await;
    tracing::info!("wharf stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
