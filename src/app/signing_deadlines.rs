//! The signing envelopes' deadlines, run by the mail scheduler (`deadlines::run`): a sent envelope
//! past its expiry expires (everyone told); before that, those whose turn it is are reminded after 5
//! days, then every 5, at most 5 times (issue 14, "Reminders"). Each envelope in a write of its own;
//! a reminder's outbox row is keyed, so a repeated run writes nothing twice.
use super::clock::Clock;
use super::{AppError, Services};
use crate::db::signing as store;
use crate::db::{conn, Db};
use crate::domain::classification::RulebookSet;

/// Expires and reminds; returns how many outbox rows were written.
pub fn run(svc: &Services) -> Result<usize, AppError> {
    let n = run_on(&svc.db, &svc.rulebooks, svc.clock.as_ref())?;
    if n > 0 {
        svc.views.invalidate();
    }
    Ok(n)
}

/// The same on a database and clock of the caller's (the scheduler, tests on a manual clock).
pub fn run_on(db: &Db, rulebooks: &RulebookSet, clock: &dyn Clock) -> Result<usize, AppError> {
    let now = clock.now();
    let due = {
        use diesel::Connection;
        let mut c = db.pool.get()?;
        let c: &mut crate::db::DbConn = &mut c;
        c.transaction(|c| Ok::<_, AppError>(store::sent_envelopes(c)?))?
    };
    let mut written = 0;
    for (envelope, _) in due {
        let lock = db.write_lock();
        let _guard = lock
            .as_ref()
            .map(|l| l.lock().unwrap_or_else(|p| p.into_inner()));
        let mut c = db.pool.get()?;
        written += conn::write_transaction(&mut c, |c| {
            super::signing::tick(c, rulebooks, &envelope, now)
        })?;
    }
    Ok(written)
}
