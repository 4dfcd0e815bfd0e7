//! Liveness and readiness.

use crate::error::AppError;
use crate::state::App;
use axum::extract::State;

/// The process is up.
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// The process can serve: the database and the blob store answer.
pub async fn readyz(State(app): State<App>) -> Result<&'static str, AppError> {
    app.db.ping().await.map_err(AppError::unavailable)?;
    app.ports
        .blobs
        .check()
        .await
        .map_err(AppError::unavailable)?;
    Ok("ready\n")
}
