//! Configuration checks: each refusal names the setting to fix.

use secrecy::SecretString;
use std::time::Duration;
use wharf_jwt::{JwtConfigError, JwtSettings, JwtVerifier};

const SECRET: &str = "a-legacy-shared-secret-of-32-bytes-or-more";

fn with_jwks(url: &str) -> JwtSettings {
    let mut settings = JwtSettings::new("https://idp.test", "wharf");
    settings.jwks_url = Some(url.to_owned());
    settings
}

#[test]
fn https_jwks_url_is_accepted() {
    with_jwks("https://idp.test/.well-known/jwks.json")
        .validate()
        .unwrap();
}

#[test]
fn http_jwks_url_is_refused_unless_insecure_is_allowed() {
    let mut settings = with_jwks("http://127.0.0.1:8080/jwks");
    let err = settings.validate().unwrap_err();
    assert!(matches!(err, JwtConfigError::InsecureJwksUrl), "{err}");
    assert_eq!(err.setting(), "jwt.jwks_url");
    assert!(err.to_string().contains("https://"), "{err}");
    // `new` validates too, so a server can't skip the check.
    assert!(matches!(
        JwtVerifier::new(settings.clone()),
        Err(JwtConfigError::InsecureJwksUrl)
    ));
    settings.allow_insecure_jwks = true;
    settings.validate().unwrap();
}

#[test]
fn unusable_jwks_urls_are_refused() {
    for url in ["idp.test/jwks", "ftp://idp.test/jwks", "file:///etc/jwks"] {
        let mut settings = with_jwks(url);
        settings.allow_insecure_jwks = true;
        assert!(
            matches!(
                settings.validate(),
                Err(JwtConfigError::InvalidJwksUrl { .. })
            ),
            "{url}"
        );
    }
}

#[test]
fn short_hs256_secret_is_refused() {
    let mut settings = JwtSettings::new("https://idp.test", "wharf");
    settings.hs256_secret = Some(SecretString::from("only-31-bytes-long-secret-12345"));
    let err = settings.validate().unwrap_err();
    assert!(
        matches!(err, JwtConfigError::ShortHs256Secret { len: 31 }),
        "{err}"
    );
    assert_eq!(err.setting(), "jwt.hs256_secret");
    assert!(!err.to_string().contains("only-31"), "{err}");
    settings.hs256_secret = Some(SecretString::from(SECRET));
    settings.validate().unwrap();
}

#[test]
fn issuer_and_audience_are_required() {
    let mut settings = with_jwks("https://idp.test/jwks");
    settings.issuer = " ".to_owned();
    let err = settings.validate().unwrap_err();
    assert!(matches!(err, JwtConfigError::EmptyIssuer));
    assert_eq!(err.setting(), "jwt.issuer");

    let mut settings = with_jwks("https://idp.test/jwks");
    settings.audience = String::new();
    let err = settings.validate().unwrap_err();
    assert!(matches!(err, JwtConfigError::EmptyAudience));
    assert_eq!(err.setting(), "jwt.audience");
}

#[test]
fn a_key_source_is_required() {
    let err = JwtSettings::new("https://idp.test", "wharf")
        .validate()
        .unwrap_err();
    assert!(matches!(err, JwtConfigError::NoKeySource));
    assert!(err.to_string().contains("jwt.jwks_url"), "{err}");
}

#[test]
fn leeway_is_bounded() {
    let mut settings = with_jwks("https://idp.test/jwks");
    settings.leeway = Duration::from_secs(3600);
    let err = settings.validate().unwrap_err();
    assert!(matches!(err, JwtConfigError::LeewayTooLarge { .. }));
    assert_eq!(err.setting(), "jwt.leeway");
}

#[test]
fn defaults_are_the_documented_ones() {
    let settings = JwtSettings::new("https://idp.test", "wharf");
    assert_eq!(settings.leeway, Duration::from_secs(60));
    assert_eq!(settings.refresh_cooldown, Duration::from_secs(60));
    assert_eq!(settings.key_max_age, Duration::from_secs(3600));
    assert_eq!(settings.fetch_timeout, Duration::from_secs(10));
    assert!(!settings.allow_insecure_jwks);
}

#[test]
fn debug_output_hides_the_secret() {
    let mut settings = with_jwks("https://idp.test/jwks");
    settings.hs256_secret = Some(SecretString::from(SECRET));
    let shown = format!("{settings:?} {settings:#?}");
    assert!(!shown.contains(SECRET), "{shown}");
    assert!(
        shown.contains("idp.test"),
        "the rest stays readable: {shown}"
    );
    let verifier = JwtVerifier::new(settings).unwrap();
    assert!(!format!("{verifier:?}").contains(SECRET));
}
