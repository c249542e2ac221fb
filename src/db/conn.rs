//! One binary, two databases: SQLite (bundled, the embedded default) or PostgreSQL, chosen by the
//! URL scheme, behind one r2d2 pool.
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::sqlite::SqliteConnection;
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A connection to either database.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

/// Which database a URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DatabaseUrl {
    /// `sqlite://relative/path.db`, `sqlite:///absolute/path.db`, or `postgres://…` /
    /// `postgresql://…`. Anything else is refused: SQLite would accept any string as a file name,
    /// so the scheme alone decides.
    pub fn parse(url: &str) -> Result<DatabaseUrl, String> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() || path.contains(":memory:") {
                return Err(
                    "DATABASE_URL: a SQLite URL needs a file path, e.g. sqlite://data/samverkan.db"
                        .into(),
                );
            }
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(url.to_string()));
        }
        Err("DATABASE_URL: must start with sqlite:// or postgres:// (postgresql://)".into())
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            DatabaseUrl::Sqlite(_) => "sqlite",
            DatabaseUrl::Postgres(_) => "postgres",
        }
    }
}

#[diesel::declare_sql_function]
extern "SQL" {
    /// Lower case by Unicode's rules: `db::lists::fold` on SQLite (registered on each connection),
    /// `lower` on PostgreSQL (migration `2026-12-08-000060_list_search`).
    fn samverkan_fold(text: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// Opens connections for the pool and prepares each one.
#[derive(Debug, Clone)]
pub struct ConnManager {
    url: DatabaseUrl,
}

impl r2d2::ManageConnection for ConnManager {
    type Connection = DbConn;
    type Error = diesel::ConnectionError;

    fn connect(&self) -> Result<DbConn, Self::Error> {
        match &self.url {
            DatabaseUrl::Sqlite(path) => {
                let mut c = SqliteConnection::establish(&path.to_string_lossy())?;
                // Foreign keys are off by default in SQLite; WAL lets readers run beside the writer.
                c.batch_execute(
                    "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
                )
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                // The list's search folds case by Unicode's rules (`db::lists::fold`), which
                // SQLite's own `lower` does not (ASCII only).
                samverkan_fold_utils::register_impl(&mut c, |s: String| super::lists::fold(&s))
                    .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConn::Sqlite(c))
            }
            DatabaseUrl::Postgres(url) => {
                let mut c = PgConnection::establish(url)?;
                c.batch_execute("SET TIME ZONE 'UTC'")
                    .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConn::Postgres(c))
            }
        }
    }

    /// Checked at each checkout. A PostgreSQL connection can be cut by the server or the network, so
    /// it is asked; a SQLite connection is a file handle in this process and does not break, and
    /// asking it would parse a statement on every request.
    fn is_valid(&self, conn: &mut DbConn) -> Result<(), Self::Error> {
        match conn {
            DbConn::Sqlite(_) => Ok(()),
            DbConn::Postgres(c) => c
                .batch_execute("SELECT 1")
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration),
        }
    }

    fn has_broken(&self, _conn: &mut DbConn) -> bool {
        false
    }
}

/// The pool, and for SQLite the single-writer lock: SQLite allows one writer at a time, so writes
/// queue here instead of failing with "database is locked" when a read transaction upgrades.
#[derive(Clone)]
pub struct Db {
    pub pool: r2d2::Pool<ConnManager>,
    pub url: DatabaseUrl,
    write_lock: Option<Arc<Mutex<()>>>,
    /// Bounds how many list queries run at once, so slow lists never hold every connection.
    pub list_gate: Arc<ListGate>,
}

/// How many list queries may run at once: the pool's size less two (at least one), so that two
/// connections always stay free for cheap reads and for writes however many lists are waiting.
pub struct ListGate {
    in_use: AtomicUsize,
    max: usize,
}

/// A place in the [`ListGate`], given back when dropped.
pub struct ListPermit(Arc<ListGate>);

impl ListGate {
    pub fn new(pool_size: u32) -> ListGate {
        ListGate {
            in_use: AtomicUsize::new(0),
            max: (pool_size as usize).saturating_sub(2).max(1),
        }
    }

    pub fn max(&self) -> usize {
        self.max
    }

    /// A place if one is free now.
    pub fn try_enter(self: &Arc<Self>) -> Option<ListPermit> {
        self.in_use
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max).then_some(n + 1)
            })
            .ok()
            .map(|_| ListPermit(self.clone()))
    }
}

impl Drop for ListPermit {
    fn drop(&mut self) {
        self.0.in_use.fetch_sub(1, Ordering::AcqRel);
    }
}

/// How long one list statement may run on PostgreSQL before the server cancels it.
pub const LIST_STATEMENT_TIMEOUT: Duration = Duration::from_secs(2);

/// Runs a list query in one read transaction. On PostgreSQL with `SET LOCAL statement_timeout`
/// ([`LIST_STATEMENT_TIMEOUT`]), so a list that turns out slow is cancelled by the server and its
/// connection returns to the pool. SQLite has no per-statement timeout that diesel exposes (the
/// progress handler needs the raw handle); there every list is bounded by construction instead: one
/// index range in order, at most a page plus one row, and a count that stops at the cap.
pub fn list_transaction<T, E>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    conn.transaction(|c| {
        if matches!(c, DbConn::Postgres(_)) {
            c.batch_execute(&format!(
                "SET LOCAL statement_timeout = {}",
                LIST_STATEMENT_TIMEOUT.as_millis()
            ))?;
        }
        f(c)
    })
}

/// Whether a database error is PostgreSQL cancelling a statement that ran past its timeout.
pub fn is_statement_timeout(e: &diesel::result::Error) -> bool {
    matches!(e, diesel::result::Error::DatabaseError(_, info)
        if info.message().contains("statement timeout"))
}

/// Whether an internal error was caused by PostgreSQL cancelling a list statement at its timeout
/// (the list is then answered 503 with `Retry-After`, like a full list gate, not 500).
pub fn timed_out(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<diesel::result::Error>()
            .is_some_and(is_statement_timeout)
    })
}

impl Db {
    pub fn connect(url: &str, max_size: u32) -> anyhow::Result<Db> {
        let url = DatabaseUrl::parse(url).map_err(anyhow::Error::msg)?;
        if let DatabaseUrl::Sqlite(path) = &url {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| {
                    anyhow::anyhow!("DATABASE_URL: cannot create folder {}: {e}", dir.display())
                })?;
            }
            // WAL is a property of the file: switch it once, before the pool opens its
            // connections side by side (switching needs the file to itself).
            let mut c = SqliteConnection::establish(&path.to_string_lossy())
                .map_err(|e| anyhow::anyhow!("cannot open the SQLite database: {e}"))?;
            c.batch_execute("PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL;")
                .map_err(|e| anyhow::anyhow!("cannot switch the SQLite database to WAL: {e}"))?;
        }
        let pool = r2d2::Pool::builder()
            .max_size(max_size)
            .connection_timeout(Duration::from_secs(10))
            .build(ConnManager { url: url.clone() })
            .map_err(|e| anyhow::anyhow!("cannot connect to the database: {e}"))?;
        let write_lock = matches!(url, DatabaseUrl::Sqlite(_)).then(|| Arc::new(Mutex::new(())));
        Ok(Db {
            pool,
            url,
            write_lock,
            list_gate: Arc::new(ListGate::new(max_size)),
        })
    }

    pub fn write_lock(&self) -> Option<Arc<Mutex<()>>> {
        self.write_lock.clone()
    }
}

/// The PostgreSQL advisory-lock key under which migrations and reference-data seeding run
/// ("samv" in ASCII), so that instances starting together take turns.
pub const START_LOCK_KEY: i64 = 0x7361_6d76;

/// Runs `f` (migrations, seeding) in one transaction that holds the start lock, so two instances
/// starting at once on the same database never apply a migration or seed twice: on PostgreSQL a
/// transaction-scoped advisory lock, on SQLite a `BEGIN IMMEDIATE` write transaction (the second
/// instance waits for the first on the busy timeout). Everything `f` does commits together or not
/// at all; diesel runs each migration in a savepoint inside.
pub fn under_start_lock<T>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    use diesel::RunQueryDsl;
    if matches!(conn, DbConn::Postgres(_)) {
        return conn.transaction(|c| {
            diesel::sql_query(format!("SELECT pg_advisory_xact_lock({START_LOCK_KEY})"))
                .execute(c)
                .map_err(|e| anyhow::anyhow!("taking the start lock: {e}"))?;
            f(c)
        });
    }
    if let DbConn::Sqlite(c) = conn {
        AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")
            .map_err(|e| anyhow::anyhow!("taking the start lock: {e}"))?;
    }
    let result = f(conn);
    if let DbConn::Sqlite(c) = conn {
        match &result {
            Ok(_) => AnsiTransactionManager::commit_transaction(c)
                .map_err(|e| anyhow::anyhow!("committing the migrations: {e}"))?,
            Err(_) => {
                if let Err(e) = AnsiTransactionManager::rollback_transaction(c) {
                    tracing::error!(error = %e, "rolling back the failed start");
                }
            }
        }
    }
    result
}

/// Runs `f` in one write transaction. On SQLite it begins `IMMEDIATE`, taking the database's write
/// lock at the start: a deferred transaction that reads and then writes fails at once with
/// "database is locked" when another process (a second instance on the same file) wrote in
/// between, whereas an immediate one waits its turn on the busy timeout. On PostgreSQL an ordinary
/// transaction (row locks and the upserts serialise writers).
pub fn write_transaction<T, E>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    if matches!(conn, DbConn::Postgres(_)) {
        return conn.transaction(f);
    }
    if let DbConn::Sqlite(c) = conn {
        AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
    }
    let result = f(conn);
    if let DbConn::Sqlite(c) = conn {
        match result {
            Ok(v) => match AnsiTransactionManager::commit_transaction(c) {
                Ok(()) => return Ok(v),
                Err(e) => {
                    let _ = AnsiTransactionManager::rollback_transaction(c);
                    return Err(e.into());
                }
            },
            Err(e) => {
                AnsiTransactionManager::rollback_transaction(c)?;
                return Err(e);
            }
        }
    }
    result
}

/// Applies the pending migrations of the connection's backend.
pub fn run_migrations(conn: &mut DbConn) -> anyhow::Result<usize> {
    let applied = match conn {
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
        DbConn::Postgres(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS),
    }
    .map_err(|e| anyhow::anyhow!("migrations failed: {e}"))?;
    Ok(applied.len())
}

/// Applies the pending migrations whose version sorts before `version` (e.g. `2026-12-03-000001`),
/// one at a time: an upgrade test builds the database as an earlier release left it, writes rows of
/// that shape, then runs the rest with [`run_migrations`].
pub fn run_migrations_before(conn: &mut DbConn, version: &str) -> anyhow::Result<usize> {
    fn step<C: MigrationHarness<B>, B: diesel::backend::Backend>(
        c: &mut C,
        source: fn() -> EmbeddedMigrations,
        version: &str,
    ) -> anyhow::Result<usize> {
        let mut n = 0;
        loop {
            let pending = c
                .pending_migrations(source())
                .map_err(|e| anyhow::anyhow!("cannot list pending migrations: {e}"))?;
            let Some(next) = pending.first() else {
                return Ok(n);
            };
            // diesel's version is the folder name's date part without its dashes.
            if next.name().version().to_string() >= version.replace('-', "") {
                return Ok(n);
            }
            c.run_migration(next.as_ref())
                .map_err(|e| anyhow::anyhow!("migration {} failed: {e}", next.name()))?;
            n += 1;
        }
    }
    match conn {
        DbConn::Sqlite(c) => step(c, || SQLITE_MIGRATIONS, version),
        DbConn::Postgres(c) => step(c, || POSTGRES_MIGRATIONS, version),
    }
}

/// Whether every migration of the binary has been applied.
pub fn migrations_applied(conn: &mut DbConn) -> anyhow::Result<bool> {
    let pending = match conn {
        DbConn::Sqlite(c) => c.has_pending_migration(SQLITE_MIGRATIONS),
        DbConn::Postgres(c) => c.has_pending_migration(POSTGRES_MIGRATIONS),
    }
    .map_err(|e| anyhow::anyhow!("cannot read the migrations table: {e}"))?;
    Ok(!pending)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_gate_leaves_two_connections_free() {
        let gate = Arc::new(ListGate::new(8));
        let permits: Vec<ListPermit> = std::iter::from_fn(|| gate.try_enter()).take(100).collect();
        assert_eq!(permits.len(), 6);
        assert!(gate.try_enter().is_none());
        drop(permits);
        assert!(gate.try_enter().is_some());
        assert_eq!(
            ListGate::new(2).max(),
            1,
            "a tiny pool still serves one list at a time"
        );
    }

    /// A statement PostgreSQL cancels at the list timeout is recognised through the error chain the
    /// application wraps it in (on the real server when TEST_DATABASE_URL is set).
    #[test]
    fn a_cancelled_list_statement_is_recognised() {
        use diesel::result::{DatabaseErrorKind, Error};
        let cancelled = Error::DatabaseError(
            DatabaseErrorKind::Unknown,
            Box::new("canceling statement due to statement timeout".to_string()),
        );
        assert!(timed_out(
            &anyhow::Error::new(cancelled).context("database error")
        ));
        let other = Error::DatabaseError(
            DatabaseErrorKind::Unknown,
            Box::new("relation does not exist".to_string()),
        );
        assert!(!timed_out(
            &anyhow::Error::new(other).context("database error")
        ));
        let Ok(url) = std::env::var("TEST_DATABASE_URL") else {
            return;
        };
        let mut conn = DbConn::Postgres(PgConnection::establish(&url).expect("connects"));
        let r: Result<(), Error> = list_transaction(&mut conn, |c| {
            c.batch_execute("SET LOCAL statement_timeout = 50; SELECT pg_sleep(1)")
        });
        let e = r.expect_err("the sleep outlasts the timeout");
        assert!(timed_out(&anyhow::Error::new(e).context("database error")));
    }

    #[test]
    fn url_scheme_decides_the_backend() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/x.db").unwrap(),
            DatabaseUrl::Sqlite(PathBuf::from("data/x.db"))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///tmp/x.db").unwrap(),
            DatabaseUrl::Sqlite(PathBuf::from("/tmp/x.db"))
        );
        assert!(matches!(
            DatabaseUrl::parse("postgres://u@h/db").unwrap(),
            DatabaseUrl::Postgres(_)
        ));
        assert!(DatabaseUrl::parse("mysql://x").is_err());
        assert!(DatabaseUrl::parse("data/x.db").is_err());
        assert!(DatabaseUrl::parse("sqlite://:memory:").is_err());
    }
}
