//! A sealed secret opens only where it was sealed: its deployment and variable.

mod support;

use support::{binding, master, sealed_under, DEPLOYMENT, KEY_A, PLAINTEXT, VARIABLE};
use wharf_vault::{open, seal, Binding, VaultError};

#[test]
fn another_deployment_cannot_open_it() {
    let master = master(KEY_A);
    let sealed = sealed_under(&master);
    let err = open(&master, Binding::new("dep_other", VARIABLE), &sealed).unwrap_err();
    assert_eq!(err, VaultError::Decrypt);
}

#[test]
fn another_variable_cannot_open_it() {
    let master = master(KEY_A);
    let sealed = sealed_under(&master);
    let err = open(&master, Binding::new(DEPLOYMENT, "NPM_TOKEN"), &sealed).unwrap_err();
    assert_eq!(err, VaultError::Decrypt);
}

#[test]
fn moving_characters_between_deployment_and_variable_does_not_open_it() {
    let master = master(KEY_A);
    let sealed = seal(&master, Binding::new("dep-1", "AB"), PLAINTEXT).unwrap();
    assert!(open(&master, Binding::new("dep-1A", "B"), &sealed).is_err());
    assert!(open(&master, Binding::new("dep-", "1AB"), &sealed).is_err());
    assert!(open(&master, Binding::new("AB", "dep-1"), &sealed).is_err());
}

#[test]
fn swapping_two_rows_fails_both_ways() {
    let master = master(KEY_A);
    let row_a = Binding::new("dep_a", "TOKEN");
    let row_b = Binding::new("dep_b", "TOKEN");
    let sealed_a = seal(&master, row_a, b"secret of a").unwrap();
    let sealed_b = seal(&master, row_b, b"secret of b").unwrap();

    assert_eq!(
        open(&master, row_a, &sealed_b).unwrap_err(),
        VaultError::Decrypt
    );
    assert_eq!(
        open(&master, row_b, &sealed_a).unwrap_err(),
        VaultError::Decrypt
    );
    // Each still opens in its own row.
    assert_eq!(
        open(&master, row_a, &sealed_a).unwrap().expose(),
        b"secret of a"
    );
    assert_eq!(
        open(&master, row_b, &sealed_b).unwrap().expose(),
        b"secret of b"
    );
}

#[test]
fn swapping_only_the_ciphertext_or_only_the_wrapped_key_fails() {
    let master = master(KEY_A);
    let row_a = Binding::new("dep_a", "TOKEN");
    let row_b = Binding::new("dep_a", "OTHER");
    let sealed_a = seal(&master, row_a, b"secret of a").unwrap();
    let sealed_b = seal(&master, row_b, b"secret of b").unwrap();

    let mut mixed = sealed_a.clone();
    mixed.ciphertext = sealed_b.ciphertext.clone();
    assert!(open(&master, row_a, &mixed).is_err());
    assert!(open(&master, row_b, &mixed).is_err());

    let mut mixed = sealed_a.clone();
    mixed.wrapped_key = sealed_b.wrapped_key.clone();
    assert!(open(&master, row_a, &mixed).is_err());
    assert!(open(&master, row_b, &mixed).is_err());
}

#[test]
fn the_right_binding_still_opens_it() {
    let master = master(KEY_A);
    let sealed = sealed_under(&master);
    assert_eq!(
        open(&master, binding(), &sealed).unwrap().expose(),
        PLAINTEXT
    );
}
