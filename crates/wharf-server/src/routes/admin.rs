//! `/api/v1/admin/…`: administrators only (the admin role and an `admin`-scoped token).

use super::extract::Auth;
use crate::error::AppError;
use crate::services::audit::{self, AuditError, AuditQuery};
use crate::state::App;
use axum::extract::RawQuery;
use axum::extract::State;
use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};
use wharf_core::model::AuditEvent;

/// `GET /api/v1/admin/audit?actor=&action=&since=&cursor=&limit=`.
pub async fn audit_log(
    State(app): State<App>,
    Auth(who): Auth,
    RawQuery(raw): RawQuery,
) -> Result<Json<AuditPage>, AppError> {
    // Admin routes are audited, refusals included: probing them is worth knowing about.
    if !(who.acts_as_admin()) {
        app.ports
            .audit
            .record(who.event("admin.denied", "admin:audit", "{}".to_owned()))
            .await?;
        return Err(AppError::forbidden(
            "admin_required",
            "reading the audit log needs an administrator and a token with the 'admin' scope",
        ));
    }
    let query = parse_query(raw.as_deref().unwrap_or(""))?;
    let page = audit::read(&app.ports, query).await.map_err(|e| match e {
        AuditError::Invalid(v) => AppError::from(v),
        AuditError::Repo(r) => AppError::from(r),
    })?;
    // Recorded after the read, so a page never shows its own reading.
    app.ports
        .audit
        .record(who.event(
            "admin.audit_read",
            "admin:audit",
            json!({ "query": raw.as_deref().unwrap_or("") }).to_string(),
        ))
        .await?;
    let events = page.events.iter().map(AuditEventView::from).collect();
    Ok(Json(AuditPage {
        events,
        next_cursor: page.next_cursor,
    }))
}

/// A page of the audit log, newest first.
#[derive(Serialize)]
pub struct AuditPage {
    pub events: Vec<AuditEventView>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<i64>,
}

/// Who acted: the user and, when one was used, the token.
#[derive(Serialize)]
pub struct ActorView {
    pub user_id: Option<i64>,
    pub user: Option<String>,
    pub token_id: Option<i64>,
    pub token: Option<TokenRef>,
}

/// The token an event was made through.
#[derive(Serialize)]
pub struct TokenRef {
    pub id: i64,
    pub name: Option<String>,
}

/// One audit event.
#[derive(Serialize)]
pub struct AuditEventView {
    pub id: i64,
    pub at: String,
    pub actor: ActorView,
    pub action: String,
    pub target: String,
    /// The stored detail: JSON when it parses, else its text.
    pub detail: Value,
    pub ip_hash: Option<String>,
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

/// Unknown parameters are refused, so a misspelt filter is not silently ignored.
fn parse_query(raw: &str) -> Result<AuditQuery, AppError> {
    let mut q = AuditQuery::default();
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = decode_value(value).ok_or_else(|| {
            AppError::bad_request(
                "invalid_query",
                format!("parameter '{key}' is not valid percent-encoding"),
            )
        })?;
        let number = |v: &str| {
            v.parse::<i64>().map_err(|_| {
                AppError::bad_request(
                    "invalid_query",
                    format!("parameter '{key}' must be a number"),
                )
            })
        };
        match key {
            "actor" => q.actor = Some(value),
            "action" => q.action = Some(value),
            "since" => q.since = Some(value),
            "cursor" => q.cursor = Some(number(&value)?),
            "limit" => q.limit = Some(number(&value)?),
            other => {
                return Err(AppError::bad_request(
                    "invalid_query",
                    format!(
                        "unknown parameter '{}': use actor, action, since, cursor or limit",
                        wharf_core::name::printable(other)
                    ),
                ))
            }
        }
    }
    Ok(q)
}

/// One query value, decoded strictly: `+` is a space, and a malformed escape
/// or bytes that are not UTF-8 are refused rather than guessed at.
fn decode_value(raw: &str) -> Option<String> {
    // Both crates' decoders pass a malformed escape such as `%zz` through as
    // text, and `form_urlencoded` replaces bad UTF-8, so a filter the admin
    // never typed would silently match nothing; a 400 says what is wrong.
    let escapes_are_whole = raw.split('%').skip(1).all(|after| {
        after
            .as_bytes()
            .get(..2)
            .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    });
    if !escapes_are_whole {
        return None;
    }
    percent_encoding::percent_decode_str(&raw.replace('+', " "))
        .decode_utf8()
        .ok()
        .map(std::borrow::Cow::into_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_decode_strictly() {
        assert_eq!(decode_value("a+b%2Bc%C3%A9").as_deref(), Some("a b+cé"));
        assert_eq!(decode_value("plain").as_deref(), Some("plain"));
        for bad in ["%zz", "%4", "50%", "%+1", "%FF", "%C3"] {
            assert_eq!(decode_value(bad), None, "{bad}");
        }
    }
}
