//! The catalog's sync from upstream MCP registries, through the real app and
//! a stand-in registry on 127.0.0.1 that serves real documents of the
//! official registry (tests/fixtures/mcp-seed.json; see its README), with
//! stand-ins for the npm and PyPI registries that prove package ownership.

mod common;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use common::TestApp;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wharf_core::uri::encode_path_segment;
use wharf_core::Timestamp;
use wharf_server::config::mcp::McpUpstream;
use wharf_server::services::mcp::sync::SyncReport;

const FIXTURES: &str = include_str!("fixtures/mcp-seed.json");
const OFFICIAL: &str = "io.modelcontextprotocol.registry/official";
/// The fixture server whose npm package carries no `mcpName` here: its
/// versions fail the ownership check and are held.
const UNPROVEN: &str = "ai.shawndurrani/mcp-merchant";

/// What the stand-in registry does wrong, if anything.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Fault {
    None,
    /// Serves this many pages, then answers 500.
    FailAfter(usize),
    /// Serves this many pages, then never answers.
    HangAfter(usize),
    /// Every page answers 503.
    Unavailable,
    /// Answers a body that is not a server list.
    Malformed,
    /// Sends the same cursor again and again.
    CursorLoop,
    /// Never answers within the sync's deadline.
    Hang,
}

#[derive(Default)]
struct RegistryState {
    /// Entries as the official API serves them: `{server, _meta}`.
    entries: Vec<Value>,
    page_size: usize,
    fault: Option<Fault>,
    served: usize,
    /// `(updated_since, cursor)` of every request.
    asked: Vec<(Option<String>, Option<String>)>,
}

#[derive(Clone)]
struct Registry(Arc<Mutex<RegistryState>>);

impl Registry {
    fn with<T>(&self, f: impl FnOnce(&mut RegistryState) -> T) -> T {
        f(&mut self.0.lock().unwrap())
    }

    fn fault(&self, fault: Fault) {
        self.with(|s| s.fault = Some(fault));
    }

    /// Changes one entry upstream and marks it updated now.
    fn change(&self, name: &str, version: &str, edit: impl FnOnce(&mut Value)) {
        self.with(|s| {
            let entry = s
                .entries
                .iter_mut()
                .find(|e| e["server"]["name"] == name && e["server"]["version"] == version)
                .expect("a fixture entry");
            edit(entry);
            entry["_meta"][OFFICIAL]["updatedAt"] = json!(Timestamp::now().to_rfc3339_micros());
        });
    }
}

fn time(raw: &str) -> std::time::SystemTime {
    humantime::parse_rfc3339_weak(raw).unwrap()
}

async fn servers(
    State(registry): State<Registry>,
    Query(q): Query<HashMap<String, String>>,
) -> axum::response::Response {
    let fault = registry.with(|s| s.fault.unwrap_or(Fault::None));
    let hang = match fault {
        Fault::Hang => true,
        Fault::HangAfter(n) => registry.with(|s| s.served >= n),
        _ => false,
    };
    if hang {
        tokio::time::sleep(Duration::from_secs(30)).await;
    }
    registry.with(|s| {
        s.asked
            .push((q.get("updated_since").cloned(), q.get("cursor").cloned()));
        match fault {
            Fault::Unavailable => return StatusCode::SERVICE_UNAVAILABLE.into_response(),
            Fault::FailAfter(n) if s.served >= n => {
                return StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
            Fault::Malformed => return (StatusCode::OK, "{\"servers\": \"none\"}").into_response(),
            _ => {}
        }
        s.served += 1;
        let limit: usize = q.get("limit").and_then(|l| l.parse().ok()).unwrap_or(30);
        let mut matching: Vec<&Value> = s
            .entries
            .iter()
            .filter(|e| match q.get("updated_since") {
                Some(since) => {
                    time(e["_meta"][OFFICIAL]["updatedAt"].as_str().unwrap()) >= time(since)
                }
                None => true,
            })
            .collect();
        let key = |e: &Value| {
            format!(
                "{}:{}",
                e["server"]["name"].as_str().unwrap(),
                e["server"]["version"].as_str().unwrap()
            )
        };
        matching.sort_by_key(|e| key(e));
        if let Some(cursor) = q.get("cursor") {
            matching.retain(|e| key(e).as_str() > cursor.as_str());
        }
        let page: Vec<Value> = matching
            .iter()
            .take(limit.min(s.page_size))
            .map(|e| (*e).clone())
            .collect();
        let next = if fault == Fault::CursorLoop {
            Some("loop:1.0.0".to_owned())
        } else if matching.len() > page.len() {
            page.last().map(key)
        } else {
            None
        };
        let mut metadata = json!({ "count": page.len() });
        if let Some(next) = next {
            metadata["nextCursor"] = json!(next);
        }
        axum::Json(json!({ "servers": page, "metadata": metadata })).into_response()
    })
}

/// Package identifier → the server that names it, from the fixtures: the
/// stand-in npm and PyPI registries carry each package's ownership marker.
#[derive(Clone, Default)]
struct Packages(Arc<BTreeMap<String, String>>);

async fn npm(
    State(packages): State<Packages>,
    Path((name, version)): Path<(String, String)>,
) -> axum::response::Response {
    match packages.0.get(&format!("npm:{name}")) {
        Some(server) if server != UNPROVEN => {
            axum::Json(json!({ "name": name, "version": version, "mcpName": server }))
                .into_response()
        }
        Some(_) => axum::Json(json!({ "name": name, "version": version })).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn pypi(
    State(packages): State<Packages>,
    Path((name, version)): Path<(String, String)>,
) -> axum::response::Response {
    match packages.0.get(&format!("pypi:{}", pep503(&name))) {
        Some(server) => axum::Json(json!({ "info": {
            "name": name, "version": version,
            "description": format!("An MCP server.\n\nmcp-name: {server}\n"),
        }}))
        .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A PyPI project name as the JSON API spells it in URLs (PEP 503).
fn pep503(name: &str) -> String {
    wharf_core::ProjectName::parse(name)
        .unwrap()
        .normalize()
        .as_str()
        .to_owned()
}

fn fixtures() -> Vec<Value> {
    serde_json::from_str(FIXTURES).unwrap()
}

struct Sync {
    t: TestApp,
    registry: Registry,
    admin: String,
}

async fn setup(tweak: impl FnOnce(&mut wharf_server::config::Config)) -> Sync {
    let entries = fixtures();
    let mut owners = BTreeMap::new();
    for entry in &entries {
        for package in entry["server"]["packages"].as_array().into_iter().flatten() {
            let kind = package["registryType"].as_str().unwrap();
            let identifier = package["identifier"].as_str().unwrap();
            let identifier = match kind {
                "pypi" => pep503(identifier),
                _ => identifier.to_owned(),
            };
            owners.insert(
                format!("{kind}:{identifier}"),
                entry["server"]["name"].as_str().unwrap().to_owned(),
            );
        }
    }
    let registry = Registry(Arc::new(Mutex::new(RegistryState {
        entries,
        page_size: 7,
        ..RegistryState::default()
    })));
    let registry_addr = common::serve_on_loopback(
        axum::Router::new()
            .route("/v0.1/servers", get(servers))
            .with_state(registry.clone()),
    )
    .await;
    let packages_addr = common::serve_on_loopback(
        axum::Router::new()
            .route("/npm/{name}/{version}", get(npm))
            .route("/pypi/{name}/{version}/json", get(pypi))
            .with_state(Packages(Arc::new(owners))),
    )
    .await;
    let t = TestApp::with_config(|c| {
        c.upstream.npm_url = Some(format!("http://{packages_addr}/npm"));
        c.upstream.pypi_url = Some(format!("http://{packages_addr}/pypi"));
        c.mcp_sync.upstreams = vec![McpUpstream {
            name: "official".into(),
            url: format!("http://{registry_addr}/"),
            include: Vec::new(),
            exclude: Vec::new(),
            min_release_age: Duration::from_secs(48 * 3600),
        }];
        c.mcp_sync.interval = None;
        c.mcp_sync.timeout = Duration::from_millis(1500);
        c.mcp_sync.lease = Duration::from_secs(1);
        tweak(c);
    })
    .await;
    let admin = t.admin_token("root").await;
    Sync { t, registry, admin }
}

impl Sync {
    async fn run(&self) -> SyncReport {
        let mut reports = self.t.app.catalog.sync_all().await;
        assert_eq!(reports.len(), 1);
        reports.remove(0)
    }

    async fn run_as(&self, holder: &str) -> SyncReport {
        let mirror = &self.t.app.catalog.mirrors[0];
        self.t.app.catalog.sync(mirror, holder).await
    }

    /// Every served version (deleted ones too), through the public API.
    async fn listed(&self) -> Vec<Value> {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut uri = "/v0.1/servers?limit=100&include_deleted=true".to_owned();
            if let Some(c) = &cursor {
                uri.push_str(&format!("&cursor={}", encode_path_segment(c)));
            }
            let r = self.t.get(&uri, &[]).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text());
            let body = r.json();
            all.extend(body["servers"].as_array().unwrap().iter().cloned());
            match body["metadata"]["nextCursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return all,
            }
        }
    }

    async fn version(&self, name: &str, version: &str) -> common::TestResponse {
        self.t
            .get(
                &format!(
                    "/v0.1/servers/{}/versions/{version}",
                    encode_path_segment(name)
                ),
                &[],
            )
            .await
    }

    async fn status(&self) -> Value {
        let r = self
            .t
            .get(
                "/api/v1/admin/mcp/sync",
                &[("authorization", &format!("Bearer {}", self.admin))],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        r.json()
    }
}

fn versions_of(entries: &[Value], name: &str) -> usize {
    entries
        .iter()
        .filter(|e| e["server"]["name"] == name)
        .count()
}

#[tokio::test]
async fn a_sync_mirrors_every_version_checked_and_holds_what_fails() {
    let s = setup(|_| {}).await;
    let report = s.run().await;
    assert_eq!(report.error, None, "{report:?}");
    assert!(report.complete);
    // 60 versions, 7 a page.
    assert_eq!(report.pages, 9, "{report:?}");
    assert_eq!(report.added, 60, "{report:?}");

    let unproven = versions_of(&fixtures(), UNPROVEN);
    let listed = s.listed().await;
    assert_eq!(
        listed.len(),
        60 - report.held,
        "held versions are not served"
    );
    assert_eq!(report.held, unproven, "only the unproven server is held");
    assert_eq!(versions_of(&listed, UNPROVEN), 0);

    // Mirrored entries say where they come from, and what was checked.
    let exa = s.version("ai.exa/exa", "latest").await;
    assert_eq!(exa.status, StatusCode::OK, "{}", exa.text());
    let body = exa.json();
    assert_eq!(body["server"]["version"], "3.0.9", "semver latest");
    assert_eq!(body["_meta"]["io.wharf/origin"]["registry"], "official");
    assert!(body["_meta"]["io.wharf/origin"]["upstreamPublishedAt"]
        .as_str()
        .unwrap()
        .starts_with("2025-11-07T01:00:19"));
    let npm = s.version("com.supabase/mcp", "0.5.9").await.json();
    let check = &npm["_meta"]["io.wharf/verification"]["packages"][0];
    assert_eq!(
        (check["source"].as_str(), check["ownership"].as_str()),
        (Some("upstream"), Some("marker"))
    );

    // The held version is kept, with its report, for administrators.
    let status = s.status().await;
    let held: Vec<&Value> = status["held"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["name"] == UNPROVEN)
        .collect();
    assert_eq!(held.len(), unproven);
    assert_eq!(held[0]["hold"], "checks");
    let report_text = held[0]["report"].to_string();
    assert!(report_text.contains("mcpName"), "{report_text}");
    assert_eq!(status["upstreams"][0]["name"], "official");
    assert!(status["upstreams"][0]["highWater"].is_string());
    assert!(status["upstreams"][0].get("lastError").is_none());

    // Search covers mirrored entries.
    let found = s.t.get("/v0.1/servers?search=supabase", &[]).await.json();
    assert_eq!(found["servers"][0]["server"]["name"], "com.supabase/mcp");
}

#[tokio::test]
async fn a_second_sync_changes_nothing_and_asks_only_for_what_changed() {
    let s = setup(|_| {}).await;
    assert_eq!(s.run().await.added, 60);
    let before = s.listed().await;
    let second = s.run().await;
    assert_eq!(
        (second.added, second.status_changed, second.conflicts),
        (0, 0, 0),
        "{second:?}"
    );
    assert!(second.complete);
    assert_eq!(s.listed().await, before, "the catalog is unchanged");
    let asked = s.registry.with(|r| r.asked.clone());
    let last = asked.last().unwrap();
    assert!(
        last.0.is_some(),
        "the second run asks from the high-water mark: {last:?}"
    );
    assert!(
        second.pages < 9,
        "only versions updated since the mark are fetched: {second:?}"
    );
}

#[tokio::test]
async fn a_sync_cut_short_resumes_at_its_cursor() {
    let s = setup(|_| {}).await;
    s.registry.fault(Fault::FailAfter(3));
    let first = s.run().await;
    assert!(!first.complete);
    assert!(first.error.as_deref().unwrap().contains("500"), "{first:?}");
    assert_eq!(first.added, 21, "three pages were stored: {first:?}");
    let state = s.status().await;
    let resume = state["upstreams"][0]["resumeCursor"]
        .as_str()
        .expect("the cursor is saved")
        .to_owned();
    assert!(state["upstreams"][0]["lastError"]
        .as_str()
        .unwrap()
        .contains("500"));
    assert!(state["upstreams"][0].get("highWater").is_none());

    s.registry.with(|r| {
        r.fault = None;
        r.asked.clear();
    });
    let second = s.run().await;
    assert_eq!(second.error, None);
    assert!(second.complete);
    let asked = s.registry.with(|r| r.asked.clone());
    assert_eq!(asked[0].1.as_deref(), Some(resume.as_str()), "{asked:?}");
    assert_eq!(first.added + second.added, 60);
    assert_eq!(s.listed().await.len() + second.held + first.held, 60);
}

#[tokio::test]
async fn a_sync_killed_mid_run_is_taken_over_after_its_lease() {
    let s = setup(|_| {}).await;
    // Three pages stored, then upstream stalls, and the instance dies while
    // it waits (its future is dropped): its lease stays behind.
    s.registry.fault(Fault::HangAfter(3));
    let killed = tokio::time::timeout(Duration::from_millis(1000), s.run_as("instance-a")).await;
    assert!(killed.is_err(), "the run was still waiting when killed");
    let stored = s.listed().await.len();
    assert!(stored > 0 && stored <= 21, "{stored}");

    s.registry.with(|r| {
        r.fault = None;
        r.asked.clear();
    });
    // Another instance is refused while the lease runs, then takes over
    // where the dead one stopped.
    assert!(s.run_as("instance-b").await.skipped);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let taken_over = s.run_as("instance-b").await;
    assert!(!taken_over.skipped);
    assert!(taken_over.complete, "{taken_over:?}");
    let asked = s.registry.with(|r| r.asked.clone());
    assert!(
        asked[0].1.is_some(),
        "resumed at the saved cursor: {asked:?}"
    );
    assert_eq!(taken_over.added, 60 - 21, "{taken_over:?}");
}

#[tokio::test]
async fn upstream_faults_stop_the_run_without_losing_anything() {
    let s = setup(|_| {}).await;
    assert_eq!(s.run().await.added, 60);
    let before = s.listed().await;
    let mark = s.status().await["upstreams"][0]["highWater"].clone();
    s.registry.change("ai.exa/exa", "3.0.9", |e| {
        e["_meta"][OFFICIAL]["status"] = json!("deprecated");
    });
    for (fault, expected) in [
        (Fault::Unavailable, "503"),
        (Fault::Malformed, "no `servers` array"),
        (Fault::Hang, "no answer within 1500 ms"),
        (Fault::CursorLoop, "cursor loop"),
    ] {
        s.registry.fault(fault);
        let started = std::time::Instant::now();
        let report = s.run().await;
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{fault:?} must not hang the sync"
        );
        let error = report.error.clone().unwrap_or_default();
        assert!(error.contains(expected), "{fault:?}: {report:?}");
        assert!(!report.complete);
        assert_eq!(s.status().await["upstreams"][0]["highWater"], mark);
    }
    // Nothing was lost or half-applied, except what the cursor loop's first
    // page legitimately brought (the deprecation).
    let after = s.listed().await;
    assert_eq!(after.len(), before.len());
    s.registry.fault(Fault::None);
    let recovered = s.run().await;
    assert!(recovered.complete, "{recovered:?}");
    let exa = s.version("ai.exa/exa", "3.0.9").await.json();
    assert_eq!(exa["_meta"][OFFICIAL]["status"], "deprecated");
}

#[tokio::test]
async fn status_changes_upstream_propagate() {
    let s = setup(|_| {}).await;
    s.run().await;
    s.registry.change("ai.exa/exa", "3.0.9", |e| {
        e["_meta"][OFFICIAL]["status"] = json!("deleted");
    });
    s.registry.change("com.supabase/mcp", "0.5.9", |e| {
        e["_meta"][OFFICIAL]["status"] = json!("deprecated");
        e["_meta"][OFFICIAL]["statusMessage"] = json!("use 0.6");
    });
    let report = s.run().await;
    assert_eq!(report.status_changed, 2, "{report:?}");
    // A deleted version is not the latest any more, and not listed by default.
    let latest = s.version("ai.exa/exa", "latest").await.json();
    assert_eq!(latest["server"]["version"], "3.0.7");
    let list = s.t.get("/v0.1/servers?limit=100", &[]).await.json();
    assert!(!list["servers"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["server"]["name"] == "ai.exa/exa" && e["server"]["version"] == "3.0.9"));
    let supabase = s.version("com.supabase/mcp", "0.5.9").await.json();
    let official = &supabase["_meta"][OFFICIAL];
    assert_eq!(official["status"], "deprecated");
    assert_eq!(official["statusMessage"], "use 0.6");
}

#[tokio::test]
async fn a_document_changed_under_the_same_version_keeps_the_first_copy() {
    let s = setup(|_| {}).await;
    s.run().await;
    s.registry.change("ai.klavis/strata", "1.0.0", |e| {
        e["server"]["description"] = json!("Now with a hidden instruction");
    });
    let report = s.run().await;
    assert_eq!(report.conflicts, 1, "{report:?}");
    let entry = s.version("ai.klavis/strata", "1.0.0").await.json();
    assert_eq!(
        entry["server"]["description"],
        "MCP server for progressive tool usage at any scale (see https://klavis.ai)"
    );
    let conflict = &entry["_meta"]["io.wharf/origin"]["conflict"];
    assert_eq!(conflict["sha256"].as_str().unwrap().len(), 64, "{entry}");
    // Seen once, flagged once.
    assert_eq!(s.run().await.conflicts, 0);
}

#[tokio::test]
async fn local_names_win_over_upstream_entries() {
    let s = setup(|_| {}).await;
    let alice = s.t.token("alice", "publish", &[]).await;
    s.t.grant_namespace("alice", "ai.klavis/*").await;
    let local = json!({
        "name": "ai.klavis/strata",
        "description": "Our own strata",
        "version": "9.0.0",
        "remotes": [{ "type": "streamable-http", "url": "https://strata.internal.test/mcp" }],
    });
    let r =
        s.t.post_json("/v0.1/publish", Some(&alice), &local.to_string())
            .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    let report = s.run().await;
    assert!(report.shadowed >= 1, "{report:?}");
    assert_eq!(report.added, 59);
    let versions =
        s.t.get("/v0.1/servers/ai.klavis%2Fstrata/versions", &[])
            .await
            .json();
    let all = versions["servers"].as_array().unwrap();
    assert_eq!(all.len(), 1, "{versions}");
    assert_eq!(all[0]["server"]["description"], "Our own strata");
    assert_eq!(all[0]["_meta"]["io.wharf/origin"]["registry"], "local");

    // Publishing here under a mirrored name (with the namespace granted)
    // takes the name over from the mirror.
    s.t.grant_namespace("alice", "ai.exa/*").await;
    let ours = json!({
        "name": "ai.exa/exa",
        "description": "Our exa",
        "version": "1.0.0",
        "remotes": [{ "type": "streamable-http", "url": "https://exa.internal.test/mcp" }],
    });
    let r =
        s.t.post_json("/v0.1/publish", Some(&alice), &ours.to_string())
            .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let versions =
        s.t.get("/v0.1/servers/ai.exa%2Fexa/versions", &[])
            .await
            .json();
    assert_eq!(
        versions["servers"].as_array().unwrap().len(),
        1,
        "{versions}"
    );
    s.registry.change("ai.exa/exa", "3.0.9", |e| {
        e["_meta"][OFFICIAL]["status"] = json!("deprecated");
    });
    let after = s.run().await;
    assert_eq!(after.shadowed, 1, "{after:?}");
    assert_eq!(
        s.version("ai.exa/exa", "latest").await.json()["server"]["description"],
        "Our exa"
    );
}

#[tokio::test]
async fn new_versions_wait_out_the_cooldown() {
    let s = setup(|c| c.mcp_sync.upstreams[0].min_release_age = Duration::from_secs(2)).await;
    let mut fresh = fixtures()
        .into_iter()
        .find(|e| e["server"]["name"] == "ai.klavis/strata")
        .unwrap();
    fresh["server"]["version"] = json!("1.1.0");
    let now = Timestamp::now().to_rfc3339_micros();
    fresh["_meta"][OFFICIAL]["publishedAt"] = json!(now);
    fresh["_meta"][OFFICIAL]["updatedAt"] = json!(now);
    s.registry.with(|r| r.entries.push(fresh));

    let report = s.run().await;
    assert_eq!(report.added, 61);
    assert_eq!(
        s.version("ai.klavis/strata", "1.1.0").await.status,
        StatusCode::NOT_FOUND,
        "younger than min_release_age: held"
    );
    assert_eq!(
        s.version("ai.klavis/strata", "latest").await.json()["server"]["version"],
        "1.0.0"
    );
    let status = s.status().await;
    let held = status["held"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == "ai.klavis/strata")
        .cloned()
        .unwrap();
    assert_eq!(held["hold"], "cooldown");
    assert!(held["report"][0]["message"]
        .as_str()
        .unwrap()
        .contains("min_release_age"));

    tokio::time::sleep(Duration::from_millis(2100)).await;
    let later = s.run().await;
    assert_eq!(later.released, 1, "{later:?}");
    assert_eq!(
        s.version("ai.klavis/strata", "latest").await.json()["server"]["version"],
        "1.1.0"
    );
}

#[tokio::test]
async fn include_and_exclude_filters_pick_what_is_mirrored() {
    let s = setup(|c| {
        let up = &mut c.mcp_sync.upstreams[0];
        up.include = vec![wharf_core::glob::NamespaceGlob::parse("com.*/*").unwrap()];
        up.exclude = vec![wharf_core::glob::NamespaceGlob::parse("com.supabase/*").unwrap()];
    })
    .await;
    let report = s.run().await;
    let entries = fixtures();
    let wanted = entries
        .iter()
        .filter(|e| {
            let name = e["server"]["name"].as_str().unwrap();
            name.starts_with("com.") && !name.starts_with("com.supabase/")
        })
        .count();
    assert_eq!(report.added, wanted, "{report:?}");
    assert_eq!(report.filtered, 60 - wanted);
    assert!(s
        .listed()
        .await
        .iter()
        .all(|e| e["server"]["name"].as_str().unwrap().starts_with("com.")));
}

#[tokio::test]
async fn one_sync_per_upstream_at_a_time() {
    let s = setup(|_| {}).await;
    s.t.app
        .ports
        .mcp
        .take_sync_lease(
            "official",
            "elsewhere",
            Timestamp::now().plus(Duration::from_secs(60)),
        )
        .await
        .unwrap()
        .unwrap();
    let report = s.run().await;
    assert!(report.skipped, "{report:?}");
    assert_eq!(report.added, 0);
    assert!(s.listed().await.is_empty());
}

#[tokio::test]
async fn administrators_hold_and_release_mirrored_versions_audited() {
    let s = setup(|_| {}).await;
    s.run().await;
    let admin = format!("Bearer {}", s.admin);
    let alice = format!("Bearer {}", s.t.token("alice", "publish", &[]).await);
    let hold = "/api/v1/admin/mcp/servers/ai.klavis%2Fstrata/versions/1.0.0/hold";
    let release = "/api/v1/admin/mcp/servers/ai.klavis%2Fstrata/versions/1.0.0/release";
    let post = |uri: &'static str, auth: String, body: &'static str| {
        let t = &s.t;
        async move {
            t.send(
                axum::http::Request::post(uri)
                    .header("authorization", auth)
                    .header("content-type", "application/json")
                    .body(axum::body::Body::from(body))
                    .unwrap(),
            )
            .await
        }
    };

    // Bad input: each refused with its reason.
    let r = post(hold, alice.clone(), r#"{"reason":"x"}"#).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert!(r.text().contains("administrator"));
    let r = post(hold, admin.clone(), r#"{"reason":"  "}"#).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text().contains("give a reason"), "{}", r.text());
    let r = post(hold, admin.clone(), r#"{"why":"x"}"#).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text().contains("reason"), "{}", r.text());
    let r = post(
        "/api/v1/admin/mcp/servers/ai.klavis%2Fstrata/versions/7.7.7/hold",
        admin.clone(),
        r#"{"reason":"x"}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.text().contains("no version '7.7.7'"));
    let r = post(release, admin.clone(), r#"{"reason":"x"}"#).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.text().contains("is not held"));

    let r = post(hold, admin.clone(), r#"{"reason":"reported by security"}"#).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["hold"], "admin");
    assert_eq!(
        s.version("ai.klavis/strata", "1.0.0").await.status,
        StatusCode::NOT_FOUND
    );
    let r = post(hold, admin.clone(), r#"{"reason":"again"}"#).await;
    assert_eq!(r.status, StatusCode::CONFLICT);

    let r = post(release, admin.clone(), r#"{"reason":"reviewed"}"#).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        s.version("ai.klavis/strata", "1.0.0").await.status,
        StatusCode::OK
    );

    // A held-by-checks version an administrator releases stays served.
    let unproven = format!(
        "/api/v1/admin/mcp/servers/{}/versions/0.1.3/release",
        encode_path_segment(UNPROVEN)
    );
    let r =
        s.t.send(
            axum::http::Request::post(unproven.as_str())
                .header("authorization", admin.clone())
                .header("content-type", "application/json")
                .body(axum::body::Body::from(
                    r#"{"reason":"owner confirmed by mail"}"#,
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    s.run().await;
    assert_eq!(s.version(UNPROVEN, "0.1.3").await.status, StatusCode::OK);

    let log =
        s.t.get("/api/v1/admin/audit?limit=50", &[("authorization", &admin)])
            .await
            .json();
    let actions: Vec<&str> = log["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"mcp.hold"), "{actions:?}");
    assert_eq!(actions.iter().filter(|a| **a == "mcp.release").count(), 2);
    assert!(actions.contains(&"admin.denied"), "{actions:?}");
}

#[tokio::test]
async fn mirrored_statuses_follow_upstream_not_local_publishers() {
    let s = setup(|_| {}).await;
    s.run().await;
    let r =
        s.t.send(
            axum::http::Request::patch("/v0.1/servers/ai.exa%2Fexa/versions/3.0.9/status")
                .header("authorization", format!("Bearer {}", s.admin))
                .header("content-type", "application/json")
                .body(axum::body::Body::from(r#"{"status":"deprecated"}"#))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert!(r.text().contains("mirrored from upstream 'official'"));
}

#[tokio::test]
async fn the_admin_sync_route_runs_a_sync_audited_and_refuses_others() {
    let s = setup(|_| {}).await;
    let r = s.t.post_json("/api/v1/admin/mcp/sync", None, "").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let user = s.t.token("bob", "read", &[]).await;
    let r =
        s.t.post_json("/api/v1/admin/mcp/sync", Some(&user), "")
            .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r =
        s.t.post_json("/api/v1/admin/mcp/sync", Some(&s.admin), "")
            .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["reports"][0]["added"], 60);
    let log =
        s.t.get(
            "/api/v1/admin/audit?action=mcp.sync",
            &[("authorization", &format!("Bearer {}", s.admin))],
        )
        .await
        .json();
    assert_eq!(log["events"].as_array().unwrap().len(), 1, "{log}");
}

#[tokio::test]
async fn without_upstreams_the_sync_route_says_how_to_configure_one() {
    let t = TestApp::new().await;
    let admin = t.admin_token("root").await;
    let r = t
        .post_json("/api/v1/admin/mcp/sync", Some(&admin), "")
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.text().contains("[[mcp.upstreams]]"), "{}", r.text());
}
