//! Verification reports, verdicts and the review queue.

use crate::error::repo_error;
use crate::{rows, Database};
use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::Row;
use wharf_core::model::{
    FileRecord, FileStatus, HeldFile, NewReview, PriorRelease, PriorReport, RecordVerdict, Review,
    ScanReport, VerdictOutcome, REVIEW_RELEASED,
};
use wharf_core::ports::{RepoError, VerificationRepo};
use wharf_core::{NormalizedName, Timestamp};

/// `$first, $first+1, …` for a status list bound after `first - 1` other values.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

const REPORT_COLUMNS: &str =
    "sr.file_id AS report_file_id, sr.verdict, sr.rules_version, sr.findings, \
     sr.scanned_at, sr.review, sr.review_reason, ru.name AS reviewer_name, sr.reviewed_at";

const REPORT_JOINS: &str =
    "LEFT JOIN scan_reports sr ON sr.file_id = f.id LEFT JOIN users ru ON ru.id = sr.reviewed_by";

fn report(row: &AnyRow) -> Result<Option<ScanReport>, RepoError> {
    let get = || -> Result<Option<ScanReport>, sqlx::Error> {
        let Some(file_id) = row.try_get::<Option<i64>, _>("report_file_id")? else {
            return Ok(None);
        };
        let review = match row.try_get::<Option<String>, _>("review")? {
            Some(decision) => Some(Review {
                decision,
                reason: row
                    .try_get::<Option<String>, _>("review_reason")?
                    .unwrap_or_default(),
                reviewer: row.try_get("reviewer_name")?,
                at: Timestamp(row.try_get::<Option<i64>, _>("reviewed_at")?.unwrap_or(0)),
            }),
            None => None,
        };
        Ok(Some(ScanReport {
            file_id,
            verdict: row.try_get("verdict")?,
            rules_version: row.try_get("rules_version")?,
            findings: row.try_get("findings")?,
            scanned_at: Timestamp(row.try_get("scanned_at")?),
            review,
        }))
    };
    get().map_err(repo_error)
}

/// Moves a file to `to` if it is in one of `from`; whether it moved.
async fn move_status(
    conn: &mut sqlx::AnyConnection,
    file_id: i64,
    from: &[FileStatus],
    to: FileStatus,
) -> Result<bool, RepoError> {
    let sql = format!(
        "UPDATE files SET status = $1 WHERE id = $2 AND status IN ({})",
        placeholders(3, from.len())
    );
    let mut update = sqlx::query(&sql).bind(to.as_str()).bind(file_id);
    for status in from {
        update = update.bind(status.as_str());
    }
    let done = update.execute(conn).await.map_err(repo_error)?;
    Ok(done.rows_affected() == 1)
}

fn held(row: &AnyRow) -> Result<HeldFile, RepoError> {
    Ok(HeldFile {
        file: rows::file(row)?,
        project: row.try_get("project_normalized").map_err(repo_error)?,
        report: report(row)?,
    })
}

impl Database {
    async fn status_of(&self, file_id: i64) -> Result<Option<FileStatus>, RepoError> {
        let row: Option<(String,)> = sqlx::query_as("SELECT status FROM files WHERE id = $1")
            .bind(file_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(repo_error)?;
        Ok(row.and_then(|(s,)| FileStatus::parse(&s)))
    }
}

#[async_trait]
impl VerificationRepo for Database {
    async fn held_file(&self, id: i64) -> Result<Option<HeldFile>, RepoError> {
        let sql = format!(
            "SELECT {}, p.normalized AS project_normalized, {REPORT_COLUMNS}
             FROM files f JOIN releases r ON r.id = f.release_id JOIN projects p ON p.id = f.project_id
             {REPORT_JOINS}
             WHERE f.id = $1",
            rows::FILE_COLUMNS
        );
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(repo_error)?;
        row.as_ref().map(held).transpose()
    }

    async fn record_verdict(&self, v: RecordVerdict) -> Result<VerdictOutcome, RepoError> {
        let mut tx = self.begin_audited().await?;
        let now = Timestamp::now().micros();
        if let Some((job_id, worker)) = &v.job {
            let finished = sqlx::query(
                "UPDATE jobs SET status = 'done', locked_by = NULL, locked_until = NULL, updated_at = $3
                 WHERE id = $1 AND locked_by = $2 AND status = 'running'",
            )
            .bind(job_id)
            .bind(worker)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(repo_error)?;
            if finished.rows_affected() != 1 {
                return Ok(VerdictOutcome::JobLost);
            }
        }
        let applied = move_status(&mut tx, v.file_id, &v.from, v.to).await?;
        // A file that just moved exists; only one that did not needs looking up.
        let exists = applied || {
            let found: Option<(i64,)> = sqlx::query_as("SELECT id FROM files WHERE id = $1")
                .bind(v.file_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(repo_error)?;
            found.is_some()
        };
        if exists {
            // The report is kept even when a reviewer decided first: it is still evidence.
            sqlx::query(
                "INSERT INTO scan_reports (file_id, verdict, rules_version, findings, scanned_at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (file_id) DO UPDATE SET verdict = excluded.verdict,
                     rules_version = excluded.rules_version, findings = excluded.findings,
                     scanned_at = excluded.scanned_at",
            )
            .bind(v.file_id)
            .bind(&v.verdict)
            .bind(&v.rules_version)
            .bind(&v.findings)
            .bind(v.scanned_at.micros())
            .execute(&mut *tx)
            .await
            .map_err(repo_error)?;
        }
        tx.commit(v.audit.as_ref().filter(|_| applied)).await?;
        if applied {
            Ok(VerdictOutcome::Applied)
        } else {
            Ok(VerdictOutcome::StatusChanged(
                self.status_of(v.file_id).await?,
            ))
        }
    }

    async fn report(&self, file_id: i64) -> Result<Option<ScanReport>, RepoError> {
        let sql = format!("SELECT {REPORT_COLUMNS} FROM files f {REPORT_JOINS} WHERE f.id = $1");
        let row = sqlx::query(&sql)
            .bind(file_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(repo_error)?;
        Ok(match row {
            Some(row) => report(&row)?,
            None => None,
        })
    }

    async fn held_files(
        &self,
        statuses: &[FileStatus],
        limit: i64,
    ) -> Result<Vec<HeldFile>, RepoError> {
        if statuses.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {}, p.normalized AS project_normalized, {REPORT_COLUMNS}
             FROM files f JOIN releases r ON r.id = f.release_id JOIN projects p ON p.id = f.project_id
             {REPORT_JOINS}
             WHERE f.status IN ({}) ORDER BY f.id LIMIT $1",
            rows::FILE_COLUMNS,
            placeholders(2, statuses.len())
        );
        let mut query = sqlx::query(&sql).bind(limit);
        for status in statuses {
            query = query.bind(status.as_str());
        }
        let found = query.fetch_all(&self.pool).await.map_err(repo_error)?;
        found.iter().map(held).collect()
    }

    async fn review(&self, r: NewReview) -> Result<Option<FileStatus>, RepoError> {
        let mut tx = self.begin_audited().await?;
        let applied = move_status(&mut tx, r.file_id, &r.from, r.to).await?;
        if applied {
            let at = r.at.micros();
            let updated = sqlx::query(
                "UPDATE scan_reports SET review = $2, review_reason = $3, reviewed_by = $4, reviewed_at = $5
                 WHERE file_id = $1",
            )
            .bind(r.file_id)
            .bind(r.decision)
            .bind(&r.reason)
            .bind(r.reviewer_id)
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(repo_error)?;
            if updated.rows_affected() == 0 {
                // Decided before any scan finished: the decision still needs a home.
                sqlx::query(
                    "INSERT INTO scan_reports (file_id, verdict, rules_version, findings, scanned_at,
                                               review, review_reason, reviewed_by, reviewed_at)
                     VALUES ($1, 'unscanned', '', '[]', $5, $2, $3, $4, $5)",
                )
                .bind(r.file_id)
                .bind(r.decision)
                .bind(&r.reason)
                .bind(r.reviewer_id)
                .bind(at)
                .execute(&mut *tx)
                .await
                .map_err(repo_error)?;
            }
        }
        tx.commit(applied.then_some(&r.audit)).await?;
        self.status_of(r.file_id).await
    }

    async fn files_to_rescan(
        &self,
        project: Option<&NormalizedName>,
    ) -> Result<Vec<FileRecord>, RepoError> {
        let mut sql = format!(
            "SELECT {} FROM files f JOIN releases r ON r.id = f.release_id JOIN projects p ON p.id = f.project_id
             WHERE f.status <> 'rejected'",
            rows::FILE_COLUMNS
        );
        if project.is_some() {
            sql.push_str(" AND p.normalized = $1");
        }
        sql.push_str(" ORDER BY f.id");
        let mut query = sqlx::query(&sql);
        if let Some(project) = project {
            query = query.bind(project.as_str());
        }
        let found = query.fetch_all(&self.pool).await.map_err(repo_error)?;
        found.iter().map(rows::file).collect()
    }

    async fn published_names_not_owned_by(
        &self,
        ecosystem: &str,
        user_id: i64,
    ) -> Result<Vec<String>, RepoError> {
        let found: Vec<(String,)> = sqlx::query_as(
            "SELECT p.normalized FROM projects p
             WHERE p.ecosystem = $2 AND NOT EXISTS
               (SELECT 1 FROM project_roles pr WHERE pr.project_id = p.id AND pr.user_id = $1)
               AND EXISTS
               (SELECT 1 FROM files f WHERE f.project_id = p.id AND f.status = 'published')
             ORDER BY p.normalized",
        )
        .bind(user_id)
        .bind(ecosystem)
        .fetch_all(&self.pool)
        .await
        .map_err(repo_error)?;
        // npm rows are keyed `npm:name`: the name itself is what is compared.
        Ok(found
            .into_iter()
            .map(|(n,)| match n.strip_prefix("npm:") {
                Some(name) => name.to_owned(),
                None => n,
            })
            .collect())
    }

    async fn prior_release(
        &self,
        project: &str,
        except_version: &str,
    ) -> Result<Option<PriorRelease>, RepoError> {
        let rows: Vec<(String, String, Option<String>)> = sqlx::query_as(
            "SELECT r.version, sr.findings, sr.review
             FROM files f JOIN releases r ON r.id = f.release_id
             JOIN scan_reports sr ON sr.file_id = f.id
             WHERE f.status = 'published' AND f.release_id = (
                 SELECT f2.release_id FROM files f2
                 JOIN releases r2 ON r2.id = f2.release_id
                 JOIN projects p ON p.id = f2.project_id
                 WHERE p.normalized = $1 AND r2.version <> $2 AND f2.status = 'published'
                 ORDER BY f2.uploaded_at DESC, f2.id DESC LIMIT 1)
             ORDER BY f.id",
        )
        .bind(project)
        .bind(except_version)
        .fetch_all(&self.pool)
        .await
        .map_err(repo_error)?;
        let Some(version) = rows.first().map(|(v, _, _)| v.clone()) else {
            return Ok(None);
        };
        let reports = rows
            .into_iter()
            .map(|(_, findings, review)| PriorReport {
                findings,
                released: review.as_deref() == Some(REVIEW_RELEASED),
            })
            .collect();
        Ok(Some(PriorRelease { version, reports }))
    }

    async fn has_other_published(
        &self,
        project_id: i64,
        except_file: i64,
    ) -> Result<bool, RepoError> {
        let row = sqlx::query(
            "SELECT 1 FROM files WHERE project_id = $1 AND id <> $2 AND status = 'published' LIMIT 1",
        )
        .bind(project_id)
        .bind(except_file)
        .fetch_optional(&self.pool)
        .await
        .map_err(repo_error)?;
        Ok(row.is_some())
    }
}
