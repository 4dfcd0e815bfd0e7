//! Identity-provider JWTs through the real router, against a JWKS served on
//! 127.0.0.1 by the test with keys made at run time.

mod common;

#[path = "../../wharf-jwt/tests/support/mod.rs"]
mod idp;

use axum::http::StatusCode;
use common::{TestApp, UploadForm};
use idp::*;
use serde_json::json;
use wharf_server::config::JwtConfig;

async fn app_with_idp(create_users: bool) -> (TestApp, TestIdp) {
    let provider = TestIdp::start(jwks(&[rsa_jwk("k1"), ec_jwk("k2")])).await;
    let settings = settings_for(&provider);
    let t = TestApp::with_config(move |c| {
        c.jwt = Some(JwtConfig {
            settings,
            user_claim: "preferred_username".into(),
            create_users,
            scopes: wharf_core::Scopes::parse("read,publish").unwrap(),
        })
    })
    .await;
    (t, provider)
}

fn claims_for(user: &str) -> serde_json::Value {
    let mut c = valid_claims();
    c["preferred_username"] = json!(user);
    c
}

async fn whoami(t: &TestApp, token: &str) -> common::TestResponse {
    t.get(
        "/api/v1/whoami",
        &[("authorization", &format!("Bearer {token}"))],
    )
    .await
}

#[tokio::test]
async fn a_valid_rs256_or_es256_token_acts_as_the_mapped_user() {
    let (t, _idp) = app_with_idp(false).await;
    t.user("alice").await;
    for token in [
        rs256("k1", claims_for("alice")),
        es256("k2", claims_for("alice")),
    ] {
        let r = whoami(&t, &token).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json()["user"]["name"], "alice");
        assert_eq!(r.json()["scopes"], json!(["read", "publish"]));
        assert!(r.json()["token"].is_null(), "no API token is involved");
    }
    // The JWT can publish, through twine's Basic auth too.
    let wheel = wharf_testkit::WheelBuilder::new("jwt_pkg", "1.0");
    let form = UploadForm::wheel(&wheel, "jwt-pkg", "1.0");
    let r = t
        .upload(Some(&rs256("k1", claims_for("alice"))), &form)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let upload = t
        .app
        .ports
        .audit
        .recent(5)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.action == "file.upload")
        .unwrap();
    assert_eq!(upload.actor_token_id, None);
}

#[tokio::test]
async fn forged_and_mismatched_tokens_are_refused() {
    let (t, provider) = app_with_idp(false).await;
    t.user("alice").await;
    let claims = claims_for("alice");
    let none = token(
        json!({"alg": "none", "typ": "JWT"}),
        claims.clone(),
        Signer::Unsigned,
    );
    let confusion = token(
        json!({"alg": "HS256", "typ": "JWT", "kid": "k1"}),
        claims.clone(),
        Signer::Hmac(&rsa_public_key_bytes()),
    );
    let mut wrong_aud = claims.clone();
    wrong_aud["aud"] = json!("someone-else");
    let mut expired = claims.clone();
    expired["exp"] = json!(now() - 3600);
    expired["iat"] = json!(now() - 7200);
    let cases = [
        ("alg none", none, "invalid_token", "none"),
        (
            "HS256 with the RSA public key",
            confusion,
            "invalid_token",
            "HS256",
        ),
        (
            "wrong audience",
            rs256("k1", wrong_aud),
            "invalid_token",
            "audience",
        ),
        ("expired", rs256("k1", expired), "token_expired", "expired"),
        (
            "unknown kid",
            rs256("k9", claims.clone()),
            "invalid_token",
            "key",
        ),
    ];
    for (what, token, code, fragment) in cases {
        let r = whoami(&t, &token).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{what}: {}", r.text());
        assert_eq!(r.json()["error"], code, "{what}: {}", r.text());
        let message = r.json()["message"].as_str().unwrap().to_lowercase();
        assert!(
            message.contains(&fragment.to_lowercase()),
            "{what}: {message}"
        );
        assert!(
            !r.text().contains(&token),
            "{what}: the token is not echoed"
        );
    }
    // The unknown kid caused one refresh, not one per request.
    let before = provider.fetches();
    for _ in 0..3 {
        assert_eq!(
            whoami(&t, &rs256("k9", claims.clone())).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(provider.fetches(), before, "the refresh cooldown holds");
}

#[tokio::test]
async fn users_are_created_on_first_use_only_when_allowed() {
    let (t, _idp) = app_with_idp(false).await;
    let r = whoami(&t, &rs256("k1", claims_for("newcomer"))).await;
    r.assert_error(
        StatusCode::UNAUTHORIZED,
        "invalid_token",
        "an administrator must create that user",
    );
    let r = whoami(&t, &rs256("k1", claims_for("not a valid name!"))).await;
    r.assert_error(
        StatusCode::UNAUTHORIZED,
        "invalid_token",
        "preferred_username claim",
    );

    let (t, _idp) = app_with_idp(true).await;
    let r = whoami(&t, &rs256("k1", claims_for("newcomer"))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["user"]["is_admin"], false);
    let created = t.app.ports.audit.recent(5).await.unwrap();
    assert!(created
        .iter()
        .any(|e| e.action == "user.create" && e.target == "user:newcomer"));
}

#[tokio::test]
async fn an_unreachable_identity_provider_is_a_503_not_a_401() {
    let (t, provider) = app_with_idp(false).await;
    t.user("alice").await;
    provider.fail_with(StatusCode::INTERNAL_SERVER_ERROR);
    let r = whoami(&t, &rs256("k1", claims_for("alice"))).await;
    r.assert_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "identity_provider_unavailable",
        "retry shortly",
    );
    // API tokens keep working meanwhile.
    let token = t.token("alice", "read", &[]).await;
    assert_eq!(whoami(&t, &token).await.status, StatusCode::OK);
}

#[test]
fn jwt_jwks_over_https_only() {
    use wharf_server::config::{Config, Overrides};
    let env = |k: &str| match k {
        "WHARF_JWT_ISSUER" => Some(ISSUER.to_owned()),
        "WHARF_JWT_AUDIENCE" => Some(AUDIENCE.to_owned()),
        "WHARF_JWT_JWKS_URL" => Some("http://idp.internal/jwks".to_owned()),
        "WHARF_SESSION_SECRET" => Some("q8VfT2pL0xZr7YwN3mKc9sHd4bJg6uEa1".to_owned()),
        _ => None,
    };
    // Dev mode allows a local http JWKS; production mode refuses to start.
    let dev = Config::load(None, env, &Overrides::default()).unwrap();
    assert!(dev.check_production().is_ok());
    let prod = Config::load(
        None,
        env,
        &Overrides {
            production: true,
            ..Overrides::default()
        },
    );
    let err = match prod {
        Ok(config) => config.check_production().unwrap_err().to_string(),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains("jwt.jwks_url") && err.contains("https"),
        "{err}"
    );
}

#[test]
fn jwt_algorithm_pinned() {
    // Only RS256/ES256 (JWKS) and a configured HS256 are ever accepted; the
    // verifier's own tests cover each refusal, this checks the server wiring:
    // a shared secret shorter than 32 bytes or equal to the session secret
    // is refused at start-up.
    use wharf_server::config::{Config, Overrides};
    let env = |secret: &'static str| {
        move |k: &str| match k {
            "WHARF_JWT_ISSUER" => Some(ISSUER.to_owned()),
            "WHARF_JWT_AUDIENCE" => Some(AUDIENCE.to_owned()),
            "WHARF_JWT_HS256_SECRET" => Some(secret.to_owned()),
            "WHARF_SESSION_SECRET" => Some("q8VfT2pL0xZr7YwN3mKc9sHd4bJg6uEa1".to_owned()),
            _ => None,
        }
    };
    let err = Config::load(None, env("too-short"), &Overrides::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("32"), "{err}");
    let err = Config::load(
        None,
        env("q8VfT2pL0xZr7YwN3mKc9sHd4bJg6uEa1"),
        &Overrides::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("must not be the same secret"), "{err}");
    assert!(!err.contains("q8VfT2pL0xZr7YwN3mKc9sHd4bJg6uEa1"), "{err}");
}
