//! Users, API tokens, passwords and web sessions, as the admin CLI and the
//! web UI manage them.

use crate::services::audit::detail_json;
use crate::services::passwords::PasswordError;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;
use wharf_core::model::{NewAuditEvent, NewToken, TokenRecord, User};
use wharf_core::ports::{AuditLog, RepoError, SessionRepo, TokenRepo, UserRepo};
use wharf_core::{audit, ApiToken, NormalizedName, Scopes, Timestamp, ValidationError};

/// Users and their credentials: accounts, API tokens, passwords, and the
/// web sessions a password opens (see `sessions.rs`).
pub struct Accounts {
    pub(super) users: Arc<dyn UserRepo>,
    pub(super) tokens: Arc<dyn TokenRepo>,
    pub(super) sessions: Arc<dyn SessionRepo>,
    pub(super) audit: Arc<dyn AuditLog>,
    /// How long a web session lives.
    pub(super) session_ttl: Duration,
}

impl Accounts {
    pub fn new(
        users: Arc<dyn UserRepo>,
        tokens: Arc<dyn TokenRepo>,
        sessions: Arc<dyn SessionRepo>,
        audit: Arc<dyn AuditLog>,
        session_ttl: Duration,
    ) -> Self {
        Self {
            users,
            tokens,
            sessions,
            audit,
            session_ttl,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("no user named '{0}'; create one with `wharf admin user create NAME`")]
    NoSuchUser(String),
    #[error("no token with ID {0}")]
    NoSuchToken(i64),
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// User names: 1–64 ASCII letters, digits, `-`, `_` or `.`, starting with a letter or digit.
pub fn validate_user_name(name: &str) -> Result<(), ValidationError> {
    wharf_core::UserName::parse(name).map(|_| ())
}

/// The detail of a `user.create` event.
#[derive(Serialize)]
struct UserCreated {
    admin: bool,
}

/// The detail of a `token.create` event.
#[derive(Serialize)]
struct TokenCreated<'a> {
    scopes: String,
    user: &'a str,
}

/// What a new token is asked for.
pub struct TokenRequest<'a> {
    pub user: &'a str,
    pub label: &'a str,
    pub scopes: &'a str,
    pub projects: &'a [String],
    /// MCP server-name globs (`com.acme/*`) the token is restricted to.
    pub namespaces: &'a [String],
    pub expires_in: Option<&'a str>,
    /// The requester's salted IP hash, when the request came over HTTP.
    pub ip_hash: Option<String>,
}

/// The most projects one token may be restricted to: a restriction names
/// what a token is for, and every request re-reads the list.
pub const MAX_TOKEN_PROJECTS: usize = 100;

/// The most live (unrevoked, unexpired) tokens one user may hold.
pub const MAX_LIVE_TOKENS: usize = 100;

impl Accounts {
    /// Creates a user (`wharf admin user create`).
    pub async fn create_user(&self, name: &str, is_admin: bool) -> Result<User, AccountError> {
        validate_user_name(name)?;
        let user = self.users.create_user(name, is_admin).await?;
        let event = admin_event(audit::USER_CREATE, &format!("user:{}", user.name))
            .detail(detail_json(&UserCreated { admin: is_admin }));
        self.audit.record(event).await?;
        Ok(user)
    }

    /// Creates a token and returns its plaintext, which is never stored.
    pub async fn create_token(
        &self,
        req: TokenRequest<'_>,
    ) -> Result<(ApiToken, TokenRecord), AccountError> {
        let scopes = Scopes::parse(req.scopes)?;
        if req.projects.len() > MAX_TOKEN_PROJECTS {
            return Err(ValidationError::new(
                "too_many_projects",
                format!(
                    "a token may be restricted to at most {MAX_TOKEN_PROJECTS} projects; \
                     create one token per group of projects"
                ),
            )
            .into());
        }
        let max_globs = wharf_core::glob::MAX_TOKEN_GLOBS;
        if req.namespaces.len() > max_globs {
            return Err(ValidationError::new(
                "too_many_namespaces",
                format!("a token may be restricted to at most {max_globs} namespace globs"),
            )
            .into());
        }
        let projects = req
            .projects
            .iter()
            .map(|p| NormalizedName::parse(p))
            .collect::<Result<Vec<_>, _>>()?;
        let mut namespaces = Vec::with_capacity(req.namespaces.len());
        for glob in req.namespaces {
            namespaces.push(
                wharf_core::glob::NamespaceGlob::parse(glob)?
                    .as_str()
                    .to_owned(),
            );
        }
        let expires_at = req
            .expires_in
            .map(parse_lifetime)
            .transpose()?
            .map(|d| Timestamp::now().plus(d));
        if req.label.len() > 100 || req.label.chars().any(char::is_control) {
            return Err(ValidationError::new(
                "invalid_token_name",
                "a token name is at most 100 printable characters",
            )
            .into());
        }
        let user = self
            .users
            .find_user_by_name(req.user)
            .await?
            .ok_or_else(|| AccountError::NoSuchUser(req.user.to_owned()))?;
        // Counted before the insert, so two requests at once may pass one over
        // the cap: it bounds what a user accumulates, not a race.
        let now = Timestamp::now();
        let live = self
            .tokens
            .list_tokens(user.id)
            .await?
            .iter()
            .filter(|t| !t.is_revoked() && !t.is_expired_at(now))
            .count();
        if live >= MAX_LIVE_TOKENS {
            return Err(ValidationError::new(
                "too_many_tokens",
                format!(
                    "user '{}' has {MAX_LIVE_TOKENS} live tokens, the most allowed; revoke unused ones first",
                    user.name
                ),
            )
            .into());
        }
        let token = ApiToken::generate();
        let new = NewToken {
            user_id: user.id,
            name: req.label.to_owned(),
            hash_hex: token.hash().to_hex(),
            scopes: scopes.clone(),
            projects,
            namespaces,
            expires_at,
        };
        let detail = TokenCreated {
            scopes: scopes.to_string(),
            user: &user.name,
        };
        let event = admin_event(audit::TOKEN_CREATE, "")
            .detail(detail_json(&detail))
            .by(Some(user.id), None)
            .from_ip(req.ip_hash);
        let record = self.tokens.create_token(new, event).await?;
        Ok((token, record))
    }

    /// A user's tokens, by the user's name.
    pub async fn list_tokens(&self, user: &str) -> Result<Vec<TokenRecord>, AccountError> {
        let user = self.find_user(user).await?;
        self.own_tokens(&user).await
    }

    /// A user's own tokens (the web UI's token page).
    pub async fn own_tokens(&self, user: &User) -> Result<Vec<TokenRecord>, AccountError> {
        Ok(self.tokens.list_tokens(user.id).await?)
    }

    /// Revokes a token; revoking one that is revoked already is not an error.
    pub async fn revoke_token(&self, id: i64) -> Result<bool, AccountError> {
        let token = self
            .tokens
            .get_token(id)
            .await?
            .ok_or(AccountError::NoSuchToken(id))?;
        let event =
            admin_event(audit::TOKEN_REVOKE, &format!("token:{id}")).by(Some(token.user_id), None);
        Ok(self.tokens.revoke_token(id, event).await?)
    }

    /// Revokes one of `user`'s own tokens (the web UI); another user's token is
    /// reported as missing, so token IDs cannot be probed.
    pub async fn revoke_own_token(
        &self,
        user: &User,
        id: i64,
        ip_hash: Option<String>,
    ) -> Result<bool, AccountError> {
        match self.tokens.get_token(id).await? {
            Some(token) if token.user_id == user.id => {
                let event = admin_event(audit::TOKEN_REVOKE, &format!("token:{id}"))
                    .by(Some(user.id), None)
                    .from_ip(ip_hash);
                Ok(self.tokens.revoke_token(id, event).await?)
            }
            _ => Err(AccountError::NoSuchToken(id)),
        }
    }

    /// Sets a user's web-login password (argon2id) and ends their sessions;
    /// returns how many ended.
    pub async fn set_password(&self, name: &str, password: String) -> Result<u64, AccountError> {
        let user = self.find_user(name).await?;
        let hash = crate::services::passwords::hash_password(password).await?;
        let event = admin_event(audit::USER_PASSWORD, &format!("user:{}", user.name));
        Ok(self
            .users
            .set_password_hash(user.id, Some(&hash), event)
            .await?)
    }

    /// Ends every web session of a user (`wharf admin user logout`); returns
    /// how many ended. Their API tokens are not touched.
    pub async fn logout_user(&self, name: &str) -> Result<u64, AccountError> {
        let user = self.find_user(name).await?;
        let event = admin_event(audit::USER_LOGOUT, &format!("user:{}", user.name));
        Ok(self.sessions.delete_user_sessions(user.id, event).await?)
    }

    async fn find_user(&self, name: &str) -> Result<User, AccountError> {
        self.users
            .find_user_by_name(name)
            .await?
            .ok_or_else(|| AccountError::NoSuchUser(name.to_owned()))
    }
}

/// `30d`, `12h`, `90m`: how long a token lives. Bounded to ten years.
pub fn parse_lifetime(raw: &str) -> Result<Duration, ValidationError> {
    let d = humantime::parse_duration(raw).map_err(|_| {
        ValidationError::new(
            "invalid_expiry",
            format!("'{raw}' is not a duration: use e.g. 30d, 12h or 90m"),
        )
    })?;
    if d.is_zero() || d > Duration::from_secs(10 * 365 * 86_400) {
        return Err(ValidationError::new(
            "invalid_expiry",
            "a token lifetime must be between 1s and 10 years",
        ));
    }
    Ok(d)
}

/// An event by an administrator at the console, or by the user named in it.
fn admin_event(action: &str, target: &str) -> NewAuditEvent {
    NewAuditEvent::new(action, target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_parse_and_are_bounded() {
        assert_eq!(
            parse_lifetime("30d").unwrap(),
            Duration::from_secs(30 * 86_400)
        );
        assert_eq!(
            parse_lifetime("forever").unwrap_err().code,
            "invalid_expiry"
        );
        assert!(parse_lifetime("0s").is_err());
        assert!(parse_lifetime("20years").is_err());
    }

    #[test]
    fn user_names_are_checked() {
        assert!(validate_user_name("alice.b-2").is_ok());
        for bad in ["", "-x", "a b", "a;b", &"a".repeat(65)] {
            assert!(validate_user_name(bad).is_err(), "{bad}");
        }
    }
}
