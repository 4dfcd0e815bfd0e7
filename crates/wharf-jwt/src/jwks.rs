//! A JSON Web Key Set, reduced to the keys Wharf can use: RSA keys of at
//! least 2048 bits and P-256 EC keys, meant for signatures, each with a `kid`.
//! Other keys are skipped rather than failing the whole set, so an identity
//! provider that adds, say, an Ed25519 key doesn't lock everyone out.

use crate::token::Algorithm;
use crate::JwtError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::DecodingKey;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;

/// Smaller RSA moduli are factorable by a determined attacker.
const MIN_RSA_MODULUS_BYTES: usize = 2048 / 8;
/// One P-256 coordinate.
const P256_COORDINATE_BYTES: usize = 32;

/// The kind of key a JWK holds, from its `kty` (and `crv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    Rsa,
    EcP256,
}

/// One usable public key from the set.
pub(crate) struct PublicKey {
    kind: KeyKind,
    /// The JWK's `alg`, when the identity provider pinned one.
    pinned_algorithm: Option<String>,
    decoding: DecodingKey,
}

impl PublicKey {
    /// The key, if it may verify a token whose header says `algorithm`. The
    /// header is attacker-controlled, so the key decides: its type must fit
    /// the algorithm, and a pinned `alg` must be this one.
    pub(crate) fn for_algorithm(&self, algorithm: Algorithm) -> Result<&DecodingKey, JwtError> {
        let fits = match algorithm {
            Algorithm::Rs256 => self.kind == KeyKind::Rsa,
            Algorithm::Es256 => self.kind == KeyKind::EcP256,
            Algorithm::Hs256 => false,
        };
        if !fits {
            return Err(JwtError::KeyMismatch(
                "its key type does not match the algorithm in the token header",
            ));
        }
        if self
            .pinned_algorithm
            .as_deref()
            .is_some_and(|pinned| pinned != algorithm.name())
        {
            return Err(JwtError::KeyMismatch(
                "the key is published for a different algorithm than the token header names",
            ));
        }
        Ok(&self.decoding)
    }
}

/// Usable keys by `kid`.
pub(crate) type KeySet = HashMap<String, Arc<PublicKey>>;

#[derive(Deserialize)]
struct RawKeySet {
    // Values first, so one key we can't read only skips that key.
    keys: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawJwk {
    kty: String,
    kid: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    usage: Option<String>,
    key_ops: Option<Vec<String>>,
    crv: Option<String>,
    n: Option<String>,
    e: Option<String>,
    x: Option<String>,
    y: Option<String>,
}

/// Reads a JWKS document. Fails only if the document itself is not a key
/// set; unusable keys are left out (and logged).
pub(crate) fn parse_key_set(body: &[u8]) -> Result<KeySet, String> {
    let raw: RawKeySet = serde_json::from_slice(body)
        .map_err(|e| format!("the JWKS is not a JSON object with a `keys` array ({e})"))?;
    let mut set = KeySet::new();
    for value in raw.keys {
        let Ok(jwk) = serde_json::from_value::<RawJwk>(value) else {
            tracing::debug!("skipping a JWK that is not a JSON object with a `kty`");
            continue;
        };
        let Some(kid) = jwk.kid.clone() else {
            tracing::debug!("skipping a JWK without `kid`: keys are chosen by kid");
            continue;
        };
        match usable_key(jwk) {
            Ok(key) => {
                // The first key wins: a duplicated `kid` must not let a
                // later entry replace a key silently.
                set.entry(kid).or_insert_with(|| Arc::new(key));
            }
            Err(reason) => tracing::debug!(kid, reason, "skipping a JWK"),
        }
    }
    Ok(set)
}

fn usable_key(jwk: RawJwk) -> Result<PublicKey, &'static str> {
    if jwk.usage.as_deref().is_some_and(|u| u != "sig") {
        return Err("it is not meant for signatures (`use`)");
    }
    if jwk
        .key_ops
        .as_ref()
        .is_some_and(|ops| !ops.iter().any(|op| op == "verify"))
    {
        return Err("its `key_ops` do not include verify");
    }
    let (kind, decoding) = match jwk.kty.as_str() {
        "RSA" => {
            let (n, e) = jwk.n.zip(jwk.e).ok_or("an RSA key needs `n` and `e`")?;
            let modulus = decode_b64(&n)?;
            let significant = modulus.iter().skip_while(|b| **b == 0).count();
            if significant < MIN_RSA_MODULUS_BYTES {
                return Err("its RSA modulus is shorter than 2048 bits");
            }
            let exponent = decode_b64(&e)?;
            (
                KeyKind::Rsa,
                DecodingKey::from_rsa_raw_components(&modulus, &exponent),
            )
        }
        "EC" => {
            if jwk.crv.as_deref() != Some("P-256") {
                return Err("only the P-256 curve is accepted");
            }
            let (x, y) = jwk.x.zip(jwk.y).ok_or("an EC key needs `x` and `y`")?;
            if decode_b64(&x)?.len() != P256_COORDINATE_BYTES
                || decode_b64(&y)?.len() != P256_COORDINATE_BYTES
            {
                return Err("its P-256 coordinates are not 32 bytes");
            }
            let decoding = DecodingKey::from_ec_components(&x, &y)
                .map_err(|_| "its coordinates are invalid")?;
            (KeyKind::EcP256, decoding)
        }
        // `oct` (a shared secret published in a key set) and anything else.
        _ => return Err("its key type is not RSA or EC"),
    };
    Ok(PublicKey {
        kind,
        pinned_algorithm: jwk.alg,
        decoding,
    })
}

fn decode_b64(field: &str) -> Result<Vec<u8>, &'static str> {
    URL_SAFE_NO_PAD
        .decode(field)
        .map_err(|_| "a key field is not base64url")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    #[test]
    fn skips_keys_it_cannot_use_and_keeps_the_rest() {
        let rsa_n = b64(&[0xC5; 256]);
        let coord = b64(&[7; 32]);
        let doc = serde_json::json!({"keys": [
            {"kty": "RSA", "kid": "good-rsa", "n": rsa_n, "e": "AQAB"},
            {"kty": "RSA", "kid": "small-rsa", "n": b64(&[0xC5; 128]), "e": "AQAB"},
            {"kty": "RSA", "kid": "enc", "use": "enc", "n": rsa_n, "e": "AQAB"},
            {"kty": "RSA", "n": rsa_n, "e": "AQAB"},
            {"kty": "EC", "kid": "p384", "crv": "P-384", "x": coord, "y": coord},
            {"kty": "oct", "kid": "shared", "k": "c2VjcmV0"},
            {"kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": coord},
            "not an object",
        ]});
        let set = parse_key_set(doc.to_string().as_bytes()).unwrap();
        assert_eq!(set.keys().collect::<Vec<_>>(), ["good-rsa"]);
    }

    #[test]
    fn a_document_without_keys_is_an_error() {
        assert!(parse_key_set(b"{\"kid\": 1}").is_err());
        assert!(parse_key_set(b"<html>").is_err());
    }
}
