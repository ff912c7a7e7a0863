-- SQLite dialect. Keep in step with migrations/mysql (tests/api/schema.rs checks both).
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    username VARCHAR(30) NOT NULL COLLATE NOCASE,
    email VARCHAR(255) NOT NULL COLLATE NOCASE,
    display_name VARCHAR(100) NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    role VARCHAR(16) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX users_username ON users (username);
CREATE UNIQUE INDEX users_email ON users (email);

CREATE TABLE posts (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    author_id INTEGER NOT NULL REFERENCES users (id),
    parent_id INTEGER NULL REFERENCES posts (id),
    thread_id INTEGER NOT NULL,
    title VARCHAR(255) NULL,
    body_md TEXT NOT NULL,
    body_html TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    edited_at TIMESTAMP NULL,
    deleted_at TIMESTAMP NULL
);
CREATE INDEX posts_front ON posts (parent_id, deleted_at, id);
CREATE INDEX posts_thread ON posts (thread_id, id);
CREATE INDEX posts_author ON posts (author_id, id);

CREATE TABLE sessions (
    id VARCHAR(64) PRIMARY KEY NOT NULL,
    user_id INTEGER NULL REFERENCES users (id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    login VARCHAR(255) NOT NULL COLLATE NOCASE,
    ip VARCHAR(64) NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX login_failures_login ON login_failures (login, created_at);
CREATE INDEX login_failures_ip ON login_failures (ip, created_at);
