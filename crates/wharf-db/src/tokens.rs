//! API token records. Only the SHA-256 of a token is stored.

use crate::error::repo_error;
use crate::{rows, Database};
use async_trait::async_trait;
use wharf_core::model::{NewAuditEvent, NewToken, TokenRecord, User};
use wharf_core::ports::{RepoError, TokenRepo};
use wharf_core::Timestamp;

#[async_trait]
impl TokenRepo for Database {
    async fn create_token(
        &self,
        token: NewToken,
        event: NewAuditEvent,
    ) -> Result<TokenRecord, RepoError> {
        let mut tx = self.begin_audited().await?;
        let record = insert(&mut tx, &token).await?;
        let mut event = event;
        event.target = format!("token:{}", record.id);
        tx.commit(Some(&event)).await?;
        Ok(record)
    }

    async fn find_token_by_hash(
        &self,
        hash_hex: &str,
    ) -> Result<Option<(TokenRecord, User, String)>, RepoError> {
        let sql = format!(
            "SELECT t.token_hash, {}, u.name AS user_name, u.is_admin AS user_is_admin, u.created_at AS user_created_at
             FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1",
            rows::prefixed("t", rows::TOKEN_COLUMNS)
        );
        let Some(row) = sqlx::query(&sql)
            .bind(hash_hex)
            .fetch_optional(&self.pool)
            .await
            .map_err(repo_error)?
        else {
            return Ok(None);
        };
        let record = rows::token(&row)?;
        let get = || -> Result<(User, String), sqlx::Error> {
            use sqlx::Row;
            let user = User {
                id: record.user_id,
                name: row.try_get("user_name")?,
                is_admin: row.try_get::<i64, _>("user_is_admin")? != 0,
                created_at: Timestamp(row.try_get("user_created_at")?),
            };
            Ok((user, row.try_get("token_hash")?))
        };
        let (user, stored_hash) = get().map_err(repo_error)?;
        Ok(Some((record, user, stored_hash)))
    }

    async fn list_tokens(&self, user_id: i64) -> Result<Vec<TokenRecord>, RepoError> {
        let sql = format!(
            "SELECT {} FROM api_tokens WHERE user_id = $1 ORDER BY id",
            rows::TOKEN_COLUMNS
        );
        let found = sqlx::query(&sql)
            .bind(user_id)
            .fetch_all(&self.pool)
            .await
            .map_err(repo_error)?;
        found.iter().map(rows::token).collect()
    }

    async fn get_token(&self, id: i64) -> Result<Option<TokenRecord>, RepoError> {
        let sql = format!(
            "SELECT {} FROM api_tokens WHERE id = $1",
            rows::TOKEN_COLUMNS
        );
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(repo_error)?;
        row.as_ref().map(rows::token).transpose()
    }

    async fn revoke_token(&self, id: i64, event: NewAuditEvent) -> Result<bool, RepoError> {
        let revoke = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(event.at.micros())
        .bind(id);
        self.audited_change(revoke, &event).await
    }

    async fn touch_token(&self, id: i64, at: Timestamp) -> Result<(), RepoError> {
        let _guard = self.writer().await;
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(at.micros())
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(repo_error)?;
        Ok(())
    }
}

/// Inserts a token row on the caller's transaction (token creation and
/// device-code redemption share it).
pub(crate) async fn insert(
    conn: &mut sqlx::AnyConnection,
    token: &NewToken,
) -> Result<TokenRecord, RepoError> {
    let projects: Vec<&str> = token.projects.iter().map(|p| p.as_str()).collect();
    let sql = format!(
            "INSERT INTO api_tokens (user_id, name, token_hash, scopes, projects, namespaces, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {}",
            rows::TOKEN_COLUMNS
        );
    let row = sqlx::query(&sql)
        .bind(token.user_id)
        .bind(&token.name)
        .bind(&token.hash_hex)
        .bind(token.scopes.to_string())
        .bind(projects.join(","))
        .bind(token.namespaces.join(","))
        .bind(Timestamp::now().micros())
        .bind(token.expires_at.map(Timestamp::micros))
        .fetch_one(conn)
        .await
        .map_err(repo_error)?;
    let record = rows::token(&row)?;
    Ok(record)
}
