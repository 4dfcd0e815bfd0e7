-- Project search: a tsvector over name and summary for words, and pg_trgm
-- on the name for near-misses and substrings. One row per project: its
-- display name and the summary of its latest upload.
-- pg_trgm is a trusted extension: the database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

CREATE TABLE project_search (
    project_id  BIGINT  PRIMARY KEY REFERENCES projects(id),
    name        TEXT    NOT NULL,
    summary     TEXT    NOT NULL DEFAULT '',
    document    tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', name), 'A') || setweight(to_tsvector('simple', summary), 'B')
    ) STORED
);
CREATE INDEX project_search_document ON project_search USING GIN (document);
CREATE INDEX project_search_name_trgm ON project_search USING GIN (lower(name) public.gin_trgm_ops);

INSERT INTO project_search (project_id, name, summary)
SELECT p.id, p.name, COALESCE((SELECT r.summary FROM releases r WHERE r.project_id = p.id ORDER BY r.id DESC LIMIT 1), '')
FROM projects p;
