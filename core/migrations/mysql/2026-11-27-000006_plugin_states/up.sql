-- Which plugins an admin switched on or off (overrides POSTHASTE_PLUGINS; read by every node).
CREATE TABLE plugin_states (
    name VARCHAR(64) NOT NULL PRIMARY KEY,
    enabled BOOLEAN NOT NULL,
    updated_at DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
