-- Issue 15, item 2: the receipt of an expense line. The bytes are a document of the case (type
-- `receipt`, internal to the CPUA) in the document store, with its SHA-256; this row says which line
-- it belongs to. One receipt per line; the row is never changed.
CREATE TABLE work_log_receipts (
    work_log_line_id TEXT PRIMARY KEY NOT NULL REFERENCES work_log_lines (id),
    document_id TEXT NOT NULL UNIQUE REFERENCES documents (id),
    attached_by TEXT NOT NULL,
    attached_at TIMESTAMP NOT NULL
);
