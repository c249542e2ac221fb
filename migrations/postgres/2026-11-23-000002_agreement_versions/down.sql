DROP TRIGGER agreement_versions_no_update ON agreement_versions;
DROP FUNCTION agreement_versions_append_only();
DROP TABLE agreement_versions;
