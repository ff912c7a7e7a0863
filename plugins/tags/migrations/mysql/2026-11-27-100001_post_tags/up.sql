-- The tags plugin's index: which post or reply carries which #tag (lowercased).
-- MySQL/MariaDB dialect. Keep in step with migrations/sqlite. `tag` compares byte for byte
-- (utf8mb4_bin), as in SQLite: tags are stored lowercased, and `café` and `cafe` are two tags.
CREATE TABLE post_tags (
    post_id INT NOT NULL,
    tag VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    PRIMARY KEY (post_id, tag),
    KEY post_tags_tag (tag, post_id),
    CONSTRAINT post_tags_post_fk FOREIGN KEY (post_id) REFERENCES posts (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
