//! Blobs as objects in an S3-compatible bucket, served by redirecting the
//! client to a short-lived presigned URL.
//!
//! Create-only writes: a small blob is one PUT with `If-None-Match: *`
//! (object_store's `PutMode::Create`), so the bucket itself refuses to
//! overwrite, and its "already exists" answer counts as success. object_store
//! completes multipart uploads without that condition, so a large blob is
//! first looked up with HEAD and uploaded only if absent. Two uploads of one
//! new key racing past the HEAD both write the bytes whose SHA-256 is the
//! key, so the object that wins is the same either way.
//!
//! An interrupted multipart upload is aborted; in case the abort itself
//! fails, the bucket should also have a lifecycle rule that removes
//! incomplete multipart uploads after a day.

use async_trait::async_trait;
use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey};
use object_store::path::Path as ObjectPath;
use object_store::signer::{Method, Signer};
use object_store::{MultipartUpload, ObjectStore, ObjectStoreExt, PutMode, PutPayload};
use secrecy::ExposeSecret;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::task::JoinSet;
use tokio::time::{timeout, timeout_at, Instant};
use wharf_core::ports::{BlobError, BlobKey, BlobLocation, BlobStore};

mod settings;

pub use settings::S3Settings;

/// Files larger than this go up in parts; smaller ones in one PUT.
const MULTIPART_THRESHOLD: u64 = 8 * MIB;
/// S3 wants every part but the last to be at least 5 MiB.
const PART_SIZE: usize = 8 * MIB as usize;
/// Parts sent at once: bounds memory to this many parts plus the one being read.
const PARTS_IN_FLIGHT: usize = 2;
/// How long cleanup after a failed upload may take, on top of its deadline.
const ABORT_GRACE: Duration = Duration::from_secs(30);
/// A readiness probe answers quickly or counts as a failure; object_store's
/// own retries would otherwise keep `/readyz` waiting for minutes.
const CHECK_TIMEOUT: Duration = Duration::from_secs(10);
/// A prefix that holds no blobs, so listing it is one small request.
const CHECK_PREFIX: &str = "wharf-readiness-check";
/// S3 refuses presigned URLs that live longer than a week.
const MAX_PRESIGN_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
const MIB: u64 = 1024 * 1024;

/// Stores each blob as the object `<key>` in one bucket; downloads are
/// redirects to presigned GET URLs.
#[derive(Clone)]
pub struct S3BlobStore {
    store: Arc<AmazonS3>,
    bucket: String,
    presign_ttl: Duration,
    upload_timeout: Duration,
}

impl std::fmt::Debug for S3BlobStore {
    // Only what identifies the store: the client holds the credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3BlobStore")
            .field("bucket", &self.bucket)
            .finish_non_exhaustive()
    }
}

impl S3BlobStore {
    /// Builds the client; makes no request (use [`BlobStore::check`] for that).
    pub fn new(settings: S3Settings) -> Result<Self, BlobError> {
        let invalid = |reason: String| BlobError::Failed {
            step: "configure",
            key: format!("bucket {}", settings.bucket),
            reason,
        };
        if settings.presign_ttl < Duration::from_secs(1) || settings.presign_ttl > MAX_PRESIGN_TTL {
            return Err(invalid(format!(
                "presign_ttl must be between 1s and 7 days, not {}",
                humantime::format_duration(settings.presign_ttl)
            )));
        }
        if settings.upload_timeout.is_zero() {
            return Err(invalid("upload_timeout must be more than zero".to_owned()));
        }
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&settings.bucket)
            .with_region(&settings.region)
            .with_access_key_id(&settings.access_key_id)
            .with_secret_access_key(settings.secret_access_key.expose_secret())
            .with_allow_http(settings.allow_http)
            // Path-style (`<endpoint>/<bucket>/<key>`): local S3-compatible
            // servers have no per-bucket host names.
            .with_virtual_hosted_style_request(false);
        if let Some(endpoint) = &settings.endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        if !settings.local_test_endpoint {
            // SSE-S3: object_store sends `x-amz-server-side-encryption: AES256`
            // on every PUT and multipart create. The key type for this setting
            // is not exported, so it is named by its string form.
            let key: AmazonS3ConfigKey = "aws_server_side_encryption"
                .parse()
                .map_err(|e: object_store::Error| invalid(e.to_string()))?;
            builder = builder.with_config(key, "AES256");
        }
        let store = builder.build().map_err(|e| invalid(e.to_string()))?;
        Ok(Self {
            store: Arc::new(store),
            bucket: settings.bucket,
            presign_ttl: settings.presign_ttl,
            upload_timeout: settings.upload_timeout,
        })
    }

    /// The bucket this store writes to.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    async fn put_small(
        &self,
        path: &ObjectPath,
        payload: PutPayload,
        deadline: Instant,
    ) -> Result<(), UploadFailure> {
        let put = self.store.put_opts(path, payload, PutMode::Create.into());
        match timeout_at(deadline, put).await {
            Ok(Ok(_)) => Ok(()),
            // Same key, same content: the blob is already there, whole.
            Ok(Err(object_store::Error::AlreadyExists { .. })) => Ok(()),
            Ok(Err(e)) => Err(UploadFailure::Store(e)),
            Err(_) => Err(UploadFailure::TimedOut(self.upload_timeout)),
        }
    }

    async fn put_large(
        &self,
        path: &ObjectPath,
        staged: &Path,
        deadline: Instant,
    ) -> Result<(), UploadFailure> {
        match timeout_at(deadline, self.store.head(path)).await {
            Ok(Ok(_)) => return Ok(()),
            Ok(Err(object_store::Error::NotFound { .. })) => {}
            Ok(Err(e)) => return Err(UploadFailure::Store(e)),
            Err(_) => return Err(UploadFailure::TimedOut(self.upload_timeout)),
        }

        // Opened in a task of its own so that, if the deadline passes while the
        // request is out, the upload it opens can still be aborted rather than
        // left behind.
        let (store, owned_path) = (Arc::clone(&self.store), path.clone());
        let mut opening = tokio::spawn(async move { store.put_multipart(&owned_path).await });
        let mut upload = match timeout_at(deadline, &mut opening).await {
            Ok(Ok(Ok(upload))) => upload,
            Ok(Ok(Err(e))) => return Err(UploadFailure::Store(e)),
            Ok(Err(e)) => return Err(UploadFailure::Task(e)),
            Err(_) => {
                let failure = UploadFailure::TimedOut(self.upload_timeout);
                return match timeout(ABORT_GRACE, &mut opening).await {
                    Ok(Ok(Ok(upload))) => abort_after(upload, failure).await,
                    // It failed to open: nothing to abort.
                    Ok(_) => Err(failure),
                    Err(_) => {
                        opening.abort();
                        Err(failure)
                    }
                };
            }
        };

        match timeout_at(deadline, send_parts(upload.as_mut(), staged)).await {
            Ok(Ok(())) => Ok(()),
            // Parts still in flight were cancelled along with `send_parts`.
            Ok(Err(failure)) => abort_after(upload, failure).await,
            Err(_) => abort_after(upload, UploadFailure::TimedOut(self.upload_timeout)).await,
        }
    }
}

/// Aborts a multipart upload that `failure` interrupted, so that its parts
/// are not left stored (and billed); returns the failure.
async fn abort_after(
    mut upload: Box<dyn MultipartUpload>,
    failure: UploadFailure,
) -> Result<(), UploadFailure> {
    let reason = match timeout(ABORT_GRACE, upload.abort()).await {
        Ok(Ok(())) => return Err(failure),
        Ok(Err(e)) => e.to_string(),
        Err(_) => "no answer in time".to_owned(),
    };
    Err(UploadFailure::AbortFailed(Box::new(failure), reason))
}

/// Reads `staged` part by part (never the whole file at once), sends the
/// parts with a few in flight, then completes the upload.
async fn send_parts(upload: &mut dyn MultipartUpload, staged: &Path) -> Result<(), UploadFailure> {
    let mut file = tokio::fs::File::open(staged)
        .await
        .map_err(UploadFailure::ReadStaged)?;
    let mut in_flight = JoinSet::new();
    loop {
        let part = read_part(&mut file).await?;
        let is_last = part.len() < PART_SIZE;
        if !part.is_empty() {
            while in_flight.len() >= PARTS_IN_FLIGHT {
                finish_one(&mut in_flight).await?;
            }
            // Part numbers are assigned here, in file order, whatever order
            // the requests finish in.
            in_flight.spawn(upload.put_part(PutPayload::from(part)));
        }
        if is_last {
            break;
        }
    }
    while !in_flight.is_empty() {
        finish_one(&mut in_flight).await?;
    }
    upload.complete().await.map_err(UploadFailure::Store)?;
    Ok(())
}

async fn finish_one(
    in_flight: &mut JoinSet<object_store::Result<()>>,
) -> Result<(), UploadFailure> {
    match in_flight.join_next().await {
        Some(Ok(Ok(()))) | None => Ok(()),
        Some(Ok(Err(e))) => Err(UploadFailure::Store(e)),
        Some(Err(e)) => Err(UploadFailure::Task(e)),
    }
}

/// Up to `PART_SIZE` bytes; fewer only at the end of the file.
async fn read_part(file: &mut tokio::fs::File) -> Result<Vec<u8>, UploadFailure> {
    let mut part = Vec::with_capacity(PART_SIZE);
    while part.len() < PART_SIZE {
        let mut rest = file.take((PART_SIZE - part.len()) as u64);
        if rest
            .read_to_end(&mut part)
            .await
            .map_err(UploadFailure::ReadStaged)?
            == 0
        {
            break;
        }
    }
    Ok(part)
}

/// Why an upload failed, kept apart until it is turned into a [`BlobError`].
#[derive(Debug, thiserror::Error)]
enum UploadFailure {
    #[error("the upload did not finish within its deadline of {}", humantime::format_duration(*.0))]
    TimedOut(Duration),
    #[error("cannot read the staged file: {0}")]
    ReadStaged(std::io::Error),
    #[error("{0}")]
    Store(object_store::Error),
    #[error("an upload task failed: {0}")]
    Task(tokio::task::JoinError),
    #[error("{0}; aborting the multipart upload failed too ({1})")]
    AbortFailed(Box<UploadFailure>, String),
}

fn object_path(key: &BlobKey) -> ObjectPath {
    // Keys are `sha256/ab/cd/<hex>`: only characters that need no encoding.
    ObjectPath::from(key.as_str())
}

#[async_trait]
impl BlobStore for S3BlobStore {
    async fn put_file(&self, key: &BlobKey, staged: &Path) -> Result<(), BlobError> {
        let deadline = Instant::now() + self.upload_timeout;
        let path = object_path(key);
        let size = tokio::fs::metadata(staged)
            .await
            .map_err(|e| failed_to("store", key, UploadFailure::ReadStaged(e)))?
            .len();
        if size > MULTIPART_THRESHOLD {
            self.put_large(&path, staged, deadline).await
        } else {
            // At most MULTIPART_THRESHOLD bytes, so reading it whole is fine.
            let bytes = tokio::fs::read(staged)
                .await
                .map_err(|e| failed_to("store", key, UploadFailure::ReadStaged(e)))?;
            self.put_small(&path, bytes.into(), deadline).await
        }
        .map_err(|failure| failed_to("store", key, failure))?;
        tokio::fs::remove_file(staged)
            .await
            .map_err(|e| failed_to("remove staged copy of", key, e))
    }

    async fn put_bytes(&self, key: &BlobKey, bytes: Vec<u8>) -> Result<(), BlobError> {
        let deadline = Instant::now() + self.upload_timeout;
        self.put_small(&object_path(key), bytes.into(), deadline)
            .await
            .map_err(|failure| failed_to("store", key, failure))
    }

    /// Signs locally: no request, and no check that the object exists (the
    /// client's GET is the check).
    async fn locate(&self, key: &BlobKey) -> Result<BlobLocation, BlobError> {
        let url = self
            .store
            .signed_url(Method::GET, &object_path(key), self.presign_ttl)
            .await
            .map_err(|e| failed_to("locate", key, e))?;
        Ok(BlobLocation::Redirect(url.to_string()))
    }

    async fn exists(&self, key: &BlobKey) -> Result<bool, BlobError> {
        match self.store.head(&object_path(key)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(failed_to("look for", key, e)),
        }
    }

    /// Streams the object to `dest`, under the same deadline as an upload.
    async fn fetch_to(&self, key: &BlobKey, dest: &Path) -> Result<(), BlobError> {
        use futures_util::StreamExt;
        use tokio::io::AsyncWriteExt;
        let deadline = Instant::now() + self.upload_timeout;
        let download = async {
            let got = match self.store.get(&object_path(key)).await {
                Ok(got) => got,
                Err(object_store::Error::NotFound { .. }) => {
                    return Err(BlobError::NotFound(key.as_str().to_owned()))
                }
                Err(e) => return Err(failed_to("fetch", key, e)),
            };
            let mut file = tokio::fs::File::create(dest)
                .await
                .map_err(|e| failed_to("fetch", key, e))?;
            let mut stream = got.into_stream();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| failed_to("fetch", key, e))?;
                file.write_all(&chunk)
                    .await
                    .map_err(|e| failed_to("fetch", key, e))?;
            }
            file.flush().await.map_err(|e| failed_to("fetch", key, e))
        };
        timeout_at(deadline, download)
            .await
            .map_err(|_| failed_to("fetch", key, "no complete answer before the deadline"))?
    }

    /// Lists an empty prefix: unlike a HEAD, the answer tells a missing
    /// bucket apart from a missing object.
    async fn check(&self) -> Result<(), BlobError> {
        let reach_failed = |reason: String| BlobError::Failed {
            step: "reach",
            key: format!("bucket {}", self.bucket),
            reason,
        };
        let prefix = ObjectPath::from(CHECK_PREFIX);
        match timeout(CHECK_TIMEOUT, self.store.list_with_delimiter(Some(&prefix))).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(object_store::Error::NotFound { .. })) => Err(reach_failed(
                "the bucket does not exist (or these credentials cannot see it)".to_owned(),
            )),
            Ok(Err(e)) => Err(reach_failed(e.to_string())),
            Err(_) => Err(reach_failed(format!(
                "no answer within {}",
                humantime::format_duration(CHECK_TIMEOUT)
            ))),
        }
    }
}

fn failed_to(step: &'static str, key: &BlobKey, e: impl std::fmt::Display) -> BlobError {
    BlobError::Failed {
        step,
        key: key.as_str().to_owned(),
        reason: e.to_string(),
    }
}
