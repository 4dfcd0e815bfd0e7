//! The MCP server catalog: servers, immutable versions, publishers and
//! namespace grants. Only search differs per backend.

use crate::audit::AuditedTx;
use crate::error::repo_error;
use crate::{Backend, Database};
use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use std::cmp::Ordering;
use wharf_core::model::{
    CaptureState, HoldChange, McpCapture, McpConflict, McpHold, McpListQuery, McpPublishOutcome,
    McpStatus, McpSyncState, McpVersion, MirrorOutcome, MirrorVersion, NamespaceGrant,
    NewAuditEvent, NewCapture, NewMcpVersion, ToolsSummary, LOCAL_ORIGIN,
};
use wharf_core::ports::{McpRepo, ProxyRepo, RepoError};
use wharf_core::Timestamp;

const VERSION_COLUMNS: &str =
    "v.id, v.server_id, s.name, v.version, v.document, v.checks, v.status, \
     v.status_message, v.is_latest, v.published_at, v.updated_at, s.origin, v.hold, v.report, \
     v.upstream_published_at, v.conflict_sha256, v.conflict_at, v.tools_state, v.tools_hash, \
     v.tool_names, v.tools_captured_at";

/// Only versions that are not held are served.
const SERVED: &str = "v.hold IS NULL";

fn version(row: &AnyRow) -> Result<McpVersion, RepoError> {
    let status: String = row.try_get("status").map_err(repo_error)?;
    let status = McpStatus::parse(&status)
        .ok_or_else(|| RepoError::Internal(format!("stored MCP status '{status}' is not valid")))?;
    let tools_state: Option<String> = row.try_get("tools_state").map_err(repo_error)?;
    let tools_state = tools_state
        .map(|t| {
            CaptureState::parse(&t).ok_or_else(|| {
                RepoError::Internal(format!("stored capture state '{t}' is not valid"))
            })
        })
        .transpose()?;
    let hold: Option<String> = row.try_get("hold").map_err(repo_error)?;
    let hold = hold
        .map(|h| {
            McpHold::parse(&h)
                .ok_or_else(|| RepoError::Internal(format!("stored MCP hold '{h}' is not valid")))
        })
        .transpose()?;
    let get = || -> Result<McpVersion, sqlx::Error> {
        Ok(McpVersion {
            id: row.try_get("id")?,
            server_id: row.try_get("server_id")?,
            name: row.try_get("name")?,
            version: row.try_get("version")?,
            document: row.try_get("document")?,
            checks: row.try_get("checks")?,
            status,
            status_message: row.try_get("status_message")?,
            is_latest: row.try_get::<i64, _>("is_latest")? != 0,
            published_at: Timestamp(row.try_get("published_at")?),
            updated_at: Timestamp(row.try_get("updated_at")?),
            origin: row.try_get("origin")?,
            hold,
            report: row.try_get("report")?,
            upstream_published_at: row
                .try_get::<Option<i64>, _>("upstream_published_at")?
                .map(Timestamp),
            conflict: match (
                row.try_get::<Option<String>, _>("conflict_sha256")?,
                row.try_get::<Option<i64>, _>("conflict_at")?,
            ) {
                (Some(sha256), Some(at)) => Some(McpConflict {
                    sha256,
                    seen_at: Timestamp(at),
                }),
                _ => None,
            },
            tools: match tools_state {
                Some(state) => Some(ToolsSummary {
                    state,
                    hash: row.try_get("tools_hash")?,
                    names: row.try_get("tool_names")?,
                    captured_at: row
                        .try_get::<Option<i64>, _>("tools_captured_at")?
                        .map(Timestamp),
                }),
                None => None,
            },
        })
    };
    get().map_err(repo_error)
}

/// Whether `candidate` should be "latest" over `best`: semver order where
/// both are semver (a semver version beats one that is not), else the later
/// publication.
fn newer(candidate: (&str, i64), best: (&str, i64)) -> bool {
    match wharf_core::mcp::compare_versions(candidate.0, best.0) {
        Some(order) => order == Ordering::Greater,
        None => candidate.1 > best.1,
    }
}

/// Recomputes the latest version of a server (deleted versions never are)
/// and points its search row at it.
async fn refresh_latest(conn: &mut AnyConnection, server_id: i64) -> Result<(), RepoError> {
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT id, version FROM mcp_versions
         WHERE server_id = $1 AND status <> 'deleted' AND hold IS NULL ORDER BY id",
    )
    .bind(server_id)
    .fetch_all(&mut *conn)
    .await
    .map_err(repo_error)?;
    let mut best: Option<&(i64, String)> = None;
    for row in &rows {
        if best.is_none_or(|b| newer((&row.1, row.0), (&b.1, b.0))) {
            best = Some(row);
        }
    }
    sqlx::query("UPDATE mcp_versions SET is_latest = CASE WHEN id = $2 THEN 1 ELSE 0 END WHERE server_id = $1")
        .bind(server_id)
        .bind(best.map_or(0, |b| b.0))
        .execute(&mut *conn)
        .await
        .map_err(repo_error)?;
    match best {
        Some((id, _)) => {
            // Only the latest version's document feeds the search row.
            let (document,): (String,) =
                sqlx::query_as("SELECT document FROM mcp_versions WHERE id = $1")
                    .bind(id)
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(repo_error)?;
            let doc: serde_json::Value = serde_json::from_str(&document).unwrap_or_default();
            let text = |key: &str| {
                doc.get(key)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_owned()
            };
            sqlx::query(
                "INSERT INTO mcp_search (server_id, name, title, description) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (server_id) DO UPDATE SET name = excluded.name, title = excluded.title,
                     description = excluded.description",
            )
            .bind(server_id)
            .bind(text("name"))
            .bind(text("title"))
            .bind(text("description"))
            .execute(&mut *conn)
            .await
            .map_err(repo_error)?;
        }
        // Nothing left to find: every version is deleted.
        None => {
            sqlx::query("DELETE FROM mcp_search WHERE server_id = $1")
                .bind(server_id)
                .execute(&mut *conn)
                .await
                .map_err(repo_error)?;
        }
    }
    Ok(())
}

/// After a version is added: the server's update time, its latest version
/// and its search row.
async fn version_added(conn: &mut AnyConnection, server_id: i64, at: i64) -> Result<(), RepoError> {
    sqlx::query("UPDATE mcp_servers SET updated_at = $1 WHERE id = $2")
        .bind(at)
        .bind(server_id)
        .execute(&mut *conn)
        .await
        .map_err(repo_error)?;
    refresh_latest(conn, server_id).await
}

/// Stores the version of a publish whose server is settled, and commits.
async fn finish_publish(
    mut tx: AuditedTx<'_>,
    server_id: i64,
    new: &NewMcpVersion,
) -> Result<McpPublishOutcome, RepoError> {
    let at = new.at.micros();
    let row = sqlx::query(
        "INSERT INTO mcp_versions (server_id, version, document, checks, status, is_latest,
                                   published_by, published_at, updated_at)
         VALUES ($1, $2, $3, $4, 'active', 0, $5, $6, $6)
         ON CONFLICT (server_id, version) DO NOTHING RETURNING id",
    )
    .bind(server_id)
    .bind(&new.version)
    .bind(&new.document)
    .bind(&new.checks)
    .bind(new.publisher_id)
    .bind(at)
    .fetch_optional(&mut *tx)
    .await
    .map_err(repo_error)?;
    let Some(row) = row else {
        return Ok(McpPublishOutcome::DuplicateVersion);
    };
    let id: i64 = row.try_get("id").map_err(repo_error)?;
    version_added(&mut tx, server_id, at).await?;
    let sql = format!(
        "SELECT {VERSION_COLUMNS} FROM mcp_versions v JOIN mcp_servers s ON s.id = v.server_id WHERE v.id = $1"
    );
    let stored = sqlx::query(&sql)
        .bind(id)
        .fetch_one(&mut *tx)
        .await
        .map_err(repo_error)?;
    let stored = version(&stored)?;
    tx.commit(Some(&new.audit)).await?;
    Ok(McpPublishOutcome::Published(Box::new(stored)))
}

/// A mirrored version as stored: ID, document, status, status message and
/// the SHA-256 of a conflicting document, if one was seen.
type StoredCopy = (i64, String, String, Option<String>, Option<String>);

/// Stores one mirrored version in the page's transaction; the server whose
/// latest version must be recomputed, if any.
async fn mirror_one(
    tx: &mut AuditedTx<'_>,
    m: &MirrorVersion,
    owner: i64,
) -> Result<(MirrorOutcome, Option<i64>), RepoError> {
    let at = m.at.micros();
    sqlx::query(
        "INSERT INTO mcp_servers (name, name_lower, owner_user_id, created_at, updated_at, origin)
         VALUES ($1, $2, $3, $4, $4, $5) ON CONFLICT (name_lower) DO NOTHING",
    )
    .bind(&m.name)
    .bind(m.name.to_lowercase())
    .bind(owner)
    .bind(at)
    .bind(&m.upstream)
    .execute(&mut **tx)
    .await
    .map_err(repo_error)?;
    let (server_id, origin): (i64, String) =
        sqlx::query_as("SELECT id, origin FROM mcp_servers WHERE name_lower = $1")
            .bind(m.name.to_lowercase())
            .fetch_one(&mut **tx)
            .await
            .map_err(repo_error)?;
    if origin != m.upstream {
        return Ok((MirrorOutcome::Shadowed { origin }, None));
    }
    let existing: Option<StoredCopy> = sqlx::query_as(
        "SELECT id, document, status, status_message, conflict_sha256 FROM mcp_versions
             WHERE server_id = $1 AND version = $2",
    )
    .bind(server_id)
    .bind(&m.version)
    .fetch_optional(&mut **tx)
    .await
    .map_err(repo_error)?;
    let outcome = match existing {
        None => {
            sqlx::query(
                "INSERT INTO mcp_versions (server_id, version, document, checks, status,
                     status_message, is_latest, published_at, updated_at, hold, report,
                     upstream_published_at)
                 VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8, $9, $10, $11)",
            )
            .bind(server_id)
            .bind(&m.version)
            .bind(&m.document)
            .bind(&m.checks)
            .bind(m.status.as_str())
            .bind(m.status_message.as_deref())
            .bind(m.upstream_published_at.map_or(at, Timestamp::micros))
            .bind(at)
            .bind(m.hold.map(McpHold::as_str))
            .bind(&m.report)
            .bind(m.upstream_published_at.map(Timestamp::micros))
            .execute(&mut **tx)
            .await
            .map_err(repo_error)?;
            sqlx::query("UPDATE mcp_servers SET updated_at = $1 WHERE id = $2")
                .bind(at)
                .bind(server_id)
                .execute(&mut **tx)
                .await
                .map_err(repo_error)?;
            (MirrorOutcome::Added, Some(server_id))
        }
        Some((id, document, status, message, conflict)) => {
            let mut outcome = (MirrorOutcome::Unchanged, None);
            if status != m.status.as_str() || message != m.status_message {
                sqlx::query(
                    "UPDATE mcp_versions SET status = $1, status_message = $2, updated_at = $3
                     WHERE id = $4",
                )
                .bind(m.status.as_str())
                .bind(m.status_message.as_deref())
                .bind(at)
                .bind(id)
                .execute(&mut **tx)
                .await
                .map_err(repo_error)?;
                outcome = (MirrorOutcome::StatusChanged, Some(server_id));
            }
            // Versions are immutable: the first copy stays; a different
            // document is recorded once per document.
            if !same_document(&document, &m.document)
                && conflict.as_deref() != Some(m.upstream_sha256.as_str())
            {
                sqlx::query(
                    "UPDATE mcp_versions SET conflict_sha256 = $1, conflict_at = $2 WHERE id = $3",
                )
                .bind(&m.upstream_sha256)
                .bind(at)
                .bind(id)
                .execute(&mut **tx)
                .await
                .map_err(repo_error)?;
                outcome.0 = MirrorOutcome::Conflict;
            }
            outcome
        }
    };
    Ok(outcome)
}

/// A local publish takes a mirrored name over: the mirrored copies go (they
/// remain upstream), and the server becomes local, owned by the publisher.
async fn adopt_mirrored(
    tx: &mut AuditedTx<'_>,
    server_id: i64,
    new: &NewMcpVersion,
) -> Result<(), RepoError> {
    for table in ["mcp_tool_names", "mcp_captures"] {
        sqlx::query(&format!(
            "DELETE FROM {table} WHERE version_id IN (SELECT id FROM mcp_versions WHERE server_id = $1)"
        ))
        .bind(server_id)
        .execute(&mut **tx)
        .await
        .map_err(repo_error)?;
    }
    sqlx::query("DELETE FROM mcp_versions WHERE server_id = $1")
        .bind(server_id)
        .execute(&mut **tx)
        .await
        .map_err(repo_error)?;
    sqlx::query(
        "UPDATE mcp_servers SET origin = $1, owner_user_id = $2, name = $3, updated_at = $4 WHERE id = $5",
    )
    .bind(LOCAL_ORIGIN)
    .bind(new.publisher_id)
    .bind(&new.name)
    .bind(new.at.micros())
    .bind(server_id)
    .execute(&mut **tx)
    .await
    .map_err(repo_error)?;
    Ok(())
}

#[async_trait]
impl McpRepo for Database {
    async fn publish_mcp(&self, new: NewMcpVersion) -> Result<McpPublishOutcome, RepoError> {
        let mut tx = self.begin_audited().await?;
        let at = new.at.micros();
        let lower = new.name.to_lowercase();
        let inserted = sqlx::query(
            "INSERT INTO mcp_servers (name, name_lower, owner_user_id, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $4) ON CONFLICT (name_lower) DO NOTHING RETURNING id",
        )
        .bind(&new.name)
        .bind(&lower)
        .bind(new.publisher_id)
        .bind(at)
        .fetch_optional(&mut *tx)
        .await
        .map_err(repo_error)?;
        let server_id: i64 = match inserted {
            Some(row) => row.try_get("id").map_err(repo_error)?,
            None => {
                let (id, owner_id, owner, origin): (i64, i64, String, String) = sqlx::query_as(
                    "SELECT s.id, s.owner_user_id, u.name, s.origin FROM mcp_servers s
                     JOIN users u ON u.id = s.owner_user_id WHERE s.name_lower = $1",
                )
                .bind(&lower)
                .fetch_one(&mut *tx)
                .await
                .map_err(repo_error)?;
                if origin != LOCAL_ORIGIN {
                    // Local names win: publishing here (under a namespace the
                    // publisher was granted) replaces the mirrored copies, and
                    // the sync leaves the name alone from then on.
                    adopt_mirrored(&mut tx, id, &new).await?;
                    return finish_publish(tx, id, &new).await;
                }
                let added = sqlx::query(
                    "SELECT 1 FROM mcp_publishers WHERE server_id = $1 AND user_id = $2",
                )
                .bind(id)
                .bind(new.publisher_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(repo_error)?;
                if owner_id != new.publisher_id && added.is_none() {
                    return Ok(McpPublishOutcome::NotPublisher { owner });
                }
                id
            }
        };
        finish_publish(tx, server_id, &new).await
    }

    async fn mcp_version(
        &self,
        name: &str,
        wanted: Option<&str>,
    ) -> Result<Option<McpVersion>, RepoError> {
        let sql =
            format!(
            "SELECT {VERSION_COLUMNS} FROM mcp_versions v JOIN mcp_servers s ON s.id = v.server_id
             WHERE s.name_lower = $1 AND {SERVED} AND {}",
            if wanted.is_some() { "v.version = $2" } else { "v.is_latest = 1" }
        );
        let mut query = sqlx::query(&sql).bind(name.to_lowercase());
        if let Some(v) = wanted {
            query = query.bind(v);
        }
        let row = query.fetch_optional(&self.pool).await.map_err(repo_error)?;
        row.as_ref().map(version).transpose()
    }

    async fn mcp_versions(&self, name: &str) -> Result<Vec<McpVersion>, RepoError> {
        let sql = format!(
            "SELECT {VERSION_COLUMNS} FROM mcp_versions v JOIN mcp_servers s ON s.id = v.server_id
             WHERE s.name_lower = $1 AND {SERVED} ORDER BY v.id"
        );
        let rows = sqlx::query(&sql)
            .bind(name.to_lowercase())
            .fetch_all(&self.pool)
            .await
            .map_err(repo_error)?;
        rows.iter().map(version).collect()
    }

    async fn list_mcp(&self, q: &McpListQuery) -> Result<Vec<McpVersion>, RepoError> {
        // Conditions are added only when given, binding in order, so the SQL
        // stays portable (no untyped NULL parameters for PostgreSQL).
        let mut conditions: Vec<String> = vec![SERVED.to_owned()];
        let mut binds: Vec<Bind> = Vec::new();
        if let Some((name, after_version)) = &q.after {
            let n = binds.len();
            conditions.push(format!(
                "(s.name_lower > ${a} OR (s.name_lower = ${a} AND v.id > COALESCE(
                    (SELECT v2.id FROM mcp_versions v2 WHERE v2.server_id = s.id AND v2.version = ${b}), 0)))",
                a = n + 1,
                b = n + 2
            ));
            binds.push(Bind::Text(name.to_lowercase()));
            binds.push(Bind::Text(after_version.clone()));
        }
        if let Some(since) = q.updated_since {
            conditions.push(format!("v.updated_at >= ${}", binds.len() + 1));
            binds.push(Bind::Int(since.micros()));
        }
        match q.version.as_deref() {
            Some("latest") => conditions.push("v.is_latest = 1".into()),
            Some(exact) => {
                conditions.push(format!("v.version = ${}", binds.len() + 1));
                binds.push(Bind::Text(exact.to_owned()));
            }
            None => {}
        }
        if !q.include_deleted {
            conditions.push("v.status <> 'deleted'".into());
        }
        let filter = format!("WHERE {}", conditions.join(" AND "));
        let sql = format!(
            "SELECT {VERSION_COLUMNS} FROM mcp_versions v JOIN mcp_servers s ON s.id = v.server_id
             {filter} ORDER BY s.name_lower, v.id LIMIT ${}",
            binds.len() + 1
        );
        let mut query = sqlx::query(&sql);
        for bind in &binds {
            query = match bind {
                Bind::Text(t) => query.bind(t.clone()),
                Bind::Int(i) => query.bind(*i),
            };
        }
        let rows = query
            .bind(q.limit)
            .fetch_all(&self.pool)
            .await
            .map_err(repo_error)?;
        rows.iter().map(version).collect()
    }

    async fn search_mcp(
        &self,
        text: &str,
        include_deleted: bool,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<McpVersion>, RepoError> {
        let words = crate::search::search_words(text);
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let deleted = if include_deleted {
            ""
        } else {
            "AND v.status <> 'deleted'"
        };
        let rows = match self.backend {
            Backend::Sqlite => {
                // The name weighs ten times the title and twenty times the
                // description, so a name match ranks first. The page is cut
                // from the index before anything is joined: a search row
                // exists only for a server whose latest version is served.
                let sql = format!(
                    "WITH hits AS (
                         SELECT f.rowid AS id, bm25(mcp_fts, 20.0, 2.0, 1.0) AS score,
                                lower(m.name) AS name_lower
                         FROM mcp_fts f JOIN mcp_search m ON m.server_id = f.rowid
                         WHERE mcp_fts MATCH $1
                         ORDER BY score, name_lower LIMIT $2 OFFSET $3)
                     SELECT {VERSION_COLUMNS} FROM hits
                     JOIN mcp_servers s ON s.id = hits.id
                     JOIN mcp_versions v ON v.server_id = s.id AND v.is_latest = 1 {deleted}
                     ORDER BY hits.score, hits.name_lower"
                );
                sqlx::query(&sql)
                    .bind(crate::search::fts5_query(&words))
                    .bind(limit)
                    .bind(offset)
                    .fetch_all(&self.pool)
                    .await
            }
            Backend::Postgres => {
                let text = words.join(" ");
                let sql = format!(
                    "SELECT {VERSION_COLUMNS} FROM mcp_search m
                     JOIN mcp_servers s ON s.id = m.server_id
                     JOIN mcp_versions v ON v.server_id = s.id AND v.is_latest = 1 {deleted}
                     WHERE m.document @@ plainto_tsquery('simple', $1) OR lower(m.name) % lower($1)
                     ORDER BY greatest(ts_rank(m.document, plainto_tsquery('simple', $1)),
                                       similarity(lower(m.name), lower($1))) DESC,
                              s.name_lower
                     LIMIT $2 OFFSET $3"
                );
                sqlx::query(&sql)
                    .bind(text)
                    .bind(limit)
                    .bind(offset)
                    .fetch_all(&self.pool)
                    .await
            }
        }
        .map_err(repo_error)?;
        rows.iter().map(version).collect()
    }

    async fn set_mcp_status(
        &self,
        name: &str,
        wanted: Option<&str>,
        status: McpStatus,
        message: Option<&str>,
        event: NewAuditEvent,
    ) -> Result<usize, RepoError> {
        let mut tx = self.begin_audited().await?;
        let server: Option<(i64,)> =
            sqlx::query_as("SELECT id FROM mcp_servers WHERE name_lower = $1")
                .bind(name.to_lowercase())
                .fetch_optional(&mut *tx)
                .await
                .map_err(repo_error)?;
        let Some((server_id,)) = server else {
            return Ok(0);
        };
        let now = Timestamp::now().micros();
        let mut sql = "UPDATE mcp_versions SET status = $1, status_message = $2, updated_at = $3
                       WHERE server_id = $4"
            .to_owned();
        if wanted.is_some() {
            sql.push_str(" AND version = $5");
        }
        let mut query = sqlx::query(&sql)
            .bind(status.as_str())
            .bind(message)
            .bind(now)
            .bind(server_id);
        if let Some(v) = wanted {
            query = query.bind(v);
        }
        let changed = query
            .execute(&mut *tx)
            .await
            .map_err(repo_error)?
            .rows_affected();
        if changed > 0 {
            refresh_latest(&mut tx, server_id).await?;
        }
        tx.commit((changed > 0).then_some(&event)).await?;
        Ok(usize::try_from(changed).unwrap_or(usize::MAX))
    }

    async fn mcp_owner(&self, name: &str) -> Result<Option<(i64, String)>, RepoError> {
        sqlx::query_as(
            "SELECT u.id, u.name FROM mcp_servers s JOIN users u ON u.id = s.owner_user_id
             WHERE s.name_lower = $1 AND s.origin = $2",
        )
        .bind(name.to_lowercase())
        .bind(LOCAL_ORIGIN)
        .fetch_optional(&self.pool)
        .await
        .map_err(repo_error)
    }

    async fn is_mcp_publisher(&self, name: &str, user_id: i64) -> Result<bool, RepoError> {
        let row = sqlx::query(
            "SELECT 1 FROM mcp_servers s WHERE s.name_lower = $1 AND (s.owner_user_id = $2 OR EXISTS
               (SELECT 1 FROM mcp_publishers p WHERE p.server_id = s.id AND p.user_id = $2))",
        )
        .bind(name.to_lowercase())
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(repo_error)?;
        Ok(row.is_some())
    }

    async fn add_mcp_publisher(
        &self,
        name: &str,
        user_id: i64,
        event: NewAuditEvent,
    ) -> Result<bool, RepoError> {
        let insert = sqlx::query(
            "INSERT INTO mcp_publishers (server_id, user_id, added_at)
             SELECT id, $2, $3 FROM mcp_servers WHERE name_lower = $1
             ON CONFLICT (server_id, user_id) DO NOTHING",
        )
        .bind(name.to_lowercase())
        .bind(user_id)
        .bind(Timestamp::now().micros());
        self.audited_change(insert, &event).await
    }

    async fn grant_namespace(
        &self,
        glob: &str,
        user_id: i64,
        event: NewAuditEvent,
    ) -> Result<bool, RepoError> {
        let insert = sqlx::query(
            "INSERT INTO mcp_namespace_grants (glob, glob_lower, user_id, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (glob_lower, user_id) DO NOTHING",
        )
        .bind(glob)
        .bind(glob.to_lowercase())
        .bind(user_id)
        .bind(Timestamp::now().micros());
        self.audited_change(insert, &event).await
    }

    async fn revoke_namespace(
        &self,
        glob: &str,
        user_id: i64,
        event: NewAuditEvent,
    ) -> Result<bool, RepoError> {
        let delete =
            sqlx::query("DELETE FROM mcp_namespace_grants WHERE glob_lower = $1 AND user_id = $2")
                .bind(glob.to_lowercase())
                .bind(user_id);
        self.audited_change(delete, &event).await
    }

    async fn namespace_grants(
        &self,
        user_id: Option<i64>,
    ) -> Result<Vec<NamespaceGrant>, RepoError> {
        let mut sql = "SELECT g.glob, u.name, g.created_at FROM mcp_namespace_grants g JOIN users u ON u.id = g.user_id"
            .to_owned();
        if user_id.is_some() {
            sql.push_str(" WHERE g.user_id = $1");
        }
        sql.push_str(" ORDER BY g.glob_lower, u.name_lower");
        let mut query = sqlx::query_as::<_, (String, String, i64)>(&sql);
        if let Some(id) = user_id {
            query = query.bind(id);
        }
        let rows = query.fetch_all(&self.pool).await.map_err(repo_error)?;
        Ok(rows
            .into_iter()
            .map(|(glob, user, at)| NamespaceGrant {
                glob,
                user,
                created_at: Timestamp(at),
            })
            .collect())
    }
    async fn mcp_origin(&self, name: &str) -> Result<Option<String>, RepoError> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT origin FROM mcp_servers WHERE name_lower = $1")
                .bind(name.to_lowercase())
                .fetch_optional(&self.pool)
                .await
                .map_err(repo_error)?;
        Ok(row.map(|(origin,)| origin))
    }

    async fn mcp_version_any(
        &self,
        name: &str,
        wanted: &str,
    ) -> Result<Option<McpVersion>, RepoError> {
        let sql = format!(
            "SELECT {VERSION_COLUMNS} FROM mcp_versions v JOIN mcp_servers s ON s.id = v.server_id
             WHERE s.name_lower = $1 AND v.version = $2"
        );
        let row = sqlx::query(&sql)
            .bind(name.to_lowercase())
            .bind(wanted)
            .fetch_optional(&self.pool)
            .await
            .map_err(repo_error)?;
        row.as_ref().map(version).transpose()
    }

    async fn mirror_mcp(&self, page: &[MirrorVersion]) -> Result<Vec<MirrorOutcome>, RepoError> {
        // Mirrored servers belong to the proxy's system user.
        let owner = self.proxy_user().await?;
        // One transaction for the page: one commit, and each server's latest
        // version recomputed once.
        let mut tx = self.begin_audited().await?;
        let mut outcomes = Vec::with_capacity(page.len());
        let mut touched = std::collections::BTreeSet::new();
        for m in page {
            let (outcome, server) = mirror_one(&mut tx, m, owner).await?;
            touched.extend(server);
            outcomes.push(outcome);
        }
        for server_id in touched {
            refresh_latest(&mut tx, server_id).await?;
        }
        tx.commit(None).await?;
        Ok(outcomes)
    }

    async fn change_mcp_hold(&self, change: HoldChange) -> Result<bool, RepoError> {
        let mut tx = self.begin_audited().await?;
        let found: Option<(i64, i64)> = sqlx::query_as(
            "SELECT v.id, v.server_id FROM mcp_versions v JOIN mcp_servers s ON s.id = v.server_id
             WHERE s.name_lower = $1 AND v.version = $2",
        )
        .bind(change.name.to_lowercase())
        .bind(&change.version)
        .fetch_optional(&mut *tx)
        .await
        .map_err(repo_error)?;
        let Some((id, server_id)) = found else {
            return Ok(false);
        };
        sqlx::query(
            "UPDATE mcp_versions SET hold = $1, report = COALESCE($2, report),
                 checks = COALESCE($3, checks), released_by = $4, updated_at = $5
             WHERE id = $6",
        )
        .bind(change.hold.map(McpHold::as_str))
        .bind(change.report.as_deref())
        .bind(change.checks.as_deref())
        .bind(change.released_by)
        .bind(change.at.micros())
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(repo_error)?;
        refresh_latest(&mut tx, server_id).await?;
        tx.commit(change.audit.as_ref()).await?;
        Ok(true)
    }

    async fn held_mcp(&self, origin: Option<&str>) -> Result<Vec<McpVersion>, RepoError> {
        let sql =
            format!(
            "SELECT {VERSION_COLUMNS} FROM mcp_versions v JOIN mcp_servers s ON s.id = v.server_id
             WHERE v.hold IS NOT NULL {} ORDER BY s.name_lower, v.id",
            if origin.is_some() { "AND s.origin = $1" } else { "" }
        );
        let mut query = sqlx::query(&sql);
        if let Some(origin) = origin {
            query = query.bind(origin);
        }
        let rows = query.fetch_all(&self.pool).await.map_err(repo_error)?;
        rows.iter().map(version).collect()
    }

    async fn take_sync_lease(
        &self,
        upstream: &str,
        holder: &str,
        until: Timestamp,
    ) -> Result<Option<McpSyncState>, RepoError> {
        let now = Timestamp::now().micros();
        {
            let _writer = self.writer().await;
            sqlx::query(
                "INSERT INTO mcp_sync_state (upstream, updated_at) VALUES ($1, $2)
                 ON CONFLICT (upstream) DO NOTHING",
            )
            .bind(upstream)
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(repo_error)?;
            // One statement decides, so two instances cannot both win.
            let taken = sqlx::query(
                "UPDATE mcp_sync_state SET lease_holder = $2, lease_until = $3, updated_at = $4
                 WHERE upstream = $1 AND (lease_holder IS NULL OR lease_holder = $2 OR lease_until < $4)",
            )
            .bind(upstream)
            .bind(holder)
            .bind(until.micros())
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(repo_error)?
            .rows_affected();
            if taken == 0 {
                return Ok(None);
            }
        }
        let sql = format!("SELECT {SYNC_COLUMNS} FROM mcp_sync_state WHERE upstream = $1");
        let row = sqlx::query(&sql)
            .bind(upstream)
            .fetch_one(&self.pool)
            .await
            .map_err(repo_error)?;
        sync_state(&row).map(Some)
    }

    async fn save_sync_state(
        &self,
        state: &McpSyncState,
        holder: &str,
        until: Timestamp,
    ) -> Result<bool, RepoError> {
        let _writer = self.writer().await;
        let saved = sqlx::query(
            "UPDATE mcp_sync_state SET high_water = $1, run_since = $2, run_cursor = $3,
                 run_max = $4, last_success_at = $5, last_error = $6, lease_until = $7,
                 updated_at = $8, run_started_at = $11
             WHERE upstream = $9 AND lease_holder = $10",
        )
        .bind(state.high_water.as_deref())
        .bind(state.run_since.as_deref())
        .bind(state.run_cursor.as_deref())
        .bind(state.run_max.as_deref())
        .bind(state.last_success_at.map(Timestamp::micros))
        .bind(state.last_error.as_deref())
        .bind(until.micros())
        .bind(Timestamp::now().micros())
        .bind(&state.upstream)
        .bind(holder)
        .bind(state.run_started_at.map(Timestamp::micros))
        .execute(&self.pool)
        .await
        .map_err(repo_error)?
        .rows_affected();
        Ok(saved > 0)
    }

    async fn release_sync_lease(&self, upstream: &str, holder: &str) -> Result<(), RepoError> {
        let _writer = self.writer().await;
        sqlx::query(
            "UPDATE mcp_sync_state SET lease_holder = NULL, lease_until = 0
             WHERE upstream = $1 AND lease_holder = $2",
        )
        .bind(upstream)
        .bind(holder)
        .execute(&self.pool)
        .await
        .map_err(repo_error)?;
        Ok(())
    }

    async fn sync_states(&self) -> Result<Vec<McpSyncState>, RepoError> {
        let sql = format!("SELECT {SYNC_COLUMNS} FROM mcp_sync_state ORDER BY upstream");
        let rows = sqlx::query(&sql)
            .fetch_all(&self.pool)
            .await
            .map_err(repo_error)?;
        rows.iter().map(sync_state).collect()
    }
    async fn record_capture(&self, c: NewCapture) -> Result<McpCapture, RepoError> {
        let mut tx = self.begin_audited().await?;
        let row = sqlx::query(
            "INSERT INTO mcp_captures (version_id, state, tools_hash, tools, prompts, resources,
                 findings, detail, captured_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(c.version_id)
        .bind(c.state.as_str())
        .bind(c.tools_hash.as_deref())
        .bind(&c.tools)
        .bind(&c.prompts)
        .bind(&c.resources)
        .bind(&c.findings)
        .bind(c.detail.as_deref())
        .bind(c.at.micros())
        .fetch_one(&mut *tx)
        .await
        .map_err(repo_error)?;
        let id: i64 = row.try_get("id").map_err(repo_error)?;
        if c.state == CaptureState::Captured {
            sqlx::query("DELETE FROM mcp_tool_names WHERE version_id = $1")
                .bind(c.version_id)
                .execute(&mut *tx)
                .await
                .map_err(repo_error)?;
            let mut names = c.tool_names.clone();
            names.sort();
            names.dedup();
            for name in &names {
                sqlx::query(
                    "INSERT INTO mcp_tool_names (version_id, server_id, name) VALUES ($1, $2, $3)",
                )
                .bind(c.version_id)
                .bind(c.server_id)
                .bind(name)
                .execute(&mut *tx)
                .await
                .map_err(repo_error)?;
            }
        }
        if c.state == CaptureState::Captured {
            sqlx::query(
                "UPDATE mcp_versions SET tools_state = $1, tools_hash = $2, tool_names = $3,
                     tools_captured_at = $4 WHERE id = $5",
            )
            .bind(c.state.as_str())
            .bind(c.tools_hash.as_deref())
            .bind(serde_json::to_string(&c.tool_names).unwrap_or_else(|_| "[]".into()))
            .bind(c.at.micros())
            .bind(c.version_id)
            .execute(&mut *tx)
            .await
            .map_err(repo_error)?;
        } else {
            sqlx::query("UPDATE mcp_versions SET tools_state = $1 WHERE id = $2")
                .bind(c.state.as_str())
                .bind(c.version_id)
                .execute(&mut *tx)
                .await
                .map_err(repo_error)?;
        }
        tx.commit(None).await?;
        Ok(McpCapture {
            id,
            version_id: c.version_id,
            state: c.state,
            tools_hash: c.tools_hash,
            tools: c.tools,
            prompts: c.prompts,
            resources: c.resources,
            findings: c.findings,
            detail: c.detail,
            captured_at: c.at,
        })
    }

    async fn last_capture(
        &self,
        version_id: i64,
        state: Option<CaptureState>,
    ) -> Result<Option<McpCapture>, RepoError> {
        let sql = format!(
            "SELECT {CAPTURE_COLUMNS} FROM mcp_captures WHERE version_id = $1 {} ORDER BY id DESC LIMIT 1",
            if state.is_some() { "AND state = $2" } else { "" }
        );
        let mut query = sqlx::query(&sql).bind(version_id);
        if let Some(state) = state {
            query = query.bind(state.as_str());
        }
        let row = query.fetch_optional(&self.pool).await.map_err(repo_error)?;
        row.as_ref().map(capture).transpose()
    }

    async fn previous_version_capture(
        &self,
        v: &McpVersion,
    ) -> Result<Option<(String, McpCapture)>, RepoError> {
        let sql = format!(
            "SELECT v.version, {CAPTURE_COLUMNS} FROM mcp_captures
             JOIN mcp_versions v ON v.id = mcp_captures.version_id
             WHERE v.server_id = $1 AND v.id < $2 AND mcp_captures.state = $3
             ORDER BY v.id DESC, mcp_captures.id DESC LIMIT 1"
        );
        let row = sqlx::query(&sql)
            .bind(v.server_id)
            .bind(v.id)
            .bind(CaptureState::Captured.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(repo_error)?;
        match row {
            Some(row) => {
                let version: String = row.try_get("version").map_err(repo_error)?;
                Ok(Some((version, capture(&row)?)))
            }
            None => Ok(None),
        }
    }

    async fn tool_name_owners(
        &self,
        server_id: i64,
        names: &[String],
    ) -> Result<Vec<(String, String)>, RepoError> {
        let mut found = Vec::new();
        // A bounded number of names per query keeps the statement portable.
        for chunk in names.chunks(100) {
            let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!(
                "SELECT DISTINCT t.name, s.name AS server FROM mcp_tool_names t
                 JOIN mcp_servers s ON s.id = t.server_id
                 WHERE t.server_id <> $1 AND t.name IN ({}) ORDER BY t.name, server",
                marks.join(", ")
            );
            let mut query = sqlx::query_as::<_, (String, String)>(&sql).bind(server_id);
            for name in chunk {
                query = query.bind(name);
            }
            found.extend(query.fetch_all(&self.pool).await.map_err(repo_error)?);
        }
        Ok(found)
    }
}

const CAPTURE_COLUMNS: &str = "mcp_captures.id, mcp_captures.version_id, mcp_captures.state, \
    mcp_captures.tools_hash, mcp_captures.tools, mcp_captures.prompts, mcp_captures.resources, \
    mcp_captures.findings, mcp_captures.detail, mcp_captures.captured_at";

fn capture(row: &AnyRow) -> Result<McpCapture, RepoError> {
    let state: String = row.try_get("state").map_err(repo_error)?;
    let state = CaptureState::parse(&state).ok_or_else(|| {
        RepoError::Internal(format!("stored capture state '{state}' is not valid"))
    })?;
    let get = || -> Result<McpCapture, sqlx::Error> {
        Ok(McpCapture {
            id: row.try_get("id")?,
            version_id: row.try_get("version_id")?,
            state,
            tools_hash: row.try_get("tools_hash")?,
            tools: row.try_get("tools")?,
            prompts: row.try_get("prompts")?,
            resources: row.try_get("resources")?,
            findings: row.try_get("findings")?,
            detail: row.try_get("detail")?,
            captured_at: Timestamp(row.try_get("captured_at")?),
        })
    };
    get().map_err(repo_error)
}

const SYNC_COLUMNS: &str = "upstream, high_water, run_since, run_cursor, run_max, \
                            run_started_at, last_success_at, last_error";

fn sync_state(row: &AnyRow) -> Result<McpSyncState, RepoError> {
    let get = || -> Result<McpSyncState, sqlx::Error> {
        Ok(McpSyncState {
            upstream: row.try_get("upstream")?,
            high_water: row.try_get("high_water")?,
            run_since: row.try_get("run_since")?,
            run_cursor: row.try_get("run_cursor")?,
            run_max: row.try_get("run_max")?,
            run_started_at: row
                .try_get::<Option<i64>, _>("run_started_at")?
                .map(Timestamp),
            last_success_at: row
                .try_get::<Option<i64>, _>("last_success_at")?
                .map(Timestamp),
            last_error: row.try_get("last_error")?,
        })
    };
    get().map_err(repo_error)
}

/// Whether two stored documents say the same, whatever their key order.
fn same_document(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<serde_json::Value>(a),
        serde_json::from_str::<serde_json::Value>(b),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// A bound value of a query built from optional filters.
enum Bind {
    Text(String),
    Int(i64),
}
