//! Envelope encryption of deployment credentials.
//!
//! Each secret is encrypted with its own random data key (AES-256-GCM); the
//! data key is wrapped by the configured [`MasterKey`], whose ID is stored
//! with the result so master keys can rotate ([`rewrap`]). Both encryptions
//! carry the deployment ID and variable name as associated data
//! ([`Binding`]), so a ciphertext moved to another row does not decrypt.
//!
//! Pure and synchronous: no I/O, no database. The caller stores the three
//! fields of [`Sealed`] in its own columns. Layouts are in `envelope`.

mod envelope;
mod error;
mod master_key;
mod secret;
mod weak_key;

pub use envelope::{open, rewrap, seal, Binding, Sealed};
pub use error::VaultError;
pub use master_key::MasterKey;
pub use secret::Secret;
