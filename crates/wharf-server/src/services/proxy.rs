//! The vetted pull-through proxy of an upstream simple index.
//!
//! A name hosted here is never looked up upstream: [`Index`](super::index::Index)
//! asks the proxy only about names with no local project. For those, the
//! upstream page is fetched on demand (shared by every instance through the
//! database, revalidated with its ETag, served stale while upstream is down),
//! then filtered: deny and allow-only rules, the release cooldown, and files
//! held here. File URLs point at Wharf, and upstream's hashes are kept.
//!
//! A file is fetched on its first download, once however many clients ask
//! at the same moment, checked against upstream's SHA-256, read and scanned
//! like an upload, and recorded in the same tables with its verdict. A held
//! file waits in the same review queue as an upload; from then on every
//! instance serves the stored copy.

use crate::cache::{FileCache, PageCache};
use crate::config::proxy::PypiProxy as Settings;
use crate::metrics::{Metrics, ProxyMetrics};
use crate::pages::{self, HeldBack};
use crate::services::archive::{check_layout, check_metadata, read_archive, ArchiveError};
use crate::services::staging::{StageError, Stager};
use futures_util::future::{BoxFuture, FutureExt, Shared};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use wharf_artifact::Limits;
use wharf_core::audit;
use wharf_core::model::{
    FileRecord, FileStatus, NewAuditEvent, NewUpload, Origin, UploadOutcome, UploadVerdict,
};
use wharf_core::name::{normalize, printable};
use wharf_core::ports::{
    AuditLog, BlobError, BlobKey, BlobStore, FileRepo, ProjectRepo, ProxyRepo, RepoError,
    VerificationRepo,
};
use wharf_core::proxy::{CachedPage, NewProxyRule, ProxyRule, RuleKind, Spec, PYPI};
use wharf_core::{DistFilename, NormalizedName, Timestamp, ValidationError, Version};
use wharf_scan::names::Ecosystem;
use wharf_scan::{NameContext, PopularNames};
use wharf_upstream::simple::{PageFetch, SimpleIndex, SimpleSettings, UpstreamFile, UpstreamPage};
use wharf_upstream::UpstreamError;

/// Runtime rules are re-read at most this often, so a rule added by `wharf
/// admin proxy` in another process takes effect within this time.
const RULES_TTL: Duration = Duration::from_secs(5);
/// After upstream failed, a stale page is served this long before upstream is asked again.
const RETRY_DOWN: Duration = Duration::from_secs(10);
/// What a client is told to wait before trying again.
pub const RETRY_AFTER_SECS: u64 = 10;
/// Upstream pages this process keeps in memory.
const MAX_REMEMBERED: usize = 10_000;
/// Largest PEP 658 metadata file proxied.
const MAX_METADATA_BYTES: u64 = 16 * 1024 * 1024;

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
    #[error("'{filename}' does not match the SHA-256 its upstream page declares (expected {expected}, got {actual}); it was refused and not stored")]
    HashMismatch {
        filename: String,
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

/// An upstream page as this process knows it.
#[derive(Debug, Clone)]
enum Known {
    Page(Arc<UpstreamPage>),
    Missing,
}

#[derive(Debug, Clone)]
struct Remembered {
    known: Known,
    /// When upstream last confirmed it.
    fetched_at: Timestamp,
    /// Served stale: upstream failed, and is not asked again before `retry_at`.
    stale_until: Option<Instant>,
}

/// A proxied project page, filtered, ready to render.
#[derive(Debug, Clone)]
pub struct ProxiedPage {
    pub name: String,
    /// What may be installed, by version then filename.
    pub files: Vec<UpstreamFile>,
    /// What is left out, and why.
    pub held_back: Vec<HeldBack>,
    /// Set when upstream could not be reached and an older copy is served.
    pub stale_for: Option<Duration>,
}

/// `GET /api/v1/admin/proxy/pypi` and `wharf admin proxy status`.
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

/// A proxied download.
pub enum ProxyDownload {
    /// The distribution, fetched and published.
    File(Arc<FileRecord>),
    /// A PEP 658 metadata file, stored under its SHA-256.
    Metadata { sha256: String },
}

type Flight<T> = Shared<BoxFuture<'static, Result<T, ProxyError>>>;

/// The PyPI proxy service.
pub struct PypiProxy {
    settings: Settings,
    upstream: SimpleIndex,
    repo: Arc<dyn ProxyRepo>,
    projects: Arc<dyn ProjectRepo>,
    files: Arc<dyn FileRepo>,
    verification: Arc<dyn VerificationRepo>,
    blobs: Arc<dyn BlobStore>,
    audit: Arc<dyn AuditLog>,
    pages: Arc<PageCache>,
    file_index: Arc<FileCache>,
    metrics: Arc<Metrics>,
    /// Scan slots, shared with uploads and workers.
    scan_slots: Arc<Semaphore>,
    tmp_dir: PathBuf,
    known: Mutex<HashMap<String, Remembered>>,
    page_flights: Mutex<HashMap<String, Flight<Remembered>>>,
    file_flights: Mutex<HashMap<String, Flight<Arc<FileRecord>>>>,
    rules: Mutex<Option<(Instant, Arc<Vec<ProxyRule>>)>>,
    proxy_user: tokio::sync::OnceCell<i64>,
}

/// What the proxy service needs, from the application's wiring.
pub struct PypiProxyParts {
    pub settings: Settings,
    pub repo: Arc<dyn ProxyRepo>,
    pub projects: Arc<dyn ProjectRepo>,
    pub files: Arc<dyn FileRepo>,
    pub verification: Arc<dyn VerificationRepo>,
    pub blobs: Arc<dyn BlobStore>,
    pub audit: Arc<dyn AuditLog>,
    pub pages: Arc<PageCache>,
    pub file_index: Arc<FileCache>,
    pub metrics: Arc<Metrics>,
    pub scan_slots: Arc<Semaphore>,
    pub tmp_dir: PathBuf,
}

impl PypiProxy {
    pub fn new(parts: PypiProxyParts) -> Result<Arc<Self>, UpstreamError> {
        let s = &parts.settings;
        let upstream = SimpleIndex::new(SimpleSettings {
            index_url: s.upstream.clone(),
            file_origins: s.file_origins.clone(),
            timeout: s.timeout,
            file_timeout: s.file_timeout,
            max_page_bytes: usize::try_from(s.max_page_bytes).unwrap_or(usize::MAX),
        })?;
        Ok(Arc::new(Self {
            upstream,
            settings: parts.settings,
            repo: parts.repo,
            projects: parts.projects,
            files: parts.files,
            verification: parts.verification,
            blobs: parts.blobs,
            audit: parts.audit,
            pages: parts.pages,
            file_index: parts.file_index,
            metrics: parts.metrics,
            scan_slots: parts.scan_slots,
            tmp_dir: parts.tmp_dir,
            known: Mutex::default(),
            page_flights: Mutex::default(),
            file_flights: Mutex::default(),
            rules: Mutex::default(),
            proxy_user: tokio::sync::OnceCell::new(),
        }))
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    fn counters(&self) -> &ProxyMetrics {
        &self.metrics.proxy
    }

    /// The filtered page of `name` (normalized, not hosted here); `None` if
    /// upstream has no such project or the allow-only list leaves it out.
    pub async fn page(self: &Arc<Self>, name: &str) -> Result<Option<ProxiedPage>, ProxyError> {
        // Only a name that could be a project is ever asked about.
        if NormalizedName::parse(name).is_err() {
            return Ok(None);
        }
        let rules = self.rules().await?;
        if let Some(denied) = self.denied_by(&rules, name, None) {
            ProxyMetrics::add(&self.counters().denied, 1);
            return Err(denied);
        }
        if !self.allowed(&rules, name) {
            ProxyMetrics::add(&self.counters().denied, 1);
            return Ok(None);
        }
        let remembered = self.upstream_page(name).await?;
        let Known::Page(page) = &remembered.known else {
            return Ok(None);
        };
        let held_here = self.held_here(name).await?;
        let mut visible: Vec<(Version, UpstreamFile)> = Vec::new();
        let mut held_back = Vec::new();
        let project = NormalizedName::from_normalized(name.to_owned());
        let now = Timestamp::now();
        for file in page.files.iter() {
            let Ok(dist) = DistFilename::parse(&file.filename, &project) else {
                continue;
            };
            let version = dist.version;
            let hold = |reason, detail: String| HeldBack {
                filename: file.filename.clone(),
                version: version.canonical().to_owned(),
                reason,
                detail,
            };
            if let Some(denied) = self.denied_by(&rules, name, Some(&version)) {
                held_back.push(hold("denied", denied.to_string()));
            } else if let Some(why) = held_here.get(&file.filename) {
                held_back.push(hold("held", why.clone()));
            } else if let Some(why) = self.cooling_down(&rules, name, &version, file, now) {
                ProxyMetrics::add(&self.counters().held_by_cooldown, 1);
                held_back.push(hold("cooldown", why));
            } else {
                visible.push((version, file.clone()));
            }
        }
        visible.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.filename.cmp(&b.1.filename)));
        let stale_for = remembered.stale_until.map(|_| {
            Duration::from_micros(
                now.micros()
                    .saturating_sub(remembered.fetched_at.micros())
                    .max(0) as u64,
            )
        });
        Ok(Some(ProxiedPage {
            name: name.to_owned(),
            files: visible.into_iter().map(|(_, f)| f).collect(),
            held_back,
            stale_for,
        }))
    }

    /// A download of `filename` under `sha256` from a proxied page. `None`
    /// when no visible entry of the page matches.
    pub async fn download(
        self: &Arc<Self>,
        sha256: &str,
        filename: &str,
    ) -> Result<Option<ProxyDownload>, ProxyError> {
        let (dist_name, is_metadata) = match filename.strip_suffix(".metadata") {
            Some(dist) => (dist, true),
            None => (filename, false),
        };
        let Some(name) = project_of(dist_name) else {
            return Ok(None);
        };
        if self.is_hosted(&name).await? {
            return Ok(None);
        }
        let Some(page) = self.page(&name).await? else {
            return Ok(None);
        };
        if let Some(held) = page.held_back.iter().find(|h| h.filename == dist_name) {
            return Err(match held.reason {
                "denied" => ProxyError::Denied {
                    what: format!("'{}'", printable(dist_name)),
                    reason: held.detail.clone(),
                },
                _ => ProxyError::Held {
                    filename: dist_name.to_owned(),
                    rules: vec![held.reason.to_owned()],
                    summary: held.detail.clone(),
                },
            });
        }
        let Some(entry) = page
            .files
            .iter()
            .find(|f| f.filename == dist_name && f.sha256 == sha256)
            .cloned()
        else {
            return Ok(None);
        };
        if is_metadata {
            return self
                .metadata(&entry)
                .await
                .map(|found| found.map(|sha256| ProxyDownload::Metadata { sha256 }));
        }
        let record = self.fetch_once(name, entry).await?;
        if record.status == FileStatus::Published {
            return Ok(Some(ProxyDownload::File(record)));
        }
        Err(self.why_held(&record).await)
    }

    /// Why a stored proxied file is not served: its report's rules.
    pub async fn why_held(&self, record: &FileRecord) -> ProxyError {
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
            summary: format!("{summary}; the report is at {}", report_path(record)),
        }
    }

    /// Whether a first upload may create the project `name` here. A name the
    /// upstream has would be taken from every client of this registry, since
    /// private names win: only an administrator acting as one may do that.
    /// Upstream itself is not asked (that would tell it every private name):
    /// a name is taken if a page of it is stored here, or if it is on the
    /// bundled list of popular projects. Existing projects are not this
    /// check's business.
    pub async fn check_new_local_name(&self, name: &str, by_admin: bool) -> Result<(), ProxyError> {
        let Ok(project) = NormalizedName::parse(name) else {
            return Ok(());
        };
        if by_admin || self.projects.find_project(&project).await?.is_some() {
            return Ok(());
        }
        let remembered = self
            .known
            .lock()
            .expect("known lock")
            .get(project.as_str())
            .map(|r| matches!(r.known, Known::Page(_)));
        let stored = match remembered {
            Some(found) => found,
            None => self
                .repo
                .cached_page(PYPI, project.as_str())
                .await?
                .is_some_and(|p| p.body.is_some()),
        };
        if stored || PopularNames::bundled(Ecosystem::Pypi).contains(project.as_str()) {
            return Err(ProxyError::UpstreamName(project.as_str().to_owned()));
        }
        Ok(())
    }

    /// Whether `name` has a project hosted here (which upstream never shadows).
    pub async fn is_hosted(&self, name: &str) -> Result<bool, ProxyError> {
        let Ok(project) = NormalizedName::parse(name) else {
            return Ok(false);
        };
        Ok(self
            .projects
            .find_project(&project)
            .await?
            .is_some_and(|p| p.origin == Origin::Local))
    }

    /// Whether a deny rule covers a stored file (checked on every download,
    /// since a rule may come after the file was fetched).
    pub async fn denies(
        &self,
        filename: &str,
        version: &str,
    ) -> Result<Option<ProxyError>, ProxyError> {
        let Some(name) = project_of(filename) else {
            return Ok(None);
        };
        let rules = self.rules().await?;
        Ok(self.denied_by(&rules, &name, Version::parse(version).ok().as_ref()))
    }

    // ----- rules -----

    /// The runtime rules, re-read at most every [`RULES_TTL`].
    async fn rules(&self) -> Result<Arc<Vec<ProxyRule>>, ProxyError> {
        if let Some((at, rules)) = self.rules.lock().expect("rules lock").as_ref() {
            if at.elapsed() < RULES_TTL {
                return Ok(rules.clone());
            }
        }
        let rules = Arc::new(self.repo.rules(PYPI).await?);
        *self.rules.lock().expect("rules lock") = Some((Instant::now(), rules.clone()));
        Ok(rules)
    }

    fn forget_rules(&self) {
        *self.rules.lock().expect("rules lock") = None;
    }

    fn denied_by(
        &self,
        rules: &[ProxyRule],
        name: &str,
        version: Option<&Version>,
    ) -> Option<ProxyError> {
        let what = |spec: &Spec| match &spec.version {
            Some(v) => format!("{name}=={}", v.canonical()),
            None => format!("'{name}'"),
        };
        if let Some(spec) = self.settings.deny.iter().find(|s| s.covers(name, version)) {
            return Some(ProxyError::Denied {
                what: what(spec),
                reason: "listed in proxy.pypi.deny".into(),
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

    fn allowed(&self, rules: &[ProxyRule], name: &str) -> bool {
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
        listed.is_empty() || listed.iter().any(|s| s.name.as_str() == name)
    }

    /// Why `file` is still too new, if it is.
    fn cooling_down(
        &self,
        rules: &[ProxyRule],
        name: &str,
        version: &Version,
        file: &UpstreamFile,
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
        let Some(uploaded) = file.upload_time.as_deref().and_then(parse_rfc3339) else {
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

    /// Checks a rule as an administrator asked for it: an admit names one
    /// version, and every rule says why (at most 500 characters).
    pub fn check_rule(kind: RuleKind, spec: &str, reason: &str) -> Result<Spec, ProxyError> {
        let spec = Spec::parse(spec).map_err(ProxyError::Invalid)?;
        if kind == RuleKind::Admit && spec.version.is_none() {
            return Err(ProxyError::Invalid(ValidationError::new(
                "version_required",
                format!(
                    "admit one version at a time: give {}==VERSION",
                    spec.name.as_str()
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
            stored: self.repo.stats(PYPI).await?,
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
            target: format!("proxy:{PYPI}"),
            detail,
            ..actor
        };
        let added = self
            .repo
            .add_rule(NewProxyRule {
                ecosystem: PYPI,
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
            target: format!("proxy:{PYPI}"),
            detail: serde_json::json!({ "kind": kind.as_str(), "spec": spec.to_string() })
                .to_string(),
            ..actor
        };
        let removed = self
            .repo
            .remove_rule(PYPI, kind, &spec.to_string(), audit)
            .await?;
        self.forget_rules();
        self.pages.clear();
        Ok(removed)
    }

    /// The runtime rules.
    pub async fn list_rules(&self) -> Result<Vec<ProxyRule>, ProxyError> {
        Ok(self.repo.rules(PYPI).await?)
    }

    // ----- pages -----

    /// The upstream page of `name`: this process's copy, the database's, or
    /// upstream's, in that order; one upstream request per name at a time.
    async fn upstream_page(self: &Arc<Self>, name: &str) -> Result<Remembered, ProxyError> {
        if let Some(r) = self.known.lock().expect("known lock").get(name) {
            if self.is_fresh(r) {
                ProxyMetrics::add(&self.counters().page_hits, 1);
                return Ok(r.clone());
            }
        }
        let flight = {
            let mut flights = self.page_flights.lock().expect("flights lock");
            flights
                .entry(name.to_owned())
                .or_insert_with(|| {
                    let this = self.clone();
                    let name = name.to_owned();
                    spawn_shared(async move {
                        let result = this.load_page(&name).await;
                        this.page_flights
                            .lock()
                            .expect("flights lock")
                            .remove(&name);
                        result
                    })
                })
                .clone()
        };
        flight.await
    }

    fn is_fresh(&self, r: &Remembered) -> bool {
        if let Some(until) = r.stale_until {
            return Instant::now() < until;
        }
        let ttl = match r.known {
            Known::Page(_) => self.settings.page_ttl,
            Known::Missing => self.settings.not_found_ttl,
        };
        r.fetched_at.plus(ttl).micros() > Timestamp::now().micros()
    }

    async fn load_page(&self, name: &str) -> Result<Remembered, ProxyError> {
        let stored = self.repo.cached_page(PYPI, name).await?;
        let stored = match stored {
            Some(page) => Some((stored_known(&page)?, page)),
            None => None,
        };
        if let Some((known, page)) = &stored {
            let r = Remembered {
                known: known.clone(),
                fetched_at: page.fetched_at,
                stale_until: None,
            };
            if self.is_fresh(&r) {
                ProxyMetrics::add(&self.counters().page_hits, 1);
                return Ok(self.remember(name, r));
            }
        }
        ProxyMetrics::add(&self.counters().page_misses, 1);
        let etag = stored
            .as_ref()
            .and_then(|(known, page)| {
                matches!(known, Known::Page(_)).then_some(page.etag.as_deref())
            })
            .flatten();
        let started = Instant::now();
        let answer = self.upstream.page(name, etag).await;
        self.counters().upstream_took(started.elapsed());
        let now = Timestamp::now();
        match answer {
            Ok(PageFetch::Page { page, etag }) => {
                let body = serde_json::to_string(&page)
                    .map_err(|e| ProxyError::Internal(e.to_string()))?;
                self.repo
                    .store_page(&CachedPage {
                        ecosystem: PYPI.into(),
                        name: name.into(),
                        body: Some(body),
                        etag,
                        fetched_at: now,
                    })
                    .await?;
                // What the page listed may have changed: render it again.
                self.pages.invalidate(name);
                Ok(self.remember(
                    name,
                    Remembered {
                        known: Known::Page(Arc::new(page)),
                        fetched_at: now,
                        stale_until: None,
                    },
                ))
            }
            Ok(PageFetch::NotModified) => {
                let Some((known, _)) = stored else {
                    return Err(ProxyError::Internal(
                        "upstream answered 304 to a request without an ETag".into(),
                    ));
                };
                self.repo.touch_page(PYPI, name, now).await?;
                Ok(self.remember(
                    name,
                    Remembered {
                        known,
                        fetched_at: now,
                        stale_until: None,
                    },
                ))
            }
            Ok(PageFetch::NotFound) => {
                // Stored only over a page upstream had before, so that names
                // a client made up never fill the database; this process
                // remembers the rest for `not_found_ttl`.
                if stored.is_some() {
                    self.repo
                        .store_page(&CachedPage {
                            ecosystem: PYPI.into(),
                            name: name.into(),
                            body: None,
                            etag: None,
                            fetched_at: now,
                        })
                        .await?;
                }
                Ok(self.remember(
                    name,
                    Remembered {
                        known: Known::Missing,
                        fetched_at: now,
                        stale_until: None,
                    },
                ))
            }
            Err(error) => {
                ProxyMetrics::add(&self.counters().upstream_errors, 1);
                tracing::warn!(project = name, %error, "upstream page unavailable");
                match stored {
                    // An older copy is better than nothing, marked as such.
                    Some((known, page)) => {
                        ProxyMetrics::add(&self.counters().page_stale, 1);
                        Ok(self.remember(
                            name,
                            Remembered {
                                known,
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

    fn remember(&self, name: &str, r: Remembered) -> Remembered {
        let mut known = self.known.lock().expect("known lock");
        // Bounded: past the cap it starts over, which costs a database read per name.
        if known.len() >= MAX_REMEMBERED && !known.contains_key(name) {
            known.clear();
        }
        known.insert(name.to_owned(), r.clone());
        r
    }

    /// Proxied files of `name` held here, with why.
    async fn held_here(&self, name: &str) -> Result<HashMap<String, String>, ProxyError> {
        let Ok(project) = NormalizedName::parse(name) else {
            return Ok(HashMap::new());
        };
        let Some(listing) = self.projects.listing(&project).await? else {
            return Ok(HashMap::new());
        };
        Ok(listing
            .files
            .into_iter()
            .filter(|f| matches!(f.status, FileStatus::Quarantined | FileStatus::Rejected))
            .map(|f| {
                let why = format!(
                    "{} here after its checks; the report is at {}",
                    f.status.as_str(),
                    report_path(&f)
                );
                (f.filename, why)
            })
            .collect())
    }

    // ----- files -----

    /// The stored record of `entry`, fetching and checking it first if no
    /// instance has yet; one fetch per file at a time in this process.
    async fn fetch_once(
        self: &Arc<Self>,
        name: String,
        entry: UpstreamFile,
    ) -> Result<Arc<FileRecord>, ProxyError> {
        if let Some(record) = self.files.find_file(&entry.filename).await? {
            if record.sha256 != entry.sha256 {
                return Err(ProxyError::HashMismatch {
                    filename: entry.filename,
                    expected: entry.sha256,
                    actual: record.sha256,
                });
            }
            ProxyMetrics::add(&self.counters().file_hits, 1);
            return Ok(Arc::new(record));
        }
        let filename = entry.filename.clone();
        let flight = {
            let mut flights = self.file_flights.lock().expect("flights lock");
            flights
                .entry(filename.clone())
                .or_insert_with(|| {
                    let this = self.clone();
                    let filename = filename.clone();
                    spawn_shared(async move {
                        let result = this.fetch_and_check(&name, &entry).await.map(Arc::new);
                        this.file_flights
                            .lock()
                            .expect("flights lock")
                            .remove(&filename);
                        result
                    })
                })
                .clone()
        };
        match tokio::time::timeout(self.settings.scan_wait, flight).await {
            Ok(result) => result,
            Err(_) => Err(ProxyError::StillChecking { filename }),
        }
    }

    async fn fetch_and_check(
        &self,
        name: &str,
        entry: &UpstreamFile,
    ) -> Result<FileRecord, ProxyError> {
        let project = NormalizedName::from_normalized(name.to_owned());
        let dist = DistFilename::parse(&entry.filename, &project)
            .map_err(|e| ProxyError::Internal(e.message))?;
        ProxyMetrics::add(&self.counters().file_fetches, 1);
        let staged = self.stage(entry).await?;
        if staged.sha256 != entry.sha256 {
            ProxyMetrics::add(&self.counters().hash_mismatches, 1);
            let event = NewAuditEvent::new(audit::PROXY_HASH_MISMATCH, format!("project:{name}")).detail(
                serde_json::json!({ "filename": entry.filename, "expected": entry.sha256, "actual": staged.sha256 })
                    .to_string(),
            );
            self.audit.record(event).await?;
            return Err(ProxyError::HashMismatch {
                filename: entry.filename.clone(),
                expected: entry.sha256.clone(),
                actual: staged.sha256,
            });
        }
        if staged.size == 0 {
            return Err(ProxyError::BadUpstream(UpstreamError::Invalid {
                registry: "pypi",
                reason: format!("'{}' is empty", entry.filename),
            }));
        }
        self.blobs.prepare_file(staged.file.path());
        // Scanned under a slot shared with uploads, so a burst of first
        // downloads cannot run more scans at once than verification.workers.
        let permit = self
            .scan_slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| ProxyError::Internal(e.to_string()))?;
        let parsed = read_archive(&staged, dist.kind, Limits::default(), true).await;
        drop(permit);
        let parsed = match parsed {
            Ok(parsed) => parsed,
            Err(error) => return Err(self.refused(name, &entry.filename, error).await),
        };
        if let Err(error) = check_metadata(&parsed.metadata, &project, &dist, &entry.filename)
            .and_then(|()| check_layout(&parsed.layout_dir, &project, &dist, dist.kind))
        {
            return Err(self.refused(name, &entry.filename, error).await);
        }
        let mut report = parsed
            .report
            .ok_or_else(|| ProxyError::Internal("the archive was read without its scan".into()))?;
        // A look-alike of a popular name is as suspect upstream as here.
        report.findings.extend(wharf_scan::scan_name(
            name,
            &NameContext {
                popular: PopularNames::bundled(Ecosystem::Pypi),
                local: &[],
            },
        ));
        crate::services::verify::remember_prior(
            self.verification.as_ref(),
            name,
            dist.version.canonical(),
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
            audit: crate::services::verify::verdict_event(
                &entry.filename,
                name,
                &report,
                status,
                "",
            ),
        };

        let metadata_sha256 = parsed
            .metadata_file
            .as_ref()
            .map(|bytes| hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes)));
        if let (Some(sha), Some(bytes)) = (&metadata_sha256, parsed.metadata_file) {
            self.blobs
                .put_bytes(&BlobKey::for_sha256(sha), bytes)
                .await?;
        }
        let staged_path = staged.file.path().to_owned();
        self.blobs
            .put_file(&BlobKey::for_sha256(&staged.sha256), &staged_path)
            .await?;
        let crate::services::staging::StagedContent {
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
        let now = Timestamp::now();
        let upload = NewUpload {
            project_name: name.to_owned(),
            normalized: project.clone(),
            version: dist.version.canonical().to_owned(),
            summary: parsed.metadata.summary.clone(),
            filename: entry.filename.clone(),
            kind: dist.kind,
            python_tag: dist.python_tag.clone(),
            size: size as i64,
            sha256: sha256.clone(),
            blake2_256,
            md5,
            requires_python: parsed
                .metadata
                .requires_python
                .clone()
                .filter(|s| !s.trim().is_empty()),
            metadata_sha256,
            status,
            uploader_id,
            token_id: None,
            uploaded_at: now,
            origin: Origin::Proxy,
            audit: NewAuditEvent::new(audit::PROXY_FETCH, format!("project:{name}")).detail(
                serde_json::json!({ "filename": entry.filename, "sha256": sha256, "size": size })
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
                    "'{}' is stored with other bytes",
                    entry.filename
                )))
            }
        };
        if record.status != FileStatus::Published {
            ProxyMetrics::add(&self.counters().quarantined, 1);
        }
        self.metrics.count_verdict(record.status);
        self.pages.invalidate(name);
        self.file_index.invalidate_project(record.project_id);
        tracing::info!(file = %record.filename, status = record.status.as_str(), "proxied file checked");
        Ok(record)
    }

    /// Streams a file from upstream to staging, within the size cap.
    async fn stage(
        &self,
        entry: &UpstreamFile,
    ) -> Result<crate::services::staging::StagedContent, ProxyError> {
        let limit = self.settings.max_file_bytes;
        let too_large = || {
            ProxyError::BadUpstream(UpstreamError::Invalid {
                registry: "pypi",
                reason: format!(
                    "'{}' is larger than proxy.pypi.max_file_bytes ({limit} bytes)",
                    entry.filename
                ),
            })
        };
        if entry.size.is_some_and(|n| n > limit) {
            return Err(too_large());
        }
        let started = Instant::now();
        let mut download = self.upstream.download(&entry.url).await.inspect_err(|_| {
            ProxyMetrics::add(&self.counters().upstream_errors, 1);
        })?;
        if download.content_length().is_some_and(|n| n > limit) {
            return Err(too_large());
        }
        let staging_error = |e: StageError| match e {
            StageError::TooLarge { .. } => too_large(),
            StageError::Io(e) => ProxyError::Internal(format!("staging '{}': {e}", entry.filename)),
        };
        let mut stager = Stager::create(&self.tmp_dir, &entry.filename, limit)
            .await
            .map_err(staging_error)?;
        while let Some(chunk) = download.chunk().await.inspect_err(|_| {
            ProxyMetrics::add(&self.counters().upstream_errors, 1);
        })? {
            stager.write(&chunk).await.map_err(staging_error)?;
        }
        self.counters().upstream_took(started.elapsed());
        stager.finish().await.map_err(staging_error)
    }

    /// A fetched file refused by the archive checks: audited, not stored.
    async fn refused(&self, name: &str, filename: &str, error: ArchiveError) -> ProxyError {
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

    /// The PEP 658 metadata file of `entry`, fetched on first request and
    /// stored under its SHA-256; `None` if upstream has none.
    async fn metadata(&self, entry: &UpstreamFile) -> Result<Option<String>, ProxyError> {
        let Some(sha) = &entry.core_metadata_sha256 else {
            return Ok(None);
        };
        let key = BlobKey::for_sha256(sha);
        if self.blobs.exists(&key).await? {
            return Ok(Some(sha.clone()));
        }
        let mut download = self
            .upstream
            .download(&format!("{}.metadata", entry.url))
            .await?;
        let mut bytes = Vec::new();
        while let Some(chunk) = download.chunk().await? {
            if bytes.len() as u64 + chunk.len() as u64 > MAX_METADATA_BYTES {
                return Err(ProxyError::BadUpstream(UpstreamError::Invalid {
                    registry: "pypi",
                    reason: format!("the metadata file of '{}' is too large", entry.filename),
                }));
            }
            bytes.extend_from_slice(&chunk);
        }
        let actual = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
        if &actual != sha {
            ProxyMetrics::add(&self.counters().hash_mismatches, 1);
            return Err(ProxyError::HashMismatch {
                filename: format!("{}.metadata", entry.filename),
                expected: sha.clone(),
                actual,
            });
        }
        self.blobs.put_bytes(&key, bytes).await?;
        Ok(Some(sha.clone()))
    }
}

/// Runs `future` on its own task, so it completes even if every request
/// waiting for it goes away, and lets any number of requests await it.
fn spawn_shared<T: Clone + Send + Sync + 'static>(
    future: impl std::future::Future<Output = Result<T, ProxyError>> + Send + 'static,
) -> Flight<T> {
    let task = tokio::spawn(future);
    async move {
        task.await
            .unwrap_or_else(|e| Err(ProxyError::Internal(format!("the fetch stopped: {e}"))))
    }
    .boxed()
    .shared()
}

fn stored_known(page: &CachedPage) -> Result<Known, ProxyError> {
    match &page.body {
        None => Ok(Known::Missing),
        Some(body) => serde_json::from_str(body)
            .map(|p| Known::Page(Arc::new(p)))
            .map_err(|e| {
                ProxyError::Internal(format!(
                    "the stored page of '{}' is unreadable: {e}",
                    page.name
                ))
            }),
    }
}

/// Where owners and administrators read a file's verification report.
fn report_path(record: &FileRecord) -> String {
    format!(
        "/api/v1/projects/{}/releases/{}/files/{}/report",
        project_of(&record.filename).unwrap_or_default(),
        record.version,
        wharf_core::uri::encode_path_segment(&record.filename)
    )
}

/// The normalized project name a distribution's filename starts with: a
/// wheel's first field, or an sdist's name before its last `-`.
pub fn project_of(filename: &str) -> Option<String> {
    let stem = if let Some(wheel) = filename.strip_suffix(".whl") {
        wheel.split('-').next()?
    } else {
        filename.strip_suffix(".tar.gz")?.rsplit_once('-')?.0
    };
    (!stem.is_empty()).then(|| normalize(stem))
}

/// An RFC 3339 time as upstream writes it (`2024-01-02T03:04:05.123456Z`).
fn parse_rfc3339(raw: &str) -> Option<Timestamp> {
    let t =
        humantime::parse_rfc3339_weak(raw.trim_end_matches('Z').trim_end_matches("+00:00")).ok()?;
    Some(Timestamp::from_system(t))
}

/// The PEP 691 page of a proxied project, in the same shape as a local one.
pub fn simple_json(page: &ProxiedPage) -> pages::SimpleProject {
    let mut versions: Vec<String> = Vec::new();
    let files = page
        .files
        .iter()
        .map(|f| {
            let project = NormalizedName::from_normalized(page.name.clone());
            if let Ok(dist) = DistFilename::parse(&f.filename, &project) {
                let v = dist.version.canonical().to_owned();
                if versions.last() != Some(&v) {
                    versions.push(v);
                }
            }
            let metadata = match &f.core_metadata_sha256 {
                Some(sha) => pages::MetadataFile::Hashes(pages::Hashes {
                    sha256: sha.clone(),
                }),
                None => pages::MetadataFile::Absent(false),
            };
            pages::SimpleFile {
                filename: f.filename.clone(),
                url: format!(
                    "/files/{}/{}",
                    f.sha256,
                    wharf_core::uri::encode_path_segment(&f.filename)
                ),
                hashes: pages::Hashes {
                    sha256: f.sha256.clone(),
                },
                size: f.size.map(|n| n as i64),
                upload_time: f.upload_time.clone(),
                yanked: match &f.yanked {
                    Some(reason) => pages::Yanked::Reason(reason.clone()),
                    None => pages::Yanked::No(false),
                },
                core_metadata: metadata.clone(),
                dist_info_metadata: metadata,
                requires_python: f.requires_python.clone(),
            }
        })
        .collect();
    pages::SimpleProject {
        meta: pages::SimpleMeta {
            api_version: pages::API_VERSION,
        },
        name: page.name.clone(),
        project_status: pages::ProjectStatus { status: "active" },
        versions,
        files,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_names_come_from_file_names() {
        assert_eq!(
            project_of("Requests-2.0-py3-none-any.whl").as_deref(),
            Some("requests")
        );
        assert_eq!(
            project_of("python-dateutil-2.8.2.tar.gz").as_deref(),
            Some("python-dateutil")
        );
        assert_eq!(
            project_of("zope.interface-6.0.tar.gz").as_deref(),
            Some("zope-interface")
        );
        assert_eq!(project_of("x.zip"), None);
        assert_eq!(project_of("-1.0.tar.gz"), None);
    }

    #[test]
    fn upload_times_parse_as_pep_700_writes_them() {
        let t = parse_rfc3339("2024-01-02T03:04:05.123456Z").unwrap();
        assert_eq!(t.to_rfc3339_micros(), "2024-01-02T03:04:05.123456Z");
        assert!(parse_rfc3339("yesterday").is_none());
    }
}
