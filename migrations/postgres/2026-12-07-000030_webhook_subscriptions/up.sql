-- Outbound events (issue 16, item 8): an organisation's subscriptions to event types, delivered as
-- Standard Webhooks; one delivery row per event and subscription, written in the command's own
-- transaction and sent by the webhook worker under a lease (like the mail outbox).
CREATE TABLE webhook_subscriptions (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    url TEXT NOT NULL,
    -- a JSON array of event type codes
    event_types TEXT NOT NULL,
    description TEXT NOT NULL,
    -- whsec_<base64>: kept as is, since it must sign; shown once, never listed
    secret TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    -- set by DELETE: no further deliveries; the log stays
    deleted_at TIMESTAMP
);
CREATE INDEX webhook_subscriptions_org ON webhook_subscriptions (organisation_id, deleted_at);

CREATE TABLE webhook_deliveries (
    -- the webhook-id header: the same on every attempt
    id TEXT PRIMARY KEY NOT NULL,
    subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions (id),
    -- one domain event, shared by the deliveries to every subscription
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    collaboration_id TEXT,
    -- the exact body sent (JSON)
    payload TEXT NOT NULL,
    -- pending | delivered | dead | cancelled
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_until TIMESTAMP,
    lease_owner TEXT,
    -- the HTTP status of the last attempt (none: no answer)
    last_status INTEGER,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    delivered_at TIMESTAMP
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries (subscription_id, created_at);
