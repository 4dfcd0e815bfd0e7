//! The token's outer shape and its header, read before any key is chosen.
//! Nothing here is trusted yet: the header only says which key and
//! algorithm the signature *claims* to use.

use crate::error::printable;
use crate::JwtError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Deserialize;

/// Longer than any real ID token; refusing early bounds the decoding work
/// an anonymous caller can cause.
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Whether `s` has the shape of a compact JWT: three base64url segments
/// separated by dots, the first two non-empty. Cheap, and no verification:
/// it only tells a JWT from a `wharf_` API token.
pub fn looks_like_jwt(s: &str) -> bool {
    let is_base64url = |part: &str| {
        part.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    let mut parts = s.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(header), Some(payload), Some(signature), None) => {
            !header.is_empty()
                && !payload.is_empty()
                && [header, payload, signature].into_iter().all(is_base64url)
        }
        _ => false,
    }
}

/// The algorithms Wharf accepts. Anything else, `none` included, is refused
/// before a key is looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Algorithm {
    /// RSA PKCS#1 v1.5 with SHA-256, key from the JWKS.
    Rs256,
    /// ECDSA P-256 with SHA-256, key from the JWKS.
    Es256,
    /// HMAC SHA-256 with the configured shared secret.
    Hs256,
}

impl Algorithm {
    /// The JOSE name, as in a header or a JWK's `alg`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Es256 => "ES256",
            Self::Hs256 => "HS256",
        }
    }

    /// The same algorithm as `jsonwebtoken` spells it.
    pub(crate) fn for_library(self) -> jsonwebtoken::Algorithm {
        match self {
            Self::Rs256 => jsonwebtoken::Algorithm::RS256,
            Self::Es256 => jsonwebtoken::Algorithm::ES256,
            Self::Hs256 => jsonwebtoken::Algorithm::HS256,
        }
    }

    /// Exact, case-sensitive match on the allowlist: `"rs256"` or `"None"` are
    /// not quietly mapped to something we accept.
    fn from_header(alg: &str) -> Result<Self, JwtError> {
        match alg {
            "RS256" => Ok(Self::Rs256),
            "ES256" => Ok(Self::Es256),
            "HS256" => Ok(Self::Hs256),
            other => Err(JwtError::UnsupportedAlgorithm {
                alg: printable(other),
            }),
        }
    }
}

/// The parts of a token, split but not verified.
pub(crate) struct UnverifiedToken<'a> {
    /// The algorithm the header names, already on the allowlist.
    pub algorithm: Algorithm,
    /// The header's `kid`, if any.
    pub key_id: Option<String>,
    /// The whole token, for the signature check.
    pub compact: &'a str,
}

#[derive(Deserialize)]
struct RawHeader {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    // Any `crit` extension is one we don't implement, and RFC 7515 §4.1.11
    // says such a token must be refused.
    #[serde(default)]
    crit: Option<serde_json::Value>,
    // `jku`, `jwk`, `x5u` and `x5c` are ignored on purpose: a key the token
    // brings along proves nothing.
}

impl<'a> UnverifiedToken<'a> {
    /// Splits `token` and reads its header.
    pub(crate) fn parse(token: &'a str) -> Result<Self, JwtError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(JwtError::Malformed("it is longer than 16 KiB"));
        }
        if !looks_like_jwt(token) {
            return Err(JwtError::Malformed(
                "it is not three base64url segments separated by dots",
            ));
        }
        let header_part = token.split('.').next().unwrap_or_default();
        let header_json = URL_SAFE_NO_PAD
            .decode(header_part)
            .map_err(|_| JwtError::Malformed("its header is not base64url"))?;
        let header: RawHeader = serde_json::from_slice(&header_json)
            .map_err(|_| JwtError::Malformed("its header is not a JSON object with an `alg`"))?;
        if header.crit.is_some() {
            return Err(JwtError::Malformed(
                "its header lists critical extensions, which are not supported",
            ));
        }
        Ok(Self {
            algorithm: Algorithm::from_header(&header.alg)?,
            key_id: header.kid,
            compact: token,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_jwts_from_api_tokens() {
        assert!(looks_like_jwt("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln"));
        assert!(looks_like_jwt("eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0."));
        assert!(!looks_like_jwt("wharf_0123456789abcdef"));
        assert!(!looks_like_jwt("a.b"));
        assert!(!looks_like_jwt("a.b.c.d"));
        assert!(!looks_like_jwt(".b.c"));
        assert!(!looks_like_jwt("a+b.c.d"));
        assert!(!looks_like_jwt("a.b=.c"));
    }

    #[test]
    fn allowlist_is_exact() {
        for alg in ["none", "None", "rs256", "RS384", "PS256", "HS512", "EdDSA"] {
            assert!(matches!(
                Algorithm::from_header(alg),
                Err(JwtError::UnsupportedAlgorithm { .. })
            ));
        }
    }

    #[test]
    fn long_algorithm_names_are_not_echoed() {
        let err = Algorithm::from_header(&"A".repeat(500)).unwrap_err();
        assert!(err.to_string().len() < 100, "{err}");
    }
}
