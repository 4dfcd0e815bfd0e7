//! `wharf worker`: a separate verification tier. A worker killed mid-job
//! loses the job when its lease runs out; another worker finishes it, and the
//! file ends in exactly one state.

mod support;

use std::time::{Duration, Instant};
use support::*;
use wharf_core::model::{AuditFilter, FileStatus, JobStatus};
use wharf_core::ports::{AuditLog, FileRepo, JobQueue};

fn count(events: &[wharf_core::model::AuditEvent], action: &str) -> usize {
    events.iter().filter(|e| e.action == action).count()
}

/// The database the server in `data` uses: PostgreSQL under
/// `WHARF_TEST_BACKEND=postgres`, else its SQLite file.
fn open_database(rt: &tokio::runtime::Runtime, data: &std::path::Path) -> wharf_db::Database {
    rt.block_on(async {
        match database_url(data) {
            Some(url) => wharf_db::Database::connect(&url).await.unwrap(),
            None => wharf_db::Database::open_sqlite(&data.join("wharf.db"))
                .await
                .unwrap(),
        }
    })
}

#[test]
fn a_worker_killed_mid_job_is_replaced_and_the_file_is_decided_once() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    // The server leaves every job to the workers and answers uploads at once.
    let server = Server::start_with_env(
        &data,
        &[
            ("WHARF_VERIFY_WORKERS", "0".to_owned()),
            ("WHARF_VERIFY_UPLOAD_WAIT", "0s".to_owned()),
        ],
    );
    let worker_env = [
        ("WHARF_VERIFY_LEASE", "2s".to_owned()),
        ("WHARF_VERIFY_POLL_INTERVAL", "20ms".to_owned()),
        ("WHARF_LOG", "warn".to_owned()),
    ];
    let token = token(&data, "alice", "publish");
    let db = open_database(&rt, &data);

    // Big enough that its scan takes a while: incompressible bytes to hash.
    let noise: Vec<u8> = (0..48u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let wheel =
        wharf_testkit::WheelBuilder::new("slow-scan", "1.0").file("slow_scan/data.bin", noise);
    let path = root.path().join(wheel.filename());
    std::fs::write(&path, wheel.build()).unwrap();
    let out = twine_upload(&server, &token, &[path]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = rt
        .block_on(db.find_file(&wheel.filename()))
        .unwrap()
        .unwrap();
    assert_eq!(file.status, FileStatus::Pending);
    let job = 1;
    assert_eq!(
        rt.block_on(db.job_status(job)).unwrap(),
        Some(JobStatus::Queued)
    );

    // Freeze the first worker as soon as it holds the job, then kill it.
    let first = Worker::start(&data, &worker_env);
    let deadline = Instant::now() + Duration::from_secs(30);
    while rt.block_on(db.job_status(job)).unwrap() != Some(JobStatus::Running) {
        assert!(
            Instant::now() < deadline,
            "the worker never claimed the job"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    first.signal("STOP");
    assert_eq!(
        rt.block_on(db.job_status(job)).unwrap(),
        Some(JobStatus::Running),
        "frozen mid-job, before any verdict"
    );
    assert_eq!(
        rt.block_on(db.find_file(&wheel.filename()))
            .unwrap()
            .unwrap()
            .status,
        FileStatus::Pending
    );
    first.signal("KILL");
    drop(first);

    // A second worker takes the job once the lease has run out, and finishes it.
    let _second = Worker::start(&data, &worker_env);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let status = rt
            .block_on(db.find_file(&wheel.filename()))
            .unwrap()
            .unwrap()
            .status;
        if status != FileStatus::Pending {
            assert_eq!(status, FileStatus::Published);
            break;
        }
        assert!(Instant::now() < deadline, "the job was never retried");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        rt.block_on(db.job_status(job)).unwrap(),
        Some(JobStatus::Done)
    );
    let events = rt
        .block_on(db.query(&AuditFilter {
            limit: 100,
            ..AuditFilter::default()
        }))
        .unwrap();
    assert_eq!(
        count(&events, "file.published"),
        1,
        "one verdict, stored once"
    );
    assert_eq!(count(&events, "file.quarantined"), 0);
    let (status, page) = server.get("/simple/slow-scan/");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(&wheel.filename()));
}

#[test]
fn the_admin_cli_lists_releases_rejects_and_rescans() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let server = Server::start(&data);
    let token = token(&data, "alice", "publish");
    let fixture = wharf_testkit::malicious::download_exec();
    let path = root.path().join(&fixture.filename);
    std::fs::write(&path, &fixture.bytes).unwrap();
    let out = twine_upload(&server, &token, std::slice::from_ref(&path));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let listed = server.admin(&["quarantine", "list"]);
    assert!(listed.contains(&fixture.filename), "{listed}");
    assert!(listed.contains(fixture.rule), "{listed}");
    let id = listed.split_whitespace().next().unwrap().to_owned();

    let refused =
        run_failing(wharf(&data).args(["admin", "quarantine", "release", &id, "--reason", " "]));
    assert!(refused.contains("a reason is required"), "{refused}");
    let refused = run_failing(wharf(&data).args([
        "admin",
        "quarantine",
        "release",
        "424242",
        "--reason",
        "x",
    ]));
    assert!(refused.contains("no file with ID 424242"), "{refused}");
    server.admin(&[
        "quarantine",
        "release",
        &id,
        "--reason",
        "reviewed: the URL is our mirror",
    ]);
    assert!(server.admin(&["quarantine", "list"]).trim().is_empty());

    // The rescan finds nothing new for a released file, and says so.
    let rescan = run(wharf(&data).args(["admin", "rescan", "--project", "demo-pkg"]));
    let said = String::from_utf8_lossy(&rescan.stderr);
    assert!(
        said.contains("scanned 1 files") && said.contains("0 newly quarantined"),
        "{said}"
    );

    server.admin(&[
        "quarantine",
        "reject",
        &id,
        "--reason",
        "policy: no curl | sh",
    ]);
    let audit = server.admin(&["audit", "--action", "file.rejected"]);
    assert!(audit.contains("policy: no curl | sh"), "{audit}");

    // `wharf scan` offline: the same rule, and exit status 1 for a held file.
    let scanned = wharf(&data).args(["scan"]).arg(&path).output().unwrap();
    assert_eq!(scanned.status.code(), Some(1));
    let text = String::from_utf8_lossy(&scanned.stdout);
    assert!(
        text.contains("code.download-exec") && text.contains("quarantine"),
        "{text}"
    );
    let bad = run_failing(wharf(&data).args(["scan", "notes.txt"]));
    assert!(bad.contains("only .whl and .tar.gz"), "{bad}");
}
