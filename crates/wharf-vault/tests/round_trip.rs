//! Sealing and opening with the right key and binding.

mod support;

use support::{binding, contains, master, sealed_under, KEY_A, PLAINTEXT};
use wharf_vault::{open, seal, Binding, MasterKey};

#[test]
fn a_sealed_secret_opens_to_its_plaintext() {
    let master = master(KEY_A);
    let sealed = sealed_under(&master);
    assert_eq!(sealed.key_id, master.id());
    let secret = open(&master, binding(), &sealed).unwrap();
    assert_eq!(secret.expose(), PLAINTEXT);
    assert_eq!(
        secret.expose_str(),
        Some(std::str::from_utf8(PLAINTEXT).unwrap())
    );
}

#[test]
fn a_key_parsed_again_from_the_same_config_opens_it() {
    let sealed = sealed_under(&master(KEY_A));
    let secret = open(&master(KEY_A), binding(), &sealed).unwrap();
    assert_eq!(secret.expose(), PLAINTEXT);
}

#[test]
fn empty_binary_and_large_plaintexts_round_trip() {
    let master = MasterKey::generate();
    let binary: Vec<u8> = (0..=255).collect();
    let large = vec![0xa5u8; 1 << 20];
    for plaintext in [&b""[..], &binary[..], &large[..]] {
        let sealed = seal(&master, binding(), plaintext).unwrap();
        let secret = open(&master, binding(), &sealed).unwrap();
        assert_eq!(secret.expose(), plaintext);
        assert_eq!(secret.len(), plaintext.len());
    }
    let secret = open(
        &master,
        binding(),
        &seal(&master, binding(), &[0xff, 0xfe]).unwrap(),
    )
    .unwrap();
    assert_eq!(secret.expose_str(), None, "not UTF-8");
}

#[test]
fn empty_deployment_and_variable_still_bind() {
    let master = MasterKey::generate();
    let empty = Binding::new("", "");
    let sealed = seal(&master, empty, PLAINTEXT).unwrap();
    assert_eq!(open(&master, empty, &sealed).unwrap().expose(), PLAINTEXT);
    assert!(open(&master, Binding::new("", "X"), &sealed).is_err());
}

#[test]
fn sealing_the_same_plaintext_twice_gives_different_bytes() {
    let master = master(KEY_A);
    let first = sealed_under(&master);
    let second = sealed_under(&master);
    assert_ne!(first.wrapped_key, second.wrapped_key);
    assert_ne!(first.ciphertext, second.ciphertext);
    // Different nonces, and different data keys behind them.
    assert_ne!(first.ciphertext[..12], second.ciphertext[..12]);
    assert_ne!(first.wrapped_key[..12], second.wrapped_key[..12]);
    assert_ne!(first.ciphertext[12..], second.ciphertext[12..]);
}

#[test]
fn the_stored_bytes_never_contain_the_plaintext() {
    let master = master(KEY_A);
    for _ in 0..50 {
        let sealed = sealed_under(&master);
        assert!(!contains(&sealed.ciphertext, PLAINTEXT));
        assert!(!contains(&sealed.wrapped_key, PLAINTEXT));
        assert!(!contains(sealed.key_id.as_bytes(), PLAINTEXT));
        // Not even a recognisable piece of it.
        assert!(!contains(&sealed.ciphertext, &PLAINTEXT[..8]));
    }
}

#[test]
fn master_keys_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<MasterKey>();
    assert_send_sync::<wharf_vault::Sealed>();
}
