//! Users.

use crate::error::repo_error;
use crate::{rows, Database};
use async_trait::async_trait;
use wharf_core::model::{NewAuditEvent, User};
use wharf_core::ports::{RepoError, UserRepo};
use wharf_core::Timestamp;

#[async_trait]
impl UserRepo for Database {
    async fn create_user(&self, name: &str, is_admin: bool) -> Result<User, RepoError> {
        let _guard = self.writer().await;
        let sql = format!(
            "INSERT INTO users (name, name_lower, is_admin, created_at) VALUES ($1, $2, $3, $4) RETURNING {}",
            rows::USER_COLUMNS
        );
        let row = sqlx::query(&sql)
            .bind(name)
            .bind(name.to_lowercase())
            .bind(i64::from(is_admin))
            .bind(Timestamp::now().micros())
            .fetch_one(&self.pool)
            .await
            .map_err(|e| match repo_error(e) {
                RepoError::Conflict(_) => {
                    RepoError::Conflict(format!("a user named '{name}' exists already"))
                }
                other => other,
            })?;
        rows::user(&row)
    }

    async fn find_user_by_name(&self, name: &str) -> Result<Option<User>, RepoError> {
        let sql = format!(
            "SELECT {} FROM users WHERE name_lower = $1",
            rows::USER_COLUMNS
        );
        let row = sqlx::query(&sql)
            .bind(name.to_lowercase())
            .fetch_optional(&self.pool)
            .await
            .map_err(repo_error)?;
        row.as_ref().map(rows::user).transpose()
    }

    async fn get_user(&self, id: i64) -> Result<Option<User>, RepoError> {
        let sql = format!("SELECT {} FROM users WHERE id = $1", rows::USER_COLUMNS);
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(repo_error)?;
        row.as_ref().map(rows::user).transpose()
    }

    async fn set_password_hash(
        &self,
        user_id: i64,
        hash: Option<&str>,
        event: NewAuditEvent,
    ) -> Result<u64, RepoError> {
        let mut tx = self.begin_audited().await?;
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(user_id)
            .execute(&mut *tx)
            .await
            .map_err(repo_error)?;
        let ended = crate::sessions::delete_for_user(&mut tx, user_id).await?;
        tx.commit(Some(&event)).await?;
        Ok(ended)
    }

    async fn find_login(&self, name: &str) -> Result<Option<(User, Option<String>)>, RepoError> {
        let sql = format!(
            "SELECT {}, password_hash FROM users WHERE name_lower = $1",
            rows::USER_COLUMNS
        );
        let Some(row) = sqlx::query(&sql)
            .bind(name.to_lowercase())
            .fetch_optional(&self.pool)
            .await
            .map_err(repo_error)?
        else {
            return Ok(None);
        };
        let hash: Option<String> = sqlx::Row::try_get(&row, "password_hash").map_err(repo_error)?;
        Ok(Some((rows::user(&row)?, hash)))
    }
}
