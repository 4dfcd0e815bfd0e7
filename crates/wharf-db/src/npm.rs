//! Hosted npm packages. A package is a project row of ecosystem `npm` keyed
//! `npm:<name>`; each version adds an `npm_versions` row beside its tarball's
//! file row, written in the same transaction as the upload.

use crate::error::repo_error;
use crate::files::{insert_upload, Inserted};
use crate::search::{like_escape, search_words};
use crate::{rows, Database};
use async_trait::async_trait;
use sqlx::Row;
use wharf_core::npm::record::{
    Change, NewVersion, NpmHit, PackageChange, PublishOutcome, StoredPackage, StoredVersion,
};
use wharf_core::npm::NPM;
use wharf_core::ports::{NpmRepo, RepoError};
use wharf_core::Timestamp;

fn key(name: &str) -> String {
    format!("{NPM}:{name}")
}

#[async_trait]
impl NpmRepo for Database {
    async fn npm_package(&self, name: &str) -> Result<Option<StoredPackage>, RepoError> {
        let row = sqlx::query(
            "SELECT id, name, created_at, updated_at FROM projects WHERE normalized = $1 AND origin = 'local'",
        )
        .bind(key(name))
        .fetch_optional(&self.pool)
        .await
        .map_err(repo_error)?;
        let Some(row) = row else { return Ok(None) };
        let project_id: i64 = row.try_get("id").map_err(repo_error)?;
        let owners: Vec<(String,)> = sqlx::query_as(
            "SELECT u.name FROM project_roles pr JOIN users u ON u.id = pr.user_id
             WHERE pr.project_id = $1 ORDER BY u.name",
        )
        .bind(project_id)
        .fetch_all(&self.pool)
        .await
        .map_err(repo_error)?;
        let sql = format!(
            "SELECT v.id AS version_id, v.version AS npm_version, v.manifest, v.integrity, v.shasum,
                    v.deprecated, v.published_at, v.unpublished_at, {}
             FROM npm_versions v JOIN files f ON f.id = v.file_id JOIN releases r ON r.id = f.release_id
             WHERE v.project_id = $1 ORDER BY v.id",
            rows::FILE_COLUMNS
        );
        let found = sqlx::query(&sql)
            .bind(project_id)
            .fetch_all(&self.pool)
            .await
            .map_err(repo_error)?;
        let mut versions = Vec::with_capacity(found.len());
        for row in &found {
            let file = rows::file(row)?;
            let get = |file| -> Result<StoredVersion, sqlx::Error> {
                Ok(StoredVersion {
                    id: row.try_get("version_id")?,
                    version: row.try_get("npm_version")?,
                    manifest: row.try_get("manifest")?,
                    integrity: row.try_get("integrity")?,
                    shasum: row.try_get("shasum")?,
                    deprecated: row.try_get("deprecated")?,
                    published_at: Timestamp(row.try_get("published_at")?),
                    unpublished_at: row
                        .try_get::<Option<i64>, _>("unpublished_at")?
                        .map(Timestamp),
                    file,
                })
            };
            versions.push(get(file).map_err(repo_error)?);
        }
        let dist_tags: Vec<(String, String)> = sqlx::query_as(
            "SELECT tag, version FROM npm_dist_tags WHERE project_id = $1 ORDER BY tag",
        )
        .bind(project_id)
        .fetch_all(&self.pool)
        .await
        .map_err(repo_error)?;
        Ok(Some(StoredPackage {
            project_id,
            name: row.try_get("name").map_err(repo_error)?,
            created_at: Timestamp(row.try_get("created_at").map_err(repo_error)?),
            updated_at: Timestamp(row.try_get("updated_at").map_err(repo_error)?),
            owners: owners.into_iter().map(|(n,)| n).collect(),
            versions,
            dist_tags,
        }))
    }

    async fn publish_npm(&self, new: NewVersion) -> Result<PublishOutcome, RepoError> {
        let mut tx = self.begin_audited().await?;
        // A version number is never reused, even after an unpublish (whose
        // file row stays, so the file name is taken too).
        let taken: Option<(i64,)> = sqlx::query_as(
            "SELECT v.id FROM npm_versions v JOIN projects p ON p.id = v.project_id
             WHERE p.normalized = $1 AND v.version = $2",
        )
        .bind(new.upload.normalized.as_str())
        .bind(&new.upload.version)
        .fetch_optional(&mut *tx)
        .await
        .map_err(repo_error)?;
        if taken.is_some() {
            return Ok(PublishOutcome::VersionExists);
        }
        let (file_id, project_id, created_project, verify_job) =
            match insert_upload(&mut tx, &new.upload).await? {
                Inserted::Created {
                    file_id,
                    project_id,
                    created_project,
                    verify_job,
                } => (file_id, project_id, created_project, verify_job),
                Inserted::FilenameTaken => return Ok(PublishOutcome::VersionExists),
                Inserted::NotOwner | Inserted::OtherOrigin => return Ok(PublishOutcome::NotOwner),
            };
        let now = new.upload.uploaded_at.micros();
        let (version_id,): (i64,) = sqlx::query_as(
            "INSERT INTO npm_versions (project_id, version, file_id, manifest, integrity, shasum, published_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(project_id)
        .bind(&new.upload.version)
        .bind(file_id)
        .bind(&new.manifest)
        .bind(&new.integrity)
        .bind(&new.shasum)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(repo_error)?;
        for dependency in &new.dependencies {
            sqlx::query(
                "INSERT INTO npm_dependencies (version_id, name) VALUES ($1, $2)
                 ON CONFLICT (version_id, name) DO NOTHING",
            )
            .bind(version_id)
            .bind(dependency)
            .execute(&mut *tx)
            .await
            .map_err(repo_error)?;
        }
        for tag in &new.tags {
            set_tag(&mut tx, project_id, tag, &new.upload.version).await?;
        }
        tx.commit(None).await?;
        Ok(PublishOutcome::Created {
            file: Box::new(new.upload.into_record(file_id, project_id)),
            created_project,
            verify_job,
        })
    }

    async fn change_npm(&self, change: PackageChange) -> Result<bool, RepoError> {
        let mut tx = self.begin_audited().await?;
        let project_id = change.project_id;
        let changed = match &change.change {
            Change::Tag {
                tag,
                version: Some(version),
            } => set_tag(&mut tx, project_id, tag, version).await?,
            Change::Tag { tag, version: None } => {
                sqlx::query("DELETE FROM npm_dist_tags WHERE project_id = $1 AND tag = $2")
                    .bind(project_id)
                    .bind(tag)
                    .execute(&mut *tx)
                    .await
                    .map_err(repo_error)?
                    .rows_affected()
                    > 0
            }
            Change::Deprecate { versions } => {
                let mut any = false;
                for (version, message) in versions {
                    any |= sqlx::query(
                        "UPDATE npm_versions SET deprecated = $1
                         WHERE project_id = $2 AND version = $3 AND unpublished_at IS NULL",
                    )
                    .bind(message)
                    .bind(project_id)
                    .bind(version)
                    .execute(&mut *tx)
                    .await
                    .map_err(repo_error)?
                    .rows_affected()
                        > 0;
                }
                any
            }
            Change::Unpublish { version, at } => {
                let gone = sqlx::query(
                    "UPDATE npm_versions SET unpublished_at = $1
                     WHERE project_id = $2 AND version = $3 AND unpublished_at IS NULL",
                )
                .bind(at.micros())
                .bind(project_id)
                .bind(version)
                .execute(&mut *tx)
                .await
                .map_err(repo_error)?
                .rows_affected()
                    > 0;
                if gone {
                    sqlx::query("DELETE FROM npm_dist_tags WHERE project_id = $1 AND version = $2")
                        .bind(project_id)
                        .bind(version)
                        .execute(&mut *tx)
                        .await
                        .map_err(repo_error)?;
                }
                gone
            }
            Change::Owner { user_id, add: true } => {
                sqlx::query(
                    "INSERT INTO project_roles (project_id, user_id, role) VALUES ($1, $2, 'owner')
                     ON CONFLICT (project_id, user_id) DO NOTHING",
                )
                .bind(project_id)
                .bind(user_id)
                .execute(&mut *tx)
                .await
                .map_err(repo_error)?
                .rows_affected()
                    > 0
            }
            Change::Owner {
                user_id,
                add: false,
            } => {
                sqlx::query("DELETE FROM project_roles WHERE project_id = $1 AND user_id = $2")
                    .bind(project_id)
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(repo_error)?
                    .rows_affected()
                    > 0
            }
        };
        if !changed {
            return Ok(false);
        }
        sqlx::query("UPDATE projects SET updated_at = $1 WHERE id = $2")
            .bind(Timestamp::now().micros())
            .bind(project_id)
            .execute(&mut *tx)
            .await
            .map_err(repo_error)?;
        tx.commit(Some(&change.audit)).await?;
        Ok(true)
    }

    async fn npm_dependents(&self, name: &str, except: &str) -> Result<Vec<String>, RepoError> {
        let found: Vec<(String,)> = sqlx::query_as(
            "SELECT DISTINCT p.name FROM npm_dependencies d
             JOIN npm_versions v ON v.id = d.version_id
             JOIN projects p ON p.id = v.project_id
             WHERE d.name = $1 AND v.unpublished_at IS NULL AND p.normalized <> $2
             ORDER BY p.name",
        )
        .bind(name)
        .bind(key(except))
        .fetch_all(&self.pool)
        .await
        .map_err(repo_error)?;
        Ok(found.into_iter().map(|(n,)| n).collect())
    }

    async fn npm_scope_owners(&self, scope: &str) -> Result<Vec<i64>, RepoError> {
        let found: Vec<(i64,)> = sqlx::query_as(
            "SELECT DISTINCT pr.user_id FROM projects p JOIN project_roles pr ON pr.project_id = p.id
             WHERE p.ecosystem = 'npm' AND p.origin = 'local' AND p.normalized LIKE $1 ESCAPE '\\'",
        )
        .bind(format!("{}%", like_escape(&format!("{NPM}:@{scope}/"))))
        .fetch_all(&self.pool)
        .await
        .map_err(repo_error)?;
        Ok(found.into_iter().map(|(id,)| id).collect())
    }

    async fn search_npm(
        &self,
        query: &str,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<NpmHit>, RepoError> {
        let words = search_words(query);
        if words.is_empty() {
            return Ok(Vec::new());
        }
        // Small next to PyPI's index: every word must appear in the name or
        // the description, as a plain substring (LIKE, escaped), exact name first.
        let mut sql = String::from(
            "SELECT p.name, s.summary, p.updated_at FROM projects p
             JOIN project_search s ON s.project_id = p.id
             WHERE p.ecosystem = 'npm'
               AND EXISTS (SELECT 1 FROM npm_versions v JOIN files f ON f.id = v.file_id
                           WHERE v.project_id = p.id AND v.unpublished_at IS NULL AND f.status = 'published')",
        );
        for n in 0..words.len() {
            let param = n + 4;
            sql.push_str(&format!(
                " AND (lower(p.name) LIKE ${param} ESCAPE '\\' OR lower(s.summary) LIKE ${param} ESCAPE '\\')"
            ));
        }
        sql.push_str(" ORDER BY (p.name = $1) DESC, length(p.name), p.name LIMIT $2 OFFSET $3");
        let mut q = sqlx::query(&sql)
            .bind(query.trim())
            .bind(limit)
            .bind(offset);
        for word in &words {
            q = q.bind(format!("%{}%", like_escape(&word.to_lowercase())));
        }
        let found = q.fetch_all(&self.pool).await.map_err(repo_error)?;
        found
            .iter()
            .map(|row| {
                Ok(NpmHit {
                    name: row.try_get("name").map_err(repo_error)?,
                    description: row.try_get("summary").map_err(repo_error)?,
                    updated_at: Timestamp(row.try_get("updated_at").map_err(repo_error)?),
                })
            })
            .collect()
    }
}

/// Points `tag` at `version`; whether anything changed.
async fn set_tag(
    tx: &mut crate::audit::AuditedTx<'_>,
    project_id: i64,
    tag: &str,
    version: &str,
) -> Result<bool, RepoError> {
    let changed = sqlx::query(
        "INSERT INTO npm_dist_tags (project_id, tag, version) VALUES ($1, $2, $3)
         ON CONFLICT (project_id, tag) DO UPDATE SET version = excluded.version
         WHERE npm_dist_tags.version <> excluded.version",
    )
    .bind(project_id)
    .bind(tag)
    .bind(version)
    .execute(&mut **tx)
    .await
    .map_err(repo_error)?
    .rows_affected();
    Ok(changed > 0)
}
