//! Scale-out: two stateless `wharf serve` processes sharing PostgreSQL,
//! Redis and an S3-compatible bucket (moto), all on 127.0.0.1.

mod support;

use std::process::Command;
use support::*;

struct Shared {
    env: Vec<(&'static str, String)>,
    bucket: String,
    s3: String,
}

/// A fresh schema (migrated), a fresh bucket, the test Redis, and a
/// per-token upload limit of 3 a minute.
fn shared_services(root: &std::path::Path) -> Shared {
    let db = fresh_postgres_url();
    let redis = std::env::var("WHARF_TEST_REDIS_URL").expect("run ./scripts/test: it starts Redis");
    let s3 = std::env::var("WHARF_TEST_S3_ENDPOINT").expect("run ./scripts/test: it starts moto");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let bucket = format!("wharf-scale-{nanos:x}");
    let s3_addr = s3.trim_start_matches("http://").to_owned();
    assert_eq!(
        http(&s3_addr, "PUT", &format!("/{bucket}")).0,
        200,
        "create bucket"
    );
    let env = vec![
        ("WHARF_DATABASE_URL", db.clone()),
        ("WHARF_REDIS_URL", redis),
        ("WHARF_REDIS_KEY_PREFIX", format!("wharf-scale-{nanos:x}")),
        ("WHARF_RATE_LIMIT_UPLOAD", "3/min".to_owned()),
        ("WHARF_S3_BUCKET", bucket.clone()),
        ("WHARF_S3_ENDPOINT", s3.clone()),
        ("WHARF_S3_ACCESS_KEY_ID", "test".to_owned()),
        ("WHARF_S3_SECRET_ACCESS_KEY", "test".to_owned()),
        ("WHARF_S3_ALLOW_HTTP", "true".to_owned()),
        ("WHARF_S3_LOCAL_TEST_ENDPOINT", "true".to_owned()),
    ];
    run(Command::new(WHARF)
        .env("WHARF_LOG", "warn")
        .envs(env.clone())
        .arg("--data-dir")
        .arg(root.join("migrate"))
        .arg("migrate"));
    Shared {
        env,
        bucket,
        s3: s3_addr,
    }
}

impl Shared {
    /// Runs `wharf admin …` against the shared services; returns stdout, trimmed.
    fn admin(&self, root: &std::path::Path, args: &[&str]) -> String {
        let out = run(Command::new(WHARF)
            .env("WHARF_LOG", "warn")
            .envs(self.env.clone())
            .arg("--data-dir")
            .arg(root.join("admin"))
            .arg("admin")
            .args(args));
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }
}

fn object_keys(shared: &Shared) -> Vec<String> {
    let (status, body) = http(
        &shared.s3,
        "GET",
        &format!("/{}?list-type=2", shared.bucket),
    );
    assert_eq!(status, 200, "{body}");
    body.split("<Key>")
        .skip(1)
        .map(|k| k.split("</Key>").next().unwrap().to_owned())
        .collect()
}

#[test]
fn two_instances_share_data_blobs_and_rate_limits() {
    let root = tempfile::tempdir().unwrap();
    let shared = shared_services(root.path());
    // The servers verify nothing themselves: a separate worker tier does.
    let mut serving = shared.env.clone();
    serving.push(("WHARF_VERIFY_WORKERS", "0".to_owned()));
    let a = Server::start_with_env(&root.path().join("a"), &serving);
    let b = Server::start_with_env(&root.path().join("b"), &serving);
    let _worker = Worker::start(&root.path().join("worker"), &shared.env);

    // A token created on the shared database works on both instances.
    shared.admin(root.path(), &["user", "create", "alice"]);
    let token = shared.admin(
        root.path(),
        &["token", "create", "--user", "alice", "--scope", "publish"],
    );

    // Upload through A; the bytes land in the bucket, not on A's disk.
    let v1 = build_project(root.path(), "wharf-scaled", "1.0", Backend::Setuptools);
    let out = twine_upload(&a, &token, &files_with(&v1, ".whl"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let keys = object_keys(&shared);
    assert_eq!(keys.len(), 2, "the wheel and its METADATA: {keys:?}");
    assert!(walk(&root.path().join("a"))
        .iter()
        .all(|p| !p.to_string_lossy().contains("sha256")));

    // Install from B: the page comes from PostgreSQL, the file via a presigned redirect.
    let env = pip_install(&b, root.path(), "from-b", &["wharf-scaled"]);
    assert_eq!(
        python_says(&env, "import wharf_scaled; print(wharf_scaled.VERSION)"),
        "1.0"
    );

    // The upload limit (3/min per token) holds across A and B together.
    let v2 = build_project(root.path(), "wharf-scaled", "2.0", Backend::Setuptools);
    let v3 = build_project(root.path(), "wharf-scaled", "3.0", Backend::Setuptools);
    let v4 = build_project(root.path(), "wharf-scaled", "4.0", Backend::Setuptools);
    assert!(twine_upload(&b, &token, &files_with(&v2, ".whl"))
        .status
        .success());
    assert!(twine_upload(&a, &token, &files_with(&v3, ".whl"))
        .status
        .success());
    let refused = twine_upload(&b, &token, &files_with(&v4, ".whl"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&refused.stdout),
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(
        !refused.status.success() && text.contains("429"),
        "the fourth upload is refused: {text}"
    );

    // Kill A in the middle of an upload (another token: alice's is spent):
    // B keeps serving, and nothing half-written appears in the bucket or the index.
    let bob = shared.admin(
        root.path(),
        &[
            "token", "create", "--user", "alice", "--scope", "publish", "--name", "second",
        ],
    );
    let before = object_keys(&shared);
    let mut stream = std::net::TcpStream::connect(a.addr).unwrap();
    use std::io::Write;
    let head = format!(
        "POST /legacy/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {bob}\r\n\
         Content-Type: multipart/form-data; boundary=X\r\nContent-Length: 9000000\r\n\r\n\
         --X\r\nContent-Disposition: form-data; name=\"content\"; filename=\"wharf_scaled-9.0-py3-none-any.whl\"\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&vec![b'x'; 512 * 1024]).unwrap();
    let staging = root.path().join("a").join("tmp");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while walk(&staging).is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(
        walk(&staging).len(),
        1,
        "A is streaming the upload when it is killed"
    );
    a.kill9();
    assert_eq!(b.get("/simple/wharf-scaled/").0, 200);
    assert!(!b.get("/simple/wharf-scaled/").1.contains("9.0"));
    assert_eq!(object_keys(&shared), before, "no new object in the bucket");
    assert_eq!(b.get("/readyz").0, 200);
}

/// A file fetched through A is served by B from the bucket; the page B
/// serves comes from the database: neither is asked of upstream again.
#[test]
fn a_file_proxied_through_a_is_served_by_b_without_a_second_fetch() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let upstream = runtime.block_on(wharf_testkit::fake_pypi::FakePypi::start());
    upstream.add_dir(&real_wheels());
    let root = tempfile::tempdir().unwrap();
    let shared = shared_services(root.path());
    let mut serving = shared.env.clone();
    serving.push(("WHARF_PROXY_PYPI_UPSTREAM", upstream.simple_url()));
    let a = Server::start_with_env(&root.path().join("a"), &serving);
    let b = Server::start_with_env(&root.path().join("b"), &serving);

    let env = pip_install(&a, root.path(), "via-a", &["idna"]);
    assert_eq!(
        python_says(&env, "import idna; print(idna.__version__)"),
        "3.20"
    );
    let wheel = "idna-3.20-py3-none-any.whl";
    assert_eq!(upstream.file_requests(wheel), 1);
    assert!(
        object_keys(&shared).len() >= 2,
        "the wheel and its METADATA are in the bucket"
    );
    let pages = upstream.page_requests("idna");

    let env = pip_install(&b, root.path(), "via-b", &["idna"]);
    assert_eq!(
        python_says(&env, "import idna; print(idna.__version__)"),
        "3.20"
    );
    assert_eq!(upstream.file_requests(wheel), 1, "B fetched the file again");
    assert_eq!(
        upstream.page_requests("idna"),
        pages,
        "B asked upstream for the page"
    );
}

#[test]
fn a_device_code_from_a_is_approved_on_b_and_redeemed_on_a() {
    let root = tempfile::tempdir().unwrap();
    let shared = shared_services(root.path());
    let a = Server::start_with_env(&root.path().join("a"), &shared.env);
    let b = Server::start_with_env(&root.path().join("b"), &shared.env);
    let password = "correct horse battery staple";
    let mut create = Command::new(WHARF);
    create
        .env("WHARF_LOG", "warn")
        .envs(shared.env.clone())
        .arg("--data-dir")
        .arg(root.path().join("admin"))
        .args(["admin", "user", "create", "alice", "--password-stdin"])
        .stdin(std::process::Stdio::piped());
    let mut child = create.spawn().unwrap();
    {
        use std::io::Write;
        writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    }
    assert!(child.wait().unwrap().success());

    let code = web::exchange(
        &a,
        "POST",
        "/api/v1/auth/device/code",
        "",
        &[("client_id", "test")],
    );
    assert_eq!(code.status, 200, "{}", code.body);
    let code: serde_json::Value = serde_json::from_str(&code.body).unwrap();
    let device_code = code["device_code"].as_str().unwrap();

    // Log in and approve on B; the session works on A too.
    let session = web::login(&b, "alice", password);
    assert_eq!(
        web::exchange(&a, "GET", "/account/tokens", &session, &[]).status,
        200
    );
    web::approve_device(&b, &session, code["user_code"].as_str().unwrap());

    // Redeem on A, once.
    let grant = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("device_code", device_code),
    ];
    let token = web::exchange(&a, "POST", "/api/v1/auth/device/token", "", &grant);
    assert_eq!(token.status, 200, "{}", token.body);
    let token: serde_json::Value = serde_json::from_str(&token.body).unwrap();
    assert!(token["access_token"]
        .as_str()
        .unwrap()
        .starts_with("wharf_"));
    let again = web::exchange(&b, "POST", "/api/v1/auth/device/token", "", &grant);
    assert_eq!(again.status, 400);
    assert!(again.body.contains("invalid_grant"), "{}", again.body);
    let listed = shared.admin(root.path(), &["token", "list", "--user", "alice"]);
    assert!(listed.contains("wharf login"), "{listed}");
}
