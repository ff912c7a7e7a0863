CREATE TABLE mentions (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    post_id INTEGER NOT NULL REFERENCES posts (id),
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX mentions_post_user ON mentions (post_id, user_id);
CREATE INDEX mentions_user ON mentions (user_id, post_id);
