//! Blob storage for Wharf. Blobs are immutable and content-addressed, so a
//! write is create-only: storing a key that exists is a no-op, never an
//! overwrite.

mod local;
mod s3;

pub use local::LocalBlobStore;
pub use s3::{S3BlobStore, S3Settings};
