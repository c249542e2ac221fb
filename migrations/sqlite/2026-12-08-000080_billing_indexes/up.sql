-- The period export (issue 15) reads a CPUA's issued invoices by issue date: one range of this
-- index, not every issued invoice the CPUA ever sent (tests/query_plans.rs).
CREATE INDEX invoices_issued ON invoices (cpua_id, status, issue_date);
