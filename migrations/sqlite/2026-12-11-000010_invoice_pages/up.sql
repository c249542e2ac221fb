-- Issue 15: the invoice list is read a page at a time, newest first, after a (created_at, id) key,
-- with or without a status; its computed filters read the CPUA's placements by their CPUA, and the export by when they were placed.
CREATE INDEX invoices_by_cpua ON invoices (cpua_id, created_at, id);
CREATE INDEX payment_allocations_cpua ON payment_allocations (cpua_id, allocated_at);
