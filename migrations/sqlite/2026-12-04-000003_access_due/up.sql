-- The due-order lists of one organisation (issue 10): `overdue=true` or `sort=due` without `cpua=`
-- for a company, principal or CPUA read their own access rows in due order, one index range, instead
-- of every CPUA's reviews checked against the caller's access. `next_due_on` is the collaboration's
-- earliest undecided CPUA decision due date (NULL when none), kept by the access rebuild.
ALTER TABLE collaboration_access ADD COLUMN next_due_on DATE;
UPDATE collaboration_access SET next_due_on = (
    SELECT MIN(r.decision_due_on) FROM cpua_reviews r
     WHERE r.collaboration_id = collaboration_access.collaboration_id
);
CREATE INDEX collaboration_access_due ON collaboration_access (org_id, next_due_on, collaboration_id)
    WHERE next_due_on IS NOT NULL;
