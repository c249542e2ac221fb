DROP TRIGGER agreement_versions_no_delete;
DROP TRIGGER agreement_versions_no_update;
DROP TABLE agreement_versions;
