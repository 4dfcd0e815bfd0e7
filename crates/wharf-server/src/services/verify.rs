//! Verification: a stored file is scanned, then published or quarantined.
//!
//! An upload that finds a scan slot free verifies its own file: the archive is
//! scanned in the pass that reads it for the upload's checks, and the verdict
//! is recorded with the file, in the upload's transaction ([`UploadScan`]).
//! Otherwise the upload is a `pending` file plus a queued job, written in one
//! transaction; the upload runs that job itself once a slot is free (so
//! `twine upload` followed by `pip install` works), or the in-process workers
//! (or a `wharf worker` tier) take it from the queue. A job's verdict is
//! stored in the same transaction that finishes the job, and only while the
//! worker still holds the job's lease, so a job whose worker died is retried
//! and its result lands exactly once.

use crate::cache::{FileCache, PageCache};
use crate::metrics::Metrics;
use serde_json::json;
use std::collections::HashSet;
use std::io::BufReader;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use wharf_artifact::Limits;
use wharf_core::model::User;
use wharf_core::model::{
    FileStatus, HeldFile, Job, NewAuditEvent, PriorRelease, RecordVerdict, UploadVerdict,
    VerdictOutcome, VERIFY_JOB,
};
use wharf_core::ports::{
    BlobError, BlobKey, BlobLocation, BlobStore, JobQueue, RepoError, VerificationRepo,
};
use wharf_core::{NormalizedName, Timestamp};
use wharf_scan::names::Ecosystem;
use wharf_scan::{
    Finding, History, NameContext, PopularNames, Previous, Report, Severity, Verdict,
};

/// Retries of a job that failed for a reason other than its file (storage down).
const MAX_ATTEMPTS: i64 = 5;
/// How often an upload waiting for another process's verdict looks for it.
const VERDICT_POLL: Duration = Duration::from_millis(100);

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
    /// Signalled whenever a worker of this process stores a verdict, so an
    /// upload whose job another worker took learns of it at once.
    verdict_stored: Notify,
}

impl Verifier {
    pub fn new(workers: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(workers)),
            process_tag: format!("{}-{:08x}", std::process::id(), rand::random::<u32>()),
            next_id: AtomicU64::new(0),
            verdict_stored: Notify::new(),
        }
    }

    fn worker_name(&self, role: &str) -> String {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        format!("{role}-{}-{n}", self.process_tag)
    }
}

/// Verification: uploads' own scans, the queue's workers, and rescans. It
/// owns the scan slots of this process.
pub struct Verification {
    settings: crate::config::Verification,
    /// Where a blob in object storage is copied to be scanned.
    tmp_dir: PathBuf,
    jobs: Arc<dyn JobQueue>,
    repo: Arc<dyn VerificationRepo>,
    blobs: Arc<dyn BlobStore>,
    verifier: Verifier,
    metrics: Arc<Metrics>,
    /// Pages and file records dropped when a verdict changes what is listed.
    pages: Arc<PageCache>,
    file_index: Arc<FileCache>,
}

/// What [`Verification`] is built from.
pub struct VerificationParts {
    pub settings: crate::config::Verification,
    pub tmp_dir: PathBuf,
    pub jobs: Arc<dyn JobQueue>,
    pub repo: Arc<dyn VerificationRepo>,
    pub blobs: Arc<dyn BlobStore>,
    pub metrics: Arc<Metrics>,
    pub pages: Arc<PageCache>,
    pub file_index: Arc<FileCache>,
}

impl Verification {
    pub fn new(parts: VerificationParts) -> Self {
        Self {
            verifier: Verifier::new(parts.settings.workers),
            settings: parts.settings,
            tmp_dir: parts.tmp_dir,
            jobs: parts.jobs,
            repo: parts.repo,
            blobs: parts.blobs,
            metrics: parts.metrics,
            pages: parts.pages,
            file_index: parts.file_index,
        }
    }
}

/// A scan slot an upload holds to verify its own file before recording it:
/// the verdict is then stored with the file, in the upload's transaction, and
/// no job goes through the queue. The archive is scanned in the same pass
/// that reads it for the upload's checks.
pub struct UploadScan {
    /// Held from the read of the archive until the verdict is reached.
    permit: Option<OwnedSemaphorePermit>,
    metrics: Arc<Metrics>,
}

impl UploadScan {
    /// The verdict on an upload's archive `report` (read under the upload's
    /// archive limits, the same as a worker's); for a project's first file,
    /// its name is checked too, as a worker would. Frees the scan slot.
    pub async fn judge(
        &mut self,
        repo: &dyn VerificationRepo,
        mut report: Report,
        file: &UploadedFile<'_>,
    ) -> Result<(FileStatus, UploadVerdict), VerifyError> {
        let _permit = self.permit.take();
        if file.first_file {
            report
                .findings
                .extend(check_name(repo, file.project, file.kind, file.uploader_id).await?);
        }
        remember_prior(repo, file.project, file.version, &mut report).await?;
        let to = status_for(report.verdict());
        let findings = serde_json::to_string(&report.findings)
            .map_err(|e| VerifyError::Scan(e.to_string()))?;
        let verdict = UploadVerdict {
            verdict: report.verdict().as_str().to_owned(),
            rules_version: wharf_scan::RULES_VERSION.to_owned(),
            findings,
            scanned_at: Timestamp::now(),
            audit: verdict_event(file.filename, file.project, &report, to, ""),
        };
        Ok((to, verdict))
    }

    /// Counts and logs a verdict once it is stored with its file.
    pub fn recorded(&self, filename: &str, status: FileStatus) {
        self.metrics.count_verdict(status);
        tracing::info!(file = %filename, status = status.as_str(), "verified");
    }
}

/// The upload an [`UploadScan`] judges.
pub struct UploadedFile<'a> {
    pub filename: &'a str,
    pub project: &'a str,
    pub uploader_id: i64,
    /// The release it joins, as stored.
    pub version: &'a str,
    /// Whether the project has no published file yet.
    pub first_file: bool,
    /// Which name rules apply: PyPI's or npm's.
    pub kind: wharf_core::DistKind,
}

impl Verification {
    /// What became of an upload's verification by the time the upload answers.
    pub async fn verify_upload(&self, job_id: i64, file_id: i64) -> FileStatus {
        let settings = &self.settings;
        let deadline = tokio::time::Instant::now() + settings.upload_wait;
        if settings.workers > 0 {
            let permit =
                tokio::time::timeout_at(deadline, self.verifier.permits.clone().acquire_owned());
            if let Ok(Ok(_permit)) = permit.await {
                let worker = self.verifier.worker_name("upload");
                // The scan does not depend on the claim, so both run at once; in
                // the rare case that another worker has the job, the scan is
                // dropped and its verdict awaited below.
                let claim = self
                    .jobs
                    .claim_id(job_id, &worker, Timestamp::now(), settings.lease);
                let (claimed, prepared) = tokio::join!(claim, self.prepare(file_id));
                match claimed {
                    Ok(Some(job)) => {
                        if let Some(status) = self.settle(job, &worker, prepared).await {
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
        // A worker of this process wakes us as soon as it stores a verdict; one
        // in another process (a `wharf worker` tier) is noticed by polling.
        loop {
            // Registered before the look, so a verdict stored in between still wakes us.
            let stored = self.verifier.verdict_stored.notified();
            tokio::pin!(stored);
            stored.as_mut().enable();
            match self.repo.held_file(file_id).await {
                Ok(Some(held)) if held.file.status != FileStatus::Pending => {
                    return held.file.status
                }
                Ok(_) | Err(_) => {}
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return FileStatus::Pending;
            }
            tokio::select! {
                () = &mut stored => {}
                () = tokio::time::sleep_until((now + VERDICT_POLL).min(deadline)) => {}
            }
        }
    }

    /// Starts `verification.workers` background workers in this process.
    pub fn spawn_workers(self: &Arc<Self>) -> Vec<tokio::task::JoinHandle<()>> {
        (0..self.settings.workers)
            .map(|_| {
                let worker = self.verifier.worker_name("worker");
                tokio::spawn(self.clone().worker_loop(worker))
            })
            .collect()
    }

    async fn worker_loop(self: Arc<Self>, worker: String) {
        let settings = self.settings.clone();
        loop {
            let Ok(permit) = self.verifier.permits.clone().acquire_owned().await else {
                return;
            };
            match self
                .jobs
                .claim(&worker, &[VERIFY_JOB], Timestamp::now(), settings.lease)
                .await
            {
                Ok(Some(job)) => {
                    self.process(job, &worker).await;
                    drop(permit);
                    continue;
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, worker, "cannot read the job queue; retrying"),
            }
            drop(permit);
            // Jitter keeps many idle workers from polling in lockstep.
            let jitter =
                rand::random::<u64>() % (settings.poll_interval.as_millis() as u64 / 4 + 1);
            tokio::time::sleep(settings.poll_interval + Duration::from_millis(jitter)).await;
        }
    }

    /// A scan slot of this process for an upload, if one is free right now.
    /// An upload that gets none records its file pending with a job, and
    /// [`Verification::verify_upload`] then waits for a slot (or another
    /// worker's verdict).
    pub fn try_take_slot(&self) -> Option<UploadScan> {
        let permit = self.verifier.permits.clone().try_acquire_owned().ok()?;
        Some(UploadScan {
            permit: Some(permit),
            metrics: self.metrics.clone(),
        })
    }

    /// The scan slots, for the proxy's scans of fetched files.
    pub fn slots(&self) -> Arc<Semaphore> {
        self.verifier.permits.clone()
    }

    /// Runs one claimed job to its end: a verdict stored, or a retry scheduled.
    /// Returns the file's status when the verdict was stored by this call.
    async fn process(&self, job: Job, worker: &str) -> Option<FileStatus> {
        #[derive(serde::Deserialize)]
        struct Payload {
            file_id: i64,
        }
        let prepared = match serde_json::from_str::<Payload>(&job.payload) {
            Ok(payload) => self.prepare(payload.file_id).await,
            Err(e) => Err(VerifyError::Payload(e.to_string())),
        };
        self.settle(job, worker, prepared).await
    }

    /// Reads the file and scans it, if it is still pending.
    async fn prepare(&self, file_id: i64) -> Result<Prepared, VerifyError> {
        let held = self.repo.held_file(file_id).await?;
        let Some(held) = held.filter(|h| h.file.status == FileStatus::Pending) else {
            return Ok(None);
        };
        let report = self.scan(&held, true).await?;
        Ok(Some((held, report)))
    }

    /// Finishes a claimed job with what `prepare` found: a verdict stored, or a
    /// retry scheduled. Returns the file's status when this call stored the verdict.
    async fn settle(
        &self,
        job: Job,
        worker: &str,
        prepared: Result<Prepared, VerifyError>,
    ) -> Option<FileStatus> {
        let recorded = match prepared {
            Ok(prepared) => self.record(&job, worker, prepared).await,
            Err(e) => Err(e),
        };
        match recorded {
            Ok(status) => status,
            Err(e) => {
                let retry_at = (job.attempts < MAX_ATTEMPTS).then(|| {
                    let backoff = Duration::from_secs(5 << job.attempts.clamp(0, 6));
                    Timestamp::now().plus(backoff)
                });
                tracing::warn!(error = %e, job = job.id, attempts = job.attempts, retry = retry_at.is_some(), "verification failed");
                if let Err(e) = self
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

    /// Stores the verdict of a prepared scan, finishing the job in the same
    /// transaction; a job whose file needs none is just completed.
    async fn record(
        &self,
        job: &Job,
        worker: &str,
        prepared: Prepared,
    ) -> Result<Option<FileStatus>, VerifyError> {
        let Some((held, report)) = prepared else {
            // Gone, or decided by an administrator first: nothing left to do.
            self.jobs.complete(job.id, worker).await?;
            return Ok(None);
        };
        let to = status_for(report.verdict());
        let outcome = self
            .repo
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
                self.forget_cached(&held);
                self.verifier.verdict_stored.notify_waiters();
                self.metrics.count_verdict(to);
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

    fn forget_cached(&self, held: &HeldFile) {
        self.pages.invalidate(&held.project);
        self.file_index.invalidate_project(held.file.project_id);
    }

    /// Scans a stored file: its archive and contents, and, for a project's first
    /// file, its name.
    async fn scan(&self, held: &HeldFile, check_name: bool) -> Result<Report, VerifyError> {
        let key = BlobKey::for_sha256(&held.file.sha256);
        // A blob on local disk is read where it lies (blobs are immutable); one in
        // object storage is copied to a scratch file first.
        let (path, scratch) = match self.blobs.locate(&key).await? {
            BlobLocation::LocalFile(path) => (path, None),
            BlobLocation::Redirect(_) => {
                std::fs::create_dir_all(&self.tmp_dir)
                    .map_err(|e| VerifyError::Scan(e.to_string()))?;
                let copy = tempfile::NamedTempFile::new_in(&self.tmp_dir)
                    .map_err(|e| VerifyError::Scan(format!("creating a scratch file: {e}")))?;
                self.blobs.fetch_to(&key, copy.path()).await?;
                (copy.path().to_owned(), Some(copy))
            }
        };
        let kind = held.file.kind;
        let archive = tokio::task::spawn_blocking(move || {
            let file = std::fs::File::open(&path).map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => {
                    VerifyError::Blob(BlobError::NotFound(key.as_str().to_owned()))
                }
                _ => VerifyError::Scan(e.to_string()),
            })?;
            wharf_scan::scan_archive(BufReader::new(file), kind, &Limits::default())
                .map_err(|e| VerifyError::Scan(e.to_string()))
        });
        // The name check's queries run while the archive is scanned.
        let names = async {
            if !check_name {
                return Ok(Vec::new());
            }
            let first_file = !self
                .repo
                .has_other_published(held.file.project_id, held.file.id)
                .await?;
            if !first_file {
                return Ok(Vec::new());
            }
            self::check_name(
                self.repo.as_ref(),
                &held.project,
                held.file.kind,
                held.file.uploader_id,
            )
            .await
        };
        let (archive, names) = tokio::join!(archive, names);
        let mut report = archive.map_err(|e| VerifyError::Scan(e.to_string()))??;
        drop(scratch);
        report.findings.extend(names?);
        remember_prior(
            self.repo.as_ref(),
            &held.project,
            &held.file.version,
            &mut report,
        )
        .await?;
        Ok(report)
    }

    /// Re-runs the current rules over stored files. A published file that now
    /// fails a rule it did not fail before goes to quarantine, audited with the
    /// rules; a file an administrator released stays released for the findings
    /// they saw. Reports of held files are refreshed.
    pub async fn rescan(
        &self,
        project: Option<&NormalizedName>,
        actor: Option<&User>,
    ) -> Result<RescanSummary, VerifyError> {
        let mut summary = RescanSummary::default();
        for file in self.repo.files_to_rescan(project).await? {
            let Some(held) = self.repo.held_file(file.id).await? else {
                continue;
            };
            if held.file.status == FileStatus::Pending {
                summary.skipped_pending += 1;
                continue;
            }
            let report = match self.scan(&held, true).await {
                Ok(report) => report,
                Err(e) => {
                    summary.errors.push(format!("{}: {e}", held.file.filename));
                    continue;
                }
            };
            summary.scanned += 1;
            let known = previously_held(&held);
            let new_rules: Vec<String> = report
                .holding()
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
            if self.repo.record_verdict(record).await? == VerdictOutcome::Applied && from != to {
                self.forget_cached(&held);
                summary.newly_quarantined.push(held.file.filename.clone());
            }
        }
        Ok(summary)
    }
}

/// A pending file and its scan report; `None` if the file is gone or was
/// decided by an administrator first.
type Prepared = Option<(HeldFile, Report)>;

pub(crate) fn status_for(verdict: Verdict) -> FileStatus {
    match verdict {
        Verdict::Pass => FileStatus::Published,
        Verdict::Quarantine | Verdict::Block => FileStatus::Quarantined,
    }
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
    let audit = verdict_event(&held.file.filename, &held.project, report, to, reason)
        .by(actor.map(|u| u.id), None);
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

/// The audit event of a verdict that gives a file the status `to`.
pub(crate) fn verdict_event(
    filename: &str,
    project: &str,
    report: &Report,
    to: FileStatus,
    reason: &str,
) -> NewAuditEvent {
    let held_for: Vec<&str> = report.holding().map(|f| f.rule.as_str()).collect();
    let action = match to {
        FileStatus::Published => "file.published",
        _ => "file.quarantined",
    };
    let mut detail = json!({
        "filename": filename,
        "verdict": report.verdict().as_str(),
        "rules": held_for,
        "rules_version": wharf_scan::RULES_VERSION,
    });
    if !reason.is_empty() {
        detail["reason"] = json!(reason);
    }
    NewAuditEvent::new(action, format!("project:{project}")).detail(detail.to_string())
}

/// The name findings for a project's first file: its name against popular
/// projects and against published projects of other owners.
async fn check_name(
    repo: &dyn VerificationRepo,
    project: &str,
    kind: wharf_core::DistKind,
    uploader_id: i64,
) -> Result<Vec<Finding>, VerifyError> {
    let ecosystem = kind.ecosystem();
    let local = repo
        .published_names_not_owned_by(ecosystem, uploader_id)
        .await?;
    // npm rows are keyed `npm:name`; the rules compare the name itself.
    let (popular, name) = match project.strip_prefix("npm:") {
        Some(name) => (PopularNames::bundled(Ecosystem::Npm), name),
        None => (PopularNames::bundled(Ecosystem::Pypi), project),
    };
    let context = NameContext {
        popular,
        local: &local,
    };
    Ok(wharf_scan::scan_name(name, &context))
}

/// Compares a report with the project's previous published release (see
/// [`Report::remember`]): what a reviewer released there, with the same code,
/// does not hold this release again, and what is new is marked so.
pub(crate) async fn remember_prior(
    repo: &dyn VerificationRepo,
    project: &str,
    version: &str,
    report: &mut Report,
) -> Result<(), RepoError> {
    report.fingerprint();
    if let Some(prior) = repo.prior_release(project, version).await? {
        report.remember(&previous_of(prior));
    }
    Ok(())
}

/// The fingerprints a prior release's reports hold. A holding finding counts as
/// released when a reviewer released its file, or when it was itself carried
/// over from the release before (so a chain of releases stays released).
fn previous_of(prior: PriorRelease) -> Previous {
    let mut previous = Previous {
        version: prior.version,
        ..Previous::default()
    };
    for report in prior.reports {
        let findings: Vec<Finding> = serde_json::from_str(&report.findings).unwrap_or_default();
        for finding in findings {
            let print = finding
                .fingerprint
                .clone()
                .unwrap_or_else(|| finding.fingerprint_of());
            let carried = matches!(finding.history, Some(History::ReleasedBefore { .. }));
            if finding.severity == Severity::Quarantine && (report.released || carried) {
                previous.released.insert(print.clone());
            }
            previous.seen.insert(print);
        }
    }
    previous
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
