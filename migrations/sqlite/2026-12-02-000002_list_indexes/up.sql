-- Lists are indexes (issue 10): every shipped list is one index range read in its order, paged by
-- keyset, so a page costs the same at 1 M collaborations as at 10 k.
--
-- Who may see a collaboration, as rows: one per organisation and collaboration, with the relations
-- that give the organisation sight of it (the rule of app::authz::can_see). A list for a company,
-- principal or CPUA reads this index in (org_id, created_at, collaboration_id) order instead of
-- OR-ing three relations over the whole table. Rebuilt for a collaboration whenever its projection
-- rows are written, and for every collaboration of a register when the register moves to another CPUA.
CREATE TABLE collaboration_access (
    org_id TEXT NOT NULL REFERENCES organisations (id),
    collaboration_id TEXT NOT NULL REFERENCES collaborations (id),
    created_at TIMESTAMP NOT NULL,
    is_company INTEGER NOT NULL DEFAULT 0,
    is_principal INTEGER NOT NULL DEFAULT 0,
    is_cpua INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, collaboration_id)
);
CREATE INDEX collaboration_access_list ON collaboration_access (org_id, created_at, collaboration_id);
CREATE INDEX collaboration_access_collaboration ON collaboration_access (collaboration_id);

-- The list by register, in creation order.
ALTER TABLE collaboration_registers ADD COLUMN created_at TIMESTAMP;
UPDATE collaboration_registers SET created_at =
    (SELECT c.created_at FROM collaborations c WHERE c.id = collaboration_registers.collaboration_id);
CREATE INDEX collaboration_registers_list
    ON collaboration_registers (register_id, created_at, collaboration_id);

-- The administrator's list, newest first, and the list by step.
CREATE INDEX collaborations_list ON collaborations (created_at, id);
DROP INDEX collaborations_step;
CREATE INDEX collaborations_step_list ON collaborations (step, created_at, id);

-- Work queues by decision due date (undecided reviews only carry one): all CPUAs, and one CPUA's.
CREATE INDEX cpua_reviews_due ON cpua_reviews (decision_due_on, collaboration_id)
    WHERE decision_due_on IS NOT NULL;
CREATE INDEX cpua_reviews_cpua_due ON cpua_reviews (cpua_id, decision_due_on, collaboration_id)
    WHERE decision_due_on IS NOT NULL;

-- Organisations in name order, all and by kind.
CREATE INDEX organisations_list ON organisations (name, id);
CREATE INDEX organisations_kind_list ON organisations (kind, name, id);

INSERT INTO collaboration_access (org_id, collaboration_id, created_at, is_company, is_principal, is_cpua)
SELECT org_id, collaboration_id, MAX(created_at), MAX(is_company), MAX(is_principal), MAX(is_cpua) FROM (
    SELECT c.company_id AS org_id, c.id AS collaboration_id, c.created_at AS created_at,
           1 AS is_company, 0 AS is_principal, 0 AS is_cpua
      FROM collaborations c
    UNION ALL
    SELECT c.principal_id, c.id, c.created_at, 0, 1, 0
      FROM collaborations c WHERE c.principal_id IS NOT NULL
    UNION ALL
    SELECT rc.cpua_id, c.id, c.created_at, 0, 0, 1
      FROM collaborations c
      JOIN collaboration_registers cr ON cr.collaboration_id = c.id
      JOIN register_cpua rc ON rc.register_id = cr.register_id AND rc.valid_to IS NULL
    UNION ALL
    SELECT r.cpua_id, c.id, c.created_at, 0, 0, 1
      FROM collaborations c JOIN cpua_reviews r ON r.collaboration_id = c.id
) x GROUP BY org_id, collaboration_id;

ANALYZE;
