//! Namespace grants: which server names a user may publish under. Globs are
//! matched case-insensitively, so `Acme` and `acme` can never be two owners.

use super::McpError;
use crate::services::auth::Principal;
use crate::state::App;
use wharf_core::model::{NewAuditEvent, User};
use wharf_core::ports::RepoError;

/// Whether `glob` (e.g. `com.acme/*`) matches `name`, ignoring case. `*`
/// matches any run of characters other than `/`.
pub fn glob_matches(glob: &str, name: &str) -> bool {
    fn matches(glob: &[u8], name: &[u8]) -> bool {
        match glob.split_first() {
            None => name.is_empty(),
            Some((b'*', rest)) => {
                // Try every split point up to the next '/'.
                let mut i = 0;
                loop {
                    if matches(rest, &name[i..]) {
                        return true;
                    }
                    if i == name.len() || name[i] == b'/' {
                        return false;
                    }
                    i += 1;
                }
            }
            Some((&g, rest)) => name
                .split_first()
                .is_some_and(|(&n, tail)| n.eq_ignore_ascii_case(&g) && matches(rest, tail)),
        }
    }
    matches(glob.as_bytes(), name.as_bytes())
}

/// A grant's glob: a server-name shape (`namespace/name`) whose parts may use `*`.
pub fn check_glob(glob: &str) -> Result<(), String> {
    let Some((namespace, name)) = glob.split_once('/') else {
        return Err(format!("'{glob}' is not NAMESPACE/NAME, e.g. com.acme/*"));
    };
    let ok = |part: &str, extra: &[u8]| {
        !part.is_empty()
            && part.bytes().all(|b| {
                b.is_ascii_alphanumeric()
                    || b == b'*'
                    || b == b'.'
                    || b == b'-'
                    || extra.contains(&b)
            })
    };
    if !ok(namespace, b"") || !ok(name, b"_") || glob.len() > 200 {
        return Err(format!(
            "'{}' may use only letters, digits, '.', '-', '_' (in the name) and '*'",
            wharf_core::name::printable(glob)
        ));
    }
    Ok(())
}

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

/// Administrators publish anywhere; everyone else needs a matching grant.
pub async fn check_permission(app: &App, who: &Principal, name: &str) -> Result<(), McpError> {
    if who.user.is_admin {
        return Ok(());
    }
    let grants = app.ports.mcp.namespace_grants(Some(who.user.id)).await?;
    if grants.iter().any(|g| glob_matches(&g.glob, name)) {
        return Ok(());
    }
    Err(McpError::Forbidden(format!(
        "user '{}' has no permission for the namespace of '{name}'; an administrator grants it with \
         `wharf admin namespace grant GLOB --user {}`",
        who.user.name, who.user.name
    )))
}

/// Grants `glob` to `user`; false if they had it already.
pub async fn grant(app: &App, glob: &str, user: &User) -> Result<bool, NamespaceError> {
    check_glob(glob).map_err(NamespaceError::Invalid)?;
    let audit = NewAuditEvent::new("mcp.namespace_grant", format!("namespace:{glob}"))
        .detail(serde_json::json!({ "user": user.name }).to_string());
    Ok(app.ports.mcp.grant_namespace(glob, user.id, audit).await?)
}

/// Revokes a grant; false if there was none.
pub async fn revoke(app: &App, glob: &str, user: &User) -> Result<bool, NamespaceError> {
    let audit = NewAuditEvent::new("mcp.namespace_revoke", format!("namespace:{glob}"))
        .detail(serde_json::json!({ "user": user.name }).to_string());
    Ok(app.ports.mcp.revoke_namespace(glob, user.id, audit).await?)
}

#[derive(Debug, thiserror::Error)]
pub enum NamespaceError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Repo(#[from] RepoError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_case_insensitively_within_one_segment() {
        assert!(glob_matches("com.acme/*", "com.acme/weather"));
        assert!(glob_matches("com.acme/*", "COM.Acme/weather"));
        assert!(glob_matches("io.github.*/*", "io.github.alice/tool"));
        assert!(!glob_matches("com.acme/*", "com.acmex/weather"));
        assert!(!glob_matches("com.acme/*", "com.acme.evil/weather"));
        assert!(
            !glob_matches("com.*/*", "com.acme/a/b"),
            "* never crosses '/'"
        );
        assert!(glob_matches("com.acme/exact", "com.acme/Exact"));
        assert!(!glob_matches("com.acme/exact", "com.acme/exactly"));
    }

    #[test]
    fn globs_are_name_shaped() {
        assert!(check_glob("com.acme/*").is_ok());
        assert!(check_glob("io.github.*/*").is_ok());
        assert!(check_glob("*").is_err());
        assert!(check_glob("com.acme/$(id)").is_err());
        assert!(check_glob("com acme/*").is_err());
    }
}
