//! Buckets in Redis, shared by every instance. One Lua script per request
//! does the whole GCRA step atomically, on Redis's clock, so instances whose
//! clocks disagree still share one limit.

use async_trait::async_trait;
use std::time::Duration;
use tokio::sync::OnceCell;
use wharf_core::ports::{RateLimitUnavailable, RateLimiter};
use wharf_core::ratelimit::{RateDecision, RatePolicy};

/// The same step as `wharf_core::ratelimit::gcra`, in Lua. Returns
/// {allowed, remaining, reset_after_us, retry_after_us}.
const GCRA_SCRIPT: &str = r#"
local interval = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local used = new_tat - now
if used > window then
  return {0, 0, tat - now, used - window}
end
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil(used / 1000) + 1)
return {1, math.floor((window - used) / interval), used, 0}
"#;

/// How long one limiter call may take before it counts as unavailable.
const CALL_TIMEOUT: Duration = Duration::from_millis(500);

pub struct RedisLimiter {
    client: ::redis::Client,
    /// Connected on first use, then reconnecting by itself: Wharf starts even
    /// while Redis is down, and recovers when it returns.
    conn: OnceCell<::redis::aio::ConnectionManager>,
    script: ::redis::Script,
    /// Namespaces the keys, so deployments sharing one Redis keep apart.
    prefix: String,
}

impl RedisLimiter {
    /// Checks the URL's shape; connecting waits for the first request.
    pub fn new(url: &str, prefix: &str) -> Result<Self, String> {
        let client = ::redis::Client::open(url).map_err(|e| format!("invalid Redis URL: {e}"))?;
        let script = ::redis::Script::new(GCRA_SCRIPT);
        Ok(Self {
            client,
            conn: OnceCell::new(),
            script,
            prefix: prefix.to_owned(),
        })
    }

    async fn connection(&self) -> Result<::redis::aio::ConnectionManager, RateLimitUnavailable> {
        let config = ::redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(CALL_TIMEOUT)
            .set_response_timeout(CALL_TIMEOUT)
            .set_number_of_retries(1);
        self.conn
            .get_or_try_init(|| async {
                ::redis::aio::ConnectionManager::new_with_config(self.client.clone(), config)
                    .await
                    .map_err(|e| RateLimitUnavailable(format!("cannot connect to Redis: {e}")))
            })
            .await
            .cloned()
    }
}

#[async_trait]
impl RateLimiter for RedisLimiter {
    async fn acquire(
        &self,
        key: &str,
        policy: &RatePolicy,
    ) -> Result<RateDecision, RateLimitUnavailable> {
        let call = async {
            let mut conn = self.connection().await?;
            let reply: (i64, i64, i64, i64) = self
                .script
                .key(format!("{}:rl:{}:{key}", self.prefix, policy.name))
                .arg(policy.interval_micros())
                .arg(policy.window_micros())
                .invoke_async(&mut conn)
                .await
                .map_err(|e| RateLimitUnavailable(format!("Redis error: {e}")))?;
            Ok(reply)
        };
        let (allowed, remaining, reset, retry) = tokio::time::timeout(CALL_TIMEOUT * 2, call)
            .await
            .map_err(|_| RateLimitUnavailable("Redis did not answer in time".into()))??;
        let us = |n: i64| Duration::from_micros(n.max(0) as u64);
        Ok(RateDecision {
            is_allowed: allowed == 1,
            remaining: remaining.clamp(0, i64::from(u32::MAX)) as u32,
            reset_after: us(reset),
            retry_after: us(retry),
        })
    }
}
