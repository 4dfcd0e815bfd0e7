-- Web login and device login (security.md, "Identity and tokens").
-- Passwords are argon2id PHC strings; a user without one cannot log in on the web.
ALTER TABLE users ADD COLUMN password_hash TEXT;

-- Only the SHA-256 of a session ID is stored, like API tokens: a leaked
-- database does not hand out live sessions.
CREATE TABLE sessions (
    id_hash     TEXT    PRIMARY KEY,
    user_id     BIGINT  NOT NULL REFERENCES users(id),
    csrf_token  TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    expires_at  BIGINT  NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expiry ON sessions(expires_at);

-- RFC 8628 device authorization requests. The device code is stored hashed;
-- the user code is stored normalized (8 letters, no dash). The token is
-- minted only when the device redeems an approved code, so no plaintext
-- token is ever stored here.
CREATE TABLE device_codes (
    id                INTEGER PRIMARY KEY,
    device_code_hash  TEXT    NOT NULL UNIQUE,
    user_code         TEXT    NOT NULL UNIQUE,
    scopes            TEXT    NOT NULL,
    status            TEXT    NOT NULL,
    interval_secs     BIGINT  NOT NULL,
    created_at        BIGINT  NOT NULL,
    expires_at        BIGINT  NOT NULL,
    last_polled_at    BIGINT,
    user_id           BIGINT  REFERENCES users(id),
    token_id          BIGINT
);
CREATE INDEX device_codes_expiry ON device_codes(status, expires_at);
