-- Issue 12/10: a party's list filtered by step, and its capped count, read one index of the access rows
-- and never the collaborations (the count of a company's cases in one step read up to 1,001 rows of
-- `collaborations` and took 22 ms at 10 k). `step_no` is the step's place in `Step::ALL`
-- (src/domain/step.rs; `lists::step_no`), rewritten with every access rebuild.
ALTER TABLE collaboration_access ADD COLUMN step_no INTEGER NOT NULL DEFAULT -1;
UPDATE collaboration_access SET step_no = (SELECT CASE c.step WHEN 'preparation' THEN 0 WHEN 'register_contact' THEN 1 WHEN 'ethics_review' THEN 2 WHEN 'data_application' THEN 3 WHEN 'release_decision' THEN 4 WHEN 'agreement' THEN 5 WHEN 'data_release' THEN 6 WHEN 'results' THEN 7 WHEN 'archiving' THEN 8 WHEN 'refused' THEN 9 WHEN 'withdrawn' THEN 10 WHEN 'closed' THEN 11 ELSE -1 END FROM collaborations c
    WHERE c.id = collaboration_access.collaboration_id);
DROP INDEX collaboration_access_list;
CREATE INDEX collaboration_access_list ON collaboration_access
    (org_id, created_at, collaboration_id, step_no, is_company, is_principal, is_cpua);
