//! Namespace grants: which server names a user may publish under. Globs are
//! matched case-insensitively, so `Acme` and `acme` can never be two owners.

use super::Catalog;
use super::{AuditDetail, McpError};
use crate::services::auth::Principal;
use wharf_core::audit;
use wharf_core::glob::NamespaceGlob;
use wharf_core::model::{NewAuditEvent, User};
use wharf_core::ports::RepoError;

/// A restricted token reaches only the servers its namespaces name, whoever
/// holds it: the restriction is the token's, on top of its user's rights.
pub fn check_token_covers(who: &Principal, name: &str) -> Result<(), McpError> {
    if who.may_touch_server(name) {
        return Ok(());
    }
    Err(McpError::Forbidden(if who.namespaces.is_empty() {
        "this token is restricted to projects, so it cannot manage MCP servers; use a token \
         restricted to namespaces (--namespace GLOB) or an unrestricted one"
            .to_owned()
    } else {
        format!(
            "this token is restricted to the namespaces {}, which do not cover '{name}'",
            who.namespaces.join(", ")
        )
    }))
}

impl Catalog {
    /// Administrators acting as one (the admin scope too) publish anywhere;
    /// everyone else needs a matching grant.
    pub async fn check_permission(&self, who: &Principal, name: &str) -> Result<(), McpError> {
        if who.acts_as_admin() {
            return Ok(());
        }
        let grants = self.repo.namespace_grants(Some(who.user.id)).await?;
        if grants
            .iter()
            .any(|g| wharf_core::glob::matches(&g.glob, name))
        {
            return Ok(());
        }
        Err(McpError::Forbidden(format!(
            "user '{}' has no permission for the namespace of '{name}'; an administrator grants it with \
             `wharf admin namespace grant GLOB --user {}`",
            who.user.name, who.user.name
        )))
    }

    /// Grants `glob` to `user`; false if they had it already.
    pub async fn grant(&self, glob: &str, user: &User) -> Result<bool, NamespaceError> {
        NamespaceGlob::parse(glob).map_err(|e| NamespaceError::Invalid(e.message))?;
        let audit = NewAuditEvent::new(audit::MCP_NAMESPACE_GRANT, format!("namespace:{glob}"))
            .detail(
                AuditDetail {
                    user: Some(&user.name),
                    ..Default::default()
                }
                .to_json(),
            );
        Ok(self.repo.grant_namespace(glob, user.id, audit).await?)
    }

    /// Revokes a grant; false if there was none.
    pub async fn revoke(&self, glob: &str, user: &User) -> Result<bool, NamespaceError> {
        let audit = NewAuditEvent::new(audit::MCP_NAMESPACE_REVOKE, format!("namespace:{glob}"))
            .detail(
                AuditDetail {
                    user: Some(&user.name),
                    ..Default::default()
                }
                .to_json(),
            );
        Ok(self.repo.revoke_namespace(glob, user.id, audit).await?)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NamespaceError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Repo(#[from] RepoError),
}
