//! Blobs as files under a directory on local disk.

use async_trait::async_trait;
use std::io::Write;
use std::path::{Path, PathBuf};
use wharf_core::ports::{BlobError, BlobKey, BlobLocation, BlobStore};

/// Stores each blob at `root/<key>`. A blob appears under its key only when
/// complete: it is written elsewhere on the same filesystem, synced, then
/// hard-linked into place, which fails if the key exists (create-only) and
/// is atomic (a crash leaves either no file or the whole file). The store
/// syncs a staged file itself, so a caller's staging need not.
#[derive(Debug, Clone)]
pub struct LocalBlobStore {
    root: PathBuf,
}

impl LocalBlobStore {
    /// Creates the directory if needed.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, BlobError> {
        let root = root.into();
        std::fs::create_dir_all(root.join(".staging"))
            .map_err(|e| failed("create", &root.display().to_string(), e))?;
        Ok(Self { root })
    }

    pub fn path_of(&self, key: &BlobKey) -> PathBuf {
        self.root.join(key.as_str())
    }

    /// Removes half-written small blobs left by a crash.
    pub fn clean_staging(&self) -> std::io::Result<usize> {
        let mut removed = 0;
        for entry in std::fs::read_dir(self.root.join(".staging"))? {
            std::fs::remove_file(entry?.path())?;
            removed += 1;
        }
        Ok(removed)
    }
}

fn failed(step: &'static str, key: &str, e: std::io::Error) -> BlobError {
    BlobError::Failed {
        step,
        key: key.to_owned(),
        reason: e.to_string(),
    }
}

/// Makes `staged` durable, links it to `dest` unless `dest` exists, drops
/// `staged`, and makes the new directory entry durable. When this returns,
/// the blob survives a power cut, so a row pointing at it may be committed.
///
/// The bytes are synced before the link that makes them visible, so a crash
/// can never leave a half-written file under its key. `fdatasync` is enough
/// there: it covers the data and the size, which is all a reader needs.
fn store_staged(staged: &Path, dest: &Path, key: &str) -> Result<(), BlobError> {
    std::fs::File::open(staged)
        .and_then(|f| f.sync_data())
        .map_err(|e| failed("sync", key, e))?;
    let parent = dest.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| failed("create directory for", key, e))?;
    match std::fs::hard_link(staged, dest) {
        Ok(()) => {}
        // Same key means same content: the blob is already there, whole.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(failed("store", key, e)),
    }
    std::fs::remove_file(staged).map_err(|e| failed("remove staged copy of", key, e))?;
    // The new entry, even when the link found the blob there already: the
    // upload that linked it may have died before syncing its directory.
    // Directories created just above need no sync of their own on Linux:
    // a journalled filesystem commits their creation with this sync, and
    // ext4 without a journal syncs a new directory's parents itself. Syncing
    // them explicitly cost several milliseconds per upload in the benchmark.
    sync_dir(parent).map_err(|e| failed("sync the directory of", key, e))
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    match std::fs::File::open(dir).and_then(|d| d.sync_all()) {
        // A filesystem that cannot sync a directory offers nothing stronger.
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => Ok(()),
        other => other,
    }
}

/// Elsewhere a directory cannot be opened to sync it.
#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

#[async_trait]
impl BlobStore for LocalBlobStore {
    async fn put_file(&self, key: &BlobKey, staged: &Path) -> Result<(), BlobError> {
        let dest = self.path_of(key);
        let (staged, key) = (staged.to_owned(), key.as_str().to_owned());
        tokio::task::spawn_blocking(move || store_staged(&staged, &dest, &key))
            .await
            .map_err(|e| BlobError::Failed {
                step: "store",
                key: String::new(),
                reason: e.to_string(),
            })?
    }

    /// Starts syncing the staged file's data while the upload is still being
    /// checked, so that the sync in `put_file` finds little left to write.
    fn prepare_file(&self, staged: &Path) {
        let staged = staged.to_owned();
        // Only a head start: its result is not needed, `put_file` syncs again.
        let _background =
            tokio::task::spawn_blocking(move || std::fs::File::open(staged)?.sync_data());
    }

    async fn put_bytes(&self, key: &BlobKey, bytes: Vec<u8>) -> Result<(), BlobError> {
        let dest = self.path_of(key);
        let staged = self
            .root
            .join(".staging")
            .join(format!("{:016x}", rand::random::<u64>()));
        let key = key.as_str().to_owned();
        tokio::task::spawn_blocking(move || {
            std::fs::File::create(&staged)
                .and_then(|mut f| f.write_all(&bytes))
                .map_err(|e| failed("write", &key, e))?;
            store_staged(&staged, &dest, &key)
        })
        .await
        .map_err(|e| BlobError::Failed {
            step: "store",
            key: String::new(),
            reason: e.to_string(),
        })?
    }

    /// The path only: the caller opens it, and a missing file shows up then.
    /// Checking here too would cost every download another blocking call.
    async fn locate(&self, key: &BlobKey) -> Result<BlobLocation, BlobError> {
        Ok(BlobLocation::LocalFile(self.path_of(key)))
    }

    async fn exists(&self, key: &BlobKey) -> Result<bool, BlobError> {
        tokio::fs::try_exists(self.path_of(key))
            .await
            .map_err(|e| failed("look for", key.as_str(), e))
    }

    async fn fetch_to(&self, key: &BlobKey, dest: &Path) -> Result<(), BlobError> {
        match tokio::fs::copy(self.path_of(key), dest).await {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(BlobError::NotFound(key.as_str().to_owned()))
            }
            Err(e) => Err(failed("copy", key.as_str(), e)),
        }
    }

    async fn check(&self) -> Result<(), BlobError> {
        tokio::fs::metadata(self.root.join(".staging"))
            .await
            .map(|_| ())
            .map_err(|e| failed("reach", "the blob directory", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: char) -> BlobKey {
        BlobKey::for_sha256(&c.to_string().repeat(64))
    }

    #[tokio::test]
    async fn stores_under_content_addressed_paths() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalBlobStore::open(dir.path()).unwrap();
        store.put_bytes(&key('a'), b"hello".to_vec()).await.unwrap();
        let BlobLocation::LocalFile(path) = store.locate(&key('a')).await.unwrap() else {
            panic!()
        };
        assert!(path.ends_with(format!("sha256/aa/aa/{}", "a".repeat(64))));
        assert_eq!(std::fs::read(path).unwrap(), b"hello");
    }

    #[tokio::test]
    async fn writes_are_create_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalBlobStore::open(dir.path().join("blobs")).unwrap();
        store.put_bytes(&key('c'), b"first".to_vec()).await.unwrap();
        let staged = dir.path().join("staged");
        std::fs::write(&staged, b"second").unwrap();
        store.put_file(&key('c'), &staged).await.unwrap();
        assert_eq!(std::fs::read(store.path_of(&key('c'))).unwrap(), b"first");
        assert!(!staged.exists(), "the staged copy is consumed");
        assert_eq!(store.clean_staging().unwrap(), 0);
    }

    #[tokio::test]
    async fn a_prepared_file_is_stored_whole_and_preparing_a_missing_one_is_harmless() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalBlobStore::open(dir.path().join("blobs")).unwrap();
        let staged = dir.path().join("staged");
        std::fs::write(&staged, b"bytes").unwrap();
        store.prepare_file(&staged);
        store.prepare_file(&dir.path().join("missing"));
        store.put_file(&key('d'), &staged).await.unwrap();
        assert_eq!(std::fs::read(store.path_of(&key('d'))).unwrap(), b"bytes");
        assert!(!staged.exists(), "the staged copy is consumed");
    }

    #[tokio::test]
    async fn fetch_copies_a_blob_and_reports_a_missing_one() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalBlobStore::open(dir.path()).unwrap();
        store.put_bytes(&key('a'), b"hello".to_vec()).await.unwrap();
        let copy = dir.path().join("copy");
        store.fetch_to(&key('a'), &copy).await.unwrap();
        assert_eq!(std::fs::read(&copy).unwrap(), b"hello");
        let err = store.fetch_to(&key('b'), &copy).await.unwrap_err();
        assert!(matches!(err, BlobError::NotFound(_)), "{err}");
    }
}
