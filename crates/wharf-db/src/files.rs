//! Distribution files, and the one transaction that records an upload.

use crate::audit::AuditedTx;
use crate::error::repo_error;
use crate::{rows, Database};
use async_trait::async_trait;
use sqlx::Row;
use wharf_core::model::{FileRecord, FileStatus, NewUpload, Origin, UploadOutcome, VERIFY_JOB};
use wharf_core::ports::{FileRepo, RepoError};

#[async_trait]
impl FileRepo for Database {
    async fn find_file(&self, filename: &str) -> Result<Option<FileRecord>, RepoError> {
        let sql = format!(
            "SELECT {} FROM files f JOIN releases r ON r.id = f.release_id WHERE f.filename = $1",
            rows::FILE_COLUMNS
        );
        let row = sqlx::query(&sql)
            .bind(filename)
            .fetch_optional(&self.pool)
            .await
            .map_err(repo_error)?;
        row.as_ref().map(rows::file).transpose()
    }

    async fn record_upload(&self, up: NewUpload) -> Result<UploadOutcome, RepoError> {
        let mut tx = self.begin_audited().await?;
        let inserted = insert_upload(&mut tx, &up).await?;
        match inserted {
            Inserted::Created {
                file_id,
                project_id,
                created_project,
                verify_job,
            } => {
                // The events went in above, in order: the upload, then its verdict.
                tx.commit(None).await?;
                Ok(UploadOutcome::Created {
                    file: up.into_record(file_id, project_id),
                    created_project,
                    verify_job,
                })
            }
            Inserted::NotOwner => Ok(UploadOutcome::NotOwner),
            Inserted::OtherOrigin => Ok(UploadOutcome::OtherOrigin),
            Inserted::FilenameTaken => {
                // The filename is taken (never reused): by these same bytes, a
                // no-op; by others, a refusal. Nothing of this attempt is kept.
                drop(tx);
                let file = self.find_file_unlocked(&up.filename).await?;
                if file.sha256 == up.sha256 {
                    return Ok(UploadOutcome::AlreadyExists { file });
                }
                Ok(UploadOutcome::FilenameTaken {
                    existing_sha256: file.sha256,
                })
            }
        }
    }
}

/// What inserting an upload's rows came to, before the commit.
pub(crate) enum Inserted {
    Created {
        file_id: i64,
        project_id: i64,
        created_project: bool,
        verify_job: Option<i64>,
    },
    /// The filename is taken; the caller drops the transaction and looks.
    FilenameTaken,
    /// The project exists and the uploader has no role in it.
    NotOwner,
    /// The project's files come from the other origin.
    OtherOrigin,
}

/// Writes an upload's project (if new), release, file, search row, report,
/// events and verification job inside `tx`, which the caller commits. Every
/// refusal is returned before anything the caller would keep is written.
pub(crate) async fn insert_upload(
    tx: &mut AuditedTx<'_>,
    up: &NewUpload,
) -> Result<Inserted, RepoError> {
    let now = up.uploaded_at.micros();

    // An existing project is found, touched and its ownership checked in
    // one statement. Every refusal below drops the transaction, so the
    // touch is rolled back with it. Writing first also gives SQLite's
    // transaction the write lock from its start.
    let mut created_project = false;
    let mut project = touch_project(&mut *tx, up, now).await?;
    if project.is_none() {
        // ON CONFLICT DO NOTHING + RETURNING reads the same on SQLite and
        // PostgreSQL, and settles a race between two first uploads: the
        // loser finds the winner's project on the second look.
        let inserted = sqlx::query(
            "INSERT INTO projects (name, normalized, created_at, updated_at, origin, ecosystem)
                 VALUES ($1, $2, $3, $3, $4, $5)
                 ON CONFLICT (normalized) DO NOTHING RETURNING id",
        )
        .bind(&up.project_name)
        .bind(up.normalized.as_str())
        .bind(now)
        .bind(up.origin.as_str())
        .bind(up.kind.ecosystem())
        .fetch_optional(&mut **tx)
        .await
        .map_err(repo_error)?;
        match inserted {
            Some(row) => {
                let id: i64 = row.try_get("id").map_err(repo_error)?;
                // A proxied project has no owner: nobody here publishes it.
                if up.origin == Origin::Local {
                    sqlx::query("INSERT INTO project_roles (project_id, user_id, role) VALUES ($1, $2, 'owner')")
                            .bind(id)
                            .bind(up.uploader_id)
                            .execute(&mut **tx)
                            .await
                            .map_err(repo_error)?;
                }
                created_project = true;
                project = Some((id, true, up.origin));
            }
            None => project = touch_project(&mut *tx, up, now).await?,
        }
    }
    let project_id = match project {
        Some((_, _, origin)) if origin != up.origin => return Ok(Inserted::OtherOrigin),
        Some((id, _, Origin::Proxy)) => id,
        Some((id, true, Origin::Local)) => id,
        Some((_, false, Origin::Local)) => return Ok(Inserted::NotOwner),
        None => {
            return Err(RepoError::Internal(format!(
                "project {} is neither insertable nor found",
                up.normalized
            )))
        }
    };

    let release = sqlx::query(
        "INSERT INTO releases (project_id, version, summary, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (project_id, version) DO NOTHING RETURNING id",
    )
    .bind(project_id)
    .bind(&up.version)
    .bind(&up.summary)
    .bind(now)
    .fetch_optional(&mut **tx)
    .await
    .map_err(repo_error)?;
    let release_id: i64 = match release {
        Some(row) => row.try_get("id").map_err(repo_error)?,
        None => {
            sqlx::query_as::<_, (i64,)>(
                "SELECT id FROM releases WHERE project_id = $1 AND version = $2",
            )
            .bind(project_id)
            .bind(&up.version)
            .fetch_one(&mut **tx)
            .await
            .map_err(repo_error)?
            .0
        }
    };

    let inserted_file = sqlx::query(
            "INSERT INTO files (project_id, release_id, filename, kind, python_tag, size, sha256, blake2_256, md5,
                                requires_python, metadata_sha256, status, uploaded_at, uploader_id, token_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
             ON CONFLICT (filename) DO NOTHING RETURNING id",
        )
        .bind(project_id)
        .bind(release_id)
        .bind(&up.filename)
        .bind(up.kind.as_str())
        .bind(&up.python_tag)
        .bind(up.size)
        .bind(&up.sha256)
        .bind(&up.blake2_256)
        .bind(&up.md5)
        .bind(&up.requires_python)
        .bind(&up.metadata_sha256)
        .bind(up.status.as_str())
        .bind(now)
        .bind(up.uploader_id)
        .bind(up.token_id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(repo_error)?;
    let Some(inserted_file) = inserted_file else {
        return Ok(Inserted::FilenameTaken);
    };
    let file_id: i64 = inserted_file.try_get("id").map_err(repo_error)?;
    // The search row follows the latest upload's summary. A row that
    // already says so is left alone, which spares rewriting its search
    // index entries (FTS5 triggers, GIN indexes) on every upload.
    sqlx::query(
            "INSERT INTO project_search (project_id, name, summary) VALUES ($1, $2, $3)
             ON CONFLICT (project_id) DO UPDATE SET name = excluded.name, summary = excluded.summary
             WHERE project_search.name <> excluded.name OR project_search.summary <> excluded.summary",
        )
        .bind(project_id)
        .bind(&up.project_name)
        .bind(up.summary.as_deref().unwrap_or_default())
        .execute(&mut **tx)
        .await
        .map_err(repo_error)?;
    tx.record(&up.audit).await?;
    // A verdict reached before recording is stored with the file it judges.
    if let Some(v) = &up.verdict {
        sqlx::query(
            "INSERT INTO scan_reports (file_id, verdict, rules_version, findings, scanned_at)
                 VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(file_id)
        .bind(&v.verdict)
        .bind(&v.rules_version)
        .bind(&v.findings)
        .bind(v.scanned_at.micros())
        .execute(&mut **tx)
        .await
        .map_err(repo_error)?;
        tx.record(&v.audit).await?;
    }
    // A pending file and its verification job exist together or not at all.
    let verify_job = if up.status == FileStatus::Pending {
        let (job,): (i64,) = sqlx::query_as(
            "INSERT INTO jobs (kind, payload, status, run_after, created_at, updated_at)
                 VALUES ($1, $2, 'queued', $3, $3, $3) RETURNING id",
        )
        .bind(VERIFY_JOB)
        .bind(format!("{{\"file_id\":{file_id}}}"))
        .bind(now)
        .fetch_one(&mut **tx)
        .await
        .map_err(repo_error)?;
        Some(job)
    } else {
        None
    };
    Ok(Inserted::Created {
        file_id,
        project_id,
        created_project,
        verify_job,
    })
}

/// Sets an existing project's `updated_at`; its id, whether the uploader
/// owns it, and its origin. `None` if there is no such project.
async fn touch_project(
    tx: &mut sqlx::AnyConnection,
    up: &NewUpload,
    now: i64,
) -> Result<Option<(i64, bool, Origin)>, RepoError> {
    let row = sqlx::query(
        "UPDATE projects SET updated_at = $1 WHERE normalized = $2
         RETURNING id, origin, (SELECT COUNT(*) FROM project_roles pr
                        WHERE pr.project_id = projects.id AND pr.user_id = $3) AS owner_roles",
    )
    .bind(now)
    .bind(up.normalized.as_str())
    .bind(up.uploader_id)
    .fetch_optional(&mut *tx)
    .await
    .map_err(repo_error)?;
    let Some(row) = row else {
        return Ok(None);
    };
    let id: i64 = row.try_get("id").map_err(repo_error)?;
    let roles: i64 = row.try_get("owner_roles").map_err(repo_error)?;
    let origin: String = row.try_get("origin").map_err(repo_error)?;
    let origin = Origin::parse(&origin)
        .ok_or_else(|| RepoError::Internal(format!("unknown project origin '{origin}'")))?;
    Ok(Some((id, roles > 0, origin)))
}

impl Database {
    async fn find_file_unlocked(&self, filename: &str) -> Result<FileRecord, RepoError> {
        self.find_file(filename).await?.ok_or_else(|| {
            RepoError::Internal(format!("file row for {filename} vanished after commit"))
        })
    }
}
