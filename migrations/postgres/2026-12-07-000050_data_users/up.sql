-- Named data users (issue 16 item 6): who in the project may access the personal data, seed 000,
-- "Menprövning av centralt personuppgiftsansvarig myndighet (CPUA)" (the dossier's fifth item). A row is
-- never deleted: removal and refusal are statuses, so the record of who had access stays.
CREATE TABLE data_users (
    id TEXT PRIMARY KEY NOT NULL,
    collaboration_id TEXT NOT NULL REFERENCES collaborations (id),
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    -- the person's part in the project, e.g. statistician
    project_role TEXT NOT NULL,
    -- active | pending_approval | refused | removed
    status TEXT NOT NULL,
    added_by TEXT NOT NULL,
    added_by_name TEXT NOT NULL,
    added_by_org TEXT NOT NULL,
    added_at TIMESTAMP NOT NULL,
    -- the CPUA's legal team on an addition after release
    decided_by TEXT,
    decided_by_name TEXT,
    decided_by_org TEXT,
    decided_at TIMESTAMP,
    refusal_reason TEXT,
    removed_by TEXT,
    removed_by_name TEXT,
    removed_at TIMESTAMP,
    removal_reason TEXT,
    -- the person's own confidentiality undertaking: who confirmed, when, and which text
    undertaking_account TEXT,
    undertaking_at TIMESTAMP,
    undertaking_version TEXT,
    undertaking_sha256 TEXT
);
CREATE INDEX data_users_case ON data_users (collaboration_id, added_at);
CREATE INDEX data_users_email ON data_users (email);
