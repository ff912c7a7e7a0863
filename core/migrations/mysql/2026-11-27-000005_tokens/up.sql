-- Single-use tokens sent by mail (password reset, invites). Only a SHA-256 of the token is
-- stored; the token itself exists only in the mail.
CREATE TABLE tokens (
    id INT AUTO_INCREMENT PRIMARY KEY NOT NULL,
    kind VARCHAR(16) NOT NULL,
    token_hash VARCHAR(64) NOT NULL,
    user_id INT NULL,
    email VARCHAR(255) NOT NULL,
    created_by INT NULL,
    expires_at DATETIME(6) NOT NULL,
    used_at DATETIME(6) NULL,
    created_at DATETIME(6) NOT NULL,
    UNIQUE KEY tokens_hash (token_hash),
    KEY tokens_user (user_id, kind),
    CONSTRAINT tokens_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT tokens_creator_fk FOREIGN KEY (created_by) REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
