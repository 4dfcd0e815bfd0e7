//! The npm registry under `/npm/`: hosted packages that `npm publish`,
//! `npm install`, `npm dist-tag`, `npm deprecate`, `npm unpublish` and
//! `npm owner` use unchanged.
//!
//! A package's tarballs are file rows like any Python file: they are read
//! strictly, scanned by the same rules, and a held one waits in the same
//! review queue. A version whose tarball is not published is left out of
//! the packument, and a `latest` tag that points at one is moved to the
//! newest version that is.
//!
//! With `[proxy.npm]`, a name that is not hosted here, in a scope that is
//! not granted to anyone here, comes from the upstream registry through the
//! vetted proxy ([`proxy`]).

mod manage;
pub mod packument;
pub mod proxy;
mod publish;

use crate::cache::{Page, PageCache, PageFormat};
use crate::services::auth::Principal;
use crate::services::verify::Verification;
use std::sync::Arc;
use wharf_core::npm::record::StoredPackage;
use wharf_core::npm::PackageName;
use wharf_core::ports::{
    AuditLog, BlobError, BlobStore, McpRepo, NpmRepo, RepoError, UserRepo, VerificationRepo,
};
use wharf_core::Scope;

pub use packument::{AbbreviatedPackument, Packument, SearchResults};
pub use proxy::{NpmProxy, NpmProxyParts, ProxiedPackument};
pub use publish::PublishDocument;

/// Why an npm request was refused. The message is what the npm CLI prints.
#[derive(Debug, thiserror::Error)]
pub enum NpmError {
    #[error("{0}")]
    Invalid(String),
    /// A rule of the archive or the document refused the tarball; `code` is the rule.
    #[error("{message}")]
    Refused { code: &'static str, message: String },
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// The version exists, or existed: versions are immutable and never reused.
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooLarge(String),
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error(transparent)]
    Proxy(#[from] crate::services::proxy::ProxyError),
    #[error("{0}")]
    Internal(String),
}

/// What the npm service needs, from the application's wiring.
pub struct NpmParts {
    pub repo: Arc<dyn NpmRepo>,
    pub users: Arc<dyn UserRepo>,
    pub verification_repo: Arc<dyn VerificationRepo>,
    pub verification: Arc<Verification>,
    pub mcp: Arc<dyn McpRepo>,
    pub blobs: Arc<dyn BlobStore>,
    pub audit: Arc<dyn AuditLog>,
    pub pages: Arc<PageCache>,
    /// `<public_url>/npm`, without a trailing slash.
    pub registry_url: String,
    pub tmp_dir: std::path::PathBuf,
    /// The largest tarball accepted.
    pub max_tarball_bytes: u64,
    /// The proxy of an upstream registry, when `[proxy.npm]` is set.
    pub proxy: Option<Arc<NpmProxy>>,
}

/// The npm registry service.
pub struct Npm {
    repo: Arc<dyn NpmRepo>,
    users: Arc<dyn UserRepo>,
    verification_repo: Arc<dyn VerificationRepo>,
    verification: Arc<Verification>,
    mcp: Arc<dyn McpRepo>,
    blobs: Arc<dyn BlobStore>,
    audit: Arc<dyn AuditLog>,
    pages: Arc<PageCache>,
    registry_url: String,
    tmp_dir: std::path::PathBuf,
    max_tarball_bytes: u64,
    proxy: Option<Arc<NpmProxy>>,
}

impl Npm {
    pub fn new(parts: NpmParts) -> Self {
        Self {
            repo: parts.repo,
            users: parts.users,
            verification_repo: parts.verification_repo,
            verification: parts.verification,
            mcp: parts.mcp,
            blobs: parts.blobs,
            audit: parts.audit,
            pages: parts.pages,
            registry_url: parts.registry_url,
            tmp_dir: parts.tmp_dir,
            max_tarball_bytes: parts.max_tarball_bytes,
            proxy: parts.proxy,
        }
    }

    /// The npm proxy, when one is configured.
    pub fn proxy(&self) -> Option<&Arc<NpmProxy>> {
        self.proxy.as_ref()
    }

    /// The proxy, when `name` may come from upstream: it is not hosted here
    /// and its scope is not granted to anyone here. Hosted names and scopes
    /// always win, so upstream is never even asked about them.
    async fn upstream_for(&self, name: &PackageName) -> Result<Option<&Arc<NpmProxy>>, NpmError> {
        let Some(proxy) = &self.proxy else {
            return Ok(None);
        };
        if self.repo.npm_package(name.as_str()).await?.is_some() {
            return Ok(None);
        }
        if let Some(scope) = name.scope() {
            if self.is_hosted_scope(scope).await? {
                return Ok(None);
            }
        }
        Ok(Some(proxy))
    }

    /// Whether an administrator granted `@scope/…` names to someone here.
    async fn is_hosted_scope(&self, scope: &str) -> Result<bool, NpmError> {
        let prefix = format!("@{scope}/");
        Ok(self
            .mcp
            .namespace_grants(None)
            .await?
            .iter()
            .any(|g| g.glob.starts_with(&prefix)))
    }

    /// `<public_url>/npm/`: what `npm config set registry` takes.
    pub fn registry_url(&self) -> String {
        format!("{}/", self.registry_url)
    }

    /// The largest publish document accepted: the tarball in base64 plus room
    /// for the manifest and readme.
    pub fn max_document_bytes(&self) -> u64 {
        self.max_tarball_bytes / 3 * 4 + 8 * 1024 * 1024
    }

    /// A hosted package, or a 404 naming it.
    async fn stored(&self, name: &PackageName) -> Result<StoredPackage, NpmError> {
        self.repo
            .npm_package(name.as_str())
            .await?
            .ok_or_else(|| not_found(name))
    }

    /// The packument of `name` as rendered JSON, cached per format and
    /// invalidated by every change to the package (the review queue's too,
    /// since the cache is keyed by the project's stored key).
    pub async fn packument_page(
        &self,
        name: &PackageName,
        abbreviated: bool,
    ) -> Result<Arc<Page>, NpmError> {
        let format = if abbreviated {
            PageFormat::NpmAbbreviated
        } else {
            PageFormat::NpmFull
        };
        let key = name.project_key();
        if let Some(page) = self.pages.get(&key, format) {
            return Ok(page);
        }
        if let Some(proxy) = self.upstream_for(name).await? {
            return self.proxied_page(proxy, name, abbreviated).await;
        }
        let built = self
            .pages
            .get_or_build(&key, format, || async {
                let Some(stored) = self.repo.npm_package(name.as_str()).await? else {
                    return Ok(None);
                };
                let view = packument::PackageView::of(&stored, &self.registry_url);
                if view.visible.is_empty() {
                    return Ok(None);
                }
                let body = if abbreviated {
                    serde_json::to_vec(&view.abbreviated())
                } else {
                    serde_json::to_vec(&view.full())
                }
                .map_err(|e| NpmError::Internal(e.to_string()))?;
                Ok::<_, NpmError>(Some(bytes::Bytes::from(body)))
            })
            .await?;
        match built {
            Some(page) => Ok(page),
            None => Err(self.why_missing(name).await),
        }
    }

    /// A proxied packument, rendered; cached like a hosted one unless it is stale.
    async fn proxied_page(
        &self,
        proxy: &Arc<NpmProxy>,
        name: &PackageName,
        abbreviated: bool,
    ) -> Result<Arc<Page>, NpmError> {
        let Some(proxied) = proxy.packument(name).await? else {
            return Err(not_found(name));
        };
        if proxied.visible.is_empty() {
            return Err(NpmError::NotFound(format!(
                "'{name}' has no version this registry serves yet: {}",
                describe_held(&proxied)
            )));
        }
        let body = if abbreviated {
            serde_json::to_vec(&proxied.abbreviated(&self.registry_url))
        } else {
            serde_json::to_vec(&proxied.full(&self.registry_url))
        }
        .map_err(|e| NpmError::Internal(e.to_string()))?;
        let page = Arc::new(Page::new(bytes::Bytes::from(body)));
        if proxied.stale_for.is_none() {
            let format = if abbreviated {
                PageFormat::NpmAbbreviated
            } else {
                PageFormat::NpmFull
            };
            self.pages.put(&name.project_key(), format, page.clone());
        }
        Ok(page)
    }

    /// Why a packument is not served: no such package, or nothing visible yet.
    async fn why_missing(&self, name: &PackageName) -> NpmError {
        match self.repo.npm_package(name.as_str()).await {
            Ok(Some(stored)) => {
                let held = stored
                    .versions
                    .iter()
                    .filter(|v| v.unpublished_at.is_none())
                    .count();
                if held == 0 {
                    NpmError::NotFound(format!(
                        "'{name}' has no versions left: every one was unpublished"
                    ))
                } else {
                    NpmError::NotFound(format!(
                        "'{name}' has no version available yet: {held} version(s) are pending or held by this registry's checks"
                    ))
                }
            }
            Ok(None) => not_found(name),
            Err(e) => e.into(),
        }
    }

    /// One version's document (`GET /npm/{name}/{version-or-tag}`).
    pub async fn version_document(
        &self,
        name: &PackageName,
        version_or_tag: &str,
    ) -> Result<serde_json::Value, NpmError> {
        if let Some(proxy) = self.upstream_for(name).await? {
            let proxied = proxy
                .packument(name)
                .await?
                .ok_or_else(|| not_found(name))?;
            let version = proxied
                .dist_tags
                .get(version_or_tag)
                .map_or(version_or_tag, String::as_str);
            return proxied
                .document(version, &self.registry_url)
                .ok_or_else(|| no_version(name, version_or_tag));
        }
        let stored = self.stored(name).await?;
        let view = packument::PackageView::of(&stored, &self.registry_url);
        let version = view
            .dist_tags
            .get(version_or_tag)
            .cloned()
            .unwrap_or_else(|| version_or_tag.to_owned());
        view.version_document(&version)
            .ok_or_else(|| no_version(name, version_or_tag))
    }

    /// The stored tarball `file` of `name`, if it may be downloaded.
    pub async fn tarball(
        &self,
        name: &PackageName,
        file: &str,
    ) -> Result<wharf_core::model::FileRecord, NpmError> {
        if let Some(proxy) = self.upstream_for(name).await? {
            return proxy.tarball(name, file).await?.ok_or_else(|| {
                NpmError::NotFound(format!(
                    "'{name}' has no tarball '{}'",
                    wharf_core::name::printable(file)
                ))
            });
        }
        let stored = self.stored(name).await?;
        let found = stored
            .versions
            .iter()
            .find(|v| v.unpublished_at.is_none() && name.tarball_name_str(&v.version) == file);
        match found {
            Some(v) if v.file.status == wharf_core::model::FileStatus::Published => {
                Ok(v.file.clone())
            }
            Some(v) => Err(NpmError::NotFound(format!(
                "'{file}' is {} by this registry's checks, so it cannot be installed",
                v.file.status.as_str()
            ))),
            None => Err(NpmError::NotFound(format!(
                "'{name}' has no tarball '{}'",
                wharf_core::name::printable(file)
            ))),
        }
    }

    /// `npm whoami`.
    pub fn whoami(who: &Principal) -> String {
        who.user.name.clone()
    }

    /// The publish scope is what every write here needs.
    fn check_publisher(who: &Principal, name: &PackageName) -> Result<(), NpmError> {
        if !who.has_scope(Scope::Publish) {
            return Err(NpmError::Forbidden(
                "this API token lacks the 'publish' scope; create one with --scope publish".into(),
            ));
        }
        // A namespace-restricted token reaches the packages its globs cover
        // (`@acme/*`), as it reaches MCP servers.
        if !who.may_touch_server(name.as_str()) {
            return Err(NpmError::Forbidden(format!(
                "this API token is restricted and does not cover the npm package '{name}'"
            )));
        }
        Ok(())
    }

    /// Whether `who` owns the stored package (administrators acting as one do).
    fn check_owner(who: &Principal, stored: &StoredPackage) -> Result<(), NpmError> {
        if who.acts_as_admin() || stored.owners.iter().any(|o| o == &who.user.name) {
            return Ok(());
        }
        Err(NpmError::Forbidden(format!(
            "user '{}' is not an owner of '{}'; its owners are {}",
            who.user.name,
            stored.name,
            stored.owners.join(", ")
        )))
    }

    /// Forgets the rendered packuments of `name`.
    fn changed(&self, name: &PackageName) {
        self.pages.invalidate(&name.project_key());
    }
}

fn not_found(name: &PackageName) -> NpmError {
    NpmError::NotFound(format!("'{name}' is not in this registry"))
}

fn no_version(name: &PackageName, version_or_tag: &str) -> NpmError {
    NpmError::NotFound(format!(
        "'{name}' has no available version or tag '{}'",
        wharf_core::name::printable(version_or_tag)
    ))
}

/// The versions a proxied packument leaves out, briefly.
fn describe_held(proxied: &ProxiedPackument) -> String {
    match proxied.held_back.first() {
        None => "upstream lists no version it can serve".into(),
        Some(first) => format!(
            "{} version(s) are held back (for example {}: {}, {})",
            proxied.held_back.len(),
            first.version,
            first.reason,
            first.detail
        ),
    }
}
