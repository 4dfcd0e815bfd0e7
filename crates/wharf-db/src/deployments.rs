//! Deployments and their encrypted credentials. Bytes are stored as base64
//! text, which reads the same on both backends.

use crate::error::repo_error;
use crate::Database;
use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sqlx::Row;
use wharf_core::model::{Deployment, NewAuditEvent, NewDeployment, StoredSecret};
use wharf_core::ports::{DeploymentRepo, RepoError};
use wharf_core::Timestamp;

fn decode(column: &str, raw: &str) -> Result<Vec<u8>, RepoError> {
    STANDARD
        .decode(raw)
        .map_err(|_| RepoError::Internal(format!("stored {column} is not base64")))
}

const SELECT_DEPLOYMENTS: &str =
    "SELECT d.id, d.owner_user_id, u.name AS owner, d.server_name, d.server_version, d.registry_type,
            d.identifier, d.version, d.plan, d.tools_hash, d.created_at
     FROM deployments d JOIN users u ON u.id = d.owner_user_id";

/// A deployment row; its secret names are read separately.
fn deployment(row: &sqlx::any::AnyRow) -> Result<Deployment, RepoError> {
    let get = || -> Result<Deployment, sqlx::Error> {
        Ok(Deployment {
            id: row.try_get("id")?,
            owner_user_id: row.try_get("owner_user_id")?,
            owner: row.try_get("owner")?,
            server_name: row.try_get("server_name")?,
            server_version: row.try_get("server_version")?,
            registry_type: row.try_get("registry_type")?,
            identifier: row.try_get("identifier")?,
            version: row.try_get("version")?,
            plan: row.try_get("plan")?,
            tools_hash: row.try_get("tools_hash")?,
            secret_names: Vec::new(),
            created_at: Timestamp(row.try_get("created_at")?),
        })
    };
    get().map_err(repo_error)
}

impl Database {
    async fn secret_names(&self, deployment_id: &str) -> Result<Vec<String>, RepoError> {
        let names: Vec<(String,)> = sqlx::query_as(
            "SELECT name FROM deployment_secrets WHERE deployment_id = $1 ORDER BY name",
        )
        .bind(deployment_id)
        .fetch_all(&self.pool)
        .await
        .map_err(repo_error)?;
        Ok(names.into_iter().map(|(n,)| n).collect())
    }
}

fn secret(row: &sqlx::any::AnyRow) -> Result<StoredSecret, RepoError> {
    let text = |c: &str| row.try_get::<String, _>(c).map_err(repo_error);
    Ok(StoredSecret {
        deployment_id: text("deployment_id")?,
        name: text("name")?,
        key_id: text("key_id")?,
        wrapped_key: decode("wrapped_key", &text("wrapped_key")?)?,
        ciphertext: decode("ciphertext", &text("ciphertext")?)?,
    })
}

#[async_trait]
impl DeploymentRepo for Database {
    async fn create_deployment(&self, new: NewDeployment) -> Result<(), RepoError> {
        let mut tx = self.begin_audited().await?;
        sqlx::query(
            "INSERT INTO deployments (id, owner_user_id, server_name, server_version, registry_type,
                                      identifier, version, plan, created_at, tools_hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&new.id)
        .bind(new.owner_user_id)
        .bind(&new.server_name)
        .bind(&new.server_version)
        .bind(&new.registry_type)
        .bind(&new.identifier)
        .bind(&new.version)
        .bind(&new.plan)
        .bind(new.created_at.micros())
        .bind(new.tools_hash.as_deref())
        .execute(&mut *tx)
        .await
        .map_err(repo_error)?;
        for s in &new.secrets {
            sqlx::query(
                "INSERT INTO deployment_secrets (deployment_id, name, key_id, wrapped_key, ciphertext)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&new.id)
            .bind(&s.name)
            .bind(&s.key_id)
            .bind(STANDARD.encode(&s.wrapped_key))
            .bind(STANDARD.encode(&s.ciphertext))
            .execute(&mut *tx)
            .await
            .map_err(repo_error)?;
        }
        tx.commit(Some(&new.audit)).await
    }

    async fn deployment(&self, id: &str) -> Result<Option<Deployment>, RepoError> {
        let sql = format!("{SELECT_DEPLOYMENTS} WHERE d.id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(repo_error)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let mut found = deployment(&row)?;
        found.secret_names = self.secret_names(&found.id).await?;
        Ok(Some(found))
    }

    async fn list_deployments(
        &self,
        owner: Option<i64>,
        after: Option<(Timestamp, String)>,
        limit: i64,
    ) -> Result<Vec<Deployment>, RepoError> {
        // Conditions are added only when given, binding in order, so the SQL
        // stays portable (no untyped NULL parameters for PostgreSQL).
        let mut conditions = Vec::new();
        let mut n = 0;
        if owner.is_some() {
            n += 1;
            conditions.push(format!("d.owner_user_id = ${n}"));
        }
        if after.is_some() {
            conditions.push(format!(
                "(d.created_at < ${a} OR (d.created_at = ${a} AND d.id < ${b}))",
                a = n + 1,
                b = n + 2
            ));
            n += 2;
        }
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let sql = format!(
            "{SELECT_DEPLOYMENTS} {filter} ORDER BY d.created_at DESC, d.id DESC LIMIT ${}",
            n + 1
        );
        let mut query = sqlx::query(&sql);
        if let Some(owner) = owner {
            query = query.bind(owner);
        }
        if let Some((at, id)) = after {
            query = query.bind(at.micros()).bind(id);
        }
        let rows = query
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(repo_error)?;
        let mut out = rows.iter().map(deployment).collect::<Result<Vec<_>, _>>()?;
        if out.is_empty() {
            return Ok(out);
        }
        // One query for the whole page's variable names.
        let marks: Vec<String> = (1..=out.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT deployment_id, name FROM deployment_secrets WHERE deployment_id IN ({})
             ORDER BY name",
            marks.join(", ")
        );
        let mut names = sqlx::query_as::<_, (String, String)>(&sql);
        for d in &out {
            names = names.bind(d.id.clone());
        }
        let names = names.fetch_all(&self.pool).await.map_err(repo_error)?;
        for (id, name) in names {
            if let Some(d) = out.iter_mut().find(|d| d.id == id) {
                d.secret_names.push(name);
            }
        }
        Ok(out)
    }

    async fn deployment_secrets(&self, id: &str) -> Result<Vec<StoredSecret>, RepoError> {
        let rows = sqlx::query(
            "SELECT deployment_id, name, key_id, wrapped_key, ciphertext FROM deployment_secrets
             WHERE deployment_id = $1 ORDER BY name",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(repo_error)?;
        rows.iter().map(secret).collect()
    }

    async fn delete_deployment(&self, id: &str, event: NewAuditEvent) -> Result<bool, RepoError> {
        let mut tx = self.begin_audited().await?;
        sqlx::query("DELETE FROM deployment_secrets WHERE deployment_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(repo_error)?;
        let deleted = sqlx::query("DELETE FROM deployments WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(repo_error)?
            .rows_affected()
            == 1;
        tx.commit(deleted.then_some(&event)).await?;
        Ok(deleted)
    }

    async fn secrets_not_under(
        &self,
        key_id: &str,
        limit: i64,
    ) -> Result<Vec<StoredSecret>, RepoError> {
        let rows = sqlx::query(
            "SELECT deployment_id, name, key_id, wrapped_key, ciphertext FROM deployment_secrets
             WHERE key_id <> $1 ORDER BY deployment_id, name LIMIT $2",
        )
        .bind(key_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(repo_error)?;
        rows.iter().map(secret).collect()
    }

    async fn rewrap_secret(
        &self,
        old: &StoredSecret,
        new: &StoredSecret,
    ) -> Result<bool, RepoError> {
        let _guard = self.writer().await;
        let done = sqlx::query(
            "UPDATE deployment_secrets SET key_id = $1, wrapped_key = $2
             WHERE deployment_id = $3 AND name = $4 AND key_id = $5",
        )
        .bind(&new.key_id)
        .bind(STANDARD.encode(&new.wrapped_key))
        .bind(&old.deployment_id)
        .bind(&old.name)
        .bind(&old.key_id)
        .execute(&self.pool)
        .await
        .map_err(repo_error)?;
        Ok(done.rows_affected() == 1)
    }

    async fn secrets_by_key(&self) -> Result<Vec<(String, i64)>, RepoError> {
        sqlx::query_as(
            "SELECT key_id, COUNT(*) FROM deployment_secrets GROUP BY key_id ORDER BY key_id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(repo_error)
    }
}
