//! The ways sealing and opening fail.
//!
//! Messages never quote a key, a plaintext or a ciphertext, and a failed
//! decryption never says which check failed: "wrong key", "wrong row" and
//! "tampered" look the same to whoever reads the error.

/// Why a vault operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    /// The configured master key was refused. The message names the problem
    /// (too short, low entropy, a placeholder) and never echoes the value.
    #[error("the master key is refused: {0}; generate one with `openssl rand -base64 32`")]
    WeakKey(String),
    /// A sealed secret could not be opened: a different master key, a
    /// different deployment or variable, or damaged bytes. Deliberately vague.
    #[error(
        "the secret cannot be decrypted with this master key for this deployment and variable"
    )]
    Decrypt,
    /// The crypto backend failed for a reason unrelated to the data (in
    /// practice only the system random source). Never carries key material.
    #[error("the crypto backend failed: {0}")]
    Crypto(String),
}
