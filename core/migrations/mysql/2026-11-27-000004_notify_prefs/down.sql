ALTER TABLE users DROP COLUMN notify_reply_reply;
ALTER TABLE users DROP COLUMN notify_reply_post;
ALTER TABLE users DROP COLUMN notify_mention;
