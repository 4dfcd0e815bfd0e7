//! What pip and uv read: the simple pages, rendered once per change and
//! cached, and the files behind them. Only listed files are served: a
//! pending or held file is as absent here as one never uploaded.

use crate::cache::{FileCache, Page, PageCache, PageFormat, INDEX_KEY};
use crate::pages;
use bytes::Bytes;
use std::sync::Arc;
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
}

/// A file to serve: its record, and whether its PEP 658 metadata file was
/// asked for rather than the distribution.
pub struct Download {
    pub record: Arc<FileRecord>,
    pub is_metadata: bool,
}

impl Index {
    pub fn new(
        projects: Arc<dyn ProjectRepo>,
        files: Arc<dyn FileRepo>,
        blobs: Arc<dyn BlobStore>,
        pages: Arc<PageCache>,
        file_index: Arc<FileCache>,
        show_pending: bool,
    ) -> Self {
        Self {
            projects,
            files,
            blobs,
            pages,
            file_index,
            show_pending,
        }
    }

    /// `/simple/`: every project, rendered once per change.
    pub async fn index_page(&self, format: PageFormat) -> Result<Arc<Page>, RepoError> {
        let page = self
            .pages
            .get_or_build(INDEX_KEY, format, || async {
                let names: Vec<String> = self
                    .projects
                    .list_projects()
                    .await?
                    .into_iter()
                    .map(|p| p.normalized.to_string())
                    .collect();
                Ok::<_, RepoError>(Some(match format {
                    PageFormat::Html => Bytes::from(pages::index_html(&names)),
                    PageFormat::Json => Bytes::from(
                        serde_json::to_vec(&pages::index_json(&names)).unwrap_or_default(),
                    ),
                }))
            })
            .await?;
        page.ok_or_else(|| RepoError::Internal("the simple index did not build".into()))
    }

    /// `/simple/{project}/`, or `None` when nothing of it is listed.
    pub async fn project_page(
        &self,
        normalized: &str,
        format: PageFormat,
    ) -> Result<Option<Arc<Page>>, RepoError> {
        self.pages
            .get_or_build(normalized, format, || async {
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
                    PageFormat::Html => Bytes::from(pages::project_html(&listing)),
                    PageFormat::Json => Bytes::from(
                        serde_json::to_vec(&pages::project_json(&listing)).unwrap_or_default(),
                    ),
                }))
            })
            .await
    }

    /// The listed file `filename` under `sha256`, or with `.metadata` its
    /// PEP 658 file; `None` for anything else.
    pub async fn download(
        &self,
        sha256: &str,
        filename: &str,
    ) -> Result<Option<Download>, RepoError> {
        // A name ending in .metadata is the PEP 658 file of the distribution
        // without that suffix, unless a distribution is itself named so (none can be).
        let (record, is_metadata) = match self.find(filename).await? {
            Some(r) => (r, false),
            None => match filename.strip_suffix(".metadata") {
                Some(dist) => match self.find(dist).await? {
                    Some(r) => (r, true),
                    None => return Ok(None),
                },
                None => return Ok(None),
            },
        };
        if record.sha256 != sha256 || !pages::is_listed(record.status, self.show_pending) {
            return Ok(None);
        }
        if is_metadata && record.metadata_sha256.is_none() {
            return Ok(None);
        }
        Ok(Some(Download {
            record,
            is_metadata,
        }))
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
