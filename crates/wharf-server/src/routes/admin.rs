//! `/api/v1/admin/…`: administrators only (the admin role and an `admin`-scoped token).

use super::extract::Auth;
use crate::error::{AppError, ErrorBody};
use crate::services::audit::AuditPage;
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

/// One page of the audit log, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPageBody {
    pub events: Vec<AuditEventBody>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<i64>,
}

/// One audit event.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventBody {
    pub id: i64,
    /// RFC 3339, in microseconds.
    pub at: String,
    pub actor: AuditActor,
    /// What happened, e.g. `file.upload`, `token.revoke`, `login.failed`.
    pub action: String,
    /// What it happened to, e.g. `user:alice`, `token:7`.
    pub target: String,
    /// Facts about the event: a JSON object (or, for an event stored as
    /// plain text, that text).
    pub detail: Value,
    /// The salted hash of the client's IP, when the act came over HTTP.
    pub ip_hash: Option<String>,
}

/// Who acted. Names are as they are now: null if the user or token is gone.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditActor {
    pub user_id: Option<i64>,
    pub user: Option<String>,
    pub token_id: Option<i64>,
    pub token: Option<AuditActorToken>,
}

/// The token the actor used.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditActorToken {
    pub id: i64,
    /// Its label.
    pub name: Option<String>,
}

impl From<AuditEvent> for AuditEventBody {
    fn from(e: AuditEvent) -> Self {
        // Details are stored as JSON text; an older plain-text one is shown as a string.
        let detail = serde_json::from_str(&e.detail).unwrap_or(Value::String(e.detail));
        Self {
            id: e.id,
            at: e.at.to_rfc3339_micros(),
            actor: AuditActor {
                user_id: e.actor_user_id,
                user: e.actor_user_name,
                token_id: e.actor_token_id,
                token: e.actor_token_id.map(|id| AuditActorToken {
                    id,
                    name: e.actor_token_name,
                }),
            },
            action: e.action,
            target: e.target,
            detail,
            ip_hash: e.ip_hash,
        }
    }
}

impl From<AuditPage> for AuditPageBody {
    fn from(page: AuditPage) -> Self {
        Self {
            events: page.events.into_iter().map(AuditEventBody::from).collect(),
            next_cursor: page.next_cursor,
        }
    }
}

/// `GET /api/v1/admin/audit?actor=&action=&since=&cursor=&limit=`.
#[utoipa::path(
    get, path = "/api/v1/admin/audit", operation_id = "readAuditLog", tag = "admin",
    params(AuditParams),
    responses(
        (status = 200, body = AuditPageBody),
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
) -> Result<Json<AuditPageBody>, AppError> {
    let page = app
        .audit
        .read_as(&who, raw.as_deref().unwrap_or(""))
        .await?;
    Ok(Json(page.into()))
}
