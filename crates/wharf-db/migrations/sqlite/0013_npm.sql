-- npm packages hosted here. A package is a project row of ecosystem 'npm',
-- keyed 'npm:<name>' in projects.normalized (PyPI's normalized names never
-- hold ':'), so its tarballs are file rows like any other: one status, one
-- report, one review queue.
ALTER TABLE projects ADD COLUMN ecosystem TEXT NOT NULL DEFAULT 'pypi';

-- One row per published version, kept after an unpublish so the number is
-- never reused. The manifest is the version document as published, without
-- its dist block, which is rebuilt from the file row and these hashes.
CREATE TABLE npm_versions (
    id          INTEGER PRIMARY KEY,
    project_id      BIGINT  NOT NULL REFERENCES projects(id),
    version         TEXT    NOT NULL,
    file_id         BIGINT  NOT NULL REFERENCES files(id),
    manifest        TEXT    NOT NULL,
    integrity       TEXT    NOT NULL,
    shasum          TEXT    NOT NULL,
    deprecated      TEXT,
    published_at    BIGINT  NOT NULL,
    unpublished_at  BIGINT,
    UNIQUE (project_id, version)
);

-- What each version depends on (every kind of dependency), so an unpublish
-- can tell whether another hosted package needs the one it removes.
CREATE TABLE npm_dependencies (
    version_id  BIGINT  NOT NULL REFERENCES npm_versions(id),
    name        TEXT    NOT NULL,
    PRIMARY KEY (version_id, name)
);
CREATE INDEX npm_dependencies_name ON npm_dependencies(name);

CREATE TABLE npm_dist_tags (
    project_id  BIGINT  NOT NULL REFERENCES projects(id),
    tag         TEXT    NOT NULL,
    version     TEXT    NOT NULL,
    PRIMARY KEY (project_id, tag)
);
