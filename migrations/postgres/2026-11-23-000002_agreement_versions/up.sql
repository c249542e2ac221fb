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
    docx BYTEA NOT NULL,
    pdf BYTEA NOT NULL,
    html BYTEA NOT NULL,
    docx_sha256 TEXT NOT NULL,
    pdf_sha256 TEXT NOT NULL,
    html_sha256 TEXT NOT NULL,
    PRIMARY KEY (collaboration_id, number)
);

CREATE FUNCTION agreement_versions_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'agreement_versions is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER agreement_versions_no_update BEFORE UPDATE OR DELETE ON agreement_versions
    FOR EACH ROW EXECUTE FUNCTION agreement_versions_append_only();
