-- Foundation: organisations, accounts, registers with CPUA history, collaborations and the audit trail.
CREATE TABLE organisations (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    org_number TEXT NOT NULL UNIQUE,
    vat_number TEXT,
    address TEXT,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE accounts (
    id TEXT PRIMARY KEY NOT NULL,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    email TEXT NOT NULL,
    role TEXT NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    is_demo BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);

CREATE TABLE registers (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    is_example BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE register_cpua (
    id BIGSERIAL PRIMARY KEY,
    register_id TEXT NOT NULL REFERENCES registers (id),
    cpua_id TEXT NOT NULL REFERENCES organisations (id),
    valid_from TIMESTAMP NOT NULL,
    valid_to TIMESTAMP
);
CREATE UNIQUE INDEX register_cpua_current ON register_cpua (register_id) WHERE valid_to IS NULL;
CREATE INDEX register_cpua_by_cpua ON register_cpua (cpua_id);

CREATE TABLE collaborations (
    id TEXT PRIMARY KEY NOT NULL,
    reference TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    step TEXT NOT NULL,
    company_id TEXT NOT NULL REFERENCES organisations (id),
    principal_id TEXT REFERENCES organisations (id),
    version BIGINT NOT NULL,
    state TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX collaborations_step ON collaborations (step);
CREATE INDEX collaborations_company ON collaborations (company_id);
CREATE INDEX collaborations_principal ON collaborations (principal_id);

CREATE TABLE collaboration_registers (
    collaboration_id TEXT NOT NULL REFERENCES collaborations (id),
    register_id TEXT NOT NULL REFERENCES registers (id),
    PRIMARY KEY (collaboration_id, register_id)
);
CREATE INDEX collaboration_registers_register ON collaboration_registers (register_id);

CREATE TABLE cpua_reviews (
    collaboration_id TEXT NOT NULL REFERENCES collaborations (id),
    cpua_id TEXT NOT NULL REFERENCES organisations (id),
    status TEXT NOT NULL,
    decision_due_on DATE,
    PRIMARY KEY (collaboration_id, cpua_id)
);
CREATE INDEX cpua_reviews_cpua ON cpua_reviews (cpua_id);

CREATE TABLE counters (
    name TEXT PRIMARY KEY NOT NULL,
    value BIGINT NOT NULL
);

CREATE TABLE audit_events (
    id BIGSERIAL PRIMARY KEY,
    stream TEXT NOT NULL,
    seq BIGINT NOT NULL,
    schema_version INTEGER NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    actor_account TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    actor_org TEXT,
    actor_role TEXT NOT NULL,
    command TEXT NOT NULL,
    visibility TEXT NOT NULL,
    before_state TEXT,
    after_state TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    UNIQUE (stream, seq)
);

-- The audit trail is append-only: the database refuses changes and deletions too.
CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
