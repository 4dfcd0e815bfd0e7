//! The upload API through the real router: every way an upload can fail, each
//! with its status and message, and the ways it succeeds.

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{basic, TestApp, UploadForm};
use wharf_testkit::{SdistBuilder, WheelBuilder};

fn demo_wheel() -> WheelBuilder {
    WheelBuilder::new("demo-pkg", "1.0").file("demo_pkg/__init__.py", "VALUE = 1\n")
}

#[tokio::test]
async fn a_valid_wheel_and_sdist_upload_and_the_uploader_owns_the_project() {
    let t = TestApp::new().await;
    let token = t.token("alice", "publish", &[]).await;
    let r = t
        .upload(
            Some(&token),
            &UploadForm::wheel(&demo_wheel(), "demo-pkg", "1.0"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["message"], "uploaded, verified and published");
    assert_eq!(r.json()["status"], "published");
    let sdist = SdistBuilder::new("demo-pkg", "1.0");
    let r = t
        .upload(
            Some(&token),
            &UploadForm::new("demo-pkg", "1.0", &sdist.filename(), sdist.build()),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let project = t.get("/api/v1/projects/demo-pkg", &[]).await.json();
    assert_eq!(project["owners"], serde_json::json!(["alice"]));
    assert_eq!(project["releases"][0]["files"].as_array().unwrap().len(), 2);
    assert_eq!(t.tmp_entries(), 0, "nothing is left in the staging area");
}

#[tokio::test]
async fn the_same_file_again_is_a_no_op_and_different_bytes_are_refused() {
    let t = TestApp::new().await;
    let token = t.token("alice", "publish", &[]).await;
    let form = UploadForm::wheel(&demo_wheel(), "demo-pkg", "1.0");
    assert_eq!(t.upload(Some(&token), &form).await.status, StatusCode::OK);
    let again = t.upload(Some(&token), &form).await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(again.json()["message"]
        .as_str()
        .unwrap()
        .contains("nothing changed"));

    let changed = demo_wheel().file("demo_pkg/extra.py", "X = 2\n");
    let r = t
        .upload(
            Some(&token),
            &UploadForm::wheel(&changed, "demo-pkg", "1.0"),
        )
        .await;
    r.assert_error(
        StatusCode::BAD_REQUEST,
        "file_exists",
        "File already exists",
    );
}

#[tokio::test]
async fn missing_malformed_expired_and_revoked_credentials_get_401s_that_say_which() {
    let t = TestApp::new().await;
    let form = UploadForm::wheel(&demo_wheel(), "demo-pkg", "1.0");
    let r = t.upload(None, &form).await;
    r.assert_error(StatusCode::UNAUTHORIZED, "missing_credentials", "__token__");
    assert!(r.header("www-authenticate").starts_with("Basic"));

    let r = t.upload(Some("wharf_notatoken"), &form).await;
    r.assert_error(StatusCode::UNAUTHORIZED, "invalid_token", "malformed");

    let mut forged = t.token("alice", "publish", &[]).await;
    forged.replace_range(8..9, if &forged[8..9] == "a" { "b" } else { "a" });
    t.upload(Some(&forged), &form).await.assert_error(
        StatusCode::UNAUTHORIZED,
        "invalid_token",
        "checksum",
    );

    let expired = t.expired_token("bob").await;
    t.upload(Some(&expired), &form).await.assert_error(
        StatusCode::UNAUTHORIZED,
        "token_expired",
        "expired",
    );

    let token = t.token("carol", "publish", &[]).await;
    let id = t
        .app
        .ports
        .tokens
        .list_tokens(
            t.app
                .ports
                .users
                .find_user_by_name("carol")
                .await
                .unwrap()
                .unwrap()
                .id,
        )
        .await
        .unwrap()[0]
        .id;
    t.app.accounts.revoke_token(id).await.unwrap();
    t.upload(Some(&token), &form).await.assert_error(
        StatusCode::UNAUTHORIZED,
        "token_revoked",
        "revoked",
    );

    let req = Request::post("/legacy/")
        .header(header::CONTENT_TYPE, form.content_type())
        .header(header::AUTHORIZATION, "Basic YWxpY2U6cGFzc3dvcmQ=") // alice:password
        .body(Body::from(form.body()))
        .unwrap();
    t.send(req)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "invalid_credentials", "__token__");
}

#[tokio::test]
async fn scopes_restrictions_and_ownership_are_enforced() {
    let t = TestApp::new().await;
    let form = UploadForm::wheel(&demo_wheel(), "demo-pkg", "1.0");
    let read_only = t.token("alice", "read", &[]).await;
    t.upload(Some(&read_only), &form).await.assert_error(
        StatusCode::FORBIDDEN,
        "insufficient_scope",
        "publish",
    );

    let elsewhere = t.token("alice", "publish", &["other-project"]).await;
    t.upload(Some(&elsewhere), &form).await.assert_error(
        StatusCode::FORBIDDEN,
        "token_project_restricted",
        "demo-pkg",
    );

    let alice = t.token("alice", "publish", &["Demo_Pkg"]).await;
    assert_eq!(t.upload(Some(&alice), &form).await.status, StatusCode::OK);
    let mallory = t.token("mallory", "publish", &[]).await;
    let v2 = WheelBuilder::new("demo-pkg", "2.0");
    t.upload(Some(&mallory), &UploadForm::wheel(&v2, "demo-pkg", "2.0"))
        .await
        .assert_error(StatusCode::FORBIDDEN, "not_owner", "not an owner");
}

#[tokio::test]
async fn malformed_forms_are_refused_with_the_field_named() {
    let t = TestApp::new().await;
    let token = t.token("alice", "publish", &[]).await;
    let form = UploadForm::wheel(&demo_wheel(), "demo-pkg", "1.0");
    let cases = [
        (
            form.clone().without(":action"),
            StatusCode::BAD_REQUEST,
            "missing_field",
            ":action",
        ),
        (
            form.clone().set(":action", "doc_upload"),
            StatusCode::GONE,
            "gone",
            "doc_upload",
        ),
        (
            form.clone().set(":action", "submit"),
            StatusCode::GONE,
            "gone",
            "no longer supported",
        ),
        (
            form.clone().set(":action", "bogus"),
            StatusCode::BAD_REQUEST,
            "invalid_action",
            "bogus",
        ),
        (
            form.clone().set("protocol_version", "2"),
            StatusCode::BAD_REQUEST,
            "invalid_protocol_version",
            "protocol_version",
        ),
        (
            form.clone().without("name"),
            StatusCode::BAD_REQUEST,
            "missing_field",
            "'name'",
        ),
        (
            form.clone().without("version"),
            StatusCode::BAD_REQUEST,
            "missing_field",
            "'version'",
        ),
        (
            form.clone().without("filetype"),
            StatusCode::BAD_REQUEST,
            "missing_field",
            "'filetype'",
        ),
        (
            form.clone().without("pyversion"),
            StatusCode::BAD_REQUEST,
            "missing_field",
            "pyversion",
        ),
        (
            form.clone().set("filetype", "bdist_egg"),
            StatusCode::BAD_REQUEST,
            "invalid_filetype",
            "bdist_egg",
        ),
        (
            form.clone().set("filetype", "sdist"),
            StatusCode::BAD_REQUEST,
            "filetype_mismatch",
            "sdist",
        ),
        (
            form.clone().set("name", "demo pkg;rm"),
            StatusCode::BAD_REQUEST,
            "invalid_name",
            "not a valid project name",
        ),
        (
            form.clone().set("name", "other"),
            StatusCode::BAD_REQUEST,
            "filename_mismatch",
            "other",
        ),
        (
            form.clone().set("version", "2.0"),
            StatusCode::BAD_REQUEST,
            "version_mismatch",
            "2.0",
        ),
        (
            form.clone().set("version", "latest"),
            StatusCode::BAD_REQUEST,
            "invalid_version",
            "PEP 440",
        ),
        (
            form.clone().without("sha256_digest"),
            StatusCode::BAD_REQUEST,
            "missing_digest",
            "sha256_digest",
        ),
        (
            form.clone().set("sha256_digest", &"0".repeat(64)),
            StatusCode::BAD_REQUEST,
            "digest_mismatch",
            "sha256_digest",
        ),
        (
            form.clone().set("md5_digest", &"0".repeat(32)),
            StatusCode::BAD_REQUEST,
            "digest_mismatch",
            "md5_digest",
        ),
        (
            form.clone().set("blake2_256_digest", &"0".repeat(64)),
            StatusCode::BAD_REQUEST,
            "digest_mismatch",
            "blake2_256_digest",
        ),
    ];
    for (form, status, code, fragment) in cases {
        t.upload(Some(&token), &form)
            .await
            .assert_error(status, code, fragment);
    }
    let mut egg = form.clone();
    egg.filename = "demo_pkg-1.0-py3.6.egg".into();
    t.upload(Some(&token), &egg).await.assert_error(
        StatusCode::BAD_REQUEST,
        "invalid_filename",
        ".whl",
    );
    let mut no_file = form.clone();
    no_file.content = Vec::new();
    t.upload(
        Some(&token),
        &no_file.set(
            "sha256_digest",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "empty_file", "empty");

    let req = Request::post("/legacy/")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, basic(&token))
        .body(Body::from("{}"))
        .unwrap();
    t.send(req).await.assert_error(
        StatusCode::BAD_REQUEST,
        "invalid_form",
        "multipart/form-data",
    );
    assert_eq!(t.tmp_entries(), 0);
    assert!(
        t.get("/simple/demo-pkg/", &[]).await.status == StatusCode::NOT_FOUND,
        "nothing was published"
    );
}

#[tokio::test]
async fn archives_that_disagree_with_their_filename_or_are_hostile_are_refused() {
    let t = TestApp::new().await;
    let token = t.token("alice", "publish", &[]).await;
    let wrong_name = demo_wheel().metadata_name("evil-pkg");
    t.upload(
        Some(&token),
        &UploadForm::wheel(&wrong_name, "demo-pkg", "1.0"),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "metadata.mismatch", "evil-pkg");
    let wrong_version = demo_wheel().metadata_version("9.9");
    t.upload(
        Some(&token),
        &UploadForm::wheel(&wrong_version, "demo-pkg", "1.0"),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "metadata.mismatch", "9.9");

    let traversal = wharf_testkit::hostile::wheel_with_path_traversal();
    let base = wharf_testkit::hostile::base_wheel();
    let form = UploadForm::new("demo", "1.0", &base.filename(), traversal);
    let r = t
        .upload(Some(&token), &form.clone().set("name", &base_name(&base)))
        .await;
    r.assert_error(StatusCode::BAD_REQUEST, "archive.path-traversal", "refused");

    let not_a_zip = UploadForm::new(
        "demo-pkg",
        "1.0",
        "demo_pkg-1.0-py3-none-any.whl",
        b"plain text".to_vec(),
    );
    let r = t.upload(Some(&token), &not_a_zip).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert!(
        r.json()["error"].as_str().unwrap().starts_with("archive."),
        "{}",
        r.text()
    );
    assert_eq!(t.tmp_entries(), 0, "refused uploads leave nothing staged");
    let blobs = walk_files(&t.app.config.blob_dir());
    assert!(blobs.is_empty(), "refused uploads store no blob: {blobs:?}");
}

fn base_name(w: &WheelBuilder) -> String {
    w.filename().split('-').next().unwrap().to_owned()
}

fn walk_files(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk_files(&p));
        } else {
            out.push(p.display().to_string());
        }
    }
    out
}

#[tokio::test]
async fn oversized_uploads_get_413_by_declared_length_and_while_streaming() {
    let t = TestApp::with_config(|c| c.max_upload_bytes = 64 * 1024).await;
    let token = t.token("alice", "publish", &[]).await;
    let big =
        WheelBuilder::new("demo-pkg", "1.0").file("demo_pkg/blob.bin", random_bytes(200 * 1024));
    let form = UploadForm::wheel(&big, "demo-pkg", "1.0");

    // Streamed without a Content-Length: the cap is enforced as bytes arrive.
    let body = form.body();
    let stream = futures_util::stream::iter(
        body.chunks(8192)
            .map(|c| Ok::<_, std::io::Error>(bytes::Bytes::copy_from_slice(c)))
            .collect::<Vec<_>>(),
    );
    let req = Request::post("/legacy/")
        .header(header::CONTENT_TYPE, form.content_type())
        .header(header::AUTHORIZATION, basic(&token))
        .body(Body::from_stream(stream))
        .unwrap();
    t.send(req).await.assert_error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "file_too_large",
        "65536 bytes",
    );
    assert_eq!(t.tmp_entries(), 0, "the partial file is removed");

    // A declared length far over the cap is refused before the body is read.
    let req = Request::post("/legacy/")
        .header(header::CONTENT_TYPE, form.content_type())
        .header(header::AUTHORIZATION, basic(&token))
        .header(header::CONTENT_LENGTH, (1u64 << 40).to_string())
        .body(Body::from_stream(futures_util::stream::pending::<
            Result<bytes::Bytes, std::io::Error>,
        >()))
        .unwrap();
    t.send(req).await.assert_error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "file_too_large",
        "upload limit",
    );
}

fn random_bytes(n: usize) -> Vec<u8> {
    // Incompressible, so the wheel really is as large as its content.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[tokio::test]
async fn every_accepted_upload_is_audited_without_secrets() {
    let t = TestApp::new().await;
    let token = t.token("alice", "publish", &[]).await;
    t.upload(
        Some(&token),
        &UploadForm::wheel(&demo_wheel(), "demo-pkg", "1.0"),
    )
    .await;
    let events = t.app.ports.audit.recent(10).await.unwrap();
    let upload = events
        .iter()
        .find(|e| e.action == "file.upload")
        .expect("an upload event");
    assert_eq!(upload.target, "project:demo-pkg");
    assert!(upload.detail.contains("demo_pkg-1.0-py3-none-any.whl"));
    assert!(upload.actor_token_id.is_some());
    for e in &events {
        assert!(
            !e.detail.contains(&token) && !e.target.contains(&token),
            "{e:?}"
        );
    }
}

#[tokio::test]
async fn equal_versions_spelled_differently_share_one_release() {
    let t = TestApp::new().await;
    let token = t.token("alice", "publish", &[]).await;
    let wheel = WheelBuilder::new("demo", "1.0.0");
    assert_eq!(
        t.upload(Some(&token), &UploadForm::wheel(&wheel, "demo", "1.0.0"))
            .await
            .status,
        StatusCode::OK
    );
    let sdist = SdistBuilder::new("demo", "1.0");
    let r = t
        .upload(
            Some(&token),
            &UploadForm::new("demo", "1.0", &sdist.filename(), sdist.build()),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let view = t.get("/api/v1/projects/demo", &[]).await.json();
    let releases = view["releases"].as_array().unwrap();
    assert_eq!(releases.len(), 1, "{view}");
    assert_eq!(releases[0]["files"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_project_cannot_grow_past_its_total_size_limit() {
    let t = TestApp::with_config(|c| c.max_project_bytes = 3000).await;
    let token = t.token("alice", "publish", &[]).await;
    let first = WheelBuilder::new("demo", "1.0").file("demo/data.py", random_bytes(1500));
    assert_eq!(
        t.upload(Some(&token), &UploadForm::wheel(&first, "demo", "1.0"))
            .await
            .status,
        StatusCode::OK
    );
    let second = WheelBuilder::new("demo", "2.0").file("demo/data.py", random_bytes(1500));
    t.upload(Some(&token), &UploadForm::wheel(&second, "demo", "2.0"))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "project_too_large", "3000 bytes");
}

#[tokio::test]
async fn token_use_is_recorded() {
    let t = TestApp::new().await;
    let token = t.token("alice", "publish", &[]).await;
    let user = t
        .app
        .ports
        .users
        .find_user_by_name("alice")
        .await
        .unwrap()
        .unwrap();
    assert!(t.app.ports.tokens.list_tokens(user.id).await.unwrap()[0]
        .last_used_at
        .is_none());
    t.upload(
        Some(&token),
        &UploadForm::wheel(&demo_wheel(), "demo-pkg", "1.0"),
    )
    .await;
    // The timestamp is written off the request path.
    for _ in 0..100 {
        if t.app.ports.tokens.list_tokens(user.id).await.unwrap()[0]
            .last_used_at
            .is_some()
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("last_used_at was never recorded");
}
