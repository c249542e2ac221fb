-- Issue 12: the collaboration list's search uses the SQL function samverkan_fold, which the service
-- registers on every SQLite connection (src/db/conn.rs; SQLite's own lower folds ASCII only).
-- Nothing to store: this migration keeps the two databases' histories in step.
SELECT 1;
