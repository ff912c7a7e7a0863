-- Single-use tokens sent by mail (password reset, invites). Only a SHA-256 of the token is
-- stored; the token itself exists only in the mail.
CREATE TABLE tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    kind VARCHAR(16) NOT NULL,
    token_hash VARCHAR(64) NOT NULL,
    user_id INTEGER NULL REFERENCES users (id) ON DELETE CASCADE,
    email VARCHAR(255) NOT NULL,
    created_by INTEGER NULL REFERENCES users (id) ON DELETE SET NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX tokens_hash ON tokens (token_hash);
CREATE INDEX tokens_user ON tokens (user_id, kind);
