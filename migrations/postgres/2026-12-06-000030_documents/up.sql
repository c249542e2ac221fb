-- Documents and attachments of a case (issue 16, item 1). A row says what was uploaded, by whom, its
-- SHA-256 and who may see it; the bytes live in the configured store under storage_key (in
-- document_blobs for the database store). A redacted document keeps its row with a tombstone (who,
-- when, why); its bytes are gone. The bytes are written before the row is committed, so a row never
-- points at nothing (an orphan file is possible, a row without bytes is not).
CREATE TABLE documents (
    id TEXT PRIMARY KEY NOT NULL,
    collaboration_id TEXT NOT NULL REFERENCES collaborations (id),
    -- research_plan | ethics_application | ethics_decision | variable_list |
    -- data_processing_agreement | linkage_decision | receipt | other
    doc_type TEXT NOT NULL,
    -- parties | internal (anything else is read as internal)
    visibility TEXT NOT NULL,
    file_name TEXT NOT NULL,
    -- read from the bytes, never from the client
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    storage_key TEXT NOT NULL UNIQUE,
    uploaded_by TEXT NOT NULL,
    uploaded_by_name TEXT NOT NULL,
    organisation_id TEXT NOT NULL,
    organisation_name TEXT NOT NULL,
    uploaded_at TIMESTAMP NOT NULL,
    redacted_at TIMESTAMP,
    redacted_by TEXT,
    redacted_by_name TEXT,
    redacted_by_organisation TEXT,
    redaction_reason TEXT
);
-- The case's documents in upload order.
CREATE INDEX documents_collaboration ON documents (collaboration_id, uploaded_at, id);

-- Which dossier item (dossier.<item>) or obligation (its code) a document satisfies.
CREATE TABLE document_links (
    document_id TEXT NOT NULL REFERENCES documents (id),
    item TEXT NOT NULL,
    linked_by TEXT NOT NULL,
    linked_at TIMESTAMP NOT NULL,
    PRIMARY KEY (document_id, item)
);

-- The database store's bytes, by storage key.
CREATE TABLE document_blobs (
    storage_key TEXT PRIMARY KEY NOT NULL,
    bytes BYTEA NOT NULL
);
