-- Agreement versions: immutable, each with its data snapshot, template and rulebook versions, and
-- the rendered files with their SHA-256.
CREATE TABLE agreement_versions (
    collaboration_id TEXT NOT NULL REFERENCES collaborations (id),
    number INTEGER NOT NULL,
    language TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL,
    template_version TEXT NOT NULL,
    rulebook_version TEXT NOT NULL,
    terms TEXT NOT NULL,
    data TEXT NOT NULL,
    document TEXT NOT NULL,
    docx BLOB NOT NULL,
    pdf BLOB NOT NULL,
    html BLOB NOT NULL,
    docx_sha256 TEXT NOT NULL,
    pdf_sha256 TEXT NOT NULL,
    html_sha256 TEXT NOT NULL,
    PRIMARY KEY (collaboration_id, number)
);

CREATE TRIGGER agreement_versions_no_update BEFORE UPDATE ON agreement_versions
BEGIN
    SELECT RAISE(ABORT, 'agreement_versions is append-only');
END;
CREATE TRIGGER agreement_versions_no_delete BEFORE DELETE ON agreement_versions
BEGIN
    SELECT RAISE(ABORT, 'agreement_versions is append-only');
END;
