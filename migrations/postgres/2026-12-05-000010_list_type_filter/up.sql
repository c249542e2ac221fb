-- The collaborations list by type (issue 12, the work queue's type filter): the type in force, as
-- the stored state records it (state version 3, `classification.type`, overridden by legal's
-- `classification.type_override.collaboration_type`), kept by the database itself in a generated
-- column, so no write path can forget it, and indexed like the list by step: one index range in
-- creation order. A state stored before version 3 keeps its classification whole and has no
-- `classification.type`; it has no type here until it is next written.
ALTER TABLE collaborations ADD COLUMN collaboration_type TEXT GENERATED ALWAYS AS (
    coalesce(state::jsonb #>> '{classification,type_override,collaboration_type}',
             state::jsonb #>> '{classification,type}')
) STORED;
CREATE INDEX collaborations_type_list ON collaborations (collaboration_type, created_at, id);
ANALYZE collaborations;
