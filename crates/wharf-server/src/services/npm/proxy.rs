//! The npm side of the proxy core: an upstream npm registry.
//!
//! [`Npm`](super::Npm) asks the proxy only about names that are not hosted
//! here and whose scope is not hosted here. A packument is filtered like a
//! PyPI page: deny and allow-only rules, the release cooldown by the
//! packument's `time`, and versions held here; a `latest` tag that points at
//! a version left out is moved to the newest one served. Tarball URLs point
//! at Wharf. A tarball is fetched on its first download, once, checked
//! against upstream's SHA-512 integrity (or its SHA-1 `shasum` when that is
//! all it has), read strictly and scanned like a published one.

use super::packument::{resolve_tags, AbbreviatedPackument, Dist, Packument, ABBREVIATED_FIELDS};
use crate::pages::HeldBack;
use crate::services::archive::{read_npm, ArchiveError};
use crate::services::proxy::{
    CoreParts, Fetched, Flights, Hold, PageSource, Pages, ProxyCore, ProxyError,
};
use sha2::Digest;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;
use wharf_artifact::Limits;
use wharf_core::model::{FileRecord, FileStatus};
use wharf_core::npm::{NpmVersion, PackageName};
use wharf_core::ports::ProjectRepo;
use wharf_core::proxy::{SpecVersion, NPM};
use wharf_core::{DistKind, NormalizedName, Timestamp};
use wharf_scan::names::Ecosystem;
use wharf_scan::{NameContext, PopularNames};
use wharf_upstream::index_client::PageFetch;
use wharf_upstream::npm_registry::{
    NpmRegistry, NpmRegistrySettings, UpstreamNpmVersion, UpstreamPackument,
};
use wharf_upstream::UpstreamError;

/// What the npm proxy needs, from the application's wiring.
pub struct NpmProxyParts {
    pub core: CoreParts,
    pub projects: Arc<dyn ProjectRepo>,
}

/// A proxied packument, filtered.
#[derive(Debug, Clone)]
pub struct ProxiedPackument {
    pub upstream: Arc<UpstreamPackument>,
    /// What may be installed, in SemVer order.
    pub visible: Vec<NpmVersion>,
    pub dist_tags: BTreeMap<String, String>,
    /// What is left out, and why.
    pub held_back: Vec<HeldBack>,
    /// Set when upstream could not be reached and an older copy is served.
    pub stale_for: Option<Duration>,
}

impl ProxiedPackument {
    fn version(&self, version: &str) -> Option<&UpstreamNpmVersion> {
        self.visible
            .iter()
            .any(|v| v.as_str() == version)
            .then(|| self.upstream.versions.get(version))
            .flatten()
    }

    /// The full packument, with tarballs under `registry_url`.
    pub fn full(&self, registry_url: &str) -> Packument {
        let mut time = BTreeMap::new();
        for (key, value) in [
            ("created", &self.upstream.created),
            ("modified", &self.upstream.modified),
        ] {
            if let Some(value) = value {
                time.insert(key.to_owned(), value.clone());
            }
        }
        for v in &self.visible {
            if let Some(published) = self.version(v.as_str()).and_then(|u| u.published.clone()) {
                time.insert(v.as_str().to_owned(), published);
            }
        }
        Packument {
            id: self.upstream.name.clone(),
            rev: format!("1-{}", self.visible.len()),
            name: self.upstream.name.clone(),
            dist_tags: self.dist_tags.clone(),
            versions: self
                .visible
                .iter()
                .filter_map(|v| {
                    Some((
                        v.as_str().to_owned(),
                        self.document(v.as_str(), registry_url)?,
                    ))
                })
                .collect(),
            time,
            maintainers: Vec::new(),
            description: self.upstream.description.clone(),
            readme: None,
        }
    }

    /// The abbreviated packument, with tarballs under `registry_url`.
    pub fn abbreviated(&self, registry_url: &str) -> AbbreviatedPackument {
        AbbreviatedPackument {
            name: self.upstream.name.clone(),
            modified: self.upstream.modified.clone().unwrap_or_default(),
            dist_tags: self.dist_tags.clone(),
            versions: self
                .visible
                .iter()
                .filter_map(|v| {
                    let serde_json::Value::Object(full) =
                        self.document(v.as_str(), registry_url)?
                    else {
                        return None;
                    };
                    let kept = full
                        .into_iter()
                        .filter(|(k, _)| ABBREVIATED_FIELDS.contains(&k.as_str()))
                        .collect();
                    Some((v.as_str().to_owned(), serde_json::Value::Object(kept)))
                })
                .collect(),
        }
    }

    /// One visible version's document.
    pub fn document(&self, version: &str, registry_url: &str) -> Option<serde_json::Value> {
        let upstream = self.version(version)?;
        let name = &self.upstream.name;
        let mut doc = upstream.manifest.clone();
        doc.insert(
            "_id".into(),
            serde_json::Value::String(format!("{name}@{version}")),
        );
        let basename = name.rsplit('/').next().unwrap_or_default();
        let dist = Dist {
            integrity: upstream.integrity.clone(),
            shasum: upstream.shasum.clone(),
            tarball: format!("{registry_url}/{name}/-/{basename}-{version}.tgz"),
        };
        doc.insert(
            "dist".into(),
            serde_json::to_value(dist).unwrap_or(serde_json::Value::Null),
        );
        Some(serde_json::Value::Object(doc))
    }
}

#[async_trait::async_trait]
impl PageSource<UpstreamPackument> for NpmRegistry {
    async fn fetch(
        &self,
        name: &str,
        etag: Option<&str>,
    ) -> Result<PageFetch<UpstreamPackument>, UpstreamError> {
        let name = PackageName::parse(name).map_err(|e| UpstreamError::Invalid {
            registry: NPM,
            reason: e.message,
        })?;
        self.packument(&name, etag).await
    }
}

/// The npm proxy service.
pub struct NpmProxy {
    core: Arc<ProxyCore>,
    upstream: Arc<NpmRegistry>,
    pages: Arc<Pages<UpstreamPackument>>,
    projects: Arc<dyn ProjectRepo>,
    file_flights: Flights<Arc<FileRecord>>,
}

impl NpmProxy {
    pub fn new(parts: NpmProxyParts) -> Result<Arc<Self>, UpstreamError> {
        let s = &parts.core.settings;
        let upstream = Arc::new(NpmRegistry::new(NpmRegistrySettings {
            index_url: s.upstream.clone(),
            file_origins: s.file_origins.clone(),
            timeout: s.timeout,
            file_timeout: s.file_timeout,
            max_page_bytes: usize::try_from(s.max_page_bytes).unwrap_or(usize::MAX),
        })?);
        let core = Arc::new(ProxyCore::new(NPM, parts.core));
        Ok(Arc::new(Self {
            pages: Arc::new(Pages::new(core.clone(), upstream.clone())),
            core,
            upstream,
            projects: parts.projects,
            file_flights: Flights::default(),
        }))
    }

    /// The policy and storage side, shared with the PyPI proxy.
    pub fn core(&self) -> &ProxyCore {
        &self.core
    }

    /// The filtered packument of `name` (not hosted here); `None` if upstream
    /// has no such package or the allow-only list leaves it out.
    pub async fn packument(
        self: &Arc<Self>,
        name: &PackageName,
    ) -> Result<Option<ProxiedPackument>, ProxyError> {
        let core = &self.core;
        let counters = core.counters();
        let rules = core.rules().await?;
        if let Some(denied) = core.denied_by(&rules, name.as_str(), None) {
            crate::metrics::ProxyMetrics::add(&counters.denied, 1);
            return Err(denied);
        }
        if !core.allowed(&rules, name.as_str()) {
            crate::metrics::ProxyMetrics::add(&counters.denied, 1);
            return Ok(None);
        }
        let remembered = self.pages.get(name.as_str()).await?;
        let Some(upstream) = remembered.page.clone() else {
            return Ok(None);
        };
        let held_here = self.held_here(name).await?;
        let now = Timestamp::now();
        let mut visible = Vec::new();
        let mut held_back = Vec::new();
        for (version, entry) in &upstream.versions {
            let Ok(parsed) = NpmVersion::parse(version) else {
                continue;
            };
            let hold = core.hold(
                &rules,
                name.as_str(),
                &SpecVersion::Npm(parsed.clone()),
                held_here.get(&name.file_key(&parsed)),
                entry.published.as_deref(),
                now,
            );
            match hold {
                Some(hold) => held_back.push(HeldBack {
                    filename: name.tarball_name(&parsed),
                    version: version.clone(),
                    reason: hold.reason(),
                    detail: hold.detail().to_owned(),
                }),
                None => visible.push(parsed),
            }
        }
        visible.sort();
        let upstream_tags: Vec<(String, String)> = upstream
            .dist_tags
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let dist_tags = resolve_tags(&upstream_tags, &visible);
        Ok(Some(ProxiedPackument {
            upstream,
            visible,
            dist_tags,
            held_back,
            stale_for: remembered.stale_for(now),
        }))
    }

    /// The stored record of tarball `file` of `name`, fetched and checked
    /// first if no instance has yet. `None` when no visible version has it.
    pub async fn tarball(
        self: &Arc<Self>,
        name: &PackageName,
        file: &str,
    ) -> Result<Option<FileRecord>, ProxyError> {
        let Some(packument) = self.packument(name).await? else {
            return Ok(None);
        };
        if let Some(held) = packument
            .held_back
            .iter()
            .find(|h| name.tarball_name_str(&h.version) == file)
        {
            return Err(Hold::of(held).into_error(file));
        }
        let Some(version) = packument
            .visible
            .iter()
            .find(|v| name.tarball_name(v) == file)
            .cloned()
        else {
            return Ok(None);
        };
        let Some(entry) = packument.upstream.versions.get(version.as_str()).cloned() else {
            return Ok(None);
        };
        let filename = name.file_key(&version);
        let record = match self.core.stored(&filename, None).await? {
            Some(record) => Arc::new(record),
            None => {
                let this = self.clone();
                let name = name.clone();
                let flight = self.file_flights.join(&filename, move || async move {
                    this.fetch_and_check(&name, &version, &entry)
                        .await
                        .map(Arc::new)
                });
                self.core.wait_for(flight, &filename).await?
            }
        };
        if record.status == FileStatus::Published {
            return Ok(Some((*record).clone()));
        }
        Err(self.core.why_held(&record, REVIEW).await)
    }

    /// Whether `name` was seen upstream (a packument of it is stored), without asking.
    pub async fn is_known_upstream(&self, name: &PackageName) -> Result<bool, ProxyError> {
        self.pages.is_known_upstream(name.as_str()).await
    }

    /// Proxied tarballs of `name` held here, with why.
    async fn held_here(&self, name: &PackageName) -> Result<HashMap<String, String>, ProxyError> {
        let key = NormalizedName::from_normalized(name.project_key());
        let Some(listing) = self.projects.listing(&key).await? else {
            return Ok(HashMap::new());
        };
        Ok(listing
            .files
            .into_iter()
            .filter(|f| matches!(f.status, FileStatus::Quarantined | FileStatus::Rejected))
            .map(|f| {
                let why = format!("{} here after its checks; {REVIEW}", f.status.as_str());
                (f.filename, why)
            })
            .collect())
    }

    async fn fetch_and_check(
        &self,
        name: &PackageName,
        version: &NpmVersion,
        entry: &UpstreamNpmVersion,
    ) -> Result<FileRecord, ProxyError> {
        let core = &self.core;
        let filename = name.file_key(version);
        crate::metrics::ProxyMetrics::add(&core.counters().file_fetches, 1);
        let download = self
            .upstream
            .download(&entry.tarball)
            .await
            .inspect_err(|_| {
                crate::metrics::ProxyMetrics::add(&core.counters().upstream_errors, 1);
            })?;
        let mut sha512 = sha2::Sha512::new();
        let mut sha1 = sha1::Sha1::new();
        let staged = core
            .stage(download, &filename, |chunk| {
                sha512.update(chunk);
                sha1.update(chunk);
            })
            .await?;
        let sha512 = sha512.finalize();
        let sha1 = hex::encode(sha1.finalize());
        let mismatch = match (entry.sha512(), &entry.shasum) {
            (Some(expected), _) if expected.as_slice() != sha512.as_slice() => Some((
                "SHA-512",
                entry.integrity.clone().unwrap_or_default(),
                integrity(&sha512),
            )),
            (None, Some(expected)) if *expected != sha1 => {
                Some(("SHA-1", expected.clone(), sha1.clone()))
            }
            (None, None) => Some(("SHA-512", String::new(), integrity(&sha512))),
            _ => None,
        };
        if let Some((digest, expected, actual)) = mismatch {
            return Err(core
                .hash_mismatch(name.as_str(), &filename, digest, &expected, &actual)
                .await);
        }
        let permit = core.scan_slot().await?;
        let read = read_npm(&staged, Limits::default()).await;
        drop(permit);
        let (mut report, info) = match read {
            Ok(read) => read,
            Err(error) => return Err(core.refused(name.as_str(), &filename, error).await),
        };
        if let Err(message) = check_package_json(&info.package_json, name, version) {
            let error = ArchiveError::Refused {
                code: "npm.package-json-mismatch",
                message,
            };
            return Err(core.refused(name.as_str(), &filename, error).await);
        }
        // A look-alike of a popular name is as suspect upstream as here.
        report.findings.extend(wharf_scan::scan_name(
            name.as_str(),
            &NameContext {
                popular: PopularNames::bundled(Ecosystem::Npm),
                local: &[],
            },
        ));
        core.record(Fetched {
            name: name.as_str().to_owned(),
            project_key: name.project_key(),
            version: version.as_str().to_owned(),
            summary: None,
            filename,
            kind: DistKind::NpmTarball,
            python_tag: String::new(),
            requires_python: None,
            metadata_sha256: None,
            staged,
            report,
        })
        .await
    }
}

/// Where a held proxied tarball's report is read.
const REVIEW: &str =
    "an administrator sees its report in the review queue (wharf admin quarantine list, or /admin/review)";

fn integrity(sha512: &[u8]) -> String {
    use base64::Engine;
    format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(sha512)
    )
}

/// The tarball's own `package.json` must name the package and version it
/// was listed as: what `npm install` unpacks is what was checked.
fn check_package_json(
    bytes: &[u8],
    name: &PackageName,
    version: &NpmVersion,
) -> Result<(), String> {
    let doc: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| format!("the tarball's package.json is not JSON: {e}"))?;
    let said_name = doc.get("name").and_then(serde_json::Value::as_str);
    let said_version = doc.get("version").and_then(serde_json::Value::as_str);
    if said_name != Some(name.as_str()) || said_version != Some(version.as_str()) {
        return Err(format!(
            "the tarball's package.json names {}@{}, not {name}@{}",
            wharf_core::name::printable(said_name.unwrap_or("?")),
            wharf_core::name::printable(said_version.unwrap_or("?")),
            version.as_str()
        ));
    }
    Ok(())
}
