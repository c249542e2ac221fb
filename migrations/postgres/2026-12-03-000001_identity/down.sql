DROP TABLE invitations;
DROP TABLE api_keys;
DROP TABLE sessions;
ALTER TABLE accounts DROP COLUMN last_login_at;
ALTER TABLE accounts DROP COLUMN subject;
ALTER TABLE accounts DROP COLUMN issuer;
ALTER TABLE accounts DROP COLUMN email_verified;
ALTER TABLE accounts ADD COLUMN role TEXT;
ALTER TABLE accounts ADD COLUMN organisation_id TEXT REFERENCES organisations (id);
UPDATE accounts a SET role = m.role, organisation_id = m.organisation_id
    FROM memberships m WHERE m.id = (
        SELECT id FROM memberships WHERE account_id = a.id ORDER BY granted_at LIMIT 1);
DELETE FROM accounts WHERE role IS NULL;
ALTER TABLE accounts ALTER COLUMN role SET NOT NULL;
ALTER TABLE accounts ALTER COLUMN organisation_id SET NOT NULL;
DROP TABLE memberships;
CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
