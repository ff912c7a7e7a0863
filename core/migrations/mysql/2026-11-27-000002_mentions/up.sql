CREATE TABLE mentions (
    id INT AUTO_INCREMENT PRIMARY KEY NOT NULL,
    post_id INT NOT NULL,
    user_id INT NOT NULL,
    created_at DATETIME(6) NOT NULL,
    UNIQUE KEY mentions_post_user (post_id, user_id),
    KEY mentions_user (user_id, post_id),
    CONSTRAINT mentions_post_fk FOREIGN KEY (post_id) REFERENCES posts (id),
    CONSTRAINT mentions_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
