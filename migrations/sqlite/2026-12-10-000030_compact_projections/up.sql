-- Storage per collaboration (issue 10): the projection tables are keyed once, and indexes that no
-- query reads are gone (tests/query_plans.rs shows every shipped list's plan without them).
--
-- Dropped, because no statement reads them: `collaborations_company` and `collaborations_principal`
-- (lists find a party's collaborations through `collaboration_access`), `collaboration_registers_register`
-- (`collaboration_registers_list` starts with the register) and `cpua_reviews_cpua` (a CPUA's
-- reviews are read through `cpua_reviews_cpua_due`, and access rows through `collaboration_access`).
DROP INDEX collaborations_company;
DROP INDEX collaborations_principal;

-- The projections become WITHOUT ROWID tables: the table is its primary key's B-tree, instead of a
-- rowid table beside a second B-tree of the same key. `collaboration_access` is keyed by
-- collaboration first, which is how its rebuild deletes, so its separate collaboration index goes.
CREATE TABLE collaboration_access_new (
    org_id TEXT NOT NULL REFERENCES organisations (id),
    collaboration_id TEXT NOT NULL REFERENCES collaborations (id),
    created_at TIMESTAMP NOT NULL,
    is_company INTEGER NOT NULL DEFAULT 0,
    is_principal INTEGER NOT NULL DEFAULT 0,
    is_cpua INTEGER NOT NULL DEFAULT 0,
    next_due_on DATE,
    PRIMARY KEY (collaboration_id, org_id)
) WITHOUT ROWID;
INSERT INTO collaboration_access_new
    (org_id, collaboration_id, created_at, is_company, is_principal, is_cpua, next_due_on)
SELECT org_id, collaboration_id, created_at, is_company, is_principal, is_cpua, next_due_on
  FROM collaboration_access;
DROP TABLE collaboration_access;
ALTER TABLE collaboration_access_new RENAME TO collaboration_access;
CREATE INDEX collaboration_access_list ON collaboration_access (org_id, created_at, collaboration_id);
CREATE INDEX collaboration_access_due ON collaboration_access (org_id, next_due_on, collaboration_id)
    WHERE next_due_on IS NOT NULL;

CREATE TABLE collaboration_registers_new (
    collaboration_id TEXT NOT NULL REFERENCES collaborations (id),
    register_id TEXT NOT NULL REFERENCES registers (id),
    created_at TIMESTAMP,
    PRIMARY KEY (collaboration_id, register_id)
) WITHOUT ROWID;
INSERT INTO collaboration_registers_new (collaboration_id, register_id, created_at)
SELECT collaboration_id, register_id, created_at FROM collaboration_registers;
DROP TABLE collaboration_registers;
ALTER TABLE collaboration_registers_new RENAME TO collaboration_registers;
CREATE INDEX collaboration_registers_list
    ON collaboration_registers (register_id, created_at, collaboration_id);

CREATE TABLE cpua_reviews_new (
    collaboration_id TEXT NOT NULL REFERENCES collaborations (id),
    cpua_id TEXT NOT NULL REFERENCES organisations (id),
    status TEXT NOT NULL,
    decision_due_on DATE,
    PRIMARY KEY (collaboration_id, cpua_id)
) WITHOUT ROWID;
INSERT INTO cpua_reviews_new (collaboration_id, cpua_id, status, decision_due_on)
SELECT collaboration_id, cpua_id, status, decision_due_on FROM cpua_reviews;
DROP TABLE cpua_reviews;
ALTER TABLE cpua_reviews_new RENAME TO cpua_reviews;
CREATE INDEX cpua_reviews_due ON cpua_reviews (decision_due_on, collaboration_id)
    WHERE decision_due_on IS NOT NULL;
CREATE INDEX cpua_reviews_cpua_due ON cpua_reviews (cpua_id, decision_due_on, collaboration_id)
    WHERE decision_due_on IS NOT NULL;

CREATE TABLE deadlines_new (
    collaboration_id TEXT NOT NULL REFERENCES collaborations (id),
    -- release_decision | key_file_deletion | usage_period_end | disposal_confirmation
    code TEXT NOT NULL,
    track TEXT NOT NULL,
    due_on DATE NOT NULL,
    first_reminder_on DATE NOT NULL,
    closed_at TIMESTAMP,
    PRIMARY KEY (collaboration_id, code, track)
) WITHOUT ROWID;
INSERT INTO deadlines_new (collaboration_id, code, track, due_on, first_reminder_on, closed_at)
SELECT collaboration_id, code, track, due_on, first_reminder_on, closed_at FROM deadlines;
DROP TABLE deadlines;
ALTER TABLE deadlines_new RENAME TO deadlines;
CREATE INDEX deadlines_open_reminder ON deadlines (first_reminder_on, collaboration_id)
    WHERE closed_at IS NULL;

ANALYZE;
