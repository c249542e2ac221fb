-- Issue 12: the collaboration list's search ("title or reference contains"), case-insensitive by
-- Unicode's rules. The same function name exists on SQLite, registered by the service on each
-- connection (src/db/conn.rs), so one statement serves both databases. `lower` folds by the
-- database's LC_CTYPE: a UTF-8 locale (initdb's default) folds Å to å.
CREATE FUNCTION samverkan_fold(t TEXT) RETURNS TEXT
    LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT lower(t) $$;
