//! What both proxies' upstream clients share: one HTTP client that asks an
//! upstream index for a page (revalidated with its ETag, bounded in size and
//! time, redirects refused) and streams the files that page lists, from the
//! index's own origin or the origins configured beside it.
//!
//! The PyPI simple index ([`crate::simple`]) and the npm registry
//! ([`crate::npm_registry`]) add only how their pages are read.

use crate::fetch::chain;
use crate::UpstreamError;
use reqwest::header::{ACCEPT, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use reqwest::Url;
use std::time::Duration;

/// Where an upstream index is, which origins its files may come from, and
/// the limits on asking it.
#[derive(Debug, Clone)]
pub struct IndexSettings {
    /// The index's base URL (`…/simple/` or an npm registry's root).
    pub index_url: String,
    /// Origins (`scheme://host:port`) file URLs may point at besides the index's own.
    pub file_origins: Vec<String>,
    /// Deadline to connect and to read a whole page.
    pub timeout: Duration,
    /// Deadline for one file download, from the request to the last byte.
    pub file_timeout: Duration,
    /// Largest page read.
    pub max_page_bytes: usize,
}

/// What asking for a page brought back.
#[derive(Debug)]
pub enum PageFetch<P> {
    Page {
        page: P,
        etag: Option<String>,
    },
    /// 304: the copy with the ETag sent is still current.
    NotModified,
    /// 404 or 410.
    NotFound,
}

impl<P> PageFetch<P> {
    /// The same answer with its page read by `read`.
    pub fn try_map<Q>(
        self,
        read: impl FnOnce(P) -> Result<Q, UpstreamError>,
    ) -> Result<PageFetch<Q>, UpstreamError> {
        Ok(match self {
            Self::Page { page, etag } => PageFetch::Page {
                page: read(page)?,
                etag,
            },
            Self::NotModified => PageFetch::NotModified,
            Self::NotFound => PageFetch::NotFound,
        })
    }
}

/// A page's body as it came, before it is read.
#[derive(Debug)]
pub struct RawPage {
    pub body: Vec<u8>,
    pub content_type: Option<String>,
    /// The URL asked, against which relative links resolve.
    pub url: Url,
}

/// A file download in progress.
pub struct FileDownload {
    response: reqwest::Response,
    deadline: tokio::time::Instant,
    timeout: Duration,
    registry: &'static str,
}

impl FileDownload {
    /// The declared length, if any.
    pub fn content_length(&self) -> Option<u64> {
        self.response.content_length()
    }

    /// The next piece of the body; `None` at the end.
    pub async fn chunk(&mut self) -> Result<Option<bytes::Bytes>, UpstreamError> {
        match tokio::time::timeout_at(self.deadline, self.response.chunk()).await {
            Ok(Ok(chunk)) => Ok(chunk),
            Ok(Err(e)) => Err(transport(self.registry, e)),
            Err(_) => Err(UpstreamError::unavailable(
                self.registry,
                format!(
                    "the file did not arrive within {} s",
                    self.timeout.as_secs()
                ),
            )),
        }
    }
}

/// The HTTP side of one upstream index.
pub struct IndexClient {
    registry: &'static str,
    /// The configuration key, for messages (`proxy.pypi`).
    config_key: &'static str,
    client: reqwest::Client,
    base: Url,
    origins: Vec<Url>,
    settings: IndexSettings,
}

impl IndexClient {
    pub fn new(
        registry: &'static str,
        config_key: &'static str,
        settings: IndexSettings,
    ) -> Result<Self, UpstreamError> {
        let mut raw =
            crate::settings::base_url(&format!("{config_key}.upstream"), &settings.index_url)?;
        raw.push('/');
        let base = Url::parse(&raw).map_err(|e| UpstreamError::Config(e.to_string()))?;
        let mut origins = vec![base.clone()];
        for origin in &settings.file_origins {
            let url = crate::settings::base_url(&format!("{config_key}.file_origins"), origin)?;
            origins.push(Url::parse(&url).map_err(|e| UpstreamError::Config(e.to_string()))?);
        }
        if settings.timeout.is_zero() || settings.file_timeout.is_zero() {
            return Err(UpstreamError::Config(format!(
                "{config_key} timeouts must not be zero: give a duration such as 10s"
            )));
        }
        // Redirects are not followed: a page or file that moved elsewhere is
        // an answer we did not ask for.
        let client = reqwest::Client::builder()
            .connect_timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("wharf-proxy/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| UpstreamError::Config(format!("cannot prepare the HTTP client: {e}")))?;
        Ok(Self {
            registry,
            config_key,
            client,
            base,
            origins,
            settings,
        })
    }

    pub fn registry(&self) -> &'static str {
        self.registry
    }

    pub fn config_key(&self) -> &'static str {
        self.config_key
    }

    /// `path` (already checked and escaped by the caller) under the base URL.
    pub fn url(&self, path: &str) -> Result<Url, UpstreamError> {
        self.base
            .join(path)
            .map_err(|e| UpstreamError::invalid(self.registry, e.to_string()))
    }

    /// GETs the page at `url`, revalidated with `etag` when a copy is held.
    /// `what` names it in messages (`the page of 'x'`).
    pub async fn page(
        &self,
        url: Url,
        accept: &str,
        etag: Option<&str>,
        what: &str,
    ) -> Result<PageFetch<RawPage>, UpstreamError> {
        let registry = self.registry;
        let mut request = self
            .client
            .get(url.clone())
            .timeout(self.settings.timeout)
            .header(ACCEPT, accept);
        if let Some(etag) = etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        let mut response = request.send().await.map_err(|e| transport(registry, e))?;
        let status = response.status().as_u16();
        match status {
            200 => {}
            304 if etag.is_some() => return Ok(PageFetch::NotModified),
            404 | 410 => return Ok(PageFetch::NotFound),
            300..=399 => {
                return Err(UpstreamError::invalid(
                    registry,
                    format!("{what} answered {status}, a redirect, which is not followed"),
                ))
            }
            _ => {
                return Err(UpstreamError::unavailable(
                    registry,
                    format!("answered {status}"),
                ))
            }
        }
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let etag = response
            .headers()
            .get(ETAG)
            .and_then(|v| v.to_str().ok())
            .filter(|v| v.len() <= 256)
            .map(str::to_owned);
        let max = self.settings.max_page_bytes;
        let too_large =
            || UpstreamError::invalid(registry, format!("{what} is larger than {max} bytes"));
        if response.content_length().is_some_and(|n| n > max as u64) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| transport(registry, e))? {
            if body.len() + chunk.len() > max {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(PageFetch::Page {
            page: RawPage {
                body,
                content_type,
                url,
            },
            etag,
        })
    }

    /// Starts downloading `url`, which must be on an allowed origin (it came
    /// from a checked page). Redirects are refused.
    pub async fn download(&self, url: &str) -> Result<FileDownload, UpstreamError> {
        let registry = self.registry;
        let parsed =
            Url::parse(url).map_err(|e| UpstreamError::invalid(registry, e.to_string()))?;
        if !self.allowed(&parsed) {
            return Err(UpstreamError::invalid(
                registry,
                "the file URL is not on an allowed origin",
            ));
        }
        let deadline = tokio::time::Instant::now() + self.settings.file_timeout;
        let send = self.client.get(parsed).send();
        let response = match tokio::time::timeout_at(deadline, send).await {
            Ok(r) => r.map_err(|e| transport(registry, e))?,
            Err(_) => {
                return Err(UpstreamError::unavailable(
                    registry,
                    "no answer for the file in time",
                ))
            }
        };
        let status = response.status().as_u16();
        match status {
            200 => Ok(FileDownload {
                response,
                deadline,
                timeout: self.settings.file_timeout,
                registry,
            }),
            404 | 410 => Err(UpstreamError::invalid(
                registry,
                format!("the file its page lists answered {status}"),
            )),
            300..=399 => Err(UpstreamError::invalid(
                registry,
                format!("the file answered {status}, a redirect, which is not followed"),
            )),
            _ => Err(UpstreamError::unavailable(
                registry,
                format!("the file answered {status}"),
            )),
        }
    }

    /// Whether a file URL may be fetched: http(s), no credentials, on the
    /// index's origin or a configured one.
    pub fn allowed(&self, url: &Url) -> bool {
        matches!(url.scheme(), "http" | "https")
            && url.username().is_empty()
            && url.password().is_none()
            && self.origins.iter().any(|o| o.origin() == url.origin())
    }
}

fn transport(registry: &'static str, error: reqwest::Error) -> UpstreamError {
    let error = error.without_url();
    let reason = if error.is_timeout() {
        "no answer in time".to_owned()
    } else if error.is_connect() {
        format!("cannot connect: {}", chain(&error))
    } else {
        chain(&error)
    };
    UpstreamError::unavailable(registry, reason)
}
