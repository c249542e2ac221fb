//! The audit trail (granskningslogg): append-only events, hash-chained per stream.
//!
//! Each event's hash is SHA-256 over the previous event's hash and the event's canonical form
//! (JSON with keys sorted at every level). The schema version is inside the hashed form, so an older
//! event shape is converted when read, never rewritten in place.
//!
//! - Version 1 (the first release) hashes the full `before` and `after` values of every event.
//! - Version 2 hashes the `change` (an RFC 6902 JSON patch from before to after, see [`change`]), the
//!   `state_hash` (SHA-256 of the canonical form of the state of the stream's subject after the event)
//!   and `files` (name → SHA-256 of every file the event stored). The state itself lives in its own
//!   row and is checked against the last `state_hash`; files are checked against `files`.
//! - Version 3 hashes exactly what version 2 hashes (the canonical JSON, with its own version
//!   number); only the storage differs: the change is stored deflated, and the previous hash is not
//!   stored again but read from the previous event of the stream (`db::repo::stream_events`). A
//!   version-2 event keeps its stored JSON change and previous hash and reads as before.
use chrono::{DateTime, SubsecRound, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

pub mod change;

/// The hash that precedes the first event of a stream.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The current shape of an event's canonical form.
pub const SCHEMA_VERSION: i32 = 3;

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
    /// Version 1 only: the value before the event.
    pub before: Option<Value>,
    /// Version 1 only: the value after the event.
    pub after: Option<Value>,
    /// Version 2 and later: what the event changed, an RFC 6902 JSON patch (an array of operations).
    pub change: Option<Value>,
    /// Version 2: SHA-256 of the canonical form of the subject's state after the event; `None` when
    /// the stream's subject has no state.
    pub state_hash: Option<String>,
    /// Version 2: every file the event stored, name → SHA-256 of its bytes.
    pub files: BTreeMap<String, String>,
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

/// The canonical text of a JSON value (keys sorted at every level, no whitespace).
pub fn canonical_text(v: &Value) -> String {
    let mut s = String::new();
    write_canonical(v, &mut s);
    s
}

/// SHA-256 (hex) of the canonical form of a state: what an event's `state_hash` records.
pub fn state_hash(v: &Value) -> String {
    sha256_hex(canonical_text(v).as_bytes())
}

/// SHA-256 of bytes, hex-encoded: what an event's `files` record for each file.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// What a version-2 event records besides who did what, when.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Payload {
    /// The value before the event (`None`: there was none, e.g. at creation).
    pub before: Option<Value>,
    /// The value after the event.
    pub after: Option<Value>,
    /// The state of the stream's subject after the event, hashed into `state_hash`.
    pub state: Option<Value>,
    /// Every file the event stored: name → SHA-256.
    pub files: BTreeMap<String, String>,
}

impl AuditEvent {
    /// The canonical form that is hashed: every field of the event's schema version but the hash.
    pub fn canonical(&self) -> String {
        let mut v = serde_json::json!({
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
        });
        if let Some(o) = v.as_object_mut() {
            if self.schema_version == 1 {
                o.insert("before".into(), self.before.clone().into());
                o.insert("after".into(), self.after.clone().into());
            } else {
                o.insert("change".into(), self.change.clone().into());
                o.insert("state_hash".into(), self.state_hash.clone().into());
                o.insert(
                    "files".into(),
                    Value::Object(
                        self.files
                            .iter()
                            .map(|(k, h)| (k.clone(), Value::String(h.clone())))
                            .collect(),
                    ),
                );
            }
        }
        canonical_text(&v)
    }

    pub fn compute_hash(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.prev_hash.as_bytes());
        h.update(b"\n");
        h.update(self.canonical().as_bytes());
        hex::encode(h.finalize())
    }

    /// What the event changed, in the current shape: a version-2 event's patch as stored, a
    /// version-1 event's before and after converted to one when read.
    pub fn change_ops(&self) -> Value {
        match (&self.change, self.schema_version) {
            (Some(c), _) => c.clone(),
            (None, 1) => change::diff(self.before.as_ref(), self.after.as_ref()),
            (None, _) => Value::Array(vec![]),
        }
    }

    /// Seals a new event of the current schema version after `prev` (or the genesis hash): the change
    /// from `before` to `after` is computed here, the state and the files are hashed.
    pub fn seal(
        stream: String,
        prev: Option<(i64, String)>,
        occurred_at: DateTime<Utc>,
        actor: (&str, &str, Option<&str>, &str),
        command: &str,
        visibility: Visibility,
        payload: Payload,
    ) -> AuditEvent {
        Self::seal_version(
            SCHEMA_VERSION,
            stream,
            prev,
            occurred_at,
            actor,
            command,
            visibility,
            payload,
        )
    }

    /// Seals an event in the version-2 shape (stored with its JSON change and previous hash), as the
    /// releases before version 3 wrote them: for tests of reading and verifying old events.
    pub fn seal_v2(
        stream: String,
        prev: Option<(i64, String)>,
        occurred_at: DateTime<Utc>,
        actor: (&str, &str, Option<&str>, &str),
        command: &str,
        visibility: Visibility,
        payload: Payload,
    ) -> AuditEvent {
        Self::seal_version(
            2,
            stream,
            prev,
            occurred_at,
            actor,
            command,
            visibility,
            payload,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn seal_version(
        version: i32,
        stream: String,
        prev: Option<(i64, String)>,
        occurred_at: DateTime<Utc>,
        actor: (&str, &str, Option<&str>, &str),
        command: &str,
        visibility: Visibility,
        payload: Payload,
    ) -> AuditEvent {
        let change = change::diff(
            payload.before.as_ref().map(sort_keys).as_ref(),
            payload.after.as_ref().map(sort_keys).as_ref(),
        );
        let mut e = Self::unsealed(stream, prev, occurred_at, actor, command, visibility);
        e.schema_version = version;
        e.change = Some(change);
        e.state_hash = payload.state.as_ref().map(state_hash);
        e.files = payload.files;
        e.hash = e.compute_hash();
        e
    }

    /// Seals an event in the version-1 shape (full before and after), as the first release wrote
    /// them: for tests of reading and verifying old events.
    #[allow(clippy::too_many_arguments)]
    pub fn seal_v1(
        stream: String,
        prev: Option<(i64, String)>,
        occurred_at: DateTime<Utc>,
        actor: (&str, &str, Option<&str>, &str),
        command: &str,
        visibility: Visibility,
        before: Option<Value>,
        after: Option<Value>,
    ) -> AuditEvent {
        let mut e = Self::unsealed(stream, prev, occurred_at, actor, command, visibility);
        e.schema_version = 1;
        e.before = before.as_ref().map(sort_keys);
        e.after = after.as_ref().map(sort_keys);
        e.hash = e.compute_hash();
        e
    }

    fn unsealed(
        stream: String,
        prev: Option<(i64, String)>,
        occurred_at: DateTime<Utc>,
        actor: (&str, &str, Option<&str>, &str),
        command: &str,
        visibility: Visibility,
    ) -> AuditEvent {
        let (seq, prev_hash) = match prev {
            Some((s, h)) => (s + 1, h),
            None => (1, GENESIS.to_string()),
        };
        AuditEvent {
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
            before: None,
            after: None,
            change: None,
            state_hash: None,
            files: BTreeMap::new(),
            prev_hash,
            hash: String::new(),
        }
    }
}

/// The first place where a chain, or what it vouches for, does not hold (brutet led).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BrokenLink {
    pub stream: String,
    pub seq: i64,
    /// Which check failed: `chain` (an event's content, order or link), `state` (the stored state
    /// against the last `state_hash`), `file` (a stored file against the hash the chain recorded),
    /// `checkpoint` (the chain against a signed checkpoint) or `heads` (against exported heads).
    pub check: String,
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
            check: "chain".into(),
            reason,
        };
        if e.seq != expected_seq {
            return Err(broken(format!(
                "sequence number {} where {expected_seq} was expected: an event is missing",
                e.seq
            )));
        }
        if !(1..=SCHEMA_VERSION).contains(&e.schema_version) {
            return Err(broken(format!(
                "unknown event schema version {}",
                e.schema_version
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

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap()
    }

    const ACTOR: (&str, &str, Option<&str>, &str) =
        ("acc", "Anna", Some("org"), "company_representative");

    fn chain_v1(n: usize) -> Vec<AuditEvent> {
        let mut out: Vec<AuditEvent> = Vec::new();
        for i in 0..n {
            let prev = out.last().map(|e| (e.seq, e.hash.clone()));
            out.push(AuditEvent::seal_v1(
                "collaboration:x".into(),
                prev,
                at(),
                ACTOR,
                "update_details",
                Visibility::Party,
                Some(serde_json::json!({"b": 1, "a": i})),
                Some(serde_json::json!({"title": format!("t{i}")})),
            ));
        }
        out
    }

    fn chain(n: usize) -> Vec<AuditEvent> {
        chain_version(n, SCHEMA_VERSION)
    }

    fn chain_version(n: usize, version: i32) -> Vec<AuditEvent> {
        let mut out: Vec<AuditEvent> = Vec::new();
        let mut state = serde_json::json!({"title": "t", "step": "preparation"});
        for i in 0..n {
            let prev = out.last().map(|e| (e.seq, e.hash.clone()));
            let before = (i > 0).then(|| state.clone());
            state["title"] = format!("t{i}").into();
            let mut files = BTreeMap::new();
            files.insert(format!("agreement_version/{i}/pdf"), sha256_hex(b"%PDF"));
            out.push(AuditEvent::seal_version(
                version,
                "collaboration:x".into(),
                prev,
                at(),
                ACTOR,
                "update_details",
                Visibility::Party,
                Payload {
                    before,
                    after: Some(state.clone()),
                    state: Some(state.clone()),
                    files,
                },
            ));
        }
        out
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(verify_chain(&chain(3)), Ok(3));
    }

    #[test]
    fn version_1_events_keep_their_hashes_and_verify_as_before() {
        // Golden hashes of the first release's canonical form: a change to how version-1 events are
        // hashed would make every stored version-1 event look tampered with.
        let c = chain_v1(3);
        assert_eq!(
            c[0].hash,
            "2cc9221188b6b5b9ad457e854dc1ceacc82c61bc6783bcb293a59da13a862df3"
        );
        assert_eq!(
            c[2].hash,
            "cfec5aed295e404e44d9a08d6afa8b462b1fe424173e6602c1cba67541f20e9e"
        );
        assert_eq!(verify_chain(&c), Ok(3));
    }

    #[test]
    fn version_2_canonical_form_has_a_golden_hash() {
        let c = chain_version(1, 2);
        assert_eq!(
            c[0].canonical(),
            concat!(
                r#"{"actor_account":"acc","actor_name":"Anna","actor_org":"org","actor_role":"company_representative","#,
                r#""change":[{"op":"add","path":"","value":{"step":"preparation","title":"t0"}}],"#,
                r#""command":"update_details","files":{"agreement_version/0/pdf":"#,
                r#""315d429b7714cedb6ad04ac31240145257692630457f3c88253c5beceac76027"},"#,
                r#""occurred_at":"2026-01-01T12:00:00.000000Z","schema_version":2,"seq":1,"#,
                r#""state_hash":"STATE","stream":"collaboration:x","visibility":"party"}"#
            )
            .replace(
                "STATE",
                &state_hash(&serde_json::json!({"step": "preparation", "title": "t0"}))
            )
        );
        assert_eq!(
            c[0].hash,
            "9517c742713fabc471d6bb5a3c1647d442a515ab10e453b3216c8c1ed03d8cea"
        );
    }

    #[test]
    fn version_3_hashes_the_same_canonical_form_as_version_2_with_its_own_number() {
        let v2 = chain_version(1, 2);
        let v3 = chain_version(1, 3);
        assert_eq!(
            v3[0].canonical(),
            v2[0]
                .canonical()
                .replace(r#""schema_version":2"#, r#""schema_version":3"#)
        );
        assert_ne!(v2[0].hash, v3[0].hash);
        // A stream begun in version 2 and continued in version 3 verifies across the switch.
        let mut c = chain_version(2, 2);
        let prev = c.last().map(|e| (e.seq, e.hash.clone()));
        c.push(AuditEvent::seal(
            "collaboration:x".into(),
            prev,
            at(),
            ACTOR,
            "update_details",
            Visibility::Party,
            Payload {
                before: Some(serde_json::json!({"title": "t1"})),
                after: Some(serde_json::json!({"title": "t2"})),
                state: None,
                files: BTreeMap::new(),
            },
        ));
        assert_eq!(c[2].schema_version, 3);
        assert_eq!(verify_chain(&c), Ok(3));
    }

    #[test]
    fn a_version_1_and_version_2_chain_verifies_across_the_switch() {
        let mut c = chain_v1(2);
        let prev = c.last().map(|e| (e.seq, e.hash.clone()));
        c.push(AuditEvent::seal(
            "collaboration:x".into(),
            prev,
            at(),
            ACTOR,
            "update_details",
            Visibility::Party,
            Payload {
                before: Some(serde_json::json!({"title": "t1"})),
                after: Some(serde_json::json!({"title": "t2"})),
                state: None,
                files: BTreeMap::new(),
            },
        ));
        assert_eq!(verify_chain(&c), Ok(3));
        assert_eq!(
            c[2].change_ops(),
            serde_json::json!([{"op": "replace", "path": "/title", "value": "t2"}])
        );
        // A version-1 event's change is derived from its before and after when read.
        assert_eq!(
            c[1].change_ops(),
            serde_json::json!([
                {"op": "remove", "path": "/a"},
                {"op": "remove", "path": "/b"},
                {"op": "add", "path": "/title", "value": "t1"}
            ])
        );
    }

    #[test]
    fn an_edited_event_breaks_the_chain_at_that_event() {
        let mut c = chain(3);
        c[1].change = Some(serde_json::json!([{"op": "replace", "path": "/title", "value": "x"}]));
        let err = verify_chain(&c).unwrap_err();
        assert_eq!((err.seq, err.check.as_str()), (2, "chain"));
        let mut c = chain(3);
        c[1].state_hash = Some(state_hash(&serde_json::json!({"title": "forged"})));
        assert_eq!(verify_chain(&c).unwrap_err().seq, 2);
        let mut c = chain(3);
        c[2].files
            .insert("agreement_version/2/pdf".into(), sha256_hex(b"forged"));
        assert_eq!(verify_chain(&c).unwrap_err().seq, 3);
        let mut c = chain_v1(3);
        c[1].after = Some(serde_json::json!({"title": "forged"}));
        assert_eq!(verify_chain(&c).unwrap_err().seq, 2);
    }

    #[test]
    fn a_changed_schema_version_breaks_the_chain() {
        let mut c = chain(2);
        c[1].schema_version = 1;
        assert_eq!(verify_chain(&c).unwrap_err().seq, 2);
        let mut c = chain(2);
        c[1].schema_version = 2;
        assert_eq!(verify_chain(&c).unwrap_err().seq, 2);
        let mut c = chain(2);
        c[1].schema_version = 4;
        let err = verify_chain(&c).unwrap_err();
        assert!(err.reason.contains("schema version 4"), "{}", err.reason);
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
        assert_eq!(canonical_text(&a), r#"{"x":1,"y":{"a":1,"b":2}}"#);
        assert_eq!(
            state_hash(&a),
            state_hash(&serde_json::json!({"y": {"a": 1, "b": 2}, "x": 1}))
        );
    }
}
