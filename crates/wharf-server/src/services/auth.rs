//! Turning a presented API token into a principal, and deciding what it may do.
//!
//! The cost per request is one SHA-256 and one indexed lookup: a token with a
//! bad shape or checksum is refused before the lookup, and no slow password
//! hash ever runs here.

use crate::config::JwtConfig;
use std::sync::Arc;
use wharf_core::model::{NewAuditEvent, TokenRecord, User};
use wharf_core::ports::{AuditLog, RepoError, TokenRepo, UserRepo};
use wharf_core::{
    audit, ApiToken, NormalizedName, Scope, Scopes, Timestamp, UserName, ValidationError,
};

/// Turns a presented credential into a [`Principal`]: an API token, or an
/// identity provider's JWT when one is configured.
pub struct Authenticator {
    pub(crate) tokens: Arc<dyn TokenRepo>,
    pub(crate) users: Arc<dyn UserRepo>,
    pub(crate) audit: Arc<dyn AuditLog>,
    /// The verifier and its settings, with `[jwt]` configured.
    pub(crate) jwt: Option<(wharf_jwt::JwtVerifier, JwtConfig)>,
}

/// Who is acting, through which credential, and with what rights.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: User,
    /// The API token presented; `None` for an identity provider's JWT.
    pub token: Option<TokenRecord>,
    pub scopes: Scopes,
    /// Projects the credential is restricted to; with no namespaces either,
    /// empty means no restriction.
    pub projects: Vec<NormalizedName>,
    /// MCP server-name globs the credential is restricted to.
    pub namespaces: Vec<String>,
    /// The salted hash of the client's IP, for the audit log.
    pub ip_hash: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthFailure {
    #[error(transparent)]
    Malformed(ValidationError),
    #[error("this API token is not known to this registry")]
    Unknown,
    #[error("this API token expired at {0}; create a new one")]
    Expired(String),
    #[error("this API token was revoked; create a new one")]
    Revoked,
    #[error("identity-provider token refused: {0}")]
    Jwt(#[from] wharf_jwt::JwtError),
    #[error("the token's {claim} claim names no Wharf user ('{value}'); an administrator must create that user first")]
    NoSuchUser { claim: String, value: String },
    #[error("the token's {claim} claim is missing or is not a valid Wharf user name")]
    BadUserClaim { claim: String },
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// How long `last_used_at` may lag; writing it on every request would turn
/// every read into a write.
const TOUCH_EVERY_MICROS: i64 = 60_000_000;

impl Authenticator {
    /// A presented credential's principal: a JWT when `[jwt]` is configured
    /// and the credential looks like one, an API token otherwise.
    pub async fn credential(&self, raw: &str) -> Result<Principal, AuthFailure> {
        match &self.jwt {
            Some((verifier, config)) if wharf_jwt::looks_like_jwt(raw) => {
                self.authenticate_jwt(verifier, config, raw).await
            }
            _ => self.authenticate(raw).await,
        }
    }

    /// An API token's principal.
    pub async fn authenticate(&self, raw: &str) -> Result<Principal, AuthFailure> {
        let token = ApiToken::parse(raw).map_err(AuthFailure::Malformed)?;
        let hash = token.hash();
        let Some((record, user, stored_hash)) =
            self.tokens.find_token_by_hash(&hash.to_hex()).await?
        else {
            return Err(AuthFailure::Unknown);
        };
        // The lookup matched by value already; the constant-time check keeps the
        // final decision free of data-dependent timing regardless of the index.
        if !hash.matches_hex(&stored_hash) {
            return Err(AuthFailure::Unknown);
        }
        let now = Timestamp::now();
        if record.is_revoked() {
            return Err(AuthFailure::Revoked);
        }
        if record.is_expired_at(now) {
            let at = record
                .expires_at
                .map(Timestamp::to_rfc3339_micros)
                .unwrap_or_default();
            return Err(AuthFailure::Expired(at));
        }
        if record
            .last_used_at
            .is_none_or(|t| now.micros() - t.micros() > TOUCH_EVERY_MICROS)
        {
            let tokens = self.tokens.clone();
            let id = record.id;
            tokio::spawn(async move {
                if let Err(e) = tokens.touch_token(id, now).await {
                    tracing::warn!(token_id = id, error = %e, "could not record token use");
                }
            });
        }
        Ok(Principal {
            user,
            scopes: record.scopes.clone(),
            projects: record.projects.clone(),
            namespaces: record.namespaces.clone(),
            token: Some(record),
            ip_hash: None,
        })
    }

    /// A bearer JWT from the configured identity provider: verified, then
    /// mapped to a Wharf user through the configured claim. The user is
    /// created on first use only if the configuration allows it.
    async fn authenticate_jwt(
        &self,
        verifier: &wharf_jwt::JwtVerifier,
        config: &JwtConfig,
        raw: &str,
    ) -> Result<Principal, AuthFailure> {
        let claims = verifier.verify(raw).await?;
        let claim = &config.user_claim;
        let name = claims
            .string_claim(claim)
            .filter(|n| UserName::parse(n).is_ok())
            .ok_or_else(|| AuthFailure::BadUserClaim {
                claim: claim.clone(),
            })?;
        let user = match self.users.find_user_by_name(name).await? {
            Some(user) => user,
            None if config.create_users => match self.users.create_user(name, false).await {
                Ok(user) => {
                    self.audit
                        .record(
                            NewAuditEvent::new(audit::USER_CREATE, format!("user:{}", user.name))
                                .by(Some(user.id), None)
                                .detail(r#"{"via":"jwt"}"#.to_owned()),
                        )
                        .await?;
                    user
                }
                // Two first requests at once: the other one created it.
                Err(RepoError::Conflict(_)) => {
                    self.users.find_user_by_name(name).await?.ok_or_else(|| {
                        RepoError::Internal("user vanished after a conflict".into())
                    })?
                }
                Err(e) => return Err(e.into()),
            },
            None => {
                return Err(AuthFailure::NoSuchUser {
                    claim: claim.clone(),
                    value: name.to_owned(),
                })
            }
        };
        Ok(Principal {
            user,
            token: None,
            scopes: config.scopes.clone(),
            projects: Vec::new(),
            namespaces: Vec::new(),
            ip_hash: None,
        })
    }
}

impl Principal {
    /// A browser session: it acts with its user's own rights, so with
    /// every scope, within the user's role.
    pub fn for_session(user: User, ip_hash: Option<String>) -> Self {
        Self {
            user,
            token: None,
            scopes: Scopes::parse("read,publish,deploy,admin").expect("the scope names parse"),
            projects: Vec::new(),
            namespaces: Vec::new(),
            ip_hash,
        }
    }

    pub fn has_scope(&self, scope: Scope) -> bool {
        self.scopes.contains(scope)
    }

    /// An administrator acting as one: the admin role is not enough, the
    /// credential must carry the `admin` scope too.
    pub fn acts_as_admin(&self) -> bool {
        self.user.is_admin && self.has_scope(Scope::Admin)
    }

    /// Whether this principal may give a new credential `scope` (minting a
    /// token, approving a device login): `admin` only an administrator
    /// acting as one may give.
    pub fn may_grant(&self, scope: Scope) -> bool {
        scope != Scope::Admin || self.acts_as_admin()
    }

    /// Creating, validating and deleting deployments: `deploy` or `publish`
    /// (or an administrator acting as one, who may delete anyone's).
    pub fn may_manage_deployments(&self) -> bool {
        self.has_scope(Scope::Deploy) || self.has_scope(Scope::Publish) || self.acts_as_admin()
    }

    /// Reading deployments and their plans: `read`, or `deploy` for a runner
    /// (or an administrator acting as one).
    pub fn may_read_deployments(&self) -> bool {
        self.has_scope(Scope::Read) || self.has_scope(Scope::Deploy) || self.acts_as_admin()
    }

    /// Whether an administrator reads everyone's deployments: with the
    /// `admin` scope, or `deploy` for a platform's runner.
    pub fn reads_all_deployments(&self) -> bool {
        self.user.is_admin && (self.has_scope(Scope::Admin) || self.has_scope(Scope::Deploy))
    }

    /// Whether the credential's restriction covers a deployment of the
    /// catalog server `server`, or else of the package `identifier`: the
    /// namespace list covers servers, the project list direct PyPI
    /// references, and nothing covers other direct references.
    pub fn may_touch_deployment(
        &self,
        server: Option<&str>,
        registry_type: &str,
        identifier: &str,
    ) -> bool {
        if !self.is_restricted() {
            return true;
        }
        match server {
            Some(name) => self.may_touch_server(name),
            None if registry_type == wharf_core::mcp::RegistryType::Pypi.as_str() => {
                wharf_core::ProjectName::parse(identifier)
                    .is_ok_and(|p| self.may_touch(&p.normalize()))
            }
            None => false,
        }
    }

    /// Whether the credential is restricted to projects or namespaces.
    pub fn is_restricted(&self) -> bool {
        !self.projects.is_empty() || !self.namespaces.is_empty()
    }

    /// Whether the credential's restriction (if any) covers `project`: a
    /// token restricted to namespaces only reaches no project.
    pub fn may_touch(&self, project: &NormalizedName) -> bool {
        !self.is_restricted() || self.projects.contains(project)
    }

    /// Whether the credential's restriction (if any) covers the MCP server
    /// `name`: a token restricted to projects only reaches no server.
    pub fn may_touch_server(&self, name: &str) -> bool {
        !self.is_restricted()
            || self
                .namespaces
                .iter()
                .any(|glob| wharf_core::glob::matches(glob, name))
    }

    /// The per-credential rate-limit key: the token, or the user for a JWT.
    pub fn rate_key(&self) -> String {
        match &self.token {
            Some(t) => format!("token:{}", t.id),
            None => format!("user:{}", self.user.id),
        }
    }

    pub fn token_id(&self) -> Option<i64> {
        self.token.as_ref().map(|t| t.id)
    }

    /// An audit event with this principal as the actor.
    pub fn event(&self, action: &str, target: &str, detail: String) -> NewAuditEvent {
        NewAuditEvent::new(action, target)
            .by(Some(self.user.id), self.token_id())
            .from_ip(self.ip_hash.clone())
            .detail(detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(is_admin: bool) -> User {
        User {
            id: 1,
            name: "alice".into(),
            is_admin,
            created_at: Timestamp(0),
        }
    }

    #[test]
    fn only_an_administrator_acting_as_one_may_grant_the_admin_scope() {
        let session = Principal::for_session(user(false), None);
        assert!(session.may_grant(Scope::Read) && session.may_grant(Scope::Deploy));
        assert!(!session.may_grant(Scope::Admin));
        assert!(Principal::for_session(user(true), None).may_grant(Scope::Admin));
        // An administrator's token without the admin scope cannot give it.
        let token = Principal {
            scopes: Scopes::parse("read,publish").unwrap(),
            ..Principal::for_session(user(true), None)
        };
        assert!(!token.may_grant(Scope::Admin));
    }
}
