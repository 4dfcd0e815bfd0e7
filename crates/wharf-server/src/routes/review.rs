//! The review queue for administrators, and verification reports for owners.

use super::extract::Auth;
use crate::error::AppError;
use crate::services::auth::Principal;
use crate::services::review::{self, Decision, ReviewError};
use crate::state::App;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Value};
use wharf_core::model::FileStatus;
use wharf_core::{ProjectName, Version};

/// Administrators only; a refusal is audited like every admin route's.
async fn require_admin(app: &App, who: &Principal, target: &str) -> Result<(), AppError> {
    if who.acts_as_admin() {
        return Ok(());
    }
    app.ports
        .audit
        .record(who.event("admin.denied", target, "{}".to_owned()))
        .await?;
    Err(AppError::forbidden(
        "admin_required",
        "the review queue needs an administrator and a token with the 'admin' scope",
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    status: Option<String>,
    limit: Option<i64>,
}

/// `GET /api/v1/admin/quarantine?status=quarantined|pending|all&limit=`.
pub async fn queue(
    State(app): State<App>,
    Auth(who): Auth,
    query: Result<Query<QueueQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, AppError> {
    require_admin(&app, &who, "admin:quarantine").await?;
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
    let held = app.ports.verification.held_files(&statuses, limit).await?;
    let files: Vec<Value> = held.iter().map(review::file_json).collect();
    Ok(Json(json!({ "files": files })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DecisionBody {
    reason: String,
}

/// `POST /api/v1/admin/files/{id}/release` with `{"reason": "…"}`.
pub async fn release(
    State(app): State<App>,
    Auth(who): Auth,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, AppError> {
    decide(app, who, id, body, Decision::Release).await
}

/// `POST /api/v1/admin/files/{id}/reject` with `{"reason": "…"}`.
pub async fn reject(
    State(app): State<App>,
    Auth(who): Auth,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, AppError> {
    decide(app, who, id, body, Decision::Reject).await
}

async fn decide(
    app: App,
    who: Principal,
    id: String,
    body: Bytes,
    decision: Decision,
) -> Result<Json<Value>, AppError> {
    require_admin(
        &app,
        &who,
        &format!("file:{}", wharf_core::name::printable(&id)),
    )
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
    let held = review::decide(&app, id, decision, &body.reason, Some(&who))
        .await
        .map_err(|e| match e {
            ReviewError::Invalid(m) => AppError::bad_request("reason_required", m),
            ReviewError::NotFound(_) => AppError::not_found(e.to_string()),
            ReviewError::Conflict { .. } => {
                AppError::new(StatusCode::CONFLICT, "status_conflict", e.to_string())
            }
            ReviewError::Repo(r) => r.into(),
        })?;
    Ok(Json(review::file_json(&held)))
}

/// `GET /api/v1/projects/{name}/releases/{version}/files/{filename}/report`:
/// the file's verification report, for its project's owners and administrators.
/// Anyone else gets the same 404 as for a file that does not exist, so held
/// files cannot be discovered by probing.
pub async fn report(
    State(app): State<App>,
    Auth(who): Auth,
    Path((name, version, filename)): Path<(String, String, String)>,
) -> Result<Json<Value>, AppError> {
    let missing = || {
        AppError::not_found(format!(
            "no file '{}' in {} {} whose report you may read",
            wharf_core::name::printable(&filename),
            wharf_core::name::printable(&name),
            wharf_core::name::printable(&version)
        ))
    };
    let project = ProjectName::parse(&name)?.normalize();
    let version = Version::parse(&version)?;
    let Some(file) = app.ports.files.find_file(&filename).await? else {
        return Err(missing());
    };
    let Some(held) = app.ports.verification.held_file(file.id).await? else {
        return Err(missing());
    };
    let same_release = held.project == project.as_str()
        && Version::parse(&held.file.version).is_ok_and(|v| v == version);
    let is_admin = who.acts_as_admin();
    let may_read = is_admin
        || (who.may_touch(&project)
            && app
                .ports
                .projects
                .is_owner(held.file.project_id, who.user.id)
                .await?);
    if !same_release || !may_read {
        return Err(missing());
    }
    Ok(Json(review::file_json(&held)))
}
