DROP TABLE mastodon_authors;
