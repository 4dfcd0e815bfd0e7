//! Where the upstream registries are and how hard we try, checked once by
//! [`Upstream::new`](crate::Upstream::new).

use crate::UpstreamError;
use std::time::Duration;

/// Where to look packages up, and the limits on doing so. Registry URLs have
/// no default: Wharf asks no upstream unless told which one.
#[derive(Debug, Clone)]
pub struct UpstreamSettings {
    /// The npm registry's base URL, as `npm config get registry` prints it.
    /// `None`: npm look-ups answer [`UpstreamError::NotConfigured`].
    pub npm_url: Option<String>,
    /// The base of a PyPI JSON API, the part before `/{name}/{version}/json`.
    /// `None`: PyPI look-ups answer [`UpstreamError::NotConfigured`].
    pub pypi_url: Option<String>,
    /// Deadline for one request, connecting and reading the body included. Default 10 s.
    pub timeout: Duration,
    /// How long a found version is remembered. Default 10 min.
    pub positive_ttl: Duration,
    /// How long a missing package or version is remembered; short, so a
    /// package published upstream a moment ago is soon seen. Default 1 min.
    pub negative_ttl: Duration,
    /// Largest answer read; larger ones are refused as invalid. Default 5 MiB.
    pub max_body_bytes: usize,
    /// Most answers remembered per registry. Default 10,000.
    pub max_cache_entries: usize,
}

impl Default for UpstreamSettings {
    fn default() -> Self {
        Self {
            npm_url: None,
            pypi_url: None,
            timeout: Duration::from_secs(10),
            positive_ttl: Duration::from_secs(10 * 60),
            negative_ttl: Duration::from_secs(60),
            max_body_bytes: 5 * 1024 * 1024,
            max_cache_entries: 10_000,
        }
    }
}

impl UpstreamSettings {
    /// Checks the limits; the URLs are checked by [`base_url`].
    pub(crate) fn check_limits(&self) -> Result<(), UpstreamError> {
        if self.timeout.is_zero() {
            return Err(config(
                "upstream.timeout is zero: give a duration such as 10s",
            ));
        }
        if self.max_body_bytes == 0 {
            return Err(config(
                "upstream.max_body_bytes is zero: give a size such as 5 MiB",
            ));
        }
        if self.max_cache_entries == 0 {
            return Err(config(
                "upstream.max_cache_entries is zero: give a count such as 10000",
            ));
        }
        Ok(())
    }
}

/// `raw` as a base URL without its trailing slash, if it is an absolute
/// http(s) URL with a host and nothing we could not append a path to.
pub(crate) fn base_url(setting: &str, raw: &str) -> Result<String, UpstreamError> {
    let fix = "give an absolute http(s) address such as https://registry.example/";
    let url = reqwest::Url::parse(raw)
        .map_err(|e| config(format!("{setting} is not a URL ({e}): {fix}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(config(format!(
            "{setting} uses `{}`, not http(s): {fix}",
            url.scheme()
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(config(format!("{setting} has no host: {fix}")));
    }
    // Paths are appended to the base; a query or fragment would end up in
    // the middle of every request URL.
    if url.query().is_some() || url.fragment().is_some() {
        return Err(config(format!(
            "{setting} has a query or fragment: remove everything from `?` or `#`"
        )));
    }
    // Credentials in a URL end up in logs and error messages.
    if !url.username().is_empty() || url.password().is_some() {
        return Err(config(format!(
            "{setting} carries credentials: give the address without user:password@"
        )));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

fn config(message: impl Into<String>) -> UpstreamError {
    UpstreamError::Config(message.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_slashes_are_dropped() {
        assert_eq!(
            base_url("upstream.npm_url", "http://127.0.0.1:4873/").unwrap(),
            "http://127.0.0.1:4873"
        );
        assert_eq!(
            base_url("upstream.npm_url", "https://mirror.test/npm//").unwrap(),
            "https://mirror.test/npm"
        );
        assert_eq!(
            base_url("upstream.pypi_url", "https://mirror.test/pypi").unwrap(),
            "https://mirror.test/pypi"
        );
    }

    #[test]
    fn unusable_urls_name_the_setting() {
        for raw in [
            "",
            "mirror.test/npm",
            "/npm",
            "ftp://mirror.test/npm",
            "file:///etc/passwd",
            "https://mirror.test/npm?token=x",
            "https://mirror.test/npm#top",
            "https://user:secret@mirror.test/npm",
            "https://user@mirror.test/npm",
        ] {
            let error = base_url("upstream.npm_url", raw).expect_err(raw);
            assert!(
                matches!(&error, UpstreamError::Config(m) if m.contains("upstream.npm_url")),
                "{raw}: {error}"
            );
            assert!(!error.to_string().contains("secret"), "{error}");
        }
    }
}
