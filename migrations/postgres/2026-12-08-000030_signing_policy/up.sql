-- Signing policy (issue 14): the expiry a CPUA sets for the envelopes it is a party to (default 30
-- days, the global signing.expiry_days), and each party's rule of an envelope: 'all' (its listed
-- signatories sign jointly) or 'any' (one of several: the first to sign satisfies the party).
CREATE TABLE signing_policies (
    organisation_id TEXT PRIMARY KEY NOT NULL REFERENCES organisations (id),
    expiry_days INTEGER NOT NULL CHECK (expiry_days BETWEEN 1 AND 365),
    updated_at TIMESTAMP NOT NULL,
    updated_by TEXT NOT NULL
);

CREATE TABLE signing_party_rules (
    envelope_id TEXT NOT NULL REFERENCES signing_envelopes (id),
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    -- all | any
    rule TEXT NOT NULL CHECK (rule IN ('all', 'any')),
    PRIMARY KEY (envelope_id, organisation_id)
);
