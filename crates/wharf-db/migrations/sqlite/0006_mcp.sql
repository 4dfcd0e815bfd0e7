-- The MCP server catalog. A server name is owned by its first publisher;
-- each version is an immutable server.json document with a status.
CREATE TABLE mcp_servers (
    id             INTEGER PRIMARY KEY,
    name           TEXT    NOT NULL,
    name_lower     TEXT    NOT NULL UNIQUE,
    owner_user_id  BIGINT  NOT NULL REFERENCES users(id),
    created_at     BIGINT  NOT NULL,
    updated_at     BIGINT  NOT NULL
);

CREATE TABLE mcp_versions (
    id              INTEGER PRIMARY KEY,
    server_id       BIGINT  NOT NULL REFERENCES mcp_servers(id),
    version         TEXT    NOT NULL,
    document        TEXT    NOT NULL,
    checks          TEXT    NOT NULL DEFAULT '[]',
    status          TEXT    NOT NULL,
    status_message  TEXT,
    is_latest       BIGINT  NOT NULL DEFAULT 0,
    published_by    BIGINT  REFERENCES users(id),
    published_at    BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL,
    UNIQUE (server_id, version)
);
CREATE INDEX mcp_versions_updated ON mcp_versions(updated_at);

-- Co-publishers the owner added.
CREATE TABLE mcp_publishers (
    server_id  BIGINT  NOT NULL REFERENCES mcp_servers(id),
    user_id    BIGINT  NOT NULL REFERENCES users(id),
    added_at   BIGINT  NOT NULL,
    PRIMARY KEY (server_id, user_id)
);

-- Namespaces an administrator granted, as case-insensitive globs.
CREATE TABLE mcp_namespace_grants (
    id          INTEGER PRIMARY KEY,
    glob        TEXT    NOT NULL,
    glob_lower  TEXT    NOT NULL,
    user_id     BIGINT  NOT NULL REFERENCES users(id),
    created_at  BIGINT  NOT NULL,
    UNIQUE (glob_lower, user_id)
);

-- Search over the latest version's name, title and description.
CREATE TABLE mcp_search (
    server_id    INTEGER PRIMARY KEY REFERENCES mcp_servers(id),
    name         TEXT    NOT NULL,
    title        TEXT    NOT NULL DEFAULT '',
    description  TEXT    NOT NULL DEFAULT ''
);
CREATE VIRTUAL TABLE mcp_fts USING fts5(
    name, title, description,
    content = 'mcp_search', content_rowid = 'server_id',
    tokenize = 'unicode61 remove_diacritics 2 tokenchars ''_'''
);
CREATE TRIGGER mcp_search_ai AFTER INSERT ON mcp_search BEGIN
    INSERT INTO mcp_fts (rowid, name, title, description) VALUES (new.server_id, new.name, new.title, new.description);
END;
CREATE TRIGGER mcp_search_ad AFTER DELETE ON mcp_search BEGIN
    INSERT INTO mcp_fts (mcp_fts, rowid, name, title, description) VALUES ('delete', old.server_id, old.name, old.title, old.description);
END;
CREATE TRIGGER mcp_search_au AFTER UPDATE ON mcp_search BEGIN
    INSERT INTO mcp_fts (mcp_fts, rowid, name, title, description) VALUES ('delete', old.server_id, old.name, old.title, old.description);
    INSERT INTO mcp_fts (rowid, name, title, description) VALUES (new.server_id, new.name, new.title, new.description);
END;
