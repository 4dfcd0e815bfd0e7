//! Prometheus metrics, served only on the separate `metrics_listen` address
//! (security.md: internal endpoints are not reachable from outside), never
//! on the public router. Plain atomic counters: no registry crate needed.

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The counters one process keeps.
#[derive(Debug, Default)]
pub struct Metrics {
    responses: [AtomicU64; 5],
    rate_limited: AtomicU64,
    limiter_unavailable: AtomicU64,
    uploads: AtomicU64,
    logins_failed: AtomicU64,
    published: AtomicU64,
    quarantined: AtomicU64,
    connections_refused: AtomicU64,
    /// The PyPI proxy's counters.
    pub proxy: ProxyMetrics,
    /// The npm proxy's counters (`wharf_npm_proxy_*` on `/metrics`).
    pub npm_proxy: ProxyMetrics,
}

/// What the PyPI proxy did, for `/metrics` and `wharf admin proxy status`.
#[derive(Debug, Default, serde::Serialize, utoipa::ToSchema)]
pub struct ProxyMetrics {
    /// Project pages served from the page cache (this process's or the database's).
    #[schema(value_type = u64)]
    pub page_hits: AtomicU64,
    /// Project pages asked of upstream (including revalidations).
    #[schema(value_type = u64)]
    pub page_misses: AtomicU64,
    /// Pages served stale because upstream could not be reached.
    #[schema(value_type = u64)]
    pub page_stale: AtomicU64,
    /// Proxied files served from the blob store.
    #[schema(value_type = u64)]
    pub file_hits: AtomicU64,
    /// Files fetched from upstream.
    #[schema(value_type = u64)]
    pub file_fetches: AtomicU64,
    /// Failed upstream requests (unavailable or refused answers).
    #[schema(value_type = u64)]
    pub upstream_errors: AtomicU64,
    /// Sum of upstream request latencies, in microseconds.
    #[schema(value_type = u64)]
    pub upstream_micros: AtomicU64,
    /// Upstream requests timed.
    #[schema(value_type = u64)]
    pub upstream_requests: AtomicU64,
    /// Files left out of pages by the release cooldown.
    #[schema(value_type = u64)]
    pub held_by_cooldown: AtomicU64,
    /// Names, files or pages refused by a deny rule or the allow-only list.
    #[schema(value_type = u64)]
    pub denied: AtomicU64,
    /// Fetched files held for review, or refused outright.
    #[schema(value_type = u64)]
    pub quarantined: AtomicU64,
    /// Fetched files refused because their bytes did not match upstream's hash.
    #[schema(value_type = u64)]
    pub hash_mismatches: AtomicU64,
}

impl ProxyMetrics {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Times one upstream request.
    pub fn upstream_took(&self, took: std::time::Duration) {
        self.upstream_requests.fetch_add(1, Ordering::Relaxed);
        self.upstream_micros
            .fetch_add(took.as_micros() as u64, Ordering::Relaxed);
    }

    fn rows(&self) -> [(&'static str, &'static str, &AtomicU64); 12] {
        [
            (
                "wharf_proxy_page_hits_total",
                "Proxied project pages served from cache.",
                &self.page_hits,
            ),
            (
                "wharf_proxy_page_misses_total",
                "Proxied project pages asked of upstream.",
                &self.page_misses,
            ),
            (
                "wharf_proxy_page_stale_total",
                "Proxied pages served stale while upstream was unreachable.",
                &self.page_stale,
            ),
            (
                "wharf_proxy_file_hits_total",
                "Proxied files served from the blob store.",
                &self.file_hits,
            ),
            (
                "wharf_proxy_file_fetches_total",
                "Files fetched from upstream.",
                &self.file_fetches,
            ),
            (
                "wharf_proxy_upstream_errors_total",
                "Upstream requests that failed or were refused.",
                &self.upstream_errors,
            ),
            (
                "wharf_proxy_upstream_microseconds_total",
                "Upstream request time, in microseconds.",
                &self.upstream_micros,
            ),
            (
                "wharf_proxy_upstream_requests_total",
                "Upstream requests timed.",
                &self.upstream_requests,
            ),
            (
                "wharf_proxy_held_by_cooldown_total",
                "Files left out of pages by the release cooldown.",
                &self.held_by_cooldown,
            ),
            (
                "wharf_proxy_denied_total",
                "Proxy requests refused by deny or allow-only rules.",
                &self.denied,
            ),
            (
                "wharf_proxy_quarantined_total",
                "Proxied files held for review or refused.",
                &self.quarantined,
            ),
            (
                "wharf_proxy_hash_mismatches_total",
                "Proxied files refused for a hash mismatch.",
                &self.hash_mismatches,
            ),
        ]
    }
}

impl Metrics {
    pub fn count_response(&self, status: u16) {
        let class = (status / 100).clamp(1, 5) as usize - 1;
        self.responses[class].fetch_add(1, Ordering::Relaxed);
    }

    pub fn count_rate_limited(&self) {
        self.rate_limited.fetch_add(1, Ordering::Relaxed);
    }

    /// The limiter (Redis) could not decide; the request failed open or closed.
    pub fn count_limiter_unavailable(&self) {
        self.limiter_unavailable.fetch_add(1, Ordering::Relaxed);
    }

    pub fn count_upload(&self) {
        self.uploads.fetch_add(1, Ordering::Relaxed);
    }

    /// A verification verdict this process stored.
    pub fn count_verdict(&self, status: wharf_core::model::FileStatus) {
        let counter = match status {
            wharf_core::model::FileStatus::Published => &self.published,
            _ => &self.quarantined,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// A connection closed unread because a connection cap was reached.
    pub fn count_connection_refused(&self) {
        self.connections_refused.fetch_add(1, Ordering::Relaxed);
    }

    pub fn count_login_failed(&self) {
        self.logins_failed.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition format.
    pub fn render(&self) -> String {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut out = String::new();
        out.push_str("# HELP wharf_http_responses_total HTTP responses by status class.\n");
        out.push_str("# TYPE wharf_http_responses_total counter\n");
        for (i, c) in self.responses.iter().enumerate() {
            out.push_str(&format!(
                "wharf_http_responses_total{{class=\"{}xx\"}} {}\n",
                i + 1,
                get(c)
            ));
        }
        for (name, help, value) in [
            (
                "wharf_rate_limited_total",
                "Requests refused with 429.",
                &self.rate_limited,
            ),
            (
                "wharf_rate_limiter_unavailable_total",
                "Requests for which the rate limiter (Redis) could not be reached.",
                &self.limiter_unavailable,
            ),
            (
                "wharf_uploads_total",
                "Files accepted by uploads.",
                &self.uploads,
            ),
            (
                "wharf_logins_failed_total",
                "Failed web logins.",
                &self.logins_failed,
            ),
            (
                "wharf_files_published_total",
                "Files this process verified and published.",
                &self.published,
            ),
            (
                "wharf_files_quarantined_total",
                "Files this process verified and held for review.",
                &self.quarantined,
            ),
            (
                "wharf_connections_refused_total",
                "Connections closed unread because a per-client or total connection cap was reached.",
                &self.connections_refused,
            ),
        ] {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}\n",
                get(value)
            ));
        }
        for (name, help, value) in self.proxy.rows() {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}\n",
                get(value)
            ));
        }
        for (name, help, value) in self.npm_proxy.rows() {
            let name = name.replacen("wharf_proxy_", "wharf_npm_proxy_", 1);
            out.push_str(&format!(
                "# HELP {name} {help} (npm)\n# TYPE {name} counter\n{name} {}\n",
                get(value)
            ));
        }
        out
    }
}

/// Middleware: counts every response of the public router by status class.
pub async fn count(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    metrics.count_response(response.status().as_u16());
    response
}

/// The router for the metrics address: `GET /metrics` and nothing else.
pub fn router(metrics: Arc<Metrics>) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(|State(m): State<Arc<Metrics>>| async move {
                (
                    [(
                        header::CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8",
                    )],
                    m.render(),
                )
                    .into_response()
            }),
        )
        .with_state(metrics)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_render_in_prometheus_text_format() {
        let m = Metrics::default();
        m.count_response(200);
        m.count_response(204);
        m.count_response(503);
        m.count_limiter_unavailable();
        let text = m.render();
        assert!(
            text.contains("wharf_http_responses_total{class=\"2xx\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("wharf_http_responses_total{class=\"5xx\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("wharf_rate_limiter_unavailable_total 1\n"),
            "{text}"
        );
        assert!(
            text.contains("# TYPE wharf_uploads_total counter\n"),
            "{text}"
        );
    }
}
