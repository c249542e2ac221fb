-- Signing providers (issue 14, "An external e-signature service"): every Standard Webhooks event a
-- provider delivered and samverkan acted on, keyed by the provider and its `webhook-id`. The key is
-- the idempotency key: a replay finds its row, answers 200 and changes nothing. Written in the same
-- transaction as the signature or decline the event drove, so a refused event leaves no row.
CREATE TABLE webhook_events (
    provider TEXT NOT NULL,
    event_id TEXT NOT NULL,
    -- signature.completed | signature.declined
    event_type TEXT NOT NULL,
    collaboration_id TEXT NOT NULL,
    agreement_version INTEGER NOT NULL,
    envelope_id TEXT NOT NULL,
    -- the envelope's status after the event
    outcome TEXT NOT NULL,
    -- SHA-256 of the body as received (the signed bytes)
    body_sha256 TEXT NOT NULL,
    -- `webhook-timestamp`, and when it was received by the server's clock
    sent_at TIMESTAMP NOT NULL,
    received_at TIMESTAMP NOT NULL,
    PRIMARY KEY (provider, event_id)
);
CREATE INDEX webhook_events_envelope ON webhook_events (envelope_id);
