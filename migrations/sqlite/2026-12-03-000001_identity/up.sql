-- Identity (issue 11): a person (account) may hold several roles in several organisations
-- (memberships) and acts in one of them at a time; sign-in through an OpenID provider binds a person by
-- issuer and subject; sessions replace the bearer-token table and carry the active membership; company
-- systems use API keys; administrators invite people by e-mail.
--
-- SQLite cannot drop the role and organisation columns of accounts in place (organisation_id is a
-- foreign key), so the table is rebuilt under its own name; foreign keys are checked at commit, when
-- every row that refers to an account finds it in the rebuilt table again.
PRAGMA defer_foreign_keys = ON;

CREATE TABLE memberships (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    role TEXT NOT NULL,
    -- seed | invitation | claims | admin
    source TEXT NOT NULL,
    granted_at TIMESTAMP NOT NULL,
    granted_by TEXT,
    revoked_at TIMESTAMP,
    revoked_by TEXT
);
INSERT INTO memberships (id, account_id, organisation_id, role, source, granted_at)
    -- the account's one role becomes its first membership, with the account's id as its own
    SELECT id, id, organisation_id, role,
           CASE WHEN is_demo THEN 'seed' ELSE 'admin' END, created_at
    FROM accounts;

CREATE TABLE people_copy AS
    SELECT id, username, display_name, email, is_demo, created_at FROM accounts;

DROP TABLE api_tokens;
DROP TABLE accounts;
CREATE TABLE accounts (
    id TEXT PRIMARY KEY NOT NULL,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    email TEXT NOT NULL,
    email_verified BOOLEAN NOT NULL DEFAULT 0,
    issuer TEXT,
    subject TEXT,
    is_demo BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    last_login_at TIMESTAMP
);
-- Inserted after the new table exists, so each row resolves the references the drop left pending.
INSERT INTO accounts (id, username, display_name, email, is_demo, created_at)
    SELECT id, username, display_name, email, is_demo, created_at FROM people_copy;
DROP TABLE people_copy;
CREATE UNIQUE INDEX accounts_by_subject ON accounts (issuer, subject) WHERE issuer IS NOT NULL;
CREATE INDEX accounts_by_email ON accounts (email);

-- memberships.account_id gets its foreign key now that accounts is the rebuilt table.
CREATE TABLE memberships_new (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    role TEXT NOT NULL,
    source TEXT NOT NULL,
    granted_at TIMESTAMP NOT NULL,
    granted_by TEXT,
    revoked_at TIMESTAMP,
    revoked_by TEXT
);
INSERT INTO memberships_new SELECT * FROM memberships;
DROP TABLE memberships;
ALTER TABLE memberships_new RENAME TO memberships;
CREATE UNIQUE INDEX memberships_live ON memberships (account_id, organisation_id, role)
    WHERE revoked_at IS NULL;
CREATE INDEX memberships_by_org ON memberships (organisation_id, role);

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
