//! The two ways this crate fails: a bad configuration, found once at
//! start-up, and a refused token, found on every request.
//!
//! Messages are written for people and never quote the token or the secret:
//! both end up in logs. Values taken from a token (such as its `alg`) are only
//! echoed after [`printable`] has bounded them.

/// A problem with [`JwtSettings`](crate::JwtSettings). Each message names the
/// config key and the fix; [`JwtConfigError::setting`] gives the key alone.
#[derive(Debug, thiserror::Error)]
pub enum JwtConfigError {
    /// `issuer` is empty.
    #[error("jwt.issuer is empty: set it to the exact `iss` value your identity provider puts in its tokens")]
    EmptyIssuer,
    /// `audience` is empty.
    #[error("jwt.audience is empty: set it to the audience (client ID) your identity provider issues Wharf's tokens for")]
    EmptyAudience,
    /// Neither a JWKS URL nor an HS256 secret was given, so no token could ever verify.
    #[error("no key source: set jwt.jwks_url to your identity provider's JWKS address (or, for legacy HS256 tokens, jwt.hs256_secret)")]
    NoKeySource,
    /// `jwks_url` is not an absolute http(s) URL.
    #[error("jwt.jwks_url is not a usable URL ({reason}): give an absolute https:// address")]
    InvalidJwksUrl {
        /// What is wrong with it.
        reason: String,
    },
    /// `jwks_url` is plain http and insecure fetching was not allowed.
    #[error("jwt.jwks_url must use https://: keys fetched over plain http can be swapped in transit (set allow_insecure_jwks only for a local test identity provider)")]
    InsecureJwksUrl,
    /// The HS256 secret is too short to resist guessing.
    #[error("jwt.hs256_secret is {len} bytes; it must be at least 32 random bytes, used for nothing else")]
    ShortHs256Secret {
        /// The length that was given.
        len: usize,
    },
    /// The clock-skew allowance is so large that expired tokens stay usable.
    #[error("jwt.leeway is {seconds} s; use at most {max} s (clocks synced by NTP need far less)")]
    LeewayTooLarge {
        /// The leeway that was given, in seconds.
        seconds: u64,
        /// The largest leeway accepted, in seconds.
        max: u64,
    },
    /// A zero fetch timeout would fail every JWKS fetch.
    #[error("jwt.fetch_timeout is zero: give a duration such as 10s")]
    ZeroFetchTimeout,
    /// The HTTP client for the JWKS could not be built (e.g. no TLS roots).
    #[error("cannot prepare the HTTP client for jwt.jwks_url: {reason}")]
    HttpClient {
        /// Why the client could not be built.
        reason: String,
    },
}

impl JwtConfigError {
    /// The config key at fault, e.g. `"jwt.jwks_url"`, for the server's own error.
    pub fn setting(&self) -> &'static str {
        match self {
            Self::EmptyIssuer => "jwt.issuer",
            Self::EmptyAudience => "jwt.audience",
            Self::NoKeySource
            | Self::InvalidJwksUrl { .. }
            | Self::InsecureJwksUrl
            | Self::HttpClient { .. } => "jwt.jwks_url",
            Self::ShortHs256Secret { .. } => "jwt.hs256_secret",
            Self::LeewayTooLarge { .. } => "jwt.leeway",
            Self::ZeroFetchTimeout => "jwt.fetch_timeout",
        }
    }
}

/// Why a token was refused. Every variant but [`JwtError::KeysUnavailable`]
/// means "this token is not acceptable" (401); `KeysUnavailable` means the
/// identity provider could not be asked (503), so the token may be fine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// Not a JWT at all: wrong shape, bad base64, bad JSON, or a claim of the wrong type.
    #[error("the token is not a well-formed JWT: {0}")]
    Malformed(&'static str),
    /// The header names an algorithm outside the allowlist, or one that is
    /// not configured (`none`, HS256 without a secret, RS384, ...).
    #[error("tokens signed with {alg} are not accepted here")]
    UnsupportedAlgorithm {
        /// The header's `alg`, bounded for printing.
        alg: String,
    },
    /// The key named by `kid` cannot be used with the header's algorithm
    /// (an EC key for RS256, or a key published for another `alg`).
    #[error("the key named by the token cannot verify it: {0}")]
    KeyMismatch(&'static str),
    /// The signature does not match the key.
    #[error("the token's signature is not valid")]
    BadSignature,
    /// A required claim is absent.
    #[error("the token has no `{0}` claim, which is required")]
    MissingClaim(&'static str),
    /// `exp` has passed, beyond the allowed clock skew.
    #[error("the token has expired")]
    Expired,
    /// `nbf` or `iat` lies in the future, beyond the allowed clock skew.
    #[error("the token is not valid yet (its `{claim}` is in the future)")]
    NotYetValid {
        /// `"nbf"` or `"iat"`.
        claim: &'static str,
    },
    /// `iss` is not the configured issuer.
    #[error("the token was issued by another identity provider than jwt.issuer")]
    WrongIssuer,
    /// `aud` is not exactly the configured audience.
    #[error(
        "the token is not meant (only) for this server: its `aud` must be exactly jwt.audience"
    )]
    WrongAudience,
    /// No key in the identity provider's key set has the token's `kid`,
    /// even after a refresh (or a refresh is cooling down).
    #[error("the token was signed with a key the identity provider does not publish")]
    UnknownKey,
    /// The key set could not be fetched or had no usable key. Not the
    /// token's fault: the server should answer 503, not 401.
    #[error("the identity provider's keys are unavailable: {0}")]
    KeysUnavailable(String),
}

/// `raw` if it is short and plain, else a placeholder: token fields are
/// attacker-controlled, and error text ends up in logs.
pub(crate) fn printable(raw: &str) -> String {
    let is_plain = raw.len() <= 16
        && raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if is_plain && !raw.is_empty() {
        raw.to_owned()
    } else {
        "an unreadable algorithm".to_owned()
    }
}
