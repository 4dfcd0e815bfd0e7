//! Capturing remote MCP servers' tools, against stand-in servers written with
//! the official MCP Python SDK (tests/fixtures/mcp_server.py, run from the
//! test venv on 127.0.0.1): streamable HTTP and SSE, a poisoned description,
//! an in-place change of the same version (a rug pull), a server that needs
//! credentials, and the deployment plan's warning.

mod common;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use common::TestApp;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A stand-in MCP server process; stopped (by its own PID) when dropped.
struct StandIn {
    child: Child,
    port: u16,
}

impl StandIn {
    fn start(transport: &str, variant: &str) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Self::start_on(port, transport, variant)
    }

    fn start_on(port: u16, transport: &str, variant: &str) -> Self {
        let venv = std::env::var_os("WHARF_TEST_VENV").expect(
            "the capture tests run stand-in servers with the MCP SDK: run ./scripts/test, or set \
             WHARF_TEST_VENV=$(scripts/test-venv)",
        );
        let python = std::path::PathBuf::from(venv).join("bin/python");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/mcp_server.py");
        let mut child = Command::new(python)
            .args([script, &port.to_string(), transport, variant])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start the stand-in MCP server");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                if line.is_ok_and(|l| l.trim() == "ready") {
                    let _ = tx.send(());
                }
            }
        });
        rx.recv_timeout(Duration::from_secs(60))
            .expect("the stand-in MCP server did not start");
        Self { child, port }
    }

    fn url(&self, transport: &str) -> String {
        match transport {
            "sse" => format!("http://127.0.0.1:{}/sse", self.port),
            _ => format!("http://127.0.0.1:{}/mcp", self.port),
        }
    }

    fn stop(mut self) -> u16 {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.port
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A stand-in npm registry: package `X-npm` belongs to `io.github.alice/X`.
async fn npm(Path((name, version)): Path<(String, String)>) -> axum::response::Response {
    let server = format!("io.github.alice/{}", name.trim_end_matches("-npm"));
    axum::Json(json!({ "name": name, "version": version, "mcpName": server })).into_response()
}

/// The npm package the stand-in registry says belongs to `server`.
fn package_of(server: &str) -> String {
    format!("{}-npm", server.rsplit('/').next().unwrap())
}

async fn app() -> (TestApp, String) {
    let npm_addr =
        common::serve_on_loopback(axum::Router::new().route("/npm/{name}/{version}", get(npm)))
            .await;
    let t = TestApp::with_config(|c| {
        c.upstream.npm_url = Some(format!("http://{npm_addr}/npm"));
        c.mcp_sync.capture.timeout = Duration::from_secs(20);
    })
    .await;
    let alice = t.token("alice", "publish", &[]).await;
    t.grant_namespace("alice", "io.github.alice/*").await;
    (t, alice)
}

async fn publish(t: &TestApp, token: &str, name: &str, version: &str, remote: (&str, String)) {
    let doc = json!({
        "name": name,
        "description": "Weather forecasts",
        "version": version,
        "packages": [{ "registryType": "npm", "identifier": package_of(name), "version": "1.2.3",
                       "transport": { "type": "stdio" } }],
        "remotes": [{ "type": remote.0, "url": remote.1 }],
    });
    let r = t
        .post_json("/v0.1/publish", Some(token), &doc.to_string())
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

async fn tools(t: &TestApp, name: &str, version: &str) -> Value {
    let r = t
        .get(
            &format!(
                "/v0.1/x/io.wharf/servers/{}/versions/{version}/tools",
                name.replace('/', "%2F")
            ),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()
}

fn rules(view: &Value) -> Vec<String> {
    view["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_owned())
        .collect()
}

fn names(view: &Value) -> Vec<&str> {
    let mut names: Vec<&str> = view["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_published_remote_server_is_captured_over_streamable_http_and_sse() {
    let (t, alice) = app().await;
    for transport in ["streamable-http", "sse"] {
        let server = StandIn::start(transport, "clean");
        let name = format!("io.github.alice/weather-{transport}");
        publish(
            &t,
            &alice,
            &name,
            "1.0.0",
            (transport, server.url(transport)),
        )
        .await;
        assert_eq!(tools(&t, &name, "1.0.0").await["state"], "not-captured");
        assert_eq!(t.app.catalog.run_capture_jobs("test").await.unwrap(), 1);

        let view = tools(&t, &name, "latest").await;
        assert_eq!(view["state"], "captured", "{transport}: {view}");
        assert_eq!(names(&view), ["get_forecast", "list_cities"]);
        assert_eq!(view["prompts"][0]["name"], "ask");
        assert_eq!(view["resources"][0]["uri"], "weather://cities");
        assert_eq!(view["toolsHash"].as_str().unwrap().len(), 64);
        // The second server repeats the first one's tool names: a warning.
        let expected: &[&str] = if transport == "sse" {
            &["tool.name-collision", "tool.name-collision"]
        } else {
            &[]
        };
        assert_eq!(rules(&view), expected, "{view}");

        let entry = t
            .get(
                &format!("/v0.1/servers/{}/versions/1.0.0", name.replace('/', "%2F")),
                &[],
            )
            .await
            .json();
        let meta = &entry["_meta"]["io.wharf/tools"];
        assert_eq!(meta["state"], "captured");
        assert_eq!(meta["toolsHash"], view["toolsHash"]);
        assert_eq!(meta["names"].as_array().unwrap().len(), 2);
    }
    // Both transports list the same tools, so the same hash.
    let a = tools(&t, "io.github.alice/weather-streamable-http", "1.0.0").await;
    let b = tools(&t, "io.github.alice/weather-sse", "1.0.0").await;
    assert_eq!(a["toolsHash"], b["toolsHash"]);
}

#[tokio::test]
async fn a_poisoned_description_holds_the_version_with_its_report() {
    let (t, alice) = app().await;
    let admin = t.admin_token("root").await;
    let server = StandIn::start("streamable-http", "poisoned");
    let name = "io.github.alice/weather";
    publish(
        &t,
        &alice,
        name,
        "1.0.0",
        ("streamable-http", server.url("mcp")),
    )
    .await;
    t.app.catalog.run_capture_jobs("test").await.unwrap();

    let version = t
        .get(
            "/v0.1/servers/io.github.alice%2Fweather/versions/1.0.0",
            &[],
        )
        .await;
    assert_eq!(version.status, StatusCode::NOT_FOUND, "held, not served");
    let status = t
        .get(
            "/api/v1/admin/mcp/sync",
            &[("authorization", &format!("Bearer {admin}"))],
        )
        .await
        .json();
    let held = &status["held"][0];
    assert_eq!(held["hold"], "tools", "{status}");
    let report = held["report"].to_string();
    assert!(report.contains("tool.hidden-instructions"), "{report}");
    assert!(report.contains("tool.credential-reference"), "{report}");
    assert_eq!(held["report"][0]["location"], "tools/get_forecast");
}

#[tokio::test]
async fn a_tool_changed_in_place_is_a_rug_pull_and_the_plan_warns() {
    let (t, alice) = app().await;
    let admin = t.admin_token("root").await;
    let server = StandIn::start("streamable-http", "clean");
    let name = "io.github.alice/weather";
    publish(
        &t,
        &alice,
        name,
        "1.0.0",
        ("streamable-http", server.url("mcp")),
    )
    .await;
    t.app.catalog.run_capture_jobs("test").await.unwrap();
    let first = tools(&t, name, "1.0.0").await;

    // A deployment records the tools it was created with.
    let deployer = t.token("alice", "read,publish,deploy", &[]).await;
    let created = t
        .post_json(
            "/api/v1/deployments",
            Some(&deployer),
            &json!({ "server": name, "version": "1.0.0" }).to_string(),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let plan_path = format!(
        "/api/v1/deployments/{}/plan",
        created.json()["id"].as_str().unwrap()
    );
    let auth = [("authorization", format!("Bearer {deployer}"))];
    let auth: Vec<(&str, &str)> = auth.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert!(t
        .get(&plan_path, &auth)
        .await
        .json()
        .get("warnings")
        .is_none());

    // The same version, the same URL, other tools.
    let port = server.stop();
    let _changed = StandIn::start_on(port, "streamable-http", "changed");
    let r = t
        .post_json(
            "/api/v1/admin/mcp/servers/io.github.alice%2Fweather/versions/1.0.0/capture",
            Some(&admin),
            "",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let second = r.json();
    assert_ne!(second["toolsHash"], first["toolsHash"]);
    let finding = second["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "tool.changed-in-place")
        .cloned()
        .unwrap_or_else(|| panic!("{second}"));
    assert_eq!(finding["severity"], "quarantine");
    assert_eq!(finding["evidence"], "changed: get_forecast");
    assert_eq!(
        t.get(
            "/v0.1/servers/io.github.alice%2Fweather/versions/1.0.0",
            &[]
        )
        .await
        .status,
        StatusCode::NOT_FOUND,
        "a rug pull holds the version"
    );

    let plan = t.get(&plan_path, &auth).await.json();
    let warning = plan["warnings"][0].as_str().unwrap_or_default();
    assert!(
        warning.contains("changed since this deployment was created"),
        "{plan}"
    );
}

#[tokio::test]
async fn a_new_version_with_other_tools_is_reported_as_a_diff() {
    let (t, alice) = app().await;
    let name = "io.github.alice/weather";
    let clean = StandIn::start("streamable-http", "clean");
    publish(
        &t,
        &alice,
        name,
        "1.0.0",
        ("streamable-http", clean.url("mcp")),
    )
    .await;
    let changed = StandIn::start("streamable-http", "changed");
    publish(
        &t,
        &alice,
        name,
        "1.1.0",
        ("streamable-http", changed.url("mcp")),
    )
    .await;
    assert_eq!(t.app.catalog.run_capture_jobs("test").await.unwrap(), 2);
    let view = tools(&t, name, "1.1.0").await;
    let diff = view["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "tool.changed")
        .cloned()
        .unwrap_or_else(|| panic!("{view}"));
    assert_eq!(diff["severity"], "warn");
    assert_eq!(diff["evidence"], "changed: get_forecast");
    assert!(diff["explanation"].as_str().unwrap().contains("1.0.0"));
    // A warning does not hold the version.
    assert_eq!(
        t.get(
            "/v0.1/servers/io.github.alice%2Fweather/versions/latest",
            &[]
        )
        .await
        .json()["server"]["version"],
        "1.1.0"
    );
}

#[tokio::test]
async fn a_server_that_needs_credentials_is_recorded_as_such() {
    let (t, alice) = app().await;
    let server = StandIn::start("streamable-http", "auth");
    let name = "io.github.alice/weather";
    publish(
        &t,
        &alice,
        name,
        "1.0.0",
        ("streamable-http", server.url("mcp")),
    )
    .await;
    t.app.catalog.run_capture_jobs("test").await.unwrap();
    let view = tools(&t, name, "1.0.0").await;
    assert_eq!(view["state"], "needs-credentials", "{view}");
    assert!(view["detail"].as_str().unwrap().contains("401"));
    assert_eq!(view["tools"], json!([]));
    // Not a failure: the version is served.
    assert_eq!(
        t.get(
            "/v0.1/servers/io.github.alice%2Fweather/versions/1.0.0",
            &[]
        )
        .await
        .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn bad_capture_requests_get_clear_answers() {
    let (t, alice) = app().await;
    let admin = t.admin_token("root").await;
    // Nothing listens here: the capture fails, and says why.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let name = "io.github.alice/weather";
    publish(
        &t,
        &alice,
        name,
        "1.0.0",
        ("streamable-http", format!("http://127.0.0.1:{port}/mcp")),
    )
    .await;
    let capture = |path: &'static str, token: Option<String>| {
        let t = &t;
        async move { t.post_json(path, token.as_deref(), "").await }
    };
    let path = "/api/v1/admin/mcp/servers/io.github.alice%2Fweather/versions/1.0.0/capture";
    let r = capture(path, Some(admin.clone())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["state"], "failed");
    assert!(r.json()["detail"]
        .as_str()
        .unwrap()
        .contains("cannot connect"));

    let r = capture(path, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = capture(path, Some(alice.clone())).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = capture(
        "/api/v1/admin/mcp/servers/io.github.alice%2Fweather/versions/9.9.9/capture",
        Some(admin.clone()),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.text().contains("no version '9.9.9'"));
    let r = t
        .get(
            "/v0.1/x/io.wharf/servers/io.github.alice%2Fnope/versions/1.0.0/tools",
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // A package-only server has nothing to capture.
    let doc = json!({
        "name": "io.github.alice/weather-local", "description": "Local", "version": "1.0.0",
        "packages": [{ "registryType": "npm", "identifier": "weather-local-npm", "version": "1.2.3",
                       "transport": { "type": "stdio" } }],
    });
    let published = t
        .post_json("/v0.1/publish", Some(&alice), &doc.to_string())
        .await;
    assert_eq!(published.status, StatusCode::OK, "{}", published.text());
    let r = capture(
        "/api/v1/admin/mcp/servers/io.github.alice%2Fweather-local/versions/1.0.0/capture",
        Some(admin),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.text().contains("no streamable-http or sse remote"),
        "{}",
        r.text()
    );
}

/// The real MCP stdio server and its dependencies (`scripts/mcp-server-wheels`).
fn server_wheels() -> std::path::PathBuf {
    let dir = std::env::var_os("WHARF_TEST_MCP_SERVER_WHEELS")
        .map(std::path::PathBuf::from)
        .expect(
            "this test installs a real MCP server: run ./scripts/test, or set \
             WHARF_TEST_MCP_SERVER_WHEELS=$(scripts/mcp-server-wheels)",
        );
    assert!(dir.is_dir(), "{} is not a directory", dir.display());
    dir
}

/// An app that also listens on 127.0.0.1 (the sandbox installs from its
/// index) and proxies a PyPI stand-in fed with the real wheels.
async fn sandboxed_app(upstream: &wharf_testkit::fake_pypi::FakePypi) -> TestApp {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut proxy = wharf_server::config::proxy::PypiProxy::new(upstream.simple_url());
    proxy.min_release_age = Duration::ZERO;
    let t = TestApp::with_config(|c| {
        c.proxy_pypi = Some(proxy);
        c.mcp_sync.capture.sandbox = true;
        c.mcp_sync.capture.index_url = Some(format!("http://{addr}/simple/"));
        c.mcp_sync.capture.timeout = Duration::from_secs(60);
    })
    .await;
    listener.set_nonblocking(true).unwrap();
    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
    tokio::spawn(wharf_server::serve_listener(
        listener,
        t.app.clone(),
        std::future::pending(),
    ));
    t
}

#[tokio::test]
async fn a_pypi_stdio_server_is_captured_in_the_sandbox() {
    assert!(
        std::path::Path::new("/usr/bin/bwrap").is_file(),
        "install bubblewrap (scripts/test-services does)"
    );
    let upstream = wharf_testkit::fake_pypi::FakePypi::start().await;
    let wheels = server_wheels();
    assert_eq!(upstream.add_dir(&wheels), 31);
    let t = sandboxed_app(&upstream).await;
    let alice = t.token("alice", "publish", &[]).await;
    t.grant_namespace("alice", "io.github.alice/*").await;
    // The server's own package is hosted here; its dependencies come through
    // the proxy, each checked before it is served.
    let filename = "mcp_server_time-2026.10.19-py3-none-any.whl";
    let r = t
        .upload(
            Some(&alice),
            &common::UploadForm::new(
                "mcp-server-time",
                "2026.10.19",
                filename,
                std::fs::read(wheels.join(filename)).unwrap(),
            ),
        )
        .await;
    assert_eq!(r.json()["status"], "published", "{}", r.text());
    let doc = json!({
        "name": "io.github.alice/time", "description": "Time and time zones", "version": "1.0.0",
        "packages": [{ "registryType": "pypi", "identifier": "mcp-server-time",
                       "version": "2026.10.19", "transport": { "type": "stdio" },
                       "environmentVariables": [{ "name": "TIME_API_KEY", "isSecret": true }] }],
    });
    let r = t
        .post_json("/v0.1/publish", Some(&alice), &doc.to_string())
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(t.app.catalog.run_capture_jobs("test").await.unwrap(), 1);
    let mut view = tools(&t, "io.github.alice/time", "1.0.0").await;

    // The gate may hold dependencies (names one letter from popular ones,
    // say): then the install fails, saying so, and nothing runs. A reviewer
    // releases what is held, and the capture goes further (a few rounds, as
    // pip meets one dependency after another).
    let admin = t.admin_token("root").await;
    let auth = format!("Bearer {admin}");
    let mut released = 0;
    for _ in 0..5 {
        if view["state"] != "failed" {
            break;
        }
        let detail = view["detail"].as_str().unwrap_or_default();
        assert!(detail.contains("is held by this reg"), "{view}");
        let queue = t
            .get("/api/v1/admin/quarantine", &[("authorization", &auth)])
            .await
            .json();
        for file in queue["files"].as_array().unwrap() {
            let r = t
                .post_json(
                    &format!("/api/v1/admin/files/{}/release", file["id"]),
                    Some(&admin),
                    r#"{"reason": "reviewed for the capture test"}"#,
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text());
            released += 1;
        }
        let r = t
            .post_json(
                "/api/v1/admin/mcp/servers/io.github.alice%2Ftime/versions/1.0.0/capture",
                Some(&admin),
                "",
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        view = r.json();
    }
    eprintln!("files released before the capture: {released}");
    assert_eq!(view["state"], "captured", "{view}");
    assert_eq!(names(&view), ["convert_time", "get_current_time"]);
    assert_eq!(rules(&view), Vec::<String>::new());
}

#[tokio::test]
async fn the_sandbox_has_no_network_and_no_host_files() {
    assert!(
        std::path::Path::new("/usr/bin/bwrap").is_file(),
        "install bubblewrap (scripts/test-services does)"
    );
    let sandbox = wharf_server::services::mcp::sandbox::Sandbox::detect(
        "http://127.0.0.1:9/simple/".into(),
        std::env::temp_dir(),
        wharf_server::services::mcp::sandbox::SandboxLimits {
            memory_bytes: 1 << 30,
            cpu_seconds: 10,
            install: Duration::from_secs(10),
        },
    )
    .unwrap();
    // A listener on the host's loopback, and a file only the host has.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret.txt");
    std::fs::write(&secret, "host secret").unwrap();
    let probe = format!(
        r#"
import os, socket
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=2)
    print("network: reached")
except OSError:
    print("network: blocked")
try:
    open({secret:?}).read()
    print("file: read")
except OSError:
    print("file: blocked")
print("home:", os.environ["HOME"], sorted(os.listdir(os.environ["HOME"])))
print("env:", sorted(k for k in os.environ if k not in ("PWD", "SHLVL", "_", "LC_CTYPE")))
"#
    );
    let out = sandbox
        .command(
            std::path::Path::new("/nonexistent"),
            &[("API_KEY".into(), "dummy".into())],
            &["python3".into(), "-c".into(), probe],
        )
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("network: blocked"), "{text}");
    assert!(text.contains("file: blocked"), "{text}");
    assert!(text.contains("home: /home/capture []"), "{text}");
    assert!(
        text.contains("env: ['API_KEY', 'HOME', 'PATH', 'TZ']"),
        "{text}"
    );
}
