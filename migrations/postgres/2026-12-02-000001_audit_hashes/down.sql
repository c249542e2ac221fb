DROP TABLE audit_checkpoints;
DROP FUNCTION audit_checkpoints_append_only();
ALTER TABLE audit_events DROP COLUMN files;
ALTER TABLE audit_events DROP COLUMN state_hash;
ALTER TABLE audit_events DROP COLUMN change_patch;
