//! The simple API (PEP 503/691 with 592, 658/714, 700 and 792) and downloads,
//! through the real router.

mod common;

use axum::http::StatusCode;
use common::{TestApp, UploadForm};
use sha2::Digest;
use wharf_testkit::{SdistBuilder, WheelBuilder};

const JSON: &str = "application/vnd.pypi.simple.v1+json";
const PIP_ACCEPT: &str =
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01";

async fn app_with(versions: &[&str]) -> (TestApp, String) {
    let t = TestApp::new().await;
    let token = t.token("alice", "publish", &[]).await;
    for v in versions {
        let w = WheelBuilder::new("Demo.Pkg", v)
            .requires_python(">=3.8")
            .file("demo_pkg/__init__.py", format!("V = '{v}'\n"));
        let r = t
            .upload(Some(&token), &UploadForm::wheel(&w, "Demo.Pkg", v))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
    (t, token)
}

#[tokio::test]
async fn json_project_page_has_every_pep_field() {
    let (t, _) = app_with(&["1.9", "1.10", "1.0rc1"]).await;
    let r = t.get("/simple/demo-pkg/", &[("accept", PIP_ACCEPT)]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), JSON);
    assert_eq!(r.header("vary"), "Accept");
    let page = r.json();
    assert_eq!(page["meta"]["api-version"], "1.4");
    assert_eq!(page["name"], "demo-pkg");
    assert_eq!(page["project-status"]["status"], "active");
    // PEP 440 order, not string order.
    assert_eq!(
        page["versions"],
        serde_json::json!(["1.0rc1", "1.9", "1.10"])
    );
    let file = &page["files"][2];
    assert_eq!(file["filename"], "demo_pkg-1.10-py3-none-any.whl");
    assert_eq!(file["requires-python"], ">=3.8");
    assert_eq!(file["yanked"], false);
    assert!(file["size"].as_u64().unwrap() > 0);
    let upload_time = file["upload-time"].as_str().unwrap();
    assert_eq!(
        upload_time.len(),
        "2024-01-01T00:00:00.000000Z".len(),
        "{upload_time}"
    );
    assert!(upload_time.ends_with('Z'));
    let sha = file["hashes"]["sha256"].as_str().unwrap();
    assert!(file["url"]
        .as_str()
        .unwrap()
        .starts_with(&format!("/files/{sha}/")));
    assert_eq!(file["core-metadata"], file["dist-info-metadata"]);
}

#[tokio::test]
async fn metadata_files_match_the_advertised_hash_byte_for_byte() {
    let (t, _) = app_with(&["1.0"]).await;
    let page = t.get("/simple/demo-pkg/", &[("accept", JSON)]).await.json();
    let file = &page["files"][0];
    let url = format!("{}.metadata", file["url"].as_str().unwrap());
    let r = t.get(&url, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    let advertised = file["core-metadata"]["sha256"].as_str().unwrap();
    assert_eq!(hex::encode(sha2::Sha256::digest(&r.body)), advertised);
    let expected = WheelBuilder::new("Demo.Pkg", "1.0")
        .requires_python(">=3.8")
        .metadata_bytes();
    assert_eq!(r.body.as_ref(), expected.as_slice());

    let html = t
        .get("/simple/demo-pkg/", &[("accept", "text/html")])
        .await
        .text();
    assert!(
        html.contains(&format!("data-core-metadata=\"sha256={advertised}\"")),
        "{html}"
    );
    assert!(html.contains(&format!("data-dist-info-metadata=\"sha256={advertised}\"")));
}

#[tokio::test]
async fn sdists_advertise_no_metadata_file() {
    let t = TestApp::new().await;
    let token = t.token("alice", "publish", &[]).await;
    let s = SdistBuilder::new("demo", "1.0");
    t.upload(
        Some(&token),
        &UploadForm::new("demo", "1.0", &s.filename(), s.build()),
    )
    .await;
    let page = t.get("/simple/demo/", &[("accept", JSON)]).await.json();
    assert_eq!(page["files"][0]["core-metadata"], false);
    let url = format!("{}.metadata", page["files"][0]["url"].as_str().unwrap());
    assert_eq!(t.get(&url, &[]).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn html_page_escapes_and_links_with_hashes() {
    let (t, _) = app_with(&["1.0"]).await;
    for accept in ["text/html", "application/vnd.pypi.simple.v1+html", "*/*"] {
        let r = t.get("/simple/demo-pkg/", &[("accept", accept)]).await;
        assert_eq!(r.status, StatusCode::OK);
        let ct = r.header("content-type");
        assert!(
            ct.starts_with(if accept.contains("v1+html") {
                "application/vnd.pypi.simple.v1+html"
            } else {
                "text/html"
            }),
            "{ct}"
        );
        let html = r.text();
        assert!(html.contains("<meta name=\"pypi:repository-version\" content=\"1.4\">"));
        assert!(
            html.contains("data-requires-python=\"&gt;=3.8\""),
            "requires-python is HTML-escaped: {html}"
        );
        assert!(html.contains("#sha256="));
        assert!(!html.contains("data-yanked"), "not yanked, so no marker");
    }
}

#[tokio::test]
async fn negotiation_redirects_and_missing_projects() {
    let (t, _) = app_with(&["1.0"]).await;
    t.get("/simple/demo-pkg/", &[("accept", "application/json")])
        .await
        .assert_error(
            StatusCode::NOT_ACCEPTABLE,
            "not_acceptable",
            "application/vnd.pypi.simple.v1+json",
        );
    let r = t.get("/simple/Demo.Pkg/", &[]).await;
    assert_eq!(r.status, StatusCode::MOVED_PERMANENTLY);
    assert_eq!(r.header("location"), "/simple/demo-pkg/");
    let r = t.get("/simple/demo-pkg", &[]).await;
    assert_eq!(r.header("location"), "/simple/demo-pkg/");
    t.get("/simple/nothing-here/", &[]).await.assert_error(
        StatusCode::NOT_FOUND,
        "not_found",
        "nothing-here",
    );
}

#[tokio::test]
async fn etags_give_304_and_change_when_the_page_does() {
    let (t, token) = app_with(&["1.0"]).await;
    let first = t.get("/simple/demo-pkg/", &[("accept", JSON)]).await;
    let etag = first.header("etag").to_owned();
    assert!(etag.starts_with('"'));
    let again = t
        .get(
            "/simple/demo-pkg/",
            &[("accept", JSON), ("if-none-match", &etag)],
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());

    let w = WheelBuilder::new("Demo.Pkg", "2.0");
    t.upload(Some(&token), &UploadForm::wheel(&w, "Demo.Pkg", "2.0"))
        .await;
    let after = t
        .get(
            "/simple/demo-pkg/",
            &[("accept", JSON), ("if-none-match", &etag)],
        )
        .await;
    assert_eq!(
        after.status,
        StatusCode::OK,
        "an upload invalidates the cached page at once"
    );
    assert_ne!(after.header("etag"), etag);
    assert_eq!(after.json()["versions"], serde_json::json!(["1.0", "2.0"]));
}

#[tokio::test]
async fn yank_markers_appear_and_disappear() {
    let (t, token) = app_with(&["1.0", "2.0"]).await;
    let r = t
        .post_json(
            "/api/v1/projects/demo-pkg/releases/2.0/yank",
            Some(&token),
            r#"{"reason":"broken <build>"}"#,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let page = t.get("/simple/demo-pkg/", &[("accept", JSON)]).await.json();
    assert_eq!(page["files"][0]["yanked"], false);
    assert_eq!(page["files"][1]["yanked"], "broken <build>");
    let html = t.get("/simple/demo-pkg/", &[]).await.text();
    assert!(
        html.contains("data-yanked=\"broken &lt;build&gt;\""),
        "{html}"
    );

    t.post_json(
        "/api/v1/projects/demo-pkg/releases/2.0/unyank",
        Some(&token),
        "",
    )
    .await;
    let page = t.get("/simple/demo-pkg/", &[("accept", JSON)]).await.json();
    assert_eq!(page["files"][1]["yanked"], false);
}

#[tokio::test]
async fn index_lists_projects_in_both_formats() {
    let (t, _) = app_with(&["1.0"]).await;
    let json = t.get("/simple/", &[("accept", JSON)]).await;
    assert_eq!(json.header("vary"), "Accept");
    assert_eq!(
        json.json()["projects"],
        serde_json::json!([{ "name": "demo-pkg" }])
    );
    let html = t.get("/simple/", &[]).await.text();
    assert!(
        html.contains("<a href=\"/simple/demo-pkg/\">demo-pkg</a>"),
        "{html}"
    );
}

#[tokio::test]
async fn downloads_serve_exact_bytes_with_caching_and_ranges() {
    let t = TestApp::new().await;
    let token = t.token("alice", "publish", &[]).await;
    let w = WheelBuilder::new("demo", "1.0").file("demo/__init__.py", "X = 1\n".repeat(100));
    let bytes = w.build();
    t.upload(
        Some(&token),
        &UploadForm::new("demo", "1.0", &w.filename(), bytes.clone()),
    )
    .await;
    let page = t.get("/simple/demo/", &[("accept", JSON)]).await.json();
    let url = page["files"][0]["url"].as_str().unwrap().to_owned();

    let r = t.get(&url, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body.as_ref(), bytes.as_slice());
    assert_eq!(r.header("content-type"), "application/zip");
    assert_eq!(r.header("content-length"), bytes.len().to_string());
    assert!(r.header("cache-control").contains("immutable"));
    assert_eq!(r.header("accept-ranges"), "bytes");
    let etag = r.header("etag").to_owned();
    assert_eq!(
        t.get(&url, &[("if-none-match", &etag)]).await.status,
        StatusCode::NOT_MODIFIED
    );

    let part = t.get(&url, &[("range", "bytes=10-19")]).await;
    assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.body.as_ref(), &bytes[10..20]);
    assert_eq!(
        part.header("content-range"),
        format!("bytes 10-19/{}", bytes.len())
    );
    let tail = t.get(&url, &[("range", "bytes=-4")]).await;
    assert_eq!(tail.body.as_ref(), &bytes[bytes.len() - 4..]);
    let past = t
        .get(&url, &[("range", &format!("bytes={}-", bytes.len()))])
        .await;
    assert_eq!(past.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        past.header("content-range"),
        format!("bytes */{}", bytes.len())
    );

    let wrong_hash = format!("/files/{}/{}", "0".repeat(64), w.filename());
    t.get(&wrong_hash, &[])
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found", "demo-1.0");
    t.get("/files/abc/nothing.whl", &[]).await.assert_error(
        StatusCode::NOT_FOUND,
        "not_found",
        "nothing.whl",
    );
}

#[tokio::test]
async fn every_response_carries_security_headers() {
    let (t, _) = app_with(&["1.0"]).await;
    for path in [
        "/simple/",
        "/simple/demo-pkg/",
        "/simple/missing/",
        "/healthz",
        "/api/v1/nothing",
    ] {
        let r = t.get(path, &[]).await;
        assert_eq!(r.header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(r.header("x-frame-options"), "DENY", "{path}");
        assert_eq!(
            r.header("referrer-policy"),
            "strict-origin-when-cross-origin",
            "{path}"
        );
        assert_eq!(
            r.header("permissions-policy"),
            "camera=(), microphone=(), geolocation=(), payment=()",
            "{path}"
        );
        assert!(
            r.header("content-security-policy")
                .contains("frame-ancestors 'none'"),
            "{path}"
        );
        assert!(r.headers.get("server").is_none(), "{path}");
    }
}
