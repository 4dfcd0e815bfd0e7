//! Reading the audit log, for administrators (the API and `wharf admin audit`).

use crate::services::auth::Principal;
use serde::Serialize;
use std::sync::Arc;
use wharf_core::model::{AuditEvent, AuditFilter};
use wharf_core::ports::{AuditLog, RepoError, UserRepo};
use wharf_core::{audit, Timestamp, ValidationError};

/// Reads the audit log, and records who read it.
pub struct AuditReader {
    /// Resolves the `actor` filter's user name.
    users: Arc<dyn UserRepo>,
    log: Arc<dyn AuditLog>,
}

/// Filters as a person gives them: a user name, an action, a time.
#[derive(Debug, Default)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub action: Option<String>,
    /// RFC 3339 (`2026-11-23T10:00:00Z`) or a span back from now (`2h`, `7d`).
    pub since: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<i64>,
    pub limit: Option<i64>,
}

/// One page of events, newest first.
#[derive(Debug)]
pub struct AuditPage {
    pub events: Vec<AuditEvent>,
    /// Pass as `cursor` for the next page; `None` on the last page.
    pub next_cursor: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("reading the audit log needs an administrator and a token with the 'admin' scope")]
    AdminRequired,
    #[error(transparent)]
    Repo(#[from] RepoError),
}

pub const MAX_LIMIT: i64 = 500;

/// The detail of an `admin.audit_read` event.
#[derive(Serialize)]
struct AuditRead<'a> {
    query: &'a str,
}

/// An audit event's `detail`: the JSON text of a small typed struct.
pub(crate) fn detail_json(detail: &impl Serialize) -> String {
    // A struct of strings and numbers always serializes.
    serde_json::to_string(detail).unwrap_or_else(|_| "{}".to_owned())
}

impl AuditReader {
    pub fn new(users: Arc<dyn UserRepo>, log: Arc<dyn AuditLog>) -> Self {
        Self { users, log }
    }

    /// The API's read, by `who`, of the query string `raw_query`
    /// (`actor=&action=&since=&cursor=&limit=`). Both the read and a refusal
    /// are recorded: probing the admin routes is worth knowing about.
    pub async fn read_as(&self, who: &Principal, raw_query: &str) -> Result<AuditPage, AuditError> {
        if !who.acts_as_admin() {
            self.log
                .record(who.event(audit::ADMIN_DENIED, "admin:audit", "{}".to_owned()))
                .await?;
            return Err(AuditError::AdminRequired);
        }
        let page = self.read(AuditQuery::parse(raw_query)?).await?;
        // Recorded after the read, so a page never shows its own reading.
        self.log
            .record(who.event(
                audit::ADMIN_AUDIT_READ,
                "admin:audit",
                detail_json(&AuditRead { query: raw_query }),
            ))
            .await?;
        Ok(page)
    }

    /// Records an administrator's action that changes nothing stored by
    /// itself (running a sync).
    pub async fn record(&self, event: wharf_core::model::NewAuditEvent) -> Result<(), RepoError> {
        self.log.record(event).await
    }

    /// Records that `who` was refused an administrator's route at `target`
    /// (`admin:proxy`): probing the admin routes is worth knowing about.
    pub async fn record_admin_refusal(
        &self,
        who: &Principal,
        target: &str,
    ) -> Result<(), RepoError> {
        self.log
            .record(who.event(audit::ADMIN_DENIED, target, "{}".to_owned()))
            .await
    }

    /// One page of events, for an operator at the console (`wharf admin audit`).
    pub async fn read(&self, query: AuditQuery) -> Result<AuditPage, AuditError> {
        let limit = query.limit.unwrap_or(50);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ValidationError::new(
                "invalid_limit",
                format!("limit must be between 1 and {MAX_LIMIT}"),
            )
            .into());
        }
        let actor_user_id = match &query.actor {
            None => None,
            Some(name) => Some(
                self.users
                    .find_user_by_name(name)
                    .await?
                    .ok_or_else(|| {
                        ValidationError::new(
                            "unknown_actor",
                            format!("no user named '{}'", wharf_core::name::printable(name)),
                        )
                    })?
                    .id,
            ),
        };
        let since = query.since.as_deref().map(parse_since).transpose()?;
        // One extra row tells whether another page follows.
        let filter = AuditFilter {
            actor_user_id,
            action: query.action,
            since,
            before_id: query.cursor,
            limit: limit + 1,
        };
        let mut events = self.log.query(&filter).await?;
        let next_cursor = if events.len() as i64 > limit {
            events.truncate(limit as usize);
            events.last().map(|e| e.id)
        } else {
            None
        };
        Ok(AuditPage {
            events,
            next_cursor,
        })
    }
}

impl AuditQuery {
    /// Parses a query string (`actor=alice&limit=10`). Unknown parameters
    /// are refused, so a misspelt filter is not silently ignored.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let mut q = Self::default();
        for pair in raw.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = decode_value(value).ok_or_else(|| {
                ValidationError::new(
                    "invalid_query",
                    format!("parameter '{key}' is not valid percent-encoding"),
                )
            })?;
            let number = |v: &str| {
                v.parse::<i64>().map_err(|_| {
                    ValidationError::new(
                        "invalid_query",
                        format!("parameter '{key}' must be a number"),
                    )
                })
            };
            match key {
                "actor" => q.actor = Some(value),
                "action" => q.action = Some(value),
                "since" => q.since = Some(value),
                "cursor" => q.cursor = Some(number(&value)?),
                "limit" => q.limit = Some(number(&value)?),
                other => {
                    return Err(ValidationError::new(
                        "invalid_query",
                        format!(
                            "unknown parameter '{}': use actor, action, since, cursor or limit",
                            wharf_core::name::printable(other)
                        ),
                    ))
                }
            }
        }
        Ok(q)
    }
}

/// One query value, decoded strictly: `+` is a space, and a malformed escape
/// or bytes that are not UTF-8 are refused rather than guessed at.
fn decode_value(raw: &str) -> Option<String> {
    // Both crates' decoders pass a malformed escape such as `%zz` through as
    // text, and `form_urlencoded` replaces bad UTF-8, so a filter the admin
    // never typed would silently match nothing; a 400 says what is wrong.
    let escapes_are_whole = raw.split('%').skip(1).all(|after| {
        after
            .as_bytes()
            .get(..2)
            .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    });
    if !escapes_are_whole {
        return None;
    }
    percent_encoding::percent_decode_str(&raw.replace('+', " "))
        .decode_utf8()
        .ok()
        .map(std::borrow::Cow::into_owned)
}

fn parse_since(raw: &str) -> Result<Timestamp, ValidationError> {
    if let Ok(t) = humantime::parse_rfc3339_weak(raw) {
        return Ok(Timestamp::from_system(t));
    }
    if let Ok(span) = humantime::parse_duration(raw) {
        // A span past the Unix epoch would wrap the subtraction (the probe's
        // `400000y` turned into a time in the future and read nothing).
        let now = Timestamp::now().micros();
        return i64::try_from(span.as_micros())
            .ok()
            .filter(|&span| span <= now)
            .map(|span| Timestamp(now - span))
            .ok_or_else(|| {
                ValidationError::new(
                    "invalid_since",
                    format!(
                        "since '{}' reaches back before 1970; give a shorter span or a time",
                        wharf_core::name::printable(raw)
                    ),
                )
            });
    }
    Err(ValidationError::new(
        "invalid_since",
        format!(
            "since '{}' is neither a time (2026-11-23T10:00:00Z) nor a span (2h, 7d)",
            wharf_core::name::printable(raw)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_decode_strictly() {
        assert_eq!(decode_value("a+b%2Bc%C3%A9").as_deref(), Some("a b+cé"));
        assert_eq!(decode_value("plain").as_deref(), Some("plain"));
        for bad in ["%zz", "%4", "50%", "%+1", "%FF", "%C3"] {
            assert_eq!(decode_value(bad), None, "{bad}");
        }
    }

    #[test]
    fn since_takes_times_and_spans() {
        assert_eq!(
            parse_since("1970-01-01T00:00:01Z").unwrap(),
            Timestamp(1_000_000)
        );
        let hour_ago = parse_since("1h").unwrap().micros();
        let expected = Timestamp::now().micros() - 3_600_000_000;
        assert!((hour_ago - expected).abs() < 5_000_000);
        assert_eq!(parse_since("yesterday").unwrap_err().code, "invalid_since");
    }

    #[test]
    fn audit_since_out_of_range_is_refused() {
        for raw in ["400000y", "300000000y"] {
            let e = parse_since(raw).unwrap_err();
            assert_eq!(e.code, "invalid_since", "{raw}");
            assert!(e.message.contains("before 1970"), "{raw}: {}", e.message);
        }
        assert!(parse_since("50y").unwrap().micros() > 0);
    }
}
