//! The registered claims, checked through the whole verifier with
//! genuinely signed tokens.

mod support;

use serde_json::json;
use std::time::Duration;
use support::*;
use wharf_jwt::{JwtError, JwtVerifier};

async fn verifier() -> (TestIdp, JwtVerifier) {
    let idp = TestIdp::start(jwks(&[rsa_jwk("rsa-1"), ec_jwk("ec-1")])).await;
    let verifier = JwtVerifier::new(settings_for(&idp)).unwrap();
    (idp, verifier)
}

#[tokio::test]
async fn refuses_a_wrong_issuer() {
    let (_idp, verifier) = verifier().await;
    let claims = claims_with("iss", json!("https://evil.test/realms/wharf"));
    assert_eq!(
        verifier.verify(&rs256("rsa-1", claims)).await.unwrap_err(),
        JwtError::WrongIssuer
    );
}

#[tokio::test]
async fn refuses_a_wrong_audience() {
    let (_idp, verifier) = verifier().await;
    let claims = claims_with("aud", json!("another-app"));
    assert_eq!(
        verifier.verify(&rs256("rsa-1", claims)).await.unwrap_err(),
        JwtError::WrongAudience
    );
}

#[tokio::test]
async fn refuses_an_extra_audience() {
    let (_idp, verifier) = verifier().await;
    let claims = claims_with("aud", json!([AUDIENCE, "another-app"]));
    assert_eq!(
        verifier.verify(&es256("ec-1", claims)).await.unwrap_err(),
        JwtError::WrongAudience
    );
}

#[tokio::test]
async fn accepts_our_audience_alone_in_an_array() {
    let (_idp, verifier) = verifier().await;
    let claims = claims_with("aud", json!([AUDIENCE]));
    assert!(verifier.verify(&rs256("rsa-1", claims)).await.is_ok());
}

#[tokio::test]
async fn refuses_an_expired_token() {
    let (_idp, verifier) = verifier().await;
    let claims = claims_with("exp", json!(now() - 120));
    assert_eq!(
        verifier.verify(&rs256("rsa-1", claims)).await.unwrap_err(),
        JwtError::Expired
    );
}

#[tokio::test]
async fn leeway_covers_small_clock_skew_only() {
    let (_idp, verifier) = verifier().await;
    // Default leeway: 60 s.
    let just_expired = claims_with("exp", json!(now() - 20));
    assert!(verifier.verify(&rs256("rsa-1", just_expired)).await.is_ok());
    let idp = TestIdp::start(jwks(&[rsa_jwk("rsa-1")])).await;
    let mut settings = settings_for(&idp);
    settings.leeway = Duration::ZERO;
    let strict = JwtVerifier::new(settings).unwrap();
    let just_expired = claims_with("exp", json!(now() - 20));
    assert_eq!(
        strict
            .verify(&rs256("rsa-1", just_expired))
            .await
            .unwrap_err(),
        JwtError::Expired
    );
}

#[tokio::test]
async fn refuses_iat_in_the_future() {
    let (_idp, verifier) = verifier().await;
    let claims = claims_with("iat", json!(now() + 600));
    assert_eq!(
        verifier.verify(&rs256("rsa-1", claims)).await.unwrap_err(),
        JwtError::NotYetValid { claim: "iat" }
    );
}

#[tokio::test]
async fn refuses_nbf_in_the_future() {
    let (_idp, verifier) = verifier().await;
    let claims = claims_with("nbf", json!(now() + 600));
    assert_eq!(
        verifier.verify(&rs256("rsa-1", claims)).await.unwrap_err(),
        JwtError::NotYetValid { claim: "nbf" }
    );
}

#[tokio::test]
async fn requires_exp_and_iat() {
    let (_idp, verifier) = verifier().await;
    for claim in ["exp", "iat", "iss", "aud"] {
        let mut claims = valid_claims();
        claims.as_object_mut().unwrap().remove(claim);
        assert_eq!(
            verifier.verify(&rs256("rsa-1", claims)).await.unwrap_err(),
            JwtError::MissingClaim(claim)
        );
    }
}

#[tokio::test]
async fn hs256_tokens_pass_the_same_claim_checks() {
    let verifier = JwtVerifier::new(hs256_settings()).unwrap();
    let claims = claims_with("aud", json!([AUDIENCE, "another-app"]));
    assert_eq!(
        verifier.verify(&hs256(claims)).await.unwrap_err(),
        JwtError::WrongAudience
    );
}

#[tokio::test]
async fn reports_when_the_token_expires() {
    let (_idp, verifier) = verifier().await;
    let exp = now() + 300;
    let verified = verifier
        .verify(&rs256("rsa-1", claims_with("exp", json!(exp))))
        .await
        .unwrap();
    let expires = verified
        .expires_at
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    assert_eq!(expires.as_secs() as i64, exp);
}
