//! Turning a presented API token into a principal, and deciding what it may do.
//!
//! The cost per request is one SHA-256 and one indexed lookup: a token with a
//! bad shape or checksum is refused before the lookup, and no slow password
//! hash ever runs here.

use crate::state::Ports;
use wharf_core::model::{TokenRecord, User};
use wharf_core::ports::RepoError;
use wharf_core::{ApiToken, NormalizedName, Scope, Timestamp};

/// Who is acting, and through which token.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: User,
    pub token: TokenRecord,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthFailure {
    #[error("{0}")]
    Malformed(String),
    #[error("this API token is not known to this registry")]
    Unknown,
    #[error("this API token expired at {0}; create a new one")]
    Expired(String),
    #[error("this API token was revoked; create a new one")]
    Revoked,
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// How long `last_used_at` may lag; writing it on every request would turn
/// every read into a write.
const TOUCH_EVERY_MICROS: i64 = 60_000_000;

pub async fn authenticate(ports: &Ports, raw: &str) -> Result<Principal, AuthFailure> {
    let token = ApiToken::parse(raw).map_err(|e| AuthFailure::Malformed(e.message))?;
    let hash = token.hash();
    let Some((record, user, stored_hash)) = ports.tokens.find_token_by_hash(&hash.to_hex()).await?
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
        let tokens = ports.tokens.clone();
        let id = record.id;
        tokio::spawn(async move {
            if let Err(e) = tokens.touch_token(id, now).await {
                tracing::warn!(token_id = id, error = %e, "could not record token use");
            }
        });
    }
    Ok(Principal {
        user,
        token: record,
    })
}

impl Principal {
    pub fn has_scope(&self, scope: Scope) -> bool {
        self.token.scopes.contains(scope)
    }

    /// Whether the token's project restriction (if any) covers `project`.
    pub fn may_touch(&self, project: &NormalizedName) -> bool {
        self.token.allows_project(project)
    }
}
