-- Deployments of MCP servers, and their credentials encrypted with envelope
-- encryption (wharf-vault): only ciphertexts, wrapped data keys and the
-- master key's ID are stored, base64-encoded.
CREATE TABLE deployments (
    id              TEXT    PRIMARY KEY,
    owner_user_id   BIGINT  NOT NULL REFERENCES users(id),
    server_name     TEXT,
    server_version  TEXT,
    registry_type   TEXT    NOT NULL,
    identifier      TEXT    NOT NULL,
    version         TEXT    NOT NULL,
    plan            TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL
);
CREATE INDEX deployments_owner ON deployments(owner_user_id);

CREATE TABLE deployment_secrets (
    deployment_id  TEXT    NOT NULL REFERENCES deployments(id),
    name           TEXT    NOT NULL,
    key_id         TEXT    NOT NULL,
    wrapped_key    TEXT    NOT NULL,
    ciphertext     TEXT    NOT NULL,
    PRIMARY KEY (deployment_id, name)
);
-- Rotation walks the secrets not yet under the new key.
CREATE INDEX deployment_secrets_key ON deployment_secrets(key_id);
