//! Which signatures are accepted: the allowlist, and the key-type checks
//! that stop algorithm confusion.

mod support;

use secrecy::SecretString;
use serde_json::json;
use support::*;
use wharf_jwt::{JwtError, JwtVerifier};

async fn verifier_with(keys: &[serde_json::Value]) -> (TestIdp, JwtVerifier) {
    let idp = TestIdp::start(jwks(keys)).await;
    let verifier = JwtVerifier::new(settings_for(&idp)).unwrap();
    (idp, verifier)
}

#[tokio::test]
async fn accepts_rs256_from_the_jwks() {
    let (_idp, verifier) = verifier_with(&[rsa_jwk("rsa-1")]).await;
    let verified = verifier
        .verify(&rs256("rsa-1", valid_claims()))
        .await
        .unwrap();
    assert_eq!(verified.string_claim("sub"), Some("alice"));
    assert_eq!(verified.string_claim("iss"), Some(ISSUER));
}

#[tokio::test]
async fn accepts_es256_from_the_jwks() {
    let (_idp, verifier) = verifier_with(&[rsa_jwk("rsa-1"), ec_jwk("ec-1")]).await;
    let claims = claims_with("preferred_username", json!("alice.smith"));
    let verified = verifier.verify(&es256("ec-1", claims)).await.unwrap();
    assert_eq!(
        verified.string_claim("preferred_username"),
        Some("alice.smith")
    );
}

#[tokio::test]
async fn accepts_hs256_when_a_secret_is_configured() {
    let verifier = JwtVerifier::new(hs256_settings()).unwrap();
    let verified = verifier.verify(&hs256(valid_claims())).await.unwrap();
    assert_eq!(verified.string_claim("sub"), Some("alice"));
}

#[tokio::test]
async fn refuses_alg_none() {
    // Both key sources configured: `none` must not slip into either path.
    let idp = TestIdp::start(jwks(&[rsa_jwk("rsa-1")])).await;
    let mut settings = settings_for(&idp);
    settings.hs256_secret = Some(SecretString::from(HS256_SECRET));
    let verifier = JwtVerifier::new(settings).unwrap();
    for alg in ["none", "None", "NONE"] {
        let forged = token(
            json!({"alg": alg, "kid": "rsa-1"}),
            valid_claims(),
            Signer::Unsigned,
        );
        assert_eq!(
            verifier.verify(&forged).await.unwrap_err(),
            JwtError::UnsupportedAlgorithm {
                alg: alg.to_owned()
            }
        );
    }
    assert_eq!(idp.fetches(), 0, "refused before any key was looked up");
}

#[tokio::test]
async fn refuses_an_rs256_token_stripped_of_its_signature() {
    let (_idp, verifier) = verifier_with(&[rsa_jwk("rsa-1")]).await;
    let stripped = token(
        json!({"alg": "RS256", "kid": "rsa-1"}),
        valid_claims(),
        Signer::Unsigned,
    );
    assert_eq!(
        verifier.verify(&stripped).await.unwrap_err(),
        JwtError::BadSignature
    );
}

#[tokio::test]
async fn refuses_algorithms_outside_the_allowlist() {
    let (_idp, verifier) = verifier_with(&[rsa_jwk("rsa-1")]).await;
    for alg in ["RS384", "RS512", "PS256", "HS512", "EdDSA", "rs256"] {
        // Signed with RS256 all the same: only the header is at fault.
        let forged = token(
            json!({"alg": alg, "kid": "rsa-1"}),
            valid_claims(),
            Signer::Rsa,
        );
        assert_eq!(
            verifier.verify(&forged).await.unwrap_err(),
            JwtError::UnsupportedAlgorithm {
                alg: alg.to_owned()
            }
        );
    }
}

#[tokio::test]
async fn refuses_hs256_signed_with_the_rsa_public_key_when_no_secret_is_configured() {
    let (_idp, verifier) = verifier_with(&[rsa_jwk("rsa-1")]).await;
    let public_key = rsa_public_key_bytes();
    let forged = token(
        json!({"alg": "HS256", "kid": "rsa-1"}),
        valid_claims(),
        Signer::Hmac(&public_key),
    );
    assert_eq!(
        verifier.verify(&forged).await.unwrap_err(),
        JwtError::UnsupportedAlgorithm {
            alg: "HS256".to_owned()
        }
    );
}

#[tokio::test]
async fn refuses_hs256_signed_with_the_rsa_public_key_when_a_secret_is_configured() {
    let idp = TestIdp::start(jwks(&[rsa_jwk("rsa-1")])).await;
    let mut settings = settings_for(&idp);
    settings.hs256_secret = Some(SecretString::from(HS256_SECRET));
    let verifier = JwtVerifier::new(settings).unwrap();
    let public_key = rsa_public_key_bytes();
    let forged = token(
        json!({"alg": "HS256", "kid": "rsa-1"}),
        valid_claims(),
        Signer::Hmac(&public_key),
    );
    assert_eq!(
        verifier.verify(&forged).await.unwrap_err(),
        JwtError::BadSignature
    );
    // The genuine HS256 token still passes, so the refusal above is the key's doing.
    assert!(verifier.verify(&hs256(valid_claims())).await.is_ok());
}

#[tokio::test]
async fn refuses_rs256_and_es256_without_a_jwks() {
    let verifier = JwtVerifier::new(hs256_settings()).unwrap();
    assert_eq!(
        verifier
            .verify(&rs256("rsa-1", valid_claims()))
            .await
            .unwrap_err(),
        JwtError::UnsupportedAlgorithm {
            alg: "RS256".to_owned()
        }
    );
}

#[tokio::test]
async fn refuses_an_ec_key_for_an_rs256_header() {
    let (_idp, verifier) = verifier_with(&[ec_jwk("ec-1")]).await;
    let forged = token(
        json!({"alg": "RS256", "kid": "ec-1"}),
        valid_claims(),
        Signer::Rsa,
    );
    assert!(matches!(
        verifier.verify(&forged).await,
        Err(JwtError::KeyMismatch(_))
    ));
}

#[tokio::test]
async fn refuses_an_rsa_key_for_an_es256_header() {
    let (_idp, verifier) = verifier_with(&[rsa_jwk("rsa-1")]).await;
    let forged = token(
        json!({"alg": "ES256", "kid": "rsa-1"}),
        valid_claims(),
        Signer::Ec,
    );
    assert!(matches!(
        verifier.verify(&forged).await,
        Err(JwtError::KeyMismatch(_))
    ));
}

#[tokio::test]
async fn refuses_a_key_pinned_to_another_algorithm() {
    let mut pinned = rsa_jwk("rsa-ps");
    pinned["alg"] = json!("PS256");
    let mut matching = rsa_jwk("rsa-rs");
    matching["alg"] = json!("RS256");
    let (_idp, verifier) = verifier_with(&[pinned, matching]).await;
    assert!(matches!(
        verifier.verify(&rs256("rsa-ps", valid_claims())).await,
        Err(JwtError::KeyMismatch(_))
    ));
    assert!(verifier
        .verify(&rs256("rsa-rs", valid_claims()))
        .await
        .is_ok());
}

#[tokio::test]
async fn refuses_a_tampered_payload() {
    let (_idp, verifier) = verifier_with(&[rsa_jwk("rsa-1")]).await;
    let genuine = rs256("rsa-1", valid_claims());
    let mut parts: Vec<String> = genuine.split('.').map(str::to_owned).collect();
    let forged_claims = claims_with("sub", json!("admin"));
    parts[1] = token(json!({}), forged_claims, Signer::Unsigned)
        .split('.')
        .nth(1)
        .unwrap()
        .to_owned();
    assert_eq!(
        verifier.verify(&parts.join(".")).await.unwrap_err(),
        JwtError::BadSignature
    );
}

#[tokio::test]
async fn refuses_tokens_without_kid_or_with_crit() {
    let (_idp, verifier) = verifier_with(&[rsa_jwk("rsa-1")]).await;
    let no_kid = token(json!({"alg": "RS256"}), valid_claims(), Signer::Rsa);
    assert!(matches!(
        verifier.verify(&no_kid).await,
        Err(JwtError::Malformed(_))
    ));
    let crit = token(
        json!({"alg": "RS256", "kid": "rsa-1", "crit": ["exp"], "exp": 1}),
        valid_claims(),
        Signer::Rsa,
    );
    assert!(matches!(
        verifier.verify(&crit).await,
        Err(JwtError::Malformed(_))
    ));
}

#[tokio::test]
async fn refuses_what_is_not_a_jwt() {
    let verifier = JwtVerifier::new(hs256_settings()).unwrap();
    for junk in [
        "",
        "wharf_abc",
        "a.b",
        "a.b.c",
        "e30.e30",
        &"a".repeat(20_000),
    ] {
        assert!(
            matches!(verifier.verify(junk).await, Err(JwtError::Malformed(_))),
            "{junk:.20}"
        );
    }
}

#[tokio::test]
async fn error_messages_never_show_the_token_or_the_secret() {
    let idp = TestIdp::start(jwks(&[rsa_jwk("rsa-1")])).await;
    let mut settings = settings_for(&idp);
    settings.hs256_secret = Some(SecretString::from(HS256_SECRET));
    let verifier = JwtVerifier::new(settings).unwrap();
    let wrong_secret = "another-secret-of-at-least-32-bytes!!";
    let tokens = [
        token(
            json!({"alg": "HS256"}),
            valid_claims(),
            Signer::Hmac(wrong_secret.as_bytes()),
        ),
        rs256("rsa-1", claims_with("exp", json!(1))),
        rs256("rsa-1", claims_with("aud", json!("someone-else"))),
        rs256("unknown", valid_claims()),
    ];
    for token in &tokens {
        let err = verifier.verify(token).await.unwrap_err();
        let shown = format!("{err} {err:?}");
        for part in token.split('.') {
            assert!(!shown.contains(part), "{shown}");
        }
        assert!(!shown.contains(HS256_SECRET) && !shown.contains(wrong_secret));
    }
    assert!(!format!("{verifier:?}").contains(HS256_SECRET));
}

#[test]
fn the_verifier_can_be_shared_between_tasks() {
    fn assert_shareable<T: Clone + Send + Sync + 'static>() {}
    assert_shareable::<JwtVerifier>();
}
