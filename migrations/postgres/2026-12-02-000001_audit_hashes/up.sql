-- Audit events of schema version 2 store what the event changed (an RFC 6902 JSON patch), the hash
-- of the state it produced and the hashes of the files it stored, instead of two full snapshots.
-- Version-1 rows keep their before_state and after_state; the new columns stay NULL for them.
ALTER TABLE audit_events ADD COLUMN change_patch TEXT;
ALTER TABLE audit_events ADD COLUMN state_hash TEXT;
ALTER TABLE audit_events ADD COLUMN files TEXT;

-- Signed checkpoints of each stream's head (Ed25519), so a truncated or rewritten chain is found.
CREATE TABLE audit_checkpoints (
    id BIGSERIAL PRIMARY KEY,
    stream TEXT NOT NULL,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL,
    signed_at TIMESTAMP NOT NULL,
    key_id TEXT NOT NULL,
    signature TEXT NOT NULL
);
CREATE INDEX audit_checkpoints_by_stream ON audit_checkpoints (stream, seq);

CREATE FUNCTION audit_checkpoints_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_checkpoints is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_checkpoints_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit_checkpoints_append_only();
