-- Project search. One row per project: its display name and the summary of
-- its latest upload. FTS5 indexes it through an external-content table kept
-- in step by triggers, so the SQL that writes `project_search` is the same
-- on both backends. The tokenizer splits names on `-`, `_` and `.`, so each
-- word of a name is found; a whole name is matched exactly by the query.
CREATE TABLE project_search (
    project_id  INTEGER PRIMARY KEY REFERENCES projects(id),
    name        TEXT    NOT NULL,
    summary     TEXT    NOT NULL DEFAULT ''
);

CREATE VIRTUAL TABLE project_fts USING fts5(
    name, summary,
    content = 'project_search', content_rowid = 'project_id',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER project_search_ai AFTER INSERT ON project_search BEGIN
    INSERT INTO project_fts (rowid, name, summary) VALUES (new.project_id, new.name, new.summary);
END;
CREATE TRIGGER project_search_ad AFTER DELETE ON project_search BEGIN
    INSERT INTO project_fts (project_fts, rowid, name, summary) VALUES ('delete', old.project_id, old.name, old.summary);
END;
CREATE TRIGGER project_search_au AFTER UPDATE ON project_search BEGIN
    INSERT INTO project_fts (project_fts, rowid, name, summary) VALUES ('delete', old.project_id, old.name, old.summary);
    INSERT INTO project_fts (rowid, name, summary) VALUES (new.project_id, new.name, new.summary);
END;

-- Projects uploaded before search existed.
INSERT INTO project_search (project_id, name, summary)
SELECT p.id, p.name, COALESCE((SELECT r.summary FROM releases r WHERE r.project_id = p.id ORDER BY r.id DESC LIMIT 1), '')
FROM projects p;
