-- MySQL/MariaDB dialect. Keep in step with migrations/sqlite (tests/api/schema.rs checks both).
CREATE TABLE users (
    id INT AUTO_INCREMENT PRIMARY KEY NOT NULL,
    username VARCHAR(30) NOT NULL,
    email VARCHAR(255) NOT NULL,
    display_name VARCHAR(100) NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    role VARCHAR(16) NOT NULL,
    created_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    UNIQUE KEY users_username (username),
    UNIQUE KEY users_email (email)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE posts (
    id INT AUTO_INCREMENT PRIMARY KEY NOT NULL,
    author_id INT NOT NULL,
    parent_id INT NULL,
    thread_id INT NOT NULL,
    title VARCHAR(255) NULL,
    body_md MEDIUMTEXT NOT NULL,
    body_html MEDIUMTEXT NOT NULL,
    created_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    edited_at DATETIME(6) NULL,
    deleted_at DATETIME(6) NULL,
    KEY posts_front (parent_id, deleted_at, id),
    KEY posts_thread (thread_id, id),
    KEY posts_author (author_id, id),
    CONSTRAINT posts_author_fk FOREIGN KEY (author_id) REFERENCES users (id),
    CONSTRAINT posts_parent_fk FOREIGN KEY (parent_id) REFERENCES posts (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE sessions (
    id VARCHAR(64) PRIMARY KEY NOT NULL,
    user_id INT NULL,
    state TEXT NOT NULL,
    expires_at DATETIME(6) NOT NULL,
    KEY sessions_user (user_id),
    KEY sessions_expires (expires_at),
    CONSTRAINT sessions_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE login_failures (
    id INT AUTO_INCREMENT PRIMARY KEY NOT NULL,
    login VARCHAR(255) NOT NULL,
    ip VARCHAR(64) NOT NULL,
    created_at DATETIME(6) NOT NULL,
    KEY login_failures_login (login, created_at),
    KEY login_failures_ip (ip, created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
