//! The accept loop through real sockets: slow and idle clients are cut off
//! after the header-read timeout, connection caps close new connections
//! unread, the app still learns each client's socket address, and shutdown
//! lets a request in flight finish.

mod common;

use common::TestApp;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use wharf_core::ratelimit::RatePolicy;
use wharf_server::config::{Config, IpNet};

/// The header-read timeout of the slow-client tests.
const SHORT_TIMEOUT: Duration = Duration::from_secs(1);

/// How long a connection may outlive [`SHORT_TIMEOUT`] before a test fails:
/// generous, so a loaded machine does not make the tests flaky.
const MARGIN: Duration = Duration::from_secs(5);

/// A real server on a loopback port of its own.
struct Running {
    app: TestApp,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

async fn start(tweak: impl FnOnce(&mut Config)) -> Running {
    let app = TestApp::with_config(tweak).await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(wharf_server::serve_listener(
        listener,
        app.app.clone(),
        async move {
            let _ = stopped.await;
        },
    ));
    Running {
        app,
        addr,
        stop: Some(stop),
        task,
    }
}

fn short_timeout(c: &mut Config) {
    c.connections.header_read_timeout = SHORT_TIMEOUT;
}

/// A full request for `path` on a keep-alive connection.
fn request(path: &str, headers: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: wharf.test\r\n{headers}\r\n")
}

/// Reads one response (head and `Content-Length` body); `None` if the
/// server closed the connection before sending anything.
async fn read_response(stream: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) if buf.is_empty() => return None,
            Ok(0) => panic!("the connection closed mid-response: {buf:?}"),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) => panic!("read failed mid-response: {e}"),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .unwrap_or_else(|| panic!("no content-length in {head}"))
        .trim()
        .parse()
        .unwrap();
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "the connection closed mid-body");
        buf.extend_from_slice(&chunk[..n]);
    }
    Some(String::from_utf8_lossy(&buf).into_owned())
}

/// Sends a request and reads its response, within the test's bound.
async fn get(stream: &mut TcpStream, path: &str, headers: &str) -> String {
    stream
        .write_all(request(path, headers).as_bytes())
        .await
        .unwrap();
    tokio::time::timeout(MARGIN, read_response(stream))
        .await
        .expect("a response in time")
        .expect("a response, not a closed connection")
}

/// Waits for the server to close `stream`, returning whatever it sent first;
/// fails the test if the connection is still open after `bound`.
async fn closed_within(stream: &mut TcpStream, bound: Duration) -> Vec<u8> {
    let mut received = Vec::new();
    let mut chunk = [0u8; 1024];
    let outcome = tokio::time::timeout(bound, async {
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await;
    assert!(
        outcome.is_ok(),
        "the connection is still open after {bound:?}; received {:?}",
        String::from_utf8_lossy(&received)
    );
    received
}

/// What a server may send to a client it cuts off: nothing, or a 408.
fn assert_no_response_or_408(received: &[u8]) {
    let text = String::from_utf8_lossy(received);
    assert!(
        received.is_empty() || text.starts_with("HTTP/1.1 408"),
        "unexpected bytes from the server: {text:?}"
    );
}

#[tokio::test]
async fn slowloris_partial_headers_are_closed() {
    let server = start(short_timeout).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: wharf.test\r\n")
        .await
        .unwrap();
    let received = closed_within(&mut stream, SHORT_TIMEOUT + MARGIN).await;
    assert_no_response_or_408(&received);
}

#[tokio::test]
async fn slowloris_trickled_headers_are_closed() {
    let server = start(short_timeout).await;
    let stream = TcpStream::connect(server.addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    // A header that never ends, one byte every 200 ms: each byte is progress,
    // so only a deadline on the whole head stops it.
    let trickle = tokio::spawn(async move {
        let head = b"GET /healthz HTTP/1.1\r\nHost: wharf.test\r\nX-Slow: ";
        for byte in head.iter().chain(std::iter::repeat(&b'a')) {
            if writer.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let mut received = Vec::new();
    let mut chunk = [0u8; 1024];
    let outcome = tokio::time::timeout(SHORT_TIMEOUT + MARGIN, async {
        loop {
            match reader.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await;
    trickle.abort();
    assert!(
        outcome.is_ok(),
        "a client trickling header bytes is still connected after {:?}",
        SHORT_TIMEOUT + MARGIN
    );
    assert_no_response_or_408(&received);
}

#[tokio::test]
async fn idle_keep_alive_connection_is_closed() {
    let server = start(short_timeout).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let response = get(&mut stream, "/healthz", "").await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        !response.to_ascii_lowercase().contains("connection: close"),
        "the server offered keep-alive: {response}"
    );
    let received = closed_within(&mut stream, SHORT_TIMEOUT + MARGIN).await;
    assert!(
        received.is_empty(),
        "nothing more is sent: {:?}",
        String::from_utf8_lossy(&received)
    );
}

#[tokio::test]
async fn a_head_sent_in_parts_within_the_timeout_is_served() {
    let server = start(short_timeout).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\n")
        .await
        .unwrap();
    tokio::time::sleep(SHORT_TIMEOUT / 4).await;
    stream.write_all(b"Host: wharf.test\r\n\r\n").await.unwrap();
    let response = tokio::time::timeout(MARGIN, read_response(&mut stream))
        .await
        .expect("a response in time")
        .expect("a response");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
}

#[tokio::test]
async fn connections_over_the_per_client_cap_are_refused() {
    let server = start(|c| c.connections.max_per_client = 3).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        let response = get(&mut stream, "/healthz", "").await;
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        held.push(stream);
    }
    let mut fourth = TcpStream::connect(server.addr).await.unwrap();
    let received = closed_within(&mut fourth, MARGIN).await;
    assert!(
        received.is_empty(),
        "the connection over the cap is closed unanswered: {:?}",
        String::from_utf8_lossy(&received)
    );
    let metrics = server.app.app.metrics.render();
    assert!(
        metrics.contains("wharf_connections_refused_total 1\n"),
        "{metrics}"
    );

    drop(held.pop());
    // The slot frees once the server has read the close; try until it has.
    let deadline = tokio::time::Instant::now() + MARGIN;
    loop {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        let sent = stream.write_all(request("/healthz", "").as_bytes()).await;
        let response = match sent {
            Ok(()) => tokio::time::timeout(MARGIN, read_response(&mut stream))
                .await
                .expect("an answer or a close in time"),
            Err(_) => None,
        };
        if let Some(response) = response {
            assert!(response.starts_with("HTTP/1.1 200"), "{response}");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "a closed connection's slot was never given back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for mut stream in held {
        let response = get(&mut stream, "/healthz", "").await;
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    }
}

#[tokio::test]
async fn connections_over_the_total_cap_are_refused_and_a_trusted_proxy_skips_the_per_client_cap() {
    let server = start(|c| {
        c.connections.max_per_client = 1;
        c.connections.max_total = 2;
        c.security.trusted_proxies = vec![IpNet::parse("127.0.0.1").unwrap()];
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        let response = get(&mut stream, "/healthz", "").await;
        assert!(
            response.starts_with("HTTP/1.1 200"),
            "a trusted proxy may hold more than max_per_client: {response}"
        );
        held.push(stream);
    }
    let mut third = TcpStream::connect(server.addr).await.unwrap();
    let received = closed_within(&mut third, MARGIN).await;
    assert!(
        received.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&received)
    );
    assert!(server
        .app
        .app
        .metrics
        .render()
        .contains("wharf_connections_refused_total 1\n"));
}

#[tokio::test]
async fn the_socket_address_reaches_the_app() {
    // X-Forwarded-For is believed only when the socket peer is a trusted
    // proxy, so separate buckets per forwarded client prove that the app
    // saw the peer's address (127.0.0.1) through ConnectInfo.
    let server = start(|c| {
        c.security.trusted_proxies = vec![IpNet::parse("127.0.0.1").unwrap()];
        c.rate_limits.global = RatePolicy::parse("global", "1/min").unwrap();
    })
    .await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let health = get(&mut stream, "/healthz", "").await;
    assert!(
        health.starts_with("HTTP/1.1 200") && health.ends_with("ok\n"),
        "{health}"
    );
    let first = get(&mut stream, "/simple/", "X-Forwarded-For: 198.51.100.1\r\n").await;
    assert!(first.starts_with("HTTP/1.1 200"), "{first}");
    let again = get(&mut stream, "/simple/", "X-Forwarded-For: 198.51.100.1\r\n").await;
    assert!(again.starts_with("HTTP/1.1 429"), "{again}");
    let other = get(&mut stream, "/simple/", "X-Forwarded-For: 198.51.100.2\r\n").await;
    assert!(
        other.starts_with("HTTP/1.1 200"),
        "another forwarded client has its own bucket: {other}"
    );
}

#[tokio::test]
async fn shutdown_lets_a_request_in_flight_finish_and_closes_idle_connections() {
    let mut server = start(|_| {}).await;
    let mut idle = TcpStream::connect(server.addr).await.unwrap();
    assert!(get(&mut idle, "/healthz", "")
        .await
        .starts_with("HTTP/1.1 200"));

    let mut busy = TcpStream::connect(server.addr).await.unwrap();
    busy.write_all(
        b"POST /api/v1/auth/device/code HTTP/1.1\r\nHost: wharf.test\r\n\
          Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 10\r\n\r\nscope",
    )
    .await
    .unwrap();
    // Let the server read the head and start the handler before it is told to stop.
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.stop.take().unwrap().send(()).unwrap();

    let received = closed_within(&mut idle, MARGIN).await;
    assert!(
        received.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&received)
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !server.task.is_finished(),
        "the server waits for the request in flight"
    );

    busy.write_all(b"=read").await.unwrap();
    let response = tokio::time::timeout(MARGIN, read_response(&mut busy))
        .await
        .expect("the request in flight is answered")
        .expect("a response");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("user_code"), "{response}");
    tokio::time::timeout(MARGIN, &mut server.task)
        .await
        .expect("the server stops once the request is done")
        .unwrap();
    assert!(
        TcpStream::connect(server.addr).await.is_err(),
        "nothing listens after shutdown"
    );
}
