//! Wharf's repositories over SQL. One [`Database`] implements every repository
//! trait of `wharf_core::ports`, through sqlx's `Any` driver, so portable SQL is
//! written once; only migrations (and, later, search, upserts and locking) fork
//! per backend.

mod audit;
mod deployments;
mod devices;
mod error;
mod files;
mod jobs;
mod mcp;
mod migrate;
mod npm;
mod projects;
pub mod proxy;
mod rows;
mod search;
mod sessions;
pub mod testing;
mod tokens;
mod users;
mod verification;

pub use error::DbError;

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

/// Which SQL engine is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A connection pool plus what the backend needs to be used safely.
#[derive(Clone)]
pub struct Database {
    pool: AnyPool,
    backend: Backend,
    /// SQLite has one writer. Serializing this process's write transactions
    /// avoids the immediate SQLITE_BUSY that a read-then-write transaction
    /// gets when another one committed first; other processes (the admin CLI)
    /// wait on SQLite's busy timeout instead.
    write_lock: Arc<Mutex<()>>,
}

impl Database {
    /// Opens (creating if needed) the SQLite database at `path`, in WAL mode.
    /// Opens (creating if needed) the embedded database. The file is created
    /// owner-only, like the secrets beside it; SQLite gives its `-wal` and
    /// `-shm` files the database file's mode.
    pub async fn open_sqlite(path: &Path) -> Result<Self, DbError> {
        restrict_to_owner(path).map_err(|e| DbError::Connect {
            url: path.display().to_string(),
            reason: format!("cannot create it owner-only (mode 0600): {e}"),
        })?;
        let url = format!("sqlite://{}?mode=rwc", path.display());
        Self::connect(&url).await
    }

    /// Connects to a database URL: `sqlite://PATH` or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(DbError::UnsupportedUrl(redact_url(url)));
        };
        let options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(5));
        let options = match backend {
            Backend::Sqlite => options.max_connections(8).after_connect(|conn, _meta| {
                Box::pin(async move { prepare_sqlite_connection(conn).await })
            }),
            // Several instances share one server: keep each pool modest, and
            // let connections that died with an outage be replaced.
            Backend::Postgres => options.max_connections(16).test_before_acquire(true),
        };
        let pool = options.connect(url).await.map_err(|e| DbError::Connect {
            url: redact_url(url),
            reason: e.to_string(),
        })?;
        Ok(Self {
            pool,
            backend,
            write_lock: Arc::new(Mutex::new(())),
        })
    }

    /// Serializes this process's writes on SQLite (see `write_lock`); on
    /// PostgreSQL the server handles concurrent writers itself.
    pub(crate) async fn writer(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match self.backend {
            Backend::Sqlite => Some(self.write_lock.lock().await),
            Backend::Postgres => None,
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies every migration not applied yet.
    pub async fn migrate(&self) -> Result<usize, DbError> {
        migrate::run(self).await
    }

    /// How many migrations this binary knows that the database lacks.
    pub async fn pending_migrations(&self) -> Result<usize, DbError> {
        migrate::pending(self).await
    }

    /// A trivial query, for `/readyz`.
    pub async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(DbError::from_sqlx)?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Per-connection SQLite settings. WAL lets readers run beside the writer;
/// NORMAL sync is durable across application crashes, which the upload
/// path's crash-safety relies on.
async fn prepare_sqlite_connection(conn: &mut sqlx::AnyConnection) -> Result<(), sqlx::Error> {
    conn.execute("PRAGMA busy_timeout=10000; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")
        .await?;
    // WAL mode is persistent, so only a new database needs switching; the
    // switch needs exclusive access, which a second process starting at the
    // same moment can briefly deny.
    for attempt in 0..50 {
        let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
            .fetch_one(&mut *conn)
            .await?;
        if mode.eq_ignore_ascii_case("wal") {
            return Ok(());
        }
        match conn.execute("PRAGMA journal_mode=WAL").await {
            Ok(_) => {}
            Err(e) if attempt < 49 && e.to_string().contains("locked") => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Hides a password in a database URL before it reaches a message or a log.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let creds = &url[scheme_end + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}://{}:***@{}", &url[..scheme_end], user, &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests;

/// Creates the database file with mode 0600 if it is missing, and takes
/// group and other access away from it and its `-wal` and `-shm` files if
/// an earlier version left them readable.
#[cfg(unix)]
fn restrict_to_owner(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)?;
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        match std::fs::metadata(&file) {
            Ok(meta) if meta.permissions().mode() & 0o077 != 0 => {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn restrict_to_owner(_path: &Path) -> std::io::Result<()> {
    Ok(())
}
