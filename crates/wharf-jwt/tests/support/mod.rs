//! A stand-in identity provider for the tests: keys made at run time, a
//! JWKS served on 127.0.0.1 that counts its fetches, and a token builder
//! that signs whatever header it is given (so tests can forge tokens too).
#![allow(dead_code, reason = "each test binary uses a different part")]

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    EcdsaKeyPair, KeyPair, RsaKeyPair, RsaPublicKeyComponents, ECDSA_P256_SHA256_FIXED_SIGNING,
    RSA_PKCS1_SHA256,
};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use secrecy::SecretString;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use wharf_jwt::JwtSettings;

pub const ISSUER: &str = "https://idp.test/realms/wharf";
pub const AUDIENCE: &str = "wharf-test";
/// A legacy shared secret long enough to be accepted.
pub const HS256_SECRET: &str = "test-only-hs256-secret-0123456789abcdef";

/// One RSA key for the whole test binary: generating 2048-bit keys is slow.
pub fn rsa_key() -> &'static RsaKeyPair {
    static KEY: OnceLock<RsaKeyPair> = OnceLock::new();
    KEY.get_or_init(|| {
        RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).expect("RSA key generation")
    })
}

/// One P-256 key for the whole test binary.
pub fn ec_key() -> &'static EcdsaKeyPair {
    static KEY: OnceLock<EcdsaKeyPair> = OnceLock::new();
    KEY.get_or_init(|| {
        EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("EC key generation")
    })
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The public RSA key as a JWK named `kid`, without `alg`.
pub fn rsa_jwk(kid: &str) -> Value {
    let public = RsaPublicKeyComponents::<Vec<u8>>::from(rsa_key().public_key());
    json!({"kty": "RSA", "kid": kid, "use": "sig", "n": b64(&public.n), "e": b64(&public.e)})
}

/// The public EC key as a JWK named `kid`.
pub fn ec_jwk(kid: &str) -> Value {
    let point = ec_key().public_key().as_ref();
    // Uncompressed point: 0x04, then x and y.
    let (x, y) = point[1..].split_at(32);
    json!({"kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "x": b64(x), "y": b64(y)})
}

/// A key set holding `keys`.
pub fn jwks(keys: &[Value]) -> Value {
    json!({ "keys": keys })
}

/// The bytes an attacker would use as an HMAC key in an algorithm
/// confusion attack: the RSA public key, which anyone can read.
pub fn rsa_public_key_bytes() -> Vec<u8> {
    rsa_key().public_key().as_ref().to_vec()
}

/// How [`token`] signs.
pub enum Signer<'a> {
    Rsa,
    Ec,
    Hmac(&'a [u8]),
    /// Empty signature, as for `alg: none`.
    Unsigned,
}

/// A compact JWT with exactly this header and these claims.
pub fn token(header: Value, claims: Value, signer: Signer<'_>) -> String {
    let signing_input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let signature = match signer {
        Signer::Rsa => {
            let key = rsa_key();
            let mut signature = vec![0; key.public_modulus_len()];
            key.sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                signing_input.as_bytes(),
                &mut signature,
            )
            .expect("RSA signing");
            signature
        }
        Signer::Ec => ec_key()
            .sign(&SystemRandom::new(), signing_input.as_bytes())
            .expect("EC signing")
            .as_ref()
            .to_vec(),
        Signer::Hmac(secret) => {
            let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
            aws_lc_rs::hmac::sign(&key, signing_input.as_bytes())
                .as_ref()
                .to_vec()
        }
        Signer::Unsigned => Vec::new(),
    };
    format!("{signing_input}.{}", b64(&signature))
}

/// Seconds since the epoch, as in `exp`.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Claims that pass every check: our issuer and audience, issued now,
/// expiring in five minutes.
pub fn valid_claims() -> Value {
    json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "iat": now(), "exp": now() + 300})
}

/// [`valid_claims`] with `key` set to `value`.
pub fn claims_with(key: &str, value: Value) -> Value {
    let mut claims = valid_claims();
    claims[key] = value;
    claims
}

/// A valid RS256 token signed by the key published as `kid`.
pub fn rs256(kid: &str, claims: Value) -> String {
    token(
        json!({"alg": "RS256", "typ": "JWT", "kid": kid}),
        claims,
        Signer::Rsa,
    )
}

/// A valid ES256 token signed by the key published as `kid`.
pub fn es256(kid: &str, claims: Value) -> String {
    token(
        json!({"alg": "ES256", "typ": "JWT", "kid": kid}),
        claims,
        Signer::Ec,
    )
}

/// A valid HS256 token signed with [`HS256_SECRET`].
pub fn hs256(claims: Value) -> String {
    token(
        json!({"alg": "HS256", "typ": "JWT"}),
        claims,
        Signer::Hmac(HS256_SECRET.as_bytes()),
    )
}

/// Settings for `idp`'s JWKS (over http, as tests do), with a cooldown long
/// enough that no test outlives it.
pub fn settings_for(idp: &TestIdp) -> JwtSettings {
    let mut settings = JwtSettings::new(ISSUER, AUDIENCE);
    settings.jwks_url = Some(idp.jwks_url());
    settings.allow_insecure_jwks = true;
    settings.refresh_cooldown = Duration::from_secs(3600);
    settings.fetch_timeout = Duration::from_secs(5);
    settings
}

/// Settings for HS256 only.
pub fn hs256_settings() -> JwtSettings {
    let mut settings = JwtSettings::new(ISSUER, AUDIENCE);
    settings.hs256_secret = Some(SecretString::from(HS256_SECRET));
    settings
}

/// A JWKS endpoint on 127.0.0.1 whose answer the test can change.
pub struct TestIdp {
    address: std::net::SocketAddr,
    state: Arc<IdpState>,
}

struct IdpState {
    body: Mutex<String>,
    status: Mutex<StatusCode>,
    delay: Mutex<Duration>,
    fetches: AtomicUsize,
}

impl TestIdp {
    /// Starts serving `key_set` at `/jwks`.
    pub async fn start(key_set: Value) -> Self {
        let state = Arc::new(IdpState {
            body: Mutex::new(key_set.to_string()),
            status: Mutex::new(StatusCode::OK),
            delay: Mutex::new(Duration::ZERO),
            fetches: AtomicUsize::new(0),
        });
        let app = Router::new()
            .route("/jwks", get(serve_jwks))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { address, state }
    }

    /// The `http://127.0.0.1:…/jwks` address.
    pub fn jwks_url(&self) -> String {
        format!("http://{}/jwks", self.address)
    }

    /// From now on, serve `key_set`.
    pub fn publish(&self, key_set: Value) {
        self.publish_raw(key_set.to_string());
        *self.state.status.lock().unwrap() = StatusCode::OK;
    }

    /// From now on, serve `body` as it is.
    pub fn publish_raw(&self, body: String) {
        *self.state.body.lock().unwrap() = body;
    }

    /// From now on, answer with `status`.
    pub fn fail_with(&self, status: StatusCode) {
        *self.state.status.lock().unwrap() = status;
    }

    /// From now on, wait this long before answering.
    pub fn delay(&self, delay: Duration) {
        *self.state.delay.lock().unwrap() = delay;
    }

    /// How many times the JWKS was requested.
    pub fn fetches(&self) -> usize {
        self.state.fetches.load(Ordering::SeqCst)
    }
}

async fn serve_jwks(State(state): State<Arc<IdpState>>) -> impl IntoResponse {
    state.fetches.fetch_add(1, Ordering::SeqCst);
    let delay = *state.delay.lock().unwrap();
    tokio::time::sleep(delay).await;
    let status = *state.status.lock().unwrap();
    let body = state.body.lock().unwrap().clone();
    (status, [(header::CONTENT_TYPE, "application/json")], body)
}
