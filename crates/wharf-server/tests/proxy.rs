//! The PyPI pull-through proxy against a stand-in upstream index on
//! 127.0.0.1: private names win, the release cooldown, vetting on first
//! download, single-flight, outages and hostile answers. The real-client
//! installs through the proxy are in `wharf-cli/tests/proxy.rs`.

mod common;

use axum::http::StatusCode;
use common::*;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use wharf_server::config::proxy::PypiProxy;
use wharf_testkit::fake_pypi::{FakePypi, Fault};
use wharf_testkit::WheelBuilder;

const JSON: &str = "application/vnd.pypi.simple.v1+json";

fn days_ago(days: u64) -> SystemTime {
    SystemTime::now() - Duration::from_secs(days * 24 * 3600)
}

fn hours_ago(hours: u64) -> SystemTime {
    SystemTime::now() - Duration::from_secs(hours * 3600)
}

/// An app proxying `upstream`, with the default 48 h cooldown and no page
/// caching in-process (so each request shows what the proxy decides).
async fn proxied(upstream: &FakePypi, tweak: impl FnOnce(&mut PypiProxy)) -> TestApp {
    let mut settings = PypiProxy::new(upstream.simple_url());
    tweak(&mut settings);
    TestApp::with_config(move |c| {
        c.simple_cache_ttl_secs = 0;
        c.proxy_pypi = Some(settings);
    })
    .await
}

fn wheel(name: &str, version: &str) -> WheelBuilder {
    WheelBuilder::new(name, version).summary("from upstream")
}

async fn page(app: &TestApp, name: &str) -> TestResponse {
    app.get(&format!("/simple/{name}/"), &[("accept", JSON)])
        .await
}

fn filenames(page: &TestResponse) -> Vec<String> {
    page.json()["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["filename"].as_str().unwrap().to_owned())
        .collect()
}

/// The download URL the page gives for `filename`.
fn url_of(page: &TestResponse, filename: &str) -> String {
    page.json()["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["filename"] == filename)
        .unwrap_or_else(|| panic!("{filename} not on {}", page.text()))["url"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn proxied_pages_keep_upstream_facts_and_point_at_wharf() {
    let upstream = FakePypi::start().await;
    let w = wheel("demo", "1.0").requires_python(">=3.8");
    upstream.add_file(&w.filename(), w.build(), days_ago(10));
    let old = wheel("demo", "0.9");
    upstream.add_file(&old.filename(), old.build(), days_ago(20));
    upstream.yank(&old.filename(), Some("broken"));
    let app = proxied(&upstream, |_| {}).await;

    let json = page(&app, "demo").await;
    assert_eq!(json.status, StatusCode::OK, "{}", json.text());
    let body = json.json();
    assert_eq!(body["name"], "demo");
    assert_eq!(body["versions"], serde_json::json!(["0.9", "1.0"]));
    let file = &body["files"][1];
    let sha = format!("{:x}", <sha2::Sha256 as sha2::Digest>::digest(w.build()));
    assert_eq!(file["hashes"]["sha256"], sha);
    assert_eq!(file["url"], format!("/files/{sha}/{}", w.filename()));
    assert_eq!(file["requires-python"], ">=3.8");
    assert_eq!(file["size"], w.build().len());
    assert!(file["upload-time"].as_str().unwrap().ends_with('Z'));
    assert!(file["core-metadata"]["sha256"].is_string());
    assert_eq!(body["files"][0]["yanked"], "broken");

    // The same page as PEP 503 HTML.
    let html = app.get("/simple/demo/", &[("accept", "text/html")]).await;
    assert_eq!(html.status, StatusCode::OK);
    let text = html.text();
    assert!(
        text.contains(&format!("/files/{sha}/{}#sha256={sha}", w.filename())),
        "{text}"
    );
    assert!(text.contains("data-requires-python=\"&gt;=3.8\""), "{text}");
    assert!(text.contains("data-yanked=\"broken\""), "{text}");
    assert!(
        !text.contains(&upstream.base_url()),
        "no upstream URL leaks: {text}"
    );

    // The metadata file first (as pip asks), then the wheel.
    let meta = app
        .get(&format!("{}.metadata", url_of(&json, &w.filename())), &[])
        .await;
    assert_eq!(meta.status, StatusCode::OK, "{}", meta.text());
    assert_eq!(meta.body.as_ref(), w.metadata_bytes().as_slice());
    let file = app.get(&url_of(&json, &w.filename()), &[]).await;
    assert_eq!(file.status, StatusCode::OK, "{}", file.text());
    assert_eq!(file.body.as_ref(), w.build().as_slice());
    // Later downloads come from the blob store.
    let again = app.get(&url_of(&json, &w.filename()), &[]).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(upstream.file_requests(&w.filename()), 1);
    assert_eq!(upstream.metadata_requests(&w.filename()), 1);
    let meta_again = app
        .get(&format!("{}.metadata", url_of(&json, &w.filename())), &[])
        .await;
    assert_eq!(meta_again.status, StatusCode::OK);
    assert_eq!(upstream.metadata_requests(&w.filename()), 1);

    // The page is fetched once while it is fresh, whatever the format.
    assert_eq!(upstream.page_requests("demo"), 1);

    // A name upstream lacks is a 404, remembered briefly.
    let missing = page(&app, "no-such-thing").await;
    missing.assert_error(StatusCode::NOT_FOUND, "not_found", "no-such-thing");
    page(&app, "no-such-thing").await;
    assert_eq!(upstream.page_requests("no-such-thing"), 1);
}

#[tokio::test]
async fn private_names_win_and_upstream_is_never_asked_about_them() {
    let upstream = FakePypi::start().await;
    let app = proxied(&upstream, |_| {}).await;
    app.user("alice").await;
    let token = app.token("alice", "publish", &[]).await;
    let local = wheel("mine", "1.0");
    let uploaded = app
        .upload(Some(&token), &UploadForm::wheel(&local, "mine", "1.0"))
        .await;
    assert_eq!(uploaded.status, StatusCode::OK, "{}", uploaded.text());
    // Later, someone publishes the private name upstream, with a higher version.
    let higher = wheel("mine", "9.0");
    upstream.add_file(&higher.filename(), higher.build(), days_ago(30));

    let listed = page(&app, "mine").await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(filenames(&listed), vec![local.filename()]);
    // Nor can the higher upstream file be fetched by its URL.
    let sha = format!(
        "{:x}",
        <sha2::Sha256 as sha2::Digest>::digest(higher.build())
    );
    let sneaky = app
        .get(&format!("/files/{sha}/{}", higher.filename()), &[])
        .await;
    assert_eq!(sneaky.status, StatusCode::NOT_FOUND);
    assert_eq!(
        upstream.page_requests("mine"),
        0,
        "upstream was asked about a hosted name"
    );
    assert_eq!(upstream.file_requests(&higher.filename()), 0);

    // A held local upload still keeps the name private.
    let held = wharf_testkit::malicious::pth_import();
    let name = "demo-pkg";
    let form = UploadForm::new(name, "1.0", &held.filename, held.bytes.clone());
    let up = app.upload(Some(&token), &form).await;
    assert_eq!(up.status, StatusCode::OK, "{}", up.text());
    upstream.add_file(
        &wheel(name, "5.0").filename(),
        wheel(name, "5.0").build(),
        days_ago(30),
    );
    page(&app, name)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found", name);
    assert_eq!(upstream.page_requests(name), 0);

    // And a proxied name takes no uploads.
    let requests = wheel("proxied-lib", "1.0");
    upstream.add_file(&requests.filename(), requests.build(), days_ago(30));
    let p = page(&app, "proxied-lib").await;
    let fetched = app.get(&url_of(&p, &requests.filename()), &[]).await;
    assert_eq!(fetched.status, StatusCode::OK, "{}", fetched.text());
    let shadow = wheel("proxied-lib", "2.0");
    app.upload(
        Some(&token),
        &UploadForm::wheel(&shadow, "proxied-lib", "2.0"),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "proxied_name", "proxy");

    // A first upload may not take a name this registry has seen upstream,
    // or a popular one (upstream itself is not asked: that would tell it
    // every private name); an administrator acting as one may.
    let taken = wheel("upstream-only", "1.0");
    upstream.add_file(&taken.filename(), taken.build(), days_ago(30));
    assert_eq!(page(&app, "upstream-only").await.status, StatusCode::OK);
    let local = wheel("upstream-only", "0.1");
    app.upload(
        Some(&token),
        &UploadForm::wheel(&local, "upstream-only", "0.1"),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "name_on_upstream", "would shadow");
    let project = wharf_core::NormalizedName::parse("upstream-only").unwrap();
    assert!(app
        .app
        .ports
        .projects
        .find_project(&project)
        .await
        .unwrap()
        .is_none());
    let popular = wheel("requests", "99.0");
    app.upload(
        Some(&token),
        &UploadForm::wheel(&popular, "requests", "99.0"),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "name_on_upstream", "requests");
    assert_eq!(upstream.page_requests("requests"), 0);
    app.app.accounts.create_user("root", true).await.unwrap();
    let admin = app.token("root", "admin,publish", &[]).await;
    let forked = app
        .upload(
            Some(&admin),
            &UploadForm::wheel(&local, "upstream-only", "0.1"),
        )
        .await;
    assert_eq!(forked.status, StatusCode::OK, "{}", forked.text());
}

#[tokio::test]
async fn the_cooldown_leaves_new_files_out_until_they_are_old_enough() {
    let upstream = FakePypi::start().await;
    let fresh = wheel("coolpkg", "2.0");
    let settled = wheel("coolpkg", "1.0");
    upstream.add_file(&fresh.filename(), fresh.build(), hours_ago(1));
    upstream.add_file(&settled.filename(), settled.build(), days_ago(3));
    let trusted = wheel("internal-sdk", "3.0");
    upstream.add_file(&trusted.filename(), trusted.build(), hours_ago(1));
    let app = proxied(&upstream, |p| {
        p.allow_newer = vec![wharf_core::proxy::Spec::parse("internal-sdk").unwrap()];
    })
    .await;

    let listed = page(&app, "coolpkg").await;
    assert_eq!(filenames(&listed), vec![settled.filename()]);
    // Its URL is refused too, with the reason.
    let sha = format!(
        "{:x}",
        <sha2::Sha256 as sha2::Digest>::digest(fresh.build())
    );
    app.get(&format!("/files/{sha}/{}", fresh.filename()), &[])
        .await
        .assert_error(StatusCode::FORBIDDEN, "held", "cooldown is 2days");
    assert_eq!(upstream.file_requests(&fresh.filename()), 0);

    // The project API says why 2.0 is missing.
    let api = app.get("/api/v1/projects/coolpkg", &[]).await;
    assert_eq!(api.status, StatusCode::OK, "{}", api.text());
    let held = &api.json()["held_back"];
    assert_eq!(held[0]["filename"], fresh.filename(), "{held}");
    assert_eq!(held[0]["reason"], "cooldown");

    // An exempt project is served at once.
    assert_eq!(
        filenames(&page(&app, "internal-sdk").await),
        vec![trusted.filename()]
    );

    // An administrator admits one version now.
    let proxy = app.app.pypi_proxy.clone().unwrap();
    let admitted = proxy
        .core()
        .add_rule(
            wharf_core::proxy::RuleKind::Admit,
            wharf_core::proxy::Spec::parse("coolpkg==2.0").unwrap(),
            "needed for the hotfix".into(),
            wharf_core::model::NewAuditEvent::new("x", "y"),
        )
        .await
        .unwrap();
    assert!(admitted.is_some());
    let listed = page(&app, "coolpkg").await;
    assert_eq!(
        filenames(&listed),
        vec![settled.filename(), fresh.filename()]
    );
    let audit = app.app.ports.audit.recent(10).await.unwrap();
    assert!(audit
        .iter()
        .any(|e| e.action == "proxy.rule.add" && e.detail.contains("coolpkg==2.0")));
}

#[tokio::test]
async fn deny_and_allow_only_lists_refuse_names_and_versions() {
    let upstream = FakePypi::start().await;
    for (name, version) in [
        ("evil", "1.0"),
        ("okpkg", "1.0"),
        ("okpkg", "1.1"),
        ("other", "1.0"),
    ] {
        let w = wheel(name, version);
        upstream.add_file(&w.filename(), w.build(), days_ago(10));
    }
    let app = proxied(&upstream, |p| {
        p.deny = vec![
            wharf_core::proxy::Spec::parse("evil").unwrap(),
            wharf_core::proxy::Spec::parse("okpkg==1.1").unwrap(),
        ];
    })
    .await;
    page(&app, "evil")
        .await
        .assert_error(StatusCode::FORBIDDEN, "denied", "'evil' is denied");
    assert_eq!(upstream.page_requests("evil"), 0);
    assert_eq!(
        filenames(&page(&app, "okpkg").await),
        vec![wheel("okpkg", "1.0").filename()]
    );

    let curated = proxied(&upstream, |p| {
        p.allow_only = vec![wharf_core::proxy::Spec::parse("okpkg").unwrap()];
    })
    .await;
    assert_eq!(page(&curated, "okpkg").await.status, StatusCode::OK);
    assert_eq!(page(&curated, "other").await.status, StatusCode::NOT_FOUND);
    assert_eq!(upstream.page_requests("other"), 0);
}

#[tokio::test]
async fn a_malicious_upstream_wheel_is_held_on_first_download_and_never_served() {
    let upstream = FakePypi::start().await;
    let bad = wharf_testkit::malicious::pth_import();
    upstream.add_file(&bad.filename, bad.bytes.clone(), days_ago(10));
    let app = proxied(&upstream, |_| {}).await;
    let listed = page(&app, "demo-pkg").await;
    let url = url_of(&listed, &bad.filename);
    let refused = app.get(&url, &[]).await;
    refused.assert_error(StatusCode::FORBIDDEN, "held", bad.rule);
    assert!(refused.text().contains("/report"), "{}", refused.text());
    // Asked again: still refused, from what is stored, without a second fetch.
    app.get(&url, &[])
        .await
        .assert_error(StatusCode::FORBIDDEN, "held", bad.rule);
    assert_eq!(upstream.file_requests(&bad.filename), 1);
    // It is off the page, and in the review queue with its rule.
    let listed = page(&app, "demo-pkg").await;
    assert!(filenames(&listed).is_empty(), "{}", listed.text());
    app.app.accounts.create_user("root", true).await.unwrap();
    let admin = app.token("root", "admin", &[]).await;
    let queue = app
        .get(
            "/api/v1/admin/quarantine",
            &[("authorization", &format!("Bearer {admin}"))],
        )
        .await;
    assert_eq!(queue.status, StatusCode::OK, "{}", queue.text());
    let text = queue.text();
    assert!(
        text.contains(&bad.filename) && text.contains(bad.rule),
        "{text}"
    );
}

#[tokio::test]
async fn a_file_whose_bytes_differ_from_the_upstream_hash_is_refused_and_audited() {
    let upstream = FakePypi::start().await;
    let w = wheel("tampered", "1.0");
    upstream.add_file(&w.filename(), w.build(), days_ago(10));
    upstream.set_fault(Fault::WrongHash {
        filename: w.filename(),
    });
    let app = proxied(&upstream, |_| {}).await;
    let url = url_of(&page(&app, "tampered").await, &w.filename());
    app.get(&url, &[]).await.assert_error(
        StatusCode::BAD_GATEWAY,
        "upstream_hash_mismatch",
        "does not match the SHA-256",
    );
    assert!(
        app.app
            .ports
            .files
            .find_file(&w.filename())
            .await
            .unwrap()
            .is_none(),
        "nothing stored"
    );
    let audit = app.app.ports.audit.recent(10).await.unwrap();
    assert!(
        audit.iter().any(|e| e.action == "proxy.hash_mismatch"),
        "{audit:?}"
    );
    assert_eq!(app.tmp_entries(), 0, "no staged leftovers");

    // The same for a metadata file, and for a file over the size cap.
    let m = wheel("tampered-meta", "1.0");
    upstream.add_file(&m.filename(), m.build(), days_ago(10));
    upstream.set_fault(Fault::WrongMetadataHash {
        filename: m.filename(),
    });
    let url = url_of(&page(&app, "tampered-meta").await, &m.filename());
    app.get(&format!("{url}.metadata"), &[]).await.assert_error(
        StatusCode::BAD_GATEWAY,
        "upstream_hash_mismatch",
        ".metadata",
    );
    let small = proxied(&upstream, |p| p.max_file_bytes = 512).await;
    let big = wheel("too-big", "1.0").file("too_big/blob.bin", vec![1u8; 4096]);
    upstream.add_file(&big.filename(), big.build(), days_ago(10));
    let url = url_of(&page(&small, "too-big").await, &big.filename());
    small.get(&url, &[]).await.assert_error(
        StatusCode::BAD_GATEWAY,
        "upstream_invalid",
        "max_file_bytes",
    );
    assert!(small
        .app
        .ports
        .files
        .find_file(&big.filename())
        .await
        .unwrap()
        .is_none());
    assert_eq!(small.tmp_entries(), 0);
}

#[tokio::test]
async fn concurrent_first_downloads_make_one_upstream_request() {
    let upstream = FakePypi::start().await;
    let w = wheel("popular", "1.0").file("popular/data.bin", vec![7u8; 64 * 1024]);
    upstream.add_file(&w.filename(), w.build(), days_ago(10));
    upstream.set_fault(Fault::SlowFile {
        filename: w.filename(),
        pause: Duration::from_millis(100),
    });
    let app = Arc::new(proxied(&upstream, |_| {}).await);
    let url = url_of(&page(&app, "popular").await, &w.filename());
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let (app, url) = (app.clone(), url.clone());
        tasks.push(tokio::spawn(async move { app.get(&url, &[]).await }));
    }
    for task in tasks {
        let answer = task.await.unwrap();
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
        assert_eq!(answer.body.len(), w.build().len());
    }
    assert_eq!(upstream.file_requests(&w.filename()), 1);
}

#[tokio::test]
async fn an_upstream_outage_serves_what_is_cached_and_503s_the_rest() {
    let upstream = FakePypi::start().await;
    let w = wheel("steady", "1.0");
    upstream.add_file(&w.filename(), w.build(), days_ago(10));
    let other = wheel("unseen", "1.0");
    upstream.add_file(&other.filename(), other.build(), days_ago(10));
    let older = wheel("steady", "0.9");
    upstream.add_file(&older.filename(), older.build(), days_ago(20));
    let app = proxied(&upstream, |p| p.page_ttl = Duration::from_millis(1)).await;
    let listed = page(&app, "steady").await;
    let url = url_of(&listed, &w.filename());
    let never_fetched = url_of(&listed, &older.filename());
    assert_eq!(app.get(&url, &[]).await.status, StatusCode::OK);

    upstream.take_down().await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let stale = page(&app, "steady").await;
    assert_eq!(stale.status, StatusCode::OK, "{}", stale.text());
    assert!(
        stale.header("warning").contains("110"),
        "{:?}",
        stale.headers
    );
    assert!(!stale.header("age").is_empty());
    let file = app.get(&url, &[]).await;
    assert_eq!(file.status, StatusCode::OK);
    // A file never fetched is a 503, never a 404: pip retries a 503.
    let uncached = app.get(&never_fetched, &[]).await;
    uncached.assert_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "upstream_unavailable",
        "cannot connect",
    );
    assert_eq!(uncached.header("retry-after"), "10");
    let unseen = page(&app, "unseen").await;
    unseen.assert_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "upstream_unavailable",
        "try again later",
    );
    assert_eq!(unseen.header("retry-after"), "10");

    upstream.bring_up().await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    // Served stale for a short while, then fetched again.
    tokio::time::sleep(Duration::from_secs(11)).await;
    let fresh = page(&app, "steady").await;
    assert_eq!(fresh.status, StatusCode::OK);
    assert!(fresh.header("warning").is_empty(), "{:?}", fresh.headers);
    assert_eq!(page(&app, "unseen").await.status, StatusCode::OK);
}

#[tokio::test]
async fn hostile_upstream_answers_are_refused_and_nothing_is_stored() {
    let upstream = FakePypi::start().await;
    let app = proxied(&upstream, |p| p.max_page_bytes = 64 * 1024).await;
    let cases: Vec<(&str, Fault, &str)> = vec![
        (
            "malformed",
            Fault::MalformedPage {
                project: "malformed".into(),
            },
            "not a PEP 691 JSON page",
        ),
        (
            "oversized",
            Fault::OversizedPage {
                project: "oversized".into(),
                bytes: 200 * 1024,
            },
            "larger than",
        ),
        (
            "foreign",
            Fault::ForeignFileUrls {
                project: "foreign".into(),
            },
            "outside the allowed origins",
        ),
        (
            "traversal",
            Fault::TraversalFilename {
                project: "traversal".into(),
            },
            "not a plain file name",
        ),
        (
            "redirected",
            Fault::RedirectElsewhere {
                project: "redirected".into(),
            },
            "redirect",
        ),
    ];
    for (name, fault, message) in cases {
        let w = wheel(name, "1.0");
        upstream.add_file(&w.filename(), w.build(), days_ago(10));
        upstream.set_fault(fault);
        page(&app, name)
            .await
            .assert_error(StatusCode::BAD_GATEWAY, "upstream_invalid", message);
        let stored = app.app.ports.proxy.cached_page("pypi", name).await.unwrap();
        assert!(stored.is_none(), "{name}: a refused page was stored");
        upstream.clear_faults();
    }
}

#[tokio::test]
async fn administrators_change_the_rules_at_runtime_and_others_cannot() {
    let upstream = FakePypi::start().await;
    let w = wheel("later-bad", "1.0");
    upstream.add_file(&w.filename(), w.build(), days_ago(10));
    let app = proxied(&upstream, |_| {}).await;
    app.app.accounts.create_user("root", true).await.unwrap();
    app.user("alice").await;
    let admin_token = app.token("root", "admin", &[]).await;
    let admin = format!("Bearer {admin_token}");
    let plain = app.token("root", "read", &[]).await;
    let alice = app.token("alice", "read,publish", &[]).await;

    // A file fetched before the rule.
    let url = url_of(&page(&app, "later-bad").await, &w.filename());
    assert_eq!(app.get(&url, &[]).await.status, StatusCode::OK);

    for who in [&plain, &alice] {
        app.get(
            "/api/v1/admin/proxy/pypi",
            &[("authorization", &format!("Bearer {who}"))],
        )
        .await
        .assert_error(StatusCode::FORBIDDEN, "admin_required", "administrator");
        app.post_json(
            "/api/v1/admin/proxy/pypi/rules",
            Some(who),
            r#"{"kind":"deny","spec":"later-bad","reason":"x"}"#,
        )
        .await
        .assert_error(StatusCode::FORBIDDEN, "admin_required", "administrator");
    }
    let status = app
        .get("/api/v1/admin/proxy/pypi", &[("authorization", &admin)])
        .await;
    assert_eq!(status.status, StatusCode::OK, "{}", status.text());
    let body = status.json();
    assert_eq!(body["upstream"], upstream.simple_url());
    assert_eq!(body["min_release_age"], "2days");
    assert_eq!(body["stored"]["files_published"], 1);
    assert!(body["process"]["file_fetches"].as_u64().unwrap() >= 1);

    for (body, status, code, fragment) in [
        (
            r#"{"kind":"deny","spec":"a b","reason":"x"}"#,
            StatusCode::BAD_REQUEST,
            "invalid_spec",
            "NAME==VERSION",
        ),
        (
            r#"{"kind":"admit","spec":"later-bad","reason":"x"}"#,
            StatusCode::BAD_REQUEST,
            "version_required",
            "later-bad==VERSION",
        ),
        (
            r#"{"kind":"allow_only","spec":"x==1","reason":"x"}"#,
            StatusCode::BAD_REQUEST,
            "invalid_spec",
            "not versions",
        ),
        (
            r#"{"kind":"deny","spec":"later-bad","reason":"  "}"#,
            StatusCode::BAD_REQUEST,
            "reason_required",
            "reason",
        ),
        (
            r#"{"kind":"forbid","spec":"later-bad","reason":"x"}"#,
            StatusCode::BAD_REQUEST,
            "invalid_body",
            "kind",
        ),
        (
            r#"{"kind":"deny","spec":"later-bad"}"#,
            StatusCode::BAD_REQUEST,
            "invalid_body",
            "reason",
        ),
    ] {
        app.post_json("/api/v1/admin/proxy/pypi/rules", Some(&admin_token), body)
            .await
            .assert_error(status, code, fragment);
    }
    let added = app
        .post_json(
            "/api/v1/admin/proxy/pypi/rules",
            Some(&admin_token),
            r#"{"kind":"deny","spec":"Later_Bad","reason":"known malicious"}"#,
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text());
    assert_eq!(added.json()["spec"], "later-bad");
    app.post_json(
        "/api/v1/admin/proxy/pypi/rules",
        Some(&admin_token),
        r#"{"kind":"deny","spec":"later-bad","reason":"again"}"#,
    )
    .await
    .assert_error(StatusCode::CONFLICT, "rule_exists", "later-bad");

    // The stored file and the page are refused at once, with the reason.
    app.get(&url, &[])
        .await
        .assert_error(StatusCode::FORBIDDEN, "denied", "known malicious");
    page(&app, "later-bad")
        .await
        .assert_error(StatusCode::FORBIDDEN, "denied", "known malicious");

    let delete = |q: &'static str| {
        let app = &app;
        let admin = admin.clone();
        async move {
            app.send(
                axum::http::Request::delete(format!("/api/v1/admin/proxy/pypi/rules?{q}"))
                    .header("authorization", admin)
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await
        }
    };
    assert_eq!(
        delete("kind=deny&spec=later-bad").await.status,
        StatusCode::NO_CONTENT
    );
    delete("kind=deny&spec=later-bad").await.assert_error(
        StatusCode::NOT_FOUND,
        "not_found",
        "no deny rule",
    );
    delete("kind=nope&spec=x")
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_query", "kind");
    assert_eq!(app.get(&url, &[]).await.status, StatusCode::OK);

    let audit = app.app.ports.audit.recent(50).await.unwrap();
    for action in ["proxy.rule.add", "proxy.rule.remove", "admin.denied"] {
        assert!(
            audit.iter().any(|e| e.action == action),
            "{action} not audited"
        );
    }

    // Without a proxy, the admin API says so.
    let off = TestApp::new().await;
    off.app.accounts.create_user("root", true).await.unwrap();
    let admin = format!("Bearer {}", off.token("root", "admin", &[]).await);
    off.get("/api/v1/admin/proxy/pypi", &[("authorization", &admin)])
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found", "proxy is off");
}

#[tokio::test]
async fn a_client_waits_for_a_slow_check_up_to_scan_wait_then_is_told_to_retry() {
    let upstream = FakePypi::start().await;
    let w = wheel("slowpoke", "1.0").file("slowpoke/data.bin", vec![3u8; 32 * 1024]);
    upstream.add_file(&w.filename(), w.build(), days_ago(10));
    upstream.set_fault(Fault::SlowFile {
        filename: w.filename(),
        pause: Duration::from_millis(300),
    });
    let app = proxied(&upstream, |p| p.scan_wait = Duration::from_millis(200)).await;
    let url = url_of(&page(&app, "slowpoke").await, &w.filename());
    let waiting = app.get(&url, &[]).await;
    waiting.assert_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "upstream_unavailable",
        "still being fetched",
    );
    assert_eq!(waiting.header("retry-after"), "10");
    // The fetch went on without the client; the retry gets the file.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let retry = app.get(&url, &[]).await;
        if retry.status == StatusCode::OK {
            assert_eq!(retry.body.as_ref(), w.build().as_slice());
            break;
        }
        assert_eq!(
            retry.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}",
            retry.text()
        );
        assert!(
            tokio::time::Instant::now() < deadline,
            "the fetch never finished"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(upstream.file_requests(&w.filename()), 1);
    let metrics = app.app.metrics.render();
    assert!(
        metrics.contains("wharf_proxy_file_fetches_total 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("wharf_proxy_page_misses_total 1\n"),
        "{metrics}"
    );
}
