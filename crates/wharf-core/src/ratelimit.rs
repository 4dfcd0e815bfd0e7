//! Rate-limit policies and the GCRA decision (generic cell rate algorithm).
//!
//! GCRA keeps one number per key, the "theoretical arrival time" (TAT), which
//! makes it cheap in memory and atomic in one Redis script. A policy of N per
//! window admits a burst of N, then one request every window/N.

use crate::ValidationError;
use std::time::Duration;

/// N requests per window for one class of endpoint, e.g. `upload = 10/min`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatePolicy {
    /// The endpoint class, shown in the `RateLimit-Policy` header.
    pub name: String,
    pub limit: u32,
    pub window: Duration,
}

impl RatePolicy {
    /// Parses `10/min`, `5/s`, `100/h` (also `second`, `minute`, `hour`).
    pub fn parse(name: &str, raw: &str) -> Result<Self, ValidationError> {
        let invalid = || {
            ValidationError::new(
                "invalid_rate_limit",
                format!("rate limit '{raw}' for {name} is not of the form N/s, N/min or N/h (e.g. 10/min)"),
            )
        };
        let (count, unit) = raw.trim().split_once('/').ok_or_else(invalid)?;
        let limit: u32 = count.trim().parse().map_err(|_| invalid())?;
        let window = match unit.trim() {
            "s" | "sec" | "second" => Duration::from_secs(1),
            "min" | "minute" => Duration::from_secs(60),
            "h" | "hour" => Duration::from_secs(3600),
            _ => return Err(invalid()),
        };
        if limit == 0 || limit > 1_000_000 {
            return Err(invalid());
        }
        Ok(Self {
            name: name.to_owned(),
            limit,
            window,
        })
    }

    /// Microseconds between two requests at the sustained rate.
    pub fn interval_micros(&self) -> i64 {
        (self.window.as_micros() as i64 / i64::from(self.limit)).max(1)
    }

    pub fn window_micros(&self) -> i64 {
        self.window.as_micros() as i64
    }
}

/// What the limiter decided for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateDecision {
    pub is_allowed: bool,
    /// Requests still allowed right now.
    pub remaining: u32,
    /// Until the bucket is full again.
    pub reset_after: Duration,
    /// Until the next request would be allowed (zero when allowed).
    pub retry_after: Duration,
}

/// One GCRA step: given the stored TAT (if any) and the time now, returns the
/// decision and the TAT to store (None when the request is refused, which
/// leaves the state as it was).
pub fn gcra(policy: &RatePolicy, stored_tat: Option<i64>, now: i64) -> (RateDecision, Option<i64>) {
    let interval = policy.interval_micros();
    let window = policy.window_micros();
    let tat = stored_tat.unwrap_or(now).max(now);
    let new_tat = tat + interval;
    let used = new_tat - now;
    if used > window {
        let retry = used - window;
        let decision = RateDecision {
            is_allowed: false,
            remaining: 0,
            reset_after: micros(tat - now),
            retry_after: micros(retry),
        };
        return (decision, None);
    }
    let remaining = ((window - used) / interval) as u32;
    let decision = RateDecision {
        is_allowed: true,
        remaining,
        reset_after: micros(used),
        retry_after: Duration::ZERO,
    };
    (decision, Some(new_tat))
}

fn micros(n: i64) -> Duration {
    Duration::from_micros(n.max(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn per_minute(n: u32) -> RatePolicy {
        RatePolicy::parse("upload", &format!("{n}/min")).unwrap()
    }

    #[test]
    fn parses_policies_and_refuses_nonsense() {
        let p = RatePolicy::parse("search", "60/min").unwrap();
        assert_eq!((p.limit, p.window), (60, Duration::from_secs(60)));
        assert_eq!(
            RatePolicy::parse("x", "5/s").unwrap().window,
            Duration::from_secs(1)
        );
        for bad in ["", "10", "ten/min", "10/day", "0/min", "-1/s"] {
            assert_eq!(
                RatePolicy::parse("x", bad).unwrap_err().code,
                "invalid_rate_limit",
                "{bad}"
            );
        }
    }

    #[test]
    fn admits_a_burst_of_the_limit_then_refuses_with_a_retry_time() {
        let p = per_minute(10);
        let (mut tat, now) = (None, 1_000_000_000);
        for i in 0..10 {
            let (d, next) = gcra(&p, tat, now);
            assert!(d.is_allowed, "request {i}");
            assert_eq!(d.remaining, 9 - i);
            tat = next;
        }
        let (d, next) = gcra(&p, tat, now);
        assert!(!d.is_allowed && next.is_none());
        assert_eq!(
            d.retry_after,
            Duration::from_secs(6),
            "one slot frees every 60 s / 10"
        );
        let (d, _) = gcra(&p, tat, now + 6_000_000);
        assert!(d.is_allowed, "allowed again once retry_after has passed");
    }

    proptest! {
        #[test]
        fn never_admits_more_than_limit_plus_elapsed_share(limit in 1u32..50, gaps in prop::collection::vec(0i64..5_000_000, 1..200)) {
            let p = per_minute(limit);
            let (mut tat, mut now, mut admitted) = (None, 0i64, 0i64);
            for gap in gaps {
                now += gap;
                let (d, next) = gcra(&p, tat, now);
                if d.is_allowed { admitted += 1; tat = next; }
            }
            // Over any span, at most the burst plus what the rate refills.
            let bound = i64::from(limit) + now / p.interval_micros() + 1;
            prop_assert!(admitted <= bound, "admitted {} > bound {}", admitted, bound);
        }
    }
}
