//! Wharf's accept loop, in place of `axum::serve`, which sets no deadline on
//! a request's headers and no cap on connections: one client trickling
//! header bytes, or holding idle keep-alive connections, could otherwise
//! keep every socket the process has (Slowloris). Here each connection gets
//! the configured header-read deadline, which also ends a keep-alive
//! connection left idle that long, and counts against a per-client and a
//! total cap before a byte of it is read.
//!
//! The per-client cap is keyed on the socket peer: connections come before
//! any `X-Forwarded-For` is read. A configured trusted proxy is held to the
//! total cap only, since all its clients share its address.

use crate::middleware::client_ip::client_key;
use crate::state::App;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

/// How long the loop pauses after an accept error such as EMFILE, so that
/// connections can close before it tries again instead of spinning.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_secs(1);

/// At most one warning per this interval when connections are refused; each
/// refusal is logged at debug level and counted in the metrics.
const REFUSAL_WARNING_INTERVAL: Duration = Duration::from_secs(60);

/// Serves one router on TCP connections under the configured limits.
pub struct Server {
    router: Router,
    http: http1::Builder,
    admission: Arc<Admission>,
}

impl Server {
    /// A server for `router` under `app`'s connection settings.
    pub fn new(app: &App, router: Router) -> Self {
        let mut http = http1::Builder::new();
        // hyper arms this deadline whenever it waits for a request head: on
        // a new connection, and after each response on a keep-alive one, so
        // it is the idle timeout too.
        http.timer(TokioTimer::new())
            .header_read_timeout(app.config.connections.header_read_timeout);
        Self {
            router,
            http,
            admission: Arc::new(Admission {
                app: app.clone(),
                open: Mutex::default(),
                last_warning: Mutex::default(),
            }),
        }
    }

    /// Accepts connections on `listener` until `shutdown` resolves, then
    /// stops accepting and waits for the requests in flight to finish.
    pub async fn run(self, listener: TcpListener, shutdown: impl Future<Output = ()>) {
        let graceful = GracefulShutdown::new();
        let mut shutdown = pin!(shutdown);
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                () = &mut shutdown => break,
            };
            match accepted {
                Ok((stream, peer)) => self.start(stream, peer, &graceful),
                Err(e) => tokio::select! {
                    () = pause_after_accept_error(e) => {}
                    () = &mut shutdown => break,
                },
            }
        }
        drop(listener);
        graceful.shutdown().await;
    }

    /// Serves one accepted connection on its own task, or closes it at
    /// once when a cap is reached.
    fn start(&self, stream: TcpStream, peer: SocketAddr, graceful: &GracefulShutdown) {
        let Some(slot) = self.admission.admit(peer.ip()) else {
            return;
        };
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(%peer, error = %e, "could not set TCP_NODELAY");
        }
        // The client-IP middleware reads the socket address from here, as it
        // did under `axum::serve`'s `into_make_service_with_connect_info`.
        let service = self
            .router
            .clone()
            .map_request(move |mut request: Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let connection = self
            .http
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
            drop(slot);
        });
    }
}

/// Logs an accept error and, unless only that one client was lost, pauses.
async fn pause_after_accept_error(e: io::Error) {
    // The client gave up between the kernel's accept and ours: nothing to
    // wait for.
    if matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
    ) {
        return;
    }
    tracing::error!(error = %e, "cannot accept connections; retrying in 1 s");
    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
}

/// The connections open now, and who holds them.
struct Admission {
    app: App,
    open: Mutex<OpenConnections>,
    last_warning: Mutex<Option<Instant>>,
}

/// Open connections in all, and per client key (trusted proxies not listed).
#[derive(Default)]
struct OpenConnections {
    total: usize,
    per_client: HashMap<String, usize>,
}

/// One connection's place under the caps, given back when it is dropped.
struct Slot {
    admission: Arc<Admission>,
    /// `None` for a trusted proxy, which only counts towards the total.
    client: Option<String>,
}

impl Admission {
    /// A slot for a new connection from `peer`, or `None` when a cap is reached.
    fn admit(self: &Arc<Self>, peer: IpAddr) -> Option<Slot> {
        let limits = &self.app.config.connections;
        let key = client_key(peer);
        let capped = !self.app.config.security.is_trusted_proxy(peer);
        let refusal = {
            let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
            let held = open.per_client.get(&key).copied().unwrap_or(0);
            if open.total >= limits.max_total {
                Some("the total connection cap")
            } else if capped && held >= limits.max_per_client {
                Some("the per-client connection cap")
            } else {
                open.total += 1;
                if capped {
                    *open.per_client.entry(key.clone()).or_default() += 1;
                }
                None
            }
        };
        match refusal {
            None => Some(Slot {
                admission: Arc::clone(self),
                client: capped.then_some(key),
            }),
            Some(cap) => {
                self.report_refusal(&key, cap);
                None
            }
        }
    }

    /// Gives back a closed connection's slot.
    fn release(&self, client: Option<&str>) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.total = open.total.saturating_sub(1);
        if let Some(key) = client {
            if let Some(held) = open.per_client.get_mut(key) {
                *held -= 1;
                if *held == 0 {
                    open.per_client.remove(key);
                }
            }
        }
    }

    /// Every refusal is counted and logged at debug level; a warning goes
    /// out at most once a minute, so a flood of connections cannot flood
    /// the log.
    fn report_refusal(&self, client: &str, cap: &'static str) {
        self.app.metrics.count_connection_refused();
        tracing::debug!(client, cap, "connection refused");
        let now = Instant::now();
        let mut last = self
            .last_warning
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if last.is_none_or(|at| now.duration_since(at) >= REFUSAL_WARNING_INTERVAL) {
            *last = Some(now);
            tracing::warn!(
                client,
                cap,
                "refusing connections over a cap; further refusals this minute are logged at \
                 debug level and counted in wharf_connections_refused_total"
            );
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.admission.release(self.client.as_deref());
    }
}
