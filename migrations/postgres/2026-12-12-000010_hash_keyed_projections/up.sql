-- Storage per collaboration on PostgreSQL (issue 10). At 1 M collaborations the B-tree primary keys
-- of the two list projections cost 407 bytes a collaboration: `collaboration_access_pkey`
-- (collaboration_id, org_id), 271 bytes for its two rows, and `collaboration_registers_pkey`
-- (collaboration_id, register_id), 136 bytes, each entry two 37-byte texts in pages about 70 % full
-- (ids are random, so inserts split pages in the middle). What those keys do is found elsewhere:
--
-- * Uniqueness. Every row of a collaboration carries the collaboration's own creation time, so
--   (org_id, created_at, collaboration_id) is unique exactly when (collaboration_id, org_id) is; the
--   list index `collaboration_access_list` becomes that unique index, and `collaboration_registers_list`
--   likewise for (collaboration_id, register_id) once its `created_at` is never empty (every writer has
--   set it since `2026-12-02-000002_list_indexes`, which filled it in for the rows before).
-- * Lookups by collaboration (the rebuild's DELETE, the visibility EXISTS, a collaboration's registers,
--   the foreign key's checks): a hash index on `collaboration_id`, one 4-byte hash an entry.
--
-- SQLite keeps its primary keys: its storage is within the target, and its B-tree rows are
-- compact already.
CREATE UNIQUE INDEX collaboration_access_key ON collaboration_access
    (org_id, created_at, collaboration_id) INCLUDE (step_no, is_company, is_principal, is_cpua);
DROP INDEX collaboration_access_list;
ALTER INDEX collaboration_access_key RENAME TO collaboration_access_list;
ALTER TABLE collaboration_access DROP CONSTRAINT collaboration_access_pkey;
CREATE INDEX collaboration_access_collaboration ON collaboration_access USING hash (collaboration_id);

UPDATE collaboration_registers SET created_at =
    (SELECT c.created_at FROM collaborations c WHERE c.id = collaboration_registers.collaboration_id)
    WHERE created_at IS NULL;
ALTER TABLE collaboration_registers ALTER COLUMN created_at SET NOT NULL;
CREATE UNIQUE INDEX collaboration_registers_key ON collaboration_registers
    (register_id, created_at, collaboration_id);
DROP INDEX collaboration_registers_list;
ALTER INDEX collaboration_registers_key RENAME TO collaboration_registers_list;
ALTER TABLE collaboration_registers DROP CONSTRAINT collaboration_registers_pkey;
CREATE INDEX collaboration_registers_collaboration ON collaboration_registers USING hash (collaboration_id);
ANALYZE collaboration_access;
ANALYZE collaboration_registers;
