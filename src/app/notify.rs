//! Who gets what (vem får vad): a command's domain events become outbox rows, one per person, written in
//! the command's own transaction (a rolled-back command leaves none). Recipients follow the roles and
//! organisations on the case:
//! - a complete application: the legal team of that CPUA (seed 001, "4. Ansökan om utlämnande");
//! - a decision: the company and the research principal (seed 001, "5. Beslut om utlämnande");
//! - the register contact: the register holder of each register (seed 001, "2. Kontakt med
//!   registerhållare");
//! - a cost agreement: finance at each CPUA of the registers;
//! - a release: the company and the principal, with the key-file date (seed 000, "Hur och vilka data
//!   lämnas ut?": check the data before the key file is deleted).
//!
//! A person without an e-mail address is recorded as "not notified", and one who turned notices off as
//! "opted out"; neither ever fails the command.
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

use super::AppError;
use crate::db::outbox::{self as store, status, OutboxRow, Person};
use crate::db::repo::ts;
use crate::db::DbConn;
use crate::domain::collaboration::{Collaboration, DecisionOutcome};
use crate::domain::ids::{OrgId, RegisterId};
use crate::domain::lifecycle::DomainEvent;
use crate::domain::register::RegisterFacts;
use crate::domain::role::Role;

/// A notice about a change (underrättelse), which a person may turn off; a deadline reminder is not.
pub const KIND_NOTICE: &str = "notice";
/// A reminder of a deadline (påminnelse om frist), always sent.
pub const KIND_DEADLINE: &str = "deadline";

/// The organisations and roles an event is for.
pub fn recipients_of(
    c: &Collaboration,
    event: &DomainEvent,
    registers: &BTreeMap<RegisterId, RegisterFacts>,
) -> Vec<(OrgId, Role)> {
    let parties = || {
        let mut v = vec![(c.company.clone(), Role::CompanyRepresentative)];
        if let Some(p) = &c.research_principal {
            v.push((p.clone(), Role::ResearchPrincipalRepresentative));
        }
        v
    };
    let cpuas_of_registers = |role: Role| -> Vec<(OrgId, Role)> {
        let set: BTreeSet<OrgId> = c
            .registers
            .iter()
            .filter_map(|r| registers.get(r).map(|f| f.cpua.clone()))
            .collect();
        set.into_iter().map(|o| (o, role)).collect()
    };
    match event {
        DomainEvent::ApplicationCompleted { cpua, .. } => vec![(cpua.clone(), Role::CpuaLegal)],
        DomainEvent::DecisionTaken { .. }
        | DomainEvent::DataReleased { .. }
        | DomainEvent::KeyFileDeleted { .. } => parties(),
        DomainEvent::FeasibilityRequested { .. } => cpuas_of_registers(Role::RegisterHolder),
        DomainEvent::CostAgreementRecorded { .. } => cpuas_of_registers(Role::Finance),
        // The CPUAs learn that the copies are gone.
        DomainEvent::DisposalConfirmed => cpuas_of_registers(Role::CpuaLegal),
    }
}

/// The template data of an event: what the mail says, never a token or secret.
pub fn data_of(
    c: &Collaboration,
    event: &DomainEvent,
    registers: &BTreeMap<RegisterId, RegisterFacts>,
) -> Value {
    let mut d = json!({
        "collaboration_id": c.id.as_str(),
        "reference": c.reference,
        "title": c.title,
    });
    let extra = match event {
        DomainEvent::FeasibilityRequested { registers: regs } => json!({
            "registers": regs.iter().filter_map(|r| registers.get(r).map(|f| f.name.clone())).collect::<Vec<_>>(),
        }),
        DomainEvent::ApplicationCompleted {
            cpua_name, due_on, ..
        } => json!({"cpua_name": cpua_name, "due_on": due_on.map(|d| d.to_string())}),
        DomainEvent::DecisionTaken {
            cpua_name, outcome, ..
        } => json!({
            "cpua_name": cpua_name,
            "approved": outcome.releases_data(),
            "with_conditions": *outcome == DecisionOutcome::ApprovedWithConditions,
        }),
        DomainEvent::CostAgreementRecorded { reference } => {
            json!({"agreement_reference": reference})
        }
        DomainEvent::DataReleased {
            cpua_name,
            released_on,
            key_deletion_on,
            ..
        } => json!({
            "cpua_name": cpua_name,
            "released_on": released_on.to_string(),
            "key_deletion_on": key_deletion_on.to_string(),
        }),
        DomainEvent::KeyFileDeleted {
            cpua_name,
            deleted_on,
            ..
        } => json!({"cpua_name": cpua_name, "deleted_on": deleted_on.to_string()}),
        DomainEvent::DisposalConfirmed => json!({}),
    };
    if let (Some(o), Value::Object(e)) = (d.as_object_mut(), extra) {
        o.extend(e);
    }
    d
}

/// One outbox row for one person: pending when they can and want to be told, else recorded as not
/// notified (no address) or opted out (notices off; deadlines are always sent).
#[allow(clippy::too_many_arguments)]
pub fn row_for(
    person: &Person,
    collaboration: Option<&str>,
    event: &str,
    kind: &str,
    dedup_key: Option<String>,
    data: &Value,
    now: DateTime<Utc>,
) -> OutboxRow {
    let email = Some(person.email.trim().to_string()).filter(|e| !e.is_empty());
    let status = if email.is_none() {
        status::NOT_NOTIFIED
    } else if kind == KIND_NOTICE && !person.notices {
        status::OPTED_OUT
    } else {
        status::PENDING
    };
    let language = if person.language == "en" { "en" } else { "sv" };
    OutboxRow {
        id: uuid::Uuid::new_v4().to_string(),
        collaboration_id: collaboration.map(str::to_string),
        event: event.to_string(),
        kind: kind.to_string(),
        dedup_key,
        recipient_account: person.account.to_string(),
        recipient_name: person.name.clone(),
        recipient_org: person.org.to_string(),
        recipient_role: person.role.code().to_string(),
        recipient_email: email,
        language: language.to_string(),
        data: data.to_string(),
        status: status.to_string(),
        attempts: 0,
        next_attempt_at: ts(now),
        lease_until: None,
        lease_owner: None,
        last_error: None,
        created_at: ts(now),
        sent_at: None,
    }
}

/// Writes the outbox rows of a command's events. Call it inside the command's transaction.
pub fn enqueue(
    conn: &mut DbConn,
    c: &Collaboration,
    events: &[DomainEvent],
    registers: &BTreeMap<RegisterId, RegisterFacts>,
    now: DateTime<Utc>,
) -> Result<usize, AppError> {
    let mut rows = Vec::new();
    for event in events {
        let data = data_of(c, event, registers);
        let mut seen = BTreeSet::new();
        for (org, role) in recipients_of(c, event, registers) {
            for p in store::people_with_role(conn, &org, role)? {
                // A person holding the role twice hears of the event once.
                if seen.insert(p.account.to_string()) {
                    rows.push(row_for(
                        &p,
                        Some(c.id.as_str()),
                        event.code(),
                        KIND_NOTICE,
                        None,
                        &data,
                        now,
                    ));
                }
            }
        }
    }
    Ok(store::insert(conn, &rows)?)
}
