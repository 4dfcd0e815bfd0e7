//! Web sessions. Only the SHA-256 of a session ID is stored.

use crate::error::repo_error;
use crate::{rows, Database};
use async_trait::async_trait;
use sqlx::Row;
use wharf_core::model::{NewAuditEvent, NewSession, Session};
use wharf_core::ports::{RepoError, SessionRepo};
use wharf_core::Timestamp;

#[async_trait]
impl SessionRepo for Database {
    async fn create_session(
        &self,
        session: NewSession,
        event: NewAuditEvent,
    ) -> Result<(), RepoError> {
        let mut tx = self.begin_audited().await?;
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&session.id_hash)
        .bind(session.user_id)
        .bind(&session.csrf_token)
        .bind(event.at.micros())
        .bind(session.expires_at.micros())
        .execute(&mut *tx)
        .await
        .map_err(repo_error)?;
        tx.commit(Some(&event)).await
    }

    async fn find_session(
        &self,
        id_hash: &str,
        now: Timestamp,
    ) -> Result<Option<Session>, RepoError> {
        let sql = format!(
            "SELECT s.csrf_token, s.created_at AS session_created_at, s.expires_at, {}
             FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.id_hash = $1 AND s.expires_at > $2",
            rows::prefixed("u", rows::USER_COLUMNS)
        );
        let Some(row) = sqlx::query(&sql)
            .bind(id_hash)
            .bind(now.micros())
            .fetch_optional(&self.pool)
            .await
            .map_err(repo_error)?
        else {
            return Ok(None);
        };
        let user = rows::user(&row)?;
        let get = || -> Result<Session, sqlx::Error> {
            Ok(Session {
                user,
                csrf_token: row.try_get("csrf_token")?,
                created_at: Timestamp(row.try_get("session_created_at")?),
                expires_at: Timestamp(row.try_get("expires_at")?),
            })
        };
        get().map(Some).map_err(repo_error)
    }

    async fn delete_session(&self, id_hash: &str) -> Result<bool, RepoError> {
        let _guard = self.writer().await;
        let done = sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.pool)
            .await
            .map_err(repo_error)?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_expired_sessions(&self, now: Timestamp) -> Result<u64, RepoError> {
        let _guard = self.writer().await;
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now.micros())
            .execute(&self.pool)
            .await
            .map_err(repo_error)?;
        Ok(done.rows_affected())
    }

    async fn delete_user_sessions(
        &self,
        user_id: i64,
        event: NewAuditEvent,
    ) -> Result<u64, RepoError> {
        let mut tx = self.begin_audited().await?;
        let ended = delete_for_user(&mut tx, user_id).await?;
        tx.commit(Some(&event)).await?;
        Ok(ended)
    }
}

/// Deletes every session of `user_id` on the caller's transaction.
pub(crate) async fn delete_for_user(
    conn: &mut sqlx::AnyConnection,
    user_id: i64,
) -> Result<u64, RepoError> {
    let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(conn)
        .await
        .map_err(repo_error)?;
    Ok(done.rows_affected())
}
