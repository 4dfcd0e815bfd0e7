//! `/api/v1/deployments/…`: validation of a requested MCP server deployment.

use super::extract::Auth;
use crate::error::AppError;
use crate::services::deploy::store::{self, StoreError};
use crate::services::deploy::{self, DeployError};
use crate::state::App;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::Json;
use bytes::Bytes;
use serde_json::{json, Value};

/// Largest request body.
const MAX_BODY: usize = 64 * 1024;

impl From<DeployError> for AppError {
    fn from(e: DeployError) -> Self {
        match e {
            DeployError::Invalid(errors) => {
                let mut err = AppError::bad_request(
                    "validation_failed",
                    format!("the deployment is not valid: {} problem(s)", errors.len()),
                );
                err.details = Some(json!({ "errors": errors }));
                err
            }
            DeployError::UpstreamUnavailable(errors) => {
                let mut err = AppError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "upstream_unavailable",
                    "an upstream registry could not be reached to check the package; nothing was stored, try again later",
                );
                err.details = Some(json!({ "errors": errors }));
                err.headers
                    .push((header::RETRY_AFTER, HeaderValue::from_static("30")));
                err
            }
            DeployError::Forbidden(m) => AppError::forbidden("insufficient_scope", m),
            DeployError::Repo(r) => r.into(),
        }
    }
}

fn body_json(body: &Bytes) -> Result<Value, AppError> {
    if body.len() > MAX_BODY {
        return Err(AppError::bad_request(
            "invalid_body",
            format!("the body is larger than {MAX_BODY} bytes"),
        ));
    }
    serde_json::from_slice(body).map_err(|e| {
        AppError::bad_request("invalid_body", format!("the body is not valid JSON: {e}"))
    })
}

/// `POST /api/v1/deployments/validate`: every check, no side effect.
pub async fn validate(
    State(app): State<App>,
    Auth(who): Auth,
    body: Bytes,
) -> Result<Json<Value>, AppError> {
    let request = body_json(&body)?;
    let validated = deploy::validate(&app, &who, &request).await?;
    Ok(Json(json!({
        "valid": true,
        "server": validated.server.as_ref().map(|(n, v)| json!({ "name": n, "version": v })),
        "package": {
            "registryType": validated.registry_type,
            "identifier": validated.identifier,
            "version": validated.version,
        },
        "plan": validated.plan,
    })))
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Deploy(d) => d.into(),
            StoreError::NotFound => AppError::not_found(e.to_string()),
            StoreError::Forbidden(m) => AppError::forbidden("insufficient_scope", m),
            StoreError::BadQuery(m) => AppError::bad_request("invalid_query", m),
            // Never says which bytes failed; a failure here is ours, not the caller's.
            StoreError::Vault(what) => {
                AppError::internal(format!("decrypting stored credentials ({what})"))
            }
            StoreError::Repo(r) => r.into(),
        }
    }
}

/// `POST /api/v1/deployments`: the same checks, then the deployment is stored
/// with its credentials encrypted, and the plan returned.
pub async fn create(
    State(app): State<App>,
    Auth(who): Auth,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let request = body_json(&body)?;
    let (stored, plan) = store::create(&app, &who, &request).await?;
    let mut answer = store::metadata(&stored);
    answer["plan"] = serde_json::to_value(&plan).unwrap_or(Value::Null);
    Ok((StatusCode::CREATED, Json(answer)))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    limit: Option<String>,
    cursor: Option<String>,
}

/// `GET /api/v1/deployments[?limit=N&cursor=C]`: the caller's deployments
/// (an administrator's: everyone's), newest first, as metadata.
pub async fn list(
    State(app): State<App>,
    Auth(who): Auth,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, AppError> {
    let Query(q) = query.map_err(|e| AppError::bad_request("invalid_query", e.body_text()))?;
    Ok(Json(
        store::list(&app, &who, q.limit.as_deref(), q.cursor.as_deref()).await?,
    ))
}

/// `GET /api/v1/deployments/{id}`: metadata and variable names.
pub async fn get(
    State(app): State<App>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    Ok(Json(store::get(&app, &who, &id).await?))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanQuery {
    include: Option<String>,
}

/// `GET /api/v1/deployments/{id}/plan[?include=secrets]`.
pub async fn plan(
    State(app): State<App>,
    Auth(who): Auth,
    Path(id): Path<String>,
    query: Result<Query<PlanQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::response::Response, AppError> {
    let Query(query) = query.map_err(|e| AppError::bad_request("invalid_query", e.body_text()))?;
    let include_secrets = match query.include.as_deref() {
        None => false,
        Some("secrets") => true,
        Some(_) => {
            return Err(AppError::bad_request(
                "invalid_query",
                "include takes one value: secrets",
            ))
        }
    };
    let plan = store::plan(&app, &who, &id, include_secrets).await?;
    let mut response = axum::response::IntoResponse::into_response(Json(plan));
    if include_secrets {
        // Credentials must not be kept by any cache on the way.
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(response)
}

/// `DELETE /api/v1/deployments/{id}`: the ciphertexts are destroyed.
pub async fn delete(
    State(app): State<App>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    store::delete(&app, &who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
