//! The review queue for administrators, and verification reports for owners.

use super::extract::Auth;
use crate::error::{AppError, ErrorBody};
use crate::services::auth::Principal;
use crate::services::review::{Decision, HeldFileView, QueueView};
use crate::state::App;
use axum::extract::{Path, Query, State};
use axum::Json;
use bytes::Bytes;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use wharf_core::model::FileStatus;

/// Which files of the queue.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    /// `quarantined` (default), `pending` or `all`.
    status: Option<String>,
    /// 1 to 1000; default 100.
    limit: Option<i64>,
}

/// `GET /api/v1/admin/quarantine?status=quarantined|pending|all&limit=`.
#[utoipa::path(
    get, path = "/api/v1/admin/quarantine", operation_id = "reviewQueue", tag = "admin",
    params(QueueQuery),
    responses(
        (status = 200, body = QueueView),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn queue(
    State(app): State<App>,
    Auth(who): Auth,
    query: Result<Query<QueueQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<QueueView>, AppError> {
    app.reviews.require_admin(&who, "admin:quarantine").await?;
    let Query(query) = query.map_err(|e| {
        AppError::bad_request(
            "invalid_query",
            format!("{}; use status and limit", e.body_text()),
        )
    })?;
    let statuses = match query.status.as_deref().unwrap_or("quarantined") {
        "quarantined" => vec![FileStatus::Quarantined],
        "pending" => vec![FileStatus::Pending],
        "all" => vec![FileStatus::Quarantined, FileStatus::Pending],
        other => {
            return Err(AppError::bad_request(
                "invalid_query",
                format!(
                    "status '{}' is not one of quarantined, pending, all",
                    wharf_core::name::printable(other)
                ),
            ))
        }
    };
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(AppError::bad_request(
            "invalid_query",
            "limit must be between 1 and 1000",
        ));
    }
    let held = app.reviews.queue(&statuses, limit).await?;
    Ok(Json(QueueView {
        files: held.iter().map(HeldFileView::from).collect(),
    }))
}

/// Why a file is released or rejected; required, and audited.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    reason: String,
}

/// `POST /api/v1/admin/files/{id}/release` with `{"reason": "…"}`.
#[utoipa::path(
    post, path = "/api/v1/admin/files/{id}/release", operation_id = "releaseFile", tag = "admin",
    params(("id" = String, Path, description = "the file's ID, as the queue lists it")),
    request_body = DecisionBody,
    responses(
        (status = 200, body = HeldFileView),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn release(
    State(app): State<App>,
    Auth(who): Auth,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<HeldFileView>, AppError> {
    decide(app, who, id, body, Decision::Release).await
}

/// `POST /api/v1/admin/files/{id}/reject` with `{"reason": "…"}`.
#[utoipa::path(
    post, path = "/api/v1/admin/files/{id}/reject", operation_id = "rejectFile", tag = "admin",
    params(("id" = String, Path, description = "the file's ID, as the queue lists it")),
    request_body = DecisionBody,
    responses(
        (status = 200, body = HeldFileView),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn reject(
    State(app): State<App>,
    Auth(who): Auth,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<HeldFileView>, AppError> {
    decide(app, who, id, body, Decision::Reject).await
}

async fn decide(
    app: App,
    who: Principal,
    id: String,
    body: Bytes,
    decision: Decision,
) -> Result<Json<HeldFileView>, AppError> {
    app.reviews
        .require_admin(&who, &format!("file:{}", wharf_core::name::printable(&id)))
        .await?;
    let id: i64 = id.parse().map_err(|_| {
        AppError::bad_request(
            "invalid_id",
            "the file ID must be a number, as the queue lists it",
        )
    })?;
    let body: DecisionBody = serde_json::from_slice(&body).map_err(|e| {
        AppError::bad_request(
            "invalid_body",
            format!("the body must be {{\"reason\": \"…\"}}: {e}"),
        )
    })?;
    let held = app
        .reviews
        .decide(id, decision, &body.reason, Some(&who))
        .await?;
    Ok(Json(HeldFileView::from(&held)))
}

/// `GET /api/v1/projects/{name}/releases/{version}/files/{filename}/report`:
/// the file's verification report, for its project's owners and administrators.
/// Anyone else gets the same 404 as for a file that does not exist, so held
/// files cannot be discovered by probing.
#[utoipa::path(
    get, path = "/api/v1/projects/{name}/releases/{version}/files/{filename}/report",
    operation_id = "fileReport", tag = "projects",
    params(
        ("name" = String, Path, description = "the project name"),
        ("version" = String, Path, description = "the release"),
        ("filename" = String, Path, description = "the file name"),
    ),
    responses(
        (status = 200, body = HeldFileView),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn report(
    State(app): State<App>,
    Auth(who): Auth,
    Path((name, version, filename)): Path<(String, String, String)>,
) -> Result<Json<HeldFileView>, AppError> {
    let held = app.reviews.report(&who, &name, &version, &filename).await?;
    Ok(Json(HeldFileView::from(&held)))
}
