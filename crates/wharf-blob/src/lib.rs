//! Blob storage for Wharf. Blobs are immutable and content-addressed, so a
//! write is create-only: storing a key that exists is a no-op, never an
//! overwrite.

mod local;

pub use local::LocalBlobStore;
