ALTER TABLE audit_events DROP COLUMN change_z;
