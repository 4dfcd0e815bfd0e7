//! `POST /v0/publish`: validate, check permission, check every package,
//! then store the version, in that order, so nothing is stored unless
//! everything passed.

use super::Catalog;
use super::{namespaces, AuditDetail, McpError, McpProblem};
use crate::services::auth::Principal;
use wharf_core::mcp::validate;
use wharf_core::model::{McpPublishOutcome, McpVersion, NewMcpVersion};
use wharf_core::{audit, Scope, Timestamp};

/// Largest server.json accepted.
pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024;

/// What `POST /v0.1/validate` answers: whether a server.json would pass the
/// document checks of a publish, and every issue found.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Validation {
    pub valid: bool,
    pub issues: Vec<ValidationIssue>,
}

/// One problem with a document, at its JSON location.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ValidationIssue {
    /// `schema` for the body itself, `semantic` for a rule over its content.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Where, e.g. `packages[0].identifier`; empty for the whole body.
    pub path: String,
    pub message: String,
    /// Always `error`: every issue would refuse the publish.
    pub severity: &'static str,
}

impl ValidationIssue {
    fn error(kind: &'static str, path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            kind,
            path: path.into(),
            message: message.into(),
            severity: "error",
        }
    }
}

impl Catalog {
    /// The document checks a publish runs, without storing anything, checking
    /// packages upstream or asking who is calling.
    pub fn validate_document(&self, body: &[u8]) -> Validation {
        let issues = if body.len() > MAX_DOCUMENT_BYTES {
            vec![ValidationIssue::error(
                "schema",
                "",
                format!("server.json is larger than {MAX_DOCUMENT_BYTES} bytes"),
            )]
        } else {
            match serde_json::from_slice::<serde_json::Value>(body) {
                Err(e) => vec![ValidationIssue::error(
                    "schema",
                    "",
                    format!("not valid JSON: {e}"),
                )],
                Ok(raw) => match validate(&raw, self.url_policy) {
                    Ok(_) => Vec::new(),
                    Err(problems) => problems
                        .into_iter()
                        .map(|p| ValidationIssue::error("semantic", p.path, p.message))
                        .collect(),
                },
            }
        };
        Validation {
            valid: issues.is_empty(),
            issues,
        }
    }

    pub async fn publish(&self, who: &Principal, body: &[u8]) -> Result<McpVersion, McpError> {
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
        let (server, document) = validate(&raw, self.url_policy).map_err(|problems| {
            McpError::invalid(
                format!("server.json has {} problem(s)", problems.len()),
                problems
                    .into_iter()
                    .map(|p| McpProblem::at(p.path, p.message))
                    .collect(),
            )
        })?;
        namespaces::check_token_covers(who, &server.name)?;
        self.check_permission(who, &server.name).await?;
        if let Some((owner_id, owner)) = self.repo.mcp_owner(&server.name).await? {
            if owner_id != who.user.id
                && !self
                    .repo
                    .is_mcp_publisher(&server.name, who.user.id)
                    .await?
            {
                return Err(not_publisher(&server.name, &owner));
            }
        }
        if self
            .repo
            .mcp_version(&server.name, Some(&server.version))
            .await?
            .is_some()
        {
            return Err(duplicate(&server.version));
        }
        let checks = self.check_all(Some(who.user.id), &server).await?;
        let checks_json = serde_json::to_string(&checks).unwrap_or_else(|_| "[]".into());
        let audit = who.event(
            audit::MCP_PUBLISH,
            &format!("mcp:{}", server.name),
            AuditDetail {
                version: Some(&server.version),
                packages: Some(&checks),
                ..Default::default()
            }
            .to_json(),
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
        match self.repo.publish_mcp(new).await? {
            McpPublishOutcome::Published(version) => {
                // The capture runs on a worker; a queue that cannot take it
                // does not undo the publish.
                if let Err(e) = self
                    .queue_capture(&version.name, &version.version, &version.document)
                    .await
                {
                    tracing::warn!(error = %e, "could not queue the capture of a published version");
                }
                Ok(*version)
            }
            McpPublishOutcome::DuplicateVersion => Err(duplicate(&server.version)),
            McpPublishOutcome::NotPublisher { owner } => Err(not_publisher(&server.name, &owner)),
        }
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
