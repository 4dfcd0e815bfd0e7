//! The browser harness itself: headless Chromium fills in and submits a form
//! on a tiny loopback page, and the test reads back the page and its cookie.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};

use support::browser::Browser;

#[test]
fn browser_harness_fills_a_form_and_reads_cookies() {
    let site = serve_echo_site();
    let browser = Browser::start();

    browser.goto(&format!("http://{site}/"));
    assert_eq!(browser.title(), "Form");
    let input = browser.find("input[name=q]");
    input.send_keys("typed by mistake");
    input.clear();
    input.send_keys("hello, wharf & <co>");
    assert_eq!(input.property("value"), "hello, wharf & <co>");
    assert_eq!(input.attr("name").as_deref(), Some("q"));
    assert_eq!(input.attr("value"), None);
    browser.find("button[type=submit]").click();

    browser.wait_for_url_containing("/echo");
    assert_eq!(browser.title(), "Echo");
    assert_eq!(browser.find("#echo").text(), "hello, wharf & <co>");
    assert!(browser
        .page_source()
        .contains("hello, wharf &amp; &lt;co&gt;"));
    assert_eq!(browser.find_all("p").len(), 1);

    let cookies = browser.cookies();
    let session = cookies
        .iter()
        .find(|c| c["name"] == "s")
        .unwrap_or_else(|| panic!("no cookie `s` among {cookies:?}"));
    assert_eq!(session["value"], "1");
    assert_eq!(session["httpOnly"], true);
    assert_eq!(session["sameSite"], "Lax");

    let shot = tempfile::NamedTempFile::new().unwrap();
    browser.screenshot_png(shot.path());
    let png = std::fs::read(shot.path()).unwrap();
    assert!(png.starts_with(b"\x89PNG"), "the screenshot is not a PNG");
}

/// A two-page site on a free loopback port: `GET /` is a form posting field
/// `q` to `/echo`, which shows the value and sets an HttpOnly, SameSite=Lax
/// cookie. Runs until the test process ends.
fn serve_echo_site() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            // One thread per connection: Chromium opens speculative
            // connections that may never carry a request.
            std::thread::spawn(move || answer(stream));
        }
    });
    addr
}

fn answer(mut stream: TcpStream) {
    let Some((request_line, body)) = read_request(&stream) else {
        return;
    };
    let (extra_headers, page) = if request_line.starts_with("GET / ") {
        (
            "",
            "<!doctype html><title>Form</title>\
             <form method=post action=/echo><input name=q><button type=submit>Send</button></form>"
                .to_owned(),
        )
    } else if request_line.starts_with("POST /echo ") {
        let value = form_urlencoded::parse(body.as_bytes())
            .find(|(name, _)| name == "q")
            .map(|(_, value)| value.into_owned())
            .unwrap_or_default();
        (
            "Set-Cookie: s=1; HttpOnly; SameSite=Lax; Path=/\r\n",
            format!(
                "<!doctype html><title>Echo</title><p id=\"echo\">{}</p>",
                html_escape(&value)
            ),
        )
    } else {
        let _ = stream
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    };
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n{extra_headers}\
         Content-Length: {}\r\nConnection: close\r\n\r\n{page}",
        page.len()
    );
}

/// The request line and the body of one HTTP/1.1 request.
fn read_request(stream: &TcpStream) -> Option<(String, String)> {
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    reader.read_line(&mut request_line).ok()?;
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok()?;
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((request_line, String::from_utf8(body).ok()?))
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The browser journey: log in, create a token, approve the device
/// code that `wharf login` is polling for, then `wharf whoami` works.
#[test]
fn browser_logs_in_creates_a_token_and_approves_wharf_login() {
    use std::process::Command;
    use support::web::{create_user_with_password, start_login, wait_success};
    use support::{run, Server, WHARF};

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data);
    let password = "correct horse battery staple";
    let out = create_user_with_password(&data, "alice", password);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let credentials = dir.path().join("credentials.toml");
    let (mut login, code, rx) = start_login(&server, &credentials);

    let browser = Browser::start();
    // Following the CLI's link first lands on the login page, then back.
    browser.goto(&server.url(&format!("/device?user_code={code}")));
    browser.wait_for_url_containing("/account/login");
    browser.find("#username").send_keys("alice");
    browser.find("#password").send_keys("not the password");
    browser.find("#login").click();
    browser.wait_for_text("Invalid user name or password");
    assert!(browser
        .find("#error")
        .text()
        .contains("Invalid user name or password"));
    browser.find("#username").clear();
    browser.find("#username").send_keys("alice");
    browser.find("#password").send_keys(password);
    browser.find("#login").click();
    // (The login page's own URL holds `next=/device%3Fuser_code…`, encoded.)
    browser.wait_for_url_containing("/device?user_code=");
    let session = browser
        .cookies()
        .into_iter()
        .find(|c| c["name"] == "wharf_session")
        .expect("a session cookie");
    assert_eq!(session["httpOnly"], true, "{session}");
    assert_eq!(session["sameSite"], "Lax", "{session}");
    assert_eq!(browser.find("#user-code").property("value"), code.as_str());
    assert!(browser
        .find("#device-scopes")
        .text()
        .contains("read,publish"));

    // A token, shown once.
    browser.goto(&server.url("/account/tokens"));
    browser.find("#token-name").send_keys("from the browser");
    browser.find("#scope-publish").click();
    browser.find("#create-token").click();
    browser.wait_for_text("Token created");
    let token = browser.find("#new-token-value").text();
    assert!(token.starts_with("wharf_"), "{token}");
    let me = support::web::exchange(&server, "GET", "/account/tokens", "", &[]);
    assert_eq!(me.status, 303, "the token page needs a session");
    let listed = server.admin(&["token", "list", "--user", "alice"]);
    assert!(listed.contains("from the browser"), "{listed}");
    browser.goto(&server.url("/account/tokens"));
    assert!(browser.find("#tokens").text().contains("from the browser"));
    assert!(!browser.page_source().contains(&token), "never shown again");

    // Approve the device login the CLI is waiting for.
    browser.goto(&server.url(&format!("/device?user_code={code}")));
    browser.find("#approve").click();
    browser.wait_for_text("Device approved");
    wait_success(&mut login, &rx);

    let out = run(Command::new(WHARF)
        .arg("whoami")
        .env("WHARF_CREDENTIALS", &credentials));
    let who = String::from_utf8_lossy(&out.stdout);
    assert!(who.starts_with("alice at http://"), "{who}");
    assert!(who.contains("scopes: read, publish"), "{who}");
}

#[test]
fn an_administrator_releases_a_held_file_from_the_review_page() {
    use support::{token, twine_upload, wharf, Server};

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data);
    let password = "correct horse battery staple";
    let mut child = wharf(&data)
        .args([
            "admin",
            "user",
            "create",
            "root",
            "--admin",
            "--password-stdin",
        ])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    assert!(child.wait().unwrap().success());
    let token = token(&data, "alice", "publish");
    let fixture = wharf_testkit::malicious::pth_import();
    let path = dir.path().join(&fixture.filename);
    std::fs::write(&path, &fixture.bytes).unwrap();
    let out = twine_upload(&server, &token, &[path]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let browser = Browser::start();
    browser.goto(&server.url("/admin/review"));
    browser.wait_for_url_containing("/account/login");
    browser.find("#username").send_keys("root");
    browser.find("#password").send_keys(password);
    browser.find("#login").click();
    browser.wait_for_url_containing("/admin/review");
    let held = browser.find("section.held").text();
    assert!(
        held.contains(&fixture.filename) && held.contains("install.pth-import"),
        "{held}"
    );
    browser
        .find("input[name=reason]")
        .send_keys("our interpreter hook, reviewed");
    browser.find("button.release").click();
    browser.wait_for_text("Nothing is held.");

    assert!(server.admin(&["quarantine", "list"]).trim().is_empty());
    let audit = server.admin(&["audit", "--action", "file.released"]);
    assert!(audit.contains("our interpreter hook, reviewed"), "{audit}");
    let (status, page) = server.get("/simple/demo-pkg/");
    assert_eq!(status, 200, "{page}");
}
