//! The leased claim shared by the work queues (the mail outbox and the webhook deliveries): each
//! table has `id`, `status`, `next_attempt_at`, `lease_until`, `lease_owner` and `attempts`.

/// Claims up to `limit` rows of `$table` due at `now` (pending, no live lease) for `owner` until
/// `lease_until`, counting the attempt, and returns them as `$row` in due order. PostgreSQL skips rows
/// another instance is claiming (`FOR UPDATE SKIP LOCKED`); on SQLite the caller holds the single
/// writer (BEGIN IMMEDIATE). Run it in its own write transaction and commit before working, so
/// another instance sees the lease. A macro, since diesel's tables are types of their own.
macro_rules! leased_claim {
    ($conn:expr, $table:ident, $row:ty, $pending:expr, $owner:expr, $now:expr, $lease_until:expr, $limit:expr) => {{
        let conn: &mut $crate::db::DbConn = $conn;
        let now = $crate::db::repo::ts($now);
        let due = $table::table
            .filter($table::status.eq($pending))
            .filter($table::next_attempt_at.le(now))
            .filter(
                $table::lease_until
                    .is_null()
                    .or($table::lease_until.lt(now)),
            )
            .order(($table::next_attempt_at, $table::id))
            .limit($limit)
            .select($table::id);
        let ids: Vec<String> = match conn {
            $crate::db::DbConn::Postgres(c) => due.for_update().skip_locked().load(c)?,
            $crate::db::DbConn::Sqlite(c) => due.load(c)?,
        };
        if ids.is_empty() {
            return Ok(vec![]);
        }
        diesel::update($table::table.filter($table::id.eq_any(&ids)))
            .set((
                $table::lease_owner.eq($owner),
                $table::lease_until.eq($crate::db::repo::ts($lease_until)),
                $table::attempts.eq($table::attempts + 1),
            ))
            .execute(conn)?;
        $table::table
            .filter($table::id.eq_any(&ids))
            .order(($table::next_attempt_at, $table::id))
            .select(<$row>::as_select())
            .load(conn)
    }};
}
pub(crate) use leased_claim;
