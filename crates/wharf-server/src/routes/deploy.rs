//! `/api/v1/deployments/…`: validation of a requested MCP server
//! deployment, and the stored deployments with their launch plans.

use super::extract::Auth;
use crate::error::{AppError, ErrorBody};
use crate::services::deploy::store::{
    DeploymentPage, DeploymentView, PackageRef, PlanView, ServerRef,
};
use crate::services::deploy::Plan;
use crate::state::App;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Largest request body.
const MAX_BODY: usize = 64 * 1024;

fn body_json(body: &Bytes) -> Result<serde_json::Value, AppError> {
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

/// A deployment request: a catalog server, or a direct package reference.
/// Every field is checked and every problem reported at once.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[expect(dead_code, reason = "documents the body, which is read field by field")]
pub struct DeploymentRequest {
    /// A catalog server's name, e.g. `io.github.alice/weather`.
    server: Option<String>,
    /// Its version, exact or `latest` (resolved and recorded).
    version: Option<String>,
    /// Which of the server's packages: its index, or its `registryType`.
    #[schema(value_type = Option<Object>)]
    package: Option<serde_json::Value>,
    /// For a direct reference: the variables the package declares.
    #[schema(value_type = Option<Vec<Object>>)]
    environment_variables: Option<Vec<serde_json::Value>>,
    /// Values by variable name; stored encrypted, never echoed.
    credentials: Option<std::collections::BTreeMap<String, String>>,
    /// Values by argument name (a named argument's flag, or a positional
    /// argument's `valueHint`).
    arguments: Option<std::collections::BTreeMap<String, String>>,
}

/// What a valid deployment would launch; nothing was stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct ValidationReply {
    /// Always true: an invalid request is a 400 listing every problem.
    pub valid: bool,
    pub server: Option<ServerRef>,
    pub package: PackageRef,
    pub plan: Plan,
}

/// `POST /api/v1/deployments/validate`: every check, no side effect.
#[utoipa::path(
    post, path = "/api/v1/deployments/validate", operation_id = "validateDeployment", tag = "deployments",
    request_body = DeploymentRequest,
    responses(
        (status = 200, body = ValidationReply),
        (status = 400, description = "every problem, in `details.errors`", body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 503, description = "an upstream registry could not answer", body = ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn validate(
    State(app): State<App>,
    Auth(who): Auth,
    body: Bytes,
) -> Result<Json<ValidationReply>, AppError> {
    let request = body_json(&body)?;
    let validated = app.deployments.validate(&who, &request).await?;
    Ok(Json(ValidationReply {
        valid: true,
        server: validated.server.map(|(name, version)| ServerRef {
            name,
            version: Some(version),
        }),
        package: PackageRef {
            registry_type: validated.registry_type,
            identifier: validated.identifier,
            version: validated.version,
        },
        plan: validated.plan,
    }))
}

/// `POST /api/v1/deployments`: the same checks, then the deployment is stored
/// with its credentials encrypted, and the plan returned.
#[utoipa::path(
    post, path = "/api/v1/deployments", operation_id = "createDeployment", tag = "deployments",
    request_body = DeploymentRequest,
    responses(
        (status = 201, body = DeploymentView),
        (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 503, body = ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn create(
    State(app): State<App>,
    Auth(who): Auth,
    body: Bytes,
) -> Result<(StatusCode, Json<DeploymentView>), AppError> {
    let request = body_json(&body)?;
    let created = app.deployments.create(&who, &request).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Paging through deployments.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// 1 to 100; default 50.
    limit: Option<String>,
    /// `nextCursor` of the previous page.
    cursor: Option<String>,
}

/// `GET /api/v1/deployments[?limit=N&cursor=C]`: the caller's deployments
/// (an administrator's: everyone's), newest first, as metadata.
#[utoipa::path(
    get, path = "/api/v1/deployments", operation_id = "listDeployments", tag = "deployments",
    params(ListQuery),
    responses(
        (status = 200, body = DeploymentPage),
        (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn list(
    State(app): State<App>,
    Auth(who): Auth,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<DeploymentPage>, AppError> {
    let Query(q) = query.map_err(|e| AppError::bad_request("invalid_query", e.body_text()))?;
    let page = app
        .deployments
        .list(&who, q.limit.as_deref(), q.cursor.as_deref())
        .await?;
    Ok(Json(page))
}

/// `GET /api/v1/deployments/{id}`: metadata and variable names.
#[utoipa::path(
    get, path = "/api/v1/deployments/{id}", operation_id = "getDeployment", tag = "deployments",
    params(("id" = String, Path, description = "the deployment's ID")),
    responses(
        (status = 200, body = DeploymentView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn get(
    State(app): State<App>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> Result<Json<DeploymentView>, AppError> {
    Ok(Json(app.deployments.get(&who, &id).await?))
}

/// What the plan includes.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PlanQuery {
    /// `secrets`: the credentials' values too, for a runner.
    include: Option<String>,
}

/// `GET /api/v1/deployments/{id}/plan[?include=secrets]`.
#[utoipa::path(
    get, path = "/api/v1/deployments/{id}/plan", operation_id = "getDeploymentPlan", tag = "deployments",
    params(("id" = String, Path, description = "the deployment's ID"), PlanQuery),
    responses(
        (status = 200, body = PlanView),
        (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn plan(
    State(app): State<App>,
    Auth(who): Auth,
    Path(id): Path<String>,
    query: Result<Query<PlanQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
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
    let plan = app.deployments.plan(&who, &id, include_secrets).await?;
    let mut response = Json(plan).into_response();
    if include_secrets {
        // Credentials must not be kept by any cache on the way.
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(response)
}

/// `DELETE /api/v1/deployments/{id}`: the ciphertexts are destroyed.
#[utoipa::path(
    delete, path = "/api/v1/deployments/{id}", operation_id = "deleteDeployment", tag = "deployments",
    params(("id" = String, Path, description = "the deployment's ID")),
    responses(
        (status = 204, description = "deleted, its credentials destroyed"),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn delete(
    State(app): State<App>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    app.deployments.delete(&who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
