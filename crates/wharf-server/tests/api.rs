//! The native JSON API: project view, yank and unyank, with every refusal.

mod common;

use axum::http::StatusCode;
use common::{TestApp, UploadForm};
use wharf_testkit::WheelBuilder;

async fn published() -> (TestApp, String) {
    let t = TestApp::new().await;
    let token = t.token("alice", "read,publish", &[]).await;
    let w = WheelBuilder::new("demo", "1.0");
    assert_eq!(
        t.upload(Some(&token), &UploadForm::wheel(&w, "demo", "1.0"))
            .await
            .status,
        StatusCode::OK
    );
    (t, token)
}

#[tokio::test]
async fn project_view_shows_releases_files_hashes_and_owners() {
    let (t, _) = published().await;
    let r = t.get("/api/v1/projects/Demo", &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let p = r.json();
    assert_eq!(p["normalized_name"], "demo");
    assert_eq!(p["owners"], serde_json::json!(["alice"]));
    let release = &p["releases"][0];
    assert_eq!(release["version"], "1.0");
    assert_eq!(release["yanked"], false);
    let file = &release["files"][0];
    assert_eq!(file["hashes"]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(file["hashes"]["blake2b_256"].as_str().unwrap().len(), 64);
    assert_eq!(file["hashes"]["md5"].as_str().unwrap().len(), 32);
    assert_eq!(file["status"], "published");
    t.get("/api/v1/projects/nothing", &[]).await.assert_error(
        StatusCode::NOT_FOUND,
        "not_found",
        "nothing",
    );
    t.get("/api/v1/projects/bad%20name", &[])
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_name", "bad name");
}

#[tokio::test]
async fn yank_round_trip_is_audited() {
    let (t, token) = published().await;
    let r = t
        .post_json(
            "/api/v1/projects/demo/releases/1.0.0/yank",
            Some(&token),
            r#"{"reason":"CVE-2026-1"}"#,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        r.json(),
        serde_json::json!({"project":"demo","version":"1.0","yanked":true,"reason":"CVE-2026-1"})
    );
    let view = t.get("/api/v1/projects/demo", &[]).await.json();
    assert_eq!(view["releases"][0]["yank_reason"], "CVE-2026-1");
    let r = t
        .post_json(
            "/api/v1/projects/demo/releases/1.0/unyank",
            Some(&token),
            "",
        )
        .await;
    assert_eq!(r.json()["yanked"], false);
    let actions: Vec<String> = t
        .app
        .ports
        .audit
        .recent(5)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions[..2], ["release.unyank", "release.yank"]);
}

#[tokio::test]
async fn yank_refusals_each_say_why() {
    let (t, owner) = published().await;
    let url = "/api/v1/projects/demo/releases/1.0/yank";
    t.post_json(url, None, "{}").await.assert_error(
        StatusCode::UNAUTHORIZED,
        "missing_credentials",
        "API token",
    );
    let read_only = t.token("alice", "read", &[]).await;
    t.post_json(url, Some(&read_only), "{}").await.assert_error(
        StatusCode::FORBIDDEN,
        "forbidden",
        "publish",
    );
    let restricted = t.token("alice", "publish", &["other"]).await;
    t.post_json(url, Some(&restricted), "{}")
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden", "restricted");
    let stranger = t.token("mallory", "publish", &[]).await;
    t.post_json(url, Some(&stranger), "{}").await.assert_error(
        StatusCode::FORBIDDEN,
        "forbidden",
        "not an owner",
    );
    t.post_json(
        "/api/v1/projects/demo/releases/9.9/yank",
        Some(&owner),
        "{}",
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found", "9.9");
    t.post_json(
        "/api/v1/projects/ghost/releases/1.0/yank",
        Some(&owner),
        "{}",
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found", "ghost");
    t.post_json(
        "/api/v1/projects/demo/releases/not%20a%20version/yank",
        Some(&owner),
        "{}",
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "invalid_version", "PEP 440");
    t.post_json(url, Some(&owner), "{\"reason\": 5}")
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_body", "reason");
    t.post_json(url, Some(&owner), "{\"why\": \"x\"}")
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_body", "unknown field");
    let long = format!("{{\"reason\": \"{}\"}}", "x".repeat(600));
    t.post_json(url, Some(&owner), &long).await.assert_error(
        StatusCode::BAD_REQUEST,
        "invalid_reason",
        "512",
    );
    let view = t.get("/api/v1/projects/demo", &[]).await.json();
    assert_eq!(
        view["releases"][0]["yanked"], false,
        "no refused request changed anything"
    );
}

#[tokio::test]
async fn unknown_api_paths_get_a_json_404() {
    let t = TestApp::new().await;
    t.get("/api/v1/nope", &[]).await.assert_error(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such API endpoint",
    );
}

#[tokio::test]
async fn readiness_checks_the_database_and_blob_store() {
    let t = TestApp::new().await;
    assert_eq!(t.get("/readyz", &[]).await.status, StatusCode::OK);
    t.app.db.close().await;
    let r = t.get("/readyz", &[]).await;
    r.assert_error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "retry");
    assert_eq!(r.header("retry-after"), "5");
    assert_eq!(t.get("/healthz", &[]).await.status, StatusCode::OK);
}

/// Probe finding 2 (related): a token restricted to one project saw its
/// owner's pending files of another project. The restriction applies to
/// what the project API shows too.
#[tokio::test]
async fn restricted_tokens_see_other_projects_as_anyone_does() {
    let t = TestApp::with_config(|c| {
        c.verification.workers = 0;
        c.verification.upload_wait = std::time::Duration::ZERO;
    })
    .await;
    let alice = t.token("alice", "read,publish", &[]).await;
    let wheel = wharf_testkit::WheelBuilder::new("beta", "1.0");
    let r = t
        .upload(
            Some(&alice),
            &common::UploadForm::wheel(&wheel, "beta", "1.0"),
        )
        .await;
    assert_eq!(r.json()["status"], "pending", "{}", r.text());
    let owner_view = t
        .get(
            "/api/v1/projects/beta",
            &[("authorization", &format!("Bearer {alice}"))],
        )
        .await;
    assert_eq!(owner_view.status, StatusCode::OK, "{}", owner_view.text());
    let only_alpha = t.token("alice", "read,publish", &["alpha"]).await;
    let r = t
        .get(
            "/api/v1/projects/beta",
            &[("authorization", &format!("Bearer {only_alpha}"))],
        )
        .await;
    r.assert_error(
        StatusCode::NOT_FOUND,
        "not_found",
        "no project named 'beta'",
    );
}
