//! Device login (RFC 8628), as `wharf login` uses it.
//!
//! 1. The CLI asks for a code pair: a secret device code it keeps, and a
//!    short user code the person types at `/device`.
//! 2. A logged-in user approves (or denies) the user code in the browser.
//! 3. The CLI polls with the device code; once approved, the first poll
//!    mints an API token and the code is spent.
//!
//! Every step goes through the database, so each may hit another instance.

use crate::client::{client_key, IpHasher};
use crate::services::audit::detail_json;
use crate::services::auth::Principal;
use rand::Rng;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use wharf_core::model::{
    DeviceCaps, DeviceInsert, DeviceRequest, DeviceStatus, NewAuditEvent, NewDeviceRequest,
    NewToken, TokenRecord,
};
use wharf_core::ports::{DeviceRepo, RepoError};
use wharf_core::{audit, ApiToken, Scopes, Timestamp, ValidationError};

/// Consonants only (RFC 8628 §6.1): no vowels, so no words, and no
/// look-alikes such as 0/O or 1/I. 20^8 ≈ 2^34.6 codes.
pub const USER_CODE_ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
pub const USER_CODE_LEN: usize = 8;
/// How long a code pair lives (RFC 8628 suggests minutes; security.md 600–900 s).
pub const EXPIRES_IN: Duration = Duration::from_secs(600);
/// The minimum polling interval, in seconds; `slow_down` adds 5 to it.
pub const INTERVAL_SECS: i64 = 5;
/// Tokens from `wharf login` expire; logging in again is cheap.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(90 * 86_400);

/// Device logins: code pairs, their approval in the browser, and the
/// token the device collects.
pub struct Devices {
    repo: Arc<dyn DeviceRepo>,
    /// Keys the requester of a code pair, and the IP hashes of the audit log.
    ip_hasher: IpHasher,
    /// How many code pairs may be pending.
    caps: DeviceCaps,
}

impl Devices {
    pub fn new(repo: Arc<dyn DeviceRepo>, ip_hasher: IpHasher, caps: DeviceCaps) -> Self {
        Self {
            repo,
            ip_hasher,
            caps,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// The user code is malformed.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The requested scope names no scope.
    #[error(transparent)]
    InvalidScope(ValidationError),
    #[error("too many device logins are pending; try again in a few minutes")]
    StoreFull,
    #[error("too many device logins are pending from your network; approve or let them expire (10 minutes), then try again")]
    RequesterFull,
    #[error("the user has not approved this device yet; keep polling")]
    AuthorizationPending,
    #[error("polling too fast; wait {interval} s between polls")]
    SlowDown { interval: i64 },
    #[error("the user denied this device login")]
    AccessDenied,
    #[error("this device code expired; start again with a new one")]
    ExpiredToken,
    #[error("{0}")]
    InvalidGrant(&'static str),
    #[error("no pending device login has this code; check the code shown by `wharf login`")]
    UnknownUserCode,
    #[error("only an administrator can approve a login that asks for the admin scope")]
    AdminScopeNeedsAdmin,
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// What the device receives (RFC 8628 §3.2), minus the URIs, which the
/// HTTP layer adds because only it knows the address the client used.
#[derive(Debug)]
pub struct DeviceGrant {
    pub device_code: String,
    /// Shown as `XXXX-XXXX`.
    pub user_code: String,
    pub expires_in: u64,
    pub interval: i64,
    pub scopes: Scopes,
}

/// A fresh user code, uniformly drawn from the alphabet.
pub fn generate_user_code() -> String {
    let mut rng = rand::thread_rng();
    (0..USER_CODE_LEN)
        .map(|_| USER_CODE_ALPHABET[rng.gen_range(0..USER_CODE_ALPHABET.len())] as char)
        .collect()
}

/// Case-insensitive, ignoring dashes and spaces: `bcdf-ghjk` is `BCDFGHJK`.
pub fn normalize_user_code(raw: &str) -> Option<String> {
    let code: String = raw
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (code.len() == USER_CODE_LEN && code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b)))
        .then_some(code)
}

/// `BCDFGHJK` becomes `BCDF-GHJK`.
pub fn display_user_code(code: &str) -> String {
    format!("{}-{}", &code[..4], &code[4..])
}

fn device_code_hash(device_code: &str) -> String {
    hex::encode(Sha256::digest(device_code.as_bytes()))
}

/// Scopes a device login may ask for: `read` and `publish` by default;
/// `admin` only if whoever approves is an administrator.
pub fn parse_requested_scopes(raw: Option<&str>) -> Result<Scopes, ValidationError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Scopes::parse("read,publish"),
        // OAuth separates scopes with spaces; Wharf's own lists use commas.
        Some(raw) => Scopes::parse(&raw.replace(' ', ",")),
    }
}

/// The detail of a `device.approve` or `device.deny` event.
#[derive(Serialize)]
struct Decided {
    scopes: String,
}

/// The detail of the `token.create` event of a redeemed device login.
#[derive(Serialize)]
struct Redeemed {
    device: i64,
    scopes: String,
    via: &'static str,
}

impl Devices {
    /// Step 1: a new code pair for the scopes asked for (`read publish` when
    /// none), unless too many are pending already, in all or from this client
    /// (an IPv4 address or an IPv6 /64).
    pub async fn start(
        &self,
        scope: Option<&str>,
        client_ip: IpAddr,
    ) -> Result<DeviceGrant, DeviceError> {
        let scopes = parse_requested_scopes(scope).map_err(DeviceError::InvalidScope)?;
        // Only the salted hash of the client is kept, as in the audit log.
        let requester = self.ip_hasher.hash_key(&client_key(client_ip));
        let device_code = hex::encode(rand::random::<[u8; 32]>());
        let now = Timestamp::now();
        // A user code collides with a live one about once in 2.5e10 tries at
        // full store; retry a few times rather than fail.
        for _ in 0..3 {
            let user_code = generate_user_code();
            let request = NewDeviceRequest {
                device_code_hash: device_code_hash(&device_code),
                user_code: user_code.clone(),
                requester: requester.clone(),
                scopes: scopes.clone(),
                interval_secs: INTERVAL_SECS,
                created_at: now,
                expires_at: now.plus(EXPIRES_IN),
            };
            match self.repo.create_device_request(request, self.caps).await {
                Ok(DeviceInsert::Created) => {
                    return Ok(DeviceGrant {
                        device_code,
                        user_code: display_user_code(&user_code),
                        expires_in: EXPIRES_IN.as_secs(),
                        interval: INTERVAL_SECS,
                        scopes,
                    })
                }
                Ok(DeviceInsert::StoreFull) => return Err(DeviceError::StoreFull),
                Ok(DeviceInsert::RequesterFull) => return Err(DeviceError::RequesterFull),
                Err(RepoError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(RepoError::Internal("could not draw a unique user code".into()).into())
    }

    /// The pending request a user code names, for the approval page.
    pub async fn find_pending(&self, raw_code: &str) -> Result<DeviceRequest, DeviceError> {
        let code = normalize_user_code(raw_code).ok_or_else(|| {
            ValidationError::new(
                "invalid_user_code",
                "a code is 8 letters, shown as XXXX-XXXX",
            )
        })?;
        match self.repo.find_device_by_user_code(&code).await? {
            Some(r) if r.status == DeviceStatus::Pending && r.expires_at > Timestamp::now() => {
                Ok(r)
            }
            _ => Err(DeviceError::UnknownUserCode),
        }
    }

    /// Step 2: `who` approves or denies the request behind a user code.
    pub async fn decide(
        &self,
        who: &Principal,
        raw_code: &str,
        approve: bool,
    ) -> Result<DeviceRequest, DeviceError> {
        let request = self.find_pending(raw_code).await?;
        if approve && !request.scopes.iter().all(|s| who.may_grant(s)) {
            return Err(DeviceError::AdminScopeNeedsAdmin);
        }
        let action = if approve {
            audit::DEVICE_APPROVE
        } else {
            audit::DEVICE_DENY
        };
        let detail = detail_json(&Decided {
            scopes: request.scopes.to_string(),
        });
        let event = who.event(action, &format!("device:{}", request.id), detail);
        if !self
            .repo
            .decide_device_request(request.id, who.user.id, approve, event)
            .await?
        {
            return Err(DeviceError::UnknownUserCode);
        }
        Ok(request)
    }

    /// Step 3: the device polls. The first poll after approval gets the token.
    pub async fn poll(
        &self,
        device_code: &str,
        client_ip: IpAddr,
    ) -> Result<(ApiToken, TokenRecord), DeviceError> {
        if device_code.is_empty() || device_code.len() > 128 {
            return Err(DeviceError::InvalidGrant("the device_code is not valid"));
        }
        let Some(request) = self
            .repo
            .find_device_by_code_hash(&device_code_hash(device_code))
            .await?
        else {
            return Err(DeviceError::InvalidGrant(
                "this device code is not known to this registry",
            ));
        };
        if request.status == DeviceStatus::Redeemed {
            return Err(DeviceError::InvalidGrant(
                "this device code was used already",
            ));
        }
        let now = Timestamp::now();
        if request.expires_at <= now {
            return Err(DeviceError::ExpiredToken);
        }
        let too_soon = request
            .last_polled_at
            .is_some_and(|last| now.micros() - last.micros() < request.interval_secs * 1_000_000);
        let interval = request.interval_secs + if too_soon { 5 } else { 0 };
        self.repo
            .record_device_poll(request.id, now, interval)
            .await?;
        if too_soon {
            return Err(DeviceError::SlowDown { interval });
        }
        match request.status {
            DeviceStatus::Pending => Err(DeviceError::AuthorizationPending),
            DeviceStatus::Denied => Err(DeviceError::AccessDenied),
            DeviceStatus::Redeemed => Err(DeviceError::InvalidGrant(
                "this device code was used already",
            )),
            DeviceStatus::Approved => {
                let user_id = request.user_id.ok_or_else(|| {
                    RepoError::Internal("approved device request without a user".into())
                })?;
                let token = ApiToken::generate();
                let new = NewToken {
                    user_id,
                    name: "wharf login".to_owned(),
                    hash_hex: token.hash().to_hex(),
                    scopes: request.scopes.clone(),
                    projects: Vec::new(),
                    namespaces: Vec::new(),
                    expires_at: Some(now.plus(TOKEN_LIFETIME)),
                };
                // The target (the new token) is filled in by the repository.
                let event = NewAuditEvent {
                    at: now,
                    ..NewAuditEvent::new(audit::TOKEN_CREATE, "")
                        .by(Some(user_id), None)
                        .from_ip(Some(self.ip_hasher.hash(client_ip)))
                        .detail(detail_json(&Redeemed {
                            device: request.id,
                            scopes: request.scopes.to_string(),
                            via: "device",
                        }))
                };
                match self
                    .repo
                    .redeem_device_request(request.id, new, event)
                    .await?
                {
                    Some(record) => Ok((token, record)),
                    // Another poll redeemed it a moment ago.
                    None => Err(DeviceError::InvalidGrant(
                        "this device code was used already",
                    )),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_use_the_rfc_alphabet_and_normalize() {
        for _ in 0..200 {
            let code = generate_user_code();
            assert_eq!(code.len(), 8);
            assert!(
                code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b)),
                "{code}"
            );
            let shown = display_user_code(&code);
            assert_eq!(shown.len(), 9);
            assert_eq!(
                normalize_user_code(&shown.to_lowercase()).as_deref(),
                Some(code.as_str())
            );
        }
        assert_eq!(
            normalize_user_code("bcdf ghjk").as_deref(),
            Some("BCDFGHJK")
        );
        assert_eq!(
            normalize_user_code("ABCD-EFGH"),
            None,
            "vowels are not in the alphabet"
        );
        assert_eq!(normalize_user_code("BCDF-GHJ"), None);
    }

    /// RFC 8628 §6.1: the user code must carry enough entropy that guessing
    /// one within its lifetime, under the rate limit, is hopeless.
    #[test]
    fn user_code_entropy_meets_rfc_8628_section_6_1() {
        let bits = (USER_CODE_ALPHABET.len() as f64).log2() * USER_CODE_LEN as f64;
        assert!(bits > 34.0, "{bits} bits");
        // Every letter of the alphabet turns up, and none is favoured much:
        // a biased generator would shrink the effective entropy.
        let mut counts = [0u32; 20];
        for _ in 0..2000 {
            for b in generate_user_code().bytes() {
                counts[USER_CODE_ALPHABET.iter().position(|&a| a == b).unwrap()] += 1;
            }
        }
        let (min, max) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
        assert!(*min > 600 && *max < 1000, "{counts:?}");
    }

    #[test]
    fn requested_scopes_default_to_read_and_publish() {
        assert_eq!(
            parse_requested_scopes(None).unwrap().to_string(),
            "read,publish"
        );
        assert_eq!(
            parse_requested_scopes(Some("read")).unwrap().to_string(),
            "read"
        );
        assert!(parse_requested_scopes(Some("root")).is_err());
    }
}
