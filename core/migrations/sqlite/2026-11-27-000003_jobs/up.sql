-- The durable job queue: side effects outside the database (mail, later webhooks) are
-- enqueued in the transaction of the change that causes them and run by the worker.
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    kind VARCHAR(32) NOT NULL,
    payload TEXT NOT NULL,
    state VARCHAR(16) NOT NULL,
    attempts INTEGER NOT NULL,
    run_at TIMESTAMP NOT NULL,
    locked_by VARCHAR(64) NULL,
    locked_at TIMESTAMP NULL,
    last_error TEXT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX jobs_ready ON jobs (state, run_at);
