//! Reading the catalog: the registry API's envelopes, listing with cursors,
//! and search.

use super::publish::WHARF_META_KEY;
use super::{McpError, McpProblem};
use crate::state::App;
use serde_json::{json, Value};
use wharf_core::model::{McpListQuery, McpStatus, McpVersion};
use wharf_core::Timestamp;

pub const OFFICIAL_META_KEY: &str = "io.modelcontextprotocol.registry/official";

/// One entry: the stored server.json, and the registry's metadata beside it.
pub fn entry(v: &McpVersion) -> Value {
    let server: Value = serde_json::from_str(&v.document).unwrap_or(Value::Null);
    let checks: Value = serde_json::from_str(&v.checks).unwrap_or(Value::Array(Vec::new()));
    let verified = checks
        .as_array()
        .is_some_and(|c| c.iter().all(|p| p["verified"] == true));
    let mut official = json!({
        "status": v.status.as_str(),
        "publishedAt": v.published_at.to_rfc3339_micros(),
        "updatedAt": v.updated_at.to_rfc3339_micros(),
        "isLatest": v.is_latest,
    });
    if let Some(message) = &v.status_message {
        official["statusMessage"] = json!(message);
    }
    json!({
        "server": server,
        "_meta": {
            OFFICIAL_META_KEY: official,
            WHARF_META_KEY: {
                "status": if verified { "verified" } else { "partially-verified" },
                "packages": checks,
            },
        },
    })
}

/// The raw query parameters of `GET /v0/servers`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    pub cursor: Option<String>,
    pub limit: Option<String>,
    pub search: Option<String>,
    pub updated_since: Option<String>,
    pub version: Option<String>,
    pub include_deleted: Option<String>,
}

/// Lists or searches. Listing pages by name (the cursor is `name:version`);
/// a search is ranked, and its cursor is a position (`#N`).
pub async fn list(app: &App, params: ListParams) -> Result<Value, McpError> {
    let mut problems = Vec::new();
    let limit = match params.limit.as_deref() {
        None => 30,
        Some(raw) => match raw.parse::<i64>() {
            Ok(n) if (1..=100).contains(&n) => n,
            _ => {
                problems.push(McpProblem::at(
                    "query.limit",
                    "limit must be a number from 1 to 100",
                ));
                30
            }
        },
    };
    let include_deleted = match params.include_deleted.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            problems.push(McpProblem::at(
                "query.include_deleted",
                "include_deleted must be true or false",
            ));
            false
        }
    };
    let updated_since = match params.updated_since.as_deref() {
        None => None,
        Some(raw) => match humantime::parse_rfc3339_weak(raw) {
            Ok(t) => Some(Timestamp::from_system(t)),
            Err(_) => {
                problems.push(McpProblem::at(
                    "query.updated_since",
                    "updated_since must be an RFC 3339 time, e.g. 2026-01-31T12:00:00Z",
                ));
                None
            }
        },
    };
    if let Some(v) = params.version.as_deref() {
        if v != "latest" {
            if let Err(e) = wharf_core::mcp::check_version(v) {
                problems.push(McpProblem::at("query.version", e));
            }
        }
    }
    let search = params
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if search.is_some_and(|s| s.chars().count() > 200) {
        problems.push(McpProblem::at(
            "query.search",
            "search is longer than 200 characters",
        ));
    }
    if search.is_some_and(|s| s.chars().any(char::is_control)) {
        problems.push(McpProblem::at(
            "query.search",
            "search must be printable text; it contains a control character",
        ));
    }
    if !problems.is_empty() {
        return Err(McpError::invalid("invalid query parameters", problems));
    }

    if let Some(text) = search {
        let offset = match params.cursor.as_deref() {
            None => 0,
            Some(c) => c
                .strip_prefix('#')
                .and_then(|n| n.parse::<i64>().ok())
                .filter(|n| *n >= 0)
                .ok_or_else(bad_cursor)?,
        };
        let found = app
            .ports
            .mcp
            .search_mcp(text, include_deleted, limit + 1, offset)
            .await?;
        let more = found.len() as i64 > limit;
        let page: Vec<&McpVersion> = found.iter().take(limit as usize).collect();
        let next = more.then(|| format!("#{}", offset + limit));
        return Ok(envelope(&page, next));
    }

    let after = match params.cursor.as_deref() {
        None => None,
        Some(c) => {
            let (name, version) = c.rsplit_once(':').ok_or_else(bad_cursor)?;
            Some((name.to_owned(), version.to_owned()))
        }
    };
    let query = McpListQuery {
        after,
        limit: limit + 1,
        updated_since,
        version: params.version.clone(),
        include_deleted,
    };
    let found = app.ports.mcp.list_mcp(&query).await?;
    let more = found.len() as i64 > limit;
    let page: Vec<&McpVersion> = found.iter().take(limit as usize).collect();
    let next = if more {
        page.last().map(|v| format!("{}:{}", v.name, v.version))
    } else {
        None
    };
    Ok(envelope(&page, next))
}

fn bad_cursor() -> McpError {
    McpError::invalid(
        "invalid cursor",
        vec![McpProblem::at(
            "query.cursor",
            "use the nextCursor of a previous page, unchanged",
        )],
    )
}

fn envelope(page: &[&McpVersion], next: Option<String>) -> Value {
    let servers: Vec<Value> = page.iter().map(|v| entry(v)).collect();
    json!({
        "servers": servers,
        "metadata": { "nextCursor": next, "count": servers.len() },
    })
}

/// Every version of one server (deleted ones too, marked so).
pub async fn versions(app: &App, name: &str) -> Result<Value, McpError> {
    let all = app.ports.mcp.mcp_versions(name).await?;
    if all.is_empty() {
        return Err(not_found(name));
    }
    let refs: Vec<&McpVersion> = all.iter().collect();
    Ok(envelope(&refs, None))
}

/// One version, or the latest.
pub async fn version(app: &App, name: &str, version: &str) -> Result<Value, McpError> {
    let wanted = (version != "latest").then_some(version);
    match app.ports.mcp.mcp_version(name, wanted).await? {
        Some(v) => Ok(entry(&v)),
        None => Err(McpError::NotFound(match wanted {
            Some(v) => format!("server '{name}' has no version '{v}'"),
            None => format!("server '{name}' not found"),
        })),
    }
}

pub fn not_found(name: &str) -> McpError {
    McpError::NotFound(format!("server '{name}' not found"))
}

/// Whether a status word is one the API accepts.
pub fn parse_status(raw: &str) -> Result<McpStatus, McpError> {
    McpStatus::parse(raw).ok_or_else(|| {
        McpError::invalid(
            "invalid status",
            vec![McpProblem::at(
                "status",
                format!(
                    "'{}' is not one of active, deprecated, deleted",
                    wharf_core::name::printable(raw)
                ),
            )],
        )
    })
}
