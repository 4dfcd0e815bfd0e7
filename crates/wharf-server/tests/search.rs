//! `GET /api/v1/search` through the real router.

mod common;

use axum::http::StatusCode;
use common::{TestApp, UploadForm};
use wharf_core::ratelimit::RatePolicy;
use wharf_testkit::WheelBuilder;

async fn publish(t: &TestApp, token: &str, dist: &str, name: &str, summary: &str) {
    let wheel = WheelBuilder::new(dist, "1.0").summary(summary);
    let r = t
        .upload(Some(token), &UploadForm::wheel(&wheel, name, "1.0"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

#[tokio::test]
async fn search_finds_published_projects_by_name_and_summary() {
    let t = TestApp::new().await;
    let token = t.token("alice", "publish", &[]).await;
    publish(
        &t,
        &token,
        "acme_http_tools",
        "acme-http-tools",
        "Small HTTP helpers",
    )
    .await;
    publish(&t, &token, "yaml_kit", "yaml-kit", "YAML parsing").await;
    let r = t.get("/api/v1/search?q=http", &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let body = r.json();
    assert_eq!(body["results"][0]["name"], "acme-http-tools");
    assert_eq!(body["results"][0]["summary"], "Small HTTP helpers");
    assert_eq!(
        body["results"][0]["url"],
        "/api/v1/projects/acme-http-tools"
    );
    assert_eq!(body["results"].as_array().unwrap().len(), 1);
    assert!(r.header("ratelimit-policy").contains("\"search\""));
    let r = t.get("/api/v1/search?q=parsing&limit=5", &[]).await;
    assert_eq!(r.json()["results"][0]["name"], "yaml-kit");
}

#[tokio::test]
async fn bad_search_queries_say_what_is_wrong() {
    let t = TestApp::new().await;
    t.get("/api/v1/search", &[]).await.assert_error(
        StatusCode::BAD_REQUEST,
        "invalid_query",
        "q must be 1-200",
    );
    t.get("/api/v1/search?q=%20%20", &[]).await.assert_error(
        StatusCode::BAD_REQUEST,
        "invalid_query",
        "printable",
    );
    let long = "a".repeat(201);
    t.get(&format!("/api/v1/search?q={long}"), &[])
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_query", "1-200");
    t.get("/api/v1/search?q=a%00b", &[]).await.assert_error(
        StatusCode::BAD_REQUEST,
        "invalid_query",
        "printable",
    );
    t.get("/api/v1/search?q=x&limit=0", &[]).await.assert_error(
        StatusCode::BAD_REQUEST,
        "invalid_limit",
        "between 1 and 100",
    );
    t.get("/api/v1/search?q=x&limit=many", &[])
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_query", "limit");
    // Query syntax is text: no error, no match.
    let r = t
        .get("/api/v1/search?q=%22NEAR(a%20b)%22%20OR%20*", &[])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

#[tokio::test]
async fn searches_over_the_limit_get_429_with_retry_after() {
    let t = TestApp::with_config(|c| {
        c.rate_limits.search = RatePolicy::parse("search", "3/min").unwrap()
    })
    .await;
    for _ in 0..3 {
        assert_eq!(
            t.get("/api/v1/search?q=x", &[]).await.status,
            StatusCode::OK
        );
    }
    let r = t.get("/api/v1/search?q=x", &[]).await;
    r.assert_error(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        "too many search requests",
    );
    let retry: u64 = r.header("retry-after").parse().unwrap();
    assert!(
        (1..=20).contains(&retry),
        "one request frees up every 20 s: {retry}"
    );
}
