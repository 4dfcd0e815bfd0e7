//! The append-only audit log. There is no update or delete here, by design.

use crate::error::repo_error;
use crate::{rows, Database};
use async_trait::async_trait;
use wharf_core::model::{AuditEvent, NewAuditEvent};
use wharf_core::ports::{AuditLog, RepoError};

/// Inserts one event on any executor, so callers can put it in their transaction.
pub(crate) async fn insert<'e, E>(exec: E, event: &NewAuditEvent) -> Result<(), RepoError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO audit_events (at, actor_user_id, actor_token_id, action, target, detail, ip_hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(event.at.micros())
    .bind(event.actor_user_id)
    .bind(event.actor_token_id)
    .bind(&event.action)
    .bind(&event.target)
    .bind(&event.detail)
    .bind(&event.ip_hash)
    .execute(exec)
    .await
    .map_err(repo_error)?;
    Ok(())
}

#[async_trait]
impl AuditLog for Database {
    async fn record(&self, event: NewAuditEvent) -> Result<(), RepoError> {
        let _guard = self.writer().await;
        insert(&self.pool, &event).await
    }

    async fn recent(&self, limit: i64) -> Result<Vec<AuditEvent>, RepoError> {
        let sql = format!(
            "SELECT {} FROM audit_events ORDER BY id DESC LIMIT $1",
            rows::AUDIT_COLUMNS
        );
        let found = sqlx::query(&sql)
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(repo_error)?;
        found.iter().map(rows::audit).collect()
    }
}
