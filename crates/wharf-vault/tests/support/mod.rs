//! Fixed keys, a binding and a distinctive plaintext shared by the tests.
#![allow(dead_code, reason = "each test binary uses a different part")]

use wharf_vault::{Binding, MasterKey, Sealed};

/// Base64 of 32 random bytes, as an operator would configure it.
pub const KEY_A: &str = "Tjaz0W01fT4giy5AzxqE1GJR4ElK7jdCW9sYlUlIsTY=";
/// A second, unrelated key.
pub const KEY_B: &str = "54vy7Le2Tjswd4jN2Ynp/NqGuItC0btWg8GW5+x4BLY=";

pub const DEPLOYMENT: &str = "dep_01J9ZQ4T7M";
pub const VARIABLE: &str = "GITHUB_TOKEN";

/// Easy to search for in ciphertexts and debug output.
pub const PLAINTEXT: &[u8] = b"ghp_DistinctiveWharfVaultPlaintext_Q7x2K9";

pub fn master(value: &str) -> MasterKey {
    MasterKey::from_config(value).expect("a test key that passes the checks")
}

pub fn binding() -> Binding<'static> {
    Binding::new(DEPLOYMENT, VARIABLE)
}

pub fn sealed_under(master: &MasterKey) -> Sealed {
    wharf_vault::seal(master, binding(), PLAINTEXT).expect("sealing succeeds")
}

/// True if `needle` occurs anywhere in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}
