-- Back to the state as JSON text and the generated type column (packed states must be unpacked by
-- the application before going down: this drops them).
ALTER TABLE collaborations DROP COLUMN state_z;
DROP INDEX collaborations_type_list;
ALTER TABLE collaborations DROP COLUMN collaboration_type;
ALTER TABLE collaborations ADD COLUMN collaboration_type TEXT GENERATED ALWAYS AS (
    coalesce(json_extract(state, '$.classification.type_override.collaboration_type'),
             json_extract(state, '$.classification.type'))
) VIRTUAL;
CREATE INDEX collaborations_type_list ON collaborations (collaboration_type, created_at, id);
