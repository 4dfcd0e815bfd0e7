//! Staging an upload: the file streams to a temporary file under the data
//! directory while its digests are computed in the same pass, and the size
//! cap is enforced as bytes arrive. At most a write buffer's worth is held in
//! memory, never a whole large file.

use blake2::{digest::consts::U32, Blake2b};
use md5::Md5;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

/// A temporary file that deletes itself unless it is handed on.
#[derive(Debug)]
pub struct StagedFile {
    path: PathBuf,
    keep: bool,
}

impl StagedFile {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file is being moved into the blob store; stop owning it.
    pub fn disown(mut self) -> PathBuf {
        self.keep = true;
        std::mem::take(&mut self.path)
    }
}

impl Drop for StagedFile {
    fn drop(&mut self) {
        if !self.keep && !self.path.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// A fully received file and its digests (lowercase hex).
#[derive(Debug)]
pub struct StagedContent {
    pub file: StagedFile,
    pub filename: String,
    pub size: u64,
    pub sha256: String,
    pub blake2_256: String,
    pub md5: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StageError {
    #[error("the file is larger than the upload limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("could not stage the upload: {0}")]
    Io(#[from] std::io::Error),
}

/// Bytes held in memory before the file is opened (what the write buffer
/// holds anyway): a small upload is written with one blocking call at the
/// end, a large one streams through a buffered file.
const HELD_BYTES: usize = 256 * 1024;

/// Receives one file's bytes.
pub struct Stager {
    /// Opened once more than `HELD_BYTES` have arrived.
    file: Option<tokio::io::BufWriter<tokio::fs::File>>,
    held: Vec<u8>,
    staged: StagedFile,
    filename: String,
    size: u64,
    limit: u64,
    sha256: Sha256,
    blake2: Blake2b<U32>,
    md5: Md5,
}

impl Stager {
    pub async fn create(tmp_dir: &Path, filename: &str, limit: u64) -> Result<Self, StageError> {
        let path = tmp_dir.join(format!("upload-{:016x}.part", rand::random::<u64>()));
        Ok(Self {
            file: None,
            held: Vec::new(),
            staged: StagedFile { path, keep: false },
            filename: filename.to_owned(),
            size: 0,
            limit,
            sha256: Sha256::new(),
            blake2: Blake2b::new(),
            md5: Md5::new(),
        })
    }

    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), StageError> {
        self.size += chunk.len() as u64;
        if self.size > self.limit {
            return Err(StageError::TooLarge { limit: self.limit });
        }
        self.sha256.update(chunk);
        self.blake2.update(chunk);
        self.md5.update(chunk);
        match &mut self.file {
            Some(file) => file.write_all(chunk).await?,
            None if self.held.len() + chunk.len() <= HELD_BYTES => {
                self.held.extend_from_slice(chunk);
            }
            None => {
                let file = tokio::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&self.staged.path)
                    .await?;
                let mut file = tokio::io::BufWriter::with_capacity(HELD_BYTES, file);
                file.write_all(&std::mem::take(&mut self.held)).await?;
                file.write_all(chunk).await?;
                self.file = Some(file);
            }
        }
        Ok(())
    }

    /// Writes out what is left. It does not sync: the blob store makes what
    /// it stores durable before the row that points at it is committed (the
    /// local store syncs, then links; S3 needs neither), and a file refused
    /// or found identical needs no sync at all.
    pub async fn finish(mut self) -> Result<StagedContent, StageError> {
        match &mut self.file {
            Some(file) => file.flush().await?,
            None => {
                let (path, held) = (self.staged.path.clone(), std::mem::take(&mut self.held));
                tokio::task::spawn_blocking(move || {
                    std::fs::OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .open(&path)?
                        .write_all(&held)
                })
                .await
                .map_err(std::io::Error::other)??;
            }
        }
        Ok(StagedContent {
            file: self.staged,
            filename: self.filename,
            size: self.size,
            sha256: hex::encode(self.sha256.finalize()),
            blake2_256: hex::encode(self.blake2.finalize()),
            md5: hex::encode(self.md5.finalize()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_while_streaming_and_cleans_up_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Stager::create(dir.path(), "x.whl", 1024).await.unwrap();
        s.write(b"hello ").await.unwrap();
        s.write(b"world").await.unwrap();
        let c = s.finish().await.unwrap();
        assert_eq!(c.size, 11);
        assert_eq!(
            c.sha256,
            "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
        );
        assert_eq!(c.md5, "5eb63bbbe01eeed093cb22bb8f5acdc3");
        assert_eq!(
            c.blake2_256,
            "256c83b297114d201b30179f3f0ef0cace9783622da5974326b436178aeef610"
        );
        let path = c.file.path().to_owned();
        assert!(path.exists());
        drop(c);
        assert!(!path.exists(), "a dropped staged file is removed");
    }

    #[tokio::test]
    async fn a_file_larger_than_the_held_bytes_streams_to_disk_whole() {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..HELD_BYTES * 3 + 17).map(|i| (i % 251) as u8).collect();
        let mut s = Stager::create(dir.path(), "x.whl", u64::MAX).await.unwrap();
        for chunk in data.chunks(64 * 1024 + 3) {
            s.write(chunk).await.unwrap();
        }
        let c = s.finish().await.unwrap();
        assert_eq!(std::fs::read(c.file.path()).unwrap(), data);
        assert_eq!(c.sha256, hex::encode(Sha256::digest(&data)));
    }

    #[tokio::test]
    async fn refuses_bytes_past_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Stager::create(dir.path(), "x.whl", 4).await.unwrap();
        assert!(matches!(
            s.write(b"12345").await,
            Err(StageError::TooLarge { limit: 4 })
        ));
        drop(s);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
