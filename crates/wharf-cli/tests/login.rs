//! `wharf login` / `wharf whoami` against a real server, with the device
//! approved through the web UI over HTTP; production-mode refusals; and a
//! grep of the server log and the audit log for every secret used.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use support::*;

const PASSWORD: &str = "correct horse battery staple";

fn create_user_with_password(
    data_dir: &std::path::Path,
    name: &str,
    password: &str,
) -> std::process::Output {
    let mut child = wharf(data_dir)
        .args(["admin", "user", "create", name, "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    child.wait_with_output().unwrap()
}

/// Starts `wharf login` and returns it with the user code it printed.
fn start_login(
    server: &Server,
    credentials: &std::path::Path,
) -> (std::process::Child, String, mpsc::Receiver<String>) {
    let mut child = Command::new(WHARF)
        .args(["login", "--url", &server.url("")])
        .env("WHARF_CREDENTIALS", credentials)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            if let Some(code) = line.strip_prefix("and enter the code: ") {
                return (child, code.trim().to_owned(), rx);
            }
            seen.push(line);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("wharf login printed no code: {seen:?}");
}

fn wait_success(child: &mut std::process::Child, rx: &mpsc::Receiver<String>) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let rest: Vec<String> = rx.try_iter().collect();
            assert!(status.success(), "wharf login failed: {rest:?}");
            return;
        }
        assert!(Instant::now() < deadline, "wharf login did not finish");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn wharf_login_polls_until_approved_then_whoami_shows_the_token_and_no_secret_is_logged() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log_path = dir.path().join("server.log");
    let server = Server::start_logging_to(
        &data,
        &[("WHARF_LOG", "debug,sqlx=warn,hyper=warn".to_owned())],
        std::fs::File::create(&log_path).unwrap(),
    );
    let out = create_user_with_password(&data, "alice", PASSWORD);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let credentials = dir.path().join("config/wharf/credentials.toml");
    let (mut login, code, rx) = start_login(&server, &credentials);
    assert_eq!(code.len(), 9, "{code}");
    let session = web::login(&server, "alice", PASSWORD);
    let csrf = web::exchange(&server, "GET", "/account/tokens", &session, &[]).hidden_field("csrf");
    web::approve_device(&server, &session, &code);
    wait_success(&mut login, &rx);

    let mode = std::fs::metadata(&credentials)
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600, "the token file is private");
    let stored = std::fs::read_to_string(&credentials).unwrap();
    let token = stored
        .lines()
        .find_map(|l| l.strip_prefix("token = \""))
        .unwrap()
        .trim_end_matches('"')
        .to_owned();
    assert!(token.starts_with("wharf_"), "{stored}");

    let out = run(Command::new(WHARF)
        .arg("whoami")
        .env("WHARF_CREDENTIALS", &credentials));
    let who = String::from_utf8_lossy(&out.stdout);
    assert!(who.starts_with("alice at http://"), "{who}");
    assert!(who.contains("scopes: read, publish"), "{who}");
    assert!(who.contains("token: wharf login"), "{who}");

    // The approval is single use: the same code cannot be approved again.
    let again = web::exchange(
        &server,
        "GET",
        &format!("/device?user_code={code}"),
        &session,
        &[],
    );
    assert_eq!(again.status, 404);

    let audit = server.admin(&["audit", "--limit", "500"]);
    for action in ["login", "device.approve", "token.create"] {
        assert!(audit.contains(action), "{action} missing from:\n{audit}");
    }
    server.stop();
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        log.contains("DEBUG") || log.contains("INFO"),
        "the log was captured: {log}"
    );
    let session_id = session.trim_start_matches("wharf_session=");
    for (what, secret) in [
        ("password", PASSWORD),
        ("token", &token),
        ("session", session_id),
        ("csrf", &csrf),
    ] {
        assert!(!log.contains(secret), "the {what} is in the server log");
        assert!(!audit.contains(secret), "the {what} is in the audit log");
    }
    assert!(
        !log.contains(&token[6..20]),
        "no part of the token is logged"
    );
}

#[test]
fn whoami_without_a_login_says_how_to_log_in() {
    let dir = tempfile::tempdir().unwrap();
    let text = run_failing(
        Command::new(WHARF)
            .arg("whoami")
            .env("WHARF_CREDENTIALS", dir.path().join("none.toml")),
    );
    assert!(
        text.contains("not logged in: run `wharf login --url URL`"),
        "{text}"
    );
    let text = run_failing(Command::new(WHARF).args(["login", "--url", "ftp://x"]));
    assert!(text.contains("--url must start with https://"), "{text}");
}

#[test]
fn a_short_password_is_refused_and_creates_no_user() {
    let dir = tempfile::tempdir().unwrap();
    let out = create_user_with_password(dir.path(), "alice", "short");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("at least 12 characters"), "{err}");
    let listed = run_failing(wharf(dir.path()).args(["admin", "token", "list", "--user", "alice"]));
    assert!(listed.contains("no user named 'alice'"), "{listed}");
}

#[test]
fn production_mode_refuses_weak_settings_and_names_each_fix() {
    let dir = tempfile::tempdir().unwrap();
    let text = run_failing(
        wharf(dir.path())
            .args(["serve", "--production", "--listen", "0.0.0.0:0"])
            .env("WHARF_SESSION_SECRET", "change-me"),
    );
    assert!(text.contains("production mode refuses to start"), "{text}");
    assert!(
        text.contains("WHARF_SESSION_SECRET") && text.contains("openssl rand"),
        "{text}"
    );
    assert!(text.contains("behind_tls_proxy"), "{text}");
    assert!(
        !text.contains("change-me"),
        "the secret is not echoed: {text}"
    );
    let text = run_failing(
        wharf(dir.path())
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("WHARF_ENV", "production"),
    );
    assert!(
        text.contains("session secret (WHARF_SESSION_SECRET) is missing"),
        "{text}"
    );
}
