//! Rate limiting: the limiter conformance suite on both implementations (in
//! process and Redis), and the upload endpoint's 429s and fail-closed 503.

mod common;

use axum::http::StatusCode;
use common::{TestApp, UploadForm};
use std::time::Duration;
use wharf_core::ports::RateLimiter;
use wharf_core::ratelimit::RatePolicy;
use wharf_server::ratelimit::{InProcessLimiter, RedisLimiter};
use wharf_testkit::WheelBuilder;

fn redis_url() -> String {
    std::env::var("WHARF_TEST_REDIS_URL").unwrap_or_else(|_| {
        panic!("this test needs Redis: run ./scripts/test (which starts it), or set WHARF_TEST_REDIS_URL")
    })
}

/// A key no other test (or earlier run against the same Redis) uses.
fn fresh_key() -> String {
    format!("test-{:016x}", rand::random::<u64>())
}

async fn burst_then_refusal(limiter: &dyn RateLimiter) {
    let policy = RatePolicy::parse("upload", "5/min").unwrap();
    let key = fresh_key();
    for i in 0..5 {
        let d = limiter.acquire(&key, &policy).await.unwrap();
        assert!(d.is_allowed, "request {i} is within the burst");
        assert_eq!(d.remaining, 4 - i);
    }
    let refused = limiter.acquire(&key, &policy).await.unwrap();
    assert!(!refused.is_allowed);
    // One slot frees every 12 s; a little of that has passed already.
    assert!(
        refused.retry_after > Duration::from_secs(11)
            && refused.retry_after <= Duration::from_secs(12),
        "{refused:?}"
    );
    let other = limiter.acquire(&fresh_key(), &policy).await.unwrap();
    assert!(other.is_allowed, "buckets are per key");
}

async fn refills_at_the_sustained_rate(limiter: &dyn RateLimiter) {
    let policy = RatePolicy::parse("search", "20/s").unwrap();
    let key = fresh_key();
    let mut admitted = 0;
    for _ in 0..25 {
        admitted += u32::from(limiter.acquire(&key, &policy).await.unwrap().is_allowed);
    }
    assert!(
        (20..=21).contains(&admitted),
        "a burst of 20, not 25: {admitted}"
    );
    tokio::time::sleep(Duration::from_millis(260)).await; // 5 slots at 50 ms each
    let mut again = 0;
    for _ in 0..10 {
        again += u32::from(limiter.acquire(&key, &policy).await.unwrap().is_allowed);
    }
    assert!((4..=6).contains(&again), "about 5 slots refilled: {again}");
}

#[tokio::test]
async fn in_process_limiter_admits_a_burst_then_refuses() {
    burst_then_refusal(&InProcessLimiter::new()).await;
}

#[tokio::test]
async fn in_process_limiter_refills_at_the_sustained_rate() {
    refills_at_the_sustained_rate(&InProcessLimiter::new()).await;
}

#[tokio::test]
async fn redis_limiter_admits_a_burst_then_refuses() {
    burst_then_refusal(&RedisLimiter::new(&redis_url(), "wharf-test").unwrap()).await;
}

#[tokio::test]
async fn redis_limiter_refills_at_the_sustained_rate() {
    refills_at_the_sustained_rate(&RedisLimiter::new(&redis_url(), "wharf-test").unwrap()).await;
}

#[tokio::test]
async fn two_redis_limiters_share_one_bucket() {
    // Two instances of Wharf, one Redis: the limit holds across both.
    let (a, b) = (
        RedisLimiter::new(&redis_url(), "wharf-test").unwrap(),
        RedisLimiter::new(&redis_url(), "wharf-test").unwrap(),
    );
    let policy = RatePolicy::parse("upload", "4/min").unwrap();
    let key = fresh_key();
    let mut admitted = 0;
    for i in 0..8 {
        let limiter = if i % 2 == 0 { &a } else { &b };
        admitted += u32::from(limiter.acquire(&key, &policy).await.unwrap().is_allowed);
    }
    assert_eq!(admitted, 4);
}

#[tokio::test]
async fn an_unreachable_redis_is_reported_not_ignored() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let limiter = RedisLimiter::new(&format!("redis://{closed}"), "wharf-test").unwrap();
    let policy = RatePolicy::parse("upload", "5/min").unwrap();
    let started = std::time::Instant::now();
    let err = limiter.acquire("k", &policy).await.unwrap_err();
    assert!(err.to_string().contains("Redis"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "fails fast: {:?}",
        started.elapsed()
    );
}

fn wheel(v: &str) -> UploadForm {
    UploadForm::wheel(&WheelBuilder::new("demo", v), "demo", v)
}

#[tokio::test]
async fn uploads_over_the_limit_get_429_with_retry_after_and_ratelimit_headers() {
    let t = TestApp::with_config(|c| {
        c.rate_limits.upload = RatePolicy::parse("upload", "2/min").unwrap()
    })
    .await;
    let token = t.token("alice", "publish", &[]).await;
    let first = t.upload(Some(&token), &wheel("1.0")).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.header("ratelimit-policy"), "\"upload\";q=2;w=60");
    assert!(
        first.header("ratelimit").starts_with("\"upload\";r=1;t="),
        "{}",
        first.header("ratelimit")
    );
    assert_eq!(
        t.upload(Some(&token), &wheel("2.0")).await.status,
        StatusCode::OK
    );
    let third = t.upload(Some(&token), &wheel("3.0")).await;
    third.assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "retry in");
    let retry: u64 = third.header("retry-after").parse().unwrap();
    assert!((29..=30).contains(&retry), "one slot per 30 s: {retry}");
    assert!(third.header("ratelimit").starts_with("\"upload\";r=0;"));
    assert_eq!(
        t.get(
            "/simple/demo/",
            &[("accept", "application/vnd.pypi.simple.v1+json")]
        )
        .await
        .json()["versions"],
        serde_json::json!(["1.0", "2.0"])
    );

    let other = t.token("bob", "publish", &[]).await;
    assert_eq!(
        t.upload(Some(&other), &wheel("9.0")).await.status,
        StatusCode::FORBIDDEN,
        "another token has its own bucket (and bob owns nothing)"
    );
}

#[tokio::test]
async fn uploads_fail_closed_when_redis_is_unreachable() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let t = TestApp::with_config(|c| c.redis_url = Some(format!("redis://{closed}"))).await;
    let token = t.token("alice", "publish", &[]).await;
    let r = t.upload(Some(&token), &wheel("1.0")).await;
    r.assert_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "rate_limiter_unavailable",
        "cannot be reached",
    );
    assert_eq!(r.header("retry-after"), "5");
    // Reads are not limited, so they keep working; search too.
    assert_eq!(t.get("/simple/", &[]).await.status, StatusCode::OK);
    assert_eq!(
        t.get("/api/v1/search?q=x", &[]).await.status,
        StatusCode::OK
    );
    // Logins and device codes guard credentials: they fail closed.
    t.post_form("/api/v1/auth/device/code", "", &[])
        .await
        .assert_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "rate_limiter_unavailable",
            "device requests are paused",
        );
    // The outage is a metric: the global check of all four requests, plus
    // the upload, search and device classes.
    let metrics = t.app.metrics.render();
    assert!(
        metrics.contains("wharf_rate_limiter_unavailable_total 7\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("wharf_http_responses_total{class=\"5xx\"} 2\n"),
        "{metrics}"
    );
}

#[tokio::test]
async fn ipv6_slash_64_shares_one_rate_limit_bucket() {
    // One host holds a whole /64: a fresh address per request must not mean
    // a fresh bucket, for the global limit or for the login limit.
    let t = TestApp::with_config(|c| {
        c.rate_limits.global = RatePolicy::parse("global", "1/min").unwrap();
    })
    .await;
    let get = |peer: &'static str| {
        let request = axum::http::Request::get("/simple/")
            .body(axum::body::Body::empty())
            .unwrap();
        t.send_from(peer, request)
    };
    assert_eq!(get("[2001:db8:1:2::1]:40000").await.status, StatusCode::OK);
    let same_64 = get("[2001:db8:1:2:ffff:ffff:ffff:fffe]:40001").await;
    same_64.assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "retry in");
    assert_eq!(
        get("[2001:db8:1:3::1]:40000").await.status,
        StatusCode::OK,
        "the next /64 is another client"
    );
    assert_eq!(
        get("198.51.100.1:40000").await.status,
        StatusCode::OK,
        "IPv4 clients keep their own buckets"
    );
    assert_eq!(
        get("198.51.100.2:40000").await.status,
        StatusCode::OK,
        "IPv4 clients keep their own buckets"
    );

    let t = TestApp::with_config(|c| {
        c.rate_limits.login = RatePolicy::parse("login", "1/min").unwrap();
    })
    .await;
    // Another account name each time, so only the per-IP bucket can refuse.
    let login = |peer: &'static str, user: &'static str| {
        let request = axum::http::Request::post("/account/login")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", "wharf_login_csrf=csrf-token")
            .body(axum::body::Body::from(format!(
                "username={user}&password=not-the-password&csrf=csrf-token"
            )))
            .unwrap();
        t.send_from(peer, request)
    };
    assert_eq!(
        login("[2001:db8:1:2::1]:40000", "alice").await.status,
        StatusCode::UNAUTHORIZED
    );
    let same_64 = login("[2001:db8:1:2::2]:40000", "bob").await;
    assert_eq!(
        same_64.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        same_64.text()
    );
    assert_eq!(
        login("[2001:db8:1:3::1]:40000", "carol").await.status,
        StatusCode::UNAUTHORIZED,
        "the next /64 is another client"
    );
}
