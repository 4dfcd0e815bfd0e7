//! Any change to the stored bytes, or the wrong master key, fails to open,
//! always with the same undetailed error.

mod support;

use support::{binding, master, sealed_under, KEY_A, KEY_B};
use wharf_vault::{open, MasterKey, Sealed, VaultError};

fn assert_refused(master: &MasterKey, sealed: &Sealed, what: &str) {
    match open(master, binding(), sealed) {
        Err(VaultError::Decrypt) => {}
        Err(other) => panic!("{what}: expected Decrypt, got {other:?}"),
        Ok(_) => panic!("{what}: a changed value opened"),
    }
}

#[test]
fn flipping_any_bit_of_the_wrapped_key_fails() {
    let master = master(KEY_A);
    let sealed = sealed_under(&master);
    for i in 0..sealed.wrapped_key.len() {
        for bit in [0x01u8, 0x80] {
            let mut tampered = sealed.clone();
            tampered.wrapped_key[i] ^= bit;
            assert_refused(&master, &tampered, &format!("wrapped_key[{i}] ^ {bit:#x}"));
        }
    }
}

#[test]
fn flipping_any_bit_of_the_ciphertext_fails() {
    let master = master(KEY_A);
    let sealed = sealed_under(&master);
    for i in 0..sealed.ciphertext.len() {
        for bit in [0x01u8, 0x80] {
            let mut tampered = sealed.clone();
            tampered.ciphertext[i] ^= bit;
            assert_refused(&master, &tampered, &format!("ciphertext[{i}] ^ {bit:#x}"));
        }
    }
}

#[test]
fn truncated_or_extended_bytes_fail() {
    let master = master(KEY_A);
    let sealed = sealed_under(&master);
    for len in 0..sealed.wrapped_key.len() {
        let mut tampered = sealed.clone();
        tampered.wrapped_key.truncate(len);
        assert_refused(&master, &tampered, &format!("wrapped_key cut to {len}"));
    }
    for len in 0..sealed.ciphertext.len() {
        let mut tampered = sealed.clone();
        tampered.ciphertext.truncate(len);
        assert_refused(&master, &tampered, &format!("ciphertext cut to {len}"));
    }
    let mut tampered = sealed.clone();
    tampered.wrapped_key.push(0);
    assert_refused(&master, &tampered, "wrapped_key extended");
    let mut tampered = sealed;
    tampered.ciphertext.push(0);
    assert_refused(&master, &tampered, "ciphertext extended");
}

#[test]
fn a_wrong_master_key_fails() {
    let sealed = sealed_under(&master(KEY_A));
    assert_refused(&master(KEY_B), &sealed, "another configured key");
    assert_refused(&MasterKey::generate(), &sealed, "a generated key");
}

#[test]
fn a_wrong_master_key_fails_even_when_the_key_id_is_relabelled() {
    let sealed = sealed_under(&master(KEY_A));
    let other = master(KEY_B);
    let mut relabelled = sealed;
    relabelled.key_id = other.id().to_owned();
    assert_refused(&other, &relabelled, "key_id set to the other key's");
}

#[test]
fn a_changed_key_id_fails_with_the_right_key() {
    let master = master(KEY_A);
    let sealed = sealed_under(&master);
    for key_id in ["", "0000000000000000", &sealed.key_id.to_uppercase()] {
        let mut tampered = sealed.clone();
        tampered.key_id = key_id.to_owned();
        assert_refused(&master, &tampered, &format!("key_id {key_id:?}"));
    }
}

#[test]
fn the_decrypt_error_says_nothing_about_why() {
    let sealed = sealed_under(&master(KEY_A));
    let message = open(&master(KEY_B), binding(), &sealed)
        .unwrap_err()
        .to_string();
    for detail in ["tag", "nonce", "key_id", "length", "tamper"] {
        assert!(!message.contains(detail), "{message}");
    }
}
