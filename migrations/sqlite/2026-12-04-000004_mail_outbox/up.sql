-- Mail and deadlines (issue 13): each person's language and whether they want notices that are not
-- deadlines; the transactional outbox, written in the same transaction as the change it tells of.
ALTER TABLE accounts ADD COLUMN language TEXT NOT NULL DEFAULT 'sv';
ALTER TABLE accounts ADD COLUMN notices BOOLEAN NOT NULL DEFAULT 1;

CREATE TABLE outbox (
    id TEXT PRIMARY KEY NOT NULL,
    collaboration_id TEXT,
    -- the domain event or deadline it tells of, and the template it is written from
    event TEXT NOT NULL,
    -- notice | deadline
    kind TEXT NOT NULL,
    -- deadlines: deadline code, occurrence and recipient, so a reminder is written once
    dedup_key TEXT UNIQUE,
    recipient_account TEXT NOT NULL,
    recipient_name TEXT NOT NULL,
    recipient_org TEXT NOT NULL,
    recipient_role TEXT NOT NULL,
    -- NULL: the person has no e-mail address (status not_notified)
    recipient_email TEXT,
    language TEXT NOT NULL,
    -- the template's data as JSON: never a token or secret
    data TEXT NOT NULL,
    -- pending | sent | dead | not_notified | opted_out
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_until TIMESTAMP,
    lease_owner TEXT,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_collaboration ON outbox (collaboration_id, created_at);
