//! What reaches upstream: one request per uncached key however many ask,
//! answers kept for their TTL, errors never kept.

mod support;

use std::time::Duration;
use support::StandIn;
use tokio::task::JoinSet;
use wharf_upstream::{Lookup, Upstream, UpstreamError, UpstreamSettings};

/// A whole test must finish within this, or something is hanging.
const BOUND: Duration = Duration::from_secs(20);

async fn wave(
    upstream: &Upstream,
    name: &'static str,
    count: usize,
) -> Vec<Result<Lookup<wharf_upstream::NpmVersion>, UpstreamError>> {
    let mut tasks = JoinSet::new();
    for _ in 0..count {
        let upstream = upstream.clone();
        tasks.spawn(async move { upstream.npm_version(name, "1.0.0").await });
    }
    let mut results = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        results.push(joined.unwrap());
    }
    results
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_lookups_of_one_key_make_one_request() {
    tokio::time::timeout(BOUND, async {
        let stand_in = StandIn::start().await;
        let upstream = stand_in.upstream();

        let first = wave(&upstream, "popular", 100).await;
        assert_eq!(first.len(), 100);
        for result in &first {
            let found = result.as_ref().unwrap();
            assert!(
                matches!(found, Lookup::Found(v) if v.name == "popular"),
                "{found:?}"
            );
        }
        assert_eq!(stand_in.hits("/npm/popular/1.0.0"), 1);
        assert_eq!(upstream.upstream_requests(), 1);

        // Within the TTL: all from the cache.
        let second = wave(&upstream, "popular", 100).await;
        assert!(second.iter().all(|r| matches!(r, Ok(Lookup::Found(_)))));
        assert_eq!(stand_in.hits("/npm/popular/1.0.0"), 1);
        assert_eq!(upstream.upstream_requests(), 1);
    })
    .await
    .expect("bounded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_shared_failure_reaches_every_waiter_and_is_not_kept() {
    tokio::time::timeout(BOUND, async {
        let stand_in = StandIn::start().await;
        let upstream = stand_in.upstream();

        let results = wave(&upstream, "popular-but-down", 50).await;
        assert_eq!(results.len(), 50);
        for result in &results {
            assert!(
                matches!(result, Err(e) if e.is_retryable() && e.to_string().contains("503")),
                "{result:?}"
            );
        }
        assert_eq!(stand_in.hits("/npm/popular-but-down/1.0.0"), 1);

        // The next look-up asks again.
        assert!(upstream
            .npm_version("popular-but-down", "1.0.0")
            .await
            .is_err());
        assert_eq!(stand_in.hits("/npm/popular-but-down/1.0.0"), 2);
    })
    .await
    .expect("bounded");
}

#[tokio::test]
async fn errors_are_not_cached() {
    let stand_in = StandIn::start().await;
    let upstream = stand_in.upstream();
    let first = upstream.npm_version("flaky", "1.0.0").await;
    assert!(
        matches!(&first, Err(UpstreamError::Unavailable { .. })),
        "{first:?}"
    );
    let second = upstream.npm_version("flaky", "1.0.0").await;
    assert!(matches!(&second, Ok(Lookup::Found(_))), "{second:?}");
    assert_eq!(stand_in.hits("/npm/flaky/1.0.0"), 2);
    // And now it is kept.
    upstream.npm_version("flaky", "1.0.0").await.unwrap();
    assert_eq!(stand_in.hits("/npm/flaky/1.0.0"), 2);
}

#[tokio::test]
async fn invalid_answers_are_not_cached() {
    let stand_in = StandIn::start().await;
    let upstream = stand_in.upstream();
    for _ in 0..2 {
        assert!(upstream.npm_version("not-json", "1.0.0").await.is_err());
    }
    assert_eq!(stand_in.hits("/npm/not-json/1.0.0"), 2);
}

fn short_ttls(stand_in: &StandIn) -> Upstream {
    Upstream::new(UpstreamSettings {
        positive_ttl: Duration::from_millis(600),
        negative_ttl: Duration::from_millis(150),
        ..stand_in.settings()
    })
    .unwrap()
}

#[tokio::test]
async fn not_found_is_kept_for_the_negative_ttl_only() {
    let stand_in = StandIn::start().await;
    let upstream = short_ttls(&stand_in);
    assert_eq!(
        upstream.npm_version("missing", "1.0.0").await,
        Ok(Lookup::NotFound)
    );
    assert_eq!(
        upstream.npm_version("missing", "1.0.0").await,
        Ok(Lookup::NotFound)
    );
    assert_eq!(stand_in.hits("/npm/missing/1.0.0"), 1);

    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        upstream.npm_version("missing", "1.0.0").await,
        Ok(Lookup::NotFound)
    );
    assert_eq!(stand_in.hits("/npm/missing/1.0.0"), 2);
}

#[tokio::test]
async fn found_is_kept_for_the_positive_ttl() {
    let stand_in = StandIn::start().await;
    let upstream = short_ttls(&stand_in);
    upstream.npm_version("found-pkg", "1.0.0").await.unwrap();
    // Past the negative TTL, within the positive one: still cached.
    tokio::time::sleep(Duration::from_millis(300)).await;
    upstream.npm_version("found-pkg", "1.0.0").await.unwrap();
    assert_eq!(stand_in.hits("/npm/found-pkg/1.0.0"), 1);

    tokio::time::sleep(Duration::from_millis(500)).await;
    upstream.npm_version("found-pkg", "1.0.0").await.unwrap();
    assert_eq!(stand_in.hits("/npm/found-pkg/1.0.0"), 2);
}

#[tokio::test]
async fn registries_and_versions_are_separate_keys() {
    let stand_in = StandIn::start().await;
    let upstream = stand_in.upstream();
    upstream.npm_version("found-pkg", "1.0.0").await.unwrap();
    upstream.npm_version("found-pkg", "2.0.0").await.unwrap();
    upstream.pypi_version("found-pkg", "1.0").await.unwrap();
    assert_eq!(stand_in.total_hits(), 3);
}

#[tokio::test]
async fn a_full_cache_evicts_the_oldest_answer() {
    let stand_in = StandIn::start().await;
    let upstream = Upstream::new(UpstreamSettings {
        max_cache_entries: 2,
        ..stand_in.settings()
    })
    .unwrap();
    for name in ["first", "second", "third"] {
        upstream.npm_version(name, "1.0.0").await.unwrap();
    }
    assert_eq!(upstream.upstream_requests(), 3);
    // "first" made room for "third"; "second" is still there.
    upstream.npm_version("second", "1.0.0").await.unwrap();
    assert_eq!(upstream.upstream_requests(), 3);
    upstream.npm_version("first", "1.0.0").await.unwrap();
    assert_eq!(upstream.upstream_requests(), 4);
    assert_eq!(stand_in.hits("/npm/first/1.0.0"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_lookup_does_not_wedge_its_key() {
    tokio::time::timeout(BOUND, async {
        let stand_in = StandIn::start().await;
        let upstream = stand_in.upstream();
        let abandoned = tokio::time::timeout(
            Duration::from_millis(50),
            upstream.npm_version("popular", "1.0.0"),
        )
        .await;
        assert!(abandoned.is_err(), "the stand-in answers after 300 ms");
        let found = upstream.npm_version("popular", "1.0.0").await;
        assert!(matches!(found, Ok(Lookup::Found(_))), "{found:?}");
        assert_eq!(upstream.upstream_requests(), 2);
    })
    .await
    .expect("bounded");
}
