-- Issue 15, item 3: a draft is edited under optimistic concurrency; each edit raises the revision,
-- and a form based on an older revision is refused. An issued invoice never changes (triggers).
ALTER TABLE invoices ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
