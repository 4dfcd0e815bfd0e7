//! Status changes (deprecate, delete, reactivate) and co-publishers: for the
//! server's owner and its publishers, and administrators.

use super::entries::{not_found, parse_status};
use super::Catalog;
use super::{AuditDetail, McpError, McpProblem};
use crate::services::auth::Principal;
use wharf_core::{audit, Scope};

/// Longest status message kept.
const MAX_MESSAGE_CHARS: usize = 500;

/// A status change.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StatusBody {
    pub status: String,
    #[serde(alias = "message")]
    pub status_message: Option<String>,
}

impl Catalog {
    async fn may_manage(&self, who: &Principal, name: &str) -> Result<(), McpError> {
        if self.repo.mcp_owner(name).await?.is_none() {
            return Err(match self.repo.mcp_origin(name).await? {
                Some(origin) => McpError::Forbidden(format!(
                    "'{name}' is mirrored from upstream '{origin}': its statuses follow upstream; \
                     an administrator can hold a version (POST /api/v1/admin/mcp/servers/{{name}}/versions/{{version}}/hold)"
                )),
                None => not_found(name),
            });
        }
        super::namespaces::check_token_covers(who, name)?;
        let admin = who.acts_as_admin();
        if admin
            || (who.has_scope(Scope::Publish)
                && self.repo.is_mcp_publisher(name, who.user.id).await?)
        {
            return Ok(());
        }
        Err(McpError::Forbidden(format!(
            "only the publishers of '{name}' (with a publish token) or an administrator may change it"
        )))
    }

    /// Sets the status of one version, or of all versions when `version` is None.
    pub async fn set_status(
        &self,
        who: &Principal,
        name: &str,
        version: Option<&str>,
        body: StatusBody,
    ) -> Result<usize, McpError> {
        self.may_manage(who, name).await?;
        let status = parse_status(&body.status)?;
        let message = body
            .status_message
            .as_deref()
            .map(str::trim)
            .filter(|m| !m.is_empty());
        if message.is_some_and(|m| m.chars().count() > MAX_MESSAGE_CHARS) {
            return Err(McpError::invalid(
                "invalid status message",
                vec![McpProblem::at(
                    "statusMessage",
                    format!("the message is longer than {MAX_MESSAGE_CHARS} characters"),
                )],
            ));
        }
        let audit = who.event(
            audit::MCP_STATUS,
            &format!("mcp:{name}"),
            AuditDetail {
                version,
                status: Some(status.as_str()),
                message,
                ..Default::default()
            }
            .to_json(),
        );
        let changed = self
            .repo
            .set_mcp_status(name, version, status, message, audit)
            .await?;
        if changed == 0 {
            return Err(McpError::NotFound(match version {
                Some(v) => format!("server '{name}' has no version '{v}'"),
                None => format!("server '{name}' not found"),
            }));
        }
        Ok(changed)
    }

    /// Adds a co-publisher; only the owner (or an administrator) may.
    pub async fn add_publisher(
        &self,
        who: &Principal,
        name: &str,
        user: &str,
    ) -> Result<bool, McpError> {
        let Some((owner_id, _)) = self.repo.mcp_owner(name).await? else {
            return Err(not_found(name));
        };
        super::namespaces::check_token_covers(who, name)?;
        let admin = who.acts_as_admin();
        if !(admin || (owner_id == who.user.id && who.has_scope(Scope::Publish))) {
            return Err(McpError::Forbidden(format!(
                "only the owner of '{name}' or an administrator may add publishers"
            )));
        }
        let Some(target) = self.users.find_user_by_name(user).await? else {
            return Err(McpError::invalid(
                "unknown user",
                vec![McpProblem::at(
                    "user",
                    format!("there is no user '{}'", wharf_core::name::printable(user)),
                )],
            ));
        };
        let audit = who.event(
            audit::MCP_PUBLISHER_ADD,
            &format!("mcp:{name}"),
            AuditDetail {
                user: Some(&target.name),
                ..Default::default()
            }
            .to_json(),
        );
        Ok(self.repo.add_mcp_publisher(name, target.id, audit).await?)
    }
}
