//! Writing and verifying the audit trail.
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use super::AppError;
use crate::db::{repo, DbConn};
use crate::domain::audit::{verify_chain, AuditEvent, BrokenLink};
use crate::domain::events::EventType;
use crate::domain::role::Actor;

/// The stream of a collaboration's events.
pub fn collaboration_stream(id: &str) -> String {
    format!("collaboration:{id}")
}

/// Appends an event to `stream` in the caller's transaction. The unique (stream, seq) key stops
/// two writers from forking a chain.
pub fn record(
    conn: &mut DbConn,
    stream: &str,
    actor: &Actor,
    event: EventType,
    before: Option<Value>,
    after: Option<Value>,
    now: DateTime<Utc>,
) -> Result<AuditEvent, AppError> {
    let prev = repo::last_event(conn, stream)?;
    let e = AuditEvent::seal(
        stream.to_string(),
        prev,
        now,
        (
            actor.account.as_str(),
            &actor.name,
            Some(actor.org.as_str()),
            actor.role.code(),
        ),
        event.code(),
        event.visibility(),
        before,
        after,
    );
    repo::insert_event(conn, &e)?;
    Ok(e)
}

/// The system itself, as the actor of start-up seeding.
pub fn system_actor() -> Actor {
    Actor {
        account: crate::domain::ids::AccountId::from_db("system".into()),
        name: "samverkan".into(),
        org: crate::domain::ids::OrgId::from_db("system".into()),
        role: crate::domain::role::Role::Administrator,
    }
}

/// The verdict on one stream.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StreamReport {
    pub stream: String,
    pub events: usize,
    pub intact: bool,
    #[schema(value_type = Option<Object>)]
    pub first_broken_link: Option<BrokenLink>,
}

pub fn verify_stream(conn: &mut DbConn, stream: &str) -> Result<StreamReport, AppError> {
    let events = repo::stream_events(conn, stream)?;
    let n = events.len();
    Ok(match verify_chain(&events) {
        Ok(_) => StreamReport {
            stream: stream.to_string(),
            events: n,
            intact: true,
            first_broken_link: None,
        },
        Err(b) => StreamReport {
            stream: stream.to_string(),
            events: n,
            intact: false,
            first_broken_link: Some(b),
        },
    })
}

pub fn verify_all(conn: &mut DbConn) -> Result<Vec<StreamReport>, AppError> {
    repo::all_streams(conn)?
        .iter()
        .map(|s| verify_stream(conn, s))
        .collect()
}
