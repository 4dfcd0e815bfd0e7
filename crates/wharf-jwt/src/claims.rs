//! The registered claims every token must satisfy once its signature is
//! good, checked here rather than by the library so the rules are ours:
//! `aud` must be exactly our audience, and `iat` is required.

use crate::JwtError;
use serde_json::{Map, Value};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The claims of a token whose signature, issuer, audience and times were checked.
#[derive(Debug, Clone)]
pub struct VerifiedClaims {
    /// Every claim, registered or not, as the token carried them.
    pub claims: Map<String, Value>,
    /// When the token stops being valid (its `exp`, without leeway).
    pub expires_at: SystemTime,
}

impl VerifiedClaims {
    /// The claim `name` if it is a string, e.g. `"sub"` or
    /// `"preferred_username"`, to map the token to a Wharf user.
    pub fn string_claim(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }
}

/// What the claims are checked against.
pub(crate) struct ClaimRules<'a> {
    pub issuer: &'a str,
    pub audience: &'a str,
    pub leeway: Duration,
}

impl ClaimRules<'_> {
    /// Checks `claims` at time `now`.
    pub(crate) fn check(
        &self,
        claims: Map<String, Value>,
        now: SystemTime,
    ) -> Result<VerifiedClaims, JwtError> {
        match claims.get("iss") {
            None => return Err(JwtError::MissingClaim("iss")),
            Some(iss) if iss.as_str() != Some(self.issuer) => return Err(JwtError::WrongIssuer),
            Some(_) => {}
        }
        let is_ours = |aud: &Value| aud.as_str() == Some(self.audience);
        match claims.get("aud") {
            None => return Err(JwtError::MissingClaim("aud")),
            Some(Value::Array(list)) if list.len() == 1 && is_ours(&list[0]) => {}
            // A token for several audiences could be replayed by any of
            // them; we only accept tokens meant for us alone.
            Some(aud) if !is_ours(aud) => return Err(JwtError::WrongAudience),
            Some(_) => {}
        }

        let now = seconds_since_epoch(now);
        let leeway = i64::try_from(self.leeway.as_secs()).unwrap_or(i64::MAX);
        let exp = numeric_date(&claims, "exp")?.ok_or(JwtError::MissingClaim("exp"))?;
        if now >= exp.saturating_add(leeway) {
            return Err(JwtError::Expired);
        }
        if let Some(nbf) = numeric_date(&claims, "nbf")? {
            if nbf > now.saturating_add(leeway) {
                return Err(JwtError::NotYetValid { claim: "nbf" });
            }
        }
        let iat = numeric_date(&claims, "iat")?.ok_or(JwtError::MissingClaim("iat"))?;
        if iat > now.saturating_add(leeway) {
            return Err(JwtError::NotYetValid { claim: "iat" });
        }

        let expires_at = u64::try_from(exp)
            .ok()
            .and_then(|secs| UNIX_EPOCH.checked_add(Duration::from_secs(secs)))
            .unwrap_or(UNIX_EPOCH);
        Ok(VerifiedClaims { claims, expires_at })
    }
}

/// A NumericDate claim (RFC 7519 §2): seconds since the epoch, possibly
/// fractional. `None` when absent; an error when present but not a number.
fn numeric_date(claims: &Map<String, Value>, name: &'static str) -> Result<Option<i64>, JwtError> {
    let Some(value) = claims.get(name) else {
        return Ok(None);
    };
    let seconds = value.as_i64().or_else(|| {
        value
            .as_f64()
            .filter(|f| f.is_finite())
            // Saturating cast; the fraction is dropped.
            .map(|f| f as i64)
    });
    seconds.map(Some).ok_or(match name {
        "exp" => JwtError::Malformed("its `exp` claim is not a number"),
        "nbf" => JwtError::Malformed("its `nbf` claim is not a number"),
        _ => JwtError::Malformed("its `iat` claim is not a number"),
    })
}

fn seconds_since_epoch(now: SystemTime) -> i64 {
    let secs = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    i64::try_from(secs).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: u64 = 1_700_000_000;

    fn check(claims: Value) -> Result<VerifiedClaims, JwtError> {
        let rules = ClaimRules {
            issuer: "https://idp.test",
            audience: "wharf",
            leeway: Duration::from_secs(60),
        };
        let Value::Object(map) = claims else {
            panic!("claims must be an object")
        };
        rules.check(map, UNIX_EPOCH + Duration::from_secs(NOW))
    }

    fn valid() -> Value {
        json!({"iss": "https://idp.test", "aud": "wharf", "exp": NOW + 300, "iat": NOW, "sub": "alice"})
    }

    fn with(key: &str, value: Value) -> Value {
        let mut claims = valid();
        claims[key] = value;
        claims
    }

    fn without(key: &str) -> Value {
        let mut claims = valid();
        claims.as_object_mut().unwrap().remove(key);
        claims
    }

    #[test]
    fn accepts_valid_claims() {
        let verified = check(valid()).unwrap();
        assert_eq!(verified.string_claim("sub"), Some("alice"));
        assert_eq!(verified.string_claim("exp"), None);
        assert_eq!(
            verified.expires_at,
            UNIX_EPOCH + Duration::from_secs(NOW + 300)
        );
    }

    #[test]
    fn registered_claims_are_required() {
        for claim in ["iss", "aud", "exp", "iat"] {
            assert_eq!(
                check(without(claim)).unwrap_err(),
                JwtError::MissingClaim(claim)
            );
        }
    }

    #[test]
    fn times_allow_bounded_skew() {
        assert!(check(with("exp", json!(NOW - 30))).is_ok());
        assert_eq!(
            check(with("exp", json!(NOW - 60))).unwrap_err(),
            JwtError::Expired
        );
        assert!(check(with("iat", json!(NOW + 30))).is_ok());
        assert_eq!(
            check(with("iat", json!(NOW + 61))).unwrap_err(),
            JwtError::NotYetValid { claim: "iat" }
        );
        assert!(check(with("nbf", json!(NOW + 30))).is_ok());
        assert_eq!(
            check(with("nbf", json!(NOW + 61))).unwrap_err(),
            JwtError::NotYetValid { claim: "nbf" }
        );
        assert!(check(with("exp", json!((NOW + 300) as f64 + 0.5))).is_ok());
    }

    #[test]
    fn times_must_be_numbers() {
        assert!(matches!(
            check(with("exp", json!("tomorrow"))).unwrap_err(),
            JwtError::Malformed(_)
        ));
    }

    #[test]
    fn issuer_must_match_exactly() {
        for iss in [
            json!("https://idp.test/"),
            json!("HTTPS://IDP.TEST"),
            json!(["https://idp.test"]),
        ] {
            assert_eq!(check(with("iss", iss)).unwrap_err(), JwtError::WrongIssuer);
        }
    }

    #[test]
    fn audience_must_be_ours_alone() {
        assert!(check(with("aud", json!(["wharf"]))).is_ok());
        for aud in [
            json!("other"),
            json!(["wharf", "other"]),
            json!([]),
            json!(["other"]),
            json!(7),
        ] {
            assert_eq!(
                check(with("aud", aud)).unwrap_err(),
                JwtError::WrongAudience
            );
        }
    }
}
