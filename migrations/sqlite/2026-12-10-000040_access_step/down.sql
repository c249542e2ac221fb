DROP INDEX collaboration_access_list;
CREATE INDEX collaboration_access_list ON collaboration_access (org_id, created_at, collaboration_id);
ALTER TABLE collaboration_access DROP COLUMN step_no;
