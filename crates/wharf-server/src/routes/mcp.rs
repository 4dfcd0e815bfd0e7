//! The MCP registry API under `/v0` and `/v0.1` (the same routes), plus
//! Wharf's publishers endpoint. Every error is RFC 9457 problem+json:
//! `{"title", "status", "detail", "errors": [{"message", "location"}]}`.

use super::extract::MaybeAuth;
use crate::error::AppError;
use crate::middleware::client_ip::{client_key, ClientIp};
use crate::ratelimit::{self, OnOutage};
use crate::services::auth::Principal;
use crate::services::mcp::entries::{self, ListParams};
use crate::services::mcp::status::{self, StatusBody};
use crate::services::mcp::{publish, McpError, McpProblem};
use crate::state::App;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use bytes::Bytes;
use serde_json::{json, Value};

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
}

/// A problem+json answer.
pub struct Problem {
    status: StatusCode,
    title: &'static str,
    detail: String,
    errors: Vec<McpProblem>,
    retry_after: Option<u32>,
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let errors: Vec<Value> = self
            .errors
            .iter()
            .map(|e| json!({ "message": e.message, "location": e.location }))
            .collect();
        let body = json!({
            "title": self.title,
            "status": self.status.as_u16(),
            "detail": self.detail,
            "errors": errors,
        });
        let mut response = (self.status, Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<McpError> for Problem {
    fn from(e: McpError) -> Self {
        let simple = |status, title, detail: String| Problem {
            status,
            title,
            detail,
            errors: Vec::new(),
            retry_after: None,
        };
        match e {
            McpError::Invalid { detail, problems } => Problem {
                status: StatusCode::BAD_REQUEST,
                title: "Bad Request",
                detail,
                errors: problems,
                retry_after: None,
            },
            McpError::Forbidden(m) => simple(StatusCode::FORBIDDEN, "Forbidden", m),
            McpError::NotFound(m) => simple(StatusCode::NOT_FOUND, "Not Found", m),
            McpError::UpstreamUnavailable { detail, problems } => Problem {
                status: StatusCode::SERVICE_UNAVAILABLE,
                title: "Upstream Unavailable",
                detail,
                errors: problems,
                retry_after: Some(30),
            },
            McpError::Repo(r) => AppError::from(r).into(),
            McpError::Blob(b) => AppError::from(b).into(),
        }
    }
}

impl From<AppError> for Problem {
    fn from(e: AppError) -> Self {
        let title = e.status.canonical_reason().unwrap_or("Error");
        let retry_after = e
            .headers
            .iter()
            .find(|(name, _)| name == header::RETRY_AFTER)
            .and_then(|(_, v)| v.to_str().ok()?.parse().ok());
        Problem {
            status: e.status,
            title,
            detail: e.message,
            errors: Vec::new(),
            retry_after,
        }
    }
}

/// The caller, or a 401 problem.
fn required(auth: Result<MaybeAuth, AppError>) -> Result<Principal, Problem> {
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

async fn list(
    State(app): State<App>,
    ClientIp(ip): ClientIp,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, Problem> {
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
    Ok(Json(entries::list(&app, params).await?))
}

async fn versions(
    State(app): State<App>,
    Path(name): Path<String>,
) -> Result<Json<Value>, Problem> {
    Ok(Json(entries::versions(&app, &name).await?))
}

async fn version(
    State(app): State<App>,
    Path((name, version)): Path<(String, String)>,
) -> Result<Json<Value>, Problem> {
    Ok(Json(entries::version(&app, &name, &version).await?))
}

async fn publish_server(
    State(app): State<App>,
    auth: Result<MaybeAuth, AppError>,
    body: Bytes,
) -> Result<Json<Value>, Problem> {
    let who = required(auth)?;
    // Publishing shares the upload limit: per token, and closed when Redis is down.
    let policy = &app.config.rate_limits.upload;
    ratelimit::check(&app, &who.rate_key(), policy, OnOutage::FailClosed).await?;
    let stored = publish::publish(&app, &who, &body).await?;
    Ok(Json(entries::entry(&stored)))
}

fn status_body(body: &Bytes) -> Result<StatusBody, Problem> {
    serde_json::from_slice(body).map_err(|e| {
        Problem::from(McpError::invalid(
            "the body must be {\"status\": \"active|deprecated|deleted\", \"statusMessage\": \"…\"}",
            vec![McpProblem::at("", e.to_string())],
        ))
    })
}

async fn version_status(
    State(app): State<App>,
    auth: Result<MaybeAuth, AppError>,
    Path((name, version)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, Problem> {
    let who = required(auth)?;
    let body = status_body(&body)?;
    status::set_status(&app, &who, &name, Some(&version), body).await?;
    Ok(Json(entries::version(&app, &name, &version).await?))
}

async fn server_status(
    State(app): State<App>,
    auth: Result<MaybeAuth, AppError>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, Problem> {
    let who = required(auth)?;
    let body = status_body(&body)?;
    let changed = status::set_status(&app, &who, &name, None, body).await?;
    let mut all = entries::versions(&app, &name).await?;
    all["metadata"]["changed"] = json!(changed);
    Ok(Json(all))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PublisherBody {
    user: String,
}

/// `POST /api/v1/mcp/servers/{name}/publishers` with `{"user": "…"}`.
pub async fn add_publisher(
    State(app): State<App>,
    auth: Result<MaybeAuth, AppError>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, Problem> {
    let who = required(auth)?;
    let body: PublisherBody = serde_json::from_slice(&body).map_err(|e| {
        Problem::from(McpError::invalid(
            "the body must be {\"user\": \"NAME\"}",
            vec![McpProblem::at("", e.to_string())],
        ))
    })?;
    let added = status::add_publisher(&app, &who, &name, &body.user).await?;
    Ok(Json(
        json!({ "server": name, "user": body.user, "added": added }),
    ))
}
