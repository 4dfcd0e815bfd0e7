//! The MCP registry API under `/v0` and `/v0.1` (the same routes), plus
//! Wharf's publishers endpoint. Every error is RFC 9457 problem+json:
//! `{"title", "status", "detail", "errors": [{"message", "location"}]}`.

use super::extract::MaybeAuth;
use crate::error::{AppError, Problem, ProblemBody};
use crate::middleware::client_ip::{client_key, ClientIp};
use crate::ratelimit::{self, OnOutage};
use crate::services::auth::Principal;
use crate::services::mcp::capture::ToolsView;
use crate::services::mcp::entries::{ListParams, ServerList, ServerResponse};
use crate::services::mcp::publish::Validation;
use crate::services::mcp::status::StatusBody;
use crate::services::mcp::{McpError, McpProblem};
use crate::state::App;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The registry API; mounted at `/v0` and `/v0.1`.
pub fn registry_api() -> Router<App> {
    Router::new()
        .route("/servers", get(list))
        .route("/servers/{name}/versions", get(versions))
        .route("/servers/{name}/versions/{version}", get(version))
        .route(
            "/servers/{name}/versions/{version}/status",
            patch(version_status),
        )
        .route("/servers/{name}/status", patch(server_status))
        .route("/publish", post(publish_server))
        .route("/validate", post(validate_server))
        .route(
            "/x/io.wharf/servers/{name}/versions/{version}/tools",
            get(server_tools),
        )
}

/// The caller, or a 401 problem.
pub(super) fn required(auth: Result<MaybeAuth, AppError>) -> Result<Principal, Problem> {
    match auth {
        Ok(MaybeAuth(Some(who))) => Ok(who),
        Ok(MaybeAuth(None)) => Err(Problem {
            status: StatusCode::UNAUTHORIZED,
            title: "Unauthorized",
            detail: "authentication required: send `Authorization: Bearer <API token>`".into(),
            errors: Vec::new(),
            retry_after: None,
        }),
        Err(e) => Err(e.into()),
    }
}

/// `GET /v0/servers`: list or search the catalog.
#[utoipa::path(
    get, path = "/v0/servers", operation_id = "listServers", tag = "mcp",
    params(ListParams),
    responses(
        (status = 200, body = ServerList),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 429, body = ProblemBody, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    State(app): State<App>,
    ClientIp(ip): ClientIp,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<ServerList>, Problem> {
    let Query(params) = params.map_err(|e| {
        Problem::from(McpError::invalid(
            "invalid query parameters",
            vec![McpProblem::at(
                "query",
                format!(
                    "{}; use cursor, limit, search, updated_since, version, include_deleted",
                    e.body_text()
                ),
            )],
        ))
    })?;
    if params.search.is_some() {
        // Searching costs more than paging: the same per-IP limit as the
        // native search, and like it a read that stays up if the limiter is down.
        let policy = &app.config.rate_limits.search;
        let key = client_key(ip);
        ratelimit::check(&app, &key, policy, OnOutage::FailOpen).await?;
    }
    Ok(Json(app.catalog.list(params).await?))
}

/// `GET /v0/x/io.wharf/servers/{name}/versions/{version}/tools`: what the
/// latest capture of the version's remote server listed (tools, prompts,
/// resources), with the `tool.*` findings; Wharf's extension of the API.
#[utoipa::path(
    get, path = "/v0/x/io.wharf/servers/{name}/versions/{version}/tools",
    operation_id = "getServerTools", tag = "mcp",
    params(
        ("name" = String, Path, description = "the server name, URL-encoded"),
        ("version" = String, Path, description = "an exact version, or `latest`"),
    ),
    responses(
        (status = 200, body = ToolsView),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
    )
)]
pub async fn server_tools(
    State(app): State<App>,
    Path((name, version)): Path<(String, String)>,
) -> Result<Json<ToolsView>, Problem> {
    Ok(Json(app.catalog.tools(&name, &version).await?))
}

/// `GET /v0/servers/{name}/versions`: every version of one server.
#[utoipa::path(
    get, path = "/v0/servers/{name}/versions", operation_id = "listServerVersions", tag = "mcp",
    params(("name" = String, Path, description = "the server name, URL-encoded")),
    responses(
        (status = 200, body = ServerList),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
    )
)]
pub async fn versions(
    State(app): State<App>,
    Path(name): Path<String>,
) -> Result<Json<ServerList>, Problem> {
    Ok(Json(app.catalog.versions(&name).await?))
}

/// `GET /v0/servers/{name}/versions/{version}`: one version, or `latest`.
#[utoipa::path(
    get, path = "/v0/servers/{name}/versions/{version}", operation_id = "getServerVersion", tag = "mcp",
    params(
        ("name" = String, Path, description = "the server name, URL-encoded"),
        ("version" = String, Path, description = "an exact version, or `latest`"),
    ),
    responses(
        (status = 200, body = ServerResponse),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
    )
)]
pub async fn version(
    State(app): State<App>,
    Path((name, version)): Path<(String, String)>,
) -> Result<Json<ServerResponse>, Problem> {
    Ok(Json(app.catalog.version(&name, &version).await?))
}

/// `POST /v0/publish`: a `server.json`, checked and stored.
#[utoipa::path(
    post, path = "/v0/publish", operation_id = "publishServer", tag = "mcp",
    request_body(content = Object, description = "a server.json document"),
    responses(
        (status = 200, body = ServerResponse),
        (status = 400, description = "every problem, with its location", body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 429, body = ProblemBody, content_type = "application/problem+json"),
        (status = 503, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn publish_server(
    State(app): State<App>,
    auth: Result<MaybeAuth, AppError>,
    body: Bytes,
) -> Result<Json<ServerResponse>, Problem> {
    let who = required(auth)?;
    // Publishing shares the upload limit: per token, and closed when Redis is down.
    let policy = &app.config.rate_limits.upload;
    ratelimit::check(&app, &who.rate_key(), policy, OnOutage::FailClosed).await?;
    let stored = app.catalog.publish(&who, &body).await?;
    Ok(Json(crate::services::mcp::entries::entry(&stored)))
}

/// `POST /v0/validate`: whether a `server.json` would pass a publish's document
/// checks. Anyone may ask; nothing is stored and no package is looked up.
#[utoipa::path(
    post, path = "/v0/validate", operation_id = "validateServer", tag = "mcp",
    request_body(content = Object, description = "a server.json document"),
    responses(
        (status = 200, description = "`valid` and every issue", body = Validation),
        (status = 429, body = ProblemBody, content_type = "application/problem+json"),
    )
)]
pub async fn validate_server(
    State(app): State<App>,
    ClientIp(ip): ClientIp,
    body: Bytes,
) -> Result<Json<Validation>, Problem> {
    // As cheap as a search, and limited like one.
    let policy = &app.config.rate_limits.search;
    ratelimit::check(&app, &client_key(ip), policy, OnOutage::FailOpen).await?;
    Ok(Json(app.catalog.validate_document(&body)))
}

fn status_body(body: &Bytes) -> Result<StatusBody, Problem> {
    serde_json::from_slice(body).map_err(|e| {
        Problem::from(McpError::invalid(
            "the body must be {\"status\": \"active|deprecated|deleted\", \"statusMessage\": \"…\"}",
            vec![McpProblem::at("", e.to_string())],
        ))
    })
}

/// `PATCH /v0/servers/{name}/versions/{version}/status`.
#[utoipa::path(
    patch, path = "/v0/servers/{name}/versions/{version}/status", operation_id = "setVersionStatus", tag = "mcp",
    params(
        ("name" = String, Path, description = "the server name, URL-encoded"),
        ("version" = String, Path, description = "an exact version"),
    ),
    request_body = StatusBody,
    responses(
        (status = 200, body = ServerResponse),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn version_status(
    State(app): State<App>,
    auth: Result<MaybeAuth, AppError>,
    Path((name, version)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<ServerResponse>, Problem> {
    let who = required(auth)?;
    let body = status_body(&body)?;
    app.catalog
        .set_status(&who, &name, Some(&version), body)
        .await?;
    Ok(Json(app.catalog.version(&name, &version).await?))
}

/// `PATCH /v0/servers/{name}/status`: every version at once.
#[utoipa::path(
    patch, path = "/v0/servers/{name}/status", operation_id = "setServerStatus", tag = "mcp",
    params(("name" = String, Path, description = "the server name, URL-encoded")),
    request_body = StatusBody,
    responses(
        (status = 200, body = ServerList),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn server_status(
    State(app): State<App>,
    auth: Result<MaybeAuth, AppError>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Json<ServerList>, Problem> {
    let who = required(auth)?;
    let body = status_body(&body)?;
    let changed = app.catalog.set_status(&who, &name, None, body).await?;
    let mut all = app.catalog.versions(&name).await?;
    all.metadata.changed = Some(changed);
    Ok(Json(all))
}

/// Who to add as a co-publisher.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublisherBody {
    user: String,
}

/// A co-publisher added, or already one.
#[derive(Serialize, ToSchema)]
pub struct PublisherAdded {
    pub server: String,
    pub user: String,
    /// False when the user was a publisher already.
    pub added: bool,
}

/// `POST /api/v1/mcp/servers/{name}/publishers` with `{"user": "…"}`.
#[utoipa::path(
    post, path = "/api/v1/mcp/servers/{name}/publishers", operation_id = "addServerPublisher", tag = "mcp",
    params(("name" = String, Path, description = "the server name, URL-encoded")),
    request_body = PublisherBody,
    responses(
        (status = 200, body = PublisherAdded),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn add_publisher(
    State(app): State<App>,
    auth: Result<MaybeAuth, AppError>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Json<PublisherAdded>, Problem> {
    let who = required(auth)?;
    let body: PublisherBody = serde_json::from_slice(&body).map_err(|e| {
        Problem::from(McpError::invalid(
            "the body must be {\"user\": \"NAME\"}",
            vec![McpProblem::at("", e.to_string())],
        ))
    })?;
    let added = app.catalog.add_publisher(&who, &name, &body.user).await?;
    Ok(Json(PublisherAdded {
        server: name,
        user: body.user,
        added,
    }))
}
