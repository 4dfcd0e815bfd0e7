//! `/api/v1/admin/…`: administrators only (the admin role and an `admin`-scoped token).

use super::extract::Auth;
use crate::error::{AppError, ErrorBody};
use crate::services::audit;
use crate::state::App;
use axum::extract::{RawQuery, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use wharf_core::model::AuditEvent;

/// The audit log's filters. Unknown parameters are refused.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(
    dead_code,
    reason = "documents the query, which is parsed strictly by the service"
)]
pub struct AuditParams {
    /// Only events by this user (a user name).
    actor: Option<String>,
    /// Only this action, e.g. `file.upload` or `token.revoke`.
    action: Option<String>,
    /// Only events since a time (`2026-11-23T10:00:00Z`) or a span back
    /// from now (`2h`, `7d`).
    since: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<i64>,
    /// 1 to 500; default 50.
    limit: Option<i64>,
}

/// `GET /api/v1/admin/audit?actor=&action=&since=&cursor=&limit=`.
#[utoipa::path(
    get, path = "/api/v1/admin/audit", operation_id = "readAuditLog", tag = "admin",
    params(AuditParams),
    responses(
        (status = 200, body = AuditPage),
        (status = 400, description = "a filter is not valid, or unknown", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "not an administrator with an `admin`-scoped token", body = ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn audit_log(
    State(app): State<App>,
    Auth(who): Auth,
    RawQuery(raw): RawQuery,
) -> Result<Json<AuditPage>, AppError> {
    let page = app
        .audit
        .read_as(&who, raw.as_deref().unwrap_or(""))
        .await?;
    Ok(Json(AuditPage::from(page)))
}

/// A page of the audit log, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub events: Vec<AuditEventView>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<i64>,
}

/// Who acted: the user and, when one was used, the token. Names are as
/// they are now: null if the user or token is gone.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActorView {
    pub user_id: Option<i64>,
    pub user: Option<String>,
    pub token_id: Option<i64>,
    pub token: Option<TokenRef>,
}

/// The token an event was made through.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenRef {
    pub id: i64,
    /// Its label.
    pub name: Option<String>,
}

/// One audit event.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventView {
    pub id: i64,
    /// RFC 3339, in microseconds.
    pub at: String,
    pub actor: ActorView,
    /// What happened, e.g. `file.upload`, `token.revoke`, `login.failed`.
    pub action: String,
    /// What it happened to, e.g. `user:alice`, `token:7`.
    pub target: String,
    /// The stored detail: JSON when it parses, else its text.
    pub detail: Value,
    /// The salted hash of the client's IP, when the act came over HTTP.
    pub ip_hash: Option<String>,
}

impl From<audit::AuditPage> for AuditPage {
    fn from(page: audit::AuditPage) -> Self {
        Self {
            events: page.events.iter().map(AuditEventView::from).collect(),
            next_cursor: page.next_cursor,
        }
    }
}

impl From<&AuditEvent> for AuditEventView {
    fn from(e: &AuditEvent) -> Self {
        Self {
            id: e.id,
            at: e.at.to_rfc3339_micros(),
            actor: ActorView {
                user_id: e.actor_user_id,
                user: e.actor_user_name.clone(),
                token_id: e.actor_token_id,
                token: e.actor_token_id.map(|id| TokenRef {
                    id,
                    name: e.actor_token_name.clone(),
                }),
            },
            action: e.action.clone(),
            target: e.target.clone(),
            detail: serde_json::from_str(&e.detail)
                .unwrap_or_else(|_| Value::String(e.detail.clone())),
            ip_hash: e.ip_hash.clone(),
        }
    }
}
