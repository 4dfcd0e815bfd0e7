-- Times are microseconds since the Unix epoch (BIGINT), and booleans are
-- BIGINT 0/1, so the same SQL and the same bindings work on both backends.
CREATE TABLE users (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    name_lower  TEXT    NOT NULL UNIQUE,
    is_admin    BIGINT  NOT NULL DEFAULT 0,
    created_at  BIGINT  NOT NULL
);

CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY,
    user_id       BIGINT  NOT NULL REFERENCES users(id),
    name          TEXT    NOT NULL,
    token_hash    TEXT    NOT NULL UNIQUE,
    scopes        TEXT    NOT NULL,
    projects      TEXT    NOT NULL DEFAULT '',
    created_at    BIGINT  NOT NULL,
    expires_at    BIGINT,
    last_used_at  BIGINT,
    revoked_at    BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

CREATE TABLE projects (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    normalized  TEXT    NOT NULL UNIQUE,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);

CREATE TABLE project_roles (
    project_id  BIGINT  NOT NULL REFERENCES projects(id),
    user_id     BIGINT  NOT NULL REFERENCES users(id),
    role        TEXT    NOT NULL,
    PRIMARY KEY (project_id, user_id)
);

CREATE TABLE releases (
    id               INTEGER PRIMARY KEY,
    project_id       BIGINT  NOT NULL REFERENCES projects(id),
    version          TEXT    NOT NULL,
    summary          TEXT,
    is_yanked        BIGINT  NOT NULL DEFAULT 0,
    yank_reason      TEXT,
    created_at       BIGINT  NOT NULL,
    UNIQUE (project_id, version)
);

-- File rows are never deleted: a filename, once used, stays taken.
CREATE TABLE files (
    id               INTEGER PRIMARY KEY,
    project_id       BIGINT  NOT NULL REFERENCES projects(id),
    release_id       BIGINT  NOT NULL REFERENCES releases(id),
    filename         TEXT    NOT NULL UNIQUE,
    kind             TEXT    NOT NULL,
    python_tag       TEXT    NOT NULL,
    size             BIGINT  NOT NULL,
    sha256           TEXT    NOT NULL,
    blake2_256       TEXT    NOT NULL,
    md5              TEXT    NOT NULL,
    requires_python  TEXT,
    metadata_sha256  TEXT,
    status           TEXT    NOT NULL,
    uploaded_at      BIGINT  NOT NULL,
    uploader_id      BIGINT  NOT NULL REFERENCES users(id),
    token_id         BIGINT
);
CREATE INDEX files_project ON files(project_id);

CREATE TABLE audit_events (
    id              INTEGER PRIMARY KEY,
    at              BIGINT  NOT NULL,
    actor_user_id   BIGINT,
    actor_token_id  BIGINT,
    action          TEXT    NOT NULL,
    target          TEXT    NOT NULL,
    detail          TEXT    NOT NULL DEFAULT '{}',
    ip_hash         TEXT
);
CREATE INDEX audit_events_at ON audit_events(at);
