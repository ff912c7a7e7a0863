-- Per-member email preferences, one per kind of notification.
ALTER TABLE users ADD COLUMN notify_mention BOOLEAN NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN notify_reply_post BOOLEAN NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN notify_reply_reply BOOLEAN NOT NULL DEFAULT 1;
