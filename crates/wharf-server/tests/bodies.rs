//! Snapshots of the main JSON bodies, so that a change to what clients read
//! shows in review. Times, digests and random IDs are redacted.

mod common;

use axum::http::StatusCode;
use common::{TestApp, UploadForm};
use serde_json::json;
use wharf_testkit::WheelBuilder;

async fn with_demo() -> (TestApp, String) {
    let t = TestApp::new().await;
    let token = t.token("alice", "read,publish", &[]).await;
    let wheel = WheelBuilder::new("demo", "1.0").summary("A demo");
    let r = t
        .upload(Some(&token), &UploadForm::wheel(&wheel, "demo", "1.0"))
        .await;
    assert_eq!(r.json()["status"], "published", "{}", r.text());
    (t, token)
}

#[tokio::test]
async fn project_search_and_simple_bodies() {
    let (t, token) = with_demo().await;
    let auth = format!("Bearer {token}");
    let project = t.get("/api/v1/projects/demo", &[]).await.json();
    insta::assert_json_snapshot!("project", project, {
        ".created_at" => "[time]",
        ".releases[].created_at" => "[time]",
        ".releases[].files[].upload_time" => "[time]",
        ".releases[].files[].hashes" => "[hashes]",
        ".releases[].files[].url" => "[url]",
        ".releases[].files[].size" => "[size]",
    });
    let simple = t
        .get(
            "/simple/demo/",
            &[("accept", "application/vnd.pypi.simple.v1+json")],
        )
        .await
        .json();
    insta::assert_json_snapshot!("simple_project", simple, {
        ".files[][\"upload-time\"]" => "[time]",
        ".files[].hashes" => "[hashes]",
        ".files[][\"core-metadata\"]" => "[hashes]",
        ".files[][\"dist-info-metadata\"]" => "[hashes]",
        ".files[].url" => "[url]",
        ".files[].size" => "[size]",
    });
    let search = t.get("/api/v1/search?q=demo", &[]).await.json();
    insta::assert_json_snapshot!("search", search);
    let yanked = t
        .post_json(
            "/api/v1/projects/demo/releases/1.0/yank",
            Some(&token),
            r#"{"reason": "broken"}"#,
        )
        .await;
    assert_eq!(yanked.status, StatusCode::OK, "{}", yanked.text());
    insta::assert_json_snapshot!("yank", yanked.json());
    let error = t
        .get(
            "/api/v1/projects/no-such-project",
            &[("authorization", &auth)],
        )
        .await
        .json();
    insta::assert_json_snapshot!("error", error);
}

#[tokio::test]
async fn catalog_and_deployment_bodies() {
    let (t, token) = with_demo().await;
    t.grant_namespace("alice", "com.acme/*").await;
    let publisher = t.token("alice", "publish", &[]).await;
    let server = json!({
        "name": "com.acme/remote", "description": "A remote server", "version": "1.0.0",
        "remotes": [{ "type": "streamable-http", "url": "https://mcp.acme.example/mcp" }]
    });
    let entry = t
        .post_json("/v0/publish", Some(&publisher), &server.to_string())
        .await;
    assert_eq!(entry.status, StatusCode::OK, "{}", entry.text());
    insta::assert_json_snapshot!("mcp_entry", entry.json(), {
        "._meta.*.publishedAt" => "[time]",
        "._meta.*.updatedAt" => "[time]",
        "._meta.*.statusChangedAt" => "[time]",
    });
    let list = t.get("/v0/servers", &[]).await.json();
    insta::assert_json_snapshot!("mcp_list", list, {
        ".servers[]._meta.*.publishedAt" => "[time]",
        ".servers[]._meta.*.updatedAt" => "[time]",
        ".servers[]._meta.*.statusChangedAt" => "[time]",
    });
    let problem = t
        .post_json("/v0/publish", Some(&publisher), r#"{"name": "x"}"#)
        .await
        .json();
    insta::assert_json_snapshot!("mcp_problem", problem);

    let request = json!({
        "package": { "registryType": "pypi", "identifier": "demo", "version": "1.0" },
        "environmentVariables": [{ "name": "API_KEY", "isRequired": true, "isSecret": true }],
        "credentials": { "API_KEY": "s3cret-value" }
    });
    let created = t
        .post_json("/api/v1/deployments", Some(&token), &request.to_string())
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    insta::assert_json_snapshot!("deployment", created.json(), {
        ".id" => "[id]",
        ".createdAt" => "[time]",
    });
    let invalid = t
        .post_json(
            "/api/v1/deployments/validate",
            Some(&token),
            &json!({ "package": { "registryType": "npm", "identifier": "a;b", "version": "latest" } })
                .to_string(),
        )
        .await
        .json();
    insta::assert_json_snapshot!("deployment_invalid", invalid);
}
