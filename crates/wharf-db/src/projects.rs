//! Projects, their owners and releases.

use crate::error::repo_error;
use crate::{rows, Database};
use async_trait::async_trait;
use sqlx::Row;
use wharf_core::model::{NewAuditEvent, Project, ProjectListing, ProjectTotals};
use wharf_core::ports::{ProjectRepo, RepoError};
use wharf_core::NormalizedName;

#[async_trait]
impl ProjectRepo for Database {
    async fn find_project(&self, name: &NormalizedName) -> Result<Option<Project>, RepoError> {
        let sql = format!(
            "SELECT {} FROM projects WHERE normalized = $1",
            rows::PROJECT_COLUMNS
        );
        let row = sqlx::query(&sql)
            .bind(name.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(repo_error)?;
        row.as_ref().map(rows::project).transpose()
    }

    async fn list_projects(&self) -> Result<Vec<Project>, RepoError> {
        let sql = format!(
            "SELECT {} FROM projects p WHERE p.ecosystem = 'pypi' AND EXISTS
               (SELECT 1 FROM files f WHERE f.project_id = p.id AND f.status = 'published')
             ORDER BY normalized",
            rows::PROJECT_COLUMNS
        );
        let found = sqlx::query(&sql)
            .fetch_all(&self.pool)
            .await
            .map_err(repo_error)?;
        found.iter().map(rows::project).collect()
    }

    async fn is_owner(&self, project_id: i64, user_id: i64) -> Result<bool, RepoError> {
        let row = sqlx::query("SELECT 1 FROM project_roles WHERE project_id = $1 AND user_id = $2")
            .bind(project_id)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(repo_error)?;
        Ok(row.is_some())
    }

    async fn find_project_for(
        &self,
        name: &NormalizedName,
        user_id: i64,
    ) -> Result<Option<(Project, bool)>, RepoError> {
        let sql = format!(
            "SELECT {}, (SELECT COUNT(*) FROM project_roles pr
                         WHERE pr.project_id = projects.id AND pr.user_id = $2) AS owner_roles
             FROM projects WHERE normalized = $1",
            rows::PROJECT_COLUMNS
        );
        let row = sqlx::query(&sql)
            .bind(name.as_str())
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(repo_error)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let roles: i64 = row.try_get("owner_roles").map_err(repo_error)?;
        Ok(Some((rows::project(&row)?, roles > 0)))
    }

    async fn totals(&self, name: &NormalizedName) -> Result<Option<ProjectTotals>, RepoError> {
        // One row per release (one with a NULL version if there is none yet),
        // each carrying the project's figures; SUM of a BIGINT is NUMERIC on
        // PostgreSQL, hence the cast.
        let found = sqlx::query(
            "SELECT CAST((SELECT COALESCE(SUM(f.size), 0) FROM files f WHERE f.project_id = p.id)
                         AS BIGINT) AS total_bytes,
                    (SELECT COUNT(*) FROM (SELECT 1 FROM files f
                       WHERE f.project_id = p.id AND f.status = 'published' LIMIT 1) AS one)
                      AS published,
                    r.version
             FROM projects p LEFT JOIN releases r ON r.project_id = p.id
             WHERE p.normalized = $1 ORDER BY r.id",
        )
        .bind(name.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(repo_error)?;
        let Some(first) = found.first() else {
            return Ok(None);
        };
        let total: i64 = first.try_get("total_bytes").map_err(repo_error)?;
        let published: i64 = first.try_get("published").map_err(repo_error)?;
        let mut versions = Vec::with_capacity(found.len());
        for row in &found {
            if let Some(v) = row
                .try_get::<Option<String>, _>("version")
                .map_err(repo_error)?
            {
                versions.push(v);
            }
        }
        Ok(Some(ProjectTotals {
            total_bytes: u64::try_from(total).unwrap_or(0),
            versions,
            has_published: published > 0,
        }))
    }

    async fn listing(&self, name: &NormalizedName) -> Result<Option<ProjectListing>, RepoError> {
        let Some(project) = self.find_project(name).await? else {
            return Ok(None);
        };
        let sql = format!(
            "SELECT {} FROM releases WHERE project_id = $1 ORDER BY id",
            rows::RELEASE_COLUMNS
        );
        let releases = sqlx::query(&sql)
            .bind(project.id)
            .fetch_all(&self.pool)
            .await
            .map_err(repo_error)?;
        let sql = format!(
            "SELECT {} FROM files f JOIN releases r ON r.id = f.release_id WHERE f.project_id = $1 ORDER BY f.id",
            rows::FILE_COLUMNS
        );
        let files = sqlx::query(&sql)
            .bind(project.id)
            .fetch_all(&self.pool)
            .await
            .map_err(repo_error)?;
        let owners: Vec<(String,)> = sqlx::query_as(
            "SELECT u.name FROM project_roles pr JOIN users u ON u.id = pr.user_id
             WHERE pr.project_id = $1 ORDER BY u.name_lower",
        )
        .bind(project.id)
        .fetch_all(&self.pool)
        .await
        .map_err(repo_error)?;
        Ok(Some(ProjectListing {
            project,
            releases: releases
                .iter()
                .map(rows::release)
                .collect::<Result<_, _>>()?,
            files: files.iter().map(rows::file).collect::<Result<_, _>>()?,
            owners: owners.into_iter().map(|(n,)| n).collect(),
        }))
    }

    async fn set_yank(
        &self,
        project_id: i64,
        version: &str,
        reason: Option<&str>,
        event: NewAuditEvent,
    ) -> Result<bool, RepoError> {
        let mut tx = self.begin_audited().await?;
        let changed = sqlx::query("UPDATE releases SET is_yanked = $1, yank_reason = $2 WHERE project_id = $3 AND version = $4")
            .bind(i64::from(reason.is_some()))
            .bind(reason)
            .bind(project_id)
            .bind(version)
            .execute(&mut *tx)
            .await
            .map_err(repo_error)?
            .rows_affected()
            == 1;
        if changed {
            sqlx::query("UPDATE projects SET updated_at = $1 WHERE id = $2")
                .bind(event.at.micros())
                .bind(project_id)
                .execute(&mut *tx)
                .await
                .map_err(repo_error)?;
        }
        tx.commit(changed.then_some(&event)).await?;
        Ok(changed)
    }
}
