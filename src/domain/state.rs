//! Reading stored collaboration state (lagrat tillstånd). The state is stored as JSON carrying its
//! `state_version`; an older shape is upcast here when read, step by step, and never rewritten in place by a
//! migration (DESIGN.md, "Versioned state"). Audit events keep the shape they were written with.
use serde_json::{json, Map, Value};

use super::collaboration::{Collaboration, STATE_VERSION};

/// Why stored state could not be read.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("stored collaboration state is not JSON: {0}")]
    NotJson(serde_json::Error),
    #[error(
        "stored collaboration state has version {0}, newer than this program ({STATE_VERSION})"
    )]
    TooNew(u64),
    #[error("stored collaboration state (version {version}) does not match its shape: {source}")]
    Shape {
        version: u64,
        source: serde_json::Error,
    },
}

/// Parses stored state of any known version into the current [`Collaboration`].
pub fn load(text: &str) -> Result<Collaboration, StateError> {
    let v: Value = serde_json::from_str(text).map_err(StateError::NotJson)?;
    upcast(v)
}

/// Upcasts a state value of any known version to the current one and parses it.
pub fn upcast(mut v: Value) -> Result<Collaboration, StateError> {
    let version = v.get("state_version").and_then(Value::as_u64).unwrap_or(1);
    if version > u64::from(STATE_VERSION) {
        return Err(StateError::TooNew(version));
    }
    if version < 2 {
        if let Some(o) = v.as_object_mut() {
            v1_to_v2(o);
        }
    }
    serde_json::from_value(v).map_err(|source| StateError::Shape { version, source })
}

/// Version 1 → 2: the feasibility answer becomes one per register (a version-1 answer covered every
/// register); a refusal's single ground becomes a list; the agreement record names clauses instead of two
/// booleans and keeps the typed-in reference as `legacy_reference`.
fn v1_to_v2(o: &mut Map<String, Value>) {
    let registers: Vec<Value> = o
        .get("registers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let feasibility = match o.remove("feasibility") {
        Some(Value::Object(f)) => registers
            .iter()
            .map(|r| {
                let mut f = f.clone();
                f.insert("register".into(), r.clone());
                Value::Object(f)
            })
            .collect(),
        _ => vec![],
    };
    o.insert("feasibility".into(), Value::Array(feasibility));
    if let Some(reviews) = o.get_mut("cpua_reviews").and_then(Value::as_array_mut) {
        for r in reviews {
            if let Some(d) = r.get_mut("decision").and_then(Value::as_object_mut) {
                let grounds = match d.remove("ground") {
                    Some(Value::Null) | None => vec![],
                    Some(g) => vec![g],
                };
                d.insert("grounds".into(), Value::Array(grounds));
            }
        }
    }
    if let Some(Value::Object(a)) = o.remove("agreement") {
        let mut clauses = vec![];
        if a.get("confidentiality_reservation") == Some(&Value::Bool(true)) {
            clauses.push(json!("confidentiality_reservation"));
        }
        if a.get("data_processing_agreement") == Some(&Value::Bool(true)) {
            clauses.push(json!("data_processing_agreement"));
        }
        o.insert(
            "agreement".into(),
            json!({
                "version": 0,
                "digest": "",
                "signed_on": a.get("signed_on").cloned().unwrap_or(Value::Null),
                "clauses": clauses,
                "legacy_reference": a.get("reference").cloned().unwrap_or(Value::Null),
                "recorded_by": a.get("recorded_by").cloned().unwrap_or(Value::Null),
            }),
        );
    } else {
        o.insert("agreement".into(), Value::Null);
    }
    o.insert("state_version".into(), json!(2));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::classification::ClauseCode;
    use crate::domain::collaboration::RefusalGround;

    /// A state as version 1 stored it (no `state_version`), with a feasibility answer, a refusal with
    /// its one ground and a recorded agreement.
    fn v1() -> Value {
        json!({
            "id": "5f0c8b5e-0000-4000-8000-000000000001",
            "reference": "SAM-2026-0001",
            "title": "T", "purpose": "P", "research_question": "Q", "is_research": true,
            "research_principal": null,
            "company": "5f0c8b5e-0000-4000-8000-000000000002",
            "registers": ["5f0c8b5e-0000-4000-8000-00000000000a", "5f0c8b5e-0000-4000-8000-00000000000b"],
            "requested_variables": [], "data_kind": "pseudonymised", "linkage": [],
            "recipient_countries": [], "step": "data_release",
            "feasibility": {
                "feasible": true, "estimated_weeks": 4, "estimated_cost": null,
                "extraction_charged": false, "agrees_on_type": null, "comment": null,
                "recorded_at": "2026-09-01T09:00:00Z",
                "recorded_by": "5f0c8b5e-0000-4000-8000-000000000003"
            },
            "ethics": null,
            "cpua_reviews": [{
                "cpua": "5f0c8b5e-0000-4000-8000-000000000004", "cpua_name": "Region A",
                "registers": ["5f0c8b5e-0000-4000-8000-00000000000a"],
                "application_submitted_at": null, "dossier": {},
                "application_complete_at": null, "decision_due_on": null,
                "decision": {
                    "outcome": "refused", "decided_at": "2026-09-02T09:00:00Z",
                    "decided_by": "5f0c8b5e-0000-4000-8000-000000000005",
                    "reasons": "R", "conditions": null, "ground": "harm_to_individual",
                    "dpo_consulted_on": "2026-09-01", "appeal": null
                },
                "release": null
            }],
            "agreement": {
                "reference": "AVT-1", "signed_on": "2026-09-03",
                "confidentiality_reservation": true, "data_processing_agreement": false,
                "recorded_by": "5f0c8b5e-0000-4000-8000-000000000005"
            },
            "cost_agreement": null, "publications": [], "report_back": null, "disposal": null,
            "amendments": [], "internal_notes": [], "withdrawal_reason": null,
            "created_at": "2026-09-01T09:00:00Z",
            "created_by": "5f0c8b5e-0000-4000-8000-000000000003", "closed_at": null
        })
    }

    #[test]
    fn version_1_state_is_upcast_to_the_current_shape() {
        let c = upcast(v1()).expect("upcasts");
        assert_eq!(c.state_version, STATE_VERSION);
        // The one answer covered both registers.
        assert_eq!(c.feasibility.len(), 2);
        assert_eq!(c.feasibility[1].register, c.registers[1]);
        let d = c.cpua_reviews[0].decision.as_ref().expect("decision");
        assert_eq!(d.grounds, vec![RefusalGround::HarmToIndividual]);
        let a = c.agreement.expect("agreement");
        assert!(a.holds(ClauseCode::ConfidentialityReservation));
        assert!(!a.holds(ClauseCode::DataProcessingAgreement));
        assert_eq!(a.legacy_reference.as_deref(), Some("AVT-1"));
        assert_eq!(a.version, 0);
    }

    #[test]
    fn current_state_round_trips_and_newer_state_is_refused() {
        let c = upcast(v1()).expect("upcasts");
        let text = serde_json::to_string(&c).expect("serialises");
        assert_eq!(load(&text).expect("loads"), c);
        let mut newer = serde_json::to_value(&c).expect("value");
        newer["state_version"] = json!(STATE_VERSION + 1);
        assert!(matches!(upcast(newer), Err(StateError::TooNew(_))));
    }

    #[test]
    fn corrupt_state_is_an_error_not_a_default() {
        assert!(matches!(load("{"), Err(StateError::NotJson(_))));
        let mut broken = v1();
        broken["step"] = json!("nowhere");
        assert!(matches!(upcast(broken), Err(StateError::Shape { .. })));
    }
}
