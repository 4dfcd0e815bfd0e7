//! `/api/v1/deployments/…`: validation of a requested MCP server deployment.

use super::extract::Auth;
use crate::error::AppError;
use crate::services::deploy::{self, DeployError};
use crate::state::App;
use axum::extract::State;
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
    Auth(_who): Auth,
    body: Bytes,
) -> Result<Json<Value>, AppError> {
    let request = body_json(&body)?;
    let validated = deploy::validate(&app, &request).await?;
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
