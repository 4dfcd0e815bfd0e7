-- Servers mirrored from upstream registries ([[mcp.upstreams]]) live beside
-- the ones published here, in the same tables, so one API and one search
-- serve both. A server is 'local' or mirrored from one named upstream, for
-- good: an upstream entry never replaces a local name. Mirrored servers are
-- owned by the proxy's '(upstream)' user.
ALTER TABLE mcp_servers ADD COLUMN origin TEXT NOT NULL DEFAULT 'local';

-- A version that is not served (NULL: served). 'checks': a check failed;
-- 'unverified': a check could not run (retried at the next sync);
-- 'cooldown': younger than the upstream's min_release_age; 'admin': an
-- administrator held it. `report` is the JSON array of problems found.
ALTER TABLE mcp_versions ADD COLUMN hold TEXT;
ALTER TABLE mcp_versions ADD COLUMN report TEXT NOT NULL DEFAULT '[]';
-- An administrator released the version: checks do not hold it again.
ALTER TABLE mcp_versions ADD COLUMN released_by BIGINT REFERENCES users(id);
ALTER TABLE mcp_versions ADD COLUMN upstream_published_at BIGINT;
-- Versions are immutable: when upstream serves another document under a
-- mirrored version, the first copy is kept, and the SHA-256 of the other
-- document and when it was first seen are recorded.
ALTER TABLE mcp_versions ADD COLUMN conflict_sha256 TEXT;
ALTER TABLE mcp_versions ADD COLUMN conflict_at BIGINT;
-- Partial: held versions are few, and a full index on `hold` would draw
-- every `hold IS NULL` query (most of them) into scanning it.
CREATE INDEX mcp_versions_held ON mcp_versions(hold) WHERE hold IS NOT NULL;

-- One row per upstream: the high-water mark (the upstream updatedAt up to
-- which everything is synced, as upstream spelled it), the run in progress
-- (its updated_since, the cursor to resume at, the newest updatedAt it saw,
-- when it started) and the lease that keeps one sync per upstream at a time.
CREATE TABLE mcp_sync_state (
    upstream         TEXT    NOT NULL PRIMARY KEY,
    high_water       TEXT,
    run_since        TEXT,
    run_cursor       TEXT,
    run_max          TEXT,
    run_started_at   BIGINT,
    lease_holder     TEXT,
    lease_until      BIGINT  NOT NULL DEFAULT 0,
    last_success_at  BIGINT,
    last_error       TEXT,
    updated_at       BIGINT  NOT NULL
);
