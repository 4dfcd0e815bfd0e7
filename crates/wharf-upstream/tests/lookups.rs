//! Each kind of upstream answer maps to the right `Lookup` or `UpstreamError`.

mod support;

use std::time::{Duration, Instant};
use support::{StandIn, MCP_NAME};
use wharf_upstream::{Lookup, NpmVersion, Upstream, UpstreamError, UpstreamSettings};

fn assert_unavailable(
    result: Result<impl std::fmt::Debug, UpstreamError>,
    registry: &str,
) -> String {
    match result {
        Err(error @ UpstreamError::Unavailable { .. }) => {
            assert!(error.is_retryable());
            assert_eq!(error.code(), "upstream_unavailable");
            let UpstreamError::Unavailable {
                registry: got,
                reason,
            } = error
            else {
                unreachable!()
            };
            assert_eq!(got, registry);
            reason
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

fn assert_invalid(result: Result<impl std::fmt::Debug, UpstreamError>) -> String {
    match result {
        Err(error @ UpstreamError::Invalid { .. }) => {
            assert!(!error.is_retryable());
            assert_eq!(error.code(), "upstream_invalid");
            error.to_string()
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[tokio::test]
async fn npm_found_carries_its_marker() {
    let stand_in = StandIn::start().await;
    let upstream = stand_in.upstream();
    let found = upstream.npm_version("found-pkg", "1.0.0").await.unwrap();
    assert_eq!(
        found,
        Lookup::Found(NpmVersion {
            name: "found-pkg".to_owned(),
            version: "1.0.0".to_owned(),
            mcp_name: Some(MCP_NAME.to_owned()),
        })
    );
    // The configured base ends in `/`; no `//` reaches upstream.
    assert_eq!(stand_in.hits("/npm/found-pkg/1.0.0"), 1);
    assert_eq!(stand_in.total_hits(), 1);
    assert_eq!(upstream.upstream_requests(), 1);
}

#[tokio::test]
async fn npm_scoped_names_are_escaped() {
    let stand_in = StandIn::start().await;
    let found = stand_in
        .upstream()
        .npm_version("@scope/pkg", "2.0.0")
        .await
        .unwrap()
        .found()
        .expect("found");
    assert_eq!(found.name, "@scope/pkg");
    assert_eq!(found.mcp_name.as_deref(), Some(MCP_NAME));
    assert_eq!(stand_in.hits("/npm/@scope%2Fpkg/2.0.0"), 1);
    assert_eq!(stand_in.total_hits(), 1);
}

#[tokio::test]
async fn npm_without_a_marker_is_found_with_none() {
    let stand_in = StandIn::start().await;
    let upstream = stand_in.upstream();
    for name in ["no-marker", "odd-marker"] {
        let found = upstream.npm_version(name, "1.0.0").await.unwrap().found();
        assert_eq!(found.expect(name).mcp_name, None, "{name}");
    }
}

#[tokio::test]
async fn npm_404_and_410_are_not_found() {
    let stand_in = StandIn::start().await;
    let upstream = stand_in.upstream();
    assert_eq!(
        upstream.npm_version("missing", "1.0.0").await,
        Ok(Lookup::NotFound)
    );
    assert_eq!(
        upstream.npm_version("found-pkg", "9.9.9").await,
        Ok(Lookup::NotFound)
    );
    assert_eq!(
        upstream.npm_version("gone", "1.0.0").await,
        Ok(Lookup::NotFound)
    );
    assert_eq!(stand_in.hits("/npm/missing/1.0.0"), 1);
    assert_eq!(stand_in.hits("/npm/gone/1.0.0"), 1);
}

#[tokio::test]
async fn npm_429_500_and_other_statuses_are_unavailable() {
    let stand_in = StandIn::start().await;
    let upstream = stand_in.upstream();
    let reason = assert_unavailable(upstream.npm_version("busy", "1.0.0").await, "npm");
    assert!(reason.contains("429"), "{reason}");
    let reason = assert_unavailable(upstream.npm_version("broken", "1.0.0").await, "npm");
    assert!(reason.contains("500"), "{reason}");
    let reason = assert_unavailable(upstream.npm_version("teapot", "1.0.0").await, "npm");
    assert!(reason.contains("418"), "{reason}");
    // No upstream address leaks into what a user may see.
    let error = upstream.npm_version("broken", "1.0.0").await.unwrap_err();
    assert!(!error.to_string().contains("127.0.0.1"), "{error}");
}

#[tokio::test]
async fn npm_slow_answers_time_out() {
    let stand_in = StandIn::start().await;
    let upstream = Upstream::new(UpstreamSettings {
        timeout: Duration::from_millis(300),
        ..stand_in.settings()
    })
    .unwrap();
    let started = Instant::now();
    let reason = assert_unavailable(upstream.npm_version("slow", "1.0.0").await, "npm");
    let took = started.elapsed();
    assert!(reason.contains("300 ms"), "{reason}");
    assert!(took >= Duration::from_millis(250), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
}

#[tokio::test]
async fn oversized_answers_are_invalid() {
    let stand_in = StandIn::start().await;
    let upstream = stand_in.upstream();
    for name in ["huge", "huge-chunked"] {
        let message = assert_invalid(upstream.npm_version(name, "1.0.0").await);
        assert!(message.contains("larger than"), "{name}: {message}");
    }
    let message = assert_invalid(upstream.pypi_version("huge", "1.0").await);
    assert!(message.contains("larger than"), "{message}");
}

#[tokio::test]
async fn non_json_answers_are_invalid() {
    let stand_in = StandIn::start().await;
    let upstream = stand_in.upstream();
    let message = assert_invalid(upstream.npm_version("not-json", "1.0.0").await);
    assert!(message.contains("not JSON"), "{message}");
    let message = assert_invalid(upstream.pypi_version("not-json", "1.0").await);
    assert!(message.contains("not JSON"), "{message}");
}

#[tokio::test]
async fn answers_about_another_package_or_version_are_invalid() {
    let stand_in = StandIn::start().await;
    let upstream = stand_in.upstream();
    let message = assert_invalid(upstream.npm_version("other-name", "1.0.0").await);
    assert!(message.contains("package"), "{message}");
    // As a registry resolving a tag or range would answer.
    let message = assert_invalid(upstream.npm_version("resolves", "1.0.0").await);
    assert!(message.contains("version"), "{message}");
    assert_invalid(upstream.pypi_version("other-name", "1.0").await);
    assert_invalid(upstream.pypi_version("bad-shape", "1.0").await);
}

#[tokio::test]
async fn redirects_are_followed_within_the_registry_only() {
    let stand_in = StandIn::start().await;
    let upstream = stand_in.upstream();

    let found = upstream.npm_version("moved-here", "1.0.0").await.unwrap();
    assert!(matches!(found, Lookup::Found(_)), "{found:?}");
    assert_eq!(stand_in.hits("/npm/found-pkg-moved/1.0.0"), 1);

    // `localhost` is another host than the configured 127.0.0.1.
    let reason = assert_unavailable(upstream.npm_version("moved-away", "1.0.0").await, "npm");
    assert!(reason.contains("redirect"), "{reason}");
    assert_eq!(stand_in.hits("/npm/found-pkg/1.0.0"), 0);

    let reason = assert_unavailable(upstream.npm_version("loop", "1.0.0").await, "npm");
    assert!(reason.contains("redirect"), "{reason}");
    assert_eq!(stand_in.hits("/npm/loop/1.0.0"), 4);
}

#[tokio::test]
async fn connection_errors_are_unavailable() {
    // A port that was free a moment ago, and now has nobody listening.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let upstream = Upstream::new(UpstreamSettings {
        npm_url: Some(format!("http://127.0.0.1:{port}/")),
        ..UpstreamSettings::default()
    })
    .unwrap();
    let reason = assert_unavailable(upstream.npm_version("found-pkg", "1.0.0").await, "npm");
    assert!(reason.contains("connect"), "{reason}");
    assert_eq!(upstream.upstream_requests(), 1);
}

#[tokio::test]
async fn pypi_found_carries_its_description() {
    let stand_in = StandIn::start().await;
    let upstream = stand_in.upstream();
    let found = upstream
        .pypi_version("found-pkg", "1.0")
        .await
        .unwrap()
        .found()
        .expect("found");
    assert_eq!(found.name, "found-pkg");
    assert_eq!(found.version, "1.0");
    assert!(found
        .description
        .as_deref()
        .is_some_and(|d| d.contains(&format!("mcp-name: {MCP_NAME}"))));
    assert_eq!(stand_in.hits("/pypi/found-pkg/1.0/json"), 1);

    // Asked as 1.0.0, answered as 1.0: the same version under PEP 440.
    let found = upstream.pypi_version("found-pkg", "1.0.0").await.unwrap();
    assert!(
        matches!(found, Lookup::Found(ref v) if v.version == "1.0"),
        "{found:?}"
    );
}

#[tokio::test]
async fn pypi_answers_map_like_npm_ones() {
    let stand_in = StandIn::start().await;
    let upstream = stand_in.upstream();
    assert_eq!(
        upstream.pypi_version("missing", "1.0").await,
        Ok(Lookup::NotFound)
    );
    let found = upstream
        .pypi_version("no-description", "1.0")
        .await
        .unwrap();
    assert!(
        matches!(found, Lookup::Found(ref v) if v.description.is_none()),
        "{found:?}"
    );
    let reason = assert_unavailable(upstream.pypi_version("busy", "1.0").await, "pypi");
    assert!(reason.contains("503"), "{reason}");
}

#[tokio::test]
async fn pypi_names_are_normalized_and_canonical_redirects_followed() {
    let stand_in = StandIn::start().await;
    let upstream = stand_in.upstream();
    let found = upstream
        .pypi_version("Mixed.Case", "2.0")
        .await
        .unwrap()
        .found()
        .expect("found");
    assert_eq!(found.name, "Mixed_Case");
    assert_eq!(stand_in.hits("/pypi/mixed-case/2.0/json"), 1);
    assert_eq!(stand_in.hits("/pypi/Mixed_Case/2.0/json"), 1);
    // Another spelling of the same name is the same cache entry.
    for spelling in ["mixed_case", "MIXED-CASE", "mixed-case"] {
        upstream.pypi_version(spelling, "2.0").await.unwrap();
    }
    assert_eq!(stand_in.total_hits(), 2);
    assert_eq!(upstream.upstream_requests(), 1);
}
