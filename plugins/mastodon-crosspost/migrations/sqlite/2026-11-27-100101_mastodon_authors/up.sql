-- Members who want their new top-level posts cross-posted to the site's Mastodon account.
CREATE TABLE mastodon_authors (
    user_id INTEGER PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL
);
