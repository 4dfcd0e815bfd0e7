//! The append-only audit log. There is no update or delete here, by design.

use crate::error::repo_error;
use crate::{rows, Database};
use async_trait::async_trait;
use wharf_core::model::{AuditEvent, AuditFilter, NewAuditEvent};
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

    async fn query(&self, filter: &AuditFilter) -> Result<Vec<AuditEvent>, RepoError> {
        // Only the filters given become conditions, so the SQL stays
        // portable (no untyped `$1 IS NULL` for PostgreSQL to reject).
        let mut conditions = Vec::new();
        let mut n = 0;
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        if filter.actor_user_id.is_some() {
            conditions.push(format!("actor_user_id = {}", next()));
        }
        if filter.action.is_some() {
            conditions.push(format!("action = {}", next()));
        }
        if filter.since.is_some() {
            conditions.push(format!("at >= {}", next()));
        }
        if filter.before_id.is_some() {
            conditions.push(format!("id < {}", next()));
        }
        let where_clause = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let sql = format!(
            "SELECT {} FROM audit_events {where_clause} ORDER BY id DESC LIMIT {}",
            rows::AUDIT_COLUMNS,
            next()
        );
        let mut q = sqlx::query(&sql);
        if let Some(id) = filter.actor_user_id {
            q = q.bind(id);
        }
        if let Some(action) = &filter.action {
            q = q.bind(action.clone());
        }
        if let Some(since) = filter.since {
            q = q.bind(since.micros());
        }
        if let Some(before) = filter.before_id {
            q = q.bind(before);
        }
        let found = q
            .bind(filter.limit)
            .fetch_all(&self.pool)
            .await
            .map_err(repo_error)?;
        found.iter().map(rows::audit).collect()
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
