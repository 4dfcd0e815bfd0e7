//! A stand-in npm registry and PyPI JSON API on 127.0.0.1 that answers by
//! path and counts the requests it receives, per raw (still escaped) path.
#![allow(dead_code, reason = "each test binary uses a different part")]

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wharf_upstream::{Upstream, UpstreamSettings};

/// The answer cap tests configure; the stand-in's oversized answers exceed it.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// How long the "slow" paths take: far beyond any timeout a test sets.
pub const SLOW: Duration = Duration::from_secs(5);

/// How long the "popular" paths take, so concurrent look-ups overlap.
pub const POPULAR_DELAY: Duration = Duration::from_millis(300);

/// The marker the stand-in's npm packages carry.
pub const MCP_NAME: &str = "io.github.example/demo";

pub struct StandIn {
    address: SocketAddr,
    hits: Arc<Mutex<HashMap<String, usize>>>,
}

#[derive(Clone)]
struct Shared {
    address: SocketAddr,
    hits: Arc<Mutex<HashMap<String, usize>>>,
}

impl StandIn {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let hits = Arc::new(Mutex::new(HashMap::new()));
        let app = Router::new().fallback(answer).with_state(Shared {
            address,
            hits: hits.clone(),
        });
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { address, hits }
    }

    /// The npm base as `npm config get registry` prints it: with a trailing slash.
    pub fn npm_url(&self) -> String {
        format!("http://{}/npm/", self.address)
    }

    pub fn pypi_url(&self) -> String {
        format!("http://{}/pypi", self.address)
    }

    /// Both registries configured, a 2 s timeout, long TTLs, a 64 KiB cap.
    pub fn settings(&self) -> UpstreamSettings {
        UpstreamSettings {
            npm_url: Some(self.npm_url()),
            pypi_url: Some(self.pypi_url()),
            timeout: Duration::from_secs(2),
            max_body_bytes: MAX_BODY_BYTES,
            ..UpstreamSettings::default()
        }
    }

    pub fn upstream(&self) -> Upstream {
        Upstream::new(self.settings()).unwrap()
    }

    /// Requests received for exactly `path` (as sent, e.g. `/npm/@scope%2Fpkg/1.0.0`).
    pub fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }

    /// Requests received in all.
    pub fn total_hits(&self) -> usize {
        self.hits.lock().unwrap().values().sum()
    }
}

/// An npm version document.
pub fn npm_doc(name: &str, version: &str, mcp_name: Option<&str>) -> Value {
    let mut doc = json!({
        "name": name,
        "version": version,
        "description": "a stand-in package",
        "dist": {"tarball": "http://127.0.0.1/x.tgz", "shasum": "0"},
    });
    if let Some(mcp_name) = mcp_name {
        doc["mcpName"] = json!(mcp_name);
    }
    doc
}

/// A PyPI release's JSON.
pub fn pypi_doc(name: &str, version: &str, description: Value) -> Value {
    json!({
        "info": {"name": name, "version": version, "description": description, "summary": "x"},
        "urls": [],
        "vulnerabilities": [],
    })
}

async fn answer(State(shared): State<Shared>, uri: Uri) -> Response {
    let path = uri.path().to_owned();
    let seen = {
        let mut hits = shared.hits.lock().unwrap();
        let count = hits.entry(path.clone()).or_insert(0);
        *count += 1;
        *count
    };
    let ok = |doc: Value| axum::Json(doc).into_response();
    let status = |code: u16| StatusCode::from_u16(code).unwrap().into_response();
    let padding = "x".repeat(MAX_BODY_BYTES * 4);
    match path.as_str() {
        // npm
        "/npm/found-pkg/1.0.0" => ok(npm_doc("found-pkg", "1.0.0", Some(MCP_NAME))),
        "/npm/@scope%2Fpkg/2.0.0" => ok(npm_doc("@scope/pkg", "2.0.0", Some(MCP_NAME))),
        "/npm/no-marker/1.0.0" => ok(npm_doc("no-marker", "1.0.0", None)),
        "/npm/odd-marker/1.0.0" => ok(
            json!({"name": "odd-marker", "version": "1.0.0", "mcpName": ["io.github.example/demo"]}),
        ),
        "/npm/other-name/1.0.0" => ok(npm_doc("found-pkg", "1.0.0", Some(MCP_NAME))),
        "/npm/resolves/1.0.0" => ok(npm_doc("resolves", "1.0.1", Some(MCP_NAME))),
        "/npm/gone/1.0.0" => status(410),
        "/npm/busy/1.0.0" => status(429),
        "/npm/broken/1.0.0" => status(500),
        "/npm/teapot/1.0.0" => status(418),
        "/npm/slow/1.0.0" => {
            tokio::time::sleep(SLOW).await;
            ok(npm_doc("slow", "1.0.0", None))
        }
        "/npm/huge/1.0.0" => ok(json!({"name": "huge", "version": "1.0.0", "pad": padding})),
        "/npm/huge-chunked/1.0.0" => {
            // No Content-Length: the cap must hold while reading.
            let chunks = (0..64).map(|_| Ok::<_, std::convert::Infallible>(vec![b' '; 4096]));
            let body = Body::from_stream(futures_util::stream::iter(chunks));
            ([(header::CONTENT_TYPE, "application/json")], body).into_response()
        }
        "/npm/not-json/1.0.0" => (
            [(header::CONTENT_TYPE, "text/html")],
            "<html><body>Welcome</body></html>",
        )
            .into_response(),
        "/npm/flaky/1.0.0" if seen == 1 => status(500),
        "/npm/flaky/1.0.0" => ok(npm_doc("flaky", "1.0.0", Some(MCP_NAME))),
        "/npm/popular/1.0.0" => {
            tokio::time::sleep(POPULAR_DELAY).await;
            ok(npm_doc("popular", "1.0.0", Some(MCP_NAME)))
        }
        "/npm/popular-but-down/1.0.0" => {
            tokio::time::sleep(POPULAR_DELAY).await;
            status(503)
        }
        "/npm/moved-away/1.0.0" => redirect(format!(
            "http://localhost:{}/npm/found-pkg/1.0.0",
            shared.address.port()
        )),
        "/npm/moved-here/1.0.0" => redirect("/npm/found-pkg-moved/1.0.0".to_owned()),
        "/npm/found-pkg-moved/1.0.0" => ok(npm_doc("moved-here", "1.0.0", Some(MCP_NAME))),
        "/npm/loop/1.0.0" => redirect("/npm/loop/1.0.0".to_owned()),

        // PyPI
        "/pypi/found-pkg/1.0/json" => ok(pypi_doc(
            "found-pkg",
            "1.0",
            json!(format!("# Demo\n\nmcp-name: {MCP_NAME}\n")),
        )),
        "/pypi/found-pkg/1.0.0/json" => ok(pypi_doc("found-pkg", "1.0", json!("mcp-name: x"))),
        "/pypi/no-description/1.0/json" => ok(pypi_doc("no-description", "1.0", Value::Null)),
        "/pypi/bad-shape/1.0/json" => ok(json!({"info": "nope"})),
        "/pypi/other-name/1.0/json" => ok(pypi_doc("found-pkg", "1.0", json!(""))),
        // A PyPI JSON API redirects to the canonical spelling of a name.
        "/pypi/mixed-case/2.0/json" => redirect("/pypi/Mixed_Case/2.0/json".to_owned()),
        "/pypi/Mixed_Case/2.0/json" => ok(pypi_doc("Mixed_Case", "2.0", json!("mcp-name: y"))),
        "/pypi/busy/1.0/json" => status(503),
        "/pypi/huge/1.0/json" => ok(pypi_doc("huge", "1.0", json!(padding))),
        "/pypi/not-json/1.0/json" => "not json at all".into_response(),
        _ => status(404),
    }
}

fn redirect(location: String) -> Response {
    (
        StatusCode::MOVED_PERMANENTLY,
        [(header::LOCATION, location)],
    )
        .into_response()
}
