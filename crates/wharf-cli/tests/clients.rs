//! The real clients against a real `wharf serve` on 127.0.0.1: twine, uv and
//! poetry publish; pip and uv install; restarts keep everything; a crash
//! mid-upload leaves nothing half-written.

mod support;

use std::process::Command;
use support::*;

#[test]
fn twine_uv_and_poetry_publish_and_pip_and_uv_install() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let server = Server::start(&data);
    let token = token(&data, "alice", "read,publish");

    // twine: a setuptools wheel and sdist.
    let alpha = build_project(root.path(), "wharf-alpha", "1.0.0", Backend::Setuptools);
    let out = twine_upload(&server, &token, &files_with(&alpha, ""));
    assert!(
        out.status.success(),
        "twine: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // uv publish: a hatchling wheel and sdist.
    let beta = build_project(root.path(), "wharf-beta", "0.3.0", Backend::Hatchling);
    run(Command::new(tool("uv"))
        .args(["publish", "--publish-url"])
        .arg(server.url("/legacy/"))
        .args(["--username", "__token__", "--password", &token])
        .args(files_with(&beta, "")));

    // poetry publish --build, configured only through its environment.
    let gamma = root.path().join("gamma");
    std::fs::create_dir_all(gamma.join("wharf_gamma")).unwrap();
    std::fs::write(gamma.join("wharf_gamma/__init__.py"), "VERSION = '2.1'\n").unwrap();
    std::fs::write(
        gamma.join("pyproject.toml"),
        "[project]\nname = \"wharf-gamma\"\nversion = \"2.1\"\ndescription = \"poetry test\"\n\
         requires-python = \">=3.8\"\n\n[build-system]\nrequires = [\"poetry-core>=2\"]\n\
         build-backend = \"poetry.core.masonry.api\"\n",
    )
    .unwrap();
    run(Command::new(tool("poetry"))
        .args(["publish", "--build", "--no-interaction", "-r", "wharf"])
        .current_dir(&gamma)
        .env("POETRY_CONFIG_DIR", root.path().join("poetry-config"))
        .env("POETRY_CACHE_DIR", root.path().join("poetry-cache"))
        .env("POETRY_REPOSITORIES_WHARF_URL", server.url("/legacy/"))
        .env("POETRY_HTTP_BASIC_WHARF_USERNAME", "__token__")
        .env("POETRY_HTTP_BASIC_WHARF_PASSWORD", &token));

    // Each project has its wheel and sdist listed.
    for name in ["wharf-alpha", "wharf-beta", "wharf-gamma"] {
        let (status, body) = server.get(&format!("/simple/{name}/"));
        assert_eq!(status, 200, "{name}: {body}");
        assert!(
            body.contains(".whl#sha256=") && body.contains(".tar.gz#sha256="),
            "{name}: {body}"
        );
    }

    let env = pip_install(
        &server,
        root.path(),
        "all",
        &["wharf-alpha", "wharf-beta", "wharf-gamma"],
    );
    assert_eq!(
        python_says(&env, "import wharf_alpha, wharf_beta, wharf_gamma; print(wharf_alpha.VERSION, wharf_beta.VERSION, wharf_gamma.VERSION)"),
        "1.0.0 0.3.0 2.1"
    );

    // uv pip install into a fresh uv venv; uv resolves through the JSON
    // simple API and PEP 658 metadata files.
    let uv_env = root.path().join("uv-env");
    run(Command::new(tool("uv"))
        .args(["venv", "--quiet"])
        .arg(&uv_env));
    run(Command::new(tool("uv"))
        .args(["pip", "install", "--no-cache", "--python"])
        .arg(uv_env.join("bin/python"))
        .args([
            "--index-url",
            &server.url("/simple/"),
            "wharf-alpha",
            "wharf-beta==0.3.0",
        ]));
    assert_eq!(
        python_says(
            &uv_env,
            "import wharf_alpha, wharf_beta; print(wharf_alpha.VERSION, wharf_beta.VERSION)"
        ),
        "1.0.0 0.3.0"
    );
}

#[test]
fn pip_skips_a_yanked_version_unless_pinned() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let server = Server::start(&data);
    let token = token(&data, "alice", "publish");
    for v in ["1.0", "2.0"] {
        let dist = build_project(root.path(), "wharf-yank", v, Backend::Setuptools);
        let out = twine_upload(&server, &token, &files_with(&dist, ".whl"));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let body = r#"{"reason":"broken build"}"#;
    let request = format!(
        "POST /api/v1/projects/wharf-yank/releases/2.0/yank HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let (status, reply) = server.request(request.as_bytes());
    assert_eq!(status, 200, "{reply}");

    let unpinned = pip_install(&server, root.path(), "unpinned", &["wharf-yank"]);
    assert_eq!(
        python_says(&unpinned, "import wharf_yank; print(wharf_yank.VERSION)"),
        "1.0"
    );
    let pinned = pip_install(&server, root.path(), "pinned", &["wharf-yank==2.0"]);
    assert_eq!(
        python_says(&pinned, "import wharf_yank; print(wharf_yank.VERSION)"),
        "2.0"
    );
}

#[test]
fn twine_sees_clear_errors_and_identical_reuploads_succeed() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let server = Server::start(&data);
    let token = token(&data, "alice", "publish");
    let dist = build_project(root.path(), "wharf-errs", "1.0", Backend::Setuptools);
    let wheel = files_with(&dist, ".whl");
    assert!(twine_upload(&server, &token, &wheel).status.success());
    let again = twine_upload(&server, &token, &wheel);
    assert!(
        again.status.success(),
        "identical re-upload is a no-op: {}",
        String::from_utf8_lossy(&again.stderr)
    );

    // Same filename, different bytes: rebuild with other content.
    let other = root.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    let rebuilt = build_project(&other, "wharf-errs", "1.0", Backend::Hatchling);
    let clash = twine_upload(&server, &token, &files_with(&rebuilt, ".whl"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&clash.stdout),
        String::from_utf8_lossy(&clash.stderr)
    );
    assert!(!clash.status.success());
    assert!(
        text.contains("File already exists"),
        "twine shows the reason: {text}"
    );

    let reader = support::token(&data, "bob", "read");
    let refused = twine_upload(&server, &reader, &wheel);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&refused.stdout),
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(text.contains("403") && text.contains("publish"), "{text}");
}

#[test]
fn a_restart_keeps_tokens_projects_and_files() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let server = Server::start(&data);
    let token = token(&data, "alice", "publish");
    let dist = build_project(root.path(), "wharf-keep", "1.0", Backend::Setuptools);
    assert!(twine_upload(&server, &token, &files_with(&dist, ".whl"))
        .status
        .success());
    server.stop();

    let server = Server::start(&data);
    let (status, page) = server.get("/simple/wharf-keep/");
    assert_eq!(status, 200, "{page}");
    let dist2 = build_project(root.path(), "wharf-keep", "2.0", Backend::Setuptools);
    let out = twine_upload(&server, &token, &files_with(&dist2, ".whl"));
    assert!(
        out.status.success(),
        "the token survives a restart: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let env = pip_install(&server, root.path(), "keep", &["wharf-keep==1.0"]);
    assert_eq!(
        python_says(&env, "import wharf_keep; print(wharf_keep.VERSION)"),
        "1.0"
    );
    let listing = admin(&data, &["token", "list", "--user", "alice"]);
    assert!(
        listing.contains("publish") && listing.contains("active"),
        "{listing}"
    );
    assert!(!listing.contains(&token), "listing never shows a secret");
}

#[test]
fn kill_9_mid_upload_leaves_nothing_half_written() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let server = Server::start(&data);
    let token = token(&data, "alice", "publish");

    // Send the head of a 4 MiB upload and stop there, so the server is
    // streaming the file when it is killed.
    let boundary = "XkillX";
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\":action\"\r\n\r\nfile_upload\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nwharf-crash\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"content\"; filename=\"wharf_crash-1.0-py3-none-any.whl\"\r\n\r\n"
    );
    let total = head.len() + 4 * 1024 * 1024;
    let auth = format!("__token__:{token}");
    let request_head = format!(
        "POST /legacy/ HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n\
         Content-Length: {total}\r\n\r\n{head}",
        wharf_testkit::base64(auth.as_bytes())
    );
    let mut stream = std::net::TcpStream::connect(server.addr).unwrap();
    use std::io::Write;
    stream.write_all(request_head.as_bytes()).unwrap();
    stream.write_all(&vec![b'x'; 1024 * 1024]).unwrap();
    stream.flush().unwrap();
    // Wait until the partial file is visibly being staged.
    let tmp = data.join("tmp");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while walk(&tmp).is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(
        walk(&tmp).len(),
        1,
        "the upload is mid-stream in the staging area"
    );
    server.kill9();
    drop(stream);

    let blobs: Vec<_> = walk(&data.join("blobs"))
        .into_iter()
        .filter(|p| !p.to_string_lossy().contains("/.staging/"))
        .collect();
    assert!(
        blobs.is_empty(),
        "no half-written blob outside the staging area: {blobs:?}"
    );

    let server = Server::start(&data);
    assert!(
        walk(&tmp).is_empty(),
        "the next start cleans the staging area"
    );
    assert_eq!(server.get("/simple/wharf-crash/").0, 404);
    assert!(!server.get("/simple/").1.contains("wharf-crash"));
}

#[test]
fn admin_commands_validate_their_input() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let cli = |args: &[&str]| {
        let mut c = wharf(&data);
        c.arg("admin").args(args);
        c
    };
    run(&mut cli(&["user", "create", "alice"]));
    let text = run_failing(&mut cli(&["user", "create", "ALICE"]));
    assert!(text.contains("exists already"), "{text}");
    let text = run_failing(&mut cli(&["user", "create", "bad name"]));
    assert!(text.contains("user name"), "{text}");
    let text = run_failing(&mut cli(&[
        "token", "create", "--user", "alice", "--scope", "root",
    ]));
    assert!(text.contains("unknown scope 'root'"), "{text}");
    let text = run_failing(&mut cli(&[
        "token", "create", "--user", "nobody", "--scope", "read",
    ]));
    assert!(text.contains("no user named 'nobody'"), "{text}");
    let text = run_failing(&mut cli(&[
        "token",
        "create",
        "--user",
        "alice",
        "--scope",
        "read",
        "--expires",
        "soon",
    ]));
    assert!(text.contains("not a duration"), "{text}");
    let text = run_failing(&mut cli(&[
        "token",
        "create",
        "--user",
        "alice",
        "--scope",
        "read",
        "--project",
        "a b",
    ]));
    assert!(text.contains("not a valid project name"), "{text}");
    let text = run_failing(&mut cli(&["token", "revoke", "999"]));
    assert!(text.contains("no token with ID 999"), "{text}");

    // The token is alone on stdout; the note about it goes to stderr.
    let out = run(&mut cli(&[
        "token",
        "create",
        "--user",
        "alice",
        "--scope",
        "read,publish",
        "--expires",
        "30d",
        "--name",
        "ci",
    ]));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1);
    assert!(
        stdout.trim().starts_with("wharf_") && stdout.trim().len() == 44,
        "{stdout}"
    );
    let list =
        String::from_utf8(run(&mut cli(&["token", "list", "--user", "alice"])).stdout).unwrap();
    assert!(
        list.contains("ci") && list.contains("read,publish") && !list.contains("never"),
        "{list}"
    );
    run(&mut cli(&["token", "revoke", "1"]));
    let list =
        String::from_utf8(run(&mut cli(&["token", "list", "--user", "alice"])).stdout).unwrap();
    assert!(list.contains("revoked"), "{list}");

    let audit =
        String::from_utf8(run(&mut cli(&["audit", "--action", "token.revoke"])).stdout).unwrap();
    assert_eq!(
        audit.lines().count(),
        2,
        "a header and the one revocation: {audit}"
    );
    assert!(
        audit.contains("token.revoke") && audit.contains("token:1"),
        "{audit}"
    );
    let text = run_failing(&mut cli(&["audit", "--since", "yesterday"]));
    assert!(text.contains("neither a time"), "{text}");
}

#[test]
fn bad_configuration_stops_startup_naming_the_field() {
    let root = tempfile::tempdir().unwrap();
    let config = root.path().join("wharf.toml");
    std::fs::write(&config, "max_upload_size = \"huge\"\n").unwrap();
    let text =
        run_failing(Command::new(WHARF).args(["--config", config.to_str().unwrap(), "serve"]));
    assert!(
        text.contains("max_upload_size") && text.contains("100MiB"),
        "{text}"
    );
    let text = run_failing(
        Command::new(WHARF)
            .args(["serve", "--listen", "nowhere"])
            .current_dir(root.path()),
    );
    assert!(
        text.contains("listen") && text.contains("127.0.0.1:8080"),
        "{text}"
    );
}

#[test]
fn sigterm_lets_an_upload_in_flight_finish() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let server = Server::start(&data);
    let token = token(&data, "alice", "publish");
    let wheel = wharf_testkit::WheelBuilder::new("wharf-graceful", "1.0")
        .file("wharf_graceful/__init__.py", "X = 1\n");
    let bytes = wheel.build();
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&bytes))
    };
    let boundary = "XgracefulX";
    let mut body = Vec::new();
    for (k, v) in [
        (":action", "file_upload"),
        ("protocol_version", "1"),
        ("name", "wharf-graceful"),
        ("version", "1.0"),
        ("filetype", "bdist_wheel"),
        ("pyversion", "py3"),
        ("sha256_digest", sha.as_str()),
    ] {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .bytes(),
        );
    }
    body.extend(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"content\"; filename=\"{}\"\r\n\r\n", wheel.filename())
            .bytes(),
    );
    body.extend(&bytes);
    body.extend(format!("\r\n--{boundary}--\r\n").bytes());
    let head = format!(
        "POST /legacy/ HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        wharf_testkit::base64(format!("__token__:{token}").as_bytes()),
        body.len()
    );

    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(server.addr).unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    let half = body.len() / 2;
    stream.write_all(&body[..half]).unwrap();
    stream.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    // The signal arrives while the request is half sent.
    let pid = server.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    std::thread::sleep(std::time::Duration::from_millis(300));
    stream.write_all(&body[half..]).unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    assert!(
        reply.starts_with("HTTP/1.1 200"),
        "the upload in flight completes: {reply}"
    );
    server.stop();

    let server = Server::start(&data);
    let (status, page) = server.get("/simple/wharf-graceful/");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(&sha));
}

#[test]
fn a_shared_postgres_database_is_migrated_by_wharf_migrate_not_by_serve() {
    let root = tempfile::tempdir().unwrap();
    let url = fresh_postgres_url();
    let cmd = |args: &[&str]| {
        let mut c = Command::new(WHARF);
        c.env("WHARF_LOG", "warn")
            .env("WHARF_DATABASE_URL", &url)
            .arg("--data-dir")
            .arg(root.path())
            .args(args);
        c
    };
    let text = run_failing(&mut cmd(&["serve", "--listen", "127.0.0.1:0"]));
    assert!(
        text.contains("migration(s) behind") && text.contains("wharf migrate"),
        "{text}"
    );
    let text = run_failing(&mut cmd(&["admin", "user", "create", "alice"]));
    assert!(text.contains("wharf migrate"), "{text}");
    run(&mut cmd(&["migrate"]));
    run(&mut cmd(&["migrate"])); // idempotent
    run(&mut cmd(&["admin", "user", "create", "alice"]));
    let text = run_failing(&mut cmd(&["admin", "user", "create", "alice"]));
    assert!(
        text.contains("exists already"),
        "the user landed in PostgreSQL: {text}"
    );
}
