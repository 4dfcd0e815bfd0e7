//! Password hashing for web login: argon2id with OWASP's current minimum
//! (19 MiB of memory, 2 passes, 1 lane). It runs only at login, never per
//! request: API calls use tokens, whose check is one SHA-256.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::OnceLock;
use wharf_core::ValidationError;

/// Why a password could not be hashed: too weak (the caller's to fix), or
/// the hashing itself failed (ours).
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error(transparent)]
    Weak(#[from] ValidationError),
    #[error("hashing the password failed")]
    Hash(#[source] argon2::password_hash::Error),
    #[error("the password hashing task stopped")]
    Task(#[source] tokio::task::JoinError),
}

/// Shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest, in bytes: bounds the work one login attempt can ask for.
pub const MAX_PASSWORD_BYTES: usize = 1024;

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn validate_password(password: &str) -> Result<(), ValidationError> {
    if password.chars().count() < MIN_PASSWORD_CHARS || password.len() > MAX_PASSWORD_BYTES {
        return Err(ValidationError::new(
            "weak_password",
            format!(
                "a password is at least {MIN_PASSWORD_CHARS} characters (and at most {MAX_PASSWORD_BYTES} bytes)"
            ),
        ));
    }
    Ok(())
}

/// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) for a new password.
pub async fn hash_password(password: String) -> Result<String, PasswordError> {
    validate_password(&password)?;
    tokio::task::spawn_blocking(move || {
        let salt = new_salt();
        argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(PasswordError::Hash)
    })
    .await
    .map_err(PasswordError::Task)?
}

/// Whether `password` matches `stored`. With no stored hash (no such user,
/// or no password set) a dummy hash is checked anyway, so the answer takes
/// as long either way and timing does not reveal whether the user exists.
pub async fn verify_password(stored: Option<String>, password: String) -> bool {
    if password.len() > MAX_PASSWORD_BYTES {
        return false;
    }
    tokio::task::spawn_blocking(move || {
        let exists = stored.is_some();
        let phc = stored.unwrap_or_else(|| dummy_hash().to_owned());
        let Ok(parsed) = PasswordHash::new(&phc) else {
            return false;
        };
        let matches = argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        exists && matches
    })
    .await
    .unwrap_or(false)
}

/// 16 bytes from the OS random source (through `rand`'s thread RNG, which
/// is seeded from it).
fn new_salt() -> SaltString {
    SaltString::encode_b64(&rand::random::<[u8; 16]>()).expect("16 bytes is a valid salt")
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = new_salt();
        let random: [u8; 16] = rand::random();
        argon2()
            .hash_password(&random, &salt)
            .expect("hashing random bytes")
            .to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_salted_and_verify() {
        let a = hash_password("correct horse battery".into()).await.unwrap();
        let b = hash_password("correct horse battery".into()).await.unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(verify_password(Some(a.clone()), "correct horse battery".into()).await);
        assert!(!verify_password(Some(a), "correct horse battery!".into()).await);
        assert!(!verify_password(None, "correct horse battery".into()).await);
        assert!(!verify_password(Some("not a hash".into()), "x".into()).await);
    }

    #[tokio::test]
    async fn short_passwords_are_refused() {
        match hash_password("short".into()).await {
            Err(PasswordError::Weak(e)) => assert_eq!(e.code, "weak_password"),
            other => panic!("{other:?}"),
        }
    }
}
