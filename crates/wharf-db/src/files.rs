//! Distribution files, and the one transaction that records an upload.

use crate::error::repo_error;
use crate::{rows, Database};
use async_trait::async_trait;
use sqlx::Row;
use wharf_core::model::{FileRecord, FileStatus, NewUpload, UploadOutcome, VERIFY_JOB};
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
        let now = up.uploaded_at.micros();

        // ON CONFLICT DO NOTHING + RETURNING reads the same on SQLite and
        // PostgreSQL, and settles a race between two first uploads.
        let inserted = sqlx::query(
            "INSERT INTO projects (name, normalized, created_at, updated_at) VALUES ($1, $2, $3, $3)
             ON CONFLICT (normalized) DO NOTHING RETURNING id",
        )
        .bind(&up.project_name)
        .bind(up.normalized.as_str())
        .bind(now)
        .fetch_optional(&mut *tx)
        .await
        .map_err(repo_error)?;
        let (project_id, created_project) = match inserted {
            Some(row) => {
                let id: i64 = row.try_get("id").map_err(repo_error)?;
                sqlx::query("INSERT INTO project_roles (project_id, user_id, role) VALUES ($1, $2, 'owner')")
                    .bind(id)
                    .bind(up.uploader_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(repo_error)?;
                (id, true)
            }
            None => {
                let (id,): (i64,) = sqlx::query_as("SELECT id FROM projects WHERE normalized = $1")
                    .bind(up.normalized.as_str())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(repo_error)?;
                let role = sqlx::query(
                    "SELECT 1 FROM project_roles WHERE project_id = $1 AND user_id = $2",
                )
                .bind(id)
                .bind(up.uploader_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(repo_error)?;
                if role.is_none() {
                    return Ok(UploadOutcome::NotOwner);
                }
                (id, false)
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
        .fetch_optional(&mut *tx)
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
                .fetch_one(&mut *tx)
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
        .fetch_optional(&mut *tx)
        .await
        .map_err(repo_error)?;
        if inserted_file.is_none() {
            // The filename is taken (never reused): by these same bytes, a
            // no-op; by others, a refusal. Nothing of this attempt is kept.
            drop(tx);
            let file = self.find_file_unlocked(&up.filename).await?;
            if file.sha256 == up.sha256 {
                return Ok(UploadOutcome::AlreadyExists { file });
            }
            return Ok(UploadOutcome::FilenameTaken {
                existing_sha256: file.sha256,
            });
        }
        sqlx::query("UPDATE projects SET updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(project_id)
            .execute(&mut *tx)
            .await
            .map_err(repo_error)?;
        // The search row follows the latest upload's summary.
        sqlx::query(
            "INSERT INTO project_search (project_id, name, summary) VALUES ($1, $2, $3)
             ON CONFLICT (project_id) DO UPDATE SET name = excluded.name, summary = excluded.summary",
        )
        .bind(project_id)
        .bind(&up.project_name)
        .bind(up.summary.as_deref().unwrap_or_default())
        .execute(&mut *tx)
        .await
        .map_err(repo_error)?;
        // A pending file and its verification job exist together or not at all.
        let verify_job = if up.status == FileStatus::Pending {
            let file_id: i64 = inserted_file
                .as_ref()
                .map(|row| row.try_get("id"))
                .transpose()
                .map_err(repo_error)?
                .ok_or_else(|| RepoError::Internal("inserted file has no id".into()))?;
            let (job,): (i64,) = sqlx::query_as(
                "INSERT INTO jobs (kind, payload, status, run_after, created_at, updated_at)
                 VALUES ($1, $2, 'queued', $3, $3, $3) RETURNING id",
            )
            .bind(VERIFY_JOB)
            .bind(format!("{{\"file_id\":{file_id}}}"))
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .map_err(repo_error)?;
            Some(job)
        } else {
            None
        };
        tx.commit(Some(&up.audit)).await?;

        let file = self.find_file_unlocked(&up.filename).await?;
        Ok(UploadOutcome::Created {
            file,
            created_project,
            verify_job,
        })
    }
}

impl Database {
    async fn find_file_unlocked(&self, filename: &str) -> Result<FileRecord, RepoError> {
        self.find_file(filename).await?.ok_or_else(|| {
            RepoError::Internal(format!("file row for {filename} vanished after commit"))
        })
    }
}
