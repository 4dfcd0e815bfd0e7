//! A PostgreSQL outage: requests that need the database get a 503 with a
//! clear message, and Wharf recovers by itself, with no restart, when the
//! database returns. The outage is simulated by a TCP proxy the test controls,
//! so the shared test PostgreSQL keeps serving other tests.

mod common;

use axum::http::StatusCode;
use common::{TestApp, UploadForm};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use wharf_testkit::WheelBuilder;

/// Forwards connections to `upstream` while up; when cut, it drops every open
/// connection and refuses new ones.
struct CuttableProxy {
    addr: SocketAddr,
    is_up: Arc<AtomicBool>,
    cut: watch::Sender<u64>,
}

impl CuttableProxy {
    async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let is_up = Arc::new(AtomicBool::new(true));
        let (cut, _) = watch::channel(0u64);
        let (up, cuts) = (is_up.clone(), cut.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                if !up.load(Ordering::SeqCst) {
                    continue; // dropping the socket refuses the connection
                }
                let mut cut_seen = cuts.subscribe();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut_seen.changed() => {}
                    }
                });
            }
        });
        Self { addr, is_up, cut }
    }

    fn cut(&self) {
        self.is_up.store(false, Ordering::SeqCst);
        self.cut.send_modify(|n| *n += 1);
    }

    fn restore(&self) {
        self.is_up.store(true, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn a_postgres_outage_gives_503s_and_wharf_recovers_without_a_restart() {
    let base = wharf_db::testing::postgres_base_url();
    let schema_url = wharf_db::testing::fresh_postgres_schema(&base)
        .await
        .unwrap();
    let host_port = schema_url
        .split('@')
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let upstream: SocketAddr = tokio::net::lookup_host(&host_port)
        .await
        .unwrap()
        .next()
        .unwrap();
    let proxy = CuttableProxy::start(upstream).await;
    let via_proxy = schema_url.replacen(&host_port, &proxy.addr.to_string(), 1);

    let t = TestApp::with_config(|c| {
        c.database_url = Some(via_proxy);
        c.simple_cache_ttl_secs = 0;
    })
    .await;
    let token = t.token("alice", "publish", &[]).await;
    let w = WheelBuilder::new("demo", "1.0");
    assert_eq!(
        t.upload(Some(&token), &UploadForm::wheel(&w, "demo", "1.0"))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        t.get("/api/v1/projects/demo", &[]).await.status,
        StatusCode::OK
    );

    proxy.cut();
    let r = t.get("/api/v1/projects/demo", &[]).await;
    r.assert_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        "retry shortly",
    );
    assert_eq!(r.header("retry-after"), "5");
    assert!(
        !r.text().contains("Connection refused") && !r.text().contains("postgres"),
        "no internals leak: {}",
        r.text()
    );
    let ready = t.get("/readyz", &[]).await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    let upload = t
        .upload(
            Some(&token),
            &UploadForm::wheel(&WheelBuilder::new("demo", "2.0"), "demo", "2.0"),
        )
        .await;
    assert_eq!(
        upload.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        upload.text()
    );
    assert_eq!(t.tmp_entries(), 0, "a refused upload leaves nothing staged");
    assert_eq!(
        t.get("/healthz", &[]).await.status,
        StatusCode::OK,
        "the process itself is alive"
    );

    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = t.get("/api/v1/projects/demo", &[]).await;
        if r.status == StatusCode::OK {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "Wharf did not recover: {} {}",
            r.status,
            r.text()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(t.get("/readyz", &[]).await.status, StatusCode::OK);
    let again = t
        .upload(
            Some(&token),
            &UploadForm::wheel(&WheelBuilder::new("demo", "2.0"), "demo", "2.0"),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text());
}
