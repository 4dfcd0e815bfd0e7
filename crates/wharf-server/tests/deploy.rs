//! Deployment validation through the real router: every check before any
//! side effect, all problems at once, and a plan that is an argv array with
//! the version pinned and only the declared variables.

mod common;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use common::TestApp;
use serde_json::{json, Value};
use std::time::Duration;
use wharf_server::services::mcp::namespaces;

/// A stand-in npm upstream: one package with the marker, one that fails.
async fn start_upstream() -> std::net::SocketAddr {
    async fn npm(Path((name, version)): Path<(String, String)>) -> axum::response::Response {
        match name.as_str() {
            "weather-npm" => axum::Json(
                json!({ "name": name, "version": version, "mcpName": "io.github.alice/weather" }),
            )
            .into_response(),
            "down" => StatusCode::SERVICE_UNAVAILABLE.into_response(),
            _ => StatusCode::NOT_FOUND.into_response(),
        }
    }
    let router = axum::Router::new().route("/npm/{name}/{version}", get(npm));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

/// An app whose catalog holds io.github.alice/weather 1.2.0 (npm weather-npm@1.2.3)
/// declaring four variables and two arguments; returns it and a token.
async fn deployable() -> (TestApp, String) {
    let addr = start_upstream().await;
    let t = TestApp::with_config(|c| {
        c.upstream.npm_url = Some(format!("http://{addr}/npm"));
        c.upstream.timeout = Duration::from_millis(500);
    })
    .await;
    let alice = t.token("alice", "publish", &[]).await;
    let user = t
        .app
        .ports
        .users
        .find_user_by_name("alice")
        .await
        .unwrap()
        .unwrap();
    namespaces::grant(&t.app, "io.github.alice/*", &user)
        .await
        .unwrap();
    let server = json!({
        "name": "io.github.alice/weather",
        "description": "Weather for agents",
        "version": "1.2.0",
        "packages": [{
            "registryType": "npm", "identifier": "weather-npm", "version": "1.2.3",
            "transport": { "type": "stdio" },
            "packageArguments": [
                { "type": "named", "name": "--port", "format": "number", "default": "8080" },
                { "type": "positional", "valueHint": "workspace", "isRequired": true }
            ],
            "environmentVariables": [
                { "name": "GITHUB_TOKEN", "isRequired": true, "isSecret": true, "description": "a GitHub token" },
                { "name": "LOG_LEVEL", "choices": ["debug", "info"], "default": "info" },
                { "name": "API_URL" },
                { "name": "RETRIES", "format": "number" }
            ]
        }]
    });
    let r = t
        .post_json("/v0/publish", Some(&alice), &server.to_string())
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    (t, alice)
}

const SECRET: &str = "ghp_s3cr3tValueThatMustNeverBeEchoed";

fn good_request() -> Value {
    json!({
        "server": "io.github.alice/weather",
        "version": "latest",
        "credentials": { "GITHUB_TOKEN": SECRET, "API_URL": "https://api.example.com" },
        "arguments": { "workspace": "team-a", "--port": "9000" }
    })
}

async fn validate(t: &TestApp, token: &str, body: &Value) -> common::TestResponse {
    t.post_json(
        "/api/v1/deployments/validate",
        Some(token),
        &body.to_string(),
    )
    .await
}

fn errors(r: &common::TestResponse) -> Vec<(String, String)> {
    r.json()["details"]["errors"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_owned(),
                e["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn has(r: &common::TestResponse, field: &str, code: &str) -> bool {
    errors(r).iter().any(|(f, c)| f == field && c == code)
}

#[tokio::test]
async fn a_valid_request_gives_an_argv_plan_with_the_version_pinned() {
    let (t, token) = deployable().await;
    let r = validate(&t, &token, &good_request()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let body = r.json();
    assert_eq!(
        body["server"]["version"], "1.2.0",
        "latest resolved and recorded"
    );
    assert_eq!(body["package"]["version"], "1.2.3");
    let argv: Vec<&str> = body["plan"]["argv"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(
        argv,
        ["npx", "-y", "weather-npm@1.2.3", "--port", "9000", "team-a"]
    );
    assert_eq!(body["plan"]["runtime"], "npx");
    let config = &body["plan"]["clientConfig"]["mcpServers"]["weather"];
    assert_eq!(config["command"], "npx");
    assert_eq!(
        config["env"]["GITHUB_TOKEN"], "${GITHUB_TOKEN}",
        "secrets are placeholders"
    );
    assert!(
        !r.text().contains(SECRET),
        "a secret never appears in a response"
    );
}

#[tokio::test]
async fn catwalk_gap_credential_validation_is_actually_invoked() {
    let (t, token) = deployable().await;
    let mut request = good_request();
    request["credentials"] =
        json!({ "API_URL": "not a url", "RETRIES": "three", "LOG_LEVEL": "loud" });
    let r = validate(&t, &token, &request).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(r.json()["error"], "validation_failed");
    assert!(
        has(&r, "credentials.GITHUB_TOKEN", "missing_required"),
        "{:?}",
        errors(&r)
    );
    assert!(has(&r, "credentials.API_URL", "invalid_url"));
    assert!(has(&r, "credentials.RETRIES", "invalid_format"));
    assert!(has(&r, "credentials.LOG_LEVEL", "not_in_choices"));
    assert_eq!(
        errors(&r).len(),
        4,
        "all reported at once: {:?}",
        errors(&r)
    );
    let hint = r.json()["details"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["field"] == "credentials.GITHUB_TOKEN")
        .unwrap()["hint"]
        .clone();
    assert_eq!(hint, "a GitHub token");
    let mut request = good_request();
    request["credentials"]["GITHUB_TOKEN"] = json!("");
    assert!(has(
        &validate(&t, &token, &request).await,
        "credentials.GITHUB_TOKEN",
        "empty_value"
    ));
}

#[tokio::test]
async fn catwalk_gap_the_version_is_pinned_in_argv() {
    let (t, token) = deployable().await;
    let r = validate(&t, &token, &good_request()).await;
    let argv = r.json()["plan"]["argv"].clone();
    assert!(
        argv.as_array()
            .unwrap()
            .iter()
            .any(|a| a == "weather-npm@1.2.3"),
        "{argv}"
    );
    // A direct reference must name an exact version: `latest` is refused.
    let direct = json!({ "package": { "registryType": "npm", "identifier": "weather-npm", "version": "latest" } });
    assert!(has(
        &validate(&t, &token, &direct).await,
        "package.version",
        "version_not_pinned"
    ));
    let direct =
        json!({ "package": { "registryType": "pypi", "identifier": "tool", "version": "^1.0" } });
    assert!(
        has(
            &validate(&t, &token, &direct).await,
            "package.version",
            "invalid_version"
        ),
        "a range is not a pin"
    );
}

#[tokio::test]
async fn catwalk_gap_the_plan_env_holds_only_declared_names() {
    let (t, token) = deployable().await;
    let r = validate(&t, &token, &good_request()).await;
    let body = r.json();
    let env: Vec<&str> = body["plan"]["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert_eq!(env, ["GITHUB_TOKEN", "LOG_LEVEL", "API_URL", "RETRIES"]);
    let mut request = good_request();
    request["credentials"]["WHARF_MASTER_KEY"] = json!("x");
    request["credentials"]["PATH"] = json!("/tmp/evil");
    let r = validate(&t, &token, &request).await;
    assert!(
        has(&r, "credentials.WHARF_MASTER_KEY", "undeclared"),
        "{:?}",
        errors(&r)
    );
    assert!(has(&r, "credentials.PATH", "undeclared"));
}

#[tokio::test]
async fn injection_attempts_are_refused_with_specific_codes() {
    let (t, token) = deployable().await;
    let attacks = [
        "; rm -rf / #",
        "$(curl x)",
        "`id`",
        "a && b",
        "a\nb",
        "a\u{0}b",
    ];
    for attack in attacks {
        let direct = json!({ "package": { "registryType": "npm", "identifier": attack, "version": "1.0.0" } });
        let r = validate(&t, &token, &direct).await;
        assert!(
            has(&r, "package.identifier", "unsafe_characters"),
            "{attack:?}: {:?}",
            errors(&r)
        );
        let direct = json!({ "package": { "registryType": "npm", "identifier": "weather-npm", "version": attack } });
        let r = validate(&t, &token, &direct).await;
        assert!(
            has(&r, "package.version", "unsafe_characters"),
            "{attack:?}: {:?}",
            errors(&r)
        );
        let mut request = good_request();
        request["arguments"]["workspace"] = json!(attack);
        let r = validate(&t, &token, &request).await;
        assert!(
            has(&r, "arguments.workspace", "unsafe_value"),
            "{attack:?}: {:?}",
            errors(&r)
        );
        let mut request = good_request();
        request["credentials"][attack] = json!("x");
        let r = validate(&t, &token, &request).await;
        assert!(
            errors(&r).iter().any(|(_, c)| c == "invalid_name"),
            "{attack:?}: {:?}",
            errors(&r)
        );
    }
    // Option smuggling: a value that a program would read as a flag.
    let mut request = good_request();
    request["arguments"]["workspace"] = json!("--require=/tmp/x.js");
    assert!(has(
        &validate(&t, &token, &request).await,
        "arguments.workspace",
        "flag_value"
    ));
    let mut request = good_request();
    request["arguments"]["--inspect"] = json!("1");
    assert!(has(
        &validate(&t, &token, &request).await,
        "arguments.--inspect",
        "undeclared"
    ));
    let direct = json!({ "package": { "registryType": "npm", "identifier": "weather-npm", "version": "1.2.3" },
        "environmentVariables": [{ "name": "A;B" }] });
    assert!(has(
        &validate(&t, &token, &direct).await,
        "environmentVariables[0].name",
        "invalid_name"
    ));
}

#[tokio::test]
async fn several_errors_come_back_together_and_secrets_are_never_echoed() {
    let (t, token) = deployable().await;
    let request = json!({
        "server": "io.github.alice/weather",
        "credentials": { "GITHUB_TOKEN": format!("{SECRET}\u{0}"), "RETRIES": SECRET, "UNKNOWN": SECRET },
        "arguments": { "workspace": "--rf", "--port": "eighty" }
    });
    let r = validate(&t, &token, &request).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let found = errors(&r);
    for expected in [
        ("credentials.GITHUB_TOKEN", "invalid_value"),
        ("credentials.RETRIES", "invalid_format"),
        ("credentials.UNKNOWN", "undeclared"),
        ("arguments.workspace", "flag_value"),
        ("arguments.--port", "invalid_format"),
    ] {
        assert!(
            found
                .iter()
                .any(|(f, c)| f == expected.0 && c == expected.1),
            "no {expected:?} in {found:?}"
        );
    }
    assert!(!r.text().contains(SECRET), "{}", r.text());
}

#[tokio::test]
async fn unknown_servers_missing_packages_and_upstream_outages() {
    let (t, token) = deployable().await;
    let r = validate(&t, &token, &json!({ "server": "io.github.alice/none" })).await;
    assert!(has(&r, "server", "server_not_found"), "{:?}", errors(&r));
    let r = validate(
        &t,
        &token,
        &json!({ "server": "io.github.alice/weather", "version": "9.9.9" }),
    )
    .await;
    assert!(has(&r, "version", "server_not_found"));
    let r = validate(
        &t,
        &token,
        &json!({ "server": "io.github.alice/weather", "package": 3 }),
    )
    .await;
    assert!(has(&r, "package", "package_not_found"));
    let r = validate(&t, &token, &json!({ "package": { "registryType": "npm", "identifier": "nowhere", "version": "1.0.0" } })).await;
    assert!(has(&r, "package.version", "not_found"));
    let r = validate(&t, &token, &json!({ "package": { "registryType": "cargo", "identifier": "tool", "version": "1.0.0" } })).await;
    assert!(
        has(&r, "package.registryType", "unsupported_runtime"),
        "{:?}",
        errors(&r)
    );
    // An outage is retryable, and says nothing was stored.
    let r = validate(
        &t,
        &token,
        &json!({ "package": { "registryType": "npm", "identifier": "down", "version": "1.0.0" } }),
    )
    .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text());
    assert_eq!(r.json()["error"], "upstream_unavailable");
    assert_eq!(r.header("retry-after"), "30");
    let r = t
        .post_json("/api/v1/deployments/validate", Some(&token), "[1, 2]")
        .await;
    r.assert_error(StatusCode::BAD_REQUEST, "validation_failed", "problem");
    let r = t
        .post_json("/api/v1/deployments/validate", None, "{}")
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}
