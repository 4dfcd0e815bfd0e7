//! The review queue: what verification held back, and an administrator's
//! decision on it. Every decision carries a reason and is audited.

use super::auth::Principal;
use crate::cache::{FileCache, PageCache};
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;
use utoipa::ToSchema;
use wharf_core::model::{FileStatus, HeldFile, NewAuditEvent, NewReview};
use wharf_core::ports::{AuditLog, FileRepo, ProjectRepo, RepoError, VerificationRepo};
use wharf_core::{audit, ProjectName, Timestamp, ValidationError, Version};

/// The review queue, decisions on it, and the reports behind them.
pub struct Reviews {
    verification: Arc<dyn VerificationRepo>,
    files: Arc<dyn FileRepo>,
    projects: Arc<dyn ProjectRepo>,
    audit: Arc<dyn AuditLog>,
    /// Rendered pages and the download index, dropped when a file's status
    /// changes.
    pages: Arc<PageCache>,
    file_index: Arc<FileCache>,
}

/// The audit detail of a decision.
#[derive(Serialize)]
struct DecisionDetail<'a> {
    filename: &'a str,
    from: &'a str,
    reason: &'a str,
    via: &'a str,
}

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
    /// The audit action that records it.
    fn action(self) -> &'static str {
        match self {
            Self::Release => audit::FILE_RELEASED,
            Self::Reject => audit::FILE_REJECTED,
        }
    }

    fn word(self) -> &'static str {
        match self {
            Self::Release => wharf_core::model::REVIEW_RELEASED,
            Self::Reject => wharf_core::model::REVIEW_REJECTED,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    BadName(#[from] ValidationError),
    /// Not an administrator acting as one; the refusal was audited.
    #[error("{0}")]
    AdminRequired(&'static str),
    /// Missing, or not the caller's to read: the same answer.
    #[error("{0}")]
    ReportNotFound(String),
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

/// A verification report's human decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewView {
    /// `released` or `rejected`.
    pub decision: String,
    pub reason: String,
    pub reviewer: Option<String>,
    pub at: String,
}

/// A file's verification report.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportView {
    /// `pass`, `hold` or `refuse`.
    pub verdict: String,
    pub rules_version: String,
    pub scanned_at: String,
    /// Each finding: rule, severity, file and line, evidence, explanation.
    #[schema(value_type = Vec<Object>)]
    pub findings: Value,
    pub review: Option<ReviewView>,
}

/// A file in the review queue, with its report.
#[derive(Debug, Serialize, ToSchema)]
pub struct HeldFileView {
    pub id: i64,
    pub project: String,
    pub version: String,
    pub filename: String,
    pub status: &'static str,
    pub size: i64,
    pub sha256: String,
    pub uploaded_at: String,
    pub report: Option<ReportView>,
}

impl From<&HeldFile> for HeldFileView {
    fn from(held: &HeldFile) -> Self {
        let f = &held.file;
        Self {
            id: f.id,
            project: held.project.clone(),
            version: f.version.clone(),
            filename: f.filename.clone(),
            status: f.status.as_str(),
            size: f.size,
            sha256: f.sha256.clone(),
            uploaded_at: f.uploaded_at.to_rfc3339_micros(),
            report: held.report.as_ref().map(|r| ReportView {
                verdict: r.verdict.clone(),
                rules_version: r.rules_version.clone(),
                scanned_at: r.scanned_at.to_rfc3339_micros(),
                findings: serde_json::from_str(&r.findings).unwrap_or(Value::Array(Vec::new())),
                review: r.review.as_ref().map(|v| ReviewView {
                    decision: v.decision.clone(),
                    reason: v.reason.clone(),
                    reviewer: v.reviewer.clone(),
                    at: v.at.to_rfc3339_micros(),
                }),
            }),
        }
    }
}

/// The review queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueView {
    pub files: Vec<HeldFileView>,
}

impl Reviews {
    pub fn new(
        verification: Arc<dyn VerificationRepo>,
        files: Arc<dyn FileRepo>,
        projects: Arc<dyn ProjectRepo>,
        audit: Arc<dyn AuditLog>,
        pages: Arc<PageCache>,
        file_index: Arc<FileCache>,
    ) -> Self {
        Self {
            verification,
            files,
            projects,
            audit,
            pages,
            file_index,
        }
    }

    /// Administrators acting as one only; a refusal is audited like every
    /// admin route's: probing them is worth knowing about.
    pub async fn require_admin(&self, who: &Principal, target: &str) -> Result<(), ReviewError> {
        if who.acts_as_admin() {
            return Ok(());
        }
        self.audit
            .record(who.event(audit::ADMIN_DENIED, target, "{}".to_owned()))
            .await?;
        Err(ReviewError::AdminRequired(
            "the review queue needs an administrator and a token with the 'admin' scope",
        ))
    }

    /// The files held in `statuses`, at most `limit`.
    pub async fn queue(
        &self,
        statuses: &[FileStatus],
        limit: i64,
    ) -> Result<Vec<HeldFile>, ReviewError> {
        Ok(self.verification.held_files(statuses, limit).await?)
    }

    /// Releases or rejects a file. `actor` is None for the local CLI.
    pub async fn decide(
        &self,
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
        let held = self
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
        let detail = serde_json::to_string(&DecisionDetail {
            filename: &held.file.filename,
            from: held.file.status.as_str(),
            reason,
            via: if actor.is_some() { "api" } else { "cli" },
        })
        .unwrap_or_default();
        let target = format!("project:{}", held.project);
        let action = decision.action();
        let audit = match actor {
            Some(who) => who.event(action, &target, detail),
            None => NewAuditEvent::new(action, target).detail(detail),
        };
        let after = self
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
        self.pages.invalidate(&held.project);
        self.file_index.invalidate_project(held.file.project_id);
        self.verification
            .held_file(file_id)
            .await?
            .ok_or(ReviewError::NotFound(file_id))
    }

    /// A file's report, for its project's owners and administrators. Anyone
    /// else gets the same answer as for a file that does not exist, so held
    /// files cannot be discovered by probing.
    pub async fn report(
        &self,
        who: &Principal,
        name: &str,
        version: &str,
        filename: &str,
    ) -> Result<HeldFile, ReviewError> {
        let missing = || {
            ReviewError::ReportNotFound(format!(
                "no file '{}' in {} {} whose report you may read",
                wharf_core::name::printable(filename),
                wharf_core::name::printable(name),
                wharf_core::name::printable(version)
            ))
        };
        let project = ProjectName::parse(name)?.normalize();
        let version = Version::parse(version)?;
        let Some(file) = self.files.find_file(filename).await? else {
            return Err(missing());
        };
        let Some(held) = self.verification.held_file(file.id).await? else {
            return Err(missing());
        };
        let same_release = held.project == project.as_str()
            && Version::parse(&held.file.version).is_ok_and(|v| v == version);
        let may_read = who.acts_as_admin()
            || (who.may_touch(&project)
                && self
                    .projects
                    .is_owner(held.file.project_id, who.user.id)
                    .await?);
        if !same_release || !may_read {
            return Err(missing());
        }
        Ok(held)
    }
}
