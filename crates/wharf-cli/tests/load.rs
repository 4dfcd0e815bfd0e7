//! Bounded load tests against a real `wharf serve` on 127.0.0.1: the search
//! and device-code limits refuse at their configured rate with a correct
//! `Retry-After`, and requests paced under the limit never see a 429.
//! Each test sends at most a few hundred requests and runs for seconds.

mod support;

use std::time::{Duration, Instant};
use support::web::{exchange, Answer};
use support::*;

fn header(answer: &Answer, name: &str) -> Option<String> {
    answer.head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
    })
}

fn server(dir: &std::path::Path, search: &str, device: &str) -> Server {
    Server::start_with_env(
        dir,
        &[
            ("WHARF_RATE_LIMIT_SEARCH", search.to_owned()),
            ("WHARF_RATE_LIMIT_DEVICE", device.to_owned()),
            // The test itself is one client: keep the global limit out of the way.
            ("WHARF_RATE_LIMIT_GLOBAL", "100000/s".to_owned()),
        ],
    )
}

fn search(s: &Server) -> Answer {
    exchange(s, "GET", "/api/v1/search?q=anything", "", &[])
}

fn device_code(s: &Server) -> Answer {
    exchange(
        s,
        "POST",
        "/api/v1/auth/device/code",
        "",
        &[("client_id", "load")],
    )
}

/// Sends `count` requests `gap` apart; returns how many were refused.
fn paced(count: usize, gap: Duration, mut send: impl FnMut() -> Answer) -> usize {
    let start = Instant::now();
    (0..count)
        .filter(|&i| {
            let due = start + gap * i as u32;
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            send().status == 429
        })
        .count()
}

/// Sends `count` requests back to back; returns (allowed, first refusal, elapsed).
fn burst(count: usize, mut send: impl FnMut() -> Answer) -> (usize, Option<Answer>, Duration) {
    let start = Instant::now();
    let mut allowed = 0;
    let mut first_refusal = None;
    for _ in 0..count {
        let a = send();
        match a.status {
            200 => allowed += 1,
            429 => {
                first_refusal.get_or_insert(a);
            }
            other => panic!("unexpected {other}: {}", a.body),
        }
    }
    (allowed, first_refusal, start.elapsed())
}

/// Requests allowed by a GCRA limit of `rate`/s with a burst of `rate`
/// over `elapsed`, plus one for the edges.
fn most_allowed(rate: f64, elapsed: Duration) -> usize {
    (rate + rate * elapsed.as_secs_f64()).ceil() as usize + 1
}

#[test]
fn search_limit_refuses_at_its_rate_and_never_under_it() {
    let dir = tempfile::tempdir().unwrap();
    let s = server(dir.path(), "20/s", "5/min");
    // Half the sustained rate for two seconds: never a 429.
    assert_eq!(paced(20, Duration::from_millis(100), || search(&s)), 0);
    let (allowed, refusal, elapsed) = burst(200, || search(&s));
    let refusal = refusal.expect("a burst past the limit is refused");
    assert!(allowed >= 19, "the burst allowance is honoured: {allowed}");
    assert!(
        allowed <= most_allowed(20.0, elapsed),
        "{allowed} allowed in {elapsed:?}"
    );
    // One request frees up every 50 ms, rounded up to whole seconds.
    assert_eq!(header(&refusal, "retry-after").as_deref(), Some("1"));
    assert!(header(&refusal, "ratelimit-policy")
        .unwrap()
        .contains("\"search\";q=20;w=1"));
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(
        search(&s).status,
        200,
        "after Retry-After the client is served again"
    );
}

#[test]
fn device_code_limit_refuses_at_its_rate_and_never_under_it() {
    let dir = tempfile::tempdir().unwrap();
    let s = server(dir.path(), "60/min", "10/s");
    assert_eq!(paced(8, Duration::from_millis(250), || device_code(&s)), 0);
    let (allowed, refusal, elapsed) = burst(60, || device_code(&s));
    let refusal = refusal.expect("a burst past the limit is refused");
    assert!(allowed >= 9, "{allowed}");
    assert!(
        allowed <= most_allowed(10.0, elapsed),
        "{allowed} allowed in {elapsed:?}"
    );
    assert_eq!(header(&refusal, "retry-after").as_deref(), Some("1"));

    // Per minute: after a burst of 6, the next request waits about 10 s.
    let dir = tempfile::tempdir().unwrap();
    let s = server(dir.path(), "60/min", "6/min");
    let (allowed, refusal, _) = burst(10, || device_code(&s));
    assert_eq!(allowed, 6);
    let retry: u64 = header(&refusal.unwrap(), "retry-after")
        .unwrap()
        .parse()
        .unwrap();
    assert!((9..=10).contains(&retry), "60 s / 6 requests: {retry}");
}
