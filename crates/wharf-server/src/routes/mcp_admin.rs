//! `/api/v1/admin/mcp/…`: the sync of upstream registries and held catalog
//! versions, for administrators acting as such. Errors are problem+json, as
//! on the registry API.

use super::extract::MaybeAuth;
use crate::error::{AppError, Problem, ProblemBody};
use crate::services::auth::Principal;
use crate::services::mcp::capture::ToolsView;
use crate::services::mcp::entries::ServerResponse;
use crate::services::mcp::holds::{HeldVersion, HoldBody, SyncRun, SyncStatus};
use crate::services::mcp::{McpError, McpProblem};
use crate::state::App;
use axum::extract::{Path, State};
use axum::Json;
use bytes::Bytes;
use wharf_core::audit;

/// The caller, who must act as an administrator; a refusal is audited.
async fn admin(app: &App, auth: Result<MaybeAuth, AppError>) -> Result<Principal, Problem> {
    let who = super::mcp::required(auth)?;
    if !who.acts_as_admin() {
        app.audit
            .record_admin_refusal(&who, "admin:mcp")
            .await
            .map_err(AppError::from)?;
        return Err(McpError::Forbidden(
            "this needs an administrator and a token with the 'admin' scope".into(),
        )
        .into());
    }
    Ok(who)
}

fn hold_body(body: &Bytes) -> Result<HoldBody, Problem> {
    serde_json::from_slice(body).map_err(|e| {
        McpError::invalid(
            "the body must be {\"reason\": \"…\"}",
            vec![McpProblem::at("", e.to_string())],
        )
        .into()
    })
}

/// `GET /api/v1/admin/mcp/sync`: each upstream's sync state, and every held version with its report.
#[utoipa::path(
    get, path = "/api/v1/admin/mcp/sync", operation_id = "mcpSyncStatus", tag = "admin",
    responses(
        (status = 200, body = SyncStatus),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn sync_status(
    State(app): State<App>,
    auth: Result<MaybeAuth, AppError>,
) -> Result<Json<SyncStatus>, Problem> {
    let who = admin(&app, auth).await?;
    Ok(Json(app.catalog.sync_status(&who).await?))
}

/// `POST /api/v1/admin/mcp/sync`: syncs every upstream now, audited.
#[utoipa::path(
    post, path = "/api/v1/admin/mcp/sync", operation_id = "mcpSyncNow", tag = "admin",
    responses(
        (status = 200, body = SyncRun),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json",
         description = "no upstream is configured"),
    ),
    security(("token" = []))
)]
pub async fn sync_now(
    State(app): State<App>,
    auth: Result<MaybeAuth, AppError>,
) -> Result<Json<SyncRun>, Problem> {
    let who = admin(&app, auth).await?;
    let run = app.catalog.sync_now(&who).await?;
    app.audit
        .record(who.event(audit::MCP_SYNC, "mcp:upstreams", run.audit_detail()))
        .await
        .map_err(AppError::from)?;
    Ok(Json(run))
}

/// `POST /api/v1/admin/mcp/servers/{name}/versions/{version}/hold` with
/// `{"reason": "…"}`: the version is served no more, audited.
#[utoipa::path(
    post, path = "/api/v1/admin/mcp/servers/{name}/versions/{version}/hold",
    operation_id = "holdServerVersion", tag = "admin",
    params(
        ("name" = String, Path, description = "the server name, URL-encoded"),
        ("version" = String, Path, description = "an exact version"),
    ),
    request_body = HoldBody,
    responses(
        (status = 200, body = HeldVersion),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, body = ProblemBody, content_type = "application/problem+json",
         description = "held already"),
    ),
    security(("token" = []))
)]
pub async fn hold(
    State(app): State<App>,
    auth: Result<MaybeAuth, AppError>,
    Path((name, version)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<HeldVersion>, Problem> {
    let who = admin(&app, auth).await?;
    let body = hold_body(&body)?;
    Ok(Json(
        app.catalog
            .hold_version(&who, &name, &version, body)
            .await?,
    ))
}

/// `POST /api/v1/admin/mcp/servers/{name}/versions/{version}/release` with
/// `{"reason": "…"}`: a held version is served, audited; its checks do not
/// hold it again.
#[utoipa::path(
    post, path = "/api/v1/admin/mcp/servers/{name}/versions/{version}/release",
    operation_id = "releaseServerVersion", tag = "admin",
    params(
        ("name" = String, Path, description = "the server name, URL-encoded"),
        ("version" = String, Path, description = "an exact version"),
    ),
    request_body = HoldBody,
    responses(
        (status = 200, body = ServerResponse),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, body = ProblemBody, content_type = "application/problem+json",
         description = "not held"),
    ),
    security(("token" = []))
)]
pub async fn release(
    State(app): State<App>,
    auth: Result<MaybeAuth, AppError>,
    Path((name, version)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<ServerResponse>, Problem> {
    let who = admin(&app, auth).await?;
    let body = hold_body(&body)?;
    Ok(Json(
        app.catalog
            .release_version(&who, &name, &version, body)
            .await?,
    ))
}

/// `POST /api/v1/admin/mcp/servers/{name}/versions/{version}/capture`:
/// captures the version's remote server now and answers what it listed.
#[utoipa::path(
    post, path = "/api/v1/admin/mcp/servers/{name}/versions/{version}/capture",
    operation_id = "captureServerVersion", tag = "admin",
    params(
        ("name" = String, Path, description = "the server name, URL-encoded"),
        ("version" = String, Path, description = "an exact version"),
    ),
    responses(
        (status = 200, body = ToolsView),
        (status = 400, body = ProblemBody, content_type = "application/problem+json",
         description = "the version has no remote to capture"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, body = ProblemBody, content_type = "application/problem+json",
         description = "capture is off"),
    ),
    security(("token" = []))
)]
pub async fn capture(
    State(app): State<App>,
    auth: Result<MaybeAuth, AppError>,
    Path((name, version)): Path<(String, String)>,
) -> Result<Json<ToolsView>, Problem> {
    admin(&app, auth).await?;
    Ok(Json(app.catalog.capture_now(&name, &version).await?))
}
