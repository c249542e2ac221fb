CREATE INDEX collaboration_access_collaboration ON collaboration_access (collaboration_id);
ALTER TABLE collaboration_access DROP CONSTRAINT collaboration_access_pkey;
ALTER TABLE collaboration_access ADD PRIMARY KEY (org_id, collaboration_id);
CREATE INDEX cpua_reviews_cpua ON cpua_reviews (cpua_id);
CREATE INDEX collaboration_registers_register ON collaboration_registers (register_id);
CREATE INDEX collaborations_principal ON collaborations (principal_id);
CREATE INDEX collaborations_company ON collaborations (company_id);
