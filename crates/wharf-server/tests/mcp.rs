//! The MCP catalog through the real router: publishing with package checks
//! against this registry and a stand-in upstream on 127.0.0.1, the read
//! API's envelopes, statuses, namespaces and co-publishers.

mod common;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use common::{TestApp, UploadForm};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use wharf_core::uri::encode_path_segment;
use wharf_server::services::accounts;
use wharf_testkit::WheelBuilder;

/// A stand-in for the npm and PyPI registries, counting what it is asked.
#[derive(Clone, Default)]
struct Upstream {
    requests: Arc<AtomicUsize>,
}

async fn npm(
    State(up): State<Upstream>,
    Path((name, version)): Path<(String, String)>,
) -> axum::response::Response {
    up.requests.fetch_add(1, Ordering::SeqCst);
    let doc = |mcp: Option<&str>| {
        let mut d = json!({ "name": name, "version": version });
        if let Some(m) = mcp {
            d["mcpName"] = json!(m);
        }
        axum::Json(d).into_response()
    };
    match name.as_str() {
        "weather-npm" if version == "1.2.3" => doc(Some("io.github.alice/weather")),
        "@acme/tool" if version == "2.0.0" => doc(Some("io.github.alice/acme-tool")),
        "expresss" => doc(Some("io.github.alice/express-tools")),
        "no-marker" => doc(None),
        "rate-limited" => StatusCode::TOO_MANY_REQUESTS.into_response(),
        "broken" => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        "slow" => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            doc(Some("io.github.alice/weather"))
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn pypi(
    State(up): State<Upstream>,
    Path((name, version)): Path<(String, String)>,
) -> axum::response::Response {
    up.requests.fetch_add(1, Ordering::SeqCst);
    match name.as_str() {
        "public-weather" => axum::Json(json!({ "info": {
            "name": name, "version": version,
            "description": "A server.\n\nmcp-name: io.github.alice/weather\n"
        }}))
        .into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn start_upstream() -> (SocketAddr, Upstream) {
    let state = Upstream::default();
    let router = axum::Router::new()
        .route("/npm/{name}/{version}", get(npm))
        .route("/pypi/{name}/{version}/json", get(pypi))
        .with_state(state.clone());
    (common::serve_on_loopback(router).await, state)
}

struct Catalog {
    t: TestApp,
    upstream: Upstream,
    alice: String,
}

/// An app with the stand-in upstream configured, and alice allowed to
/// publish under `io.github.alice/*`.
async fn catalog() -> Catalog {
    catalog_with(|_| {}).await
}

async fn catalog_with(tweak: impl FnOnce(&mut wharf_server::config::Config)) -> Catalog {
    let (addr, upstream) = start_upstream().await;
    let t = TestApp::with_config(|c| {
        c.upstream.npm_url = Some(format!("http://{addr}/npm"));
        c.upstream.pypi_url = Some(format!("http://{addr}/pypi"));
        c.upstream.timeout = Duration::from_millis(500);
        tweak(c);
    })
    .await;
    let alice = t.token("alice", "publish", &[]).await;
    t.grant_namespace("alice", "io.github.alice/*").await;
    Catalog { t, upstream, alice }
}

fn server(name: &str, version: &str, packages: Value) -> Value {
    json!({
        "name": name,
        "description": "Weather forecasts for your agent",
        "version": version,
        "packages": packages,
    })
}

fn pypi_package(identifier: &str, version: &str) -> Value {
    json!([{ "registryType": "pypi", "identifier": identifier, "version": version, "transport": { "type": "stdio" } }])
}

fn npm_package(identifier: &str, version: &str) -> Value {
    json!([{ "registryType": "npm", "identifier": identifier, "version": version, "transport": { "type": "stdio" } }])
}

async fn publish(t: &TestApp, token: &str, doc: &Value) -> common::TestResponse {
    t.post_json("/v0/publish", Some(token), &doc.to_string())
        .await
}

fn locations(r: &common::TestResponse) -> Vec<String> {
    r.json()["errors"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|e| e["location"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn assert_problem(r: &common::TestResponse, status: StatusCode, location: &str, fragment: &str) {
    assert_eq!(r.status, status, "{}", r.text());
    assert_eq!(r.header("content-type"), "application/problem+json");
    let body = r.json();
    assert_eq!(body["status"], status.as_u16());
    let errors = body["errors"].as_array().cloned().unwrap_or_default();
    let hit = errors.iter().any(|e| {
        e["location"] == location && e["message"].as_str().unwrap_or_default().contains(fragment)
    }) || (location.is_empty()
        && body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains(fragment));
    assert!(
        hit,
        "no problem at '{location}' containing '{fragment}': {body}"
    );
}

async fn upload_wheel(t: &TestApp, token: &str, name: &str, description: &str) {
    let wheel = WheelBuilder::new(name, "1.0").description(description);
    let r = t
        .upload(Some(token), &UploadForm::wheel(&wheel, name, "1.0"))
        .await;
    assert_eq!(r.json()["status"], "published", "{}", r.text());
}

#[tokio::test]
async fn a_server_whose_pypi_package_is_hosted_here_publishes_and_reads_back() {
    let c = catalog().await;
    upload_wheel(&c.t, &c.alice, "weather-mcp", "A weather server.").await;
    let doc = server(
        "io.github.alice/weather",
        "1.0.0",
        pypi_package("weather-mcp", "1.0"),
    );
    let r = publish(&c.t, &c.alice, &doc).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let body = r.json();
    assert_eq!(body["server"]["name"], "io.github.alice/weather");
    let official = &body["_meta"]["io.modelcontextprotocol.registry/official"];
    assert_eq!(
        (official["status"].as_str(), official["isLatest"].as_bool()),
        (Some("active"), Some(true))
    );
    let ours = &body["_meta"]["io.wharf/verification"];
    assert_eq!(ours["status"], "verified");
    assert_eq!(ours["packages"][0]["source"], "wharf");
    assert_eq!(ours["packages"][0]["ownership"], "same-owner");
    // camelCase, like the rest of the API.
    assert_eq!(ours["packages"][0]["registryType"], "pypi");
    assert!(ours["packages"][0].get("registry_type").is_none());
    assert_eq!(
        c.upstream.requests.load(Ordering::SeqCst),
        0,
        "hosted here: no upstream request"
    );

    for base in ["/v0", "/v0.1"] {
        let one =
            c.t.get(
                &format!("{base}/servers/io.github.alice%2Fweather/versions/latest"),
                &[],
            )
            .await;
        assert_eq!(one.status, StatusCode::OK, "{}", one.text());
        assert_eq!(one.json()["server"]["version"], "1.0.0");
        let all =
            c.t.get(
                &format!("{base}/servers/io.github.alice%2Fweather/versions"),
                &[],
            )
            .await;
        assert_eq!(all.json()["metadata"]["count"], 1);
    }
    // Versions are immutable.
    let again = publish(&c.t, &c.alice, &doc).await;
    assert_problem(
        &again,
        StatusCode::BAD_REQUEST,
        "version",
        "already published",
    );
    assert_eq!(again.json()["detail"], "cannot publish duplicate version");
    let missing =
        c.t.get("/v0/servers/io.github.alice%2Fnone/versions/latest", &[])
            .await;
    assert_problem(&missing, StatusCode::NOT_FOUND, "", "not found");
}

#[tokio::test]
async fn ownership_of_a_hosted_package_is_proven_by_its_marker_or_refused() {
    let c = catalog().await;
    upload_wheel(
        &c.t,
        &c.alice,
        "shared-weather",
        "Docs.\n\nmcp-name: io.github.bob/weather\n",
    )
    .await;
    let bob = c.t.token("bob", "publish", &[]).await;
    c.t.grant_namespace("bob", "io.github.bob/*").await;
    let marked = publish(
        &c.t,
        &bob,
        &server(
            "io.github.bob/weather",
            "1.0.0",
            pypi_package("shared-weather", "1.0"),
        ),
    )
    .await;
    assert_eq!(marked.status, StatusCode::OK, "{}", marked.text());
    assert_eq!(
        marked.json()["_meta"]["io.wharf/verification"]["packages"][0]["ownership"],
        "marker"
    );
    // The marker is a whole token: it names io.github.bob/weather, not .../weather-evil.
    let r = publish(
        &c.t,
        &bob,
        &server(
            "io.github.bob/weather-evil",
            "1.0.0",
            pypi_package("shared-weather", "1.0"),
        ),
    )
    .await;
    assert_problem(
        &r,
        StatusCode::BAD_REQUEST,
        "packages[0].identifier",
        "ownership of shared-weather is not proven",
    );
    // A version that is not here is not looked for upstream: the hosted name shadows it.
    let r = publish(
        &c.t,
        &bob,
        &server(
            "io.github.bob/weather",
            "2.0.0",
            pypi_package("shared-weather", "9.9"),
        ),
    )
    .await;
    assert_problem(
        &r,
        StatusCode::BAD_REQUEST,
        "packages[0].version",
        "does not exist in this registry",
    );
    assert_eq!(c.upstream.requests.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn npm_and_pypi_packages_upstream_are_checked_and_fail_closed() {
    let c = catalog().await;
    let ok = publish(
        &c.t,
        &c.alice,
        &server(
            "io.github.alice/weather",
            "1.0.0",
            npm_package("weather-npm", "1.2.3"),
        ),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    assert_eq!(
        ok.json()["_meta"]["io.wharf/verification"]["packages"][0]["source"],
        "upstream"
    );
    let scoped = publish(
        &c.t,
        &c.alice,
        &server(
            "io.github.alice/acme-tool",
            "1.0.0",
            npm_package("@acme/tool", "2.0.0"),
        ),
    )
    .await;
    assert_eq!(scoped.status, StatusCode::OK, "{}", scoped.text());
    let py = publish(
        &c.t,
        &c.alice,
        &server(
            "io.github.alice/weather",
            "1.1.0",
            pypi_package("public-weather", "3.0"),
        ),
    )
    .await;
    assert_eq!(py.status, StatusCode::OK, "{}", py.text());

    let r = publish(
        &c.t,
        &c.alice,
        &server(
            "io.github.alice/weather",
            "2.0.0",
            npm_package("no-marker", "1.0.0"),
        ),
    )
    .await;
    assert_problem(
        &r,
        StatusCode::BAD_REQUEST,
        "packages[0].identifier",
        "has no mcpName",
    );
    let r = publish(
        &c.t,
        &c.alice,
        &server(
            "io.github.alice/weather",
            "2.0.0",
            npm_package("nowhere", "1.0.0"),
        ),
    )
    .await;
    assert_problem(
        &r,
        StatusCode::BAD_REQUEST,
        "packages[0].version",
        "does not exist upstream",
    );
    let r = publish(
        &c.t,
        &c.alice,
        &server(
            "io.github.alice/weather",
            "2.0.0",
            pypi_package("nowhere-py", "1.0"),
        ),
    )
    .await;
    assert_problem(
        &r,
        StatusCode::BAD_REQUEST,
        "packages[0].version",
        "does not exist here or upstream",
    );
    for unavailable in ["rate-limited", "broken", "slow"] {
        let r = publish(
            &c.t,
            &c.alice,
            &server(
                "io.github.alice/weather",
                "2.0.0",
                npm_package(unavailable, "1.0.0"),
            ),
        )
        .await;
        assert_problem(
            &r,
            StatusCode::SERVICE_UNAVAILABLE,
            "packages[0].identifier",
            "upstream_unavailable",
        );
        assert_eq!(r.header("retry-after"), "30", "{unavailable}");
    }
    // Nothing that failed was stored.
    let versions =
        c.t.get("/v0/servers/io.github.alice%2Fweather/versions", &[])
            .await
            .json();
    assert_eq!(versions["metadata"]["count"], 2);
}

#[tokio::test]
async fn upstream_packages_named_like_popular_or_local_ones_are_refused_unless_trusted() {
    let c = catalog().await;
    let bob = c.t.token("bob", "publish", &[]).await;
    upload_wheel(&c.t, &bob, "acme-billing", "Bob's internal billing client").await;
    let before = c.upstream.requests.load(Ordering::SeqCst);
    let npm = publish(
        &c.t,
        &c.alice,
        &server(
            "io.github.alice/express-tools",
            "1.0.0",
            npm_package("expresss", "4.0.0"),
        ),
    )
    .await;
    assert_problem(
        &npm,
        StatusCode::BAD_REQUEST,
        "packages[0].identifier",
        "'expresss' resembles the popular npm package 'express'",
    );
    assert!(npm.text().contains("name.typosquat") && npm.text().contains("npm:expresss"));
    let popular = publish(
        &c.t,
        &c.alice,
        &server(
            "io.github.alice/http",
            "1.0.0",
            pypi_package("reqeusts", "1.0"),
        ),
    )
    .await;
    assert_problem(
        &popular,
        StatusCode::BAD_REQUEST,
        "packages[0].identifier",
        "resembles the popular project 'requests'",
    );
    // An upstream look-alike of a project hosted here is dependency confusion.
    let local = publish(
        &c.t,
        &c.alice,
        &server(
            "io.github.alice/billing",
            "1.0.0",
            pypi_package("acme-bi11ing", "1.0"),
        ),
    )
    .await;
    assert_problem(
        &local,
        StatusCode::BAD_REQUEST,
        "packages[0].identifier",
        "resembles 'acme-billing' in this registry",
    );
    assert_eq!(
        c.upstream.requests.load(Ordering::SeqCst),
        before,
        "a refused name is never looked up upstream"
    );

    let trusted = catalog_with(|cfg| {
        cfg.verification.trusted_names = vec!["npm:expresss".into()];
    })
    .await;
    let ok = publish(
        &trusted.t,
        &trusted.alice,
        &server(
            "io.github.alice/express-tools",
            "1.0.0",
            npm_package("expresss", "4.0.0"),
        ),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    assert_eq!(
        ok.json()["_meta"]["io.wharf/verification"]["packages"][0]["ownership"],
        "marker"
    );
}

#[tokio::test]
async fn all_problems_are_reported_with_their_paths_and_hostile_input_never_passes() {
    let c = catalog().await;
    let doc = json!({
        "name": "io.github.alice/weather",
        "description": "",
        "version": "latest",
        "packages": [
            { "registryType": "npm", "identifier": "; rm -rf /", "version": "1.0.0", "transport": { "type": "stdio" } },
            { "registryType": "pypi", "identifier": "$(id)", "version": "^1.0", "transport": { "type": "stdio" } },
            { "registryType": "npm", "identifier": "`id`", "version": "1.0.0", "transport": { "type": "stdio" } },
            { "registryType": "npm", "identifier": "a|b", "version": "1.0.0", "transport": { "type": "stdio" } }
        ]
    });
    let r = publish(&c.t, &c.alice, &doc).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    let at = locations(&r);
    for expected in [
        "description",
        "version",
        "packages[0].identifier",
        "packages[1].identifier",
        "packages[1].version",
        "packages[2].identifier",
        "packages[3].identifier",
    ] {
        assert!(
            at.iter().any(|l| l == expected),
            "no problem at {expected}: {at:?}"
        );
    }
    assert_eq!(
        c.upstream.requests.load(Ordering::SeqCst),
        0,
        "nothing invalid reaches upstream"
    );
    let r =
        c.t.post_json("/v0/publish", Some(&c.alice), "{not json")
            .await;
    assert_problem(&r, StatusCode::BAD_REQUEST, "", "not valid JSON");
}

#[tokio::test]
async fn private_and_loopback_remote_urls_are_refused_outside_dev_mode() {
    let t = TestApp::with_config(|c| {
        c.security.production = true;
        c.security.session_secret =
            Some("k7Qp2vX9mZ4rT8wL1nB6yH3cF5dJ0sGaKeUiOoPq".to_owned().into());
        c.security.master_key = Some("Zq8tW3vN7yR1mK5pX2cB9dF4hJ6gL0sAeUiOoPq3".into());
    })
    .await;
    t.app.accounts.create_user("root", true).await.unwrap();
    let root = t.token("root", "publish,admin", &[]).await;
    for url in [
        "https://127.0.0.1/mcp",
        "https://10.0.0.8/mcp",
        "https://localhost/mcp",
        "http://example.com/mcp",
    ] {
        let doc = json!({
            "name": "com.acme/remote", "description": "Remote", "version": "1.0.0",
            "remotes": [{ "type": "streamable-http", "url": url }]
        });
        let r = publish(&t, &root, &doc).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{url}: {}", r.text());
        assert!(
            locations(&r).iter().any(|l| l == "remotes[0].url"),
            "{url}: {}",
            r.text()
        );
    }
    let doc = json!({
        "name": "com.acme/remote", "description": "Remote", "version": "1.0.0",
        "remotes": [{ "type": "streamable-http", "url": "https://mcp.acme.example/mcp" }]
    });
    assert_eq!(publish(&t, &root, &doc).await.status, StatusCode::OK);
}

#[tokio::test]
async fn namespaces_owners_publishers_and_restricted_tokens() {
    let c = catalog().await;
    let doc = |name: &str, v: &str| server(name, v, npm_package("weather-npm", "1.2.3"));
    // No grant for this namespace.
    let r = publish(&c.t, &c.alice, &doc("com.acme/weather", "1.0.0")).await;
    assert_problem(
        &r,
        StatusCode::FORBIDDEN,
        "",
        "no permission for the namespace",
    );
    // Grants match case-insensitively (a remote-only server: no marker to match).
    let remote = json!({ "name": "IO.GitHub.Alice/weather", "description": "Weather", "version": "1.0.0",
        "remotes": [{ "type": "streamable-http", "url": "https://mcp.example.org/weather" }] });
    let r = publish(&c.t, &c.alice, &remote).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // Bob holds the namespace too, but the first publisher owns the name.
    let bob = c.t.token("bob", "publish", &[]).await;
    c.t.grant_namespace("bob", "io.github.alice/*").await;
    let r = publish(&c.t, &bob, &doc("io.github.alice/weather", "1.1.0")).await;
    assert_problem(&r, StatusCode::FORBIDDEN, "", "belongs to 'alice'");
    let path = "/api/v1/mcp/servers/io.github.alice%2Fweather/publishers";
    let r = c.t.post_json(path, Some(&bob), r#"{"user":"bob"}"#).await;
    assert_problem(&r, StatusCode::FORBIDDEN, "", "only the owner");
    let r =
        c.t.post_json(path, Some(&c.alice), r#"{"user":"nobody"}"#)
            .await;
    assert_problem(&r, StatusCode::BAD_REQUEST, "user", "no user 'nobody'");
    let r =
        c.t.post_json(path, Some(&c.alice), r#"{"user":"bob"}"#)
            .await;
    assert_eq!(r.json()["added"], true, "{}", r.text());
    assert_eq!(
        publish(&c.t, &bob, &doc("io.github.alice/weather", "1.1.0"))
            .await
            .status,
        StatusCode::OK
    );
    // A token restricted to projects cannot publish servers.
    let narrow = c.t.token("alice", "publish", &["weather-mcp"]).await;
    let r = publish(&c.t, &narrow, &doc("io.github.alice/other", "1.0.0")).await;
    assert_problem(&r, StatusCode::FORBIDDEN, "", "restricted to projects");
    let reader = c.t.token("alice", "read", &[]).await;
    assert_problem(
        &publish(&c.t, &reader, &doc("io.github.alice/other", "1.0.0")).await,
        StatusCode::FORBIDDEN,
        "",
        "'publish' scope",
    );
    let r =
        c.t.post_json(
            "/v0/publish",
            None,
            &doc("io.github.alice/other", "1.0.0").to_string(),
        )
        .await;
    assert_problem(&r, StatusCode::UNAUTHORIZED, "", "authentication required");
}

/// A remote-only server: no package, so no upstream look-up.
fn remote(name: &str, version: &str) -> Value {
    json!({ "name": name, "description": "Weather", "version": version,
        "remotes": [{ "type": "streamable-http", "url": "https://mcp.example.org/weather" }] })
}

async fn patch_status(t: &TestApp, token: &str, name: &str, body: &str) -> common::TestResponse {
    t.send(
        axum::http::Request::patch(format!("/v0/servers/{}/status", encode_path_segment(name)))
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(axum::body::Body::from(body.to_owned()))
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn a_token_restricted_to_namespaces_reaches_only_the_servers_they_name() {
    let c = catalog().await;
    assert_eq!(
        publish(&c.t, &c.alice, &remote("io.github.alice/other", "1.0.0"))
            .await
            .status,
        StatusCode::OK
    );
    let narrow =
        c.t.restricted_token("alice", "publish", &[], &["IO.GitHub.Alice/weather*"])
            .await;
    for name in ["io.github.alice/weather", "io.github.alice/Weather-EU"] {
        let r = publish(&c.t, &narrow, &remote(name, "1.0.0")).await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.text());
    }
    let r = publish(&c.t, &narrow, &remote("io.github.alice/other", "2.0.0")).await;
    assert_problem(
        &r,
        StatusCode::FORBIDDEN,
        "",
        "restricted to the namespaces io.github.alice/weather*, which do not cover 'io.github.alice/other'",
    );
    let r = patch_status(
        &c.t,
        &narrow,
        "io.github.alice/other",
        r#"{"status":"deprecated"}"#,
    )
    .await;
    assert_problem(&r, StatusCode::FORBIDDEN, "", "do not cover");
    let r = patch_status(
        &c.t,
        &narrow,
        "io.github.alice/weather",
        r#"{"status":"deprecated"}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r =
        c.t.post_json(
            "/api/v1/mcp/servers/io.github.alice%2Fother/publishers",
            Some(&narrow),
            r#"{"user":"alice"}"#,
        )
        .await;
    assert_problem(&r, StatusCode::FORBIDDEN, "", "do not cover");
    // The namespace restriction is a restriction: no project is reachable.
    let wheel = WheelBuilder::new("alice-tool", "1.0");
    let r =
        c.t.upload(
            Some(&narrow),
            &UploadForm::wheel(&wheel, "alice-tool", "1.0"),
        )
        .await;
    r.assert_error(
        StatusCode::FORBIDDEN,
        "token_project_restricted",
        "restricted to MCP namespaces",
    );
    let me =
        c.t.get(
            "/api/v1/whoami",
            &[("authorization", &format!("Bearer {narrow}"))],
        )
        .await;
    assert_eq!(me.json()["namespaces"], json!(["io.github.alice/weather*"]));
    // Globs are checked when the token is made.
    let bad =
        c.t.app
            .accounts
            .create_token(accounts::TokenRequest {
                user: "alice",
                label: "bad",
                scopes: "publish",
                projects: &[],
                namespaces: &["$(id)/*".to_owned()],
                expires_in: None,
                ip_hash: None,
            })
            .await;
    let Err(err) = bad else {
        panic!("an unsafe glob is refused")
    };
    let err = err.to_string();
    assert!(err.contains("may use only letters"), "{err}");
}

#[tokio::test]
async fn latest_follows_semver_and_statuses_hide_deleted_versions() {
    let c = catalog().await;
    let name = "io.github.alice/weather";
    for v in ["1.0.0-rc.9", "1.0.0-rc.10", "0.9.0"] {
        let r = publish(
            &c.t,
            &c.alice,
            &server(name, v, npm_package("weather-npm", "1.2.3")),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
    let latest =
        c.t.get("/v0/servers/io.github.alice%2Fweather/versions/latest", &[])
            .await
            .json();
    assert_eq!(latest["server"]["version"], "1.0.0-rc.10");

    let status = "/v0/servers/io.github.alice%2Fweather/versions/1.0.0-rc.10/status";
    let r =
        c.t.send(
            axum::http::Request::patch(status)
                .header("authorization", format!("Bearer {}", c.alice))
                .header("content-type", "application/json")
                .body(axum::body::Body::from(
                    r#"{"status":"deleted","statusMessage":"broken build"}"#,
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        r.json()["_meta"]["io.modelcontextprotocol.registry/official"]["statusMessage"],
        "broken build"
    );
    let latest =
        c.t.get("/v0/servers/io.github.alice%2Fweather/versions/latest", &[])
            .await
            .json();
    assert_eq!(
        latest["server"]["version"], "1.0.0-rc.9",
        "a deleted version is never latest"
    );
    let listed = c.t.get("/v0/servers", &[]).await.json();
    assert_eq!(listed["metadata"]["count"], 2);
    let with_deleted =
        c.t.get("/v0/servers?include_deleted=true", &[])
            .await
            .json();
    assert_eq!(with_deleted["metadata"]["count"], 3);
    let r =
        c.t.send(
            axum::http::Request::patch(status)
                .header("authorization", format!("Bearer {}", c.alice))
                .header("content-type", "application/json")
                .body(axum::body::Body::from(r#"{"status":"gone"}"#))
                .unwrap(),
        )
        .await;
    assert_problem(
        &r,
        StatusCode::BAD_REQUEST,
        "status",
        "not one of active, deprecated, deleted",
    );
    let stranger = c.t.token("mallory", "publish", &[]).await;
    let r =
        c.t.send(
            axum::http::Request::patch("/v0/servers/io.github.alice%2Fweather/status")
                .header("authorization", format!("Bearer {stranger}"))
                .header("content-type", "application/json")
                .body(axum::body::Body::from(r#"{"status":"deprecated"}"#))
                .unwrap(),
        )
        .await;
    assert_problem(&r, StatusCode::FORBIDDEN, "", "only the publishers");
}

#[tokio::test]
async fn listing_pages_with_cursors_and_search_ranks_a_name_match_first() {
    let c = catalog().await;
    let describe = |name: &str, description: &str| {
        json!({
            "name": name, "description": description, "version": "1.0.0",
            "packages": npm_package("weather-npm", "1.2.3"),
        })
    };
    // Only the first needs the real mcpName; the rest use remotes, which need no package check.
    let mut docs = vec![describe("io.github.alice/weather", "Reads gauges")];
    for (name, description) in [
        ("io.github.alice/forecast", "Tells the weather tomorrow"),
        ("io.github.alice/zeta", "Unrelated"),
    ] {
        docs.push(
            json!({ "name": name, "description": description, "version": "1.0.0",
            "remotes": [{ "type": "streamable-http", "url": "https://mcp.example.org/x" }] }),
        );
    }
    for doc in &docs {
        let r = publish(&c.t, &c.alice, doc).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
    let first = c.t.get("/v0/servers?limit=2", &[]).await.json();
    assert_eq!(first["metadata"]["count"], 2);
    let cursor = first["metadata"]["nextCursor"]
        .as_str()
        .expect("a second page")
        .to_owned();
    let second =
        c.t.get(
            &format!(
                "/v0/servers?limit=2&cursor={}",
                form_urlencoded::byte_serialize(cursor.as_bytes()).collect::<String>()
            ),
            &[],
        )
        .await
        .json();
    assert_eq!(second["metadata"]["count"], 1);
    assert!(
        second["metadata"].get("nextCursor").is_none(),
        "the last page has no nextCursor key: {second}"
    );

    let hits = c.t.get("/v0/servers?search=weather", &[]).await.json();
    let names: Vec<&str> = hits["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["server"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["io.github.alice/weather", "io.github.alice/forecast"]
    );

    let r = c.t.get("/v0/servers?limit=0", &[]).await;
    assert_problem(&r, StatusCode::BAD_REQUEST, "query.limit", "from 1 to 100");
    let r = c.t.get("/v0/servers?cursor=nonsense", &[]).await;
    assert_problem(&r, StatusCode::BAD_REQUEST, "query.cursor", "nextCursor");
    let r = c.t.get("/v0/servers?updated_since=yesterday", &[]).await;
    assert_problem(
        &r,
        StatusCode::BAD_REQUEST,
        "query.updated_since",
        "RFC 3339",
    );
    let r = c.t.get("/v0/servers?colour=red", &[]).await;
    assert_problem(&r, StatusCode::BAD_REQUEST, "query", "unknown field");
}

#[tokio::test]
async fn concurrent_publishes_of_one_uncached_package_ask_upstream_once() {
    let c = catalog().await;
    let t = Arc::new(c.t);
    let publishes = (0..100).map(|i| {
        let t = t.clone();
        let token = c.alice.clone();
        tokio::spawn(async move {
            // Different servers, one package whose mcpName names none of them:
            // every check fails on the marker, after one shared look-up.
            let doc = server(
                &format!("io.github.alice/w{i}"),
                "1.0.0",
                npm_package("weather-npm", "1.2.3"),
            );
            publish(&t, &token, &doc).await.status
        })
    });
    let statuses: Vec<StatusCode> = futures_util::future::join_all(publishes)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert!(
        statuses.iter().all(|s| *s == StatusCode::BAD_REQUEST),
        "{statuses:?}"
    );
    assert_eq!(
        c.upstream.requests.load(Ordering::SeqCst),
        1,
        "one upstream request for 100 checks"
    );
    // A second wave within the TTL is answered from the cache.
    let r = publish(
        &t,
        &c.alice,
        &server(
            "io.github.alice/weather",
            "1.0.0",
            npm_package("weather-npm", "1.2.3"),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(c.upstream.requests.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn publishing_shares_the_per_token_upload_limit() {
    let t = TestApp::with_config(|c| {
        c.rate_limits.upload = wharf_core::ratelimit::RatePolicy::parse("upload", "2/min").unwrap();
    })
    .await;
    t.app.accounts.create_user("root", true).await.unwrap();
    let root = t.token("root", "publish,admin", &[]).await;
    let doc = |v: &str| {
        json!({ "name": "com.acme/remote", "description": "Remote", "version": v,
        "remotes": [{ "type": "streamable-http", "url": "https://mcp.acme.example/x" }] })
    };
    for v in ["1.0.0", "1.0.1"] {
        assert_eq!(publish(&t, &root, &doc(v)).await.status, StatusCode::OK);
    }
    let r = publish(&t, &root, &doc("1.0.2")).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text());
    assert_eq!(r.header("content-type"), "application/problem+json");
    assert!(!r.header("retry-after").is_empty());
}

/// Probe finding 4: an administrator's `read,publish` token published
/// under a namespace nobody granted. The role alone is not enough; acting
/// as an administrator takes the admin scope too.
#[tokio::test]
async fn admin_users_skip_namespace_grants_only_with_the_admin_scope() {
    let t = TestApp::new().await;
    t.app.accounts.create_user("root", true).await.unwrap();
    let doc = json!({
        "name": "com.microsoft/unclaimed", "description": "Remote", "version": "1.0.0",
        "remotes": [{ "type": "streamable-http", "url": "https://mcp.acme.example/x" }]
    });
    let plain = t.token("root", "read,publish", &[]).await;
    let r = publish(&t, &plain, &doc).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert!(
        r.text().contains("has no permission for the namespace"),
        "{}",
        r.text()
    );
    let acting = t.token("root", "publish,admin", &[]).await;
    assert_eq!(publish(&t, &acting, &doc).await.status, StatusCode::OK);
}

/// Probe finding 7: `search=%00` was a 500 ("unterminated string" from
/// FTS5). Control characters are a 400 naming the parameter, and searches
/// share the per-IP search limit.
#[tokio::test]
async fn catalog_search_refuses_control_characters_and_is_rate_limited() {
    let t = TestApp::with_config(|c| {
        c.rate_limits.search = wharf_core::ratelimit::RatePolicy::parse("search", "3/min").unwrap();
    })
    .await;
    for query in ["%00", "weather%00", "a%01b"] {
        let r = t.get(&format!("/v0/servers?search={query}"), &[]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{query}: {}", r.text());
        let body = r.json();
        assert_eq!(body["errors"][0]["location"], "query.search", "{body}");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("control character"),
            "{body}"
        );
    }
    let r = t.get("/v0.1/servers?search=weather", &[]).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text());
    assert!(
        r.text().contains("too many search requests"),
        "{}",
        r.text()
    );
    assert!(!r.header("retry-after").is_empty());
    // Listing without a search is not a search.
    assert_eq!(t.get("/v0/servers", &[]).await.status, StatusCode::OK);
}

/// What third-party registry clients and the official API expect (issue 16, part 4).
#[tokio::test]
async fn the_registry_api_answers_as_the_official_one_does() {
    let c = catalog().await;
    let remote = |version: &str| {
        json!({ "name": "io.github.alice/hosted", "description": "A hosted server", "version": version,
                "remotes": [{ "type": "streamable-http", "url": "https://mcp.example.org/x" }] })
    };
    for version in ["1.0.0", "1.1.0", "1.2.0"] {
        let r = publish(&c.t, &c.alice, &remote(version)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
    // Versions newest first.
    let versions =
        c.t.get("/v0.1/servers/io.github.alice%2Fhosted/versions", &[])
            .await
            .json();
    let listed: Vec<&str> = versions["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["server"]["version"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["1.2.0", "1.1.0", "1.0.0"]);
    assert!(
        versions["metadata"].get("nextCursor").is_none(),
        "{versions}"
    );

    // statusChangedAt starts at the publish time and moves with a status change.
    let official = |v: &Value| v["_meta"]["io.modelcontextprotocol.registry/official"].clone();
    let before = official(
        &c.t.get("/v0.1/servers/io.github.alice%2Fhosted/versions/1.0.0", &[])
            .await
            .json(),
    );
    assert_eq!(before["statusChangedAt"], before["publishedAt"], "{before}");
    let r =
        c.t.send(
            axum::http::Request::patch(
                "/v0.1/servers/io.github.alice%2Fhosted/versions/1.0.0/status",
            )
            .header("authorization", format!("Bearer {}", c.alice))
            .header("content-type", "application/json")
            .body(axum::body::Body::from(r#"{"status":"deleted"}"#))
            .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let after = official(&r.json());
    assert!(
        after["statusChangedAt"].as_str().unwrap() > before["statusChangedAt"].as_str().unwrap(),
        "{after}"
    );

    // updated_since always includes deleted versions; refusing them with it is a 400.
    let since = "updated_since=2000-01-01T00:00:00Z";
    let synced = c.t.get(&format!("/v0.1/servers?{since}"), &[]).await.json();
    assert_eq!(synced["metadata"]["count"], 3, "{synced}");
    let r =
        c.t.get(&format!("/v0.1/servers?{since}&include_deleted=false"), &[])
            .await;
    assert_problem(
        &r,
        StatusCode::BAD_REQUEST,
        "query.include_deleted",
        "always includes deleted",
    );
    let plain = c.t.get("/v0.1/servers", &[]).await.json();
    assert_eq!(plain["metadata"]["count"], 2);

    // Labels as valueHint, and a remote URL that starts with a variable.
    let labelled = json!({
        "name": "io.github.alice/labelled", "description": "Labels", "version": "1.0.0",
        "remotes": [{ "type": "streamable-http", "url": "{base_url}/mcp",
                      "variables": { "base_url": { "description": "Your tenant's address" } } }],
        "packages": [{ "registryType": "npm", "identifier": "weather-npm", "version": "1.2.3",
                       "transport": { "type": "stdio" },
                       "packageArguments": [
                           { "type": "positional", "valueHint": "<YOUR_API_KEY>" },
                           { "type": "positional", "valueHint": "transactions:read,reimbursements:read" } ] }]
    });
    let r =
        c.t.post_json("/v0.1/validate", None, &labelled.to_string())
            .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json(), json!({"valid": true, "issues": []}));
}

#[tokio::test]
async fn validate_needs_no_token_and_lists_every_issue() {
    let c = catalog().await;
    let bad = json!({ "name": "no-namespace", "description": "x", "version": "1.0.0",
                      "remotes": [{ "type": "streamable-http", "url": "http://10.0.0.1/mcp" }] });
    let r =
        c.t.post_json("/v0.1/validate", None, &bad.to_string())
            .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let body = r.json();
    assert_eq!(body["valid"], false);
    let paths: Vec<&str> = body["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["path"].as_str().unwrap())
        .collect();
    assert!(paths.contains(&"name"), "{body}");
    assert!(paths.contains(&"remotes[0].url"), "{body}");
    assert!(body["issues"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["severity"] == "error" && i["type"] == "semantic"));

    let r = c.t.post_json("/v0.1/validate", None, "{not json").await;
    let body = r.json();
    assert_eq!(body["valid"], false);
    assert_eq!(body["issues"][0]["type"], "schema");
    assert!(
        body["issues"][0]["message"]
            .as_str()
            .unwrap()
            .contains("not valid JSON"),
        "{body}"
    );

    // Nothing was stored.
    let r = c.t.get("/v0.1/servers/no-namespace/versions", &[]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn public_read_cors_opens_reads_of_the_registry_api_and_nothing_else() {
    let origin = [("origin", "https://client.example")];
    let closed = catalog().await;
    let r = closed.t.get("/v0.1/servers", &origin).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("access-control-allow-origin"), "");

    let c = catalog_with(|c| c.mcp_public_read_cors = true).await;
    let r = c.t.get("/v0.1/servers", &origin).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("access-control-allow-origin"), "*");
    assert_eq!(r.header("access-control-allow-credentials"), "");
    let preflight = |method: &str, uri: &str| {
        axum::http::Request::options(uri)
            .header("origin", "https://client.example")
            .header("access-control-request-method", method)
            .body(axum::body::Body::empty())
            .unwrap()
    };
    let r = c.t.send(preflight("GET", "/v0/servers?search=x")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(r.header("access-control-allow-origin"), "*");
    assert_eq!(r.header("access-control-allow-methods"), "GET, HEAD");
    // Writes and the rest of the API stay on the allowlist.
    let r = c.t.send(preflight("POST", "/v0.1/publish")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert_eq!(r.header("access-control-allow-origin"), "");
    let r = c.t.get("/api/v1/projects", &origin).await;
    assert_eq!(r.header("access-control-allow-origin"), "");
}
