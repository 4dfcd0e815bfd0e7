//! A small migration runner: numbered SQL files per backend, each applied once
//! in its own transaction and recorded in `wharf_migrations`. Several
//! processes may run it at once (instances starting together, `wharf migrate`
//! during a rollout); each migration still applies exactly once.

use crate::{error::repo_error, Backend, Database, DbError};
use sqlx::{Any, Executor, Transaction};
use wharf_core::Timestamp;

struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
}

/// Every migration, in order, as `(version, name, file stem)`; each backend
/// has its own SQL file under `migrations/<backend>/<stem>.sql`.
macro_rules! migrations_for {
    ($backend:literal) => {
        &[
            migration!($backend, 1, "init", "0001_init"),
            migration!($backend, 2, "sessions_devices", "0002_sessions_devices"),
            migration!($backend, 3, "search", "0003_search"),
            migration!($backend, 4, "jobs", "0004_jobs"),
            migration!($backend, 5, "verification", "0005_verification"),
            migration!($backend, 6, "mcp", "0006_mcp"),
            migration!($backend, 7, "deployments", "0007_deployments"),
            migration!($backend, 8, "token_namespaces", "0008_token_namespaces"),
            migration!($backend, 9, "device_requester", "0009_device_requester"),
            migration!($backend, 10, "proxy", "0010_proxy"),
            migration!($backend, 11, "mcp_sync", "0011_mcp_sync"),
            migration!($backend, 12, "mcp_captures", "0012_mcp_captures"),
            migration!($backend, 13, "npm", "0013_npm"),
        ]
    };
}

macro_rules! migration {
    ($backend:literal, $version:literal, $name:literal, $stem:literal) => {
        Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!("../migrations/", $backend, "/", $stem, ".sql")),
        }
    };
}

const SQLITE: &[Migration] = migrations_for!("sqlite");
const POSTGRES: &[Migration] = migrations_for!("postgres");

/// Arbitrary constant naming Wharf's migration lock among PostgreSQL advisory locks.
const PG_MIGRATION_LOCK: i64 = 0x5748_4152_4621;

fn migrations(backend: Backend) -> &'static [Migration] {
    match backend {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    }
}

/// Takes the migration lock for the rest of the transaction.
async fn lock(tx: &mut Transaction<'static, Any>, backend: Backend) -> Result<(), sqlx::Error> {
    match backend {
        // Write first: on SQLite a transaction that reads and then writes
        // fails at once if another process wrote in between; one that writes
        // first waits on the busy timeout for the lock instead.
        Backend::Sqlite => {
            sqlx::query("DELETE FROM wharf_migrations WHERE version < 0")
                .execute(&mut **tx)
                .await?
        }
        Backend::Postgres => {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(PG_MIGRATION_LOCK)
                .execute(&mut **tx)
                .await?
        }
    };
    Ok(())
}

async fn ensure_table(db: &Database) -> Result<(), DbError> {
    let mut tx = db.pool.begin().await.map_err(DbError::from_sqlx)?;
    if db.backend == Backend::Postgres {
        // Concurrent CREATE TABLE IF NOT EXISTS can collide on PostgreSQL.
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(PG_MIGRATION_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(DbError::from_sqlx)?;
    }
    tx.execute(
        "CREATE TABLE IF NOT EXISTS wharf_migrations (
            version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .await
    .map_err(DbError::from_sqlx)?;
    tx.commit().await.map_err(DbError::from_sqlx)
}

pub(crate) async fn run(db: &Database) -> Result<usize, DbError> {
    let _guard = db.writer().await;
    ensure_table(db).await?;
    let mut applied = 0;
    for m in migrations(db.backend) {
        let fail = |e: sqlx::Error| DbError::Migration {
            version: m.version,
            name: m.name,
            reason: repo_error(e).to_string(),
        };
        let mut tx = db.pool.begin().await.map_err(DbError::from_sqlx)?;
        lock(&mut tx, db.backend).await.map_err(fail)?;
        let done: Option<(i64,)> =
            sqlx::query_as("SELECT version FROM wharf_migrations WHERE version = $1")
                .bind(m.version)
                .fetch_optional(&mut *tx)
                .await
                .map_err(fail)?;
        if done.is_some() {
            continue;
        }
        tx.execute(m.sql).await.map_err(fail)?;
        sqlx::query("INSERT INTO wharf_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
            .bind(m.version)
            .bind(m.name)
            .bind(Timestamp::now().micros())
            .execute(&mut *tx)
            .await
            .map_err(fail)?;
        tx.commit().await.map_err(fail)?;
        tracing::info!(version = m.version, name = m.name, "applied migration");
        applied += 1;
    }
    Ok(applied)
}

pub(crate) async fn pending(db: &Database) -> Result<usize, DbError> {
    let applied: Vec<(i64,)> = match sqlx::query_as("SELECT version FROM wharf_migrations")
        .fetch_all(&db.pool)
        .await
    {
        Ok(rows) => rows,
        // No table yet: nothing is applied.
        Err(sqlx::Error::Database(_)) => Vec::new(),
        Err(e) => return Err(DbError::from_sqlx(e)),
    };
    Ok(migrations(db.backend)
        .iter()
        .filter(|m| !applied.iter().any(|(v,)| *v == m.version))
        .count())
}
