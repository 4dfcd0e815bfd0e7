//! Helpers for tests that run against a real PostgreSQL: each test gets a
//! schema of its own, so tests run in parallel without seeing each other.

use crate::DbError;
use sqlx::{Connection, Executor};

/// The server tests use, from `WHARF_TEST_POSTGRES_URL` (set by
/// `scripts/test`, which starts PostgreSQL).
pub fn postgres_base_url() -> String {
    std::env::var("WHARF_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!(
            "this test needs PostgreSQL: run ./scripts/test (which starts it), \
             or set WHARF_TEST_POSTGRES_URL=postgres://USER:PASSWORD@HOST/DB"
        )
    })
}

/// Whether the suite should run on PostgreSQL (`WHARF_TEST_BACKEND=postgres`).
pub fn backend_is_postgres() -> bool {
    std::env::var("WHARF_TEST_BACKEND").is_ok_and(|b| b.eq_ignore_ascii_case("postgres"))
}

/// Creates an empty schema and returns a URL whose connections use it.
pub async fn fresh_postgres_schema(base_url: &str) -> Result<String, DbError> {
    sqlx::any::install_default_drivers();
    let schema = format!("t_{:016x}", rand_u64());
    let mut conn = sqlx::AnyConnection::connect(base_url)
        .await
        .map_err(|e| DbError::Connect {
            url: crate::redact_url(base_url),
            reason: e.to_string(),
        })?;
    conn.execute(format!("CREATE SCHEMA {schema}").as_str())
        .await
        .map_err(DbError::from_sqlx)?;
    let _ = conn.close().await;
    let separator = if base_url.contains('?') { '&' } else { '?' };
    // `public` stays on the path for extensions such as pg_trgm, which
    // live once per database.
    Ok(format!(
        "{base_url}{separator}options=-c%20search_path%3D{schema}%2Cpublic"
    ))
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    // RandomState is seeded per process from the OS; mixing in a counter
    // gives distinct names within one process too.
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    h.finish()
}
