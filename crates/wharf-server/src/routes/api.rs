//! The native JSON API under `/api/v1`.

use super::extract::{Auth, MaybeAuth};
use crate::error::{AppError, ErrorBody};
use crate::pages;
use crate::services::auth::Principal;
use crate::services::yank::{self, YankError};
use crate::state::App;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;
use wharf_core::{NormalizedName, Scope};

/// `GET /api/v1/projects/{name}`: releases, files, hashes, yank state, owners.
/// Files still pending or held back are shown only to the project's owners.
pub async fn project(
    State(app): State<App>,
    MaybeAuth(who): MaybeAuth,
    Path(name): Path<String>,
) -> Result<Json<Value>, AppError> {
    let normalized = NormalizedName::parse(&name)?;
    let listing = app
        .ports
        .projects
        .listing(&normalized)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no project named '{normalized}'")))?;
    // A restricted token sees another project as anyone would: its
    // restriction is on top of its user's rights.
    let is_owner = match &who {
        Some(p)
            if (p.has_scope(Scope::Read) || p.has_scope(Scope::Publish))
                && p.may_touch(&normalized) =>
        {
            p.acts_as_admin()
                || app
                    .ports
                    .projects
                    .is_owner(listing.project.id, p.user.id)
                    .await?
        }
        _ => false,
    };
    let show_pending = app.config.verification.show_pending;
    let has_published = listing
        .files
        .iter()
        .any(|f| pages::is_listed(f.status, show_pending));
    if !has_published && !is_owner {
        return Err(AppError::not_found(format!(
            "no project named '{normalized}'"
        )));
    }
    Ok(Json(pages::project_api(&listing, is_owner)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YankBody {
    #[serde(default)]
    reason: Option<String>,
}

/// `POST /api/v1/projects/{name}/releases/{version}/yank` with `{"reason": "…"}`.
pub async fn yank_release(
    State(app): State<App>,
    Auth(who): Auth,
    Path((name, version)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, AppError> {
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
pub async fn unyank_release(
    State(app): State<App>,
    Auth(who): Auth,
    Path((name, version)): Path<(String, String)>,
) -> Result<Json<Value>, AppError> {
    change_yank(&app, &who, &name, &version, None).await
}

async fn change_yank(
    app: &App,
    who: &crate::services::auth::Principal,
    name: &str,
    version: &str,
    reason: Option<&str>,
) -> Result<Json<Value>, AppError> {
    let (project, version) = yank::set_yank(&app.ports, who, name, version, reason)
        .await
        .map_err(|e| match e {
            YankError::Invalid(v) => v.into(),
            YankError::Forbidden(m) => AppError::forbidden("forbidden", m),
            YankError::NotFound(m) => AppError::not_found(m),
            YankError::Repo(r) => r.into(),
        })?;
    app.pages.invalidate(project.as_str());
    Ok(Json(json!({
        "project": project.as_str(),
        "version": version,
        "yanked": reason.is_some(),
        "reason": reason,
    })))
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
