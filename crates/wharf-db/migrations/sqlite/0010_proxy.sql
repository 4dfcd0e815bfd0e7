-- The pull-through proxy. A project is hosted here ('local') or proxied
-- from the upstream index ('proxy'), for good: private names always win.
ALTER TABLE projects ADD COLUMN origin TEXT NOT NULL DEFAULT 'local';

-- Upstream project pages, shared by every instance: the page reduced to
-- what Wharf serves (JSON), or found = 0 for a name upstream does not have.
CREATE TABLE proxy_pages (
    ecosystem   TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    found       BIGINT  NOT NULL,
    etag        TEXT,
    body        TEXT    NOT NULL DEFAULT '',
    fetched_at  BIGINT  NOT NULL,
    PRIMARY KEY (ecosystem, name)
);

-- Rules changed at runtime (the configuration's own lists are not stored):
-- 'deny' a name or name==version, 'allow_only' a name, or 'admit' one
-- name==version before its release cooldown ends.
CREATE TABLE proxy_rules (
    id          INTEGER PRIMARY KEY,
    ecosystem   TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    spec        TEXT    NOT NULL,
    reason      TEXT    NOT NULL DEFAULT '',
    created_by  BIGINT  REFERENCES users(id),
    created_at  BIGINT  NOT NULL,
    UNIQUE (ecosystem, kind, spec)
);
