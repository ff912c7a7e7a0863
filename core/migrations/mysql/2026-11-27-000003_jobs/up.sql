-- The durable job queue: side effects outside the database (mail, later webhooks) are
-- enqueued in the transaction of the change that causes them and run by the worker.
CREATE TABLE jobs (
    id INT AUTO_INCREMENT PRIMARY KEY NOT NULL,
    kind VARCHAR(32) NOT NULL,
    payload TEXT NOT NULL,
    state VARCHAR(16) NOT NULL,
    attempts INT NOT NULL,
    run_at DATETIME(6) NOT NULL,
    locked_by VARCHAR(64) NULL,
    locked_at DATETIME(6) NULL,
    last_error TEXT NULL,
    created_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    KEY jobs_ready (state, run_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
