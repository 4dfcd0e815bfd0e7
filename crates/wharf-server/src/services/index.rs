//! What pip and uv read: the simple pages, rendered once per change and
//! cached, and the files behind them. Only listed files are served: a
//! pending or held file is as absent here as one never uploaded.

use crate::cache::{FileCache, Page, PageCache, SimpleFormat, INDEX_KEY};
use crate::pages;
use crate::services::proxy::{project_of, ProxyDownload, ProxyError, PypiProxy};
use bytes::Bytes;
use std::sync::Arc;
use std::time::Duration;
use wharf_core::model::{FileRecord, FileStatus};
use wharf_core::ports::{
    BlobError, BlobKey, BlobLocation, BlobStore, FileRepo, ProjectRepo, RepoError,
};
use wharf_core::NormalizedName;

/// The simple index and downloads.
pub struct Index {
    projects: Arc<dyn ProjectRepo>,
    files: Arc<dyn FileRepo>,
    blobs: Arc<dyn BlobStore>,
    pages: Arc<PageCache>,
    /// Downloads look files up by name here before the database.
    file_index: Arc<FileCache>,
    /// `[verification] show_pending`: pending files are listed too.
    show_pending: bool,
    /// The pull-through proxy, for names not hosted here.
    proxy: Option<Arc<PypiProxy>>,
}

/// A blob to serve: a distribution, or its PEP 658 metadata file.
pub struct Download {
    pub blob_sha256: String,
    /// The distribution's file name (also for its metadata file).
    pub filename: String,
    pub is_metadata: bool,
}

/// A project page to serve.
pub struct ServedPage {
    pub page: Arc<Page>,
    /// A proxied page served from an older copy while upstream is unreachable.
    pub stale_for: Option<Duration>,
}

/// Why a page or download could not be served.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    Proxy(#[from] ProxyError),
}

impl Index {
    pub fn new(
        projects: Arc<dyn ProjectRepo>,
        files: Arc<dyn FileRepo>,
        blobs: Arc<dyn BlobStore>,
        pages: Arc<PageCache>,
        file_index: Arc<FileCache>,
        show_pending: bool,
        proxy: Option<Arc<PypiProxy>>,
    ) -> Self {
        Self {
            projects,
            files,
            blobs,
            pages,
            file_index,
            show_pending,
            proxy,
        }
    }

    /// `/simple/`: every project, rendered once per change.
    pub async fn index_page(&self, format: SimpleFormat) -> Result<Arc<Page>, RepoError> {
        let page = self
            .pages
            .get_or_build(INDEX_KEY, format.into(), || async {
                let names: Vec<String> = self
                    .projects
                    .list_projects()
                    .await?
                    .into_iter()
                    .map(|p| p.normalized.to_string())
                    .collect();
                Ok::<_, RepoError>(Some(match format {
                    SimpleFormat::Html => Bytes::from(pages::index_html(&names)),
                    SimpleFormat::Json => Bytes::from(
                        serde_json::to_vec(&pages::index_json(&names)).unwrap_or_default(),
                    ),
                }))
            })
            .await?;
        page.ok_or_else(|| RepoError::Internal("the simple index did not build".into()))
    }

    /// `/simple/{project}/`, or `None` when nothing of it is listed. A name
    /// with a project here is served from here alone; any other goes to the
    /// proxy, when there is one.
    pub async fn project_page(
        &self,
        normalized: &str,
        format: SimpleFormat,
    ) -> Result<Option<ServedPage>, IndexError> {
        if let Some(page) = self.pages.get(normalized, format.into()) {
            return Ok(Some(ServedPage {
                page,
                stale_for: None,
            }));
        }
        if let Some(proxy) = &self.proxy {
            if !proxy.is_hosted(normalized).await? {
                return self.proxied_page(proxy, normalized, format).await;
            }
        }
        let page = self.local_page(normalized, format).await?;
        Ok(page.map(|page| ServedPage {
            page,
            stale_for: None,
        }))
    }

    async fn local_page(
        &self,
        normalized: &str,
        format: SimpleFormat,
    ) -> Result<Option<Arc<Page>>, RepoError> {
        self.pages
            .get_or_build(normalized, format.into(), || async {
                let Ok(project) = NormalizedName::parse(normalized) else {
                    return Ok(None);
                };
                let Some(listing) = self.projects.listing(&project).await? else {
                    return Ok(None);
                };
                let listing = pages::as_indexed(listing, self.show_pending);
                if !listing
                    .files
                    .iter()
                    .any(|f| f.status == FileStatus::Published)
                {
                    return Ok(None);
                }
                Ok::<_, RepoError>(Some(match format {
                    SimpleFormat::Html => Bytes::from(pages::project_html(&listing)),
                    SimpleFormat::Json => Bytes::from(
                        serde_json::to_vec(&pages::project_json(&listing)).unwrap_or_default(),
                    ),
                }))
            })
            .await
    }

    /// A proxied page, rendered; cached like a local one unless it is stale.
    async fn proxied_page(
        &self,
        proxy: &Arc<PypiProxy>,
        normalized: &str,
        format: SimpleFormat,
    ) -> Result<Option<ServedPage>, IndexError> {
        let Some(proxied) = proxy.page(normalized).await? else {
            return Ok(None);
        };
        let json = crate::services::proxy::simple_json(&proxied);
        let body = match format {
            SimpleFormat::Html => Bytes::from(pages::html_from(&json)),
            SimpleFormat::Json => Bytes::from(serde_json::to_vec(&json).unwrap_or_default()),
        };
        let page = Arc::new(Page::new(body));
        if proxied.stale_for.is_none() {
            self.pages.put(normalized, format.into(), page.clone());
        }
        Ok(Some(ServedPage {
            page,
            stale_for: proxied.stale_for,
        }))
    }

    /// Files an upstream page lists that this registry does not serve yet,
    /// and why; empty for a hosted name or without a proxy.
    pub async fn held_back(&self, normalized: &str) -> Result<Vec<pages::HeldBack>, IndexError> {
        let Some(proxy) = &self.proxy else {
            return Ok(Vec::new());
        };
        if proxy.is_hosted(normalized).await? {
            return Ok(Vec::new());
        }
        Ok(proxy
            .page(normalized)
            .await?
            .map(|p| p.held_back)
            .unwrap_or_default())
    }

    /// The listed file `filename` under `sha256`, or with `.metadata` its
    /// PEP 658 file; `None` for anything else. A file not stored here yet
    /// may come through the proxy.
    pub async fn download(
        &self,
        sha256: &str,
        filename: &str,
    ) -> Result<Option<Download>, IndexError> {
        // A name ending in .metadata is the PEP 658 file of the distribution
        // without that suffix, unless a distribution is itself named so (none can be).
        let found = match self.find(filename).await? {
            Some(r) => Some((r, false)),
            None => match filename.strip_suffix(".metadata") {
                Some(dist) => self.find(dist).await?.map(|r| (r, true)),
                None => None,
            },
        };
        let Some((record, is_metadata)) = found else {
            return self.proxied_download(sha256, filename).await;
        };
        if record.sha256 != sha256 {
            return Ok(None);
        }
        if !pages::is_listed(record.status, self.show_pending) {
            // A proxied file held for review says why; a held upload stays
            // as absent as one never made.
            if let (Some(proxy), Some(name)) = (&self.proxy, project_of(&record.filename)) {
                if !proxy.is_hosted(&name).await? {
                    return Err(proxy.why_held(&record).await.into());
                }
            }
            return Ok(None);
        }
        if let Some(proxy) = &self.proxy {
            if let Some(denied) = proxy.denies(&record.filename, &record.version).await? {
                return Err(denied.into());
            }
        }
        let blob_sha256 = match (is_metadata, &record.metadata_sha256) {
            (false, _) => record.sha256.clone(),
            (true, Some(sha)) => sha.clone(),
            (true, None) => return Ok(None),
        };
        Ok(Some(Download {
            blob_sha256,
            filename: record.filename.clone(),
            is_metadata,
        }))
    }

    async fn proxied_download(
        &self,
        sha256: &str,
        filename: &str,
    ) -> Result<Option<Download>, IndexError> {
        let Some(proxy) = &self.proxy else {
            return Ok(None);
        };
        Ok(match proxy.download(sha256, filename).await? {
            None => None,
            Some(ProxyDownload::File(record)) => {
                self.file_index.put(record.clone());
                Some(Download {
                    blob_sha256: record.sha256.clone(),
                    filename: record.filename.clone(),
                    is_metadata: false,
                })
            }
            Some(ProxyDownload::Metadata { sha256: meta }) => Some(Download {
                blob_sha256: meta,
                filename: filename
                    .strip_suffix(".metadata")
                    .unwrap_or(filename)
                    .to_owned(),
                is_metadata: true,
            }),
        })
    }

    /// Where a blob's bytes are: a local file, or a presigned URL.
    pub async fn locate(&self, sha256: &str) -> Result<BlobLocation, BlobError> {
        self.blobs.locate(&BlobKey::for_sha256(sha256)).await
    }

    async fn find(&self, filename: &str) -> Result<Option<Arc<FileRecord>>, RepoError> {
        if let Some(hit) = self.file_index.get(filename) {
            return Ok(Some(hit));
        }
        let Some(record) = self.files.find_file(filename).await? else {
            return Ok(None);
        };
        let record = Arc::new(record);
        self.file_index.put(record.clone());
        Ok(Some(record))
    }
}
