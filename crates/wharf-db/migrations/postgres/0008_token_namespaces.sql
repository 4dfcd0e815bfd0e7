-- MCP server-name globs an API token is restricted to, comma-separated,
-- beside its project restriction. Existing tokens stay as they were.
ALTER TABLE api_tokens ADD COLUMN namespaces TEXT NOT NULL DEFAULT '';
