-- The latest verification report of each file, and the reviewer's decision.
-- Findings are a JSON array; the report is replaced by each rescan.
CREATE TABLE scan_reports (
    file_id        BIGINT  PRIMARY KEY REFERENCES files(id),
    verdict        TEXT    NOT NULL,
    rules_version  TEXT    NOT NULL,
    findings       TEXT    NOT NULL,
    scanned_at     BIGINT  NOT NULL,
    review         TEXT,
    review_reason  TEXT,
    reviewed_by    BIGINT  REFERENCES users(id),
    reviewed_at    BIGINT
);
-- The review queue reads files by status.
CREATE INDEX files_status ON files(status, id);
