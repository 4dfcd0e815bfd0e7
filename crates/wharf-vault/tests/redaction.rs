//! Debug output never shows key material, plaintexts or ciphertext bytes:
//! it ends up in logs.

mod support;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use support::{binding, master, sealed_under, KEY_A, PLAINTEXT};
use wharf_vault::{open, MasterKey, VaultError};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn master_key_debug_shows_only_its_id() {
    let key = master(KEY_A);
    for shown in [format!("{key:?}"), format!("{key:#?}")] {
        assert!(shown.contains(key.id()), "{shown}");
        assert!(!shown.contains(KEY_A), "{shown}");
        assert!(!shown.contains(&KEY_A[..8]), "{shown}");
        let raw = STANDARD.decode(KEY_A).unwrap();
        assert!(!shown.contains(&hex(&raw[..4])), "{shown}");
        assert!(!shown.contains(&format!("{:?}", &raw[..4])), "{shown}");
        // Nothing but the ID and the struct's punctuation.
        let rest = shown.replace(key.id(), "");
        assert!(
            rest.chars().filter(char::is_ascii_hexdigit).count() <= 4,
            "{shown}"
        );
    }
}

#[test]
fn sealed_debug_shows_the_key_id_and_lengths_only() {
    let sealed = sealed_under(&master(KEY_A));
    let shown = format!("{sealed:?}");
    assert!(shown.contains(&sealed.key_id), "{shown}");
    assert!(
        shown.contains(&sealed.ciphertext.len().to_string()),
        "{shown}"
    );
    for bytes in [&sealed.wrapped_key, &sealed.ciphertext] {
        assert!(!shown.contains(&hex(&bytes[..4])), "{shown}");
        assert!(!shown.contains(&format!("{:?}", &bytes[..4])), "{shown}");
        assert!(!shown.contains(&STANDARD.encode(&bytes[..6])), "{shown}");
    }
    assert!(!shown.contains("Distinctive"), "{shown}");
}

#[test]
fn secret_debug_shows_only_its_length() {
    let master = master(KEY_A);
    let secret = open(&master, binding(), &sealed_under(&master)).unwrap();
    for shown in [format!("{secret:?}"), format!("{secret:#?}")] {
        assert!(!shown.contains("Distinctive"), "{shown}");
        assert!(
            !shown.contains(std::str::from_utf8(&PLAINTEXT[..6]).unwrap()),
            "{shown}"
        );
        assert!(
            !shown.contains(&format!("{:?}", &PLAINTEXT[..4])),
            "{shown}"
        );
        assert!(shown.contains("REDACTED"), "{shown}");
    }
}

#[test]
fn errors_do_not_carry_key_material() {
    let err = MasterKey::from_config("changeme-changeme-changeme-changeme").unwrap_err();
    assert!(!format!("{err:?}").contains("changeme-"));
    assert!(!err.to_string().contains("changeme-"));
    assert_eq!(format!("{:?}", VaultError::Decrypt), "Decrypt");
}
