//! The append-only audit log. There is no update or delete here, by design.
//! Repositories write an action and its event in one transaction through
//! [`AuditedTx`].

use crate::error::repo_error;
use crate::{rows, Database};
use async_trait::async_trait;
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AnyConnection, Transaction};
use std::ops::{Deref, DerefMut};
use tokio::sync::MutexGuard;
use wharf_core::model::{AuditEvent, AuditFilter, NewAuditEvent};
use wharf_core::ports::{AuditLog, RepoError};

/// A write transaction that commits together with its audit event. It holds
/// the writer guard (see `Database::writer`) until it commits or is dropped;
/// dropping it rolls back, as an early return from a repository method does.
/// Statements run on it like on a `Transaction`: `.execute(&mut *tx)`.
pub(crate) struct AuditedTx<'db> {
    // Before the guard: fields drop in order, so a rollback starts while
    // the guard is still held.
    tx: Transaction<'static, Any>,
    _writer: Option<MutexGuard<'db, ()>>,
}

impl AuditedTx<'_> {
    /// Records an event now, in this transaction; for writes that record
    /// more than one, in order.
    pub(crate) async fn record(&mut self, event: &NewAuditEvent) -> Result<(), RepoError> {
        insert(&mut *self.tx, event).await
    }

    /// Records `event`, if there is one, and commits. A write that changed
    /// nothing passes `None`, so refused or repeated actions leave no event.
    pub(crate) async fn commit(mut self, event: Option<&NewAuditEvent>) -> Result<(), RepoError> {
        if let Some(event) = event {
            insert(&mut *self.tx, event).await?;
        }
        self.tx.commit().await.map_err(repo_error)
    }
}

impl Deref for AuditedTx<'_> {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        &self.tx
    }
}

impl DerefMut for AuditedTx<'_> {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}

impl Database {
    /// Takes the writer guard and begins a transaction for an audited write.
    pub(crate) async fn begin_audited(&self) -> Result<AuditedTx<'_>, RepoError> {
        let writer = self.writer().await;
        let tx = self.pool.begin().await.map_err(repo_error)?;
        Ok(AuditedTx {
            tx,
            _writer: writer,
        })
    }

    /// Runs one statement with its audit event, recorded only if the
    /// statement changed a row. Whether it did.
    pub(crate) async fn audited_change<'q>(
        &self,
        statement: Query<'q, Any, AnyArguments<'q>>,
        event: &NewAuditEvent,
    ) -> Result<bool, RepoError> {
        let mut tx = self.begin_audited().await?;
        let changed = statement
            .execute(&mut *tx)
            .await
            .map_err(repo_error)?
            .rows_affected()
            == 1;
        tx.commit(changed.then_some(event)).await?;
        Ok(changed)
    }
}

/// Inserts one event on any executor.
async fn insert<'e, E>(exec: E, event: &NewAuditEvent) -> Result<(), RepoError>
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

/// Events joined to their actors' names. The joins are outer: an actor
/// deleted since (or never stored) gives no name but keeps the event.
const FROM_EVENTS: &str = "FROM audit_events e
     LEFT JOIN users u ON u.id = e.actor_user_id
     LEFT JOIN api_tokens t ON t.id = e.actor_token_id";

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
            conditions.push(format!("e.actor_user_id = {}", next()));
        }
        if filter.action.is_some() {
            conditions.push(format!("e.action = {}", next()));
        }
        if filter.since.is_some() {
            conditions.push(format!("e.at >= {}", next()));
        }
        if filter.before_id.is_some() {
            conditions.push(format!("e.id < {}", next()));
        }
        let where_clause = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let sql = format!(
            "SELECT {} {FROM_EVENTS} {where_clause} ORDER BY e.id DESC LIMIT {}",
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
            "SELECT {} {FROM_EVENTS} ORDER BY e.id DESC LIMIT $1",
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
