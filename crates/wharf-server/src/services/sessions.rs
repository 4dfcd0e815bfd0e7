//! Web sessions: password login, the session behind a cookie, and logout.
//!
//! The cookie carries 256 random bits; the database keeps only their
//! SHA-256, so reading the database does not yield a live session. Each
//! session has its own CSRF token, which every state-changing form echoes.

use crate::services::accounts::Accounts;
use crate::services::passwords;
use sha2::{Digest, Sha256};
use wharf_core::model::{NewAuditEvent, NewSession, Session};
use wharf_core::ports::RepoError;
use wharf_core::{audit, Timestamp};

/// The cookie that holds the session ID.
pub const SESSION_COOKIE: &str = "wharf_session";

/// What the browser receives after a successful login.
#[derive(Debug)]
pub struct StartedSession {
    /// The cookie value: shown to the browser once, stored only hashed.
    pub cookie_value: String,
    pub session: Session,
}

/// 256 bits from the OS-seeded RNG, as 64 hex characters.
pub fn random_secret() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

fn id_hash(cookie_value: &str) -> String {
    hex::encode(Sha256::digest(cookie_value.as_bytes()))
}

/// The audit target of a failed login whose name is no user's.
pub const UNKNOWN_USER_TARGET: &str = "user:(unknown)";

impl Accounts {
    /// Checks a name and password; on success starts a session. A wrong
    /// password and an unknown user look the same to the caller, in outcome
    /// and in time (see `passwords::verify_password`).
    pub async fn login(
        &self,
        name: &str,
        password: String,
        ip_hash: Option<String>,
    ) -> Result<Option<StartedSession>, RepoError> {
        let found = if crate::services::accounts::validate_user_name(name).is_ok() {
            self.users.find_login(name).await?
        } else {
            None
        };
        let (user, stored) = match found {
            Some((user, hash)) => (Some(user), hash),
            None => (None, None),
        };
        // Only a name that exists goes into the audit log: people type their
        // password into the name field, and an unknown name is often one.
        let target = match &user {
            Some(user) => format!("user:{}", user.name),
            None => UNKNOWN_USER_TARGET.to_owned(),
        };
        let event = |action: &str, user_id: Option<i64>| {
            NewAuditEvent::new(action, target.clone())
                .by(user_id, None)
                .from_ip(ip_hash.clone())
        };
        let user = match (passwords::verify_password(stored, password).await, user) {
            (true, Some(user)) => user,
            (_, user) => {
                self.audit
                    .record(event(audit::LOGIN_FAILED, user.map(|u| u.id)))
                    .await?;
                return Ok(None);
            }
        };
        let cookie_value = random_secret();
        let now = Timestamp::now();
        let new = NewSession {
            id_hash: id_hash(&cookie_value),
            user_id: user.id,
            csrf_token: random_secret(),
            expires_at: now.plus(self.session_ttl),
        };
        let session = Session {
            user: user.clone(),
            csrf_token: new.csrf_token.clone(),
            created_at: now,
            expires_at: new.expires_at,
        };
        self.sessions
            .create_session(new, event(audit::LOGIN, Some(user.id)))
            .await?;
        Ok(Some(StartedSession {
            cookie_value,
            session,
        }))
    }

    /// The live session a cookie names, if any.
    pub async fn session(&self, cookie_value: &str) -> Result<Option<Session>, RepoError> {
        if cookie_value.len() != 64 {
            return Ok(None);
        }
        self.sessions
            .find_session(&id_hash(cookie_value), Timestamp::now())
            .await
    }

    /// Ends the session server-side, so a copied cookie stops working too.
    pub async fn logout(
        &self,
        cookie_value: &str,
        session: &Session,
        ip_hash: Option<String>,
    ) -> Result<(), RepoError> {
        self.sessions.delete_session(&id_hash(cookie_value)).await?;
        self.audit
            .record(
                NewAuditEvent::new(audit::LOGOUT, format!("user:{}", session.user.name))
                    .by(Some(session.user.id), None)
                    .from_ip(ip_hash),
            )
            .await
    }
}

/// Constant-time comparison of a submitted CSRF token with the expected one.
pub fn csrf_matches(expected: &str, submitted: &str) -> bool {
    use subtle::ConstantTimeEq;
    expected.len() == submitted.len() && bool::from(expected.as_bytes().ct_eq(submitted.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_tokens_compare_exactly() {
        let t = random_secret();
        assert!(csrf_matches(&t, &t.clone()));
        assert!(!csrf_matches(&t, &t[..63]));
        assert!(!csrf_matches(&t, &random_secret()));
        assert!(!csrf_matches(&t, ""));
    }

    #[test]
    fn session_ids_are_random_and_stored_hashed() {
        let a = random_secret();
        assert_eq!(a.len(), 64);
        assert_ne!(a, random_secret());
        assert_ne!(id_hash(&a), a);
        assert_eq!(id_hash(&a), id_hash(&a));
    }
}
