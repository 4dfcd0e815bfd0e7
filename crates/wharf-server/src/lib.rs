//! Wharf's server: the HTTP surfaces, the services behind them, configuration
//! and start-up.

pub mod cache;
pub mod client;
pub mod config;
pub mod connections;
pub mod error;
pub mod metrics;
pub mod middleware;
pub mod negotiate;
pub mod openapi;
pub mod pages;
pub mod ratelimit;
pub mod routes;
pub mod services;
pub mod state;

use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn_with_state, map_response_with_state};
use axum::routing::{get, post};
use axum::Router;
use config::Config;
use routes::*;
use state::{App, StartError};
use std::future::Future;
use std::net::SocketAddr;
use tokio::net::TcpListener;

/// Builds the router for every surface.
pub fn router(app: App) -> Router {
    let upload_limit = (app.config.max_upload_bytes + routes::upload::FORM_OVERHEAD) as usize;
    let uploads = Router::new()
        .route("/legacy/", post(upload::upload))
        .route("/legacy", post(upload::upload))
        // `GET /` is the home page from `routes::web`; the merge below joins
        // the two methods on one route.
        .route("/", post(upload::upload))
        .layer(DefaultBodyLimit::max(upload_limit));
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/api/openapi.json", get(openapi::serve))
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
        .route(
            "/api/v1/projects/{name}/releases/{version}/files/{filename}/report",
            get(review::report),
        )
        .route("/api/v1/admin/audit", get(admin::audit_log))
        .route("/api/v1/admin/quarantine", get(review::queue))
        .route("/api/v1/admin/proxy/{ecosystem}", get(proxy_admin::status))
        .route(
            "/api/v1/admin/proxy/{ecosystem}/rules",
            post(proxy_admin::add_rule).delete(proxy_admin::remove_rule),
        )
        .route(
            "/api/v1/admin/mcp/sync",
            get(mcp_admin::sync_status).post(mcp_admin::sync_now),
        )
        .route(
            "/api/v1/admin/mcp/servers/{name}/versions/{version}/hold",
            post(mcp_admin::hold),
        )
        .route(
            "/api/v1/admin/mcp/servers/{name}/versions/{version}/release",
            post(mcp_admin::release),
        )
        .route(
            "/api/v1/admin/mcp/servers/{name}/versions/{version}/capture",
            post(mcp_admin::capture),
        )
        .route("/api/v1/admin/files/{id}/release", post(review::release))
        .route("/api/v1/admin/files/{id}/reject", post(review::reject))
        .route("/api/v1/auth/device/code", post(device::code))
        .route("/api/v1/auth/device/token", post(device::token))
        .route("/api/v1/whoami", get(api::whoami))
        .route("/api/v1/search", get(search::search))
        .route(
            "/api/v1/mcp/servers/{name}/publishers",
            post(mcp::add_publisher),
        )
        .route("/api/v1/deployments/validate", post(deploy::validate))
        .route(
            "/api/v1/deployments",
            post(deploy::create).get(deploy::list),
        )
        .route(
            "/api/v1/deployments/{id}",
            get(deploy::get).delete(deploy::delete),
        )
        .route("/api/v1/deployments/{id}/plan", get(deploy::plan))
        .nest("/v0", mcp::registry_api())
        .nest("/v0.1", mcp::registry_api())
        .route("/api/{*rest}", axum::routing::any(api::not_found))
        .merge(uploads)
        .merge(routes::npm::router(&app))
        .merge(routes::web::router())
        // Outermost last: headers go on every response, CORS answers
        // preflights before anything else, and the global limit is keyed by
        // the client IP resolved just outside it.
        .layer(from_fn_with_state(
            app.clone(),
            middleware::global_limit::enforce,
        ))
        .layer(from_fn_with_state(
            app.clone(),
            middleware::client_ip::resolve,
        ))
        .layer(from_fn_with_state(app.clone(), middleware::cors::apply))
        .layer(map_response_with_state(
            app.clone(),
            middleware::security_headers::add,
        ))
        .layer(from_fn_with_state(app.metrics.clone(), metrics::count))
        .with_state(app)
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Start(#[from] StartError),
    #[error("cannot listen on {addr}: {reason}")]
    Bind { addr: SocketAddr, reason: String },
}

/// Runs `wharf serve` until SIGINT or SIGTERM, letting requests in flight finish.
pub async fn serve(config: Config, migrate: bool) -> Result<(), ServeError> {
    let started = std::time::Instant::now();
    let addr = config.listen;
    let app = App::open(config, migrate).await?;
    let listener = TcpListener::bind(addr)
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
    tokio::spawn(sweep_expired_sessions(app.clone()));
    let workers = app.verification.spawn_workers();
    spawn_mcp_sync(&app);
    if let Some(metrics_addr) = app.config.metrics_listen {
        let metrics_listener =
            TcpListener::bind(metrics_addr)
                .await
                .map_err(|e| ServeError::Bind {
                    addr: metrics_addr,
                    reason: e.to_string(),
                })?;
        tracing::info!(url = %format!("http://{metrics_addr}/metrics"), "metrics are served");
        let server = connections::Server::new(&app, metrics::router(app.metrics.clone()));
        // Scrapes need not finish at shutdown: the task ends with the process.
        tokio::spawn(server.run(metrics_listener, std::future::pending()));
    }
    serve_listener(listener, app.clone(), shutdown_signal()).await;
    // A job cut short here is retried by another worker once its lease runs out.
    workers.iter().for_each(tokio::task::JoinHandle::abort);
    app.db.close().await;
    tracing::info!("wharf stopped");
    Ok(())
}

/// Serves the public router on `listener` until `shutdown` resolves, then
/// lets requests in flight finish. `serve` runs it on the configured address
/// with SIGINT and SIGTERM; tests run it on a port of their own.
pub async fn serve_listener(listener: TcpListener, app: App, shutdown: impl Future<Output = ()>) {
    connections::Server::new(&app, router(app.clone()))
        .run(listener, shutdown)
        .await;
}

/// Expired sessions are refused at lookup already; this only keeps the table
/// small. Every instance may run it: the delete is idempotent.
async fn sweep_expired_sessions(app: App) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
    loop {
        every.tick().await;
        match app
            .ports
            .sessions
            .delete_expired_sessions(wharf_core::Timestamp::now())
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::debug!(sessions = n, "removed expired sessions"),
            Err(e) => tracing::warn!(error = %e, "could not remove expired sessions"),
        }
    }
}

/// `wharf worker`: verification only, for a separate tier. It shares the
/// database and blob store with the servers and takes jobs from the queue.
pub async fn run_worker(config: Config) -> Result<(), ServeError> {
    let app = App::attach(config).await?;
    let workers = app.verification.spawn_workers();
    spawn_mcp_sync(&app);
    tracing::info!(
        workers = workers.len(),
        "wharf worker is verifying queued uploads"
    );
    shutdown_signal().await;
    // A job cut short is retried elsewhere once its lease runs out.
    workers.iter().for_each(tokio::task::JoinHandle::abort);
    app.db.close().await;
    Ok(())
}

/// The periodic sync of upstream MCP registries, when any is configured,
/// and the capture worker. A run cut short by shutdown resumes at its saved
/// cursor; a capture cut short is retried once its job's lease runs out.
fn spawn_mcp_sync(app: &App) {
    if app.config.mcp_sync.capture.remote {
        let worker = format!(
            "capture-{}-{:08x}",
            std::process::id(),
            rand::random::<u32>()
        );
        tokio::spawn(crate::services::mcp::Catalog::capture_periodically(
            app.clone(),
            worker,
        ));
    }
    if let (false, Some(interval)) = (app.catalog.mirrors.is_empty(), app.config.mcp_sync.interval)
    {
        tracing::info!(
            upstreams = app.catalog.mirrors.len(),
            every = %humantime::format_duration(interval),
            "MCP catalog syncs from upstream registries"
        );
        tokio::spawn(crate::services::mcp::Catalog::sync_periodically(
            app.clone(),
            interval,
        ));
    }
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
