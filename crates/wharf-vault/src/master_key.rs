//! The master key: parsed once from the configuration, then used only to
//! wrap and unwrap per-secret data keys.

use std::fmt;
use std::fmt::Write as _;

use aws_lc_rs::aead::{self, LessSafeKey, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::{digest, hkdf};
use base64::alphabet;
use base64::engine::{DecodePaddingMode, Engine, GeneralPurpose, GeneralPurposeConfig};
use secrecy::zeroize::Zeroizing;

use crate::weak_key::{self, MIN_KEY_BYTES};
use crate::VaultError;

/// HKDF-SHA256 salt and info. Changing either changes every key and key ID,
/// so a new derivation gets a new string, never an edit of this one.
const DERIVATION_LABEL: &[u8] = b"wharf-vault master key v1";

/// Domain separation for key IDs, so an ID is never a hash used elsewhere.
const KEY_ID_LABEL: &[u8] = b"wharf-key-id";

/// Hex characters kept from the SHA-256 for a key ID: 64 bits, plenty to tell
/// a handful of configured keys apart, and short enough for a column and a log.
const KEY_ID_HEX_CHARS: usize = 16;

/// Padding is accepted present or absent, because people paste keys both ways.
const BASE64_CONFIG: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const BASE64_STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, BASE64_CONFIG);
const BASE64_URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, BASE64_CONFIG);

/// A master key: an AES-256-GCM key derived from the configured secret, and
/// its ID. Only the AEAD context is kept; the derived bytes are wiped once the
/// ID is computed. `Debug` shows the ID alone.
pub struct MasterKey {
    id: String,
    key: LessSafeKey,
}

impl MasterKey {
    /// Parses the configured master key: base64 (standard or URL-safe, padded
    /// or not) of at least 32 bytes, or else the raw text itself if that is at
    /// least 32 bytes. Surrounding whitespace is ignored, so a trailing newline
    /// from a key file is not part of the key. Refuses short, low-entropy and
    /// example values; the error names the problem and never the value.
    pub fn from_config(value: &str) -> Result<Self, VaultError> {
        let value = value.trim();
        if value.is_empty() {
            return Err(VaultError::WeakKey("it is empty".to_owned()));
        }
        let material = key_material(value).ok_or_else(|| {
            VaultError::WeakKey(format!(
                "it is shorter than {MIN_KEY_BYTES} bytes (base64 of {MIN_KEY_BYTES} bytes is 43 or 44 characters)"
            ))
        })?;
        weak_key::check(value, &material).map_err(VaultError::WeakKey)?;
        Ok(Self::derive(&material))
    }

    /// A random key, for tests and dev mode. Panics only if the operating
    /// system's random source fails, when nothing else could work either.
    pub fn generate() -> Self {
        let mut material = Zeroizing::new([0u8; MIN_KEY_BYTES]);
        SystemRandom::new()
            .fill(&mut material[..])
            .expect("the system random source failed");
        Self::derive(&material[..])
    }

    /// The key's stable short ID: the first 16 hex characters of
    /// SHA-256("wharf-key-id" || derived key). Stored with every sealed secret,
    /// so a rotation knows which rows still use this key. Not secret.
    pub fn id(&self) -> &str {
        &self.id
    }

    pub(crate) fn aead(&self) -> &LessSafeKey {
        &self.key
    }

    /// HKDF-SHA256 over the configured material, so any length of at least 32
    /// bytes gives a uniform 256-bit key.
    fn derive(material: &[u8]) -> Self {
        let mut derived = Zeroizing::new([0u8; MIN_KEY_BYTES]);
        hkdf::Salt::new(hkdf::HKDF_SHA256, DERIVATION_LABEL)
            .extract(material)
            .expand(&[DERIVATION_LABEL], &aead::AES_256_GCM)
            .and_then(|okm| okm.fill(&mut derived[..]))
            .expect("HKDF-SHA256 can always produce 32 bytes");
        let key =
            UnboundKey::new(&aead::AES_256_GCM, &derived[..]).expect("32 bytes is an AES-256 key");
        Self {
            id: key_id(&derived[..]),
            key: LessSafeKey::new(key),
        }
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// The bytes the key is derived from: the decoded base64 if the value is
/// base64 of at least 32 bytes, else the value's own bytes if there are at
/// least 32 of them. A 40-character random string that happens to be valid
/// base64 of 30 bytes is therefore taken as text, which is at least as strong.
fn key_material(value: &str) -> Option<Zeroizing<Vec<u8>>> {
    let decoded = [BASE64_STANDARD, BASE64_URL_SAFE]
        .iter()
        .find_map(|engine| engine.decode(value).ok())
        .map(Zeroizing::new);
    match decoded {
        Some(bytes) if bytes.len() >= MIN_KEY_BYTES => Some(bytes),
        _ if value.len() >= MIN_KEY_BYTES => Some(Zeroizing::new(value.as_bytes().to_vec())),
        _ => None,
    }
}

fn key_id(derived: &[u8]) -> String {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(KEY_ID_LABEL);
    ctx.update(derived);
    let digest = ctx.finish();
    let mut id = String::with_capacity(KEY_ID_HEX_CHARS);
    for byte in &digest.as_ref()[..KEY_ID_HEX_CHARS / 2] {
        write!(id, "{byte:02x}").expect("writing to a String cannot fail");
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_is_decoded_in_every_accepted_spelling() {
        let bytes: Vec<u8> = (0u8..32).map(|b| b.wrapping_mul(97) ^ 0x5a).collect();
        let spellings = [
            base64::engine::general_purpose::STANDARD.encode(&bytes),
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(&bytes),
            base64::engine::general_purpose::URL_SAFE.encode(&bytes),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes),
        ];
        for spelling in &spellings {
            assert_eq!(
                key_material(spelling).as_deref().map(Vec::as_slice),
                Some(&bytes[..])
            );
        }
    }

    #[test]
    fn text_is_used_as_is_when_it_is_not_base64_of_32_bytes() {
        let text = "k3J9xQ2mP7vL0wR5-t8Yb1Nc6Zd4Hs!Ge"; // '!' is not base64
        assert_eq!(
            key_material(text).as_deref().map(Vec::as_slice),
            Some(text.as_bytes())
        );
        // Valid base64, but of only 30 bytes: taken as 40 bytes of text.
        let short_base64 = "k3J9xQ2mP7vL0wR5t8Yb1Nc6Zd4HsGeAq0Wx9Ppl";
        assert_eq!(
            key_material(short_base64).as_deref().map(Vec::as_slice),
            Some(short_base64.as_bytes())
        );
        assert!(key_material("k3J9xQ2mP7vL0wR5").is_none());
    }

    #[test]
    fn key_ids_are_16_lowercase_hex_characters() {
        let key = MasterKey::generate();
        assert_eq!(key.id().len(), KEY_ID_HEX_CHARS);
        assert!(key
            .id()
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    }
}
