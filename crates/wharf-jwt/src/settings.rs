//! What a [`JwtVerifier`](crate::JwtVerifier) needs to know, and the checks
//! that settings pass before any token is looked at.

use crate::JwtConfigError;
use secrecy::{ExposeSecret, SecretString};
use std::time::Duration;

/// Below this, an HS256 secret can be brute-forced offline from one token.
const MIN_HS256_SECRET_BYTES: usize = 32;

/// Clock skew beyond this is a broken clock, and would keep expired tokens alive.
const MAX_LEEWAY: Duration = Duration::from_secs(5 * 60);

/// How tokens are checked and where keys come from. `Debug` shows the
/// HS256 secret as `[REDACTED]`.
#[derive(Debug, Clone)]
pub struct JwtSettings {
    /// The exact `iss` every token must carry.
    pub issuer: String,
    /// The audience every token must carry, alone.
    pub audience: String,
    /// The identity provider's JWKS address, for RS256 and ES256 tokens.
    pub jwks_url: Option<String>,
    /// Legacy shared secret for HS256 tokens; at least 32 bytes. Without it,
    /// HS256 is refused.
    pub hs256_secret: Option<SecretString>,
    /// Accept an `http://` JWKS URL. Only for a local test identity provider.
    pub allow_insecure_jwks: bool,
    /// Clock skew allowed on `exp`, `nbf` and `iat`. Default 60 s, at most 5 min.
    pub leeway: Duration,
    /// After a key-set refresh, how long until an unknown `kid` may cause
    /// another. Default 60 s: tokens with made-up `kid`s can't hammer the
    /// identity provider.
    pub refresh_cooldown: Duration,
    /// How long fetched keys are trusted before they are fetched again, so a
    /// key the identity provider withdrew stops working. Default 1 hour.
    pub key_max_age: Duration,
    /// Deadline for one JWKS fetch, body included. Default 10 s.
    pub fetch_timeout: Duration,
}

impl JwtSettings {
    /// Settings for `issuer` and `audience` with the default durations and
    /// no key source yet: set `jwks_url` and/or `hs256_secret`.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            jwks_url: None,
            hs256_secret: None,
            allow_insecure_jwks: false,
            leeway: Duration::from_secs(60),
            refresh_cooldown: Duration::from_secs(60),
            key_max_age: Duration::from_secs(60 * 60),
            fetch_timeout: Duration::from_secs(10),
        }
    }

    /// Checks the settings once, at start-up; the error names the setting and the fix.
    pub fn validate(&self) -> Result<(), JwtConfigError> {
        if self.issuer.trim().is_empty() {
            return Err(JwtConfigError::EmptyIssuer);
        }
        if self.audience.trim().is_empty() {
            return Err(JwtConfigError::EmptyAudience);
        }
        if self.jwks_url.is_none() && self.hs256_secret.is_none() {
            return Err(JwtConfigError::NoKeySource);
        }
        if let Some(url) = &self.jwks_url {
            self.parse_jwks_url(url)?;
        }
        if let Some(secret) = &self.hs256_secret {
            let len = secret.expose_secret().len();
            if len < MIN_HS256_SECRET_BYTES {
                return Err(JwtConfigError::ShortHs256Secret { len });
            }
        }
        if self.leeway > MAX_LEEWAY {
            return Err(JwtConfigError::LeewayTooLarge {
                seconds: self.leeway.as_secs(),
                max: MAX_LEEWAY.as_secs(),
            });
        }
        if self.fetch_timeout.is_zero() {
            return Err(JwtConfigError::ZeroFetchTimeout);
        }
        Ok(())
    }

    /// The JWKS URL, if it is absolute, has a host, and is https (or http
    /// when insecure fetching is allowed).
    pub(crate) fn parse_jwks_url(&self, raw: &str) -> Result<reqwest::Url, JwtConfigError> {
        let url = reqwest::Url::parse(raw).map_err(|e| JwtConfigError::InvalidJwksUrl {
            reason: e.to_string(),
        })?;
        if url.host_str().is_none_or(str::is_empty) {
            return Err(JwtConfigError::InvalidJwksUrl {
                reason: "it has no host".to_owned(),
            });
        }
        match url.scheme() {
            "https" => Ok(url),
            "http" if self.allow_insecure_jwks => Ok(url),
            "http" => Err(JwtConfigError::InsecureJwksUrl),
            other => Err(JwtConfigError::InvalidJwksUrl {
                reason: format!("scheme `{other}` is not http(s)"),
            }),
        }
    }
}
