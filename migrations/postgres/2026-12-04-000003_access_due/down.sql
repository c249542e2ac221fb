DROP INDEX collaboration_access_due;
ALTER TABLE collaboration_access DROP COLUMN next_due_on;
