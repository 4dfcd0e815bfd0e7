//! One test per line of security.md's "The seed registry's audit list" that
//! this server covers, named after the line so a reader can tick them off.
//! (Lines covered elsewhere: storage and S3 in `wharf-blob/tests/s3.rs`,
//! JWT in `wharf-jwt`, the user-code entropy in `services::device`, secrets
//! in logs and the audit log in `wharf-cli/tests/security.rs`.)

mod common;

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{TestApp, UploadForm};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use wharf_core::model::*;
use wharf_core::ports::{RepoError, TokenRepo};
use wharf_core::ratelimit::RatePolicy;
use wharf_core::{ApiToken, Timestamp};
use wharf_server::state::{App, Ports};
use wharf_testkit::WheelBuilder;

fn source(path: &str) -> String {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../");
    std::fs::read_to_string(format!("{root}{path}")).unwrap()
}

/// The body of `fn name` in a source file, up to the next blank line.
fn function_body(text: &str, name: &str) -> String {
    let start = text
        .find(&format!("fn {name}("))
        .unwrap_or_else(|| panic!("no fn {name}"));
    text[start..].split("\n\n").next().unwrap().to_owned()
}

#[tokio::test]
async fn timing_constant_time_token_compare() {
    // Timing cannot be asserted reliably in a test; the implementation can:
    // the stored hash is compared with `subtle`, never with `==`.
    let body = function_body(&source("crates/wharf-core/src/token.rs"), "matches_hex");
    assert!(body.contains("ct_eq"), "{body}");
    assert!(!body.contains("=="), "{body}");
    let token = ApiToken::generate();
    let mut other = token.hash().to_hex();
    other.replace_range(63.., if other.ends_with('0') { "1" } else { "0" });
    assert!(token.hash().matches_hex(&token.hash().to_hex()));
    assert!(
        !token.hash().matches_hex(&other),
        "a one-digit difference is caught"
    );
}

#[tokio::test]
async fn timing_constant_time_internal_secret_compare() {
    // Wharf's internal secrets compared on requests are the CSRF tokens.
    let body = function_body(
        &source("crates/wharf-server/src/services/sessions.rs"),
        "csrf_matches",
    );
    assert!(body.contains("ct_eq"), "{body}");
    assert!(!body.contains("expected == submitted"), "{body}");
}

#[tokio::test]
async fn cors_no_arbitrary_origin_reflected_with_credentials() {
    let t =
        TestApp::with_config(|c| c.security.cors_origins = vec!["https://portal.example".into()])
            .await;
    let evil = t
        .get("/simple/", &[("origin", "https://evil.example")])
        .await;
    assert_eq!(evil.status, StatusCode::OK);
    assert_eq!(evil.header("access-control-allow-origin"), "");
    assert_eq!(evil.header("access-control-allow-credentials"), "");
    let vary: Vec<_> = evil
        .headers
        .get_all("vary")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(vary.contains(&"Origin"), "{vary:?}");
    let ok = t
        .get("/simple/", &[("origin", "https://portal.example")])
        .await;
    assert_eq!(
        ok.header("access-control-allow-origin"),
        "https://portal.example"
    );
    assert_eq!(ok.header("access-control-allow-credentials"), "true");

    let preflight = |origin: &'static str| {
        Request::builder()
            .method("OPTIONS")
            .uri("/api/v1/whoami")
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .body(Body::empty())
            .unwrap()
    };
    let r = t.send(preflight("https://evil.example")).await;
    r.assert_error(StatusCode::FORBIDDEN, "origin_not_allowed", "cors_origins");
    assert_eq!(r.header("access-control-allow-origin"), "");
    let r = t.send(preflight("https://portal.example")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        r.header("access-control-allow-origin"),
        "https://portal.example"
    );
    assert!(r
        .header("access-control-allow-headers")
        .contains("authorization"));
    // "null" and look-alikes are not the listed origin.
    for o in [
        "null",
        "https://portal.example.evil",
        "http://portal.example",
    ] {
        let r = t.get("/simple/", &[("origin", o)]).await;
        assert_eq!(r.header("access-control-allow-origin"), "", "{o}");
    }
}

#[tokio::test]
async fn logging_no_auth_context_in_debug_output() {
    let t = TestApp::with_config(|c| {
        c.security.session_secret = Some("q8VfT2pL0xZr7YwN3mKc9sHd4bJg6uEa1".into())
    })
    .await;
    let token = t.token("alice", "read", &[]).await;
    let parsed = ApiToken::parse(&token).unwrap();
    let config = format!("{:?}", t.app.config);
    assert!(
        !config.contains("q8VfT2pL0xZr7YwN3mKc9sHd4bJg6uEa1"),
        "{config}"
    );
    assert!(!format!("{parsed:?}").contains(&token[6..]));
    let session = Session {
        user: t
            .app
            .ports
            .users
            .find_user_by_name("alice")
            .await
            .unwrap()
            .unwrap(),
        csrf_token: "csrf-secret-value".into(),
        created_at: Timestamp::now(),
        expires_at: Timestamp::now(),
    };
    assert!(!format!("{session:?}").contains("csrf-secret-value"));
    let new = NewSession {
        id_hash: "hash-of-session-id".into(),
        user_id: 1,
        csrf_token: "csrf-secret-value".into(),
        expires_at: Timestamp::now(),
    };
    let shown = format!("{new:?}");
    assert!(
        !shown.contains("csrf-secret-value") && !shown.contains("hash-of-session-id"),
        "{shown}"
    );
    let principal = t.app.authenticator.authenticate(&token).await.unwrap();
    assert!(!format!("{principal:?}").contains(&token[6..]));
}

#[tokio::test]
async fn tokens_expired_keys_rejected() {
    let t = TestApp::new().await;
    let expired = t.expired_token("alice").await;
    let r = t
        .get(
            "/api/v1/whoami",
            &[("authorization", &format!("Bearer {expired}"))],
        )
        .await;
    r.assert_error(StatusCode::UNAUTHORIZED, "token_expired", "expired at");
}

/// Counts lookups, to show which tokens never reach the database.
struct CountingTokens {
    inner: Arc<dyn TokenRepo>,
    lookups: AtomicUsize,
}

#[async_trait]
impl TokenRepo for CountingTokens {
    async fn create_token(
        &self,
        token: NewToken,
        audit: NewAuditEvent,
    ) -> Result<TokenRecord, RepoError> {
        self.inner.create_token(token, audit).await
    }
    async fn find_token_by_hash(
        &self,
        hash_hex: &str,
    ) -> Result<Option<(TokenRecord, User, String)>, RepoError> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        self.inner.find_token_by_hash(hash_hex).await
    }
    async fn list_tokens(&self, user_id: i64) -> Result<Vec<TokenRecord>, RepoError> {
        self.inner.list_tokens(user_id).await
    }
    async fn get_token(&self, id: i64) -> Result<Option<TokenRecord>, RepoError> {
        self.inner.get_token(id).await
    }
    async fn revoke_token(&self, id: i64, audit: NewAuditEvent) -> Result<bool, RepoError> {
        self.inner.revoke_token(id, audit).await
    }
    async fn touch_token(&self, id: i64, at: Timestamp) -> Result<(), RepoError> {
        self.inner.touch_token(id, at).await
    }
}

#[tokio::test]
async fn tokens_prefix_checked_before_lookup() {
    let t = TestApp::new().await;
    let counting = Arc::new(CountingTokens {
        inner: t.app.ports.tokens.clone(),
        lookups: AtomicUsize::new(0),
    });
    let ports = Ports {
        tokens: counting.clone(),
        ..t.app.ports.clone()
    };
    let app = App::from_parts(
        t.app.config.clone(),
        t.app.db.clone(),
        ports,
        t.app.limiter.clone(),
    )
    .unwrap();
    let valid = ApiToken::generate().reveal().to_owned();
    let mut bad_checksum = valid.clone();
    let last = bad_checksum.pop().unwrap();
    bad_checksum.push(if last == 'A' { 'B' } else { 'A' });
    let wrong_prefix = format!("ghp_{}", &valid[6..]);
    for bad in [bad_checksum, wrong_prefix, "wharf_short".to_owned()] {
        let req = Request::get("/api/v1/whoami")
            .header(header::AUTHORIZATION, format!("Bearer {bad}"))
            .body(Body::empty())
            .unwrap();
        let r = send(&app, req).await;
        assert_eq!(r.0, StatusCode::UNAUTHORIZED, "{bad}");
        assert!(r.1.contains("invalid_token"), "{}", r.1);
    }
    assert_eq!(
        counting.lookups.load(Ordering::SeqCst),
        0,
        "no malformed token reached the database"
    );
    // A well-formed token that is simply unknown costs exactly one lookup.
    let req = Request::get("/api/v1/whoami")
        .header(header::AUTHORIZATION, format!("Bearer {valid}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, req).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(counting.lookups.load(Ordering::SeqCst), 1);
}

async fn send(app: &App, req: Request<Body>) -> (StatusCode, String) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let r = wharf_server::router(app.clone())
        .oneshot(req)
        .await
        .unwrap();
    let status = r.status();
    let body = r.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn wheel() -> WheelBuilder {
    WheelBuilder::new("demo_pkg", "1.0")
}

#[tokio::test]
async fn input_package_names_validated() {
    let t = TestApp::new().await;
    let token = t.token("alice", "publish", &[]).await;
    let form = UploadForm::wheel(&wheel(), "demo-pkg", "1.0");
    for bad in ["demo pkg;rm -rf /", "$(reboot)", "-leading", ""] {
        let r = t.upload(Some(&token), &form.clone().set("name", bad)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.text());
        assert!(
            r.json()["error"] == "invalid_name" || r.json()["error"] == "missing_field",
            "{bad}: {}",
            r.text()
        );
    }
    // pip treats any 404 as "no such project"; the name never reaches a command.
    let r = t.get("/simple/%24%28reboot%29/", &[]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn input_version_strings_validated() {
    let t = TestApp::new().await;
    let token = t.token("alice", "publish", &[]).await;
    let form = UploadForm::wheel(&wheel(), "demo-pkg", "1.0");
    for bad in ["latest", "1.0; echo", &"1".repeat(65)] {
        t.upload(Some(&token), &form.clone().set("version", bad))
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid_version", "");
    }
}

/// Bytes that deflate cannot shrink, so the wheel is really this large.
fn incompressible(n: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[tokio::test]
async fn input_upload_size_enforced() {
    let t = TestApp::with_config(|c| c.max_upload_bytes = 2048).await;
    let token = t.token("alice", "publish", &[]).await;
    let big = wheel().file("demo_pkg/blob.bin", incompressible(8192));
    let r = t
        .upload(Some(&token), &UploadForm::wheel(&big, "demo-pkg", "1.0"))
        .await;
    r.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "file_too_large", "2048");
    assert_eq!(t.tmp_entries(), 0, "nothing half-written is left");
}

#[tokio::test]
async fn input_extension_allowlist() {
    let t = TestApp::new().await;
    let token = t.token("alice", "publish", &[]).await;
    for name in [
        "demo_pkg-1.0.zip",
        "demo_pkg-1.0-py3.6.egg",
        "demo_pkg-1.0.exe",
        "demo_pkg-1.0.tar.bz2",
    ] {
        let mut form = UploadForm::wheel(&wheel(), "demo-pkg", "1.0");
        form.filename = name.into();
        t.upload(Some(&token), &form).await.assert_error(
            StatusCode::BAD_REQUEST,
            "invalid_filename",
            ".whl",
        );
    }
}

#[tokio::test]
async fn input_wheel_zip_validated() {
    let t = TestApp::new().await;
    let token = t.token("alice", "publish", &[]).await;
    let good = UploadForm::wheel(&wheel(), "demo-pkg", "1.0");
    let not_a_zip = UploadForm::new(
        "demo-pkg",
        "1.0",
        &good.filename,
        b"this is not a zip archive".to_vec(),
    );
    let r = t.upload(Some(&token), &not_a_zip).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    let traversal = wheel().file("../../etc/evil.py", b"x");
    let r = t
        .upload(
            Some(&token),
            &UploadForm::wheel(&traversal, "demo-pkg", "1.0"),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert!(
        r.json()["message"].as_str().unwrap().contains(".."),
        "{}",
        r.text()
    );
}

#[tokio::test]
async fn headers_security_headers_present() {
    let plain = TestApp::new().await;
    let tls = TestApp::with_config(|c| c.security.behind_tls_proxy = true).await;
    for path in ["/simple/", "/account/login", "/api/v1/nothing", "/healthz"] {
        let r = plain.get(path, &[]).await;
        assert_eq!(r.header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(r.header("x-frame-options"), "DENY", "{path}");
        assert_eq!(
            r.header("referrer-policy"),
            "strict-origin-when-cross-origin",
            "{path}"
        );
        assert!(
            r.header("permissions-policy").contains("camera=()"),
            "{path}"
        );
        assert!(r.headers.get("server").is_none(), "{path}");
        assert_eq!(
            r.header("strict-transport-security"),
            "",
            "no HSTS over plain http: {path}"
        );
        let r = tls.get(path, &[]).await;
        assert!(
            r.header("strict-transport-security")
                .starts_with("max-age=31536000"),
            "{path}"
        );
    }
    let page = plain.get("/account/login", &[]).await;
    let csp = page.header("content-security-policy");
    for directive in [
        "default-src 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ] {
        assert!(csp.contains(directive), "{csp}");
    }
}

#[tokio::test]
async fn device_flow_store_is_capped() {
    let t = TestApp::with_config(|c| c.security.device_code_cap = 2).await;
    for _ in 0..2 {
        let r = t.post_form("/api/v1/auth/device/code", "", &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
    let r = t.post_form("/api/v1/auth/device/code", "", &[]).await;
    r.assert_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "temporarily_unavailable",
        "too many device logins",
    );
    assert_eq!(r.header("retry-after"), "60");
}

#[tokio::test]
async fn secrets_internal_secret_has_minimum_length() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = wharf_server::config::Config {
        data_dir: dir.path().to_owned(),
        ..Default::default()
    };
    config.security.production = true;
    config.security.session_secret = Some("only-twenty-bytes-ok".into());
    let err = App::open(config.clone(), true)
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(
        err.contains("WHARF_SESSION_SECRET") && err.contains("shorter than 32 bytes"),
        "{err}"
    );
    config.security.session_secret = None;
    let err = App::open(config.clone(), true)
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(err.contains("missing"), "{err}");
    config.security.session_secret = Some("q8VfT2pL0xZr7YwN3mKc9sHd4bJg6uEa1".into());
    // The master key has the same rule: missing or short refuses the start.
    let err = App::open(config.clone(), true)
        .await
        .err()
        .expect("refused without a master key")
        .to_string();
    assert!(
        err.contains("WHARF_MASTER_KEY") && err.contains("missing"),
        "{err}"
    );
    config.security.master_key = Some("only-twenty-bytes-ok".into());
    let err = App::open(config.clone(), true)
        .await
        .err()
        .expect("refused with a short master key")
        .to_string();
    assert!(err.contains("WHARF_MASTER_KEY"), "{err}");
    config.security.master_key = Some("Zq8tW3vN7yR1mK5pX2cB9dF4hJ6gL0sAeUiOoPq3".into());
    if wharf_db::testing::backend_is_postgres() {
        config.database_url = Some(
            wharf_db::testing::fresh_postgres_schema(&wharf_db::testing::postgres_base_url())
                .await
                .unwrap(),
        );
    }
    assert!(App::open(config, true).await.is_ok());
}

#[tokio::test]
async fn rate_limits_per_endpoint() {
    let t = TestApp::with_config(|c| {
        c.rate_limits.device = RatePolicy::parse("device", "2/min").unwrap();
        c.rate_limits.global = RatePolicy::parse("global", "20/min").unwrap();
    })
    .await;
    for _ in 0..2 {
        assert_eq!(
            t.post_form("/api/v1/auth/device/code", "", &[])
                .await
                .status,
            StatusCode::OK
        );
    }
    let r = t.post_form("/api/v1/auth/device/code", "", &[]).await;
    r.assert_error(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        "too many device requests",
    );
    assert!(
        r.header("ratelimit-policy").contains("\"device\";q=2;w=60"),
        "{}",
        r.header("ratelimit-policy")
    );
    // Another class still has room: the device limit is its own.
    assert_eq!(t.get("/simple/", &[]).await.status, StatusCode::OK);
    // The global class catches everything else, per IP.
    let mut limited = None;
    for _ in 0..30 {
        let r = t.get("/simple/", &[]).await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(r);
            break;
        }
    }
    let r = limited.expect("the global limit applies");
    r.assert_error(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        "too many global requests",
    );
    assert!(r.header("retry-after").parse::<u64>().unwrap() >= 1);
    // Another address has its own bucket; probes are never limited.
    let other = Request::get("/simple/").body(Body::empty()).unwrap();
    assert_eq!(
        t.send_from("192.0.2.50:1234", other).await.status,
        StatusCode::OK
    );
    assert_eq!(t.get("/healthz", &[]).await.status, StatusCode::OK);
}

#[tokio::test]
async fn internal_routes_blocked_from_outside() {
    let t = TestApp::new().await;
    t.get("/api/v1/admin/audit", &[]).await.assert_error(
        StatusCode::UNAUTHORIZED,
        "missing_credentials",
        "authentication required",
    );
    let read = t.token("alice", "read", &[]).await;
    let r = t
        .get(
            "/api/v1/admin/audit",
            &[("authorization", &format!("Bearer {read}"))],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    // An admin scope on a non-admin user's token grants nothing.
    let scoped = t.token("bob", "read,admin", &[]).await;
    let r = t
        .get(
            "/api/v1/admin/audit",
            &[("authorization", &format!("Bearer {scoped}"))],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    // A browser session is not an API credential, even an admin's.
    t.app.accounts.create_user("root", true).await.unwrap();
    let r = t
        .get("/api/v1/admin/audit", &[("cookie", "wharf_session=0000")])
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // Metrics are never on the public router, only on `metrics_listen`.
    assert_eq!(t.get("/metrics", &[]).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn proxies_x_forwarded_for_trusted_only_from_configured_proxies() {
    let limited = |trusted: &'static [&'static str]| {
        TestApp::with_config(move |c| {
            c.rate_limits.device = RatePolicy::parse("device", "1/min").unwrap();
            c.security.trusted_proxies = trusted
                .iter()
                .map(|t| wharf_server::config::IpNet::parse(t).unwrap())
                .collect();
        })
    };
    let device_from = |peer: &'static str, forwarded: &'static str| {
        let req = Request::post("/api/v1/auth/device/code")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("x-forwarded-for", forwarded)
            .body(Body::empty())
            .unwrap();
        (peer, req)
    };
    // Untrusted peer: a forged X-Forwarded-For does not buy a fresh bucket.
    let t = limited(&[]).await;
    let (peer, req) = device_from("203.0.113.5:1000", "198.51.100.1");
    assert_eq!(t.send_from(peer, req).await.status, StatusCode::OK);
    let (peer, req) = device_from("203.0.113.5:1000", "198.51.100.2");
    assert_eq!(
        t.send_from(peer, req).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Trusted proxy: each forwarded client has its own bucket.
    let t = limited(&["10.0.0.0/8"]).await;
    for client in ["198.51.100.1", "198.51.100.2"] {
        let (peer, req) = device_from("10.0.0.2:1000", client);
        assert_eq!(
            t.send_from(peer, req).await.status,
            StatusCode::OK,
            "{client}"
        );
    }
    let (peer, req) = device_from("10.0.0.2:1000", "198.51.100.1");
    assert_eq!(
        t.send_from(peer, req).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[test]
fn known_gap_no_secrets_in_the_working_tree() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../");
    let files = std::process::Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(root)
        .output()
        .unwrap();
    assert!(files.status.success());
    let mut findings = Vec::new();
    for path in files.stdout.split(|b| *b == 0).filter(|p| !p.is_empty()) {
        let path = String::from_utf8_lossy(path).into_owned();
        let Ok(text) = std::fs::read_to_string(format!("{root}{path}")) else {
            continue; // binary
        };
        // Built from pieces, so that this file does not match itself.
        let (begin, end) = (
            ["-----", "BEGIN "].concat(),
            [" PRIVATE KEY", "-----"].concat(),
        );
        if text
            .lines()
            .any(|l| l.trim().starts_with(&begin) && l.trim().ends_with(&end))
        {
            findings.push(format!("{path}: a private key"));
        }
        // A Wharf token with a valid checksum is a real, usable secret.
        for (i, _) in text.match_indices("wharf_") {
            let candidate: String = text[i..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if ApiToken::parse(&candidate).is_ok() {
                findings.push(format!("{path}: an API token"));
            }
        }
        for (i, _) in text.match_indices("AKIA") {
            let id = &text[i..];
            if id.len() >= 20
                && id[4..20]
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            {
                findings.push(format!("{path}: an AWS access key ID"));
            }
        }
    }
    assert!(findings.is_empty(), "{findings:#?}");
}
