-- Storage per collaboration (issue 10): indexes that no query reads are gone (tests/query_plans.rs
-- shows every shipped list's plan without them), and `collaboration_access` is keyed by
-- collaboration first, which is how its rebuild deletes, so its separate collaboration index goes.
--
-- Dropped, because no statement reads them: `collaborations_company` and `collaborations_principal`
-- (lists find a party's collaborations through `collaboration_access`), `collaboration_registers_register`
-- (`collaboration_registers_list` starts with the register) and `cpua_reviews_cpua` (a CPUA's
-- reviews are read through `cpua_reviews_cpua_due`, and access rows through `collaboration_access`).
DROP INDEX collaborations_company;
DROP INDEX collaborations_principal;
DROP INDEX collaboration_registers_register;
DROP INDEX cpua_reviews_cpua;
ALTER TABLE collaboration_access DROP CONSTRAINT collaboration_access_pkey;
ALTER TABLE collaboration_access ADD PRIMARY KEY (collaboration_id, org_id);
DROP INDEX collaboration_access_collaboration;
ANALYZE collaboration_access;
