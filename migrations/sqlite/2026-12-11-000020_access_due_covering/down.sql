DROP INDEX collaboration_access_due;
CREATE INDEX collaboration_access_due ON collaboration_access (org_id, next_due_on, collaboration_id)
    WHERE next_due_on IS NOT NULL;
