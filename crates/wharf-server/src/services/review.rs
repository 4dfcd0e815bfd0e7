//! The review queue: what verification held back, and an administrator's
//! decision on it. Every decision carries a reason and is audited.

use super::auth::Principal;
use crate::state::App;
use serde_json::{json, Value};
use wharf_core::model::{FileStatus, HeldFile, NewAuditEvent, NewReview};
use wharf_core::ports::RepoError;
use wharf_core::Timestamp;

/// Longest reason kept, in characters.
const MAX_REASON_CHARS: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Publish a held file.
    Release,
    /// Keep it out for good (it also takes a published file down).
    Reject,
}

impl Decision {
    fn word(self) -> &'static str {
        match self {
            Self::Release => "released",
            Self::Reject => "rejected",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("{0}")]
    Invalid(String),
    #[error("there is no file with ID {0}")]
    NotFound(i64),
    #[error("file {id} is {status} and cannot be {decision}")]
    Conflict {
        id: i64,
        status: &'static str,
        decision: &'static str,
    },
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// Releases or rejects a file. `actor` is None for the local CLI.
pub async fn decide(
    app: &App,
    file_id: i64,
    decision: Decision,
    reason: &str,
    actor: Option<&Principal>,
) -> Result<HeldFile, ReviewError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ReviewError::Invalid(
            "a reason is required: say why, for the audit log".into(),
        ));
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(ReviewError::Invalid(format!(
            "the reason is longer than {MAX_REASON_CHARS} characters"
        )));
    }
    let held = app
        .ports
        .verification
        .held_file(file_id)
        .await?
        .ok_or(ReviewError::NotFound(file_id))?;
    let (from, to) = match decision {
        Decision::Release => (
            vec![FileStatus::Quarantined, FileStatus::Pending],
            FileStatus::Published,
        ),
        Decision::Reject => (
            vec![
                FileStatus::Quarantined,
                FileStatus::Pending,
                FileStatus::Published,
            ],
            FileStatus::Rejected,
        ),
    };
    // Deciding again (releasing a published file) is a conflict, not a no-op
    // that would record a second reason for a decision already made.
    if !from.contains(&held.file.status) {
        return Err(ReviewError::Conflict {
            id: file_id,
            status: held.file.status.as_str(),
            decision: decision.word(),
        });
    }
    let detail = json!({
        "filename": held.file.filename,
        "from": held.file.status.as_str(),
        "reason": reason,
        "via": if actor.is_some() { "api" } else { "cli" },
    })
    .to_string();
    let target = format!("project:{}", held.project);
    let action = format!("file.{}", decision.word());
    let audit = match actor {
        Some(who) => who.event(&action, &target, detail),
        None => NewAuditEvent::new(&action, target).detail(detail),
    };
    let after = app
        .ports
        .verification
        .review(NewReview {
            file_id,
            from,
            to,
            decision: decision.word(),
            reason: reason.to_owned(),
            reviewer_id: actor.map(|who| who.user.id),
            at: Timestamp::now(),
            audit,
        })
        .await?;
    if after != Some(to) {
        return Err(ReviewError::Conflict {
            id: file_id,
            status: after.unwrap_or(held.file.status).as_str(),
            decision: decision.word(),
        });
    }
    app.pages.invalidate(&held.project);
    app.file_index.invalidate_project(held.file.project_id);
    app.ports
        .verification
        .held_file(file_id)
        .await?
        .ok_or(ReviewError::NotFound(file_id))
}

/// The JSON shape of a held file and its report, for the API and the CLI.
pub fn file_json(held: &HeldFile) -> Value {
    let f = &held.file;
    json!({
        "id": f.id,
        "project": held.project,
        "version": f.version,
        "filename": f.filename,
        "status": f.status.as_str(),
        "size": f.size,
        "sha256": f.sha256,
        "uploaded_at": f.uploaded_at.to_rfc3339_micros(),
        "report": held.report.as_ref().map(|r| json!({
            "verdict": r.verdict,
            "rules_version": r.rules_version,
            "scanned_at": r.scanned_at.to_rfc3339_micros(),
            "findings": serde_json::from_str::<Value>(&r.findings).unwrap_or(Value::Array(Vec::new())),
            "review": r.review.as_ref().map(|v| json!({
                "decision": v.decision,
                "reason": v.reason,
                "reviewer": v.reviewer,
                "at": v.at.to_rfc3339_micros(),
            })),
        })),
    })
}
