//! What `/metrics` reads (mätvärden): who may read them, and the overdue-decision count.
use chrono::NaiveDate;

use super::AppError;
use crate::db::DbConn;
use crate::domain::role::{Actor, Role};

/// Only an administrator reads the service's metrics.
pub fn may_read(actor: &Actor) -> Result<(), AppError> {
    if actor.role == Role::Administrator {
        Ok(())
    } else {
        Err(AppError::Forbidden(crate::msg!("forbidden.metrics")))
    }
}

/// CPUA reviews whose decision is due before `today` and not made (a made decision clears the
/// stored due date), as the domain's `CpuaReview::is_overdue` counts them.
pub fn overdue_decisions(conn: &mut DbConn, today: NaiveDate) -> Result<i64, AppError> {
    Ok(crate::db::repo::count_overdue_reviews(conn, today)?)
}
