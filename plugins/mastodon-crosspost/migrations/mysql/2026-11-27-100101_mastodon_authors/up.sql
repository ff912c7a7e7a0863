-- Members who want their new top-level posts cross-posted to the site's Mastodon account.
CREATE TABLE mastodon_authors (
    user_id INT PRIMARY KEY NOT NULL,
    created_at DATETIME(6) NOT NULL,
    CONSTRAINT mastodon_authors_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
