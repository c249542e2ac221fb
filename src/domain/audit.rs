//! The audit trail (granskningslogg): append-only events, hash-chained per stream.
//!
//! Each event's hash is SHA-256 over the previous event's hash and the event's canonical form
//! (JSON with keys sorted at every level). The schema version is inside the hashed form, so an older
//! event shape is converted when read, never rewritten in place.
use chrono::{DateTime, SubsecRound, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The hash that precedes the first event of a stream.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The current shape of an event's canonical form.
pub const SCHEMA_VERSION: i32 = 1;

/// Who may see an event (synlighet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Shown to every party of the collaboration.
    Party,
    /// Shown only inside the organisation that wrote it (an internal note, a lawyer's recommendation).
    Internal,
}

impl Visibility {
    pub fn code(self) -> &'static str {
        match self {
            Visibility::Party => "party",
            Visibility::Internal => "internal",
        }
    }
}

/// One audit event (händelse) as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEvent {
    pub stream: String,
    pub seq: i64,
    pub schema_version: i32,
    pub occurred_at: DateTime<Utc>,
    pub actor_account: String,
    pub actor_name: String,
    pub actor_org: Option<String>,
    pub actor_role: String,
    pub command: String,
    pub visibility: Visibility,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub prev_hash: String,
    pub hash: String,
}

/// Both databases keep microseconds at best: every time that is hashed is truncated to them.
pub fn truncate_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

fn sort_keys(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for k in keys {
                out.insert(k.clone(), sort_keys(&m[k]));
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(sort_keys).collect()),
        other => other.clone(),
    }
}

/// Writes JSON with object keys in sorted order regardless of how the map keeps them.
fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&m[k], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// A JSON value with its keys sorted, for storage.
pub fn canonical_value(v: &Value) -> Value {
    sort_keys(v)
}

impl AuditEvent {
    /// The canonical form that is hashed: every field but the hash itself.
    pub fn canonical(&self) -> String {
        let v = serde_json::json!({
            "schema_version": self.schema_version,
            "stream": self.stream,
            "seq": self.seq,
            "occurred_at": self.occurred_at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
            "actor_account": self.actor_account,
            "actor_name": self.actor_name,
            "actor_org": self.actor_org,
            "actor_role": self.actor_role,
            "command": self.command,
            "visibility": self.visibility.code(),
            "before": self.before,
            "after": self.after,
        });
        let mut s = String::new();
        write_canonical(&v, &mut s);
        s
    }

    pub fn compute_hash(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.prev_hash.as_bytes());
        h.update(b"\n");
        h.update(self.canonical().as_bytes());
        hex::encode(h.finalize())
    }

    /// Seals a new event after `prev` (or the genesis hash).
    #[allow(clippy::too_many_arguments)]
    pub fn seal(
        stream: String,
        prev: Option<(i64, String)>,
        occurred_at: DateTime<Utc>,
        actor: (&str, &str, Option<&str>, &str),
        command: &str,
        visibility: Visibility,
        before: Option<Value>,
        after: Option<Value>,
    ) -> AuditEvent {
        let (seq, prev_hash) = match prev {
            Some((s, h)) => (s + 1, h),
            None => (1, GENESIS.to_string()),
        };
        let mut e = AuditEvent {
            stream,
            seq,
            schema_version: SCHEMA_VERSION,
            occurred_at: truncate_micros(occurred_at),
            actor_account: actor.0.to_string(),
            actor_name: actor.1.to_string(),
            actor_org: actor.2.map(str::to_string),
            actor_role: actor.3.to_string(),
            command: command.to_string(),
            visibility,
            before: before.as_ref().map(sort_keys),
            after: after.as_ref().map(sort_keys),
            prev_hash,
            hash: String::new(),
        };
        e.hash = e.compute_hash();
        e
    }
}

/// The first place where a chain does not hold (brutet led).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BrokenLink {
    pub stream: String,
    pub seq: i64,
    pub reason: String,
}

/// Checks one stream's events, in sequence order.
pub fn verify_chain(events: &[AuditEvent]) -> Result<usize, BrokenLink> {
    let mut prev_hash = GENESIS.to_string();
    for (i, e) in events.iter().enumerate() {
        let expected_seq = i64::try_from(i).unwrap_or(i64::MAX) + 1;
        let broken = |reason: String| BrokenLink {
            stream: e.stream.clone(),
            seq: e.seq,
            reason,
        };
        if e.seq != expected_seq {
            return Err(broken(format!(
                "sequence number {} where {expected_seq} was expected: an event is missing",
                e.seq
            )));
        }
        if e.prev_hash != prev_hash {
            return Err(broken(
                "the previous-hash field does not match the previous event's hash".into(),
            ));
        }
        if e.compute_hash() != e.hash {
            return Err(broken(
                "the event's content does not match its hash: it was changed after it was written"
                    .into(),
            ));
        }
        prev_hash = e.hash.clone();
    }
    Ok(events.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn chain(n: usize) -> Vec<AuditEvent> {
        let mut out: Vec<AuditEvent> = Vec::new();
        for i in 0..n {
            let prev = out.last().map(|e| (e.seq, e.hash.clone()));
            out.push(AuditEvent::seal(
                "collaboration:x".into(),
                prev,
                Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap(),
                ("acc", "Anna", Some("org"), "company_representative"),
                "update_details",
                Visibility::Party,
                Some(serde_json::json!({"b": 1, "a": i})),
                Some(serde_json::json!({"title": format!("t{i}")})),
            ));
        }
        out
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(verify_chain(&chain(3)), Ok(3));
    }

    #[test]
    fn an_edited_event_breaks_the_chain_at_that_event() {
        let mut c = chain(3);
        c[1].after = Some(serde_json::json!({"title": "forged"}));
        let err = verify_chain(&c).unwrap_err();
        assert_eq!(err.seq, 2);
    }

    #[test]
    fn a_removed_event_breaks_the_chain() {
        let mut c = chain(3);
        c.remove(1);
        assert_eq!(verify_chain(&c).unwrap_err().seq, 3);
    }

    #[test]
    fn canonical_form_ignores_key_order() {
        let a = serde_json::json!({"x": 1, "y": {"b": 2, "a": 1}});
        let mut s1 = String::new();
        write_canonical(&a, &mut s1);
        assert_eq!(s1, r#"{"x":1,"y":{"a":1,"b":2}}"#);
    }
}
