PRAGMA defer_foreign_keys = ON;
DROP TABLE invitations;
DROP TABLE api_keys;
DROP TABLE sessions;
CREATE TABLE accounts_old (
    id TEXT PRIMARY KEY NOT NULL,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    email TEXT NOT NULL,
    role TEXT NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    is_demo BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO accounts_old
    SELECT a.id, a.username, a.display_name, a.email, m.role, m.organisation_id, a.is_demo, a.created_at
    FROM accounts a JOIN memberships m ON m.id = (
        SELECT id FROM memberships WHERE account_id = a.id ORDER BY granted_at LIMIT 1);
DROP TABLE memberships;
DROP TABLE accounts;
ALTER TABLE accounts_old RENAME TO accounts;
CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
