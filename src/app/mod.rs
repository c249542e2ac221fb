//! Commands and queries: authorize, load, ask the domain, persist the change with its audit event
//! in one transaction.
pub mod agreements;
pub mod apikeys;
pub mod audit;
pub mod auth;
pub mod authz;
pub mod billing;
pub mod billing_receipts;
pub mod casework;
pub mod checkpoint;
pub mod classification;
pub mod clock;
pub mod collaborations;
pub mod commands;
pub mod data_users;
pub mod deadlines;
pub mod document_store;
pub mod documents;
pub mod error;
pub mod identity;
pub mod login;
pub mod mailer;
pub mod metrics;
pub mod notify;
pub mod oidc;
pub mod outbox;
pub mod payments;
pub mod reference;
pub mod s3;
pub mod seed;
pub mod signing;
pub mod signing_deadlines;
pub mod signing_providers;
pub mod signing_seal;
pub mod views;
pub mod webhooks_out;

use std::sync::Arc;

use crate::db::{Db, DbConn};
pub use error::{AppError, FieldError};

/// What every command and query needs: the database and the clock.
#[derive(Clone)]
pub struct Services {
    pub db: Db,
    pub clock: Arc<dyn clock::Clock>,
    /// The classification rulebooks, checked at start.
    pub rulebooks: Arc<crate::domain::classification::RulebookSet>,
    /// The contract templates, checked at start.
    pub templates: Arc<crate::templates::TemplateSet>,
    /// The public half of the audit signing key, to check checkpoints with (`None`: no key).
    pub audit_key: Option<Arc<checkpoint::PublicKey>>,
    /// The collaboration views kept in memory; every write forgets them.
    pub views: Arc<views::ViewCache>,
}

impl Services {
    /// Runs `f` in one write transaction. On SQLite, writers queue for the single writer first
    /// (in this process on the lock, across processes on `BEGIN IMMEDIATE`), so `f` should do only
    /// the write: read, decide and render outside it where the command allows (see
    /// `collaborations::prepare_create`).
    pub fn write<T>(
        &self,
        f: impl FnOnce(&mut DbConn) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        // The lock first: writers waiting their turn must not hold pooled connections meanwhile.
        let lock = self.db.write_lock();
        let _guard = lock
            .as_ref()
            .map(|l| l.lock().unwrap_or_else(|p| p.into_inner()));
        let mut conn = self.db.pool.get()?;
        let out = crate::db::conn::write_transaction(&mut conn, f);
        // After the commit: a view built from what the write replaced is never served again.
        self.views.invalidate();
        out
    }

    /// Runs `f` in one write transaction, again from the start (a fresh read) when a concurrent writer
    /// got there first, at most `attempts` times in all. For commands whose caller sent no precondition
    /// (no `If-Match`): they asked for the change whatever the current version is.
    pub fn write_retrying<T>(
        &self,
        attempts: u32,
        mut f: impl FnMut(&mut DbConn) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        let mut left = attempts.max(1);
        loop {
            match self.write(&mut f) {
                Err(AppError::RaceLost(_)) if left > 1 => {
                    left -= 1;
                    // A short, growing pause lets the winner commit.
                    std::thread::sleep(std::time::Duration::from_millis(
                        u64::from(attempts - left) * 3,
                    ));
                }
                other => return other,
            }
        }
    }

    /// Runs `f` in one read transaction, so a query sees one consistent state.
    pub fn read<T>(
        &self,
        f: impl FnOnce(&mut DbConn) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        use diesel::Connection;
        let mut conn = self.db.pool.get()?;
        let conn: &mut DbConn = &mut conn;
        conn.transaction(f)
    }
}
