//! A small migration runner: numbered SQL files per backend, each applied once
//! in its own transaction and recorded in `wharf_migrations`.

use crate::{error::repo_error, Backend, Database, DbError};
use sqlx::Executor;
use wharf_core::Timestamp;

struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
}

const SQLITE: &[Migration] = &[Migration {
    version: 1,
    name: "init",
    sql: include_str!("../migrations/sqlite/0001_init.sql"),
}];

pub(crate) async fn run(db: &Database) -> Result<usize, DbError> {
    let migrations = match db.backend {
        Backend::Sqlite => SQLITE,
    };
    let _guard = db.write_lock.lock().await;
    db.pool
        .execute(
            "CREATE TABLE IF NOT EXISTS wharf_migrations (
                version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
        )
        .await
        .map_err(DbError::from_sqlx)?;
    let mut applied = 0;
    for m in migrations {
        let mut tx = db.pool.begin().await.map_err(DbError::from_sqlx)?;
        // Write before reading: on SQLite a transaction that reads and then
        // writes fails at once if another process (a second `wharf serve`, an
        // admin command) wrote in between; one that writes first waits on
        // the busy timeout for the lock instead.
        sqlx::query("DELETE FROM wharf_migrations WHERE version < 0")
            .execute(&mut *tx)
            .await
            .map_err(DbError::from_sqlx)?;
        let done: Option<(i64,)> =
            sqlx::query_as("SELECT version FROM wharf_migrations WHERE version = $1")
                .bind(m.version)
                .fetch_optional(&mut *tx)
                .await
                .map_err(DbError::from_sqlx)?;
        if done.is_some() {
            continue;
        }
        let fail = |e: sqlx::Error| DbError::Migration {
            version: m.version,
            name: m.name,
            reason: repo_error(e).to_string(),
        };
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
