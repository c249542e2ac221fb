//! Deadlines (frister): one scheduler over the injected clock. The rules (which deadlines, when due,
//! which reminders to whom, each with its seed) are [`crate::domain::deadlines`]; this module writes
//! the reminders to the outbox once per deadline, occurrence (the due date) and person, guarded by a
//! unique key, so two instances or a restart never send it twice. The scheduler reads only the open
//! rows of the deadline projection whose first reminder is on or before today
//! ([`store::due_deadline_cases`]), then decides per case from its state.
use chrono::NaiveDate;
use serde_json::json;

use super::notify::{row_for, KIND_DEADLINE};
use super::{AppError, Services};
use crate::db::outbox as store;
use crate::db::DbConn;
use crate::domain::collaboration::Collaboration;
use crate::domain::ids::CollaborationId;
use crate::domain::lifecycle::{usage, Command};

pub use crate::domain::deadlines::{pending, reminders, PendingDeadline, Reminder};

/// The reminders due on `today` in one case, as outbox rows (each with its unique key).
fn due_rows(
    conn: &mut DbConn,
    c: &Collaboration,
    today: NaiveDate,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<store::OutboxRow>, AppError> {
    let mut rows = Vec::new();
    for d in pending(c, today) {
        for r in reminders(c, &d) {
            if today < r.on || r.until.is_some_and(|u| today > u) {
                continue;
            }
            let data = json!({
                "collaboration_id": c.id.as_str(), "reference": c.reference, "title": c.title,
                "cpua_name": d.cpua_name, "due_on": d.due_on.to_string(),
                "key_deletion_on": d.due_on.to_string(),
            });
            for (org, role) in &r.to {
                for p in store::people_with_role(conn, org, *role)? {
                    let key = format!(
                        "{}:{}:{}:{}:{}",
                        r.template, c.id, d.cpua, d.due_on, p.account
                    );
                    rows.push(row_for(
                        &p,
                        Some(c.id.as_str()),
                        r.template,
                        KIND_DEADLINE,
                        Some(key),
                        &data,
                        now,
                    ));
                }
            }
        }
    }
    Ok(rows)
}

/// Writes the reminders of every deadline due now; returns how many were new.
pub fn run(svc: &Services) -> Result<usize, AppError> {
    let now = svc.clock.now();
    let today = svc.clock.today();
    let ids = svc.read(|c| Ok(store::due_deadline_cases(c, today)?))?;
    let mut written = 0;
    for id in ids {
        let Some(cid) = CollaborationId::parse(&id) else {
            continue;
        };
        // Decide in a read; take the writer only for rows to write (the unique key drops repeats).
        let (rows, use_over) = svc.read(|conn| {
            let Some((c, _)) = crate::db::repo::load_collaboration(conn, &svc.rulebooks, &cid)?
            else {
                return Ok((vec![], false));
            };
            let rows = due_rows(conn, &c, today, now)?;
            let keys: Vec<String> = rows.iter().filter_map(|r| r.dedup_key.clone()).collect();
            let written = store::existing_keys(conn, &keys)?;
            let rows = rows
                .into_iter()
                .filter(|r| r.dedup_key.as_ref().is_some_and(|k| !written.contains(k)))
                .collect::<Vec<_>>();
            Ok((rows, usage::is_over(&c, today)))
        })?;
        if !rows.is_empty() {
            written += svc.write(|conn| Ok(store::insert(conn, &rows)?))?;
        }
        // The day's reminders are out; now the case whose last day of use has come moves to step 9.
        if use_over {
            end_usage_period(svc, &cid)?;
        }
    }
    written += super::signing_deadlines::run(svc)?;
    written += super::casework::remind_consultations(svc)?;
    written += super::payments::remind_overdue(svc)?;
    Ok(written)
}

/// Moves a case whose usage period is over to archiving (step 9), as the system, in one transaction
/// with its audit event (issue 16 item 7; the rule is [`usage`]'s). A refusal (another writer moved it
/// first, or an obligation gating step 9 is not met) leaves the case for the people on it: the CPUA's
/// legal team has the reminder of the day.
fn end_usage_period(svc: &Services, id: &CollaborationId) -> Result<(), AppError> {
    let (now, today) = (svc.clock.now(), svc.clock.today());
    let moved = svc.write(|conn| {
        super::collaborations::execute_system(
            conn,
            &svc.rulebooks,
            id,
            Command::EndUsagePeriod,
            now,
            today,
        )
    });
    match moved {
        Ok(_) => Ok(()),
        Err(AppError::Refused(r)) => {
            tracing::info!(collaboration = %id, rule = r.rule, "usage period over, not moved to archiving");
            Ok(())
        }
        Err(e) => Err(e),
    }
}
