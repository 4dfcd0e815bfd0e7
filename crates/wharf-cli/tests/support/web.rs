//! The web UI over raw HTTP/1.1: enough to log in and approve a device login
//! without a browser, and to see every header of an answer.

use super::{wharf, Server, WHARF};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// One answer: status, header lines, body.
pub struct Answer {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl Answer {
    /// The value a `Set-Cookie` header gives cookie `name`.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            if !k.eq_ignore_ascii_case("set-cookie") {
                return None;
            }
            let (pair, _) = v.trim().split_once(';').unwrap_or((v.trim(), ""));
            let (n, value) = pair.split_once('=')?;
            (n == name).then(|| value.to_owned())
        })
    }

    pub fn hidden_field(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self
            .body
            .find(&marker)
            .unwrap_or_else(|| panic!("no field {name} in {}", self.body))
            + marker.len();
        self.body[start..].split('"').next().unwrap().to_owned()
    }
}

/// Sends one request and reads the whole answer (`Connection: close`).
pub fn exchange(
    server: &Server,
    method: &str,
    path: &str,
    cookie: &str,
    form: &[(&str, &str)],
) -> Answer {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
        server.addr,
        body.len()
    );
    if !form.is_empty() {
        head.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
    }
    if !cookie.is_empty() {
        head.push_str(&format!("Cookie: {cookie}\r\n"));
    }
    head.push_str("\r\n");
    let mut raw = head.into_bytes();
    raw.extend_from_slice(body.as_bytes());
    super::round_trip(&server.addr.to_string(), &raw)
        .unwrap_or_else(|| panic!("cannot reach wharf at {}", server.addr))
}

/// Logs in through the login form; returns the `Cookie` header value for the session.
pub fn login(server: &Server, user: &str, password: &str) -> String {
    let form = exchange(server, "GET", "/account/login", "", &[]);
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf = form.hidden_field("csrf");
    let answer = exchange(
        server,
        "POST",
        "/account/login",
        &format!(
            "wharf_login_csrf={}",
            form.cookie("wharf_login_csrf").unwrap()
        ),
        &[("username", user), ("password", password), ("csrf", &csrf)],
    );
    assert_eq!(answer.status, 303, "login failed: {}", answer.body);
    format!("wharf_session={}", answer.cookie("wharf_session").unwrap())
}

/// Approves a device login's user code as the session's user.
pub fn approve_device(server: &Server, session: &str, user_code: &str) {
    let page = exchange(
        server,
        "GET",
        &format!("/device?user_code={user_code}"),
        session,
        &[],
    );
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = page.hidden_field("csrf");
    let done = exchange(
        server,
        "POST",
        "/device",
        session,
        &[
            ("csrf", &csrf),
            ("user_code", user_code),
            ("action", "approve"),
        ],
    );
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("Device approved"), "{}", done.body);
}

/// `wharf admin user create NAME --password-stdin`.
pub fn create_user_with_password(
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
pub fn start_login(
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

/// Waits for `wharf login` to finish, and asserts it succeeded.
pub fn wait_success(child: &mut std::process::Child, rx: &mpsc::Receiver<String>) {
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
