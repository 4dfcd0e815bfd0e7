//! The npm registry under `/npm/`: hosted packages that `npm publish`,
//! `npm install`, `npm dist-tag`, `npm deprecate`, `npm unpublish` and
//! `npm owner` use unchanged.
//!
//! A package's tarballs are file rows like any Python file: they are read
//! strictly, scanned by the same rules, and a held one waits in the same
//! review queue. A version whose tarball is not published is left out of
//! the packument, and a `latest` tag that points at one is moved to the
//! newest version that is.

mod manage;
pub mod packument;
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
        }
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
        let stored = self.stored(name).await?;
        let view = packument::PackageView::of(&stored, &self.registry_url);
        let version = view
            .dist_tags
            .get(version_or_tag)
            .cloned()
            .unwrap_or_else(|| version_or_tag.to_owned());
        view.version_document(&version).ok_or_else(|| {
            NpmError::NotFound(format!(
                "'{name}' has no available version or tag '{}'",
                wharf_core::name::printable(version_or_tag)
            ))
        })
    }

    /// The stored tarball `file` of `name`, if it may be downloaded.
    pub async fn tarball(
        &self,
        name: &PackageName,
        file: &str,
    ) -> Result<wharf_core::model::FileRecord, NpmError> {
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
