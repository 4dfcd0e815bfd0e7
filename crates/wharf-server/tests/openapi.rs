//! The OpenAPI document: served, well formed, and snapshotted so that any
//! change to the API shows up in review.

mod common;

use axum::http::StatusCode;
use common::TestApp;

#[tokio::test]
async fn the_openapi_document_is_served_as_json() {
    let t = TestApp::new().await;
    let r = t.get("/api/openapi.json", &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), "application/json");
    let doc = r.json();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/api/v1/deployments"]["post"].is_object());
    assert!(doc["components"]["securitySchemes"]["token"].is_object());
}

#[test]
fn the_openapi_document_matches_its_snapshot() {
    let doc: serde_json::Value = serde_json::from_str(&wharf_server::openapi::document()).unwrap();
    insta::assert_json_snapshot!("openapi", doc);
}
