//! A decrypted secret, held so that it is wiped when dropped and never
//! printed by accident.

use std::fmt;

use secrecy::{ExposeSecret, SecretSlice};

/// The plaintext of an opened secret. Its bytes are zeroed on drop; `Debug`
/// shows only the length; there is no `Display`, `Clone` or `PartialEq`, so
/// reading it is always a visible [`Secret::expose`] call.
pub struct Secret(SecretSlice<u8>);

impl Secret {
    /// Takes ownership of `bytes`, which must already be exactly sized: a
    /// later reallocation would leave an unwiped copy behind.
    pub(crate) fn from_boxed(bytes: Box<[u8]>) -> Self {
        Self(SecretSlice::new(bytes))
    }

    /// The plaintext bytes, for handing to the process that needs them.
    pub fn expose(&self) -> &[u8] {
        self.0.expose_secret()
    }

    /// The plaintext as text, or `None` if it is not UTF-8 (credentials
    /// normally are, since they end up in environment variables).
    pub fn expose_str(&self) -> Option<&str> {
        std::str::from_utf8(self.expose()).ok()
    }

    /// The plaintext's length in bytes.
    pub fn len(&self) -> usize {
        self.expose().len()
    }

    /// True for an empty plaintext.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret([REDACTED; {} bytes])", self.len())
    }
}
