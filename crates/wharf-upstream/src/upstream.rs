//! [`Upstream`], the entry point: checks the input, then answers from the
//! cache or asks the registry.

use crate::cache::{CacheKey, LookupCache};
use crate::fetch::{Fetched, Fetcher};
use crate::settings::base_url;
use crate::{npm, pypi, NpmVersion, PypiVersion, UpstreamError, UpstreamSettings};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// What upstream says about one package version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup<T> {
    /// The version exists; here is what upstream says about it.
    Found(T),
    /// The package, or that version of it, does not exist upstream (404 or 410).
    NotFound,
}

impl<T> Lookup<T> {
    /// The found value, if any.
    pub fn found(self) -> Option<T> {
        match self {
            Self::Found(value) => Some(value),
            Self::NotFound => None,
        }
    }
}

/// Looks package versions up in the configured upstream registries. Cheap
/// to clone: clones share the HTTP client and the cache.
#[derive(Clone)]
pub struct Upstream {
    inner: Arc<Inner>,
}

struct Inner {
    npm_base: Option<String>,
    pypi_base: Option<String>,
    positive_ttl: Duration,
    negative_ttl: Duration,
    fetcher: Fetcher,
    npm_cache: LookupCache<Lookup<NpmVersion>>,
    pypi_cache: LookupCache<Lookup<PypiVersion>>,
}

impl fmt::Debug for Upstream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upstream")
            .field("npm_base", &self.inner.npm_base)
            .field("pypi_base", &self.inner.pypi_base)
            .finish_non_exhaustive()
    }
}

impl Upstream {
    /// Checks `settings` and prepares the client. The error names the setting and the fix.
    pub fn new(settings: UpstreamSettings) -> Result<Self, UpstreamError> {
        settings.check_limits()?;
        let npm_base = settings
            .npm_url
            .as_deref()
            .map(|raw| base_url("upstream.npm_url", raw))
            .transpose()?;
        let pypi_base = settings
            .pypi_url
            .as_deref()
            .map(|raw| base_url("upstream.pypi_url", raw))
            .transpose()?;
        Ok(Self {
            inner: Arc::new(Inner {
                npm_base,
                pypi_base,
                positive_ttl: settings.positive_ttl,
                negative_ttl: settings.negative_ttl,
                fetcher: Fetcher::new(&settings)?,
                npm_cache: LookupCache::new(settings.max_cache_entries),
                pypi_cache: LookupCache::new(settings.max_cache_entries),
            }),
        })
    }

    /// Version `version` of the npm package `name` (`pkg` or `@scope/pkg`),
    /// with its `mcpName`. `version` must be exact: no dist-tags, no ranges.
    pub async fn npm_version(
        &self,
        name: &str,
        version: &str,
    ) -> Result<Lookup<NpmVersion>, UpstreamError> {
        let segment = npm::name_segment(name)?;
        npm::check_version(version)?;
        let base = self
            .inner
            .npm_base
            .as_deref()
            .ok_or(UpstreamError::NotConfigured { registry: "npm" })?;
        let url = request_url("npm", &format!("{base}/{segment}/{version}"))?;
        // npm names are case-sensitive upstream (old packages keep their
        // capitals), so the key is the name as given.
        let key = CacheKey {
            name: name.to_owned(),
            version: version.to_owned(),
        };
        let inner = &self.inner;
        inner
            .npm_cache
            .get_or_fetch(
                key,
                |answer| inner.ttl_for(answer),
                || async {
                    let answer = match inner.fetcher.get("npm", url).await {
                        Ok(Fetched::Body(body)) => {
                            npm::parse_version(&body, name, version).map(Lookup::Found)
                        }
                        Ok(Fetched::NotFound) => Ok(Lookup::NotFound),
                        Err(error) => Err(error),
                    };
                    answer.inspect_err(|error| log_failure(name, version, error))
                },
            )
            .await
    }

    /// Release `version` of the PyPI project `name`, with its description.
    /// Names are compared after PEP 503 normalisation; versions under PEP 440.
    pub async fn pypi_version(
        &self,
        name: &str,
        version: &str,
    ) -> Result<Lookup<PypiVersion>, UpstreamError> {
        let normalized = pypi::normalized_name(name)?;
        pypi::check_version(version)?;
        let base = self
            .inner
            .pypi_base
            .as_deref()
            .ok_or(UpstreamError::NotConfigured { registry: "pypi" })?;
        let url = request_url("pypi", &format!("{base}/{normalized}/{version}/json"))?;
        let key = CacheKey {
            name: normalized.clone(),
            version: version.to_owned(),
        };
        let inner = &self.inner;
        inner
            .pypi_cache
            .get_or_fetch(
                key,
                |answer| inner.ttl_for(answer),
                || async {
                    let answer = match inner.fetcher.get("pypi", url).await {
                        Ok(Fetched::Body(body)) => {
                            pypi::parse_release(&body, &normalized, version).map(Lookup::Found)
                        }
                        Ok(Fetched::NotFound) => Ok(Lookup::NotFound),
                        Err(error) => Err(error),
                    };
                    answer.inspect_err(|error| log_failure(name, version, error))
                },
            )
            .await
    }

    /// How many requests this instance (and its clones) has sent upstream:
    /// cache hits and look-ups that joined another's request do not count.
    pub fn upstream_requests(&self) -> u64 {
        self.inner.fetcher.sent()
    }
}

impl Inner {
    fn ttl_for<T>(&self, answer: &Lookup<T>) -> Duration {
        match answer {
            Lookup::Found(_) => self.positive_ttl,
            Lookup::NotFound => self.negative_ttl,
        }
    }
}

/// Parses a request URL built from a checked base and checked segments.
fn request_url(registry: &'static str, raw: &str) -> Result<reqwest::Url, UpstreamError> {
    reqwest::Url::parse(raw)
        .map_err(|e| UpstreamError::invalid(registry, format!("cannot form the request URL: {e}")))
}

/// Logged once per request, not once per waiter. `name` and `version`
/// passed the input checks, so they are plain text.
fn log_failure(name: &str, version: &str, error: &UpstreamError) {
    tracing::warn!(name, version, code = error.code(), %error, "upstream look-up failed");
}
