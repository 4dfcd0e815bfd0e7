//! Envelope encryption: each secret gets its own random data key; only the
//! small data key is encrypted ("wrapped") under the master key, so rotating
//! the master key re-encrypts 32 bytes per secret and never the secret.
//!
//! Byte layouts (AES-256-GCM, 96-bit random nonce, 128-bit tag):
//!
//! ```text
//! wrapped_key = nonce (12) || AES-GCM(master key, data key (32), wrap AAD)   || tag (16)   = 60 bytes
//! ciphertext  = nonce (12) || AES-GCM(data key,   plaintext (n), secret AAD) || tag (16)   = n + 28 bytes
//! ```
//!
//! Associated data, each field as an 8-byte big-endian length and its bytes,
//! so `("ab", "c")` and `("a", "bc")` never encode alike:
//!
//! ```text
//! wrap AAD   = "wharf-vault-v1", "data-key", key ID, deployment, variable
//! secret AAD = "wharf-vault-v1", "secret",            deployment, variable
//! ```
//!
//! The secret AAD leaves out the key ID on purpose: rotation changes the key
//! ID but must not touch the ciphertext. The binding still reaches it, and the
//! wrap AAD ties the data key to both the master key and the binding.

use std::fmt;

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use secrecy::zeroize::Zeroizing;

use crate::{MasterKey, Secret, VaultError};

/// Version tag at the start of every AAD. A new layout gets a new tag, so old
/// and new ciphertexts can never be confused for one another.
const FORMAT_VERSION: &str = "wharf-vault-v1";

/// AAD purpose labels, so the two encryptions never share associated data.
const PURPOSE_WRAP: &str = "data-key";
const PURPOSE_SECRET: &str = "secret";

/// Size of a data key: an AES-256 key.
const DATA_KEY_LEN: usize = 32;

/// Size of the AES-GCM authentication tag.
const TAG_LEN: usize = 16;

/// Where a secret belongs. It is part of the associated data of both
/// encryptions, so a sealed value copied to another deployment or variable
/// does not open there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding<'a> {
    /// The deployment's ID.
    pub deployment: &'a str,
    /// The variable's name, e.g. `GITHUB_TOKEN`.
    pub variable: &'a str,
}

impl<'a> Binding<'a> {
    /// The binding of `variable` in `deployment`.
    pub fn new(deployment: &'a str, variable: &'a str) -> Self {
        Self {
            deployment,
            variable,
        }
    }
}

/// What is stored for one secret. Plain bytes and text, for SQL columns.
/// `Debug` shows the key ID and the lengths, never the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed {
    /// [`MasterKey::id`] of the key that wrapped the data key.
    pub key_id: String,
    /// The data key encrypted under the master key: nonce, 32 bytes, tag.
    pub wrapped_key: Vec<u8>,
    /// The secret encrypted under the data key: nonce, plaintext length, tag.
    pub ciphertext: Vec<u8>,
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealed")
            .field("key_id", &self.key_id)
            .field("wrapped_key_len", &self.wrapped_key.len())
            .field("ciphertext_len", &self.ciphertext.len())
            .finish()
    }
}

/// Encrypts `plaintext` under a fresh random data key, and wraps that key
/// with `master`. Sealing the same plaintext twice gives different bytes.
pub fn seal(master: &MasterKey, binding: Binding, plaintext: &[u8]) -> Result<Sealed, VaultError> {
    let rng = SystemRandom::new();
    let mut data_key = Zeroizing::new([0u8; DATA_KEY_LEN]);
    rng.fill(&mut data_key[..])
        .map_err(|_| random_source_failed())?;
    let data_aead = aead_key(&data_key[..])?;
    let ciphertext = encrypt(&rng, &data_aead, &secret_aad(binding), plaintext)?;
    let wrapped_key = wrap_data_key(&rng, master, binding, &data_key[..])?;
    Ok(Sealed {
        key_id: master.id().to_owned(),
        wrapped_key,
        ciphertext,
    })
}

/// Decrypts a sealed secret. Fails with [`VaultError::Decrypt`], and no
/// detail, for another master key, another binding or any changed byte.
pub fn open(master: &MasterKey, binding: Binding, sealed: &Sealed) -> Result<Secret, VaultError> {
    let data_key = unwrap_data_key(master, binding, sealed)?;
    let data_aead = aead_key(&data_key)?;
    let plaintext = decrypt(&data_aead, &secret_aad(binding), &sealed.ciphertext)?;
    // An exactly sized copy, so the box never reallocates and leaves an
    // unwiped copy behind; `plaintext` is wiped when it drops.
    Ok(Secret::from_boxed(Box::from(&plaintext[..])))
}

/// Moves a sealed secret from `old` to `new`: unwraps its data key with `old`
/// and wraps it with `new`. The ciphertext is copied unchanged and the
/// plaintext is never decrypted. Fails with [`VaultError::Decrypt`] if `old`
/// did not seal it, which includes a secret already moved to `new`: callers
/// rotating in batches skip rows whose `key_id` is already `new.id()`.
pub fn rewrap(
    old: &MasterKey,
    new: &MasterKey,
    binding: Binding,
    sealed: &Sealed,
) -> Result<Sealed, VaultError> {
    let data_key = unwrap_data_key(old, binding, sealed)?;
    let wrapped_key = wrap_data_key(&SystemRandom::new(), new, binding, &data_key)?;
    Ok(Sealed {
        key_id: new.id().to_owned(),
        wrapped_key,
        ciphertext: sealed.ciphertext.clone(),
    })
}

fn wrap_data_key(
    rng: &SystemRandom,
    master: &MasterKey,
    binding: Binding,
    data_key: &[u8],
) -> Result<Vec<u8>, VaultError> {
    encrypt(
        rng,
        master.aead(),
        &wrap_aad(master.id(), binding),
        data_key,
    )
}

fn unwrap_data_key(
    master: &MasterKey,
    binding: Binding,
    sealed: &Sealed,
) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    // Key IDs are public, so a plain comparison is fine. The check gives a
    // fast, certain answer; the AAD would refuse a mismatch anyway.
    if sealed.key_id != master.id() {
        return Err(VaultError::Decrypt);
    }
    let data_key = decrypt(
        master.aead(),
        &wrap_aad(master.id(), binding),
        &sealed.wrapped_key,
    )?;
    if data_key.len() != DATA_KEY_LEN {
        return Err(VaultError::Decrypt);
    }
    Ok(data_key)
}

fn aead_key(key: &[u8]) -> Result<LessSafeKey, VaultError> {
    let key = UnboundKey::new(&AES_256_GCM, key)
        .map_err(|_| VaultError::Crypto("cannot load an AES-256-GCM key".to_owned()))?;
    Ok(LessSafeKey::new(key))
}

/// `nonce || AES-GCM(plaintext) || tag`, with a fresh random nonce. Random
/// 96-bit nonces are safe here: a data key encrypts exactly one message, and a
/// master key wraps one data key per secret and per rotation, far below the
/// 2^32 messages per key that NIST allows for random nonces.
fn encrypt(
    rng: &SystemRandom,
    key: &LessSafeKey,
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, VaultError> {
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill(&mut nonce).map_err(|_| random_source_failed())?;
    // Sized up front so the plaintext copy is never left in a freed buffer,
    // and wiped if encryption fails while it still holds the plaintext.
    let mut out = Zeroizing::new(Vec::with_capacity(NONCE_LEN + plaintext.len() + TAG_LEN));
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plaintext);
    let tag = key
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut out[NONCE_LEN..],
        )
        .map_err(|_| VaultError::Crypto("AES-GCM encryption failed".to_owned()))?;
    out.extend_from_slice(tag.as_ref());
    Ok(std::mem::take(&mut *out))
}

/// The inverse of [`encrypt`]. The result is wiped when dropped.
fn decrypt(key: &LessSafeKey, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    if sealed.len() < NONCE_LEN + TAG_LEN {
        return Err(VaultError::Decrypt);
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| VaultError::Decrypt)?;
    let mut buf = Zeroizing::new(body.to_vec());
    let plaintext_len = key
        .open_in_place(nonce, Aad::from(aad), &mut buf)
        .map_err(|_| VaultError::Decrypt)?
        .len();
    // Shortening never reallocates; the tag bytes left in the spare capacity
    // are wiped with the rest when `buf` drops.
    buf.truncate(plaintext_len);
    Ok(buf)
}

fn wrap_aad(key_id: &str, binding: Binding) -> Vec<u8> {
    encode_fields(&[
        FORMAT_VERSION,
        PURPOSE_WRAP,
        key_id,
        binding.deployment,
        binding.variable,
    ])
}

fn secret_aad(binding: Binding) -> Vec<u8> {
    encode_fields(&[
        FORMAT_VERSION,
        PURPOSE_SECRET,
        binding.deployment,
        binding.variable,
    ])
}

/// Each field as its length (u64, big-endian) followed by its bytes.
fn encode_fields(fields: &[&str]) -> Vec<u8> {
    let len = fields.iter().map(|f| 8 + f.len()).sum();
    let mut out = Vec::with_capacity(len);
    for field in fields {
        // usize is at most 64 bits on every target Rust supports.
        out.extend_from_slice(&(field.len() as u64).to_be_bytes());
        out.extend_from_slice(field.as_bytes());
    }
    out
}

fn random_source_failed() -> VaultError {
    VaultError::Crypto("the system random source failed".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_boundaries_are_part_of_the_aad() {
        let ab_c = secret_aad(Binding::new("ab", "c"));
        let a_bc = secret_aad(Binding::new("a", "bc"));
        assert_ne!(ab_c, a_bc);
        assert_ne!(
            wrap_aad("k", Binding::new("ab", "c")),
            wrap_aad("k", Binding::new("a", "bc"))
        );
    }

    #[test]
    fn wrap_and_secret_aad_never_coincide() {
        let binding = Binding::new("dep-1", "TOKEN");
        assert_ne!(wrap_aad("", binding), secret_aad(binding));
    }

    #[test]
    fn aad_layout_is_length_prefixed_fields() {
        let aad = secret_aad(Binding::new("d", "v"));
        let mut expected = Vec::new();
        for field in ["wharf-vault-v1", "secret", "d", "v"] {
            expected.extend_from_slice(&(field.len() as u64).to_be_bytes());
            expected.extend_from_slice(field.as_bytes());
        }
        assert_eq!(aad, expected);
    }

    #[test]
    fn layouts_have_the_documented_sizes() {
        let master = MasterKey::generate();
        let sealed = seal(&master, Binding::new("d", "v"), b"hello").unwrap();
        assert_eq!(sealed.wrapped_key.len(), NONCE_LEN + DATA_KEY_LEN + TAG_LEN);
        assert_eq!(sealed.ciphertext.len(), NONCE_LEN + 5 + TAG_LEN);
    }

    #[test]
    fn too_short_inputs_fail_as_decrypt_errors() {
        let master = MasterKey::generate();
        for len in [0, 1, NONCE_LEN, NONCE_LEN + TAG_LEN - 1] {
            assert_eq!(
                decrypt(master.aead(), b"", &vec![0u8; len]).unwrap_err(),
                VaultError::Decrypt
            );
        }
    }
}
