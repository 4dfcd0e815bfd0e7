//! What is refused before any request: hostile input, a missing registry,
//! unusable settings.

mod support;

use std::time::Duration;
use support::StandIn;
use wharf_upstream::{Upstream, UpstreamError, UpstreamSettings};

const HOSTILE: &[&str] = &[
    "; rm -rf /",
    "../x",
    "..",
    "a b",
    "$(id)",
    "`id`",
    "a|b",
    "a&&b",
    "x\n/../admin",
    "a\u{0}",
    "a?b=c",
    "a#b",
    "a%2F..",
    "/etc/passwd",
    "http://evil.test/",
    "",
];

#[tokio::test]
async fn hostile_names_and_versions_send_nothing() {
    let stand_in = StandIn::start().await;
    let upstream = stand_in.upstream();
    for hostile in HOSTILE {
        let refusals = [
            upstream.npm_version(hostile, "1.0.0").await.map(drop),
            upstream.npm_version("found-pkg", hostile).await.map(drop),
            upstream
                .npm_version(&format!("@scope/{hostile}"), "1.0.0")
                .await
                .map(drop),
            upstream.pypi_version(hostile, "1.0").await.map(drop),
            upstream.pypi_version("found-pkg", hostile).await.map(drop),
        ];
        for refusal in refusals {
            match refusal {
                Err(error @ UpstreamError::Invalid { .. }) => {
                    assert!(!error.is_retryable());
                    // Quoted input is escaped, never raw.
                    assert!(!error.to_string().contains(['\n', '\0']), "{error:?}");
                }
                other => panic!("{hostile:?}: expected Invalid, got {other:?}"),
            }
        }
    }
    // Tags and ranges would let the registry pick a version.
    for version in ["latest", "^1.0.0", "1.x"] {
        assert!(upstream.npm_version("found-pkg", version).await.is_err());
    }
    assert_eq!(stand_in.total_hits(), 0);
    assert_eq!(upstream.upstream_requests(), 0);
}

#[tokio::test]
async fn an_unconfigured_registry_is_not_asked() {
    let stand_in = StandIn::start().await;
    let only_npm = Upstream::new(UpstreamSettings {
        pypi_url: None,
        ..stand_in.settings()
    })
    .unwrap();
    let error = only_npm.pypi_version("found-pkg", "1.0").await.unwrap_err();
    assert_eq!(error, UpstreamError::NotConfigured { registry: "pypi" });
    assert_eq!(error.code(), "upstream_not_configured");
    assert!(!error.is_retryable());

    let nothing = Upstream::new(UpstreamSettings::default()).unwrap();
    let error = nothing.npm_version("found-pkg", "1.0.0").await.unwrap_err();
    assert_eq!(error, UpstreamError::NotConfigured { registry: "npm" });
    assert_eq!(stand_in.total_hits(), 0);
}

#[test]
fn defaults_are_the_documented_ones() {
    let settings = UpstreamSettings::default();
    assert_eq!(settings.npm_url, None);
    assert_eq!(settings.pypi_url, None);
    assert_eq!(settings.timeout, Duration::from_secs(10));
    assert_eq!(settings.positive_ttl, Duration::from_secs(600));
    assert_eq!(settings.negative_ttl, Duration::from_secs(60));
    assert_eq!(settings.max_body_bytes, 5 * 1024 * 1024);
}

#[test]
fn unusable_settings_are_refused_at_start() {
    let cases = [
        UpstreamSettings {
            npm_url: Some("ftp://mirror.test/".to_owned()),
            ..UpstreamSettings::default()
        },
        UpstreamSettings {
            pypi_url: Some("https://mirror.test/pypi?x=1".to_owned()),
            ..UpstreamSettings::default()
        },
        UpstreamSettings {
            pypi_url: Some("https://mirror.test/pypi#json".to_owned()),
            ..UpstreamSettings::default()
        },
        UpstreamSettings {
            npm_url: Some("mirror.test".to_owned()),
            ..UpstreamSettings::default()
        },
        UpstreamSettings {
            timeout: Duration::ZERO,
            ..UpstreamSettings::default()
        },
        UpstreamSettings {
            max_body_bytes: 0,
            ..UpstreamSettings::default()
        },
    ];
    for settings in cases {
        let error = Upstream::new(settings.clone()).expect_err(&format!("{settings:?}"));
        assert!(matches!(error, UpstreamError::Config(_)), "{error:?}");
        assert!(error.to_string().contains("upstream."), "{error}");
    }
}

#[tokio::test]
async fn a_base_without_trailing_slash_works_the_same() {
    let stand_in = StandIn::start().await;
    let upstream = Upstream::new(UpstreamSettings {
        npm_url: Some(stand_in.npm_url().trim_end_matches('/').to_owned()),
        pypi_url: Some(format!("{}/", stand_in.pypi_url())),
        ..stand_in.settings()
    })
    .unwrap();
    upstream.npm_version("found-pkg", "1.0.0").await.unwrap();
    upstream.pypi_version("found-pkg", "1.0").await.unwrap();
    assert_eq!(stand_in.hits("/npm/found-pkg/1.0.0"), 1);
    assert_eq!(stand_in.hits("/pypi/found-pkg/1.0/json"), 1);
}

#[test]
fn upstream_is_shareable() {
    fn assert_shareable<T: Clone + Send + Sync + 'static>() {}
    assert_shareable::<Upstream>();
}
