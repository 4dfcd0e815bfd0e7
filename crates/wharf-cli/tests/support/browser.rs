//! Headless Chromium driven through ChromeDriver, for tests of Wharf's web
//! pages. A small blocking W3C WebDriver client over plain HTTP/1.1 on
//! loopback; both programs come from `scripts/test-services`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};

/// How long `find` and `wait_for_url_containing` poll before they panic.
const WAIT: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_millis(50);
/// The W3C key under which an element reference travels.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Chromium's flags. The background-networking ones keep it from trying to
/// reach the internet (updates, sync, QUIC probes), which on a closed network
/// only fills the logs with refused connections.
const CHROMIUM_ARGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
];

/// One headless Chromium session behind its own chromedriver process; both
/// end when it is dropped.
pub struct Browser {
    driver: Child,
    addr: SocketAddr,
    session: String,
    // Held for its lifetime: Chromium's profile lives here.
    _profile: tempfile::TempDir,
}

/// An element on the current page, found with `Browser::find`.
pub struct Element<'a> {
    browser: &'a Browser,
    id: String,
}

impl Browser {
    /// Starts chromedriver on a free loopback port and opens a fresh session.
    pub fn start() -> Self {
        let chromedriver = required_env("WHARF_TEST_CHROMEDRIVER");
        let chromium = required_env("WHARF_TEST_CHROMIUM");
        let addr = super::free_addr();
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={}", addr.port()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {chromedriver}: {e}"));
        let profile = tempfile::tempdir().unwrap();
        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|a| a.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let mut browser = Self {
            driver,
            addr,
            session: String::new(),
            _profile: profile,
        };
        browser.wait_ready();
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "timeouts": {"pageLoad": 30_000},
            "goog:chromeOptions": {"binary": chromium, "args": args},
        }}});
        let created = browser.call("POST", "/session", Some(capabilities));
        browser.session = created["sessionId"].as_str().unwrap().to_owned();
        browser
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(reply) = send(self.addr, "GET", "/status", None) {
                if reply["value"]["ready"] == true {
                    return;
                }
            }
            std::thread::sleep(POLL);
        }
        panic!("chromedriver did not become ready on {}", self.addr);
    }

    /// Navigates to `url` and waits for the page to load.
    pub fn goto(&self, url: &str) {
        self.session_call("POST", "/url", Some(json!({ "url": url })));
    }

    /// The URL of the current page.
    pub fn current_url(&self) -> String {
        string(self.session_call("GET", "/url", None))
    }

    /// The current page's `<title>`.
    pub fn title(&self) -> String {
        string(self.session_call("GET", "/title", None))
    }

    /// The current DOM, serialized as HTML.
    pub fn page_source(&self) -> String {
        string(self.session_call("GET", "/source", None))
    }

    /// The first element matching `css`, waiting up to 5 s for it to appear.
    pub fn find(&self, css: &str) -> Element<'_> {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(element) = self.find_all(css).into_iter().next() {
                return element;
            }
            if Instant::now() >= deadline {
                panic!(
                    "no element matches {css:?} on {} after {WAIT:?}",
                    self.current_url()
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// Every element matching `css` right now; no waiting.
    pub fn find_all(&self, css: &str) -> Vec<Element<'_>> {
        let found = self.session_call(
            "POST",
            "/elements",
            Some(json!({"using": "css selector", "value": css})),
        );
        found
            .as_array()
            .unwrap()
            .iter()
            .map(|reference| Element {
                browser: self,
                id: string(reference[ELEMENT_KEY].clone()),
            })
            .collect()
    }

    /// The cookies visible to the current page, as WebDriver reports them:
    /// `name`, `value`, `path`, `domain`, `httpOnly`, `secure`, `sameSite`…
    pub fn cookies(&self) -> Vec<Value> {
        match self.session_call("GET", "/cookie", None) {
            Value::Array(cookies) => cookies,
            other => panic!("cookies are not a list: {other}"),
        }
    }

    /// Waits up to 5 s for the current URL to contain `part`; returns it.
    pub fn wait_for_url_containing(&self, part: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let url = self.current_url();
            if url.contains(part) {
                return url;
            }
            if Instant::now() >= deadline {
                panic!("the URL is still {url} after {WAIT:?}, expected it to contain {part:?}");
            }
            std::thread::sleep(POLL);
        }
    }

    /// Waits up to 5 s for the page's source to contain `text`: after a
    /// click that navigates, elements found too early belong to the old page.
    pub fn wait_for_text(&self, text: &str) {
        let deadline = Instant::now() + WAIT;
        while !self.page_source().contains(text) {
            if Instant::now() >= deadline {
                panic!(
                    "{text:?} did not appear on {} after {WAIT:?}",
                    self.current_url()
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// Saves a PNG of the viewport to `path`; handy when a test fails.
    pub fn screenshot_png(&self, path: &Path) {
        let encoded = string(self.session_call("GET", "/screenshot", None));
        let png = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap();
        std::fs::write(path, png).unwrap_or_else(|e| panic!("cannot write {path:?}: {e}"));
    }

    fn session_call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.call(method, &format!("/session/{}{path}", self.session), body)
    }

    /// One WebDriver command: its `value`, or a panic with the driver's error.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let reply = send(self.addr, method, path, body.as_ref())
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"));
        let value = &reply["value"];
        if let Some(error) = value.get("error").and_then(Value::as_str) {
            panic!(
                "WebDriver {method} {path}: {error}: {}",
                value["message"].as_str().unwrap_or_default()
            );
        }
        reply["value"].clone()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ending the session makes chromedriver quit its Chromium; only then
        // is chromedriver itself stopped, by its own PID.
        if !self.session.is_empty() {
            let path = format!("/session/{}", self.session);
            let _ = send(self.addr, "DELETE", &path, None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Element<'_> {
    /// The element's rendered text.
    pub fn text(&self) -> String {
        string(self.call("GET", "/text", None))
    }

    /// The attribute `name` as written in the HTML, if the element has it.
    pub fn attr(&self, name: &str) -> Option<String> {
        self.call("GET", &format!("/attribute/{name}"), None)
            .as_str()
            .map(str::to_owned)
    }

    /// The live DOM property `name`: an input's current `value`, `checked`…
    pub fn property(&self, name: &str) -> Value {
        self.call("GET", &format!("/property/{name}"), None)
    }

    /// Types `text` into the element.
    pub fn send_keys(&self, text: &str) {
        self.call("POST", "/value", Some(json!({ "text": text })));
    }

    /// Clicks the element, as a user would.
    pub fn click(&self) {
        self.call("POST", "/click", Some(json!({})));
    }

    /// Empties an input or textarea.
    pub fn clear(&self) {
        self.call("POST", "/clear", Some(json!({})));
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.browser
            .session_call(method, &format!("/element/{}{path}", self.id), body)
    }
}

fn required_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("the browser tests need {name}: run `eval \"$(./scripts/test-services)\"` first")
    })
}

fn string(value: Value) -> String {
    match value {
        Value::String(s) => s,
        other => panic!("WebDriver sent {other} where a string was expected"),
    }
}

/// One HTTP/1.1 exchange with chromedriver; the whole JSON reply.
fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> std::io::Result<Value> {
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    // chromedriver answers `Connection: close` but keeps the socket open, so
    // the body is read by its Content-Length rather than to end of stream.
    let mut reader = BufReader::new(stream);
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().map_err(std::io::Error::other)?;
            }
        }
    }
    let mut raw = vec![0; length];
    reader.read_exact(&mut raw)?;
    serde_json::from_slice(&raw).map_err(std::io::Error::other)
}
