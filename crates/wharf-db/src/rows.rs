//! Row-to-record conversions, shared by every repository.

use sqlx::any::AnyRow;
use sqlx::Row;
use wharf_core::model::*;
use wharf_core::ports::RepoError;
use wharf_core::{DistKind, NormalizedName, Scopes, Timestamp};

pub(crate) const USER_COLUMNS: &str = "id, name, is_admin, created_at";
pub(crate) const TOKEN_COLUMNS: &str =
    "id, user_id, name, scopes, projects, namespaces, created_at, expires_at, last_used_at, revoked_at";
pub(crate) const PROJECT_COLUMNS: &str = "id, name, normalized, created_at, origin";
pub(crate) const RELEASE_COLUMNS: &str =
    "id, project_id, version, is_yanked, yank_reason, created_at";
pub(crate) const FILE_COLUMNS: &str = "f.id, f.project_id, r.version, f.filename, f.kind, f.python_tag, f.size, \
     f.sha256, f.blake2_256, f.md5, f.requires_python, f.metadata_sha256, f.status, f.uploaded_at, f.uploader_id";
/// Audit events with their actors' names, from `audit_events e` joined to
/// `users u` and `api_tokens t`.
pub(crate) const AUDIT_COLUMNS: &str =
    "e.id, e.at, e.actor_user_id, e.actor_token_id, u.name AS actor_user_name, \
     t.name AS actor_token_name, e.action, e.target, e.detail, e.ip_hash";

pub(crate) const DEVICE_COLUMNS: &str =
    "id, user_code, scopes, status, interval_secs, created_at, expires_at, last_polled_at, user_id";

/// `a, b` with alias `t` becomes `t.a, t.b`.
pub(crate) fn prefixed(alias: &str, columns: &str) -> String {
    columns
        .split(',')
        .map(|c| format!("{alias}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn corrupt(what: &str, value: &str) -> RepoError {
    RepoError::Internal(format!("stored {what} '{value}' is not valid"))
}

fn ts(row: &AnyRow, col: &str) -> Result<Timestamp, sqlx::Error> {
    Ok(Timestamp(row.try_get::<i64, _>(col)?))
}

fn opt_ts(row: &AnyRow, col: &str) -> Result<Option<Timestamp>, sqlx::Error> {
    Ok(row.try_get::<Option<i64>, _>(col)?.map(Timestamp))
}

pub(crate) fn user(row: &AnyRow) -> Result<User, RepoError> {
    let get = || -> Result<User, sqlx::Error> {
        Ok(User {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            is_admin: row.try_get::<i64, _>("is_admin")? != 0,
            created_at: ts(row, "created_at")?,
        })
    };
    get().map_err(crate::error::repo_error)
}

pub(crate) fn token(row: &AnyRow) -> Result<TokenRecord, RepoError> {
    let scopes: String = row.try_get("scopes").map_err(crate::error::repo_error)?;
    let projects: String = row.try_get("projects").map_err(crate::error::repo_error)?;
    let namespaces: String = row
        .try_get("namespaces")
        .map_err(crate::error::repo_error)?;
    let get = || -> Result<TokenRecord, sqlx::Error> {
        Ok(TokenRecord {
            id: row.try_get("id")?,
            user_id: row.try_get("user_id")?,
            name: row.try_get("name")?,
            scopes: Scopes::default(),
            projects: Vec::new(),
            namespaces: Vec::new(),
            created_at: ts(row, "created_at")?,
            expires_at: opt_ts(row, "expires_at")?,
            last_used_at: opt_ts(row, "last_used_at")?,
            revoked_at: opt_ts(row, "revoked_at")?,
        })
    };
    let mut record = get().map_err(crate::error::repo_error)?;
    record.scopes = Scopes::parse(&scopes).map_err(|_| corrupt("scopes", &scopes))?;
    record.projects = projects
        .split(',')
        .filter(|p| !p.is_empty())
        .map(|p| NormalizedName::parse(p).map_err(|_| corrupt("project restriction", p)))
        .collect::<Result<_, _>>()?;
    // Globs hold no ',' (the service checks their shape).
    record.namespaces = namespaces
        .split(',')
        .filter(|g| !g.is_empty())
        .map(str::to_owned)
        .collect();
    Ok(record)
}

pub(crate) fn project(row: &AnyRow) -> Result<Project, RepoError> {
    let get = || -> Result<(i64, String, String, Timestamp, String), sqlx::Error> {
        Ok((
            row.try_get("id")?,
            row.try_get("name")?,
            row.try_get("normalized")?,
            ts(row, "created_at")?,
            row.try_get("origin")?,
        ))
    };
    let (id, name, normalized, created_at, origin) = get().map_err(crate::error::repo_error)?;
    Ok(Project {
        id,
        name,
        normalized: NormalizedName::from_normalized(normalized),
        created_at,
        origin: Origin::parse(&origin)
            .ok_or_else(|| RepoError::Internal(format!("unknown project origin '{origin}'")))?,
    })
}

pub(crate) fn release(row: &AnyRow) -> Result<Release, RepoError> {
    let get = || -> Result<Release, sqlx::Error> {
        Ok(Release {
            id: row.try_get("id")?,
            project_id: row.try_get("project_id")?,
            version: row.try_get("version")?,
            is_yanked: row.try_get::<i64, _>("is_yanked")? != 0,
            yank_reason: row.try_get("yank_reason")?,
            created_at: ts(row, "created_at")?,
        })
    };
    get().map_err(crate::error::repo_error)
}

pub(crate) fn file(row: &AnyRow) -> Result<FileRecord, RepoError> {
    let kind: String = row.try_get("kind").map_err(crate::error::repo_error)?;
    let status: String = row.try_get("status").map_err(crate::error::repo_error)?;
    let kind = DistKind::from_stored(&kind).ok_or_else(|| corrupt("file kind", &kind))?;
    let status = FileStatus::parse(&status).ok_or_else(|| corrupt("file status", &status))?;
    let get = || -> Result<FileRecord, sqlx::Error> {
        Ok(FileRecord {
            id: row.try_get("id")?,
            project_id: row.try_get("project_id")?,
            version: row.try_get("version")?,
            filename: row.try_get("filename")?,
            kind,
            python_tag: row.try_get("python_tag")?,
            size: row.try_get("size")?,
            sha256: row.try_get("sha256")?,
            blake2_256: row.try_get("blake2_256")?,
            md5: row.try_get("md5")?,
            requires_python: row.try_get("requires_python")?,
            metadata_sha256: row.try_get("metadata_sha256")?,
            status,
            uploaded_at: ts(row, "uploaded_at")?,
            uploader_id: row.try_get("uploader_id")?,
        })
    };
    get().map_err(crate::error::repo_error)
}

pub(crate) fn audit(row: &AnyRow) -> Result<AuditEvent, RepoError> {
    let get = || -> Result<AuditEvent, sqlx::Error> {
        Ok(AuditEvent {
            id: row.try_get("id")?,
            at: ts(row, "at")?,
            actor_user_id: row.try_get("actor_user_id")?,
            actor_token_id: row.try_get("actor_token_id")?,
            actor_user_name: row.try_get("actor_user_name")?,
            actor_token_name: row.try_get("actor_token_name")?,
            action: row.try_get("action")?,
            target: row.try_get("target")?,
            detail: row.try_get("detail")?,
            ip_hash: row.try_get("ip_hash")?,
        })
    };
    get().map_err(crate::error::repo_error)
}

pub(crate) fn device(row: &AnyRow) -> Result<DeviceRequest, RepoError> {
    let scopes: String = row.try_get("scopes").map_err(crate::error::repo_error)?;
    let status: String = row.try_get("status").map_err(crate::error::repo_error)?;
    let get = || -> Result<DeviceRequest, sqlx::Error> {
        Ok(DeviceRequest {
            id: row.try_get("id")?,
            user_code: row.try_get("user_code")?,
            scopes: Scopes::default(),
            status: DeviceStatus::Pending,
            interval_secs: row.try_get("interval_secs")?,
            created_at: ts(row, "created_at")?,
            expires_at: ts(row, "expires_at")?,
            last_polled_at: opt_ts(row, "last_polled_at")?,
            user_id: row.try_get("user_id")?,
        })
    };
    let mut request = get().map_err(crate::error::repo_error)?;
    request.scopes = Scopes::parse(&scopes).map_err(|_| corrupt("scopes", &scopes))?;
    request.status =
        DeviceStatus::parse(&status).ok_or_else(|| corrupt("device status", &status))?;
    Ok(request)
}
