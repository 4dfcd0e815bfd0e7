//! One GET to an upstream registry, bounded in time and size, with the
//! status mapped to found, not found or unavailable.

use crate::{UpstreamError, UpstreamSettings};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Same-origin redirects are followed (a PyPI JSON API redirects a
/// non-canonical project name to its canonical spelling), but only a few.
const MAX_REDIRECTS: usize = 3;

/// What a successful exchange brought back.
pub(crate) enum Fetched {
    /// A 200 answer's body, at most `max_body_bytes` long.
    Body(Vec<u8>),
    /// 404 or 410.
    NotFound,
}

/// The HTTP client shared by both registries, and the count of requests sent.
pub(crate) struct Fetcher {
    client: reqwest::Client,
    timeout: Duration,
    max_body_bytes: usize,
    sent: AtomicU64,
}

impl Fetcher {
    pub(crate) fn new(settings: &UpstreamSettings) -> Result<Self, UpstreamError> {
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::custom(same_origin_only))
            .user_agent(concat!("wharf-upstream/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                UpstreamError::Config(format!("cannot prepare the HTTP client: {}", chain(&e)))
            })?;
        Ok(Self {
            client,
            timeout: settings.timeout,
            max_body_bytes: settings.max_body_bytes,
            sent: AtomicU64::new(0),
        })
    }

    /// How many requests have been sent (redirects followed within one not counted).
    pub(crate) fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// GETs `url`, asking for JSON.
    pub(crate) async fn get(
        &self,
        registry: &'static str,
        url: reqwest::Url,
    ) -> Result<Fetched, UpstreamError> {
        tracing::debug!(registry, %url, "asking upstream");
        self.sent.fetch_add(1, Ordering::Relaxed);
        let mut response = self
            .client
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| self.transport_error(registry, e))?;

        let status = response.status();
        match status.as_u16() {
            200 => {}
            404 | 410 => return Ok(Fetched::NotFound),
            429 => return Err(UpstreamError::unavailable(registry, "rate limited (429)")),
            300..=399 => {
                return Err(UpstreamError::unavailable(
                    registry,
                    format!("answered {status}, a redirect to another origin or one too many, which is not followed"),
                ))
            }
            _ => {
                return Err(UpstreamError::unavailable(
                    registry,
                    format!("answered {status}"),
                ))
            }
        }

        let too_large = || {
            UpstreamError::invalid(
                registry,
                format!("the answer is larger than {} bytes", self.max_body_bytes),
            )
        };
        if response
            .content_length()
            .is_some_and(|len| len > self.max_body_bytes as u64)
        {
            return Err(too_large());
        }
        // The declared length may be absent or false: count as we read.
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.transport_error(registry, e))?
        {
            if body.len() + chunk.len() > self.max_body_bytes {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched::Body(body))
    }

    fn transport_error(&self, registry: &'static str, error: reqwest::Error) -> UpstreamError {
        let error = error.without_url();
        let reason = if error.is_timeout() {
            format!("no answer within {} ms", self.timeout.as_millis())
        } else if error.is_connect() {
            format!("cannot connect: {}", chain(&error))
        } else {
            chain(&error)
        };
        UpstreamError::unavailable(registry, reason)
    }
}

/// Follows a redirect only to the origin (scheme, host and port) of the
/// first request: the configured registry. A redirect elsewhere, or an
/// https to http downgrade, is not followed; its 3xx answer then reads as
/// unavailable. Redirects cannot take a look-up to an internal address.
fn same_origin_only(attempt: reqwest::redirect::Attempt<'_>) -> reqwest::redirect::Action {
    let is_same_origin = attempt
        .previous()
        .first()
        .is_some_and(|first| first.origin() == attempt.url().origin());
    if is_same_origin && attempt.previous().len() <= MAX_REDIRECTS {
        attempt.follow()
    } else {
        attempt.stop()
    }
}

/// An error and its causes on one line; reqwest's own message alone is
/// often just "error sending request".
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
