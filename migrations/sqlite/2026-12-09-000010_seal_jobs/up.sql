-- Issue 14: the executed agreement is sealed by a job, not in the last signer's transaction. The
-- completion writes a pending row here (one per completed envelope, keyed by the envelope's id) in
-- its own transaction; the seal worker claims it under a lease, seals outside any write
-- transaction, and stores the executed PDF in a short one.
CREATE TABLE signing_seal_jobs (
    -- the envelope's id
    id TEXT PRIMARY KEY NOT NULL,
    collaboration_id TEXT NOT NULL,
    -- pending | done | dead
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_until TIMESTAMP,
    lease_owner TEXT,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    done_at TIMESTAMP
);
CREATE INDEX signing_seal_jobs_due ON signing_seal_jobs (status, next_attempt_at);

-- The seal certificates this installation has sealed with (the configured one, and those it used
-- before a rotation), by the SHA-256 of their DER. The release guard verifies an executed PDF's seal
-- against the certificate recorded with it, which must be one of these.
CREATE TABLE signing_seal_certificates (
    sha256 TEXT PRIMARY KEY NOT NULL,
    certificate BLOB NOT NULL,
    organisation TEXT NOT NULL,
    first_used_at TIMESTAMP NOT NULL
);

ALTER TABLE signing_envelopes ADD COLUMN executed_seal_certificate TEXT;
