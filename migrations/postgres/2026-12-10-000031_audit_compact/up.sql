-- Audit events of schema version 3 (issue 10): the same hashed canonical form as version 2, stored
-- smaller. The change (the RFC 6902 patch) is stored packed in `change_z` (a dictionary number,
-- then raw DEFLATE of its JSON text: `db::packed`; `change_patch` stays NULL), and `prev_hash`
-- is stored empty: it is the previous event's hash, read from that event. Version-1 and version-2
-- rows are left as they are and read as before.
ALTER TABLE audit_events ADD COLUMN change_z BYTEA;
