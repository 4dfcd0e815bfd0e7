//! The database crate's error, and its mapping onto the port error.

use wharf_core::ports::RepoError;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(
        "unsupported database URL '{0}': use sqlite://PATH or postgres://USER:PASSWORD@HOST/DB"
    )]
    UnsupportedUrl(String),
    #[error("could not connect to the database at {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("migration {version} ({name}) failed: {reason}")]
    Migration {
        version: i64,
        name: &'static str,
        reason: String,
    },
    #[error(transparent)]
    Repo(#[from] RepoError),
}

impl DbError {
    pub(crate) fn from_sqlx(e: sqlx::Error) -> Self {
        Self::Repo(repo_error(e))
    }
}

/// Infrastructure failures become `Unavailable` (retryable, a 503 upstream of
/// here); everything else is an internal error with its cause kept.
pub(crate) fn repo_error(e: sqlx::Error) -> RepoError {
    match &e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => RepoError::Unavailable(e.to_string()),
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            RepoError::Conflict(db.message().to_owned())
        }
        sqlx::Error::Database(db) if db.message().contains("database is locked") => {
            RepoError::Unavailable(db.message().to_owned())
        }
        _ => RepoError::Internal(e.to_string()),
    }
}
