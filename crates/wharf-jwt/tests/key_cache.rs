//! When the key set is fetched, counted at the test identity provider.

mod support;

use axum::http::StatusCode;
use std::time::Duration;
use support::*;
use wharf_jwt::{JwtError, JwtVerifier};

#[tokio::test]
async fn keys_are_fetched_once_and_cached() {
    let idp = TestIdp::start(jwks(&[rsa_jwk("rsa-1"), ec_jwk("ec-1")])).await;
    let verifier = JwtVerifier::new(settings_for(&idp)).unwrap();
    assert_eq!(
        idp.fetches(),
        0,
        "nothing is fetched before the first token"
    );
    for _ in 0..3 {
        verifier
            .verify(&rs256("rsa-1", valid_claims()))
            .await
            .unwrap();
        verifier
            .verify(&es256("ec-1", valid_claims()))
            .await
            .unwrap();
    }
    assert_eq!(idp.fetches(), 1);
}

#[tokio::test]
async fn an_unknown_kid_causes_one_refresh_then_a_cooldown() {
    let idp = TestIdp::start(jwks(&[rsa_jwk("rsa-1")])).await;
    let verifier = JwtVerifier::new(settings_for(&idp)).unwrap();
    verifier
        .verify(&rs256("rsa-1", valid_claims()))
        .await
        .unwrap();
    assert_eq!(idp.fetches(), 1);

    assert_eq!(
        verifier
            .verify(&rs256("made-up-1", valid_claims()))
            .await
            .unwrap_err(),
        JwtError::UnknownKey
    );
    assert_eq!(idp.fetches(), 2, "one refresh for the unknown kid");

    for kid in ["made-up-1", "made-up-2", "made-up-3"] {
        assert_eq!(
            verifier
                .verify(&rs256(kid, valid_claims()))
                .await
                .unwrap_err(),
            JwtError::UnknownKey
        );
    }
    assert_eq!(idp.fetches(), 2, "no refresh during the cooldown");
    verifier
        .verify(&rs256("rsa-1", valid_claims()))
        .await
        .unwrap();
    assert_eq!(idp.fetches(), 2, "known keys keep working meanwhile");
}

#[tokio::test]
async fn a_rotated_key_is_picked_up_after_the_cooldown() {
    let idp = TestIdp::start(jwks(&[rsa_jwk("old")])).await;
    let mut settings = settings_for(&idp);
    settings.refresh_cooldown = Duration::from_secs(1);
    let verifier = JwtVerifier::new(settings).unwrap();
    verifier
        .verify(&rs256("old", valid_claims()))
        .await
        .unwrap();
    // A made-up kid spends the refresh and starts the cooldown...
    assert_eq!(
        verifier
            .verify(&rs256("made-up", valid_claims()))
            .await
            .unwrap_err(),
        JwtError::UnknownKey
    );
    assert_eq!(idp.fetches(), 2);

    // ...so the provider's new key is not seen yet...
    idp.publish(jwks(&[rsa_jwk("old"), rsa_jwk("new")]));
    assert_eq!(
        verifier
            .verify(&rs256("new", valid_claims()))
            .await
            .unwrap_err(),
        JwtError::UnknownKey
    );
    assert_eq!(idp.fetches(), 2);

    // ...but it is once the cooldown has passed.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    verifier
        .verify(&rs256("new", valid_claims()))
        .await
        .unwrap();
    assert_eq!(idp.fetches(), 3);
}

#[tokio::test]
async fn an_empty_key_set_is_not_cached() {
    let idp = TestIdp::start(jwks(&[])).await;
    let verifier = JwtVerifier::new(settings_for(&idp)).unwrap();
    // Each verify asks again: an empty set is never held, so neither the
    // cache nor the (hour-long) cooldown of `settings_for` applies.
    for expected_fetches in 1..=3 {
        assert!(matches!(
            verifier.verify(&rs256("rsa-1", valid_claims())).await,
            Err(JwtError::KeysUnavailable(_))
        ));
        assert_eq!(idp.fetches(), expected_fetches);
    }

    idp.publish(jwks(&[rsa_jwk("rsa-1")]));
    verifier
        .verify(&rs256("rsa-1", valid_claims()))
        .await
        .unwrap();
    assert_eq!(idp.fetches(), 4);
}

#[tokio::test]
async fn a_key_set_that_empties_is_dropped() {
    let idp = TestIdp::start(jwks(&[rsa_jwk("rsa-1")])).await;
    let mut settings = settings_for(&idp);
    settings.key_max_age = Duration::from_millis(100);
    let verifier = JwtVerifier::new(settings).unwrap();
    verifier
        .verify(&rs256("rsa-1", valid_claims()))
        .await
        .unwrap();
    idp.publish(jwks(&[]));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(matches!(
        verifier.verify(&rs256("rsa-1", valid_claims())).await,
        Err(JwtError::KeysUnavailable(_))
    ));
    assert_eq!(idp.fetches(), 2);
}

#[tokio::test]
async fn a_set_of_only_unusable_keys_counts_as_empty() {
    let mut small = rsa_jwk("rsa-1");
    small["n"] = serde_json::json!("AQAB");
    let idp = TestIdp::start(jwks(&[small])).await;
    let verifier = JwtVerifier::new(settings_for(&idp)).unwrap();
    assert!(matches!(
        verifier.verify(&rs256("rsa-1", valid_claims())).await,
        Err(JwtError::KeysUnavailable(_))
    ));
}

#[tokio::test]
async fn concurrent_tokens_with_a_new_kid_share_one_fetch() {
    let idp = TestIdp::start(jwks(&[rsa_jwk("old")])).await;
    let verifier = JwtVerifier::new(settings_for(&idp)).unwrap();
    verifier
        .verify(&rs256("old", valid_claims()))
        .await
        .unwrap();
    idp.publish(jwks(&[rsa_jwk("old"), rsa_jwk("new")]));
    // Slow answers make the verifies overlap.
    idp.delay(Duration::from_millis(200));

    let token = rs256("new", valid_claims());
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let verifier = verifier.clone();
            let token = token.clone();
            tokio::spawn(async move { verifier.verify(&token).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(idp.fetches(), 2);
}

#[tokio::test]
async fn concurrent_first_uses_share_one_fetch() {
    let idp = TestIdp::start(jwks(&[rsa_jwk("rsa-1")])).await;
    idp.delay(Duration::from_millis(200));
    let verifier = JwtVerifier::new(settings_for(&idp)).unwrap();
    let token = rs256("rsa-1", valid_claims());
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let verifier = verifier.clone();
            let token = token.clone();
            tokio::spawn(async move { verifier.verify(&token).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(idp.fetches(), 1);
}

#[tokio::test]
async fn a_withdrawn_key_stops_working_after_the_max_age() {
    let idp = TestIdp::start(jwks(&[rsa_jwk("compromised"), rsa_jwk("other")])).await;
    let mut settings = settings_for(&idp);
    settings.key_max_age = Duration::from_secs(1);
    let verifier = JwtVerifier::new(settings).unwrap();
    verifier
        .verify(&rs256("compromised", valid_claims()))
        .await
        .unwrap();

    idp.publish(jwks(&[rsa_jwk("other")]));
    verifier
        .verify(&rs256("compromised", valid_claims()))
        .await
        .unwrap();
    assert_eq!(idp.fetches(), 1, "young keys are used without asking");

    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        verifier
            .verify(&rs256("compromised", valid_claims()))
            .await
            .unwrap_err(),
        JwtError::UnknownKey
    );
    assert_eq!(idp.fetches(), 2);
}

#[tokio::test]
async fn old_keys_stay_in_use_while_the_provider_is_down() {
    let idp = TestIdp::start(jwks(&[rsa_jwk("rsa-1")])).await;
    let mut settings = settings_for(&idp);
    settings.key_max_age = Duration::from_millis(100);
    let verifier = JwtVerifier::new(settings).unwrap();
    verifier
        .verify(&rs256("rsa-1", valid_claims()))
        .await
        .unwrap();

    idp.fail_with(StatusCode::BAD_GATEWAY);
    tokio::time::sleep(Duration::from_millis(200)).await;
    for _ in 0..3 {
        verifier
            .verify(&rs256("rsa-1", valid_claims()))
            .await
            .unwrap();
    }
    assert_eq!(
        idp.fetches(),
        2,
        "one failed refresh, then the cooldown holds"
    );
}

#[tokio::test]
async fn a_failing_provider_means_keys_unavailable() {
    let idp = TestIdp::start(jwks(&[rsa_jwk("rsa-1")])).await;
    idp.fail_with(StatusCode::INTERNAL_SERVER_ERROR);
    let verifier = JwtVerifier::new(settings_for(&idp)).unwrap();
    let err = verifier
        .verify(&rs256("rsa-1", valid_claims()))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, JwtError::KeysUnavailable(why) if why.contains("500")),
        "{err}"
    );

    // Recovery needs no restart.
    idp.publish(jwks(&[rsa_jwk("rsa-1")]));
    verifier
        .verify(&rs256("rsa-1", valid_claims()))
        .await
        .unwrap();
}

#[tokio::test]
async fn an_unreadable_key_set_means_keys_unavailable() {
    let idp = TestIdp::start(jwks(&[])).await;
    idp.publish_raw("<html>login required</html>".to_owned());
    let verifier = JwtVerifier::new(settings_for(&idp)).unwrap();
    assert!(matches!(
        verifier.verify(&rs256("rsa-1", valid_claims())).await,
        Err(JwtError::KeysUnavailable(_))
    ));
}

#[tokio::test]
async fn an_oversized_key_set_is_refused() {
    let idp = TestIdp::start(jwks(&[])).await;
    let padding = "x".repeat(300 * 1024);
    idp.publish_raw(format!(
        "{{\"keys\": [{}], \"padding\": \"{padding}\"}}",
        rsa_jwk("rsa-1")
    ));
    let verifier = JwtVerifier::new(settings_for(&idp)).unwrap();
    let err = verifier
        .verify(&rs256("rsa-1", valid_claims()))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, JwtError::KeysUnavailable(why) if why.contains("KiB")),
        "{err}"
    );
}

#[tokio::test]
async fn a_slow_provider_times_out() {
    let idp = TestIdp::start(jwks(&[rsa_jwk("rsa-1")])).await;
    idp.delay(Duration::from_secs(5));
    let mut settings = settings_for(&idp);
    settings.fetch_timeout = Duration::from_millis(200);
    let verifier = JwtVerifier::new(settings).unwrap();
    let started = std::time::Instant::now();
    assert!(matches!(
        verifier.verify(&rs256("rsa-1", valid_claims())).await,
        Err(JwtError::KeysUnavailable(_))
    ));
    assert!(started.elapsed() < Duration::from_secs(2));
}
