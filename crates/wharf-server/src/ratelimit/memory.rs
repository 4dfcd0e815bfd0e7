//! Buckets in this process's memory: the single-node default.

use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::Mutex;
use wharf_core::ports::{RateLimitUnavailable, RateLimiter};
use wharf_core::ratelimit::{gcra, RateDecision, RatePolicy};
use wharf_core::Timestamp;

/// Past this many keys, entries whose bucket is full again are swept.
const SWEEP_AT: usize = 100_000;

#[derive(Default)]
pub struct InProcessLimiter {
    /// Theoretical arrival time per `policy:key`, in microseconds.
    tats: Mutex<HashMap<String, i64>>,
}

impl InProcessLimiter {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl RateLimiter for InProcessLimiter {
    async fn acquire(
        &self,
        key: &str,
        policy: &RatePolicy,
    ) -> Result<RateDecision, RateLimitUnavailable> {
        let now = Timestamp::now().micros();
        let bucket = format!("{}:{key}", policy.name);
        let mut tats = self.tats.lock().unwrap_or_else(|e| e.into_inner());
        if tats.len() >= SWEEP_AT {
            // A TAT in the past means a full bucket: the same as no entry.
            tats.retain(|_, tat| *tat > now);
        }
        let (decision, next) = gcra(policy, tats.get(&bucket).copied(), now);
        if let Some(next) = next {
            tats.insert(bucket, next);
        }
        Ok(decision)
    }
}
