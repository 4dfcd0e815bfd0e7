//! API tokens: `wharf_` + 32 random base62 characters + a 6-character base62
//! CRC32 of everything before it.
//!
//! The fixed prefix lets secret scanners find leaked tokens, and the checksum
//! lets them (and us) reject a mistyped or made-up token offline, before any
//! database lookup. Only the SHA-256 of a token is ever stored.

use crate::ValidationError;
use rand::Rng;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub const TOKEN_PREFIX: &str = "wharf_";
/// 32 base62 characters carry about 190 bits from the OS random source.
const RANDOM_LEN: usize = 32;
const CHECKSUM_LEN: usize = 6;
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A plaintext API token. It is shown once, at creation, and otherwise only
/// passes through memory on its way to being hashed.
pub struct ApiToken(SecretString);

impl std::fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiToken(<redacted>)")
    }
}

impl ApiToken {
    /// A new token from the OS random source.
    pub fn generate() -> Self {
        let mut rng = rand::rngs::OsRng;
        let mut body = String::with_capacity(TOKEN_PREFIX.len() + RANDOM_LEN + CHECKSUM_LEN);
        body.push_str(TOKEN_PREFIX);
        for _ in 0..RANDOM_LEN {
            body.push(BASE62[rng.gen_range(0..BASE62.len())] as char);
        }
        let checksum = checksum(&body);
        body.push_str(&checksum);
        Self(SecretString::from(body))
    }

    /// Checks the shape and checksum of a presented token. This is the cheap
    /// offline gate that runs before any lookup.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let malformed = || {
            ValidationError::new(
                "invalid_token",
                "the API token is malformed: Wharf tokens start with 'wharf_'; check that it was copied whole",
            )
        };
        let rest = raw.strip_prefix(TOKEN_PREFIX).ok_or_else(malformed)?;
        if rest.len() != RANDOM_LEN + CHECKSUM_LEN
            || !rest.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(malformed());
        }
        let (body, given) = raw.split_at(raw.len() - CHECKSUM_LEN);
        if !bool::from(checksum(body).as_bytes().ct_eq(given.as_bytes())) {
            return Err(ValidationError::new(
                "invalid_token",
                "the API token's checksum does not match: it was mistyped or truncated",
            ));
        }
        Ok(Self(SecretString::from(raw.to_owned())))
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash(Sha256::digest(self.0.expose_secret().as_bytes()).into())
    }

    /// The plaintext, for the one place that must show it: token creation.
    pub fn reveal(&self) -> &str {
        self.0.expose_secret()
    }
}

/// SHA-256 of a token: what the database stores and looks up by.
#[derive(Clone, Copy)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Compares in constant time, so a timing side channel cannot reveal how
    /// much of a stored hash a guess matched.
    pub fn matches_hex(&self, stored_hex: &str) -> bool {
        let mut stored = [0u8; 32];
        if hex::decode_to_slice(stored_hex, &mut stored).is_err() {
            return false;
        }
        self.0.ct_eq(&stored).into()
    }
}

impl std::fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TokenHash({}…)", &self.to_hex()[..8])
    }
}

fn checksum(body: &str) -> String {
    let mut n = crc32fast::hash(body.as_bytes()) as u64;
    let mut digits = [b'0'; CHECKSUM_LEN];
    // 62^6 > 2^32, so six digits always hold the whole CRC.
    for slot in digits.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8(digits.to_vec()).expect("base62 is ASCII")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn generated_tokens_have_the_documented_shape() {
        let t = ApiToken::generate();
        let raw = t.reveal();
        assert!(raw.starts_with("wharf_"));
        assert_eq!(raw.len(), 6 + 32 + 6);
        assert!(ApiToken::parse(raw).is_ok());
        assert_ne!(raw, ApiToken::generate().reveal());
    }

    #[test]
    fn a_changed_character_fails_the_checksum() {
        let raw = ApiToken::generate().reveal().to_owned();
        let mut bytes = raw.into_bytes();
        bytes[10] = if bytes[10] == b'a' { b'b' } else { b'a' };
        let err = ApiToken::parse(std::str::from_utf8(&bytes).unwrap()).unwrap_err();
        assert!(err.message.contains("checksum"));
    }

    #[test]
    fn refuses_wrong_prefix_length_and_charset() {
        let good = ApiToken::generate().reveal().to_owned();
        for bad in [
            good.replacen("wharf_", "pypi-_", 1),
            good[..good.len() - 1].to_owned(),
            format!("{good}x"),
            good.replacen('_', "-", 1),
            format!("wharf_{}", "!".repeat(38)),
        ] {
            assert_eq!(
                ApiToken::parse(&bad).unwrap_err().code,
                "invalid_token",
                "{bad}"
            );
        }
    }

    #[test]
    fn hashes_compare_in_constant_time_and_correctly() {
        let t = ApiToken::generate();
        let stored = t.hash().to_hex();
        assert!(t.hash().matches_hex(&stored));
        assert!(!ApiToken::generate().hash().matches_hex(&stored));
        assert!(!t.hash().matches_hex("not hex"));
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        let t = ApiToken::generate();
        assert!(!format!("{t:?}").contains(&t.reveal()[6..]));
    }

    proptest! {
        #[test]
        fn random_strings_with_the_prefix_almost_never_pass(s in "[0-9A-Za-z]{38}") {
            // A random 6-digit checksum matches about once in 4 billion tries.
            let raw = format!("wharf_{s}");
            let valid = checksum(&raw[..raw.len() - 6]) == raw[raw.len() - 6..];
            prop_assert_eq!(ApiToken::parse(&raw).is_ok(), valid);
        }
    }
}
