//! Verification: a stored file is scanned, then published or quarantined.
//!
//! Every accepted upload is a `pending` file plus a queued job, written in one
//! transaction. The upload itself runs its job at once when a scan slot is
//! free, so `twine upload` followed by `pip install` works; otherwise the
//! in-process workers (or a `wharf worker` tier) take it from the queue. A
//! verdict is stored in the same transaction that finishes the job, and only
//! while the worker still holds the job's lease, so a job whose worker died
//! is retried and its result lands exactly once.

use crate::state::App;
use serde_json::json;
use std::collections::HashSet;
use std::io::BufReader;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use wharf_artifact::Limits;
use wharf_core::model::User;
use wharf_core::model::{
    FileStatus, HeldFile, Job, NewAuditEvent, RecordVerdict, VerdictOutcome, VERIFY_JOB,
};
use wharf_core::ports::{BlobError, BlobKey, RepoError};
use wharf_core::{NormalizedName, Timestamp};
use wharf_scan::names::Ecosystem;
use wharf_scan::{Finding, NameContext, PopularNames, Report, Severity, Verdict};

/// Retries of a job that failed for a reason other than its file (storage down).
const MAX_ATTEMPTS: i64 = 5;

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error("{0}")]
    Scan(String),
    #[error("job payload is not valid: {0}")]
    Payload(String),
}

/// Scan slots shared by uploads and background workers, so this process never
/// runs more scans at once than `verification.workers`.
pub struct Verifier {
    permits: Arc<Semaphore>,
    /// Distinguishes this process's workers in `jobs.locked_by`.
    process_tag: String,
    next_id: AtomicU64,
}

impl Verifier {
    pub fn new(workers: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(workers)),
            process_tag: format!("{}-{:08x}", std::process::id(), rand::random::<u32>()),
            next_id: AtomicU64::new(0),
        }
    }

    fn worker_name(&self, role: &str) -> String {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        format!("{role}-{}-{n}", self.process_tag)
    }
}

/// What became of an upload's verification by the time the upload answers.
pub async fn verify_upload(app: &App, job_id: i64, file_id: i64) -> FileStatus {
    let settings = &app.config.verification;
    let deadline = tokio::time::Instant::now() + settings.upload_wait;
    if settings.workers > 0 {
        let permit =
            tokio::time::timeout_at(deadline, app.verifier.permits.clone().acquire_owned());
        if let Ok(Ok(_permit)) = permit.await {
            let worker = app.verifier.worker_name("upload");
            match app
                .ports
                .jobs
                .claim_id(job_id, &worker, Timestamp::now(), settings.lease)
                .await
            {
                Ok(Some(job)) => {
                    if let Some(status) = process(app, job, &worker).await {
                        return status;
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %e, job_id, "could not claim the upload's verification job")
                }
            }
        }
    }
    // Another worker has it (or none runs here): wait for its verdict a while.
    loop {
        match app.ports.verification.held_file(file_id).await {
            Ok(Some(held)) if held.file.status != FileStatus::Pending => return held.file.status,
            Ok(_) | Err(_) => {}
        }
        if tokio::time::Instant::now() + Duration::from_millis(100) > deadline {
            return FileStatus::Pending;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Starts `verification.workers` background workers in this process.
pub fn spawn_workers(app: &App) -> Vec<tokio::task::JoinHandle<()>> {
    (0..app.config.verification.workers)
        .map(|_| {
            let worker = app.verifier.worker_name("worker");
            tokio::spawn(worker_loop(app.clone(), worker))
        })
        .collect()
}

async fn worker_loop(app: App, worker: String) {
    let settings = app.config.verification.clone();
    loop {
        let Ok(permit) = app.verifier.permits.clone().acquire_owned().await else {
            return;
        };
        match app
            .ports
            .jobs
            .claim(&worker, &[VERIFY_JOB], Timestamp::now(), settings.lease)
            .await
        {
            Ok(Some(job)) => {
                process(&app, job, &worker).await;
                drop(permit);
                continue;
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, worker, "cannot read the job queue; retrying"),
        }
        drop(permit);
        // Jitter keeps many idle workers from polling in lockstep.
        let jitter = rand::random::<u64>() % (settings.poll_interval.as_millis() as u64 / 4 + 1);
        tokio::time::sleep(settings.poll_interval + Duration::from_millis(jitter)).await;
    }
}

/// Runs one claimed job to its end: a verdict stored, or a retry scheduled.
/// Returns the file's status when the verdict was stored by this call.
async fn process(app: &App, job: Job, worker: &str) -> Option<FileStatus> {
    match verify_job(app, &job, worker).await {
        Ok(status) => status,
        Err(e) => {
            let retry_at = (job.attempts < MAX_ATTEMPTS).then(|| {
                let backoff = Duration::from_secs(5 << job.attempts.clamp(0, 6));
                Timestamp::now().plus(backoff)
            });
            tracing::warn!(error = %e, job = job.id, attempts = job.attempts, retry = retry_at.is_some(), "verification failed");
            if let Err(e) = app
                .ports
                .jobs
                .fail(job.id, worker, &e.to_string(), retry_at)
                .await
            {
                tracing::warn!(error = %e, job = job.id, "could not record the failure; the lease will expire");
            }
            None
        }
    }
}

async fn verify_job(app: &App, job: &Job, worker: &str) -> Result<Option<FileStatus>, VerifyError> {
    #[derive(serde::Deserialize)]
    struct Payload {
        file_id: i64,
    }
    let payload: Payload =
        serde_json::from_str(&job.payload).map_err(|e| VerifyError::Payload(e.to_string()))?;
    let held = app.ports.verification.held_file(payload.file_id).await?;
    let Some(held) = held.filter(|h| h.file.status == FileStatus::Pending) else {
        // Gone, or decided by an administrator first: nothing left to do.
        app.ports.jobs.complete(job.id, worker).await?;
        return Ok(None);
    };
    let report = scan(app, &held, true).await?;
    let to = status_for(report.verdict());
    let outcome = app
        .ports
        .verification
        .record_verdict(verdict_record(
            &held,
            &report,
            FileStatus::Pending,
            to,
            Some((job.id, worker)),
            None,
            "",
        )?)
        .await?;
    match outcome {
        VerdictOutcome::Applied => {
            forget_cached(app, &held);
            app.metrics.count_verdict(to);
            tracing::info!(file = %held.file.filename, status = to.as_str(), findings = report.findings.len(), "verified");
            Ok(Some(to))
        }
        VerdictOutcome::StatusChanged(now) => Ok(now),
        VerdictOutcome::JobLost => {
            tracing::warn!(
                job = job.id,
                worker,
                "lease ran out before the verdict; another worker has the job"
            );
            Ok(None)
        }
    }
}

fn status_for(verdict: Verdict) -> FileStatus {
    match verdict {
        Verdict::Pass => FileStatus::Published,
        Verdict::Quarantine | Verdict::Block => FileStatus::Quarantined,
    }
}

fn forget_cached(app: &App, held: &HeldFile) {
    app.pages.invalidate(&held.project);
    app.file_index.invalidate_project(held.file.project_id);
}

/// The stored form of a report, and the audit event of the status change.
fn verdict_record(
    held: &HeldFile,
    report: &Report,
    from: FileStatus,
    to: FileStatus,
    job: Option<(i64, &str)>,
    actor: Option<&User>,
    reason: &str,
) -> Result<RecordVerdict, VerifyError> {
    let findings =
        serde_json::to_string(&report.findings).map_err(|e| VerifyError::Scan(e.to_string()))?;
    let held_for: Vec<&str> = report
        .at_least(Severity::Quarantine)
        .map(|f| f.rule.as_str())
        .collect();
    let action = match to {
        FileStatus::Published => "file.published",
        _ => "file.quarantined",
    };
    let mut detail = json!({
        "filename": held.file.filename,
        "verdict": report.verdict().as_str(),
        "rules": held_for,
        "rules_version": wharf_scan::RULES_VERSION,
    });
    if !reason.is_empty() {
        detail["reason"] = json!(reason);
    }
    let audit = NewAuditEvent::new(action, format!("project:{}", held.project))
        .by(actor.map(|u| u.id), None)
        .detail(detail.to_string());
    Ok(RecordVerdict {
        file_id: held.file.id,
        verdict: report.verdict().as_str().to_owned(),
        rules_version: wharf_scan::RULES_VERSION.to_owned(),
        findings,
        scanned_at: Timestamp::now(),
        from: vec![from],
        to,
        job: job.map(|(id, w)| (id, w.to_owned())),
        audit: (from != to).then_some(audit),
    })
}

/// Scans a stored file: its archive and contents, and, for a project's first
/// file, its name.
async fn scan(app: &App, held: &HeldFile, check_name: bool) -> Result<Report, VerifyError> {
    std::fs::create_dir_all(app.config.tmp_dir()).map_err(|e| VerifyError::Scan(e.to_string()))?;
    let copy = tempfile::NamedTempFile::new_in(app.config.tmp_dir())
        .map_err(|e| VerifyError::Scan(format!("creating a scratch file: {e}")))?;
    let key = BlobKey::for_sha256(&held.file.sha256);
    app.ports.blobs.fetch_to(&key, copy.path()).await?;
    let kind = held.file.kind;
    let path = copy.path().to_owned();
    let mut report = tokio::task::spawn_blocking(move || {
        let file = std::fs::File::open(&path).map_err(|e| VerifyError::Scan(e.to_string()))?;
        wharf_scan::scan_archive(BufReader::new(file), kind, &Limits::default())
            .map_err(|e| VerifyError::Scan(e.to_string()))
    })
    .await
    .map_err(|e| VerifyError::Scan(e.to_string()))??;
    drop(copy);
    let first_file = !app
        .ports
        .verification
        .has_other_published(held.file.project_id, held.file.id)
        .await?;
    if check_name && first_file {
        let local = app
            .ports
            .verification
            .published_names_not_owned_by(held.file.uploader_id)
            .await?;
        let context = NameContext {
            popular: PopularNames::bundled(Ecosystem::Pypi),
            local: &local,
        };
        report
            .findings
            .extend(wharf_scan::scan_name(&held.project, &context));
    }
    Ok(report)
}

/// What a rescan did.
#[derive(Debug, Default, serde::Serialize)]
pub struct RescanSummary {
    pub scanned: usize,
    /// Files that were published and now fail a rule they did not fail before.
    pub newly_quarantined: Vec<String>,
    /// Files whose verification is still queued; their job will scan them.
    pub skipped_pending: usize,
    pub errors: Vec<String>,
}

/// Re-runs the current rules over stored files. A published file that now
/// fails a rule it did not fail before goes to quarantine, audited with the
/// rules; a file an administrator released stays released for the findings
/// they saw. Reports of held files are refreshed.
pub async fn rescan(
    app: &App,
    project: Option<&NormalizedName>,
    actor: Option<&User>,
) -> Result<RescanSummary, VerifyError> {
    let mut summary = RescanSummary::default();
    for file in app.ports.verification.files_to_rescan(project).await? {
        let Some(held) = app.ports.verification.held_file(file.id).await? else {
            continue;
        };
        if held.file.status == FileStatus::Pending {
            summary.skipped_pending += 1;
            continue;
        }
        let report = match scan(app, &held, true).await {
            Ok(report) => report,
            Err(e) => {
                summary.errors.push(format!("{}: {e}", held.file.filename));
                continue;
            }
        };
        summary.scanned += 1;
        let known = previously_held(&held);
        let new_rules: Vec<String> = report
            .at_least(Severity::Quarantine)
            .filter(|f| !known.contains(&key_of(f)))
            .map(|f| f.rule.clone())
            .collect();
        let (from, to) = match held.file.status {
            FileStatus::Published if !new_rules.is_empty() => {
                (FileStatus::Published, FileStatus::Quarantined)
            }
            status => (status, status),
        };
        let reason = format!(
            "rescan with rules {}: {}",
            wharf_scan::RULES_VERSION,
            new_rules.join(", ")
        );
        let record = verdict_record(&held, &report, from, to, None, actor, &reason)?;
        if app.ports.verification.record_verdict(record).await? == VerdictOutcome::Applied
            && from != to
        {
            forget_cached(app, &held);
            summary.newly_quarantined.push(held.file.filename.clone());
        }
    }
    Ok(summary)
}

/// (rule, member) of every finding that already held the file, in its stored report.
fn previously_held(held: &HeldFile) -> HashSet<(String, Option<String>)> {
    held.report
        .as_ref()
        .and_then(|r| serde_json::from_str::<Vec<Finding>>(&r.findings).ok())
        .unwrap_or_default()
        .iter()
        .filter(|f| f.severity >= Severity::Quarantine)
        .map(key_of)
        .collect()
}

fn key_of(f: &Finding) -> (String, Option<String>) {
    (f.rule.clone(), f.file.clone())
}
