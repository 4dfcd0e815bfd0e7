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
    common::serve_on_loopback(axum::Router::new().route("/npm/{name}/{version}", get(npm))).await
}

/// An app whose catalog holds io.github.alice/weather 1.2.0 (npm weather-npm@1.2.3)
/// declaring four variables and two arguments; returns it and a token.
async fn deployable() -> (TestApp, String) {
    deployable_with(|_| {}).await
}

async fn deployable_with(
    tweak: impl FnOnce(&mut wharf_server::config::Config),
) -> (TestApp, String) {
    let addr = start_upstream().await;
    let t = TestApp::with_config(|c| {
        c.upstream.npm_url = Some(format!("http://{addr}/npm"));
        c.upstream.timeout = Duration::from_millis(500);
        tweak(c);
    })
    .await;
    let alice = t.token("alice", "read,publish", &[]).await;
    t.grant_namespace("alice", "io.github.alice/*").await;
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

/// With the npm proxy on, every npm package installs through this registry.
#[tokio::test]
async fn with_the_npm_proxy_an_upstream_package_installs_through_wharf() {
    let (t, token) = deployable_with(|c| {
        c.proxy_npm = Some(wharf_server::config::proxy::ProxySettings::new(
            "http://127.0.0.1:9/".into(),
        ));
    })
    .await;
    let r = validate(&t, &token, &good_request()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let argv = r.json()["plan"]["argv"].clone();
    assert_eq!(argv[0], "npx");
    assert_eq!(argv[1], "--registry");
    assert!(argv[2].as_str().unwrap().ends_with("/npm/"), "{argv}");
    assert_eq!(argv[4], "weather-npm@1.2.3");
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

#[tokio::test]
async fn a_direct_reference_named_like_a_popular_package_is_refused() {
    let (t, token) = deployable().await;
    for (registry, typo, popular) in [
        ("npm", "expresss", "'express'"),
        ("npm", "crossenv", "'cross-env'"),
        ("pypi", "reqeusts", "'requests'"),
    ] {
        let body = json!({
            "package": { "registryType": registry, "identifier": typo, "version": "1.0.0" },
            "environmentVariables": [{ "name": "API_KEY", "isRequired": true, "isSecret": true }],
            "credentials": { "API_KEY": SECRET }
        });
        let r = validate(&t, &token, &body).await;
        r.assert_error(StatusCode::BAD_REQUEST, "validation_failed", "");
        assert!(
            has(&r, "package.identifier", "suspected_typosquat"),
            "{typo}: {:?}",
            errors(&r)
        );
        let message = r.json()["details"]["errors"][0]["message"].to_string();
        assert!(message.contains(popular), "{message}");
        assert!(message.contains(&format!("{registry}:{typo}")), "{message}");
        assert!(!r.text().contains(SECRET));
        let r = create(&t, &token, &body).await;
        assert!(has(&r, "package.identifier", "suspected_typosquat"));
    }
    let stored = t.app.ports.deployments.secrets_by_key().await.unwrap();
    assert!(stored.is_empty(), "a refused deployment stores nothing");
}

async fn create(t: &TestApp, token: &str, body: &Value) -> common::TestResponse {
    t.post_json("/api/v1/deployments", Some(token), &body.to_string())
        .await
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[tokio::test]
async fn created_deployments_show_names_never_values_and_only_to_their_owner() {
    let (t, alice) = deployable().await;
    let r = create(&t, &alice, &good_request()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert!(!r.text().contains(SECRET));
    let id = r.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(r.json()["plan"]["argv"][2], "weather-npm@1.2.3");
    let path = format!("/api/v1/deployments/{id}");
    let got = t.get(&path, &[("authorization", &bearer(&alice))]).await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text());
    let body = got.json();
    let names: Vec<&str> = body["variables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["API_URL", "GITHUB_TOKEN", "LOG_LEVEL"],
        "the default LOG_LEVEL is stored too"
    );
    assert!(!got.text().contains(SECRET));
    let bob = t.token("bob", "read,publish", &[]).await;
    got_not_found(&t, &path, &bob).await;
    t.app.accounts.create_user("root", true).await.unwrap();
    let root = t.token("root", "admin", &[]).await;
    assert_eq!(
        t.get(&path, &[("authorization", &bearer(&root))])
            .await
            .status,
        StatusCode::OK
    );

    // The plan without secrets for the owner; with them only for a runner.
    let plan = t
        .get(
            &format!("{path}/plan"),
            &[("authorization", &bearer(&alice))],
        )
        .await;
    assert_eq!(plan.status, StatusCode::OK);
    assert!(plan.json().get("envValues").is_none());
    let refused = t
        .get(
            &format!("{path}/plan?include=secrets"),
            &[("authorization", &bearer(&alice))],
        )
        .await;
    refused.assert_error(StatusCode::FORBIDDEN, "insufficient_scope", "deploy");
    let runner = t.token("alice", "deploy", &[]).await;
    let full = t
        .get(
            &format!("{path}/plan?include=secrets"),
            &[("authorization", &bearer(&runner))],
        )
        .await;
    assert_eq!(full.status, StatusCode::OK, "{}", full.text());
    assert_eq!(full.header("cache-control"), "no-store");
    let values = full.json()["envValues"].clone();
    assert_eq!(values["GITHUB_TOKEN"], SECRET);
    assert_eq!(values["LOG_LEVEL"], "info");
    let keys: Vec<String> = values.as_object().unwrap().keys().cloned().collect();
    let declared: Vec<String> = full.json()["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert!(
        keys.iter().all(|k| declared.contains(k)),
        "only declared names: {keys:?}"
    );
    let bob_runner = t.token("bob", "deploy", &[]).await;
    got_not_found(&t, &format!("{path}/plan?include=secrets"), &bob_runner).await;
    let audit = t
        .get(
            "/api/v1/admin/audit?action=deployment.secrets_read",
            &[("authorization", &bearer(&root))],
        )
        .await;
    assert_eq!(audit.json()["events"].as_array().unwrap().len(), 1);
    assert!(
        !audit.text().contains(SECRET),
        "the audit log never holds a value"
    );

    // Delete destroys the ciphertexts.
    let gone = t
        .send(
            axum::http::Request::delete(&path)
                .header("authorization", bearer(&alice))
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    got_not_found(&t, &path, &alice).await;
    assert!(t
        .app
        .ports
        .deployments
        .deployment_secrets(&id)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn listing_shows_each_caller_their_own_deployments_in_pages() {
    let (t, alice) = deployable().await;
    let bob = t.token("bob", "read,publish", &[]).await;
    for _ in 0..3 {
        assert_eq!(
            create(&t, &alice, &good_request()).await.status,
            StatusCode::CREATED
        );
    }
    assert_eq!(
        create(&t, &bob, &good_request()).await.status,
        StatusCode::CREATED
    );
    let list = |token: String, query: &'static str| {
        let t = &t;
        async move {
            t.get(
                &format!("/api/v1/deployments{query}"),
                &[("authorization", &bearer(&token))],
            )
            .await
        }
    };
    let first = list(alice.clone(), "?limit=2").await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text());
    let body = first.json();
    assert_eq!(body["deployments"].as_array().unwrap().len(), 2);
    assert!(body["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["owner"] == "alice" && d["variables"].as_array().is_some()));
    assert!(!first.text().contains(SECRET));
    let cursor = body["nextCursor"].as_str().unwrap().to_owned();
    let second = t
        .get(
            &format!("/api/v1/deployments?limit=2&cursor={cursor}"),
            &[("authorization", &bearer(&alice))],
        )
        .await;
    let second = second.json();
    assert_eq!(second["deployments"].as_array().unwrap().len(), 1);
    assert!(second["nextCursor"].is_null());
    let ids: std::collections::HashSet<String> = body["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["deployments"].as_array().unwrap())
        .map(|d| d["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 3, "the pages neither repeat nor skip");

    let theirs = list(bob.clone(), "").await.json();
    assert_eq!(theirs["deployments"].as_array().unwrap().len(), 1);
    assert_eq!(theirs["deployments"][0]["owner"], "bob");
    t.app.accounts.create_user("root", true).await.unwrap();
    let root = t.token("root", "admin", &[]).await;
    let everyone = list(root, "?limit=100").await.json();
    assert_eq!(everyone["deployments"].as_array().unwrap().len(), 4);

    for (query, fragment) in [
        ("?limit=0", "limit must be a whole number from 1 to 100"),
        ("?limit=101", "limit must be a whole number from 1 to 100"),
        ("?limit=ten", "limit must be a whole number"),
        ("?cursor=abc", "cursor is not one this API returned"),
        ("?cursor=12.not-hex", "cursor is not one this API returned"),
        ("?owner=bob", "unknown field"),
    ] {
        list(alice.clone(), query).await.assert_error(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            fragment,
        );
    }
    let anonymous = t.get("/api/v1/deployments", &[]).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

async fn got_not_found(t: &TestApp, path: &str, token: &str) {
    t.get(path, &[("authorization", &bearer(token))])
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found", "no deployment");
}

#[tokio::test]
async fn no_plaintext_secret_is_stored_anywhere_in_the_database() {
    let (t, alice) = deployable().await;
    assert_eq!(
        create(&t, &alice, &good_request()).await.status,
        StatusCode::CREATED
    );
    if t.app.config.is_embedded_database() {
        let dir = t.app.config.data_dir.clone();
        let mut bytes = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("wharf.db")
            {
                bytes.extend(std::fs::read(&path).unwrap());
            }
        }
        assert!(bytes.len() > 10_000, "read the database and its WAL");
        assert!(
            !bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
            "plaintext in the database file"
        );
        assert!(
            bytes.windows(11).any(|w| w == b"weather-npm"),
            "the search itself finds stored text"
        );
    }
    // On either backend: what the repository returns holds no plaintext.
    let id = t.app.ports.deployments.secrets_by_key().await.unwrap();
    assert_eq!(id.len(), 1, "one master key");
    let audit = t
        .app
        .ports
        .audit
        .query(&wharf_core::model::AuditFilter {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(audit.iter().all(|e| !e.detail.contains(SECRET)));
}

#[tokio::test]
async fn swapped_ciphertexts_fail_to_decrypt() {
    use wharf_core::model::{NewDeployment, StoredSecret};
    let (t, alice) = deployable().await;
    let first = create(&t, &alice, &good_request()).await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let secrets = t
        .app
        .ports
        .deployments
        .deployment_secrets(&first)
        .await
        .unwrap();
    let token = secrets
        .iter()
        .find(|s| s.name == "GITHUB_TOKEN")
        .unwrap()
        .clone();
    let url = secrets
        .iter()
        .find(|s| s.name == "API_URL")
        .unwrap()
        .clone();
    let user = t
        .app
        .ports
        .users
        .find_user_by_name("alice")
        .await
        .unwrap()
        .unwrap();
    let plan = t
        .app
        .ports
        .deployments
        .deployment(&first)
        .await
        .unwrap()
        .unwrap()
        .plan;
    // A second deployment whose rows carry the first one's ciphertexts, and
    // whose two variables swapped theirs.
    let moved = |name: &str, from: &StoredSecret| StoredSecret {
        deployment_id: "other".into(),
        name: name.into(),
        ..from.clone()
    };
    t.app
        .ports
        .deployments
        .create_deployment(NewDeployment {
            id: "other".into(),
            owner_user_id: user.id,
            server_name: None,
            server_version: None,
            registry_type: "npm".into(),
            identifier: "weather-npm".into(),
            version: "1.2.3".into(),
            plan,
            tools_hash: None,
            secrets: vec![moved("GITHUB_TOKEN", &token), moved("API_URL", &url)],
            created_at: wharf_core::Timestamp::now(),
            audit: wharf_core::model::NewAuditEvent::new("test", "x"),
        })
        .await
        .unwrap();
    let runner = t.token("alice", "deploy", &[]).await;
    let r = t
        .get(
            "/api/v1/deployments/other/plan?include=secrets",
            &[("authorization", &bearer(&runner))],
        )
        .await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", r.text());
    assert!(!r.text().contains(SECRET));
    // Within one deployment, swapping two variables' ciphertexts fails too.
    let vault = &t.app.vault;
    let sealed = |s: &StoredSecret| wharf_vault::Sealed {
        key_id: s.key_id.clone(),
        wrapped_key: s.wrapped_key.clone(),
        ciphertext: s.ciphertext.clone(),
    };
    assert!(wharf_vault::open(
        vault,
        wharf_vault::Binding::new(&first, "API_URL"),
        &sealed(&token)
    )
    .is_err());
    assert!(wharf_vault::open(
        vault,
        wharf_vault::Binding::new(&first, "GITHUB_TOKEN"),
        &sealed(&token)
    )
    .is_ok());
}

#[tokio::test]
async fn rotate_key_rewraps_everything_and_the_old_key_opens_nothing() {
    let (t, alice) = deployable().await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(
            create(&t, &alice, &good_request()).await.json()["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let new_key = wharf_vault::MasterKey::generate();
    let done = t
        .app
        .deployments
        .rotate(&t.app.vault, &new_key)
        .await
        .unwrap();
    assert_eq!(done.rewrapped, 9, "three variables in three deployments");
    let again = t
        .app
        .deployments
        .rotate(&t.app.vault, &new_key)
        .await
        .unwrap();
    assert_eq!(
        again.rewrapped, 0,
        "a second run finds nothing left: resumable"
    );
    assert_eq!(
        t.app.ports.deployments.secrets_by_key().await.unwrap(),
        [(new_key.id().to_owned(), 9)]
    );
    for id in &ids {
        for s in t
            .app
            .ports
            .deployments
            .deployment_secrets(id)
            .await
            .unwrap()
        {
            let sealed = wharf_vault::Sealed {
                key_id: s.key_id.clone(),
                wrapped_key: s.wrapped_key.clone(),
                ciphertext: s.ciphertext.clone(),
            };
            let binding = wharf_vault::Binding::new(id, &s.name);
            assert!(
                wharf_vault::open(&t.app.vault, binding, &sealed).is_err(),
                "the old key opens nothing"
            );
            assert!(
                wharf_vault::open(&new_key, binding, &sealed).is_ok(),
                "the new key opens everything"
            );
        }
    }
}

#[tokio::test]
async fn an_upstream_outage_during_create_stores_nothing() {
    let (t, alice) = deployable().await;
    let r = create(
        &t,
        &alice,
        &json!({ "package": { "registryType": "npm", "identifier": "down", "version": "1.0.0" },
        "environmentVariables": [{ "name": "TOKEN" }], "credentials": { "TOKEN": SECRET } }),
    )
    .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text());
    assert!(
        t.app
            .ports
            .deployments
            .secrets_by_key()
            .await
            .unwrap()
            .is_empty(),
        "nothing stored"
    );
    let r = create(
        &t,
        &alice,
        &json!({ "server": "io.github.alice/weather", "credentials": {} }),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        t.app
            .ports
            .deployments
            .secrets_by_key()
            .await
            .unwrap()
            .is_empty(),
        "nothing stored"
    );
}

async fn delete_deployment(t: &TestApp, path: &str, token: &str) -> common::TestResponse {
    t.send(
        axum::http::Request::delete(path)
            .header("authorization", bearer(token))
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await
}

/// Probe finding 2: a `read` token created (201) and deleted (204)
/// deployments. Managing needs `deploy` or `publish`; reading needs `read`
/// or `deploy`.
#[tokio::test]
async fn deployments_ignore_token_scopes_no_more() {
    let (t, alice) = deployable().await;
    let reader = t.token("alice", "read", &[]).await;
    for r in [
        create(&t, &reader, &good_request()).await,
        validate(&t, &reader, &good_request()).await,
    ] {
        r.assert_error(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            "needs a token with the 'deploy' or 'publish' scope",
        );
    }
    let r = create(&t, &alice, &good_request()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let path = format!("/api/v1/deployments/{}", r.json()["id"].as_str().unwrap());
    let got = t.get(&path, &[("authorization", &bearer(&reader))]).await;
    assert_eq!(got.status, StatusCode::OK, "a read token reads");
    delete_deployment(&t, &path, &reader).await.assert_error(
        StatusCode::FORBIDDEN,
        "insufficient_scope",
        "deleting a deployment needs",
    );
    let publisher = t.token("alice", "publish", &[]).await;
    for read in [
        path.clone(),
        format!("{path}/plan"),
        "/api/v1/deployments".to_owned(),
    ] {
        t.get(&read, &[("authorization", &bearer(&publisher))])
            .await
            .assert_error(
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                "'read' or 'deploy' scope",
            );
    }
    let runner = t.token("alice", "deploy", &[]).await;
    let plan = t
        .get(
            &format!("{path}/plan?include=secrets"),
            &[("authorization", &bearer(&runner))],
        )
        .await;
    assert_eq!(plan.status, StatusCode::OK, "a runner reads its plan");
    assert_eq!(
        delete_deployment(&t, &path, &publisher).await.status,
        StatusCode::NO_CONTENT
    );
}

/// Probe finding 2: a token restricted to a project, or to namespaces that
/// do not cover the server, reached deployments (one read a credential in
/// plaintext). A restricted token reaches only what its lists name.
#[tokio::test]
async fn deployments_ignore_token_restrictions_no_more() {
    let (t, alice) = deployable().await;
    let r = create(&t, &alice, &good_request()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let path = format!("/api/v1/deployments/{}", r.json()["id"].as_str().unwrap());
    let secrets = format!("{path}/plan?include=secrets");

    let project_only = t
        .restricted_token("alice", "read,publish,deploy", &["alpha"], &[])
        .await;
    let other_namespace = t
        .restricted_token("alice", "read,publish,deploy", &[], &["io.github.alice/a*"])
        .await;
    for token in [&project_only, &other_namespace] {
        create(&t, token, &good_request()).await.assert_error(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            "does not cover the server 'io.github.alice/weather'",
        );
        for read in [&path, &secrets] {
            let r = t.get(read, &[("authorization", &bearer(token))]).await;
            r.assert_error(StatusCode::NOT_FOUND, "not_found", "no deployment");
            assert!(!r.text().contains(SECRET));
        }
        let listed = t
            .get("/api/v1/deployments", &[("authorization", &bearer(token))])
            .await;
        assert_eq!(listed.status, StatusCode::OK);
        assert!(listed.json()["deployments"].as_array().unwrap().is_empty());
        delete_deployment(&t, &path, token).await.assert_error(
            StatusCode::NOT_FOUND,
            "not_found",
            "no deployment",
        );
    }
    // A direct npm reference is named by no list.
    let direct = json!({
        "package": { "registryType": "npm", "identifier": "weather-npm", "version": "1.2.3" }
    });
    create(&t, &project_only, &direct).await.assert_error(
        StatusCode::FORBIDDEN,
        "insufficient_scope",
        "does not cover the npm package 'weather-npm'",
    );

    let covering = t
        .restricted_token("alice", "read,deploy", &[], &["io.github.alice/w*"])
        .await;
    let plan = t
        .get(&secrets, &[("authorization", &bearer(&covering))])
        .await;
    assert_eq!(plan.status, StatusCode::OK, "{}", plan.text());
    assert_eq!(plan.json()["envValues"]["GITHUB_TOKEN"], SECRET);
    let listed = t
        .get(
            "/api/v1/deployments",
            &[("authorization", &bearer(&covering))],
        )
        .await;
    assert_eq!(listed.json()["deployments"].as_array().unwrap().len(), 1);
}

/// Probe finding 9: Bob's quarantined `a1pha` made Alice's deployment of
/// her own hosted `alpha` a `suspected_typosquat`.
#[tokio::test]
async fn quarantined_look_alike_does_not_block_the_real_package() {
    let (t, alice) = deployable().await;
    let bob = t.token("bob", "publish", &[]).await;
    let look_alike = wharf_testkit::WheelBuilder::new("a1pha", "1.0")
        .file("a1pha-init.pth", "import os; os.system('id')\n");
    let r = t
        .upload(
            Some(&bob),
            &common::UploadForm::wheel(&look_alike, "a1pha", "1.0"),
        )
        .await;
    assert_eq!(r.json()["status"], "quarantined", "{}", r.text());
    let real = wharf_testkit::WheelBuilder::new("alpha", "1.0");
    let r = t
        .upload(
            Some(&alice),
            &common::UploadForm::wheel(&real, "alpha", "1.0"),
        )
        .await;
    assert_eq!(
        r.json()["status"],
        "published",
        "a held look-alike is no name to protect: {}",
        r.text()
    );
    let body = json!({
        "package": { "registryType": "pypi", "identifier": "alpha", "version": "1.0" }
    });
    let r = validate(&t, &alice, &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["plan"]["argv"][0], "uvx");
}

/// A launch plan installs a PyPI package from this registry's index alone,
/// never from the runner's default (public) one.
#[tokio::test]
async fn a_pypi_launch_plan_installs_from_this_registrys_index_only() {
    let t = common::TestApp::with_config(|c| {
        c.security.public_url = Some("https://wharf.example.com".into())
    })
    .await;
    t.user("alice").await;
    let alice = t.token("alice", "read,publish,deploy", &[]).await;
    let w = wharf_testkit::WheelBuilder::new("weather-tool", "1.0");
    let r = t
        .upload(
            Some(&alice),
            &common::UploadForm::wheel(&w, "weather-tool", "1.0"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let body = json!({
        "package": { "registryType": "pypi", "identifier": "weather-tool", "version": "1.0" }
    });
    let r = validate(&t, &alice, &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let plan = &r.json()["plan"];
    assert_eq!(
        plan["argv"],
        json!([
            "uvx",
            "--default-index",
            "https://wharf.example.com/simple/",
            "weather-tool==1.0"
        ])
    );
    let client = &plan["clientConfig"]["mcpServers"]["weather-tool"];
    assert_eq!(client["command"], "uvx");
    assert_eq!(client["args"][1], "https://wharf.example.com/simple/");
}

/// Every offline problem comes back at once: a bad identifier no longer
/// hides a missing required credential or a bad argument.
#[tokio::test]
async fn validation_reports_every_problem_at_once() {
    let (t, token) = deployable().await;
    let body = json!({
        "package": { "registryType": "npm", "identifier": "bad;name", "version": "latest" },
        "environmentVariables": [{ "name": "API_KEY", "isRequired": true, "isSecret": true }],
        "credentials": { "UNDECLARED": "x" }
    });
    let r = validate(&t, &token, &body).await;
    r.assert_error(StatusCode::BAD_REQUEST, "validation_failed", "problem");
    for (field, code) in [
        ("package.identifier", "unsafe_characters"),
        ("package.version", "version_not_pinned"),
        ("credentials.API_KEY", "missing_required"),
    ] {
        assert!(has(&r, field, code), "{field} {code}: {:?}", errors(&r));
    }
    assert!(
        errors(&r)
            .iter()
            .any(|(field, _)| field == "credentials.UNDECLARED"),
        "{:?}",
        errors(&r)
    );
}
