-- Legal core II: whether each register's patient information covers research (seed 000, "Vilka
-- registerdata går att använda för forskning?"; unknown means no), and written delegations of the release
-- decision (seed 000, "Menprövning av centralt personuppgiftsansvarig myndighet (CPUA)").
ALTER TABLE registers ADD COLUMN patient_information_covers_research BOOLEAN NOT NULL DEFAULT 0;

CREATE TABLE release_delegations (
    id TEXT PRIMARY KEY NOT NULL,
    register_id TEXT NOT NULL REFERENCES registers (id),
    cpua_id TEXT NOT NULL REFERENCES organisations (id),
    delegate_kind TEXT NOT NULL,
    delegate_account_id TEXT REFERENCES accounts (id),
    delegate_name TEXT,
    delegated_on DATE NOT NULL,
    reference TEXT NOT NULL,
    revoked_on DATE,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX release_delegations_by_register ON release_delegations (register_id);
