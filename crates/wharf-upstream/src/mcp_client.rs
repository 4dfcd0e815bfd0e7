//! A small MCP client that captures what a remote server exposes:
//! `initialize`, then `tools/list`, `prompts/list` and `resources/list`
//! (each paginated), over the streamable HTTP transport or the older
//! HTTP+SSE one.
//!
//! The server is untrusted and so is its address. The client connects only
//! to addresses the policy allows, checked after DNS resolution (so a public
//! name that resolves to a private address is refused) and for literal
//! addresses; it ignores proxy settings (a proxy would resolve names itself),
//! follows no redirect, sends no credentials, and bounds the whole capture in
//! time and every answer in size. A server that asks for credentials (401 or
//! 403) is reported as such, not as a failure.

use crate::fetch::chain;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, CONTENT_TYPE};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use wharf_core::mcp::{classify_ip, HostClass};

/// The protocol version asked for; servers answer with the one they speak.
const PROTOCOL_VERSION: &str = "2025-06-18";
const SESSION_HEADER: &str = "mcp-session-id";
const VERSION_HEADER: &str = "mcp-protocol-version";

/// How a remote server is reached (`remotes[].type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    StreamableHttp,
    Sse,
}

/// The bounds of one capture.
#[derive(Debug, Clone)]
pub struct CaptureSettings {
    /// The whole capture, every exchange included.
    pub deadline: Duration,
    /// Everything read from the server in one capture.
    pub max_bytes: usize,
    /// Pages read per list.
    pub max_pages: usize,
    /// Items kept per list.
    pub max_items: usize,
    /// Loopback addresses are allowed (development and tests only); private
    /// and other non-public addresses never are.
    pub allow_loopback: bool,
}

impl Default for CaptureSettings {
    fn default() -> Self {
        Self {
            deadline: Duration::from_secs(30),
            max_bytes: 8 * 1024 * 1024,
            max_pages: 50,
            max_items: 2_000,
            allow_loopback: false,
        }
    }
}

/// What a server exposes, as it listed it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Capture {
    /// The protocol version the server answered with.
    pub protocol_version: String,
    pub tools: Vec<Value>,
    pub prompts: Vec<Value>,
    pub resources: Vec<Value>,
}

#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// 401 or 403: the server wants credentials, which a capture never sends.
    #[error("the server asks for credentials (HTTP {status})")]
    NeedsCredentials { status: u16 },
    /// The address is not one the policy lets us connect to.
    #[error("{0}")]
    Refused(String),
    #[error("no complete answer within {} s", .0.as_secs())]
    TimedOut(Duration),
    /// Anything else: transport errors, protocol errors, oversized answers.
    #[error("{0}")]
    Failed(String),
}

/// The capture client. Cheap to clone.
#[derive(Clone)]
pub struct McpClient {
    http: reqwest::Client,
    settings: Arc<CaptureSettings>,
}

/// Resolves names, then keeps only the addresses the policy allows.
struct GuardedResolver {
    allow_loopback: bool,
}

fn address_allowed(ip: IpAddr, allow_loopback: bool) -> bool {
    match classify_ip(ip) {
        HostClass::Public => true,
        HostClass::Loopback => allow_loopback,
        HostClass::NonPublic | HostClass::InternalName => false,
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let allow_loopback = self.allow_loopback;
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| address_allowed(a.ip(), allow_loopback))
                .collect();
            if allowed.is_empty() {
                return Err(
                    format!("{host} resolves to no address a capture may connect to").into(),
                );
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

impl McpClient {
    pub fn new(settings: CaptureSettings) -> Result<Self, CaptureError> {
        // No idle connections are kept: each capture stands alone, and a
        // connection to a server that has since restarted is never reused.
        let http = reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(0)
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(GuardedResolver {
                allow_loopback: settings.allow_loopback,
            })
            .connect_timeout(settings.deadline)
            .user_agent(concat!("wharf-capture/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                CaptureError::Failed(format!("cannot prepare the HTTP client: {}", chain(&e)))
            })?;
        Ok(Self {
            http,
            settings: Arc::new(settings),
        })
    }

    /// Connects to `url` and lists what the server exposes.
    pub async fn capture(&self, url: &str, transport: Transport) -> Result<Capture, CaptureError> {
        let deadline = self.settings.deadline;
        match tokio::time::timeout(deadline, self.capture_within(url, transport)).await {
            Ok(result) => result,
            Err(_) => Err(CaptureError::TimedOut(deadline)),
        }
    }

    async fn capture_within(
        &self,
        url: &str,
        transport: Transport,
    ) -> Result<Capture, CaptureError> {
        let url = self.check_url(url)?;
        let session = match transport {
            Transport::StreamableHttp => Session::streamable(self, url),
            Transport::Sse => Session::sse(self, url).await?,
        };
        converse(session).await
    }

    /// Speaks MCP over a child process's stdin and stdout (JSON-RPC, one
    /// message per line): for a package server run in a sandbox. The caller
    /// starts the process with both piped, and stops it afterwards.
    pub async fn capture_stdio(
        &self,
        child: &mut tokio::process::Child,
    ) -> Result<Capture, CaptureError> {
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(CaptureError::Failed(
                "the server's stdin and stdout must be piped".into(),
            ));
        };
        let session = Session {
            client: self,
            post_url: reqwest::Url::parse("stdio:/").expect("a constant URL"),
            channel: Channel::Stdio {
                stdin,
                stdout: tokio::io::BufReader::new(stdout),
            },
            session_id: None,
            protocol_version: None,
            next_id: 1,
            read: 0,
        };
        let deadline = self.settings.deadline;
        match tokio::time::timeout(deadline, converse(session)).await {
            Ok(result) => result,
            Err(_) => Err(CaptureError::TimedOut(deadline)),
        }
    }

    /// An absolute http(s) URL whose literal address, if it is one, the
    /// policy allows (names are checked when they are resolved).
    fn check_url(&self, raw: &str) -> Result<reqwest::Url, CaptureError> {
        let url = reqwest::Url::parse(raw)
            .map_err(|e| CaptureError::Refused(format!("not a URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(CaptureError::Refused(format!(
                "only http(s) servers are captured, not {}",
                url.scheme()
            )));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(CaptureError::Refused(
                "the URL carries credentials; a capture never sends any".into(),
            ));
        }
        let host = url
            .host_str()
            .ok_or_else(|| CaptureError::Refused("the URL has no host".into()))?;
        let literal = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .ok();
        if let Some(ip) = literal {
            if !address_allowed(ip, self.settings.allow_loopback) {
                return Err(CaptureError::Refused(format!(
                    "{ip} is not an address a capture may connect to"
                )));
            }
        }
        Ok(url)
    }
}

/// A JSON-RPC message the client sends: a request (with an ID) or a
/// notification.
#[derive(Serialize)]
struct Outgoing<'a, P> {
    jsonrpc: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<i64>,
    method: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    params: Option<P>,
}

impl<P: Serialize> Outgoing<'_, P> {
    fn message(id: Option<i64>, method: &str, params: Option<P>) -> Result<Value, CaptureError> {
        serde_json::to_value(Outgoing {
            jsonrpc: "2.0",
            id,
            method,
            params,
        })
        .map_err(|e| CaptureError::Failed(format!("cannot write the {method} request: {e}")))
    }
}

/// The parameters of `initialize`: no client capabilities.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Initialize {
    protocol_version: &'static str,
    capabilities: Empty,
    client_info: ClientInfo,
}

#[derive(Serialize)]
struct Empty {}

#[derive(Serialize)]
struct ClientInfo {
    name: &'static str,
    version: &'static str,
}

/// The parameters of a list: the cursor of the page, after the first.
#[derive(Serialize)]
struct Page<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    cursor: Option<&'a str>,
}

/// `initialize`, then every list the server offers.
async fn converse(mut session: Session<'_>) -> Result<Capture, CaptureError> {
    let init = session
        .request(
            "initialize",
            Initialize {
                protocol_version: PROTOCOL_VERSION,
                capabilities: Empty {},
                client_info: ClientInfo {
                    name: "wharf-capture",
                    version: env!("CARGO_PKG_VERSION"),
                },
            },
        )
        .await?
        .map_err(|e| CaptureError::Failed(format!("initialize failed: {e}")))?;
    let protocol_version = init
        .get("protocolVersion")
        .and_then(Value::as_str)
        .unwrap_or(PROTOCOL_VERSION)
        .to_owned();
    session.protocol_version = Some(protocol_version.clone());
    session.notify("notifications/initialized").await?;
    let offers = |key: &str| init.get("capabilities").and_then(|c| c.get(key)).is_some();
    let tools = session.list("tools/list", "tools").await?;
    let prompts = if offers("prompts") {
        session.list("prompts/list", "prompts").await?
    } else {
        Vec::new()
    };
    let resources = if offers("resources") {
        session.list("resources/list", "resources").await?
    } else {
        Vec::new()
    };
    session.close().await;
    Ok(Capture {
        protocol_version,
        tools,
        prompts,
        resources,
    })
}

/// One JSON-RPC conversation with a server.
struct Session<'a> {
    client: &'a McpClient,
    /// Where requests are POSTed.
    post_url: reqwest::Url,
    channel: Channel,
    session_id: Option<String>,
    protocol_version: Option<String>,
    next_id: i64,
    /// Bytes read so far, against `max_bytes`.
    read: usize,
}

enum Channel {
    /// Each POST answers with JSON or an event stream.
    Streamable,
    /// Answers arrive on the event stream opened first.
    Sse {
        stream: reqwest::Response,
        events: SseParser,
    },
    /// A child process: requests on its stdin, answers on its stdout.
    Stdio {
        stdin: tokio::process::ChildStdin,
        stdout: tokio::io::BufReader<tokio::process::ChildStdout>,
    },
}

impl<'a> Session<'a> {
    fn streamable(client: &'a McpClient, url: reqwest::Url) -> Self {
        Self {
            client,
            post_url: url,
            channel: Channel::Streamable,
            session_id: None,
            protocol_version: None,
            next_id: 1,
            read: 0,
        }
    }

    /// Opens the event stream and waits for the `endpoint` event, which must
    /// name a URL of the same origin.
    async fn sse(client: &'a McpClient, url: reqwest::Url) -> Result<Self, CaptureError> {
        let stream = client
            .http
            .get(url.clone())
            .header(ACCEPT, "text/event-stream")
            .send()
            .await
            .map_err(transport_error)?;
        check_status(stream.status())?;
        let mut session = Self {
            client,
            post_url: url.clone(),
            channel: Channel::Sse {
                stream,
                events: SseParser::default(),
            },
            session_id: None,
            protocol_version: None,
            next_id: 1,
            read: 0,
        };
        loop {
            let event = session.next_event().await?;
            if event.name == "endpoint" {
                let endpoint = url.join(event.data.trim()).map_err(|e| {
                    CaptureError::Failed(format!("the endpoint event is not a URL: {e}"))
                })?;
                if endpoint.origin() != url.origin() {
                    return Err(CaptureError::Refused(
                        "the server's endpoint event names another origin".into(),
                    ));
                }
                session.post_url = endpoint;
                return Ok(session);
            }
        }
    }

    fn headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            ACCEPT,
            HeaderValue::from_static("application/json, text/event-stream"),
        );
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let mut put = |name: &'static str, value: &Option<String>| {
            if let Some(v) = value.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
                headers.insert(name, v);
            }
        };
        put(SESSION_HEADER, &self.session_id);
        put(VERSION_HEADER, &self.protocol_version);
        headers
    }

    async fn post(&mut self, body: &Value) -> Result<reqwest::Response, CaptureError> {
        let response = self
            .client
            .http
            .post(self.post_url.clone())
            .headers(self.headers())
            .body(body.to_string())
            .send()
            .await
            .map_err(transport_error)?;
        check_status(response.status())?;
        if let Some(id) = response
            .headers()
            .get(SESSION_HEADER)
            .and_then(|v| v.to_str().ok())
        {
            self.session_id = Some(id.to_owned());
        }
        Ok(response)
    }

    /// One request; the outer error ends the capture, the inner one is the
    /// server's JSON-RPC error.
    async fn request(
        &mut self,
        method: &str,
        params: impl Serialize,
    ) -> Result<Result<Value, String>, CaptureError> {
        let id = self.next_id;
        self.next_id += 1;
        let body = Outgoing::message(Some(id), method, Some(params))?;
        let answer = if let Channel::Stdio { .. } = self.channel {
            self.send_line(&body).await?;
            self.answer_from_stdout(id).await?
        } else {
            let response = self.post(&body).await?;
            match &self.channel {
                Channel::Sse { .. } => {
                    drop(response);
                    self.answer_from_sse(id).await?
                }
                _ => {
                    let is_stream = response
                        .headers()
                        .get(CONTENT_TYPE)
                        .and_then(|v| v.to_str().ok())
                        .is_some_and(|t| t.starts_with("text/event-stream"));
                    if is_stream {
                        self.answer_from_stream(response, id).await?
                    } else {
                        let bytes = self.read_body(response).await?;
                        serde_json::from_slice(&bytes).map_err(|e| {
                            CaptureError::Failed(format!("the answer to {method} is not JSON: {e}"))
                        })?
                    }
                }
            }
        };
        Ok(match answer.get("error") {
            Some(error) => Err(error
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("an error without a message")
                .chars()
                .take(300)
                .collect()),
            None => Ok(answer.get("result").cloned().unwrap_or(Value::Null)),
        })
    }

    async fn notify(&mut self, method: &str) -> Result<(), CaptureError> {
        let body = Outgoing::<()>::message(None, method, None)?;
        if let Channel::Stdio { .. } = self.channel {
            return self.send_line(&body).await;
        }
        drop(self.post(&body).await?);
        Ok(())
    }

    async fn send_line(&mut self, body: &Value) -> Result<(), CaptureError> {
        use tokio::io::AsyncWriteExt;
        let Channel::Stdio { stdin, .. } = &mut self.channel else {
            return Err(CaptureError::Failed("no process to write to".into()));
        };
        let mut line = body.to_string();
        line.push('\n');
        let failed =
            |e: std::io::Error| CaptureError::Failed(format!("cannot write to the server: {e}"));
        stdin.write_all(line.as_bytes()).await.map_err(failed)?;
        stdin.flush().await.map_err(failed)
    }

    /// Reads the server's stdout until the answer to `id`; other messages
    /// (notifications, requests to the client) and lines that are not JSON
    /// are passed over.
    async fn answer_from_stdout(&mut self, id: i64) -> Result<Value, CaptureError> {
        use tokio::io::AsyncBufReadExt;
        loop {
            let Channel::Stdio { stdout, .. } = &mut self.channel else {
                return Err(CaptureError::Failed("no process to read from".into()));
            };
            let mut line = String::new();
            let n = stdout
                .read_line(&mut line)
                .await
                .map_err(|e| CaptureError::Failed(format!("cannot read from the server: {e}")))?;
            if n == 0 {
                return Err(CaptureError::Failed(
                    "the server exited before it answered".into(),
                ));
            }
            self.count(n)?;
            if let Ok(value) = serde_json::from_str::<Value>(&line) {
                if value.get("id").and_then(Value::as_i64) == Some(id) {
                    return Ok(value);
                }
            }
        }
    }

    /// Every page of one list, until `nextCursor` is absent; a cursor sent
    /// twice ends it.
    async fn list(&mut self, method: &str, key: &str) -> Result<Vec<Value>, CaptureError> {
        let limits = self.client.settings.clone();
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        let mut seen = HashSet::new();
        for _ in 0..limits.max_pages {
            let params = Page {
                cursor: cursor.as_deref(),
            };
            let result = match self.request(method, params).await? {
                Ok(result) => result,
                // A server that does not implement the list has nothing in it.
                Err(_) if cursor.is_none() => return Ok(Vec::new()),
                Err(e) => return Err(CaptureError::Failed(format!("{method} failed: {e}"))),
            };
            let page = result.get(key).and_then(Value::as_array).ok_or_else(|| {
                CaptureError::Failed(format!("the answer to {method} has no `{key}` array"))
            })?;
            items.extend(
                page.iter()
                    .take(limits.max_items - items.len().min(limits.max_items))
                    .cloned(),
            );
            match result.get("nextCursor").and_then(Value::as_str) {
                Some(next) if !next.is_empty() && seen.insert(next.to_owned()) => {
                    cursor = Some(next.to_owned());
                }
                _ => return Ok(items),
            }
            if items.len() >= limits.max_items {
                return Ok(items);
            }
        }
        Ok(items)
    }

    async fn close(&mut self) {
        if let (Channel::Streamable, Some(_)) = (&self.channel, &self.session_id) {
            let _ = self
                .client
                .http
                .delete(self.post_url.clone())
                .headers(self.headers())
                .send()
                .await;
        }
    }

    async fn read_body(
        &mut self,
        mut response: reqwest::Response,
    ) -> Result<Vec<u8>, CaptureError> {
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
            self.count(chunk.len())?;
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    fn count(&mut self, n: usize) -> Result<(), CaptureError> {
        self.read += n;
        if self.read > self.client.settings.max_bytes {
            return Err(CaptureError::Failed(format!(
                "the server sent more than {} bytes",
                self.client.settings.max_bytes
            )));
        }
        Ok(())
    }

    /// Reads a POST's event stream until the answer to `id`.
    async fn answer_from_stream(
        &mut self,
        mut response: reqwest::Response,
        id: i64,
    ) -> Result<Value, CaptureError> {
        let mut events = SseParser::default();
        loop {
            let Some(chunk) = response.chunk().await.map_err(transport_error)? else {
                return Err(CaptureError::Failed(
                    "the event stream ended before the answer".into(),
                ));
            };
            self.count(chunk.len())?;
            for event in events.push(&chunk) {
                if let Some(answer) = answer_to(&event, id) {
                    return Ok(answer);
                }
            }
        }
    }

    /// Reads the session's event stream until the answer to `id`.
    async fn answer_from_sse(&mut self, id: i64) -> Result<Value, CaptureError> {
        loop {
            let event = self.next_event().await?;
            if let Some(answer) = answer_to(&event, id) {
                return Ok(answer);
            }
        }
    }

    async fn next_event(&mut self) -> Result<SseEvent, CaptureError> {
        loop {
            let Channel::Sse { stream, events } = &mut self.channel else {
                return Err(CaptureError::Failed("no event stream is open".into()));
            };
            if let Some(event) = events.pending.pop() {
                return Ok(event);
            }
            let Some(chunk) = stream.chunk().await.map_err(transport_error)? else {
                return Err(CaptureError::Failed(
                    "the server closed its event stream".into(),
                ));
            };
            let mut fresh = events.push(&chunk);
            fresh.reverse();
            events.pending = fresh;
            self.count(chunk.len())?;
        }
    }
}

/// The JSON-RPC answer to `id` that an event carries, if it does.
fn answer_to(event: &SseEvent, id: i64) -> Option<Value> {
    if event.name != "message" {
        return None;
    }
    let value: Value = serde_json::from_str(&event.data).ok()?;
    (value.get("id").and_then(Value::as_i64) == Some(id)).then_some(value)
}

fn check_status(status: reqwest::StatusCode) -> Result<(), CaptureError> {
    match status.as_u16() {
        200..=299 => Ok(()),
        401 | 403 => Err(CaptureError::NeedsCredentials {
            status: status.as_u16(),
        }),
        300..=399 => Err(CaptureError::Failed(format!(
            "answered {status}; redirects are not followed"
        ))),
        _ => Err(CaptureError::Failed(format!("answered {status}"))),
    }
}

fn transport_error(e: reqwest::Error) -> CaptureError {
    let e = e.without_url();
    if e.is_connect() {
        CaptureError::Refused(format!("cannot connect: {}", chain(&e)))
    } else {
        CaptureError::Failed(chain(&e))
    }
}

/// One server-sent event.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SseEvent {
    /// `message` unless the event names another.
    name: String,
    data: String,
}

/// Splits a byte stream into events (the text/event-stream format).
#[derive(Default)]
struct SseParser {
    buffer: String,
    /// Events read but not handed out yet, last first.
    pending: Vec<SseEvent>,
}

impl SseParser {
    fn push(&mut self, bytes: &[u8]) -> Vec<SseEvent> {
        self.buffer.push_str(&String::from_utf8_lossy(bytes));
        let normalized = self.buffer.replace("\r\n", "\n");
        let mut events = Vec::new();
        let mut rest = normalized.as_str();
        while let Some(end) = rest.find("\n\n") {
            let block = &rest[..end];
            rest = &rest[end + 2..];
            let mut name = "message".to_owned();
            let mut data: Vec<&str> = Vec::new();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    name = v.trim().to_owned();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push(v.strip_prefix(' ').unwrap_or(v));
                }
            }
            if !data.is_empty() {
                events.push(SseEvent {
                    name,
                    data: data.join("\n"),
                });
            }
        }
        self.buffer = rest.to_owned();
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_across_chunks_are_joined() {
        let mut p = SseParser::default();
        assert!(p.push(b"event: endpoint\r\ndata: /messages?s=1").is_empty());
        let events = p.push(b"\r\n\r\ndata: {\"a\":\ndata: 1}\n\n: comment\n\n");
        assert_eq!(
            events,
            [
                SseEvent {
                    name: "endpoint".into(),
                    data: "/messages?s=1".into()
                },
                SseEvent {
                    name: "message".into(),
                    data: "{\"a\":\n1}".into()
                },
            ]
        );
    }

    #[test]
    fn only_public_addresses_unless_loopback_is_allowed() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(address_allowed(ip("93.184.216.34"), false));
        assert!(!address_allowed(ip("127.0.0.1"), false));
        assert!(address_allowed(ip("127.0.0.1"), true));
        for private in [
            "10.0.0.1",
            "169.254.169.254",
            "192.168.1.1",
            "::ffff:10.0.0.1",
            "fd00::1",
        ] {
            assert!(!address_allowed(ip(private), true), "{private}");
        }
    }

    #[tokio::test]
    async fn literal_private_addresses_and_odd_urls_are_refused_before_connecting() {
        let client = McpClient::new(CaptureSettings {
            allow_loopback: true,
            ..CaptureSettings::default()
        })
        .unwrap();
        for url in [
            "http://10.1.2.3/mcp",
            "http://[fd00::1]/mcp",
            "http://169.254.169.254/latest/meta-data",
            "ftp://example.com/mcp",
            "http://user:pw@example.com/mcp",
        ] {
            let error = client
                .capture(url, Transport::StreamableHttp)
                .await
                .unwrap_err();
            assert!(matches!(error, CaptureError::Refused(_)), "{url}: {error}");
        }
    }
}
