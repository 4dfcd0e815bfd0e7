//! The PyPI side of the proxy core: an upstream simple index.
//!
//! A name hosted here is never looked up upstream: [`Index`](crate::services::index::Index)
//! asks the proxy only about names with no local project. Upstream pages are
//! filtered (deny and allow-only rules, the release cooldown by PEP 700
//! `upload-time`, files held here); file URLs point at Wharf, and upstream's
//! SHA-256 is kept. A file is fetched on its first download, checked
//! against that SHA-256, read and scanned like an upload. PEP 658 metadata
//! files are fetched on their first request and stored under their SHA-256.

use super::{CoreParts, Fetched, Flights, Hold, PageSource, Pages, ProxyCore, ProxyError};
use crate::cache::FileCache;
use crate::config::proxy::ProxySettings;
use crate::metrics::ProxyMetrics;
use crate::pages::{self, HeldBack};
use crate::services::archive::{check_layout, check_metadata, read_archive};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use wharf_artifact::Limits;
use wharf_core::model::{FileRecord, FileStatus, Origin};
use wharf_core::name::normalize;
use wharf_core::ports::{BlobKey, BlobStore, ProjectRepo};
use wharf_core::proxy::{RuleKind, Spec, SpecVersion, PYPI};
use wharf_core::{DistFilename, NormalizedName, Timestamp, Version};
use wharf_scan::names::Ecosystem;
use wharf_scan::{NameContext, PopularNames};
use wharf_upstream::simple::{PageFetch, SimpleIndex, SimpleSettings, UpstreamFile, UpstreamPage};
use wharf_upstream::UpstreamError;

/// Largest PEP 658 metadata file proxied.
const MAX_METADATA_BYTES: u64 = 16 * 1024 * 1024;

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

/// A proxied download.
pub enum ProxyDownload {
    /// The distribution, fetched and published.
    File(Arc<FileRecord>),
    /// A PEP 658 metadata file, stored under its SHA-256.
    Metadata { sha256: String },
}

/// The PyPI proxy service.
pub struct PypiProxy {
    core: Arc<ProxyCore>,
    upstream: Arc<SimpleIndex>,
    pages: Arc<Pages<UpstreamPage>>,
    projects: Arc<dyn ProjectRepo>,
    blobs: Arc<dyn BlobStore>,
    file_index: Arc<FileCache>,
    file_flights: Flights<Arc<FileRecord>>,
}

#[async_trait::async_trait]
impl PageSource<UpstreamPage> for SimpleIndex {
    async fn fetch(
        &self,
        name: &str,
        etag: Option<&str>,
    ) -> Result<PageFetch<UpstreamPage>, UpstreamError> {
        self.page(name, etag).await
    }
}

/// What the proxy service needs, from the application's wiring.
pub struct PypiProxyParts {
    pub core: CoreParts,
    pub projects: Arc<dyn ProjectRepo>,
    pub file_index: Arc<FileCache>,
}

impl PypiProxy {
    pub fn new(parts: PypiProxyParts) -> Result<Arc<Self>, UpstreamError> {
        let s = &parts.core.settings;
        let upstream = SimpleIndex::new(SimpleSettings {
            index_url: s.upstream.clone(),
            file_origins: s.file_origins.clone(),
            timeout: s.timeout,
            file_timeout: s.file_timeout,
            max_page_bytes: usize::try_from(s.max_page_bytes).unwrap_or(usize::MAX),
        })?;
        let blobs = parts.core.blobs.clone();
        let core = Arc::new(ProxyCore::new(PYPI, parts.core));
        let upstream = Arc::new(upstream);
        Ok(Arc::new(Self {
            pages: Arc::new(Pages::new(core.clone(), upstream.clone())),
            core,
            upstream,
            projects: parts.projects,
            blobs,
            file_index: parts.file_index,
            file_flights: Flights::default(),
        }))
    }

    pub fn settings(&self) -> &ProxySettings {
        &self.core.settings
    }

    /// The policy and storage side, shared with the npm proxy.
    pub fn core(&self) -> &ProxyCore {
        &self.core
    }

    fn counters(&self) -> &ProxyMetrics {
        self.core.counters()
    }

    /// The filtered page of `name` (normalized, not hosted here); `None` if
    /// upstream has no such project or the allow-only list leaves it out.
    pub async fn page(self: &Arc<Self>, name: &str) -> Result<Option<ProxiedPage>, ProxyError> {
        // Only a name that could be a project is ever asked about.
        if NormalizedName::parse(name).is_err() {
            return Ok(None);
        }
        let core = &self.core;
        let rules = core.rules().await?;
        if let Some(denied) = core.denied_by(&rules, name, None) {
            ProxyMetrics::add(&self.counters().denied, 1);
            return Err(denied);
        }
        if !core.allowed(&rules, name) {
            ProxyMetrics::add(&self.counters().denied, 1);
            return Ok(None);
        }
        let remembered = self.pages.get(name).await?;
        let Some(page) = &remembered.page else {
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
            let hold = self.core.hold(
                &rules,
                name,
                &SpecVersion::Pep440(version.clone()),
                held_here.get(&file.filename),
                file.upload_time.as_deref(),
                now,
            );
            match hold {
                Some(hold) => held_back.push(HeldBack {
                    filename: file.filename.clone(),
                    version: version.canonical().to_owned(),
                    reason: hold.reason(),
                    detail: hold.detail().to_owned(),
                }),
                None => visible.push((version, file.clone())),
            }
        }
        visible.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.filename.cmp(&b.1.filename)));
        Ok(Some(ProxiedPage {
            name: name.to_owned(),
            files: visible.into_iter().map(|(_, f)| f).collect(),
            held_back,
            stale_for: remembered.stale_for(now),
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
            return Err(Hold::of(held).into_error(dist_name));
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
        let at = format!("the report is at {}", report_path(record));
        self.core.why_held(record, &at).await
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
        if self.pages.is_known_upstream(project.as_str()).await?
            || PopularNames::bundled(Ecosystem::Pypi).contains(project.as_str())
        {
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
        let rules = self.core.rules().await?;
        let version = Version::parse(version).ok().map(SpecVersion::Pep440);
        Ok(self.core.denied_by(&rules, &name, version.as_ref()))
    }

    /// Checks a rule as an administrator asked for it.
    pub fn check_rule(kind: RuleKind, spec: &str, reason: &str) -> Result<Spec, ProxyError> {
        ProxyCore::check_rule(PYPI, kind, spec, reason)
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
        if let Some(record) = self
            .core
            .stored(&entry.filename, Some(&entry.sha256))
            .await?
        {
            return Ok(Arc::new(record));
        }
        let filename = entry.filename.clone();
        let this = self.clone();
        let flight = self.file_flights.join(&filename, move || async move {
            this.fetch_and_check(&name, &entry).await.map(Arc::new)
        });
        self.core.wait_for(flight, &filename).await
    }

    async fn fetch_and_check(
        &self,
        name: &str,
        entry: &UpstreamFile,
    ) -> Result<FileRecord, ProxyError> {
        let core = &self.core;
        let project = NormalizedName::from_normalized(name.to_owned());
        let dist = DistFilename::parse(&entry.filename, &project)
            .map_err(|e| ProxyError::Internal(e.message))?;
        ProxyMetrics::add(&self.counters().file_fetches, 1);
        if entry.size.is_some_and(|n| n > core.settings.max_file_bytes) {
            return Err(ProxyError::BadUpstream(UpstreamError::Invalid {
                registry: PYPI,
                reason: format!(
                    "'{}' is larger than proxy.pypi.max_file_bytes ({} bytes)",
                    entry.filename, core.settings.max_file_bytes
                ),
            }));
        }
        let download = self.upstream.download(&entry.url).await.inspect_err(|_| {
            ProxyMetrics::add(&self.counters().upstream_errors, 1);
        })?;
        let staged = core.stage(download, &entry.filename, |_| {}).await?;
        if staged.sha256 != entry.sha256 {
            return Err(core
                .hash_mismatch(
                    name,
                    &entry.filename,
                    "SHA-256",
                    &entry.sha256,
                    &staged.sha256,
                )
                .await);
        }
        let permit = core.scan_slot().await?;
        let parsed = read_archive(&staged, dist.kind, Limits::default(), true).await;
        drop(permit);
        let parsed = match parsed {
            Ok(parsed) => parsed,
            Err(error) => return Err(core.refused(name, &entry.filename, error).await),
        };
        if let Err(error) = check_metadata(&parsed.metadata, &project, &dist, &entry.filename)
            .and_then(|()| check_layout(&parsed.layout_dir, &project, &dist, dist.kind))
        {
            return Err(core.refused(name, &entry.filename, error).await);
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
        let metadata_sha256 = parsed
            .metadata_file
            .as_ref()
            .map(|bytes| hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes)));
        if let (Some(sha), Some(bytes)) = (&metadata_sha256, parsed.metadata_file) {
            self.blobs
                .put_bytes(&BlobKey::for_sha256(sha), bytes)
                .await?;
        }
        let record = core
            .record(Fetched {
                name: name.to_owned(),
                project_key: name.to_owned(),
                version: dist.version.canonical().to_owned(),
                summary: parsed.metadata.summary.clone(),
                filename: entry.filename.clone(),
                kind: dist.kind,
                python_tag: dist.python_tag.clone(),
                requires_python: parsed
                    .metadata
                    .requires_python
                    .clone()
                    .filter(|s| !s.trim().is_empty()),
                metadata_sha256,
                staged,
                report,
            })
            .await?;
        self.file_index.invalidate_project(record.project_id);
        Ok(record)
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
                    registry: PYPI,
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
                digest: "SHA-256",
                expected: sha.clone(),
                actual,
            });
        }
        self.blobs.put_bytes(&key, bytes).await?;
        Ok(Some(sha.clone()))
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
}
