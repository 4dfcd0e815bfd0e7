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
        let value = body
            .split('&')
            .find_map(|pair| pair.strip_prefix("q="))
            .map(form_decode)
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

/// Decodes one `application/x-www-form-urlencoded` value.
fn form_decode(raw: &str) -> String {
    let mut bytes = Vec::new();
    let mut rest = raw.as_bytes();
    while let Some((&first, tail)) = rest.split_first() {
        match first {
            b'+' => bytes.push(b' '),
            b'%' if tail.len() >= 2 => {
                let hex = std::str::from_utf8(&tail[..2]).unwrap();
                bytes.push(u8::from_str_radix(hex, 16).unwrap());
                rest = &tail[2..];
                continue;
            }
            other => bytes.push(other),
        }
        rest = tail;
    }
    String::from_utf8(bytes).unwrap()
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
