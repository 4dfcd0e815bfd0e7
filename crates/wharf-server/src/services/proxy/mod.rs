//! The proxy core: what the vetted pull-through proxies of PyPI and npm
//! share. Each ecosystem adds only its wire format ([`pypi`], and
//! `services::npm::proxy`).
//!
//! - **Names hosted here win.** A proxy is asked only about names with no
//!   local project; the caller checks that first.
//! - **Pages** ([`Pages`]): an upstream page (a PEP 691 page, an npm
//!   packument) is fetched on demand, once per name at a time, shared by every
//!   instance through the database, revalidated with its ETag after
//!   `page_ttl`, and served stale while upstream is down.
//! - **Policy** ([`ProxyCore`]): deny and allow-only lists (configuration
//!   and runtime rules), and the release cooldown with its exemptions.
//! - **Files**: fetched on their first download, once however many clients
//!   ask ([`Flights`]), streamed to staging within a size cap and checked
//!   against upstream's hash ([`ProxyCore::stage`]), scanned like an upload,
//!   and recorded with their verdict ([`ProxyCore::record`]). A held file
//!   waits in the same review queue as an upload.

pub mod pypi;

use crate::cache::PageCache;
use crate::config::proxy::ProxySettings;
use crate::metrics::{Metrics, ProxyMetrics};
use crate::services::archive::ArchiveError;
use crate::services::staging::{StageError, StagedContent, Stager};
use futures_util::future::{BoxFuture, FutureExt, Shared};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use wharf_core::audit;
use wharf_core::model::{
    FileRecord, FileStatus, NewAuditEvent, NewUpload, Origin, UploadOutcome, UploadVerdict,
};
use wharf_core::ports::{
    AuditLog, BlobError, BlobKey, BlobStore, FileRepo, ProxyRepo, RepoError, VerificationRepo,
};
use wharf_core::proxy::{CachedPage, NewProxyRule, ProxyRule, RuleKind, Spec, SpecVersion, NPM};
use wharf_core::{Timestamp, ValidationError};
use wharf_scan::Report;
use wharf_upstream::index_client::{FileDownload, PageFetch};
use wharf_upstream::UpstreamError;

pub use pypi::{project_of, simple_json, ProxyDownload, PypiProxy, PypiProxyParts};

/// Runtime rules are re-read at most this often, so a rule added by `wharf
/// admin proxy` in another process takes effect within this time.
const RULES_TTL: Duration = Duration::from_secs(5);
/// After upstream failed, a stale page is served this long before upstream is asked again.
const RETRY_DOWN: Duration = Duration::from_secs(10);
/// What a client is told to wait before trying again.
pub const RETRY_AFTER_SECS: u64 = 10;
/// Upstream pages this process keeps in memory, per proxy.
const MAX_REMEMBERED: usize = 10_000;

/// Why a proxied page or file could not be served. Clone, because one
/// result is shared by every request waiting for the same fetch.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProxyError {
    #[error(transparent)]
    Repo(#[from] Arc<RepoError>),
    #[error(transparent)]
    Blob(#[from] Arc<BlobError>),
    /// Upstream cannot be asked now and nothing usable is cached: retry.
    #[error("{0}")]
    Unavailable(#[source] UpstreamError),
    /// Upstream answered something Wharf will not use.
    #[error("{0}")]
    BadUpstream(#[source] UpstreamError),
    #[error("'{filename}' does not match the {digest} its upstream page declares (expected {expected}, got {actual}); it was refused and not stored")]
    HashMismatch {
        filename: String,
        /// `SHA-256`, `SHA-512` or `SHA-1`.
        digest: &'static str,
        expected: String,
        actual: String,
    },
    #[error(
        "{what} is denied by this registry's proxy rules{}",
        reason_suffix(reason)
    )]
    Denied { what: String, reason: String },
    /// The file was fetched and is held for review (or refused as unreadable).
    #[error("'{filename}' is held by this registry's checks ({}): {summary}", rules.join(", "))]
    Held {
        filename: String,
        rules: Vec<String>,
        summary: String,
    },
    #[error(
        "'{filename}' is still being fetched and checked; try again in {RETRY_AFTER_SECS} seconds"
    )]
    StillChecking { filename: String },
    /// A new project here would shadow a name the upstream has.
    #[error("'{0}' exists on the upstream index, which this registry proxies; hosting it here would shadow the upstream project for every client. Publish under another name, or ask an administrator (who may create it with an admin-scoped token)")]
    UpstreamName(String),
    /// A rule request that cannot be stored as given.
    #[error("{}", .0.message)]
    Invalid(ValidationError),
    #[error("{0}")]
    Internal(String),
}

fn reason_suffix(reason: &str) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        format!(": {reason}")
    }
}

impl From<RepoError> for ProxyError {
    fn from(e: RepoError) -> Self {
        Self::Repo(Arc::new(e))
    }
}

impl From<BlobError> for ProxyError {
    fn from(e: BlobError) -> Self {
        Self::Blob(Arc::new(e))
    }
}

impl From<UpstreamError> for ProxyError {
    fn from(e: UpstreamError) -> Self {
        if e.is_retryable() {
            Self::Unavailable(e)
        } else {
            Self::BadUpstream(e)
        }
    }
}

/// `GET /api/v1/admin/proxy/{ecosystem}` and `wharf admin proxy status`.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ProxyStatus {
    pub upstream: String,
    pub min_release_age: String,
    pub page_ttl: String,
    /// From the configuration.
    pub allow_newer: Vec<String>,
    /// From the configuration; runtime additions are in `rules`.
    pub deny: Vec<String>,
    /// From the configuration; runtime additions are in `rules`.
    pub allow_only: Vec<String>,
    pub rules: Vec<RuleView>,
    /// What the shared database holds, for every instance.
    #[schema(value_type = Object)]
    pub stored: wharf_core::proxy::ProxyStats,
    /// This process's counters since it started (also on `/metrics`).
    pub process: ProxyCounters,
}

/// A runtime rule.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct RuleView {
    pub id: i64,
    /// `deny`, `allow_only` or `admit`.
    #[schema(value_type = String)]
    pub kind: RuleKind,
    pub spec: String,
    pub reason: String,
    pub created_by: Option<String>,
    pub created_at: String,
}

impl From<&ProxyRule> for RuleView {
    fn from(r: &ProxyRule) -> Self {
        Self {
            id: r.id,
            kind: r.kind,
            spec: r.spec.to_string(),
            reason: r.reason.clone(),
            created_by: r.created_by.clone(),
            created_at: r.created_at.to_rfc3339_micros(),
        }
    }
}

/// One process's proxy counters, read once.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ProxyCounters {
    pub page_hits: u64,
    pub page_misses: u64,
    pub page_stale: u64,
    pub file_hits: u64,
    pub file_fetches: u64,
    pub upstream_errors: u64,
    /// Mean upstream request time, in milliseconds.
    pub upstream_mean_ms: f64,
    pub held_by_cooldown: u64,
    pub denied: u64,
    pub quarantined: u64,
    pub hash_mismatches: u64,
}

impl ProxyCounters {
    fn of(m: &ProxyMetrics) -> Self {
        use std::sync::atomic::Ordering::Relaxed;
        let requests = m.upstream_requests.load(Relaxed);
        let micros = m.upstream_micros.load(Relaxed);
        Self {
            page_hits: m.page_hits.load(Relaxed),
            page_misses: m.page_misses.load(Relaxed),
            page_stale: m.page_stale.load(Relaxed),
            file_hits: m.file_hits.load(Relaxed),
            file_fetches: m.file_fetches.load(Relaxed),
            upstream_errors: m.upstream_errors.load(Relaxed),
            upstream_mean_ms: if requests == 0 {
                0.0
            } else {
                micros as f64 / requests as f64 / 1000.0
            },
            held_by_cooldown: m.held_by_cooldown.load(Relaxed),
            denied: m.denied.load(Relaxed),
            quarantined: m.quarantined.load(Relaxed),
            hash_mismatches: m.hash_mismatches.load(Relaxed),
        }
    }
}

/// Why an entry of an upstream page is left out of what is served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hold {
    /// A deny rule covers it (the rule's message).
    Denied(String),
    /// Fetched before and held or rejected here.
    Held(String),
    /// Too new for the release cooldown.
    Cooldown(String),
}

impl Hold {
    /// The short reason shown on pages: `denied`, `held` or `cooldown`.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Denied(_) => "denied",
            Self::Held(_) => "held",
            Self::Cooldown(_) => "cooldown",
        }
    }

    pub fn detail(&self) -> &str {
        match self {
            Self::Denied(d) | Self::Held(d) | Self::Cooldown(d) => d,
        }
    }

    /// The hold a page lists.
    pub fn of(held: &crate::pages::HeldBack) -> Self {
        let detail = held.detail.clone();
        match held.reason {
            "denied" => Self::Denied(detail),
            "cooldown" => Self::Cooldown(detail),
            _ => Self::Held(detail),
        }
    }

    /// The error a download of the held entry `filename` gets.
    pub fn into_error(self, filename: &str) -> ProxyError {
        match self {
            Self::Denied(reason) => ProxyError::Denied {
                what: format!("'{}'", wharf_core::name::printable(filename)),
                reason,
            },
            other => ProxyError::Held {
                filename: filename.to_owned(),
                rules: vec![other.reason().to_owned()],
                summary: other.detail().to_owned(),
            },
        }
    }
}

/// A fetched, scanned file to record, as the ecosystem describes it.
pub struct Fetched {
    /// The name clients use (`requests`, `@acme/tool`).
    pub name: String,
    /// The project key rows are stored under (normalized; `npm:` for npm).
    pub project_key: String,
    pub version: String,
    pub summary: Option<String>,
    /// The stored file name.
    pub filename: String,
    pub kind: wharf_core::DistKind,
    pub python_tag: String,
    pub requires_python: Option<String>,
    pub metadata_sha256: Option<String>,
    pub staged: StagedContent,
    pub report: Report,
}

type Flight<T> = Shared<BoxFuture<'static, Result<T, ProxyError>>>;

/// One piece of work per key at a time: whoever asks while it runs waits for
/// the same result. The work runs on its own task, so it completes even if
/// every request waiting for it goes away.
pub struct Flights<T> {
    running: Arc<Mutex<HashMap<String, Flight<T>>>>,
}

impl<T> Default for Flights<T> {
    fn default() -> Self {
        Self {
            running: Arc::default(),
        }
    }
}

impl<T: Clone + Send + Sync + 'static> Flights<T> {
    /// The running flight for `key`, or a new one running `start()`.
    pub fn join<F>(&self, key: &str, start: impl FnOnce() -> F) -> Flight<T>
    where
        F: std::future::Future<Output = Result<T, ProxyError>> + Send + 'static,
    {
        let mut running = self.running.lock().expect("flights lock");
        running
            .entry(key.to_owned())
            .or_insert_with(|| {
                let work = start();
                let running = self.running.clone();
                let key = key.to_owned();
                let task = tokio::spawn(async move {
                    let result = work.await;
                    running.lock().expect("flights lock").remove(&key);
                    result
                });
                async move {
                    task.await.unwrap_or_else(|e| {
                        Err(ProxyError::Internal(format!("the fetch stopped: {e}")))
                    })
                }
                .boxed()
                .shared()
            })
            .clone()
    }
}

/// Where an upstream's pages come from.
#[async_trait::async_trait]
pub trait PageSource<P>: Send + Sync {
    /// The page of `name`, revalidated with `etag` when a copy is held.
    async fn fetch(&self, name: &str, etag: Option<&str>) -> Result<PageFetch<P>, UpstreamError>;
}

/// An upstream page as this process knows it.
#[derive(Debug)]
pub struct Remembered<P> {
    /// `None`: upstream has no such name.
    pub page: Option<Arc<P>>,
    /// When upstream last confirmed it.
    pub fetched_at: Timestamp,
    /// Served stale: upstream failed, and is not asked again before then.
    stale_until: Option<Instant>,
}

impl<P> Clone for Remembered<P> {
    fn clone(&self) -> Self {
        Self {
            page: self.page.clone(),
            fetched_at: self.fetched_at,
            stale_until: self.stale_until,
        }
    }
}

impl<P> Remembered<P> {
    /// How old a page served stale is; `None` when it is current.
    pub fn stale_for(&self, now: Timestamp) -> Option<Duration> {
        self.stale_until.map(|_| {
            Duration::from_micros(
                now.micros().saturating_sub(self.fetched_at.micros()).max(0) as u64
            )
        })
    }
}

/// One upstream's pages: this process's copies, the database's, and
/// upstream's, in that order; one upstream request per name at a time.
pub struct Pages<P> {
    core: Arc<ProxyCore>,
    source: Arc<dyn PageSource<P>>,
    known: Mutex<HashMap<String, Remembered<P>>>,
    flights: Flights<Remembered<P>>,
}

impl<P> Pages<P>
where
    P: Serialize + DeserializeOwned + Send + Sync + 'static,
{
    pub fn new(core: Arc<ProxyCore>, source: Arc<dyn PageSource<P>>) -> Self {
        Self {
            core,
            source,
            known: Mutex::default(),
            flights: Flights::default(),
        }
    }

    /// The page of `name` (already checked to be a name worth asking about).
    pub async fn get(self: &Arc<Self>, name: &str) -> Result<Remembered<P>, ProxyError> {
        if let Some(r) = self.known.lock().expect("known lock").get(name) {
            if self.is_fresh(r) {
                ProxyMetrics::add(&self.core.counters().page_hits, 1);
                return Ok(r.clone());
            }
        }
        let this = self.clone();
        let owned = name.to_owned();
        self.flights
            .join(name, move || async move { this.load(&owned).await })
            .await
    }

    /// Whether this process or the database holds a page of `name` that
    /// upstream served (not a "no such name"). Upstream is not asked.
    pub async fn is_known_upstream(&self, name: &str) -> Result<bool, ProxyError> {
        let remembered = self
            .known
            .lock()
            .expect("known lock")
            .get(name)
            .map(|r| r.page.is_some());
        Ok(match remembered {
            Some(found) => found,
            None => self
                .core
                .repo
                .cached_page(self.core.ecosystem, name)
                .await?
                .is_some_and(|p| p.body.is_some()),
        })
    }

    fn is_fresh(&self, r: &Remembered<P>) -> bool {
        if let Some(until) = r.stale_until {
            return Instant::now() < until;
        }
        let ttl = match r.page {
            Some(_) => self.core.settings.page_ttl,
            None => self.core.settings.not_found_ttl,
        };
        r.fetched_at.plus(ttl).micros() > Timestamp::now().micros()
    }

    async fn load(&self, name: &str) -> Result<Remembered<P>, ProxyError> {
        let core = &self.core;
        let ecosystem = core.ecosystem;
        let stored = match core.repo.cached_page(ecosystem, name).await? {
            Some(page) => Some((self.read_stored(&page)?, page)),
            None => None,
        };
        if let Some((known, page)) = &stored {
            let r = Remembered {
                page: known.clone(),
                fetched_at: page.fetched_at,
                stale_until: None,
            };
            if self.is_fresh(&r) {
                ProxyMetrics::add(&core.counters().page_hits, 1);
                return Ok(self.remember(name, r));
            }
        }
        ProxyMetrics::add(&core.counters().page_misses, 1);
        let etag = stored
            .as_ref()
            .and_then(|(known, page)| known.as_ref().and(page.etag.as_deref()));
        let started = Instant::now();
        let answer = self.source.fetch(name, etag).await;
        core.counters().upstream_took(started.elapsed());
        let now = Timestamp::now();
        let fresh = |page| Remembered {
            page,
            fetched_at: now,
            stale_until: None,
        };
        match answer {
            Ok(PageFetch::Page { page, etag }) => {
                let body = serde_json::to_string(&page)
                    .map_err(|e| ProxyError::Internal(e.to_string()))?;
                core.repo
                    .store_page(&CachedPage {
                        ecosystem: ecosystem.into(),
                        name: name.into(),
                        body: Some(body),
                        etag,
                        fetched_at: now,
                    })
                    .await?;
                // What the page listed may have changed: render it again.
                core.pages.invalidate(&core.cache_key(name));
                Ok(self.remember(name, fresh(Some(Arc::new(page)))))
            }
            Ok(PageFetch::NotModified) => {
                let Some((known, _)) = stored else {
                    return Err(ProxyError::Internal(
                        "upstream answered 304 to a request without an ETag".into(),
                    ));
                };
                core.repo.touch_page(ecosystem, name, now).await?;
                Ok(self.remember(name, fresh(known)))
            }
            Ok(PageFetch::NotFound) => {
                // Stored only over a page upstream had before, so that names
                // a client made up never fill the database; this process
                // remembers the rest for `not_found_ttl`.
                if stored.is_some() {
                    core.repo
                        .store_page(&CachedPage {
                            ecosystem: ecosystem.into(),
                            name: name.into(),
                            body: None,
                            etag: None,
                            fetched_at: now,
                        })
                        .await?;
                }
                Ok(self.remember(name, fresh(None)))
            }
            Err(error) => {
                ProxyMetrics::add(&core.counters().upstream_errors, 1);
                tracing::warn!(ecosystem, name, %error, "upstream page unavailable");
                match stored {
                    // An older copy is better than nothing, marked as such.
                    Some((known, page)) => {
                        ProxyMetrics::add(&core.counters().page_stale, 1);
                        Ok(self.remember(
                            name,
                            Remembered {
                                page: known,
                                fetched_at: page.fetched_at,
                                stale_until: Some(Instant::now() + RETRY_DOWN),
                            },
                        ))
                    }
                    None => Err(error.into()),
                }
            }
        }
    }

    fn read_stored(&self, page: &CachedPage) -> Result<Option<Arc<P>>, ProxyError> {
        match &page.body {
            None => Ok(None),
            Some(body) => serde_json::from_str(body)
                .map(|p| Some(Arc::new(p)))
                .map_err(|e| {
                    ProxyError::Internal(format!(
                        "the stored page of '{}' is unreadable: {e}",
                        page.name
                    ))
                }),
        }
    }

    fn remember(&self, name: &str, r: Remembered<P>) -> Remembered<P> {
        let mut known = self.known.lock().expect("known lock");
        // Bounded: past the cap it starts over, which costs a database read per name.
        if known.len() >= MAX_REMEMBERED && !known.contains_key(name) {
            known.clear();
        }
        known.insert(name.to_owned(), r.clone());
        r
    }
}

/// What a proxy core needs, from the application's wiring.
pub struct CoreParts {
    pub settings: ProxySettings,
    pub repo: Arc<dyn ProxyRepo>,
    pub files: Arc<dyn FileRepo>,
    pub verification: Arc<dyn VerificationRepo>,
    pub blobs: Arc<dyn BlobStore>,
    pub audit: Arc<dyn AuditLog>,
    pub pages: Arc<PageCache>,
    pub metrics: Arc<Metrics>,
    /// Scan slots, shared with uploads and workers.
    pub scan_slots: Arc<Semaphore>,
    pub tmp_dir: PathBuf,
}

/// The policy and storage side both proxies share, for one ecosystem.
pub struct ProxyCore {
    /// [`wharf_core::proxy::PYPI`] or [`NPM`].
    pub ecosystem: &'static str,
    pub settings: ProxySettings,
    repo: Arc<dyn ProxyRepo>,
    files: Arc<dyn FileRepo>,
    verification: Arc<dyn VerificationRepo>,
    blobs: Arc<dyn BlobStore>,
    audit: Arc<dyn AuditLog>,
    pages: Arc<PageCache>,
    metrics: Arc<Metrics>,
    scan_slots: Arc<Semaphore>,
    tmp_dir: PathBuf,
    rules: Mutex<Option<(Instant, Arc<Vec<ProxyRule>>)>>,
    proxy_user: tokio::sync::OnceCell<i64>,
}

impl ProxyCore {
    pub fn new(ecosystem: &'static str, parts: CoreParts) -> Self {
        Self {
            ecosystem,
            settings: parts.settings,
            repo: parts.repo,
            files: parts.files,
            verification: parts.verification,
            blobs: parts.blobs,
            audit: parts.audit,
            pages: parts.pages,
            metrics: parts.metrics,
            scan_slots: parts.scan_slots,
            tmp_dir: parts.tmp_dir,
            rules: Mutex::default(),
            proxy_user: tokio::sync::OnceCell::new(),
        }
    }

    /// `proxy.pypi` or `proxy.npm`, for messages.
    pub fn config_key(&self) -> &'static str {
        if self.ecosystem == NPM {
            "proxy.npm"
        } else {
            "proxy.pypi"
        }
    }

    /// The key rendered pages of `name` are cached under.
    pub fn cache_key(&self, name: &str) -> String {
        if self.ecosystem == NPM {
            format!("npm:{name}")
        } else {
            name.to_owned()
        }
    }

    pub fn counters(&self) -> &ProxyMetrics {
        if self.ecosystem == NPM {
            &self.metrics.npm_proxy
        } else {
            &self.metrics.proxy
        }
    }

    pub fn pages(&self) -> &PageCache {
        &self.pages
    }

    // ----- rules -----

    /// The runtime rules, re-read at most every [`RULES_TTL`].
    pub async fn rules(&self) -> Result<Arc<Vec<ProxyRule>>, ProxyError> {
        if let Some((at, rules)) = self.rules.lock().expect("rules lock").as_ref() {
            if at.elapsed() < RULES_TTL {
                return Ok(rules.clone());
            }
        }
        let rules = Arc::new(self.repo.rules(self.ecosystem).await?);
        *self.rules.lock().expect("rules lock") = Some((Instant::now(), rules.clone()));
        Ok(rules)
    }

    fn forget_rules(&self) {
        *self.rules.lock().expect("rules lock") = None;
    }

    /// The deny rule (configured or runtime) covering `name`, or `version` of it.
    pub fn denied_by(
        &self,
        rules: &[ProxyRule],
        name: &str,
        version: Option<&SpecVersion>,
    ) -> Option<ProxyError> {
        let what = |spec: &Spec| match &spec.version {
            Some(_) => spec.to_string(),
            None => format!("'{name}'"),
        };
        if let Some(spec) = self.settings.deny.iter().find(|s| s.covers(name, version)) {
            return Some(ProxyError::Denied {
                what: what(spec),
                reason: format!("listed in {}.deny", self.config_key()),
            });
        }
        rules
            .iter()
            .find(|r| r.kind == RuleKind::Deny && r.spec.covers(name, version))
            .map(|r| ProxyError::Denied {
                what: what(&r.spec),
                reason: r.reason.clone(),
            })
    }

    /// Whether the allow-only lists (when there are any) name `name`.
    pub fn allowed(&self, rules: &[ProxyRule], name: &str) -> bool {
        let listed: Vec<&Spec> = self
            .settings
            .allow_only
            .iter()
            .chain(
                rules
                    .iter()
                    .filter(|r| r.kind == RuleKind::AllowOnly)
                    .map(|r| &r.spec),
            )
            .collect();
        listed.is_empty() || listed.iter().any(|s| s.name == name)
    }

    /// Why `version` of `name`, published upstream at `published` (RFC
    /// 3339), is still too new, if it is.
    pub fn cooling_down(
        &self,
        rules: &[ProxyRule],
        name: &str,
        version: &SpecVersion,
        published: Option<&str>,
        now: Timestamp,
    ) -> Option<String> {
        let age = self.settings.min_release_age;
        if age.is_zero()
            || self
                .settings
                .allow_newer
                .iter()
                .any(|s| s.covers(name, Some(version)))
            || rules
                .iter()
                .any(|r| r.kind == RuleKind::Admit && r.spec.covers(name, Some(version)))
        {
            return None;
        }
        let cooldown = humantime::format_duration(age);
        let Some(uploaded) = published.and_then(parse_rfc3339) else {
            return Some(format!(
                "upstream gives no upload time, so its age is unknown (the cooldown is {cooldown})"
            ));
        };
        let old_enough = uploaded.plus(age);
        if old_enough.micros() <= now.micros() {
            return None;
        }
        Some(format!(
            "uploaded {} ago; the release cooldown is {cooldown}, so it is served from {}",
            humantime::format_duration(Duration::from_secs(
                ((now.micros() - uploaded.micros()).max(0) / 1_000_000) as u64
            )),
            old_enough.to_rfc3339_micros()
        ))
    }

    /// Why `version` of `name` is left out of what is served, if it is: a
    /// deny rule, a copy held here (`held_here`, why), or the cooldown.
    pub fn hold(
        &self,
        rules: &[ProxyRule],
        name: &str,
        version: &SpecVersion,
        held_here: Option<&String>,
        published: Option<&str>,
        now: Timestamp,
    ) -> Option<Hold> {
        if let Some(denied) = self.denied_by(rules, name, Some(version)) {
            return Some(Hold::Denied(denied.to_string()));
        }
        if let Some(why) = held_here {
            return Some(Hold::Held(why.clone()));
        }
        let why = self.cooling_down(rules, name, version, published, now)?;
        ProxyMetrics::add(&self.counters().held_by_cooldown, 1);
        Some(Hold::Cooldown(why))
    }

    /// Checks a rule as an administrator asked for it: an admit names one
    /// version, and every rule says why (at most 500 characters).
    pub fn check_rule(
        ecosystem: &str,
        kind: RuleKind,
        spec: &str,
        reason: &str,
    ) -> Result<Spec, ProxyError> {
        let spec = Spec::parse_in(ecosystem, spec).map_err(ProxyError::Invalid)?;
        let separator = if ecosystem == NPM { "@" } else { "==" };
        if kind == RuleKind::Admit && spec.version.is_none() {
            return Err(ProxyError::Invalid(ValidationError::new(
                "version_required",
                format!(
                    "admit one version at a time: give {}{separator}VERSION",
                    spec.name
                ),
            )));
        }
        if kind == RuleKind::AllowOnly && spec.version.is_some() {
            return Err(ProxyError::Invalid(ValidationError::new(
                "invalid_spec",
                "the allow-only list names projects, not versions",
            )));
        }
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 500 {
            return Err(ProxyError::Invalid(ValidationError::new(
                "reason_required",
                "give a reason of 1 to 500 characters; it is recorded in the audit log",
            )));
        }
        Ok(spec)
    }

    /// What the proxy is set to, the rules, what it stored, and this
    /// process's counters.
    pub async fn status(&self) -> Result<ProxyStatus, ProxyError> {
        let s = &self.settings;
        let specs = |list: &[Spec]| list.iter().map(ToString::to_string).collect();
        Ok(ProxyStatus {
            upstream: s.upstream.clone(),
            min_release_age: humantime::format_duration(s.min_release_age).to_string(),
            page_ttl: humantime::format_duration(s.page_ttl).to_string(),
            allow_newer: specs(&s.allow_newer),
            deny: specs(&s.deny),
            allow_only: specs(&s.allow_only),
            rules: self
                .list_rules()
                .await?
                .iter()
                .map(RuleView::from)
                .collect(),
            stored: self.repo.stats(self.ecosystem).await?,
            process: ProxyCounters::of(self.counters()),
        })
    }

    /// Adds a runtime rule, audited; `None` if the same rule exists.
    pub async fn add_rule(
        &self,
        kind: RuleKind,
        spec: Spec,
        reason: String,
        actor: NewAuditEvent,
    ) -> Result<Option<ProxyRule>, ProxyError> {
        let created_by = actor.actor_user_id;
        let detail = serde_json::json!({ "kind": kind.as_str(), "spec": spec.to_string(), "reason": reason }).to_string();
        let audit = NewAuditEvent {
            action: audit::PROXY_RULE_ADD.into(),
            target: format!("proxy:{}", self.ecosystem),
            detail,
            ..actor
        };
        let added = self
            .repo
            .add_rule(NewProxyRule {
                ecosystem: self.ecosystem,
                kind,
                spec,
                reason,
                created_by,
                audit,
            })
            .await?;
        self.forget_rules();
        self.pages.clear();
        Ok(added)
    }

    /// Removes a runtime rule, audited; whether there was one.
    pub async fn remove_rule(
        &self,
        kind: RuleKind,
        spec: &Spec,
        actor: NewAuditEvent,
    ) -> Result<bool, ProxyError> {
        let audit = NewAuditEvent {
            action: audit::PROXY_RULE_REMOVE.into(),
            target: format!("proxy:{}", self.ecosystem),
            detail: serde_json::json!({ "kind": kind.as_str(), "spec": spec.to_string() })
                .to_string(),
            ..actor
        };
        let removed = self
            .repo
            .remove_rule(self.ecosystem, kind, &spec.to_string(), audit)
            .await?;
        self.forget_rules();
        self.pages.clear();
        Ok(removed)
    }

    /// The runtime rules.
    pub async fn list_rules(&self) -> Result<Vec<ProxyRule>, ProxyError> {
        Ok(self.repo.rules(self.ecosystem).await?)
    }

    // ----- files -----

    /// Streams a file from upstream to staging, within the size cap; every
    /// chunk is also shown to `observe` (for digests staging does not take).
    pub async fn stage(
        &self,
        mut download: FileDownload,
        filename: &str,
        mut observe: impl FnMut(&[u8]),
    ) -> Result<StagedContent, ProxyError> {
        let limit = self.settings.max_file_bytes;
        let too_large = || {
            ProxyError::BadUpstream(UpstreamError::Invalid {
                registry: self.ecosystem,
                reason: format!(
                    "'{filename}' is larger than {}.max_file_bytes ({limit} bytes)",
                    self.config_key()
                ),
            })
        };
        if download.content_length().is_some_and(|n| n > limit) {
            return Err(too_large());
        }
        let started = Instant::now();
        let staging_error = |e: StageError| match e {
            StageError::TooLarge { .. } => too_large(),
            StageError::Io(e) => ProxyError::Internal(format!("staging '{filename}': {e}")),
        };
        let stage_name = filename.rsplit('/').next().unwrap_or(filename);
        let mut stager = Stager::create(&self.tmp_dir, stage_name, limit)
            .await
            .map_err(staging_error)?;
        while let Some(chunk) = download.chunk().await.inspect_err(|_| {
            ProxyMetrics::add(&self.counters().upstream_errors, 1);
        })? {
            observe(&chunk);
            stager.write(&chunk).await.map_err(staging_error)?;
        }
        self.counters().upstream_took(started.elapsed());
        let staged = stager.finish().await.map_err(staging_error)?;
        if staged.size == 0 {
            return Err(ProxyError::BadUpstream(UpstreamError::Invalid {
                registry: self.ecosystem,
                reason: format!("'{filename}' is empty"),
            }));
        }
        self.blobs.prepare_file(staged.file.path());
        Ok(staged)
    }

    /// A fetched file whose bytes are not what upstream's page declares:
    /// audited, counted, not stored.
    pub async fn hash_mismatch(
        &self,
        name: &str,
        filename: &str,
        digest: &'static str,
        expected: &str,
        actual: &str,
    ) -> ProxyError {
        ProxyMetrics::add(&self.counters().hash_mismatches, 1);
        let event = NewAuditEvent::new(audit::PROXY_HASH_MISMATCH, format!("project:{name}"))
            .detail(
                serde_json::json!({ "filename": filename, "digest": digest, "expected": expected, "actual": actual })
                    .to_string(),
            );
        if let Err(e) = self.audit.record(event).await {
            return e.into();
        }
        ProxyError::HashMismatch {
            filename: filename.to_owned(),
            digest,
            expected: expected.to_owned(),
            actual: actual.to_owned(),
        }
    }

    /// A scan slot, shared with uploads, so a burst of first downloads
    /// cannot run more scans at once than `verification.workers`.
    pub async fn scan_slot(&self) -> Result<tokio::sync::OwnedSemaphorePermit, ProxyError> {
        self.scan_slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| ProxyError::Internal(e.to_string()))
    }

    /// A fetched file refused by the archive checks: audited, not stored.
    pub async fn refused(&self, name: &str, filename: &str, error: ArchiveError) -> ProxyError {
        ProxyMetrics::add(&self.counters().quarantined, 1);
        let (rule, message) = match error {
            ArchiveError::Refused { code, message } => (code.to_owned(), message),
            ArchiveError::Worker(reason) => return ProxyError::Internal(reason),
        };
        let event = NewAuditEvent::new(audit::PROXY_REFUSED, format!("project:{name}")).detail(
            serde_json::json!({ "filename": filename, "rule": rule, "message": message })
                .to_string(),
        );
        if let Err(e) = self.audit.record(event).await {
            return e.into();
        }
        ProxyError::Held {
            filename: filename.to_owned(),
            rules: vec![rule],
            summary: format!("{message}; it was not stored"),
        }
    }

    /// Records a fetched and scanned file with its verdict, in the same
    /// tables as an upload, and stores its bytes.
    pub async fn record(&self, fetched: Fetched) -> Result<FileRecord, ProxyError> {
        let Fetched {
            name,
            project_key,
            version,
            summary,
            filename,
            kind,
            python_tag,
            requires_python,
            metadata_sha256,
            staged,
            mut report,
        } = fetched;
        crate::services::verify::remember_prior(
            self.verification.as_ref(),
            &project_key,
            &version,
            &mut report,
        )
        .await?;
        let status = crate::services::verify::status_for(report.verdict());
        let findings = serde_json::to_string(&report.findings)
            .map_err(|e| ProxyError::Internal(e.to_string()))?;
        let verdict = UploadVerdict {
            verdict: report.verdict().as_str().to_owned(),
            rules_version: wharf_scan::RULES_VERSION.to_owned(),
            findings,
            scanned_at: Timestamp::now(),
            audit: crate::services::verify::verdict_event(&filename, &name, &report, status, ""),
        };
        let staged_path = staged.file.path().to_owned();
        self.blobs
            .put_file(&BlobKey::for_sha256(&staged.sha256), &staged_path)
            .await?;
        let StagedContent {
            file,
            size,
            sha256,
            blake2_256,
            md5,
            ..
        } = staged;
        let _ = file.disown();

        let uploader_id = *self
            .proxy_user
            .get_or_try_init(|| async { self.repo.proxy_user().await })
            .await?;
        let upload = NewUpload {
            project_name: name.clone(),
            normalized: wharf_core::NormalizedName::from_normalized(project_key),
            version,
            summary,
            filename: filename.clone(),
            kind,
            python_tag,
            size: size as i64,
            sha256: sha256.clone(),
            blake2_256,
            md5,
            requires_python,
            metadata_sha256,
            status,
            uploader_id,
            token_id: None,
            uploaded_at: Timestamp::now(),
            origin: Origin::Proxy,
            audit: NewAuditEvent::new(audit::PROXY_FETCH, format!("project:{name}")).detail(
                serde_json::json!({ "filename": filename, "sha256": sha256, "size": size })
                    .to_string(),
            ),
            verdict: Some(verdict),
        };
        let record = match self.files.record_upload(upload).await? {
            UploadOutcome::Created { file, .. } | UploadOutcome::AlreadyExists { file } => file,
            UploadOutcome::OtherOrigin | UploadOutcome::NotOwner => {
                return Err(ProxyError::Denied {
                    what: format!("'{name}'"),
                    reason: "the name is now hosted in this registry, which upstream never shadows"
                        .into(),
                })
            }
            UploadOutcome::FilenameTaken { .. } => {
                return Err(ProxyError::Internal(format!(
                    "'{filename}' is stored with other bytes"
                )))
            }
        };
        if record.status != FileStatus::Published {
            ProxyMetrics::add(&self.counters().quarantined, 1);
        }
        self.metrics.count_verdict(record.status);
        self.pages.invalidate(&self.cache_key(&name));
        tracing::info!(ecosystem = self.ecosystem, file = %record.filename, status = record.status.as_str(), "proxied file checked");
        Ok(record)
    }

    /// The stored record of `filename` if an instance fetched it before,
    /// checked against the hash upstream declares now.
    pub async fn stored(
        &self,
        filename: &str,
        sha256: Option<&str>,
    ) -> Result<Option<FileRecord>, ProxyError> {
        let Some(record) = self.files.find_file(filename).await? else {
            return Ok(None);
        };
        if let Some(expected) = sha256 {
            if record.sha256 != expected {
                return Err(ProxyError::HashMismatch {
                    filename: filename.to_owned(),
                    digest: "SHA-256",
                    expected: expected.to_owned(),
                    actual: record.sha256,
                });
            }
        }
        ProxyMetrics::add(&self.counters().file_hits, 1);
        Ok(Some(record))
    }

    /// Waits for a file's flight at most `scan_wait`; past that the client is
    /// told to retry while the fetch goes on.
    pub async fn wait_for<T: Clone>(
        &self,
        flight: Flight<T>,
        filename: &str,
    ) -> Result<T, ProxyError> {
        match tokio::time::timeout(self.settings.scan_wait, flight).await {
            Ok(result) => result,
            Err(_) => Err(ProxyError::StillChecking {
                filename: filename.to_owned(),
            }),
        }
    }

    /// Why a stored proxied file is not served: its report's rules, and
    /// `report_at` (where the report can be read).
    pub async fn why_held(&self, record: &FileRecord, report_at: &str) -> ProxyError {
        let report = match self.verification.report(record.id).await {
            Ok(report) => report,
            Err(e) => return e.into(),
        };
        let (rules, summary) = match report {
            Some(report) => {
                let findings: Vec<wharf_scan::Finding> =
                    serde_json::from_str(&report.findings).unwrap_or_default();
                let held: Vec<&wharf_scan::Finding> =
                    findings.iter().filter(|f| f.holds()).collect();
                (
                    held.iter().map(|f| f.rule.clone()).collect(),
                    held.first()
                        .map(|f| f.explanation.clone())
                        .unwrap_or_else(|| format!("status {}", record.status.as_str())),
                )
            }
            None => (vec![], format!("status {}", record.status.as_str())),
        };
        ProxyError::Held {
            filename: record.filename.clone(),
            rules,
            summary: format!("{summary}; {report_at}"),
        }
    }
}

/// An RFC 3339 time as upstreams write it (`2024-01-02T03:04:05.123456Z`,
/// `2024-01-02T03:04:05.123Z`).
pub fn parse_rfc3339(raw: &str) -> Option<Timestamp> {
    let t =
        humantime::parse_rfc3339_weak(raw.trim_end_matches('Z').trim_end_matches("+00:00")).ok()?;
    Some(Timestamp::from_system(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_times_parse_as_upstreams_write_them() {
        let t = parse_rfc3339("2024-01-02T03:04:05.123456Z").unwrap();
        assert_eq!(t.to_rfc3339_micros(), "2024-01-02T03:04:05.123456Z");
        let npm = parse_rfc3339("2024-01-02T03:04:05.123Z").unwrap();
        assert_eq!(npm.to_rfc3339_micros(), "2024-01-02T03:04:05.123000Z");
        assert!(parse_rfc3339("yesterday").is_none());
    }

    #[tokio::test]
    async fn a_flight_runs_once_for_every_waiter() {
        let flights: Flights<u32> = Flights::default();
        let runs = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let waiters: Vec<_> = (0..50)
            .map(|_| {
                let runs = runs.clone();
                flights.join("k", move || async move {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Ok(runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1)
                })
            })
            .collect();
        for waiter in futures_util::future::join_all(waiters).await {
            assert_eq!(waiter.unwrap(), 1);
        }
        assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 1);
        // Finished flights are forgotten: the next join runs again.
        let again = flights.join("k", || async { Ok(7) }).await.unwrap();
        assert_eq!(again, 7);
    }
}
