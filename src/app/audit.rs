//! Writing and verifying the audit trail.
//!
//! `audit verify` checks, for every stream: the hash chain (each event's content, order and link);
//! for a collaboration, that its stored state hashes to the `state_hash` of the last event that
//! recorded one, and that every stored agreement file hashes to what the chain recorded (and to its
//! hash column); and that every signed checkpoint verifies and still matches the chain.
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

use super::checkpoint::{self, PublicKey};
use super::AppError;
use crate::db::{repo, DbConn};
use crate::domain::audit::{sha256_hex, state_hash, verify_chain, AuditEvent, BrokenLink, Payload};
use crate::domain::events::EventType;
use crate::domain::role::Actor;

/// The stream of a collaboration's events.
pub fn collaboration_stream(id: &str) -> String {
    format!("collaboration:{id}")
}

/// The name under which an event records an agreement version's file.
pub fn agreement_file_name(number: i32, format: &str) -> String {
    format!("agreement_version/{number}/{format}")
}

/// Appends an event to `stream` in the caller's transaction; `after` is the state the event
/// produced. The unique (stream, seq) key stops two writers from forking a chain.
pub fn record(
    conn: &mut DbConn,
    stream: &str,
    actor: &Actor,
    event: EventType,
    before: Option<Value>,
    after: Option<Value>,
    now: DateTime<Utc>,
) -> Result<AuditEvent, AppError> {
    let state = after.clone();
    record_payload(
        conn,
        stream,
        actor,
        event,
        Payload {
            before,
            after,
            state,
            files: BTreeMap::new(),
        },
        now,
    )
}

/// Appends an event whose `before`/`after` are not the subject's whole state (a classification, an
/// agreement version), with the subject's state after the event and the files the event stored.
pub fn record_payload(
    conn: &mut DbConn,
    stream: &str,
    actor: &Actor,
    event: EventType,
    payload: Payload,
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
        payload,
    );
    repo::insert_event(conn, &e)?;
    Ok(e)
}

/// A collaboration's state exactly as stored (no upcast), for an event that leaves it unchanged.
pub fn stored_state(conn: &mut DbConn, collaboration: &str) -> Result<Option<Value>, AppError> {
    repo::collaboration_state(conn, collaboration)?
        .map(|t| {
            serde_json::from_str(&t)
                .map_err(|e| AppError::Internal(anyhow::anyhow!("stored collaboration state: {e}")))
        })
        .transpose()
}

/// Appends an event about a collaboration that leaves its state unchanged (a document, a signature, a
/// completion request): the event's own `before`/`after`, with the collaboration's state as stored.
pub fn record_case_event(
    conn: &mut DbConn,
    actor: &Actor,
    collaboration: &str,
    event: EventType,
    before: Option<Value>,
    after: Value,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let state = stored_state(conn, collaboration)?;
    record_payload(
        conn,
        &collaboration_stream(collaboration),
        actor,
        event,
        Payload {
            before,
            after: Some(after),
            state,
            files: Default::default(),
        },
        now,
    )?;
    Ok(())
}

/// The system itself, as the actor of start-up seeding.
pub fn system_actor() -> Actor {
    Actor::new(
        crate::domain::ids::AccountId::from_db("system".into()),
        "samverkan",
        crate::domain::ids::OrgId::from_db("system".into()),
        crate::domain::role::Role::Administrator,
    )
}

/// The verdict on one stream.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StreamReport {
    pub stream: String,
    pub events: usize,
    /// No check failed.
    pub intact: bool,
    /// The first failed check (the same as `findings[0]`).
    #[schema(value_type = Option<Object>)]
    pub first_broken_link: Option<BrokenLink>,
    /// Every failed check, each with the stream, seq and which check (`chain`, `state`, `file`,
    /// `checkpoint`).
    #[schema(value_type = Vec<Object>)]
    pub findings: Vec<BrokenLink>,
    /// The newest signed checkpoint's sequence number, if the stream has one.
    pub checkpoint_seq: Option<i64>,
}

fn finding(stream: &str, seq: i64, check: &str, reason: String) -> BrokenLink {
    BrokenLink {
        stream: stream.to_string(),
        seq,
        check: check.to_string(),
        reason,
    }
}

/// The collaboration's stored state against the last `state_hash` the chain recorded.
fn check_state(
    conn: &mut DbConn,
    stream: &str,
    id: &str,
    events: &[AuditEvent],
) -> Result<Option<BrokenLink>, AppError> {
    let row = repo::collaboration_state(conn, id)?;
    let Some(last) = events.last() else {
        return Ok(row.map(|_| {
            finding(
                stream,
                0,
                "state",
                "the collaboration has no events: its state is vouched for by nothing".into(),
            )
        }));
    };
    let Some(text) = row else {
        return Ok(Some(finding(
            stream,
            last.seq,
            "state",
            "the chain records a collaboration whose row is missing".into(),
        )));
    };
    // Events of the first release carry full snapshots instead; their state is not checked here.
    if last.schema_version < 2 {
        return Ok(None);
    }
    let Some(recorded) = events
        .iter()
        .rev()
        .find_map(|e| e.state_hash.as_ref().map(|h| (e.seq, h)))
    else {
        return Ok(None);
    };
    let stored = serde_json::from_str::<Value>(&text).map(|v| state_hash(&v));
    Ok(match stored {
        Ok(h) if &h == recorded.1 => None,
        Ok(_) => Some(finding(stream, recorded.0, "state", format!(
            "the stored state does not match the state hash recorded by event {}: the state was changed outside the application",
            recorded.0
        ))),
        Err(_) => Some(finding(stream, recorded.0, "state", "the stored state is not valid JSON".into())),
    })
}

/// Every file hash the chain recorded: name → (seq, hash). Version-1 agreement events recorded
/// theirs inside `after`.
fn recorded_files(events: &[AuditEvent]) -> BTreeMap<String, (i64, String)> {
    let mut out = BTreeMap::new();
    for e in events {
        for (name, h) in &e.files {
            out.insert(name.clone(), (e.seq, h.clone()));
        }
        if e.schema_version == 1 {
            let Some(a) = &e.after else { continue };
            let (Some(n), Some(sha)) = (
                a.get("agreement_version").and_then(Value::as_i64),
                a.get("sha256").and_then(Value::as_object),
            ) else {
                continue;
            };
            for (format, h) in sha {
                if let (Ok(n), Some(h)) = (i32::try_from(n), h.as_str()) {
                    out.insert(agreement_file_name(n, format), (e.seq, h.to_string()));
                }
            }
        }
    }
    out
}

/// Every stored agreement file against the hash the chain recorded and its hash column.
fn check_files(
    conn: &mut DbConn,
    stream: &str,
    id: &str,
    events: &[AuditEvent],
) -> Result<Vec<BrokenLink>, AppError> {
    let mut recorded = recorded_files(events);
    let mut out = Vec::new();
    for version in repo::agreement_files(conn, id)? {
        for (format, bytes, column) in &version.files {
            let name = agreement_file_name(version.number, format);
            let actual = sha256_hex(bytes);
            match recorded.remove(&name) {
                None => out.push(finding(stream, 0, "file", format!(
                    "the {format} file of agreement version {} is not recorded in the audit trail",
                    version.number
                ))),
                Some((seq, h)) if h != actual => out.push(finding(stream, seq, "file", format!(
                    "the stored {format} file of agreement version {} does not match the hash event {seq} recorded: the file was replaced",
                    version.number
                ))),
                Some((seq, _)) if column != &actual => out.push(finding(stream, seq, "file", format!(
                    "the {format} file of agreement version {} does not match its hash column",
                    version.number
                ))),
                Some(_) => {}
            }
        }
    }
    for (name, (seq, _)) in recorded {
        out.push(finding(
            stream,
            seq,
            "file",
            format!("{name}, recorded by event {seq}, is missing"),
        ));
    }
    Ok(out)
}

/// Verifies one stream: its chain, what it vouches for (a collaboration's state and files) and its
/// signed checkpoints, checked with `key` (the configured signing key's public half).
pub fn verify_stream(
    conn: &mut DbConn,
    stream: &str,
    key: Option<&PublicKey>,
) -> Result<StreamReport, AppError> {
    let events = repo::stream_events(conn, stream)?;
    let mut findings = Vec::new();
    if let Err(b) = verify_chain(&events) {
        findings.push(b);
    }
    if let Some(id) = stream.strip_prefix("collaboration:") {
        findings.extend(check_state(conn, stream, id, &events)?);
        findings.extend(check_files(conn, stream, id, &events)?);
    }
    let checkpoints = repo::stream_checkpoints(conn, stream)?;
    findings.extend(checkpoint::verify_checkpoints(&events, &checkpoints, key));
    Ok(StreamReport {
        stream: stream.to_string(),
        events: events.len(),
        intact: findings.is_empty(),
        first_broken_link: findings.first().cloned(),
        findings,
        checkpoint_seq: checkpoints.iter().map(|c| c.seq).max(),
    })
}

/// Verifies every stream there is: those with events or checkpoints, and every collaboration.
pub fn verify_all(
    conn: &mut DbConn,
    key: Option<&PublicKey>,
) -> Result<Vec<StreamReport>, AppError> {
    let mut streams: BTreeSet<String> = repo::all_streams(conn)?.into_iter().collect();
    let mut after: Option<String> = None;
    loop {
        let ids = repo::collaboration_ids(conn, after.as_deref(), 1000)?;
        let Some(last) = ids.last().cloned() else {
            break;
        };
        streams.extend(ids.iter().map(|i| collaboration_stream(i)));
        after = Some(last);
    }
    streams
        .iter()
        .map(|s| verify_stream(conn, s, key))
        .collect()
}
