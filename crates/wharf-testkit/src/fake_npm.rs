//! A stand-in upstream npm registry on 127.0.0.1, for tests of the npm proxy.
//!
//! [`FakeNpm`] serves the tarballs a test gives it (real ones packed by `npm pack`, or ones
//! built with [`NpmPackage`](crate::npm::NpmPackage)) the way a registry does:
//!
//! - `GET /{name}`, `GET /@scope%2fname` and `GET /@scope/name`: the full packument, built
//!   from each tarball's own `package.json`, with `dist.tarball`, `dist.integrity` (SHA-512)
//!   and `dist.shasum` (SHA-1), `dist-tags.latest` (the newest stable version), and `time`;
//!   an `ETag`, and 304 for `If-None-Match`; 404 for an unknown name;
//! - `GET /{name}/-/{file}.tgz`: the tarball's bytes.
//!
//! A test sets publish times, makes a tarball's bytes differ from what its packument
//! declares ([`FakeNpm::corrupt`]), slows tarballs down, and reads request counters.
//!
//! It is a test helper: a tarball it cannot read panics with a message.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use base64::Engine as _;
use serde_json::{json, Map, Value};
use sha1::Digest as _;
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The publish time [`FakeNpm::add_tarball`] gives by default: 2020-01-01T00:00:00Z.
pub fn default_publish_time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_577_836_800)
}

struct Version {
    manifest: Map<String, Value>,
    bytes: Vec<u8>,
    /// What is served instead of `bytes`, while the packument declares `bytes`' digests.
    served: Option<Vec<u8>>,
    published: SystemTime,
}

#[derive(Default)]
struct Inner {
    /// By package name, then version.
    packages: BTreeMap<String, BTreeMap<String, Version>>,
    packument_requests: HashMap<String, u64>,
    tarball_requests: HashMap<String, u64>,
    tarball_delay: Duration,
}

/// The stand-in registry; stops when dropped.
pub struct FakeNpm {
    inner: Arc<Mutex<Inner>>,
    origin: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeNpm {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeNpm {
    /// Binds 127.0.0.1 on a free port and starts serving, with no packages yet.
    pub async fn start() -> FakeNpm {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1");
        let origin = format!(
            "http://{}",
            listener
                .local_addr()
                .expect("a bound listener has an address")
        );
        let inner = Arc::new(Mutex::new(Inner::default()));
        let shared = Shared {
            inner: inner.clone(),
            origin: origin.clone(),
        };
        let app = Router::new().fallback(answer).with_state(shared);
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("the stand-in serves");
        });
        FakeNpm {
            inner,
            origin,
            task,
        }
    }

    /// The registry's root, e.g. `http://127.0.0.1:41234/`: what `[proxy.npm] upstream` takes.
    pub fn url(&self) -> String {
        format!("{}/", self.origin)
    }

    /// Adds one tarball, published at `published`; its `package.json` names the package
    /// and version. Returns `name@version`.
    pub fn add_tarball(&self, bytes: Vec<u8>, published: SystemTime) -> String {
        let manifest = package_json(&bytes);
        let name = manifest["name"]
            .as_str()
            .expect("package.json names it")
            .to_owned();
        let version = manifest["version"]
            .as_str()
            .expect("package.json has a version")
            .to_owned();
        let Value::Object(manifest) = manifest else {
            panic!("package.json is not an object")
        };
        self.lock()
            .packages
            .entry(name.clone())
            .or_default()
            .insert(
                version.clone(),
                Version {
                    manifest,
                    bytes,
                    served: None,
                    published,
                },
            );
        format!("{name}@{version}")
    }

    /// Adds every `.tgz` in `dir` with [`default_publish_time`]; how many.
    pub fn add_dir(&self, dir: &Path) -> usize {
        let mut added = 0;
        for entry in std::fs::read_dir(dir).expect("read the tarball directory") {
            let path = entry.expect("a directory entry").path();
            if path.extension().is_some_and(|e| e == "tgz") {
                let bytes = std::fs::read(&path).expect("read a tarball");
                self.add_tarball(bytes, default_publish_time());
                added += 1;
            }
        }
        added
    }

    /// Serves other bytes for `name@version` while the packument keeps declaring the real ones.
    pub fn corrupt(&self, name: &str, version: &str) {
        let mut inner = self.lock();
        let v = inner
            .packages
            .get_mut(name)
            .and_then(|p| p.get_mut(version))
            .expect("corrupt a version the stand-in holds");
        let mut other = v.bytes.clone();
        let last = other.len() - 1;
        other[last] ^= 0xff;
        v.served = Some(other);
    }

    /// Waits this long before answering each tarball request.
    pub fn set_tarball_delay(&self, delay: Duration) {
        self.lock().tarball_delay = delay;
    }

    /// Packument requests for `name` so far.
    pub fn packument_requests(&self, name: &str) -> u64 {
        self.lock()
            .packument_requests
            .get(name)
            .copied()
            .unwrap_or(0)
    }

    /// Tarball requests for `name` so far (any version).
    pub fn tarball_requests(&self, name: &str) -> u64 {
        self.lock().tarball_requests.get(name).copied().unwrap_or(0)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(Clone)]
struct Shared {
    inner: Arc<Mutex<Inner>>,
    origin: String,
}

async fn answer(State(shared): State<Shared>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let decoded = percent_encoding::percent_decode_str(path.trim_start_matches('/'))
        .decode_utf8_lossy()
        .into_owned();
    if let Some((name, file)) = decoded.split_once("/-/") {
        return tarball(&shared, name, file).await;
    }
    packument(&shared, &decoded, request.headers())
}

fn packument(shared: &Shared, name: &str, headers: &HeaderMap) -> Response {
    let mut inner = shared.inner.lock().unwrap_or_else(|e| e.into_inner());
    *inner.packument_requests.entry(name.to_owned()).or_default() += 1;
    let Some(versions) = inner.packages.get(name) else {
        return (StatusCode::NOT_FOUND, "{\"error\":\"Not found\"}").into_response();
    };
    let basename = name.rsplit('/').next().unwrap_or(name);
    let mut listed = Map::new();
    let mut time = Map::new();
    let mut latest: Option<(Vec<u64>, String)> = None;
    let mut newest = UNIX_EPOCH;
    for (version, v) in versions {
        let mut doc = v.manifest.clone();
        doc.insert(
            "dist".into(),
            json!({
                "tarball": format!("{}/{name}/-/{basename}-{version}.tgz", shared.origin),
                "integrity": format!("sha512-{}", base64::engine::general_purpose::STANDARD.encode(sha2::Sha512::digest(&v.bytes))),
                "shasum": hex(&sha1::Sha1::digest(&v.bytes)),
            }),
        );
        listed.insert(version.clone(), Value::Object(doc));
        time.insert(version.clone(), Value::String(rfc3339(v.published)));
        newest = newest.max(v.published);
        if !version.contains('-') {
            let key: Vec<u64> = version.split('.').filter_map(|p| p.parse().ok()).collect();
            if latest.as_ref().is_none_or(|(k, _)| key > *k) {
                latest = Some((key, version.clone()));
            }
        }
    }
    time.insert(
        "created".into(),
        Value::String(rfc3339(default_publish_time())),
    );
    time.insert("modified".into(), Value::String(rfc3339(newest)));
    let mut tags = Map::new();
    if let Some((_, latest)) = latest {
        tags.insert("latest".into(), Value::String(latest));
    }
    let body = json!({
        "_id": name,
        "name": name,
        "dist-tags": tags,
        "versions": listed,
        "time": time,
    })
    .to_string();
    let etag = format!("\"{}\"", hex(&sha1::Sha1::digest(body.as_bytes())));
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == etag)
    {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (header::ETAG, etag),
        ],
        body,
    )
        .into_response()
}

async fn tarball(shared: &Shared, name: &str, file: &str) -> Response {
    let (bytes, delay) = {
        let mut inner = shared.inner.lock().unwrap_or_else(|e| e.into_inner());
        *inner.tarball_requests.entry(name.to_owned()).or_default() += 1;
        let basename = name.rsplit('/').next().unwrap_or(name);
        let found = inner.packages.get(name).and_then(|versions| {
            versions.iter().find_map(|(version, v)| {
                (file == format!("{basename}-{version}.tgz"))
                    .then(|| v.served.clone().unwrap_or_else(|| v.bytes.clone()))
            })
        });
        (found, inner.tarball_delay)
    };
    tokio::time::sleep(delay).await;
    match bytes {
        Some(bytes) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/octet-stream")],
            Body::from(bytes),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "{\"error\":\"Not found\"}").into_response(),
    }
}

/// The `package/package.json` of a tarball.
fn package_json(tgz: &[u8]) -> Value {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(tgz));
    for entry in archive.entries().expect("a tar.gz") {
        let mut entry = entry.expect("a tar member");
        let path = entry
            .path()
            .expect("a member path")
            .to_string_lossy()
            .into_owned();
        if path
            .split_once('/')
            .is_some_and(|(_, rest)| rest == "package.json")
        {
            let mut text = String::new();
            entry.read_to_string(&mut text).expect("read package.json");
            return serde_json::from_str(&text).expect("package.json is JSON");
        }
    }
    panic!("the tarball has no package.json")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}
