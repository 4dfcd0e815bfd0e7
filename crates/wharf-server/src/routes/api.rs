//! The native JSON API under `/api/v1`.

use super::extract::{Auth, MaybeAuth};
use crate::error::{AppError, ErrorBody};
use crate::pages::ProjectView;
use crate::services::auth::Principal;
use crate::state::App;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wharf_core::Scope;

/// `GET /api/v1/projects/{name}`: releases, files, hashes, yank state, owners.
/// Files still pending or held back are shown only to the project's owners.
#[utoipa::path(
    get, path = "/api/v1/projects/{name}", operation_id = "getProject", tag = "projects",
    params(("name" = String, Path, description = "the project name, any spelling")),
    responses(
        (status = 200, body = ProjectView),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security((), ("token" = []))
)]
pub async fn project(
    State(app): State<App>,
    MaybeAuth(who): MaybeAuth,
    Path(name): Path<String>,
) -> Result<Json<ProjectView>, AppError> {
    Ok(Json(app.projects.view(who.as_ref(), &name).await?))
}

/// A yank's reason.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct YankBody {
    #[serde(default)]
    reason: Option<String>,
}

/// A release's yank state after a change.
#[derive(Debug, Serialize, ToSchema)]
pub struct YankReply {
    pub project: String,
    /// The release's canonical version.
    pub version: String,
    pub yanked: bool,
    pub reason: Option<String>,
}

/// `POST /api/v1/projects/{name}/releases/{version}/yank` with `{"reason": "…"}`.
#[utoipa::path(
    post, path = "/api/v1/projects/{name}/releases/{version}/yank", operation_id = "yankRelease", tag = "projects",
    params(
        ("name" = String, Path, description = "the project name"),
        ("version" = String, Path, description = "the release, by PEP 440 equality"),
    ),
    request_body(content = Option<YankBody>, description = "empty, or a reason"),
    responses(
        (status = 200, body = YankReply),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn yank_release(
    State(app): State<App>,
    Auth(who): Auth,
    Path((name, version)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<YankReply>, AppError> {
    // An empty body yanks with no reason; anything else must be the JSON object.
    let reason = if body.iter().all(u8::is_ascii_whitespace) {
        String::new()
    } else {
        let parsed: YankBody = serde_json::from_slice(&body).map_err(|e| {
            AppError::bad_request(
                "invalid_body",
                format!("the body must be {{\"reason\": \"…\"}}: {e}"),
            )
        })?;
        parsed.reason.unwrap_or_default()
    };
    change_yank(&app, &who, &name, &version, Some(&reason)).await
}

/// `POST /api/v1/projects/{name}/releases/{version}/unyank`.
#[utoipa::path(
    post, path = "/api/v1/projects/{name}/releases/{version}/unyank", operation_id = "unyankRelease", tag = "projects",
    params(
        ("name" = String, Path, description = "the project name"),
        ("version" = String, Path, description = "the release, by PEP 440 equality"),
    ),
    responses(
        (status = 200, body = YankReply),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn unyank_release(
    State(app): State<App>,
    Auth(who): Auth,
    Path((name, version)): Path<(String, String)>,
) -> Result<Json<YankReply>, AppError> {
    change_yank(&app, &who, &name, &version, None).await
}

async fn change_yank(
    app: &App,
    who: &Principal,
    name: &str,
    version: &str,
    reason: Option<&str>,
) -> Result<Json<YankReply>, AppError> {
    let (project, version) = app.projects.set_yank(who, name, version, reason).await?;
    Ok(Json(YankReply {
        project: project.as_str().to_owned(),
        version,
        yanked: reason.is_some(),
        reason: reason.map(str::to_owned),
    }))
}

/// Any unknown path under `/api/`: a JSON 404 rather than an empty one.
pub async fn not_found() -> AppError {
    AppError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such API endpoint; see /api/v1/",
    )
}

/// Who a credential belongs to, and what it may do.
#[derive(Debug, Serialize, ToSchema)]
pub struct WhoAmI {
    pub user: WhoAmIUser,
    /// `read`, `publish`, `deploy`, `admin`.
    pub scopes: Vec<&'static str>,
    /// The projects the credential is restricted to; with no namespaces
    /// either, empty means no restriction.
    pub projects: Vec<String>,
    /// The MCP server-name globs the credential is restricted to.
    pub namespaces: Vec<String>,
    /// The API token presented; null for an identity provider's JWT.
    pub token: Option<WhoAmIToken>,
}

/// The user a credential belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct WhoAmIUser {
    pub name: String,
    pub is_admin: bool,
}

/// The API token presented.
#[derive(Debug, Serialize, ToSchema)]
pub struct WhoAmIToken {
    pub id: i64,
    /// Its label.
    pub name: String,
    /// RFC 3339; null if it does not expire.
    pub expires_at: Option<String>,
}

impl From<Principal> for WhoAmI {
    fn from(who: Principal) -> Self {
        Self {
            user: WhoAmIUser {
                name: who.user.name,
                is_admin: who.user.is_admin,
            },
            scopes: who.scopes.iter().map(Scope::as_str).collect(),
            projects: who.projects.iter().map(|p| p.as_str().to_owned()).collect(),
            namespaces: who.namespaces,
            token: who.token.map(|t| WhoAmIToken {
                id: t.id,
                name: t.name,
                expires_at: t.expires_at.map(wharf_core::Timestamp::to_rfc3339_micros),
            }),
        }
    }
}

/// `GET /api/v1/whoami`: who the presented credential belongs to, and what
/// it may do. `wharf whoami` prints this.
#[utoipa::path(
    get, path = "/api/v1/whoami", operation_id = "whoami", tag = "auth",
    responses(
        (status = 200, body = WhoAmI),
        (status = 401, body = ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn whoami(Auth(who): Auth) -> Json<WhoAmI> {
    Json(who.into())
}
