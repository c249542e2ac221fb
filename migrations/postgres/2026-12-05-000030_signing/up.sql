-- Signing (issue 14): one envelope per agreement version at a time, its signers, and the append-only
-- evidence of every signature. A version's envelope holds the version's digest (SHA-256 over the
-- stored file hashes); the executed PDF is written by the seal once every party has signed.
CREATE TABLE signing_envelopes (
    id TEXT PRIMARY KEY NOT NULL,
    collaboration_id TEXT NOT NULL REFERENCES collaborations (id),
    -- 1, 2, … per collaboration: the order envelopes were drawn in (times may tie on one clock)
    seq INTEGER NOT NULL,
    version INTEGER NOT NULL,
    digest TEXT NOT NULL,
    -- draft | sent | completed | declined | expired | voided
    status TEXT NOT NULL,
    -- default | parallel | sequence
    order_mode TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL,
    sent_at TIMESTAMP,
    completed_at TIMESTAMP,
    ended_at TIMESTAMP,
    -- superseded | signers_changed | declined | expired
    end_reason TEXT,
    decline_reason TEXT,
    reminders_sent INTEGER NOT NULL DEFAULT 0,
    executed_pdf BYTEA,
    executed_pdf_sha256 TEXT,
    UNIQUE (collaboration_id, seq),
    FOREIGN KEY (collaboration_id, version) REFERENCES agreement_versions (collaboration_id, number)
);
-- At most one open envelope per collaboration: a new one voids the old in the same transaction.
CREATE UNIQUE INDEX signing_envelopes_open ON signing_envelopes (collaboration_id)
    WHERE status IN ('draft', 'sent');
CREATE INDEX signing_envelopes_version ON signing_envelopes (collaboration_id, version, seq);
-- The scheduler's scan: sent envelopes by expiry.
CREATE INDEX signing_envelopes_due ON signing_envelopes (status, expires_at);

CREATE TABLE signing_signers (
    id TEXT PRIMARY KEY NOT NULL,
    envelope_id TEXT NOT NULL REFERENCES signing_envelopes (id),
    position INTEGER NOT NULL,
    -- research_principal | company | cpua
    party_role TEXT NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    organisation_name TEXT NOT NULL,
    capacity TEXT NOT NULL,
    turn_group INTEGER NOT NULL,
    -- pending | signed | declined
    status TEXT NOT NULL,
    signed_at TIMESTAMP,
    signed_by TEXT,
    UNIQUE (envelope_id, position)
);

CREATE TABLE signing_evidence (
    id TEXT PRIMARY KEY NOT NULL,
    envelope_id TEXT NOT NULL REFERENCES signing_envelopes (id),
    signer_id TEXT NOT NULL UNIQUE REFERENCES signing_signers (id),
    collaboration_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    -- builtin (the simple electronic signature); a provider's name later
    method TEXT NOT NULL,
    -- simple | advanced
    level TEXT NOT NULL,
    provider TEXT NOT NULL,
    subject TEXT NOT NULL,
    auth_time TIMESTAMP,
    acr TEXT,
    amr TEXT,
    account_id TEXT NOT NULL,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    organisation_id TEXT NOT NULL,
    organisation_name TEXT NOT NULL,
    capacity TEXT NOT NULL,
    typed_name TEXT NOT NULL,
    consent_version TEXT NOT NULL,
    consent_language TEXT NOT NULL,
    consent_sha256 TEXT NOT NULL,
    digest TEXT NOT NULL,
    server_time TIMESTAMP NOT NULL,
    client_ip TEXT,
    user_agent TEXT
);
CREATE INDEX signing_evidence_envelope ON signing_evidence (envelope_id);

CREATE FUNCTION signing_evidence_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'signing_evidence is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER signing_evidence_no_update BEFORE UPDATE OR DELETE ON signing_evidence
    FOR EACH ROW EXECUTE FUNCTION signing_evidence_append_only();
