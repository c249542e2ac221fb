-- Back to rowid projection tables with their former indexes.
CREATE TABLE collaboration_access_old (
    org_id TEXT NOT NULL REFERENCES organisations (id),
    collaboration_id TEXT NOT NULL REFERENCES collaborations (id),
    created_at TIMESTAMP NOT NULL,
    is_company INTEGER NOT NULL DEFAULT 0,
    is_principal INTEGER NOT NULL DEFAULT 0,
    is_cpua INTEGER NOT NULL DEFAULT 0,
    next_due_on DATE,
    PRIMARY KEY (org_id, collaboration_id)
);
INSERT INTO collaboration_access_old SELECT org_id, collaboration_id, created_at, is_company,
    is_principal, is_cpua, next_due_on FROM collaboration_access;
DROP TABLE collaboration_access;
ALTER TABLE collaboration_access_old RENAME TO collaboration_access;
CREATE INDEX collaboration_access_list ON collaboration_access (org_id, created_at, collaboration_id);
CREATE INDEX collaboration_access_collaboration ON collaboration_access (collaboration_id);
CREATE INDEX collaboration_access_due ON collaboration_access (org_id, next_due_on, collaboration_id)
    WHERE next_due_on IS NOT NULL;

CREATE TABLE collaboration_registers_old (
    collaboration_id TEXT NOT NULL REFERENCES collaborations (id),
    register_id TEXT NOT NULL REFERENCES registers (id),
    created_at TIMESTAMP,
    PRIMARY KEY (collaboration_id, register_id)
);
INSERT INTO collaboration_registers_old SELECT collaboration_id, register_id, created_at
  FROM collaboration_registers;
DROP TABLE collaboration_registers;
ALTER TABLE collaboration_registers_old RENAME TO collaboration_registers;
CREATE INDEX collaboration_registers_register ON collaboration_registers (register_id);
CREATE INDEX collaboration_registers_list
    ON collaboration_registers (register_id, created_at, collaboration_id);

CREATE TABLE cpua_reviews_old (
    collaboration_id TEXT NOT NULL REFERENCES collaborations (id),
    cpua_id TEXT NOT NULL REFERENCES organisations (id),
    status TEXT NOT NULL,
    decision_due_on DATE,
    PRIMARY KEY (collaboration_id, cpua_id)
);
INSERT INTO cpua_reviews_old SELECT collaboration_id, cpua_id, status, decision_due_on FROM cpua_reviews;
DROP TABLE cpua_reviews;
ALTER TABLE cpua_reviews_old RENAME TO cpua_reviews;
CREATE INDEX cpua_reviews_cpua ON cpua_reviews (cpua_id);
CREATE INDEX cpua_reviews_due ON cpua_reviews (decision_due_on, collaboration_id)
    WHERE decision_due_on IS NOT NULL;
CREATE INDEX cpua_reviews_cpua_due ON cpua_reviews (cpua_id, decision_due_on, collaboration_id)
    WHERE decision_due_on IS NOT NULL;

CREATE TABLE deadlines_old (
    collaboration_id TEXT NOT NULL REFERENCES collaborations (id),
    code TEXT NOT NULL,
    track TEXT NOT NULL,
    due_on DATE NOT NULL,
    first_reminder_on DATE NOT NULL,
    closed_at TIMESTAMP,
    PRIMARY KEY (collaboration_id, code, track)
);
INSERT INTO deadlines_old SELECT collaboration_id, code, track, due_on, first_reminder_on, closed_at
  FROM deadlines;
DROP TABLE deadlines;
ALTER TABLE deadlines_old RENAME TO deadlines;
CREATE INDEX deadlines_open_reminder ON deadlines (first_reminder_on, collaboration_id)
    WHERE closed_at IS NULL;

CREATE INDEX collaborations_company ON collaborations (company_id);
CREATE INDEX collaborations_principal ON collaborations (principal_id);
