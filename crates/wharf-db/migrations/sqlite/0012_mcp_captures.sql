-- What a catalog version's server exposed when Wharf connected to it as an
-- MCP client. Every capture is kept: a re-capture of the same version that
-- differs (versions are immutable, so this is a rug pull) is shown against
-- the one before it. state: 'captured', 'needs-credentials' or 'failed'.
CREATE TABLE mcp_captures (
    id           INTEGER PRIMARY KEY,
    version_id   BIGINT  NOT NULL REFERENCES mcp_versions(id),
    state        TEXT    NOT NULL,
    tools_hash   TEXT,
    tools        TEXT    NOT NULL DEFAULT '[]',
    prompts      TEXT    NOT NULL DEFAULT '[]',
    resources    TEXT    NOT NULL DEFAULT '[]',
    findings     TEXT    NOT NULL DEFAULT '[]',
    detail       TEXT,
    captured_at  BIGINT  NOT NULL
);
CREATE INDEX mcp_captures_version ON mcp_captures(version_id, id);

-- The tool names of each version's latest successful capture, to find two
-- servers of the catalog that expose the same name.
CREATE TABLE mcp_tool_names (
    version_id  BIGINT  NOT NULL REFERENCES mcp_versions(id),
    server_id   BIGINT  NOT NULL REFERENCES mcp_servers(id),
    name        TEXT    NOT NULL,
    PRIMARY KEY (version_id, name)
);
CREATE INDEX mcp_tool_names_name ON mcp_tool_names(name);

-- The tool hash of the capture a deployment was created with; its plan
-- warns when the current capture differs.
ALTER TABLE deployments ADD COLUMN tools_hash TEXT;

-- The latest capture of each version, copied onto it so that every entry
-- shows it without another query: its state and, from the latest successful
-- one, the tool hash, the tool names (a JSON array) and when.
ALTER TABLE mcp_versions ADD COLUMN tools_state TEXT;
ALTER TABLE mcp_versions ADD COLUMN tools_hash TEXT;
ALTER TABLE mcp_versions ADD COLUMN tool_names TEXT;
ALTER TABLE mcp_versions ADD COLUMN tools_captured_at BIGINT;
