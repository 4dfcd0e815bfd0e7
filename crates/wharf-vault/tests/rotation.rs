//! Rotating the master key: `rewrap` moves the data key to the new master and
//! leaves the ciphertext alone.

mod support;

use std::time::Instant;

use support::{binding, master, sealed_under, KEY_A, KEY_B, PLAINTEXT};
use wharf_vault::{open, rewrap, seal, Binding, MasterKey, Sealed, VaultError};

#[test]
fn after_rewrap_the_new_key_opens_it_and_the_old_one_does_not() {
    let old = master(KEY_A);
    let new = master(KEY_B);
    let sealed = sealed_under(&old);
    let moved = rewrap(&old, &new, binding(), &sealed).unwrap();

    assert_eq!(moved.key_id, new.id());
    assert_eq!(open(&new, binding(), &moved).unwrap().expose(), PLAINTEXT);
    assert_eq!(
        open(&old, binding(), &moved).unwrap_err(),
        VaultError::Decrypt
    );
    // Even relabelled as the old key's, the new wrapping is not the old key's.
    let mut relabelled = moved.clone();
    relabelled.key_id = old.id().to_owned();
    assert_eq!(
        open(&old, binding(), &relabelled).unwrap_err(),
        VaultError::Decrypt
    );
}

#[test]
fn rewrap_leaves_the_ciphertext_bytes_unchanged() {
    let old = master(KEY_A);
    let new = master(KEY_B);
    let sealed = sealed_under(&old);
    let moved = rewrap(&old, &new, binding(), &sealed).unwrap();
    assert_eq!(moved.ciphertext, sealed.ciphertext);
    assert_ne!(moved.wrapped_key, sealed.wrapped_key);
    assert_eq!(moved.wrapped_key.len(), sealed.wrapped_key.len());
}

#[test]
fn rewrap_with_a_wrong_old_key_fails() {
    let old = master(KEY_A);
    let new = master(KEY_B);
    let sealed = sealed_under(&old);
    let stranger = MasterKey::generate();
    assert_eq!(
        rewrap(&stranger, &new, binding(), &sealed).unwrap_err(),
        VaultError::Decrypt
    );
    // A row already moved is not moved again: its key_id is no longer `old`'s.
    let moved = rewrap(&old, &new, binding(), &sealed).unwrap();
    assert_eq!(
        rewrap(&old, &new, binding(), &moved).unwrap_err(),
        VaultError::Decrypt
    );
}

#[test]
fn rewrap_with_a_wrong_binding_fails() {
    let old = master(KEY_A);
    let new = master(KEY_B);
    let sealed = sealed_under(&old);
    let elsewhere = Binding::new("dep_other", "GITHUB_TOKEN");
    assert_eq!(
        rewrap(&old, &new, elsewhere, &sealed).unwrap_err(),
        VaultError::Decrypt
    );
}

#[test]
fn rewrap_keeps_the_binding() {
    let old = master(KEY_A);
    let new = master(KEY_B);
    let moved = rewrap(&old, &new, binding(), &sealed_under(&old)).unwrap();
    let elsewhere = Binding::new("dep_other", "GITHUB_TOKEN");
    assert_eq!(
        open(&new, elsewhere, &moved).unwrap_err(),
        VaultError::Decrypt
    );
}

#[test]
fn rotating_back_and_forth_keeps_the_secret() {
    let a = master(KEY_A);
    let b = master(KEY_B);
    let sealed = sealed_under(&a);
    let there = rewrap(&a, &b, binding(), &sealed).unwrap();
    let back = rewrap(&b, &a, binding(), &there).unwrap();
    assert_eq!(back.key_id, a.id());
    assert_eq!(open(&a, binding(), &back).unwrap().expose(), PLAINTEXT);
    assert_eq!(back.ciphertext, sealed.ciphertext);
}

/// Throughput of a key rotation. Run with
/// `cargo test -p wharf-vault --release --test rotation -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement, not a check; run by hand in release mode"]
#[expect(clippy::print_stdout, reason = "the measurement is the output")]
fn rewrap_throughput() {
    const SECRETS: usize = 10_000;
    let old = MasterKey::generate();
    let new = MasterKey::generate();
    let names: Vec<String> = (0..SECRETS).map(|i| format!("VAR_{i}")).collect();
    let sealed: Vec<Sealed> = names
        .iter()
        .map(|name| {
            seal(
                &old,
                Binding::new("dep_bench", name),
                b"a 40-byte credential, typical of tokens",
            )
            .unwrap()
        })
        .collect();

    let started = Instant::now();
    let moved: Vec<Sealed> = names
        .iter()
        .zip(&sealed)
        .map(|(name, s)| rewrap(&old, &new, Binding::new("dep_bench", name), s).unwrap())
        .collect();
    let elapsed = started.elapsed();

    assert_eq!(moved.len(), SECRETS);
    assert!(moved.iter().all(|s| s.key_id == new.id()));
    let per_second = SECRETS as f64 / elapsed.as_secs_f64();
    println!(
        "rewrapped {SECRETS} secrets in {:.1} ms: {per_second:.0} secrets/s",
        elapsed.as_secs_f64() * 1e3
    );
}
