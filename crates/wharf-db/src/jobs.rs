//! The job queue. Claiming is one `UPDATE … WHERE id = (SELECT … LIMIT 1)`;
//! PostgreSQL adds `FOR UPDATE SKIP LOCKED` so concurrent workers skip each
//! other's rows instead of queueing on them, and SQLite serializes writers.

use crate::error::repo_error;
use crate::{Backend, Database};
use async_trait::async_trait;
use sqlx::Row;
use wharf_core::model::{Job, JobStatus};
use wharf_core::ports::{JobQueue, RepoError};
use wharf_core::Timestamp;

fn job(row: &sqlx::any::AnyRow) -> Result<Job, RepoError> {
    let get = || -> Result<Job, sqlx::Error> {
        Ok(Job {
            id: row.try_get("id")?,
            kind: row.try_get("kind")?,
            payload: row.try_get("payload")?,
            attempts: row.try_get("attempts")?,
            locked_until: Timestamp(row.try_get("locked_until")?),
        })
    };
    get().map_err(repo_error)
}

#[async_trait]
impl JobQueue for Database {
    async fn enqueue(
        &self,
        kind: &str,
        payload: &str,
        run_after: Timestamp,
    ) -> Result<i64, RepoError> {
        let _guard = self.writer().await;
        let now = Timestamp::now().micros();
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO jobs (kind, payload, status, run_after, created_at, updated_at)
             VALUES ($1, $2, 'queued', $3, $4, $4) RETURNING id",
        )
        .bind(kind)
        .bind(payload)
        .bind(run_after.micros())
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .map_err(repo_error)?;
        Ok(id)
    }

    async fn claim(
        &self,
        worker: &str,
        kinds: &[&str],
        now: Timestamp,
        lease: std::time::Duration,
    ) -> Result<Option<Job>, RepoError> {
        if kinds.is_empty() {
            return Ok(None);
        }
        let placeholders: Vec<String> = (0..kinds.len()).map(|i| format!("${}", i + 4)).collect();
        let locking = match self.backend {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE jobs SET status = 'running', locked_by = $1, locked_until = $2,
                             attempts = attempts + 1, updated_at = $3
             WHERE id = (
                 SELECT id FROM jobs
                 WHERE ((status = 'queued' AND run_after <= $3)
                        OR (status = 'running' AND locked_until < $3))
                   AND kind IN ({})
                 ORDER BY id LIMIT 1 {locking})
             RETURNING id, kind, payload, attempts, locked_until",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(&sql)
            .bind(worker)
            .bind(now.plus(lease).micros())
            .bind(now.micros());
        for kind in kinds {
            query = query.bind(*kind);
        }
        let _guard = self.writer().await;
        let row = query.fetch_optional(&self.pool).await.map_err(repo_error)?;
        row.as_ref().map(job).transpose()
    }

    async fn claim_id(
        &self,
        id: i64,
        worker: &str,
        now: Timestamp,
        lease: std::time::Duration,
    ) -> Result<Option<Job>, RepoError> {
        let _guard = self.writer().await;
        let row = sqlx::query(
            "UPDATE jobs SET status = 'running', locked_by = $1, locked_until = $2,
                             attempts = attempts + 1, updated_at = $3
             WHERE id = $4 AND status = 'queued'
             RETURNING id, kind, payload, attempts, locked_until",
        )
        .bind(worker)
        .bind(now.plus(lease).micros())
        .bind(now.micros())
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(repo_error)?;
        row.as_ref().map(job).transpose()
    }

    async fn complete(&self, id: i64, worker: &str) -> Result<bool, RepoError> {
        let _guard = self.writer().await;
        let done = sqlx::query(
            "UPDATE jobs SET status = 'done', locked_by = NULL, locked_until = NULL, updated_at = $3
             WHERE id = $1 AND locked_by = $2 AND status = 'running'",
        )
        .bind(id)
        .bind(worker)
        .bind(Timestamp::now().micros())
        .execute(&self.pool)
        .await
        .map_err(repo_error)?;
        Ok(done.rows_affected() == 1)
    }

    async fn fail(
        &self,
        id: i64,
        worker: &str,
        error: &str,
        retry_at: Option<Timestamp>,
    ) -> Result<bool, RepoError> {
        let (status, run_after) = match retry_at {
            Some(at) => ("queued", at.micros()),
            None => ("failed", Timestamp::now().micros()),
        };
        let _guard = self.writer().await;
        let done = sqlx::query(
            "UPDATE jobs SET status = $3, run_after = $4, last_error = $5,
                             locked_by = NULL, locked_until = NULL, updated_at = $6
             WHERE id = $1 AND locked_by = $2 AND status = 'running'",
        )
        .bind(id)
        .bind(worker)
        .bind(status)
        .bind(run_after)
        .bind(error)
        .bind(Timestamp::now().micros())
        .execute(&self.pool)
        .await
        .map_err(repo_error)?;
        Ok(done.rows_affected() == 1)
    }

    async fn job_status(&self, id: i64) -> Result<Option<JobStatus>, RepoError> {
        let row: Option<(String,)> = sqlx::query_as("SELECT status FROM jobs WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(repo_error)?;
        row.map(|(s,)| {
            JobStatus::parse(&s)
                .ok_or_else(|| RepoError::Internal(format!("stored job status '{s}' is not valid")))
        })
        .transpose()
    }
}
