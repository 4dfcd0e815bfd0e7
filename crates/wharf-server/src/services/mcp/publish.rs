//! `POST /v0/publish`: validate, check permission, check every package,
//! then store the version, in that order, so nothing is stored unless
//! everything passed.

use super::{namespaces, packages, McpError, McpProblem};
use crate::services::auth::Principal;
use crate::state::App;
use serde_json::json;
use wharf_core::mcp::{validate, UrlPolicy};
use wharf_core::model::{McpPublishOutcome, McpVersion, NewMcpVersion};
use wharf_core::{Scope, Timestamp};

/// Largest server.json accepted.
pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024;

/// The key under `_meta` where Wharf records what it checked.
pub const WHARF_META_KEY: &str = "io.wharf/verification";

pub fn url_policy(app: &App) -> UrlPolicy {
    if app.config.security.production {
        UrlPolicy::Production
    } else {
        UrlPolicy::Dev
    }
}

pub async fn publish(app: &App, who: &Principal, body: &[u8]) -> Result<McpVersion, McpError> {
    if !who.has_scope(Scope::Publish) {
        return Err(McpError::Forbidden(
            "this token lacks the 'publish' scope; create one with --scope publish".into(),
        ));
    }
    if body.len() > MAX_DOCUMENT_BYTES {
        return Err(McpError::invalid(
            format!("server.json is larger than {MAX_DOCUMENT_BYTES} bytes"),
            Vec::new(),
        ));
    }
    let raw: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        McpError::invalid(
            "the body must be a server.json document",
            vec![McpProblem::at("", format!("not valid JSON: {e}"))],
        )
    })?;
    let (server, document) = validate(&raw, url_policy(app)).map_err(|problems| {
        McpError::invalid(
            format!("server.json has {} problem(s)", problems.len()),
            problems
                .into_iter()
                .map(|p| McpProblem::at(p.path, p.message))
                .collect(),
        )
    })?;
    namespaces::check_token_covers(who, &server.name)?;
    namespaces::check_permission(app, who, &server.name).await?;
    if let Some((owner_id, owner)) = app.ports.mcp.mcp_owner(&server.name).await? {
        if owner_id != who.user.id
            && !app
                .ports
                .mcp
                .is_mcp_publisher(&server.name, who.user.id)
                .await?
        {
            return Err(not_publisher(&server.name, &owner));
        }
    }
    if app
        .ports
        .mcp
        .mcp_version(&server.name, Some(&server.version))
        .await?
        .is_some()
    {
        return Err(duplicate(&server.version));
    }
    let checks = packages::check_all(app, who, &server).await?;
    let checks_json = serde_json::to_string(&checks).unwrap_or_else(|_| "[]".into());
    let audit = who.event(
        "mcp.publish",
        &format!("mcp:{}", server.name),
        json!({ "version": server.version, "packages": checks }).to_string(),
    );
    let new = NewMcpVersion {
        name: server.name.clone(),
        version: server.version.clone(),
        document: document.to_string(),
        checks: checks_json,
        title: server.title.clone().unwrap_or_default(),
        description: server.description.clone(),
        publisher_id: who.user.id,
        at: Timestamp::now(),
        audit,
    };
    match app.ports.mcp.publish_mcp(new).await? {
        McpPublishOutcome::Published(version) => Ok(version),
        McpPublishOutcome::DuplicateVersion => Err(duplicate(&server.version)),
        McpPublishOutcome::NotPublisher { owner } => Err(not_publisher(&server.name, &owner)),
    }
}

fn duplicate(version: &str) -> McpError {
    McpError::invalid(
        "cannot publish duplicate version",
        vec![McpProblem::at(
            "version",
            format!("version {version} is already published; versions are immutable"),
        )],
    )
}

fn not_publisher(name: &str, owner: &str) -> McpError {
    McpError::Forbidden(format!(
        "'{name}' belongs to '{owner}'; ask them to add you as a publisher \
         (POST /api/v1/mcp/servers/{{name}}/publishers)"
    ))
}
