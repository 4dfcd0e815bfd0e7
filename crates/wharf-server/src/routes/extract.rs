//! Request extractors: the caller's identity, from `Authorization`.
//!
//! Uploaders send HTTP Basic with the user `__token__` and the token as the
//! password (what twine, uv and poetry do); API clients may send `Bearer`.

use crate::error::AppError;
use crate::middleware::ClientIp;
use crate::services::auth::Principal;
use crate::state::App;
use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};

/// A request that must carry a valid token.
pub struct Auth(pub Principal);

/// A request that may carry a token; a bad token is still refused.
pub struct MaybeAuth(pub Option<Principal>);

impl FromRequestParts<App> for Auth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, AppError> {
        match MaybeAuth::from_request_parts(parts, app).await?.0 {
            Some(p) => Ok(Auth(p)),
            None => Err(AppError::unauthorized(
                "missing_credentials",
                "authentication required: use the username __token__ and an API token as the password",
            )),
        }
    }
}

impl FromRequestParts<App> for MaybeAuth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, AppError> {
        let Some(raw) = presented_token(parts)? else {
            return Ok(MaybeAuth(None));
        };
        // A refused credential becomes its response in error.rs.
        let mut principal = app.authenticator.credential(&raw).await?;
        principal.ip_hash = parts
            .extensions
            .get::<ClientIp>()
            .map(|ip| app.ip_hasher.hash(ip.0));
        Ok(MaybeAuth(Some(principal)))
    }
}

/// The token from `Basic __token__:<token>` or `Bearer <token>`, if any.
fn presented_token(parts: &Parts) -> Result<Option<String>, AppError> {
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let bad = |why: &str| AppError::unauthorized("invalid_credentials", why.to_owned());
    let value = value
        .to_str()
        .map_err(|_| bad("the Authorization header is not ASCII"))?;
    let (scheme, rest) = value
        .split_once(' ')
        .ok_or_else(|| bad("the Authorization header has no scheme"))?;
    if scheme.eq_ignore_ascii_case("bearer") {
        return Ok(Some(rest.trim().to_owned()));
    }
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(bad("use HTTP Basic (username __token__) or a Bearer token"));
    }
    let decoded = base64_decode(rest.trim())
        .ok_or_else(|| bad("the Basic credentials are not valid base64"))?;
    let decoded =
        String::from_utf8(decoded).map_err(|_| bad("the Basic credentials are not UTF-8"))?;
    let (user, password) = decoded
        .split_once(':')
        .ok_or_else(|| bad("the Basic credentials have no ':'"))?;
    if user != "__token__" {
        return Err(AppError::unauthorized(
            "invalid_credentials",
            "Wharf accepts API tokens only: use the username __token__ and the token as the password",
        ));
    }
    Ok(Some(password.to_owned()))
}

/// Standard base64 with padding, as HTTP Basic uses; small enough that a
/// dependency is not worth it.
fn base64_decode(input: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let bytes = input.as_bytes();
    if !bytes.len().is_multiple_of(4) || bytes.len() > 8192 {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for (i, chunk) in bytes.chunks(4).enumerate() {
        let last = i == bytes.len() / 4 - 1;
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for &c in &chunk[..4 - pad] {
            n = (n << 6) | value(c)?;
        }
        n <<= 6 * pad as u32;
        let three = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&three[..3 - pad]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::base64_decode;

    #[test]
    fn decodes_basic_credentials() {
        assert_eq!(
            base64_decode("X190b2tlbl9fOnNlY3JldA==").unwrap(),
            b"__token__:secret"
        );
        assert_eq!(base64_decode("YWJj").unwrap(), b"abc");
        assert_eq!(base64_decode("YWI=").unwrap(), b"ab");
        assert!(base64_decode("YW=I").is_none());
        assert!(base64_decode("a").is_none());
        assert!(base64_decode("!!!!").is_none());
    }
}
