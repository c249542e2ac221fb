DROP TRIGGER audit_checkpoints_no_delete;
DROP TRIGGER audit_checkpoints_no_update;
DROP TABLE audit_checkpoints;
ALTER TABLE audit_events DROP COLUMN files;
ALTER TABLE audit_events DROP COLUMN state_hash;
ALTER TABLE audit_events DROP COLUMN change_patch;
