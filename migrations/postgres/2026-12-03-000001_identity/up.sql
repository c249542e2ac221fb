-- Identity (issue 11): a person (account) may hold several roles in several organisations
-- (memberships) and acts in one of them at a time; sign-in through an OpenID provider binds a person by
-- issuer and subject; sessions replace the bearer-token table and carry the active membership; company
-- systems use API keys; administrators invite people by e-mail.
CREATE TABLE memberships (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    role TEXT NOT NULL,
    -- seed | invitation | claims | admin
    source TEXT NOT NULL,
    granted_at TIMESTAMP NOT NULL,
    granted_by TEXT,
    revoked_at TIMESTAMP,
    revoked_by TEXT
);
-- the account's one role becomes its first membership, with the account's id as its own
INSERT INTO memberships (id, account_id, organisation_id, role, source, granted_at)
    SELECT id, id, organisation_id, role,
           CASE WHEN is_demo THEN 'seed' ELSE 'admin' END, created_at
    FROM accounts;
CREATE UNIQUE INDEX memberships_live ON memberships (account_id, organisation_id, role)
    WHERE revoked_at IS NULL;
CREATE INDEX memberships_by_org ON memberships (organisation_id, role);

DROP TABLE api_tokens;

ALTER TABLE accounts DROP COLUMN role;
ALTER TABLE accounts DROP COLUMN organisation_id;
ALTER TABLE accounts ADD COLUMN email_verified BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE accounts ADD COLUMN issuer TEXT;
ALTER TABLE accounts ADD COLUMN subject TEXT;
ALTER TABLE accounts ADD COLUMN last_login_at TIMESTAMP;
CREATE UNIQUE INDEX accounts_by_subject ON accounts (issuer, subject) WHERE issuer IS NOT NULL;
CREATE INDEX accounts_by_email ON accounts (email);

-- A session: a bearer token (API clients, local mode) or a browser cookie, stored as its SHA-256.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    -- the active role; NULL only while a person with no membership is told they are not invited
    membership_id TEXT REFERENCES memberships (id),
    -- bearer | cookie
    kind TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    -- absolute end
    expires_at TIMESTAMP NOT NULL,
    -- seconds without use after which a cookie session ends; NULL for bearer tokens
    idle_timeout_seconds BIGINT,
    -- SHA-256 of the CSRF token of a cookie session
    csrf_hash TEXT,
    provider TEXT,
    auth_time TIMESTAMP,
    acr TEXT,
    amr TEXT,
    id_token_hint TEXT,
    revoked_at TIMESTAMP
);
CREATE INDEX sessions_by_membership ON sessions (membership_id);
CREATE INDEX sessions_by_account ON sessions (account_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- API keys of company systems, stored as their SHA-256; shown once.
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    name TEXT NOT NULL,
    -- read | read_write
    scope TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES accounts (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    revoked_by TEXT,
    last_used_at TIMESTAMP
);
CREATE INDEX api_keys_by_org ON api_keys (organisation_id, created_at);

-- An invitation of a person, by e-mail, to a role in an organisation; bound at the first sign-in
-- with that verified e-mail.
CREATE TABLE invitations (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    role TEXT NOT NULL,
    invited_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    accepted_at TIMESTAMP,
    accepted_by TEXT REFERENCES accounts (id),
    revoked_at TIMESTAMP
);
CREATE INDEX invitations_by_email ON invitations (email);
CREATE INDEX invitations_by_org ON invitations (organisation_id, created_at);
