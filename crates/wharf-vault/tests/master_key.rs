//! Parsing the configured master key: what is refused, what is accepted, and
//! the key IDs that identify it.

mod support;

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use support::{KEY_A, KEY_B};
use wharf_vault::{MasterKey, VaultError};

/// A long random string that is not base64 (it has punctuation), so it is
/// used as text.
const RANDOM_TEXT: &str = "y9wX8eew!MHfvVli30sH#HjeopbXNpKj@axMKIiy2xrYhv";

fn refusal(value: &str) -> String {
    match MasterKey::from_config(value) {
        Err(VaultError::WeakKey(reason)) => {
            let message = VaultError::WeakKey(reason.clone()).to_string();
            if value.trim().len() >= 4 {
                assert!(
                    !message.contains(value.trim()),
                    "echoes the value: {message}"
                );
                assert!(
                    !message.contains(&value.trim()[..4]),
                    "echoes the value: {message}"
                );
            }
            reason
        }
        Err(other) => panic!("{value:?}: expected WeakKey, got {other:?}"),
        Ok(key) => panic!("{value:?} was accepted as {key:?}"),
    }
}

#[test]
fn empty_and_short_values_are_refused() {
    assert!(refusal("").contains("empty"));
    assert!(refusal("   \n").contains("empty"));
    assert!(refusal("k3J9xQ2mP7vL0wR5").contains("shorter than 32 bytes"));
    // 31 bytes of text; and base64 of 31 random bytes (42 characters) is
    // 42 bytes of text, so that one is accepted as text instead.
    assert!(refusal("k3J9xQ2mP7vL0wR5t8Yb1Nc6Zd4Hs!G").contains("shorter"));
    let base64_of_16 = STANDARD.encode([
        7u8, 201, 33, 90, 14, 250, 61, 128, 3, 77, 190, 45, 222, 9, 160, 99,
    ]);
    assert!(refusal(&base64_of_16).contains("shorter"));
}

#[test]
fn low_entropy_values_are_refused() {
    assert!(refusal(&"a".repeat(64)).contains("distinct"));
    assert!(refusal(&"ab".repeat(32)).contains("distinct"));
    assert!(refusal(&STANDARD.encode([0u8; 32])).contains("distinct"));
    assert!(refusal(&STANDARD.encode([0xffu8; 48])).contains("distinct"));
    assert!(refusal("abcdefgh".repeat(5).as_str()).contains("pattern"));
    assert!(refusal("0123456789abcdef0123456789abcdef").contains("pattern"));
    assert!(refusal("0123456789abcdefghijklmnopqrstuvwxyz").contains("neighbouring"));
    assert!(refusal("zyxwvutsrqponmlkjihgfedcba9876543210").contains("neighbouring"));
}

#[test]
fn example_values_are_refused() {
    for value in [
        "changeme-changeme-changeme-changeme",
        "CHANGE_ME_before_going_to_production_91",
        "this-is-an-example-master-key-1234567",
        "replace-me-with-32-random-bytes-please",
        "your-secret-here-xxxxxxxxxxxxxxxxxxxxx",
        "insecure-dev-key-do-not-use-in-prod-91",
    ] {
        let reason = refusal(value);
        assert!(
            reason.contains("placeholder") || reason.contains("pattern"),
            "{value:?}: {reason}"
        );
    }
    // Base64 of a placeholder is still a placeholder.
    let encoded = STANDARD.encode("please-changeme-before-deploying-wharf");
    assert!(refusal(&encoded).contains("placeholder"));
}

#[test]
fn base64_of_32_random_bytes_is_accepted_in_every_spelling() {
    let bytes = STANDARD.decode(KEY_B).unwrap();
    let id = MasterKey::from_config(KEY_B).unwrap().id().to_owned();
    for spelling in [
        STANDARD.encode(&bytes),
        STANDARD_NO_PAD.encode(&bytes),
        URL_SAFE.encode(&bytes),
        URL_SAFE_NO_PAD.encode(&bytes),
        format!("  {KEY_B}\n"),
    ] {
        let key = MasterKey::from_config(&spelling).unwrap();
        assert_eq!(key.id(), id, "{spelling:?} is the same key");
    }
}

#[test]
fn a_long_random_string_is_accepted() {
    MasterKey::from_config(RANDOM_TEXT).unwrap();
}

#[test]
fn random_keys_in_base64_or_hex_always_pass_the_checks() {
    use aws_lc_rs::rand::{SecureRandom, SystemRandom};
    let rng = SystemRandom::new();
    for _ in 0..2_000 {
        let mut bytes = [0u8; 32];
        rng.fill(&mut bytes).unwrap();
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        for value in [STANDARD.encode(bytes), URL_SAFE_NO_PAD.encode(bytes), hex] {
            if let Err(err) = MasterKey::from_config(&value) {
                panic!("a random key was refused: {err}");
            }
        }
    }
}

#[test]
fn key_ids_are_stable_for_the_same_value() {
    let first = MasterKey::from_config(KEY_A).unwrap();
    let second = MasterKey::from_config(KEY_A).unwrap();
    assert_eq!(first.id(), second.id());
    assert_eq!(first.id().len(), 16);
}

#[test]
fn key_ids_differ_for_different_values() {
    let ids = [
        MasterKey::from_config(KEY_A).unwrap().id().to_owned(),
        MasterKey::from_config(KEY_B).unwrap().id().to_owned(),
        MasterKey::from_config(RANDOM_TEXT).unwrap().id().to_owned(),
        MasterKey::generate().id().to_owned(),
        MasterKey::generate().id().to_owned(),
    ];
    for (i, a) in ids.iter().enumerate() {
        for b in &ids[i + 1..] {
            assert_ne!(a, b);
        }
    }
}

#[test]
fn the_key_id_does_not_reveal_the_value() {
    let key = MasterKey::from_config(KEY_A).unwrap();
    let raw = STANDARD.decode(KEY_A).unwrap();
    let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    assert!(!hex.contains(key.id()));
    assert!(!KEY_A.contains(key.id()));
}
