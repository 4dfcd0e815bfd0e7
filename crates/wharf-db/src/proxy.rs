//! The proxy's shared state: upstream pages, runtime rules, and the user
//! that proxied files are recorded under.

use crate::error::repo_error;
use crate::Database;
use async_trait::async_trait;
use sqlx::Row;
use wharf_core::model::NewAuditEvent;
use wharf_core::ports::{ProxyRepo, RepoError};
use wharf_core::proxy::{CachedPage, NewProxyRule, ProxyRule, ProxyStats, RuleKind, Spec};
use wharf_core::Timestamp;

/// Proxied files are recorded as uploaded by this user. Parentheses are not
/// allowed in user names, so no person can be created with it, and it has no
/// password or token.
pub const PROXY_USER: &str = "(upstream)";

#[async_trait]
impl ProxyRepo for Database {
    async fn cached_page(
        &self,
        ecosystem: &str,
        name: &str,
    ) -> Result<Option<CachedPage>, RepoError> {
        let row = sqlx::query(
            "SELECT found, etag, body, fetched_at FROM proxy_pages WHERE ecosystem = $1 AND name = $2",
        )
        .bind(ecosystem)
        .bind(name)
        .fetch_optional(&self.pool)
        .await
        .map_err(repo_error)?;
        let Some(row) = row else { return Ok(None) };
        let found: i64 = row.try_get("found").map_err(repo_error)?;
        let body: String = row.try_get("body").map_err(repo_error)?;
        Ok(Some(CachedPage {
            ecosystem: ecosystem.to_owned(),
            name: name.to_owned(),
            body: (found != 0).then_some(body),
            etag: row.try_get("etag").map_err(repo_error)?,
            fetched_at: Timestamp(row.try_get("fetched_at").map_err(repo_error)?),
        }))
    }

    async fn store_page(&self, page: &CachedPage) -> Result<(), RepoError> {
        let _writer = self.writer().await;
        sqlx::query(
            "INSERT INTO proxy_pages (ecosystem, name, found, etag, body, fetched_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (ecosystem, name) DO UPDATE SET found = excluded.found,
                 etag = excluded.etag, body = excluded.body, fetched_at = excluded.fetched_at",
        )
        .bind(&page.ecosystem)
        .bind(&page.name)
        .bind(i64::from(page.body.is_some()))
        .bind(&page.etag)
        .bind(page.body.as_deref().unwrap_or_default())
        .bind(page.fetched_at.micros())
        .execute(&self.pool)
        .await
        .map_err(repo_error)?;
        Ok(())
    }

    async fn touch_page(
        &self,
        ecosystem: &str,
        name: &str,
        at: Timestamp,
    ) -> Result<(), RepoError> {
        let _writer = self.writer().await;
        sqlx::query("UPDATE proxy_pages SET fetched_at = $1 WHERE ecosystem = $2 AND name = $3")
            .bind(at.micros())
            .bind(ecosystem)
            .bind(name)
            .execute(&self.pool)
            .await
            .map_err(repo_error)?;
        Ok(())
    }

    async fn rules(&self, ecosystem: &str) -> Result<Vec<ProxyRule>, RepoError> {
        let rows = sqlx::query(
            "SELECT r.id, r.kind, r.spec, r.reason, r.created_at, u.name AS created_by
             FROM proxy_rules r LEFT JOIN users u ON u.id = r.created_by
             WHERE r.ecosystem = $1 ORDER BY r.id",
        )
        .bind(ecosystem)
        .fetch_all(&self.pool)
        .await
        .map_err(repo_error)?;
        rows.iter().map(|row| rule(row, ecosystem)).collect()
    }

    async fn add_rule(&self, new: NewProxyRule) -> Result<Option<ProxyRule>, RepoError> {
        let mut tx = self.begin_audited().await?;
        let now = new.audit.at;
        let spec = new.spec.to_string();
        let inserted = sqlx::query(
            "INSERT INTO proxy_rules (ecosystem, kind, spec, reason, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (ecosystem, kind, spec) DO NOTHING RETURNING id",
        )
        .bind(new.ecosystem)
        .bind(new.kind.as_str())
        .bind(&spec)
        .bind(&new.reason)
        .bind(new.created_by)
        .bind(now.micros())
        .fetch_optional(&mut *tx)
        .await
        .map_err(repo_error)?;
        let Some(row) = inserted else {
            return Ok(None);
        };
        let id: i64 = row.try_get("id").map_err(repo_error)?;
        tx.commit(Some(&new.audit)).await?;
        Ok(Some(ProxyRule {
            id,
            kind: new.kind,
            spec: new.spec,
            reason: new.reason,
            created_by: None,
            created_at: now,
        }))
    }

    async fn remove_rule(
        &self,
        ecosystem: &str,
        kind: RuleKind,
        spec: &str,
        audit: NewAuditEvent,
    ) -> Result<bool, RepoError> {
        let statement =
            sqlx::query("DELETE FROM proxy_rules WHERE ecosystem = $1 AND kind = $2 AND spec = $3")
                .bind(ecosystem.to_owned())
                .bind(kind.as_str())
                .bind(spec.to_owned());
        self.audited_change(statement, &audit).await
    }

    async fn proxy_user(&self) -> Result<i64, RepoError> {
        if let Some((id,)) =
            sqlx::query_as::<_, (i64,)>("SELECT id FROM users WHERE name_lower = $1")
                .bind(PROXY_USER)
                .fetch_optional(&self.pool)
                .await
                .map_err(repo_error)?
        {
            return Ok(id);
        }
        let _writer = self.writer().await;
        sqlx::query(
            "INSERT INTO users (name, name_lower, is_admin, created_at) VALUES ($1, $1, 0, $2)
             ON CONFLICT (name_lower) DO NOTHING",
        )
        .bind(PROXY_USER)
        .bind(Timestamp::now().micros())
        .execute(&self.pool)
        .await
        .map_err(repo_error)?;
        let (id,): (i64,) = sqlx::query_as("SELECT id FROM users WHERE name_lower = $1")
            .bind(PROXY_USER)
            .fetch_one(&self.pool)
            .await
            .map_err(repo_error)?;
        Ok(id)
    }

    async fn stats(&self, ecosystem: &str) -> Result<ProxyStats, RepoError> {
        // Proxied files are PyPI files today; other ecosystems have none yet.
        let files = |status: &str| {
            format!(
                "SELECT COUNT(*) FROM files f JOIN projects p ON p.id = f.project_id
                 WHERE p.origin = 'proxy' AND f.status {status}"
            )
        };
        let is_pypi = ecosystem == wharf_core::proxy::PYPI;
        Ok(ProxyStats {
            pages: self
                .count(
                    "SELECT COUNT(*) FROM proxy_pages WHERE ecosystem = $1",
                    Some(ecosystem),
                )
                .await?,
            pages_missing: self
                .count(
                    "SELECT COUNT(*) FROM proxy_pages WHERE ecosystem = $1 AND found = 0",
                    Some(ecosystem),
                )
                .await?,
            projects: if is_pypi {
                self.count("SELECT COUNT(*) FROM projects WHERE origin = 'proxy'", None)
                    .await?
            } else {
                0
            },
            files_published: if is_pypi {
                self.count(&files("= 'published'"), None).await?
            } else {
                0
            },
            files_held: if is_pypi {
                self.count(&files("IN ('quarantined', 'rejected')"), None)
                    .await?
            } else {
                0
            },
        })
    }
}

impl Database {
    async fn count(&self, sql: &str, ecosystem: Option<&str>) -> Result<i64, RepoError> {
        let mut query = sqlx::query_as::<_, (i64,)>(sql);
        if let Some(e) = ecosystem {
            query = query.bind(e.to_owned());
        }
        Ok(query.fetch_one(&self.pool).await.map_err(repo_error)?.0)
    }
}

fn rule(row: &sqlx::any::AnyRow, ecosystem: &str) -> Result<ProxyRule, RepoError> {
    let kind: String = row.try_get("kind").map_err(repo_error)?;
    let spec: String = row.try_get("spec").map_err(repo_error)?;
    Ok(ProxyRule {
        id: row.try_get("id").map_err(repo_error)?,
        kind: RuleKind::parse(&kind)
            .ok_or_else(|| RepoError::Internal(format!("unknown proxy rule kind '{kind}'")))?,
        spec: Spec::parse_in(ecosystem, &spec).map_err(|e| {
            RepoError::Internal(format!("stored proxy rule '{spec}': {}", e.message))
        })?,
        reason: row.try_get("reason").map_err(repo_error)?,
        created_by: row.try_get("created_by").map_err(repo_error)?,
        created_at: Timestamp(row.try_get("created_at").map_err(repo_error)?),
    })
}
