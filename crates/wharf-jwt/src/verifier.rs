//! Verifying one token: header and allowlist, key, signature, then claims.

use crate::cache::KeyCache;
use crate::claims::{ClaimRules, VerifiedClaims};
use crate::fetch::JwksFetcher;
use crate::token::{Algorithm, UnverifiedToken};
use crate::{JwtConfigError, JwtError, JwtSettings};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{DecodingKey, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Verifies bearer JWTs against one identity provider. Cheap to clone:
/// clones share the key cache.
#[derive(Clone)]
pub struct JwtVerifier {
    inner: Arc<Inner>,
}

struct Inner {
    issuer: String,
    audience: String,
    leeway: Duration,
    jwks: Option<KeyCache>,
    hs256_secret: Option<SecretString>,
}

impl fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("issuer", &self.inner.issuer)
            .field("audience", &self.inner.audience)
            .field("has_jwks", &self.inner.jwks.is_some())
            .field("has_hs256_secret", &self.inner.hs256_secret.is_some())
            .finish_non_exhaustive()
    }
}

impl JwtVerifier {
    /// A verifier for `settings`, which are validated first. Keys are
    /// fetched on first use, not here, so start-up does not depend on the
    /// identity provider being up.
    pub fn new(settings: JwtSettings) -> Result<Self, JwtConfigError> {
        settings.validate()?;
        let jwks = match &settings.jwks_url {
            None => None,
            Some(raw) => {
                let url = settings.parse_jwks_url(raw)?;
                let fetcher =
                    JwksFetcher::new(url, settings.fetch_timeout, settings.allow_insecure_jwks)?;
                Some(KeyCache::new(
                    fetcher,
                    settings.refresh_cooldown,
                    settings.key_max_age,
                ))
            }
        };
        Ok(Self {
            inner: Arc::new(Inner {
                issuer: settings.issuer,
                audience: settings.audience,
                leeway: settings.leeway,
                jwks,
                hs256_secret: settings.hs256_secret,
            }),
        })
    }

    /// Verifies `token` (without a `Bearer ` prefix) and returns its claims.
    pub async fn verify(&self, token: &str) -> Result<VerifiedClaims, JwtError> {
        let token = UnverifiedToken::parse(token)?;
        let algorithm = token.algorithm;
        let claims = match algorithm {
            Algorithm::Hs256 => {
                let secret = self
                    .inner
                    .hs256_secret
                    .as_ref()
                    .ok_or_else(|| unsupported(algorithm))?;
                let key = DecodingKey::from_secret(secret.expose_secret().as_bytes());
                check_signature(token.compact, &key, algorithm)?
            }
            Algorithm::Rs256 | Algorithm::Es256 => {
                let cache = self
                    .inner
                    .jwks
                    .as_ref()
                    .ok_or_else(|| unsupported(algorithm))?;
                let kid = token.key_id.as_deref().ok_or(JwtError::Malformed(
                    "its header has no `kid`, which selects the signing key",
                ))?;
                let key = cache.key(kid).await?;
                check_signature(token.compact, key.for_algorithm(algorithm)?, algorithm)?
            }
        };
        let rules = ClaimRules {
            issuer: &self.inner.issuer,
            audience: &self.inner.audience,
            leeway: self.inner.leeway,
        };
        rules.check(claims, SystemTime::now())
    }
}

fn unsupported(algorithm: Algorithm) -> JwtError {
    JwtError::UnsupportedAlgorithm {
        alg: algorithm.name().to_owned(),
    }
}

/// The signature check, by `jsonwebtoken`, for exactly one algorithm. Its
/// claim checks are all off: [`ClaimRules`] does them, stricter.
fn check_signature(
    token: &str,
    key: &DecodingKey,
    algorithm: Algorithm,
) -> Result<Map<String, Value>, JwtError> {
    let mut validation = Validation::new(algorithm.for_library());
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.leeway = 0;
    jsonwebtoken::decode::<Map<String, Value>>(token, key, &validation)
        .map(|data| data.claims)
        .map_err(|e| match e.kind() {
            ErrorKind::InvalidSignature => JwtError::BadSignature,
            ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => unsupported(algorithm),
            ErrorKind::Base64(_) | ErrorKind::Utf8(_) => {
                JwtError::Malformed("a segment is not base64url")
            }
            ErrorKind::Json(_) => JwtError::Malformed("its payload is not a JSON object"),
            // Key material the backend rejects (e.g. an RSA modulus out of
            // range) cannot have produced this token's signature.
            _ => JwtError::BadSignature,
        })
}
