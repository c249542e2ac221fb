-- A collaboration's state stored packed (issue 10): `state_z` holds it as a dictionary number and
-- raw DEFLATE of its JSON text (`db::packed`), and `state` is written empty. A row whose `state` is
-- not empty (every row written before this migration) is read from `state` as before.
--
-- The type in force can no longer be computed by the database from the packed state, so it becomes
-- a plain column that the repository writes with every state (`db::repo`, one function for the
-- insert, the bulk insert and the update), filled here from the rows as they are. Only typed
-- collaborations are listed by type, so the index holds those alone.
ALTER TABLE collaborations DROP COLUMN collaboration_type;
ALTER TABLE collaborations ADD COLUMN collaboration_type TEXT;
UPDATE collaborations SET collaboration_type = coalesce(
    state::jsonb #>> '{classification,type_override,collaboration_type}',
    state::jsonb #>> '{classification,type}');
CREATE INDEX collaborations_type_list ON collaborations (collaboration_type, created_at, id)
    WHERE collaboration_type IS NOT NULL;
ALTER TABLE collaborations ADD COLUMN state_z BYTEA;
ANALYZE collaborations;
