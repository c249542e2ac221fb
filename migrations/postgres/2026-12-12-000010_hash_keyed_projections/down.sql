DROP INDEX collaboration_registers_collaboration;
ALTER TABLE collaboration_registers ADD PRIMARY KEY (collaboration_id, register_id);
DROP INDEX collaboration_registers_list;
CREATE INDEX collaboration_registers_list ON collaboration_registers (register_id, created_at, collaboration_id);
ALTER TABLE collaboration_registers ALTER COLUMN created_at DROP NOT NULL;
DROP INDEX collaboration_access_collaboration;
ALTER TABLE collaboration_access ADD PRIMARY KEY (collaboration_id, org_id);
DROP INDEX collaboration_access_list;
CREATE INDEX collaboration_access_list ON collaboration_access
    (org_id, created_at, collaboration_id) INCLUDE (step_no, is_company, is_principal, is_cpua);
