//! `wharf login` / `wharf whoami` against a real server, with the device
//! approved through the web UI over HTTP; production-mode refusals; and a
//! grep of the server log and the audit log for every secret used.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use support::web::{create_user_with_password, start_login, wait_success};
use support::*;

const PASSWORD: &str = "correct horse battery staple";

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
