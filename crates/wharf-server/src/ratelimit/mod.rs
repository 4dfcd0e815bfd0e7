//! Rate limiters behind the `RateLimiter` port: in process for one node,
//! Redis when several instances must share the buckets.

mod memory;
mod redis;

pub use self::redis::RedisLimiter;
pub use memory::InProcessLimiter;

use crate::error::AppError;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use wharf_core::ratelimit::{RateDecision, RatePolicy};

/// `RateLimit-Policy` and `RateLimit` (the IETF httpapi draft's structured
/// form), sent on limited responses whether or not they were allowed.
pub fn headers(policy: &RatePolicy, decision: &RateDecision) -> [(HeaderName, HeaderValue); 2] {
    let policy_value = format!(
        "\"{}\";q={};w={}",
        policy.name,
        policy.limit,
        policy.window.as_secs()
    );
    let state = format!(
        "\"{}\";r={};t={}",
        policy.name,
        decision.remaining,
        ceil_secs(decision.reset_after)
    );
    [
        (
            HeaderName::from_static("ratelimit-policy"),
            HeaderValue::from_str(&policy_value).expect("ASCII"),
        ),
        (
            HeaderName::from_static("ratelimit"),
            HeaderValue::from_str(&state).expect("ASCII"),
        ),
    ]
}

/// The 429 for a refused request, saying when to come back.
pub fn too_many_requests(policy: &RatePolicy, decision: &RateDecision) -> AppError {
    let retry = ceil_secs(decision.retry_after).max(1);
    let mut e = AppError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!(
            "too many {} requests: the limit is {} per {} s; retry in {retry} s",
            policy.name,
            policy.limit,
            policy.window.as_secs()
        ),
    );
    e.headers.extend(headers(policy, decision));
    e.with_retry_after(u32::try_from(retry).unwrap_or(u32::MAX))
}

/// When the limiter cannot decide, writes fail closed: an unlimited writer is
/// exactly what the limit exists to stop. The outage is logged each time.
pub fn unavailable(
    policy: &RatePolicy,
    cause: &wharf_core::ports::RateLimitUnavailable,
) -> AppError {
    tracing::warn!(class = %policy.name, error = %cause, "rate limiter unavailable: refusing (fail closed)");
    AppError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "rate_limiter_unavailable",
        format!(
            "{} requests are paused because the rate limiter cannot be reached; retry shortly",
            policy.name
        ),
    )
    .with_retry_after(5)
}

fn ceil_secs(d: std::time::Duration) -> u64 {
    d.as_micros().div_ceil(1_000_000) as u64
}

/// What an endpoint class does when the limiter (Redis) cannot be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnOutage {
    /// Reads keep working: a Redis outage must not take the index down.
    FailOpen,
    /// Writes and credential checks stop: an unlimited writer or password
    /// guesser is exactly what the limit exists to stop.
    FailClosed,
}

/// What [`check`] needs: the limiter and the counters. The application
/// state provides both; this module does not depend on it.
pub trait Limited {
    fn limiter(&self) -> &dyn wharf_core::ports::RateLimiter;
    fn metrics(&self) -> &crate::metrics::Metrics;
}

/// Counts one request against `key` under `policy`. `Ok(Some(decision))`
/// when allowed; a 429 (or, failing closed, a 503) when refused; `Ok(None)`
/// when the limiter is down and the class fails open. Outages and refusals
/// are counted in the metrics and logged.
pub async fn check(
    app: &impl Limited,
    key: &str,
    policy: &RatePolicy,
    on_outage: OnOutage,
) -> Result<Option<RateDecision>, AppError> {
    match app.limiter().acquire(key, policy).await {
        Ok(d) if d.is_allowed => Ok(Some(d)),
        Ok(d) => {
            app.metrics().count_rate_limited();
            Err(too_many_requests(policy, &d))
        }
        Err(e) => {
            app.metrics().count_limiter_unavailable();
            match on_outage {
                OnOutage::FailClosed => Err(unavailable(policy, &e)),
                OnOutage::FailOpen => {
                    tracing::warn!(class = %policy.name, error = %e, "rate limiter unavailable: not limiting (fail open)");
                    Ok(None)
                }
            }
        }
    }
}
