//! Reading the audit log, for administrators (the API and `wharf admin audit`).

use crate::state::Ports;
use wharf_core::model::{AuditEvent, AuditFilter};
use wharf_core::ports::RepoError;
use wharf_core::{Timestamp, ValidationError};

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
    #[error(transparent)]
    Repo(#[from] RepoError),
}

pub const MAX_LIMIT: i64 = 500;

pub async fn read(ports: &Ports, query: AuditQuery) -> Result<AuditPage, AuditError> {
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
            ports
                .users
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
    let mut events = ports.audit.query(&filter).await?;
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
