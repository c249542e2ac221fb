//! Deadlines (frister): one scheduler over the injected clock. Each deadline names the event it counts
//! from and its source; each reminder is written to the outbox once per deadline, occurrence (the due
//! date) and person, guarded by a unique key, so two instances or a restart never send it twice.
//!
//! - **Release decision** (`release_decision`): due 30 days after the complete application (seed 001,
//!   "5. Beslut om utlämnande": "Beslut om utlämnande av data bör ges inom 30 dagar"). A "bör", so a
//!   reminder and never a block: to the CPUA's legal team a week before, and on the day it becomes
//!   overdue.
//! - **Key file** (`key_file_deletion`): the key is kept about three months after the release (seed 000,
//!   "Hur och vilka data lämnas ut?": check your data, "efter att nyckelfilen raderats så går det inte
//!   att göra några ändringar eller tillägg"). A notice to the parties at release (the `data_released`
//!   event) and two weeks before the deletion, and to the CPUA's legal team on the day.
use chrono::{Days, NaiveDate};
use serde::Serialize;
use serde_json::json;

use super::notify::{row_for, KIND_DEADLINE};
use super::{AppError, Services};
use crate::db::outbox as store;
use crate::db::DbConn;
use crate::domain::collaboration::Collaboration;
use crate::domain::ids::{CollaborationId, OrgId};
use crate::domain::lifecycle::{SEED_000, SEED_001};
use crate::domain::role::Role;

/// A deadline still ahead or overdue in a case (frist).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PendingDeadline {
    /// `release_decision` or `key_file_deletion`.
    pub code: &'static str,
    /// The event it counts from: `application_completed` or `data_released`.
    pub counts_from: &'static str,
    /// The CPUA whose track it is.
    pub cpua: String,
    pub cpua_name: String,
    pub due_on: NaiveDate,
    pub overdue: bool,
    /// The seed file and section of the rule.
    pub source_file: &'static str,
    pub source_section: &'static str,
}

/// One reminder of a deadline: when it is due and to whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reminder {
    /// The mail template and the event code in the log.
    pub template: &'static str,
    pub on: NaiveDate,
    /// Until when it is still worth sending (inclusive); `None`: while the deadline is open.
    pub until: Option<NaiveDate>,
    pub to: Vec<(OrgId, Role)>,
}

fn add(d: NaiveDate, n: u64) -> NaiveDate {
    d.checked_add_days(Days::new(n)).unwrap_or(d)
}

fn sub(d: NaiveDate, n: u64) -> NaiveDate {
    d.checked_sub_days(Days::new(n)).unwrap_or(d)
}

/// The open deadlines of a case on `today`.
pub fn pending(c: &Collaboration, today: NaiveDate) -> Vec<PendingDeadline> {
    if c.step.is_terminal() {
        return vec![];
    }
    let mut out = Vec::new();
    for r in &c.cpua_reviews {
        if let (Some(due), None, Some(_)) =
            (r.decision_due_on, &r.decision, r.application_complete_at)
        {
            out.push(PendingDeadline {
                code: "release_decision",
                counts_from: "application_completed",
                cpua: r.cpua.to_string(),
                cpua_name: r.cpua_name.clone(),
                due_on: due,
                overdue: today > due,
                source_file: SEED_001,
                source_section: "5. Beslut om utlämnande",
            });
        }
        // Open until the CPUA records the key file deleted.
        if let Some(rel) = r.release.as_ref().filter(|x| x.key_deleted_on.is_none()) {
            out.push(PendingDeadline {
                code: "key_file_deletion",
                counts_from: "data_released",
                cpua: r.cpua.to_string(),
                cpua_name: r.cpua_name.clone(),
                due_on: rel.key_deletion_on,
                overdue: today > rel.key_deletion_on,
                source_file: SEED_000,
                source_section: "Hur och vilka data lämnas ut?",
            });
        }
    }
    out
}

/// The reminders of a deadline.
pub fn reminders(c: &Collaboration, d: &PendingDeadline) -> Vec<Reminder> {
    let cpua = OrgId::from_db(d.cpua.clone());
    let legal = vec![(cpua, Role::CpuaLegal)];
    let mut parties = vec![(c.company.clone(), Role::CompanyRepresentative)];
    if let Some(p) = &c.research_principal {
        parties.push((p.clone(), Role::ResearchPrincipalRepresentative));
    }
    match d.code {
        "release_decision" => vec![
            Reminder {
                template: "decision_due_soon",
                on: sub(d.due_on, 7),
                until: Some(d.due_on),
                to: legal.clone(),
            },
            Reminder {
                template: "decision_overdue",
                on: add(d.due_on, 1),
                until: None,
                to: legal,
            },
        ],
        "key_file_deletion" => vec![
            Reminder {
                template: "key_file_deletion_soon",
                on: sub(d.due_on, 14),
                until: Some(sub(d.due_on, 1)),
                to: parties,
            },
            Reminder {
                template: "key_file_deletion_due",
                on: d.due_on,
                until: None,
                to: legal,
            },
        ],
        _ => vec![],
    }
}

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
    // The earliest reminder of a decision is a week before it is due.
    let ids = svc.read(|c| Ok(store::deadline_candidates(c, add(today, 7))?))?;
    let mut written = 0;
    for id in ids {
        let Some(cid) = CollaborationId::parse(&id) else {
            continue;
        };
        // Decide in a read; take the writer only for rows to write (the unique key drops repeats).
        let rows = svc.read(|conn| {
            let Some((c, _)) = crate::db::repo::load_collaboration(conn, &svc.rulebooks, &cid)?
            else {
                return Ok(vec![]);
            };
            let rows = due_rows(conn, &c, today, now)?;
            let keys: Vec<String> = rows.iter().filter_map(|r| r.dedup_key.clone()).collect();
            let written = store::existing_keys(conn, &keys)?;
            Ok(rows
                .into_iter()
                .filter(|r| r.dedup_key.as_ref().is_some_and(|k| !written.contains(k)))
                .collect::<Vec<_>>())
        })?;
        if !rows.is_empty() {
            written += svc.write(|conn| Ok(store::insert(conn, &rows)?))?;
        }
    }
    written += super::signing_deadlines::run(svc)?;
    Ok(written)
}
