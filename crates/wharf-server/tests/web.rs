//! The web UI and device login through the real router: login, sessions,
//! CSRF, tokens, and RFC 8628 from code to token.

mod common;

use axum::http::StatusCode;
use common::TestApp;
use std::sync::Arc;
use wharf_core::model::{NewAuditEvent, User};
use wharf_core::ports::{RepoError, UserRepo};
use wharf_server::services::accounts;
use wharf_server::state::{App, Ports};

const PASSWORD: &str = "a long enough password";

async fn app_with_user(name: &str, admin: bool) -> TestApp {
    let t = TestApp::new().await;
    add_user(&t, name, admin).await;
    t
}

async fn add_user(t: &TestApp, name: &str, admin: bool) {
    t.app.accounts.create_user(name, admin).await.unwrap();
    t.app
        .accounts
        .set_password(name, PASSWORD.into())
        .await
        .unwrap();
}

/// Logs in through the form; returns the session cookie header value.
async fn login(t: &TestApp, name: &str, password: &str) -> common::TestResponse {
    let form = t.get("/account/login", &[]).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text());
    let csrf_cookie = form.cookie("wharf_login_csrf").expect("login CSRF cookie");
    let csrf = form.hidden_field("csrf");
    assert_eq!(csrf, csrf_cookie);
    t.post_form(
        "/account/login",
        &format!("wharf_login_csrf={csrf_cookie}"),
        &[
            ("username", name),
            ("password", password),
            ("csrf", &csrf),
            ("next", "/account/tokens"),
        ],
    )
    .await
}

async fn session_cookie(t: &TestApp, name: &str) -> String {
    let r = login(t, name, PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    format!("wharf_session={}", r.cookie("wharf_session").unwrap())
}

async fn csrf_of(t: &TestApp, cookie: &str) -> String {
    let page = t.get("/account/tokens", &[("cookie", cookie)]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    page.hidden_field("csrf")
}

#[tokio::test]
async fn login_sets_an_httponly_lax_session_cookie_and_redirects() {
    let t = app_with_user("alice", false).await;
    let r = login(&t, "alice", PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.header("location"), "/account/tokens");
    let set = r
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("wharf_session="))
        .unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    assert!(!set.contains("Secure"), "dev mode over plain http: {set}");
    let page = t
        .get(
            "/account/tokens",
            &[(
                "cookie",
                &format!("wharf_session={}", r.cookie("wharf_session").unwrap()),
            )],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("alice"));
    assert_eq!(page.header("cache-control"), "no-store");
}

#[tokio::test]
async fn session_cookies_are_secure_outside_dev_mode() {
    let t = TestApp::with_config(|c| {
        c.security.production = true;
        c.security.session_secret = Some("q8VfT2pL0xZr7YwN3mKc9sHd4bJg6uEa1".into());
        c.security.master_key = Some("Zq8tW3vN7yR1mK5pX2cB9dF4hJ6gL0sAeUiOoPq3".into());
    })
    .await;
    add_user(&t, "alice", false).await;
    let r = login(&t, "alice", PASSWORD).await;
    let set = r
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("wharf_session="))
        .unwrap();
    assert!(set.contains("; Secure"), "{set}");
}

#[tokio::test]
async fn failed_logins_never_reveal_whether_the_user_exists() {
    let t = app_with_user("alice", false).await;
    let wrong_password = login(&t, "alice", "not the password at all").await;
    let no_such_user = login(&t, "mallory", "not the password at all").await;
    for r in [&wrong_password, &no_such_user] {
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(
            r.text().contains("Invalid user name or password."),
            "{}",
            r.text()
        );
        assert!(r.cookie("wharf_session").is_none());
    }
    let strip = |r: &common::TestResponse| {
        // The forms differ only in their fresh CSRF token and the echoed name.
        r.text()
            .replace(&r.hidden_field("csrf"), "")
            .replace("mallory", "alice")
    };
    assert_eq!(strip(&wrong_password), strip(&no_such_user));
    let failed = t
        .app
        .ports
        .audit
        .recent(10)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "login.failed")
        .count();
    assert_eq!(failed, 2);
}

#[tokio::test]
async fn login_without_its_csrf_cookie_is_refused() {
    let t = app_with_user("alice", false).await;
    let r = t
        .post_form(
            "/account/login",
            "",
            &[
                ("username", "alice"),
                ("password", PASSWORD),
                ("csrf", "forged"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.text().contains("The login form expired"), "{}", r.text());
}

#[tokio::test]
async fn login_is_rate_limited_per_account_and_per_ip() {
    let t = TestApp::with_config(|c| {
        c.rate_limits.login = wharf_core::ratelimit::RatePolicy::parse("login", "2/min").unwrap();
    })
    .await;
    add_user(&t, "alice", false).await;
    for _ in 0..2 {
        assert_eq!(
            login(&t, "alice", "wrong password here").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let r = login(&t, "alice", PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text());
    assert!(r.header("retry-after").parse::<u64>().unwrap() >= 1);
    assert!(r.text().contains("too many login requests"), "{}", r.text());
}

#[tokio::test]
async fn logout_ends_the_session_server_side() {
    let t = app_with_user("alice", false).await;
    let cookie = session_cookie(&t, "alice").await;
    let csrf = csrf_of(&t, &cookie).await;
    // Without the session's CSRF token, logout is refused.
    let r = t
        .post_form("/account/logout", &cookie, &[("csrf", "nope")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = t
        .post_form("/account/logout", &cookie, &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    // The old cookie, replayed, no longer opens anything.
    let page = t.get("/account/tokens", &[("cookie", &cookie)]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(page.header("location").starts_with("/account/login?next="));
}

#[tokio::test]
async fn tokens_are_created_shown_once_and_revoked_from_the_web() {
    let t = app_with_user("alice", false).await;
    let cookie = session_cookie(&t, "alice").await;
    let csrf = csrf_of(&t, &cookie).await;
    let r = t
        .post_form(
            "/account/tokens",
            &cookie,
            &[
                ("csrf", &csrf),
                ("name", "<b>laptop</b>"),
                ("read", "1"),
                ("publish", "1"),
                ("expires_in", "30d"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.header("cache-control"), "no-store");
    let body = r.text();
    let start = body.find("id=\"new-token-value\">").unwrap() + "id=\"new-token-value\">".len();
    let token = &body[start..start + body[start..].find('<').unwrap()];
    assert!(token.starts_with("wharf_"));
    assert!(
        body.contains("laptop") && !body.contains("<b>laptop"),
        "user text is escaped: {body}"
    );
    let me = t
        .get(
            "/api/v1/whoami",
            &[("authorization", &format!("Bearer {token}"))],
        )
        .await;
    assert_eq!(me.json()["user"]["name"], "alice");
    assert_eq!(me.json()["scopes"], serde_json::json!(["read", "publish"]));

    let list = t
        .get("/account/tokens", &[("cookie", &cookie)])
        .await
        .text();
    assert!(!list.contains(token), "the token is never shown again");
    let id = t.app.ports.tokens.list_tokens(1).await.unwrap()[0].id;
    let r = t
        .post_form(
            &format!("/account/tokens/{id}/revoke"),
            &cookie,
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let me = t
        .get(
            "/api/v1/whoami",
            &[("authorization", &format!("Bearer {token}"))],
        )
        .await;
    me.assert_error(StatusCode::UNAUTHORIZED, "token_revoked", "revoked");
}

#[tokio::test]
async fn the_web_form_makes_deploy_and_namespace_restricted_tokens() {
    let t = app_with_user("alice", false).await;
    let cookie = session_cookie(&t, "alice").await;
    let csrf = csrf_of(&t, &cookie).await;
    let create = |namespaces: &'static str| {
        let (t, cookie, csrf) = (&t, cookie.clone(), csrf.clone());
        async move {
            t.post_form(
                "/account/tokens",
                &cookie,
                &[
                    ("csrf", &csrf),
                    ("name", "runner"),
                    ("deploy", "1"),
                    ("namespaces", namespaces),
                    ("expires_in", "30d"),
                ],
            )
            .await
        }
    };
    let r = create(" com.acme/* , io.github.alice/weather ").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let body = r.text();
    let start = body.find("id=\"new-token-value\">").unwrap() + "id=\"new-token-value\">".len();
    let token = &body[start..start + body[start..].find('<').unwrap()];
    let me = t
        .get(
            "/api/v1/whoami",
            &[("authorization", &format!("Bearer {token}"))],
        )
        .await
        .json();
    assert_eq!(me["scopes"], serde_json::json!(["deploy"]));
    assert_eq!(
        me["namespaces"],
        serde_json::json!(["com.acme/*", "io.github.alice/weather"])
    );
    let list = t
        .get("/account/tokens", &[("cookie", &cookie)])
        .await
        .text();
    assert!(
        list.contains("com.acme/*, io.github.alice/weather"),
        "{list}"
    );
    let r = create("$(id)").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert!(r.text().contains("NAMESPACE/NAME"), "{}", r.text());
}

#[tokio::test]
async fn a_session_acts_with_the_users_own_rights() {
    let t = app_with_user("alice", false).await;
    add_user(&t, "bob", false).await;
    let bobs = t.token("bob", "read", &[]).await;
    let _ = bobs;
    let bob_token_id = t.app.ports.tokens.list_tokens(2).await.unwrap()[0].id;
    let cookie = session_cookie(&t, "alice").await;
    let csrf = csrf_of(&t, &cookie).await;
    let r = t
        .post_form(
            &format!("/account/tokens/{bob_token_id}/revoke"),
            &cookie,
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "another user's token looks missing"
    );
    assert!(t
        .app
        .ports
        .tokens
        .get_token(bob_token_id)
        .await
        .unwrap()
        .unwrap()
        .revoked_at
        .is_none());
    let r = t
        .post_form(
            "/account/tokens",
            &cookie,
            &[("csrf", &csrf), ("name", "x"), ("admin", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.text().contains("Only administrators"), "{}", r.text());
}

#[tokio::test]
async fn pages_that_need_a_login_send_the_browser_to_it_and_back() {
    let t = TestApp::new().await;
    let r = t.get("/device?user_code=BCDF-GHJK", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let location = r.header("location");
    assert_eq!(
        location,
        "/account/login?next=%2Fdevice%3Fuser_code%3DBCDF-GHJK"
    );
    assert_eq!(
        t.get(location, &[]).await.hidden_field("next"),
        "/device?user_code=BCDF-GHJK",
        "the login form carries the path back as it was"
    );
    let r = t.get("/account/login?next=//evil.example/", &[]).await;
    assert_eq!(
        r.hidden_field("next"),
        "/account/tokens",
        "no open redirect"
    );
}

/// Approves (`"approve"`) or denies (`"deny"`) a user code at `/device`.
async fn decide_device(
    t: &TestApp,
    cookie: &str,
    csrf: &str,
    user_code: &str,
    action: &str,
) -> common::TestResponse {
    t.post_form(
        "/device",
        cookie,
        &[("csrf", csrf), ("user_code", user_code), ("action", action)],
    )
    .await
}

async fn device_code(t: &TestApp, scope: Option<&str>) -> serde_json::Value {
    let mut fields = vec![("client_id", "wharf-cli")];
    if let Some(s) = scope {
        fields.push(("scope", s));
    }
    let r = t.post_form("/api/v1/auth/device/code", "", &fields).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.header("cache-control"), "no-store");
    r.json()
}

async fn poll(t: &TestApp, device_code: &str) -> common::TestResponse {
    t.post_form(
        "/api/v1/auth/device/token",
        "",
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", device_code),
        ],
    )
    .await
}

/// Lets the next poll through without `slow_down`.
async fn forget_last_poll(t: &TestApp, device_code: &str) {
    use sha2::Digest;
    let hash = hex::encode(sha2::Sha256::digest(device_code.as_bytes()));
    let r = t
        .app
        .ports
        .devices
        .find_device_by_code_hash(&hash)
        .await
        .unwrap()
        .unwrap();
    t.app
        .ports
        .devices
        .record_device_poll(r.id, wharf_core::Timestamp(0), r.interval_secs)
        .await
        .unwrap();
}

#[tokio::test]
async fn device_flow_from_code_to_token_then_the_code_is_spent() {
    let t = app_with_user("alice", false).await;
    let code = device_code(&t, None).await;
    let user_code = code["user_code"].as_str().unwrap();
    assert_eq!(user_code.len(), 9);
    assert_eq!(&user_code[4..5], "-");
    assert_eq!(code["interval"], 5);
    let expires = code["expires_in"].as_u64().unwrap();
    assert!((600..=900).contains(&expires));
    assert_eq!(code["verification_uri"], "http://127.0.0.1:8080/device");
    assert_eq!(
        code["verification_uri_complete"],
        format!("http://127.0.0.1:8080/device?user_code={user_code}")
    );
    let device = code["device_code"].as_str().unwrap();

    poll(&t, device).await.assert_error(
        StatusCode::BAD_REQUEST,
        "authorization_pending",
        "keep polling",
    );
    let fast = poll(&t, device).await;
    fast.assert_error(StatusCode::BAD_REQUEST, "slow_down", "wait 10 s");
    assert_eq!(fast.json()["error_description"], fast.json()["message"]);

    // Approve in the browser, typed in lower case and without the dash.
    let cookie = session_cookie(&t, "alice").await;
    let page = t
        .get(
            &format!("/device?user_code={user_code}"),
            &[("cookie", &cookie)],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("read,publish"), "{}", page.text());
    let csrf = page.hidden_field("csrf");
    let typed = user_code.replace('-', "").to_lowercase();
    let r = decide_device(&t, &cookie, "forged", &typed, "approve").await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "approval needs the CSRF token"
    );
    let r = decide_device(&t, &cookie, &csrf, &typed, "approve").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.text().contains("Device approved"));

    forget_last_poll(&t, device).await;
    let r = poll(&t, device).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let body = r.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "read publish");
    let token = body["access_token"].as_str().unwrap();
    let me = t
        .get(
            "/api/v1/whoami",
            &[("authorization", &format!("Bearer {token}"))],
        )
        .await;
    assert_eq!(me.json()["user"]["name"], "alice");
    assert_eq!(me.json()["token"]["name"], "wharf login");

    forget_last_poll(&t, device).await;
    poll(&t, device)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_grant", "used already");
    let actions: Vec<String> = t
        .app
        .ports
        .audit
        .recent(20)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(
        actions.contains(&"device.approve".to_owned()),
        "{actions:?}"
    );
}

#[tokio::test]
async fn denied_and_expired_device_codes_say_so() {
    let t = app_with_user("alice", false).await;
    let code = device_code(&t, Some("read")).await;
    let cookie = session_cookie(&t, "alice").await;
    let csrf = csrf_of(&t, &cookie).await;
    let r = decide_device(
        &t,
        &cookie,
        &csrf,
        code["user_code"].as_str().unwrap(),
        "deny",
    )
    .await;
    assert!(r.text().contains("Device denied"), "{}", r.text());
    poll(&t, code["device_code"].as_str().unwrap())
        .await
        .assert_error(StatusCode::BAD_REQUEST, "access_denied", "denied");

    // A request that expired: stored directly, as waiting ten minutes is not a test.
    use sha2::Digest;
    let now = wharf_core::Timestamp::now();
    let old = wharf_core::model::NewDeviceRequest {
        device_code_hash: hex::encode(sha2::Sha256::digest(b"old-device-code")),
        user_code: "BCDFGHJK".into(),
        requester: "test".into(),
        scopes: wharf_core::Scopes::parse("read").unwrap(),
        interval_secs: 5,
        created_at: wharf_core::Timestamp(now.micros() - 700_000_000),
        expires_at: wharf_core::Timestamp(now.micros() - 100_000_000),
    };
    let caps = wharf_core::model::DeviceCaps {
        total: 10,
        per_requester: 10,
    };
    assert_eq!(
        t.app
            .ports
            .devices
            .create_device_request(old, caps)
            .await
            .unwrap(),
        wharf_core::model::DeviceInsert::Created
    );
    poll(&t, "old-device-code").await.assert_error(
        StatusCode::BAD_REQUEST,
        "expired_token",
        "expired",
    );
    let page = t
        .get("/device?user_code=BCDF-GHJK", &[("cookie", &cookie)])
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(
        page.text().contains("no pending device login"),
        "{}",
        page.text()
    );
}

#[tokio::test]
async fn device_token_requests_with_bad_input_get_oauth_errors() {
    let t = TestApp::new().await;
    let r = t
        .post_form(
            "/api/v1/auth/device/token",
            "",
            &[("grant_type", "password"), ("device_code", "x")],
        )
        .await;
    r.assert_error(
        StatusCode::BAD_REQUEST,
        "unsupported_grant_type",
        "urn:ietf:params:oauth:grant-type:device_code",
    );
    poll(&t, "not-a-known-code").await.assert_error(
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "not known",
    );
    poll(&t, "")
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_grant", "not valid");
    let r = t
        .post_form("/api/v1/auth/device/code", "", &[("scope", "root")])
        .await;
    r.assert_error(StatusCode::BAD_REQUEST, "invalid_scope", "root");
}

#[tokio::test]
async fn only_an_admin_can_approve_an_admin_scoped_device_login() {
    let t = app_with_user("alice", false).await;
    let code = device_code(&t, Some("read admin")).await;
    let cookie = session_cookie(&t, "alice").await;
    let csrf = csrf_of(&t, &cookie).await;
    let r = decide_device(
        &t,
        &cookie,
        &csrf,
        code["user_code"].as_str().unwrap(),
        "approve",
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.text().contains("only an administrator"), "{}", r.text());
}

#[tokio::test]
async fn a_configured_public_url_names_the_verification_page() {
    let t =
        TestApp::with_config(|c| c.security.public_url = Some("https://wharf.example.com".into()))
            .await;
    let code = device_code(&t, None).await;
    assert_eq!(code["verification_uri"], "https://wharf.example.com/device");
}

#[tokio::test]
async fn administrators_release_and_reject_from_the_review_page() {
    let t = app_with_user("root", true).await;
    add_user(&t, "alice", false).await;
    let token = t.token("alice", "publish", &[]).await;
    let fixture = wharf_testkit::malicious::pth_import();
    let form = common::UploadForm::new("demo-pkg", "1.0", &fixture.filename, fixture.bytes.clone());
    assert_eq!(
        t.upload(Some(&token), &form).await.json()["status"],
        "quarantined"
    );
    let id = t
        .app
        .ports
        .files
        .find_file(&fixture.filename)
        .await
        .unwrap()
        .unwrap()
        .id;

    // Not for other users.
    let alice = session_cookie(&t, "alice").await;
    let page = t.get("/admin/review", &[("cookie", &alice)]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(!page.text().contains(&fixture.filename));

    let root = session_cookie(&t, "root").await;
    let page = t.get("/admin/review", &[("cookie", &root)]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    assert_eq!(page.header("cache-control"), "no-store");
    let html = page.text();
    assert!(
        html.contains(&fixture.filename) && html.contains("install.pth-import"),
        "{html}"
    );
    // The evidence is escaped, never markup.
    assert!(
        html.contains("import os; os.system(&#39;id &#62; /tmp/owned&#39;)"),
        "{html}"
    );
    let csrf = page.hidden_field("csrf");
    let action = format!("/admin/review/{id}");

    let forged = t
        .post_form(
            &action,
            &root,
            &[("csrf", "wrong"), ("reason", "x"), ("decision", "release")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let no_reason = t
        .post_form(
            &action,
            &root,
            &[("csrf", &csrf), ("reason", ""), ("decision", "release")],
        )
        .await;
    assert_eq!(no_reason.status, StatusCode::BAD_REQUEST);
    assert!(no_reason.text().contains("a reason is required"));
    let released = t
        .post_form(
            &action,
            &root,
            &[
                ("csrf", &csrf),
                ("reason", "site-wide hook we ship"),
                ("decision", "release"),
            ],
        )
        .await;
    assert_eq!(
        released.status,
        StatusCode::SEE_OTHER,
        "{}",
        released.text()
    );
    assert_eq!(
        t.app
            .ports
            .files
            .find_file(&fixture.filename)
            .await
            .unwrap()
            .unwrap()
            .status
            .as_str(),
        "published"
    );
    let again = t
        .post_form(
            &action,
            &root,
            &[("csrf", &csrf), ("reason", "x"), ("decision", "release")],
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(
        again.text().contains("is published and cannot be released"),
        "{}",
        again.text()
    );
    let events = t
        .app
        .ports
        .audit
        .query(&wharf_core::model::AuditFilter {
            action: Some("file.released".into()),
            limit: 5,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert!(events[0].detail.contains("site-wide hook we ship"));
    assert!(
        events[0].ip_hash.is_some(),
        "a web decision records the client's IP hash"
    );
}

/// Probe finding 5: after `wharf admin user set-password bob`, bob's old
/// cookie still worked. A password change ends every session, and
/// `logout_user` ends them on demand.
#[tokio::test]
async fn sessions_end_when_the_password_changes() {
    let t = app_with_user("bob", false).await;
    add_user(&t, "carol", false).await;
    let old = session_cookie(&t, "bob").await;
    let carols = session_cookie(&t, "carol").await;
    let ended = t
        .app
        .accounts
        .set_password("bob", "another long password".into())
        .await
        .unwrap();
    assert_eq!(ended, 1);
    let page = t.get("/account/tokens", &[("cookie", &old)]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "the old cookie is dead");
    assert!(page.header("location").starts_with("/account/login"));
    let page = t.get("/account/tokens", &[("cookie", &carols)]).await;
    assert_eq!(page.status, StatusCode::OK, "other users stay logged in");

    assert_eq!(t.app.accounts.logout_user("carol").await.unwrap(), 1);
    let page = t.get("/account/tokens", &[("cookie", &carols)]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let unknown = t.app.accounts.logout_user("nobody").await;
    assert!(
        unknown
            .unwrap_err()
            .to_string()
            .contains("no user named 'nobody'"),
        "a clear error for an unknown user"
    );
}

/// Probe finding 10: a failed login with the user name
/// `alice-password-123` was audited as `user:alice-password-123`. Only an
/// existing user's name is recorded.
#[tokio::test]
async fn a_password_typed_as_the_user_name_is_never_stored() {
    let t = app_with_user("alice", false).await;
    for typed in ["alice-password-123", "hunter2 with spaces!", "alice"] {
        let r = login(&t, typed, "not the password at all").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let failed: Vec<String> = t
        .app
        .ports
        .audit
        .recent(10)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "login.failed")
        .map(|e| e.target)
        .collect();
    assert_eq!(failed.len(), 3);
    assert_eq!(
        failed.iter().filter(|t| *t == "user:(unknown)").count(),
        2,
        "{failed:?}"
    );
    assert!(failed.contains(&"user:alice".to_owned()), "{failed:?}");
    assert!(
        !failed
            .iter()
            .any(|t| t.contains("password") || t.contains("hunter2")),
        "{failed:?}"
    );
}

/// Probe finding 11: creating tokens had no rate limit and no cap, and
/// restriction lists were unbounded (5,000 projects were accepted).
#[tokio::test]
async fn token_creation_is_limited_capped_and_bounded() {
    let t = TestApp::with_config(|c| {
        c.rate_limits.token_create =
            wharf_core::ratelimit::RatePolicy::parse("token_create", "2/h").unwrap();
    })
    .await;
    add_user(&t, "alice", false).await;
    let cookie = session_cookie(&t, "alice").await;
    let csrf = csrf_of(&t, &cookie).await;
    let create = |projects: String| {
        let (t, cookie, csrf) = (&t, cookie.clone(), csrf.clone());
        async move {
            t.post_form(
                "/account/tokens",
                &cookie,
                &[
                    ("csrf", &csrf),
                    ("name", "ci"),
                    ("publish", "1"),
                    ("projects", &projects),
                ],
            )
            .await
        }
    };
    let many: Vec<String> = (0..101).map(|i| format!("p{i}")).collect();
    let r = create(many.join(",")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert!(r.text().contains("at most 100 projects"), "{}", r.text());
    assert_eq!(create("alpha".into()).await.status, StatusCode::OK);
    let r = create("alpha".into()).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text());
    assert!(
        r.text().contains("too many token_create requests"),
        "{}",
        r.text()
    );

    // Namespace lists and live tokens are bounded wherever tokens are made.
    let globs: Vec<String> = (0..33).map(|i| format!("com.acme/t{i}*")).collect();
    let request = accounts::TokenRequest {
        user: "alice",
        label: "many globs",
        scopes: "publish",
        projects: &[],
        namespaces: &globs,
        expires_in: None,
        ip_hash: None,
    };
    let e = t.app.accounts.create_token(request).await.unwrap_err();
    assert!(e.to_string().contains("at most 32 namespace globs"), "{e}");
    let alice = t
        .app
        .ports
        .users
        .find_user_by_name("alice")
        .await
        .unwrap()
        .unwrap();
    let live = t
        .app
        .ports
        .tokens
        .list_tokens(alice.id)
        .await
        .unwrap()
        .len();
    for _ in live..accounts::MAX_LIVE_TOKENS {
        t.token("alice", "read", &[]).await;
    }
    let request = accounts::TokenRequest {
        user: "alice",
        label: "one too many",
        scopes: "read",
        projects: &[],
        namespaces: &[],
        expires_in: None,
        ip_hash: None,
    };
    let e = t.app.accounts.create_token(request).await.unwrap_err();
    assert!(e.to_string().contains("100 live tokens"), "{e}");
}

/// Probe finding 11: guessing user codes at `/device` met only the global
/// limit. Lookups have their own, per IP and per user.
#[tokio::test]
async fn device_user_code_guessing_is_rate_limited() {
    let t = TestApp::with_config(|c| {
        c.rate_limits.device_verify =
            wharf_core::ratelimit::RatePolicy::parse("device_verify", "3/min").unwrap();
    })
    .await;
    add_user(&t, "alice", false).await;
    let cookie = session_cookie(&t, "alice").await;
    for code in ["BCDF-GHJK", "BCDF-GHJL"] {
        let r = t
            .get(&format!("/device?user_code={code}"), &[("cookie", &cookie)])
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    }
    let csrf = csrf_of(&t, &cookie).await;
    let r = decide_device(&t, &cookie, &csrf, "BCDF-GHJM", "approve").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    let r = t
        .get("/device?user_code=BCDF-GHJN", &[("cookie", &cookie)])
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text());
    assert!(
        r.text().contains("too many device_verify requests"),
        "{}",
        r.text()
    );
    let r = decide_device(&t, &cookie, &csrf, "BCDF-GHJP", "approve").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    // The page without a code is not a guess.
    let r = t.get("/device", &[("cookie", &cookie)]).await;
    assert_eq!(r.status, StatusCode::OK);
}

/// Probe finding 8: one IPv6 /64 could fill the device-code store (10,000),
/// after which everyone got a 503. Pending codes are capped per client,
/// and an IPv6 client is its /64.
#[tokio::test]
async fn one_ipv6_slash_64_cannot_fill_the_device_code_store() {
    let t = TestApp::with_config(|c| {
        c.rate_limits.device =
            wharf_core::ratelimit::RatePolicy::parse("device", "100/min").unwrap();
        c.security.device_code_cap_per_client = 3;
    })
    .await;
    let ask = |peer: &'static str| {
        let t = &t;
        async move {
            let request = axum::http::Request::post("/api/v1/auth/device/code")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(axum::body::Body::from("scope=read"))
                .unwrap();
            t.send_from(peer, request).await
        }
    };
    for peer in [
        "[2001:db8:1:2::1]:4000",
        "[2001:db8:1:2::2]:4000",
        "[2001:db8:1:2:ffff::9]:4000",
    ] {
        assert_eq!(ask(peer).await.status, StatusCode::OK, "{peer}");
    }
    let r = ask("[2001:db8:1:2::77]:4000").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text());
    assert_eq!(r.json()["error"], "slow_down");
    assert!(
        r.json()["error_description"]
            .as_str()
            .unwrap()
            .contains("pending from your network"),
        "{}",
        r.text()
    );
    assert_eq!(
        ask("[2001:db8:1:3::1]:4000").await.status,
        StatusCode::OK,
        "another /64 is another client"
    );
    assert_eq!(ask("203.0.113.7:4000").await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_root_page_says_what_wharf_is_and_links_onward() {
    let t =
        TestApp::with_config(|c| c.security.public_url = Some("https://wharf.example.com".into()))
            .await;
    let r = t.get("/", &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.header("content-type"), "text/html; charset=utf-8");
    assert_eq!(r.header("cache-control"), "no-store");
    assert!(r
        .header("content-security-policy")
        .contains("default-src 'none'"));
    assert_eq!(r.header("x-frame-options"), "DENY");
    let page = r.text();
    assert!(
        page.contains("Python packages and MCP servers") && page.contains("verified"),
        "{page}"
    );
    for link in [
        "href=\"/account/login\"",
        "href=\"/account/tokens\"",
        "href=\"/simple/\"",
        "href=\"/v0/servers\"",
        "href=\"/static/wharf.css\"",
    ] {
        assert!(page.contains(link), "{link} missing: {page}");
    }
    assert!(
        page.contains("pip install --index-url https://wharf.example.com/simple/ NAME"),
        "{page}"
    );
    assert!(
        page.contains("twine upload --repository-url https://wharf.example.com/legacy/"),
        "{page}"
    );

    // HEAD answers like GET, without the body.
    let head = t
        .send(
            axum::http::Request::head("/")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.body.is_empty());

    // Without a configured URL, the page names the host the browser used.
    let plain = TestApp::new().await;
    let page = plain
        .get("/", &[("host", "wharf.internal:8080")])
        .await
        .text();
    assert!(
        page.contains("--index-url http://wharf.internal:8080/simple/ NAME"),
        "{page}"
    );

    // `POST /` is still twine's upload, with its body limit; other methods are refused.
    let token = t.token("alice", "publish", &[]).await;
    let wheel = wharf_testkit::WheelBuilder::new("demo-pkg", "1.0")
        .file("demo_pkg/__init__.py", "VALUE = 1\n");
    let form = common::UploadForm::wheel(&wheel, "demo-pkg", "1.0");
    let upload = |length: Option<u64>| {
        let mut req = axum::http::Request::post("/")
            .header("content-type", form.content_type())
            .header("authorization", common::basic(&token));
        if let Some(length) = length {
            req = req.header("content-length", length.to_string());
        }
        req.body(axum::body::Body::from(form.body())).unwrap()
    };
    let r = t.send(upload(None)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["status"], "published");
    t.send(upload(Some(1 << 40))).await.assert_error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "file_too_large",
        "upload limit",
    );
    let put = t
        .send(
            axum::http::Request::put("/")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(put.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn a_hostile_host_header_never_reaches_the_root_page() {
    let hostile = "evil.example\"><script>alert(1)</script>";
    let t = TestApp::new().await;
    let r = t.get("/", &[("host", hostile)]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let page = r.text();
    assert!(
        !page.contains("<script") && !page.contains("evil.example"),
        "{page}"
    );
    // A Host that is not a host name falls back to the listen address.
    let fallback = format!("--index-url http://{}/simple/ NAME", t.app.config.listen);
    assert!(page.contains(&fallback), "{page}");

    // With a configured public URL, even a well-formed Host is ignored.
    let t =
        TestApp::with_config(|c| c.security.public_url = Some("https://wharf.example.com".into()))
            .await;
    let page = t.get("/", &[("host", "evil.example")]).await.text();
    assert!(!page.contains("evil.example"), "{page}");
    assert!(
        page.contains("--index-url https://wharf.example.com/simple/ NAME"),
        "{page}"
    );
}

/// A user store whose look-ups by name find no one: the user vanished
/// between the session's look-up and the request's work.
struct VanishedUsers(Arc<dyn UserRepo>);

#[async_trait::async_trait]
impl UserRepo for VanishedUsers {
    async fn create_user(&self, name: &str, is_admin: bool) -> Result<User, RepoError> {
        self.0.create_user(name, is_admin).await
    }
    async fn find_user_by_name(&self, _name: &str) -> Result<Option<User>, RepoError> {
        Ok(None)
    }
    async fn get_user(&self, id: i64) -> Result<Option<User>, RepoError> {
        self.0.get_user(id).await
    }
    async fn set_password_hash(
        &self,
        user_id: i64,
        hash: Option<&str>,
        audit: NewAuditEvent,
    ) -> Result<u64, RepoError> {
        self.0.set_password_hash(user_id, hash, audit).await
    }
    async fn find_login(&self, name: &str) -> Result<Option<(User, Option<String>)>, RepoError> {
        self.0.find_login(name).await
    }
}

/// A live session whose user cannot be found is an inconsistency of ours:
/// a 500 with a request ID, not a 400 "invalid_request".
#[tokio::test]
async fn a_user_missing_behind_a_live_session_is_an_internal_error() {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let t = app_with_user("alice", false).await;
    let cookie = session_cookie(&t, "alice").await;
    let csrf = csrf_of(&t, &cookie).await;
    let ports = Ports {
        users: Arc::new(VanishedUsers(t.app.ports.users.clone())),
        ..t.app.ports.clone()
    };
    let app = App::from_parts(
        t.app.config.clone(),
        t.app.db.clone(),
        ports,
        t.app.limiter.clone(),
    )
    .unwrap();
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([("csrf", csrf.as_str()), ("name", "ci"), ("read", "on")])
        .finish();
    let request = axum::http::Request::post("/account/tokens")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", &cookie)
        .body(axum::body::Body::from(body))
        .unwrap();
    let response = wharf_server::router(app).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let page = response.into_body().collect().await.unwrap().to_bytes();
    let page = String::from_utf8_lossy(&page);
    assert!(page.contains("request ID"), "{page}");
    assert!(!page.contains("no user named"), "{page}");
}
