//! Reading and writing stored collaboration state (lagrat tillstånd). The state is stored as JSON carrying
//! its `state_version`; an older shape is upcast here when read, step by step, and never rewritten in place
//! by a migration (DESIGN.md, "Versioned state"). Audit events keep the shape they were written with.
//!
//! Version 3 stores a classification compactly: the rulebook version, the facts and resolved registers
//! the classifier read, the decided type and obligation codes, and legal's overrides. The full result
//! (labels, reasons, sources, documents, clauses, missing facts, sensitivity) is recomputed on read by
//! the pure classifier with that rulebook version, and must agree with the stored codes: a rulebook
//! changed under the same version is an error, not a silently different classification. A
//! classification read from an older state has no stored inputs and is stored whole, as before.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::classification::{
    classify, CollaborationType, Facts, ObligationCode, RegisterInfo, RulebookSet,
};
use super::collaboration::{
    ClassificationRecord, ClassifiedInputs, Collaboration, ObligationOverride, TypeOverride,
    STATE_VERSION,
};

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
    #[error("stored classification names rulebook version {0}, which this program does not have")]
    UnknownRulebook(String),
    #[error(
        "stored classification does not match what rulebook version {0} concludes from its stored facts \
         (the rulebook changed under the same version)"
    )]
    ClassificationDiffers(String),
}

/// The stored form of a classification from state version 3 (kompakt klassificering).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompactClassification {
    pub rulebook_version: String,
    pub facts: Facts,
    pub registers: Vec<RegisterInfo>,
    /// The type the rulebook decided; `None` while unclassified.
    #[serde(rename = "type")]
    pub collaboration_type: Option<CollaborationType>,
    /// The obligations the rulebook derived, in its order.
    pub obligations: Vec<ObligationCode>,
    pub classified_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_override: Option<TypeOverride>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub obligation_overrides: Vec<ObligationOverride>,
}

impl CompactClassification {
    /// The compact form of a record, or `None` when the record has no stored inputs (it was read from
    /// a state older than version 3 and is stored whole).
    pub fn of(rec: &ClassificationRecord) -> Option<CompactClassification> {
        let inputs = rec.inputs.as_ref()?;
        Some(CompactClassification {
            rulebook_version: rec.result.rulebook_version.clone(),
            facts: inputs.facts.clone(),
            registers: inputs.registers.clone(),
            collaboration_type: rec.result.outcome.collaboration_type(),
            obligations: rec.result.obligation_codes(),
            classified_at: rec.classified_at,
            type_override: rec.type_override.clone(),
            obligation_overrides: rec.obligation_overrides.clone(),
        })
    }

    /// Recomputes the full record with the stored rulebook version, checking it against the stored codes.
    pub fn hydrate(self, rulebooks: &RulebookSet) -> Result<ClassificationRecord, StateError> {
        let book = rulebooks
            .by_version(&self.rulebook_version)
            .ok_or_else(|| StateError::UnknownRulebook(self.rulebook_version.clone()))?;
        let result = classify(book, &self.facts, &self.registers);
        if result.outcome.collaboration_type() != self.collaboration_type
            || result.obligation_codes() != self.obligations
        {
            return Err(StateError::ClassificationDiffers(self.rulebook_version));
        }
        Ok(ClassificationRecord {
            result,
            classified_at: self.classified_at,
            type_override: self.type_override,
            obligation_overrides: self.obligation_overrides,
            inputs: Some(ClassifiedInputs {
                facts: self.facts,
                registers: self.registers,
            }),
        })
    }
}

/// The JSON to store for a collaboration: its fields, with the classification in compact form when it
/// can be (see the module documentation), and without the top-level fields that are absent (`null`)
/// or empty lists, which read back as such. Its hash is what an event's `state_hash` records.
pub fn to_stored(c: &Collaboration) -> Result<Value, serde_json::Error> {
    let mut v = serde_json::to_value(c)?;
    if let Some(o) = v.as_object_mut() {
        o.retain(|k, x| match x {
            Value::Null => false,
            Value::Array(a) => !a.is_empty(),
            Value::Object(m) => !(m.is_empty() && (k == "intake" || k == "evidence")),
            _ => true,
        });
        if let Some(compact) = c
            .classification
            .as_ref()
            .and_then(CompactClassification::of)
        {
            o.insert("classification".into(), serde_json::to_value(compact)?);
        }
    }
    Ok(v)
}

/// Parses stored state of any known version into the current [`Collaboration`], recomputing a compact
/// classification with `rulebooks`.
pub fn load(text: &str, rulebooks: &RulebookSet) -> Result<Collaboration, StateError> {
    let v: Value = serde_json::from_str(text).map_err(StateError::NotJson)?;
    upcast(v, rulebooks)
}

/// Parses stored state for a list line, which never reads the classification: the classification is
/// left out (`None`) rather than recomputed. Use [`load`] for anything that decides or shows more.
pub fn load_for_summary(text: &str) -> Result<Collaboration, StateError> {
    let v: Value = serde_json::from_str(text).map_err(StateError::NotJson)?;
    let (c, _) = upcast_parts(v)?;
    Ok(c)
}

/// Upcasts a state value of any known version to the current one and parses it.
pub fn upcast(v: Value, rulebooks: &RulebookSet) -> Result<Collaboration, StateError> {
    let (mut c, classification) = upcast_parts(v)?;
    c.classification = match classification {
        None => None,
        Some(Stored::Whole(rec)) => Some(*rec),
        Some(Stored::Compact(compact)) => Some(compact.hydrate(rulebooks)?),
    };
    Ok(c)
}

/// A stored classification: whole (before version 3, or without stored inputs) or compact.
enum Stored {
    Whole(Box<ClassificationRecord>),
    Compact(Box<CompactClassification>),
}

/// Upcasts and parses everything but the classification, which is returned parsed but not recomputed.
fn upcast_parts(mut v: Value) -> Result<(Collaboration, Option<Stored>), StateError> {
    let version = v.get("state_version").and_then(Value::as_u64).unwrap_or(1);
    if version > u64::from(STATE_VERSION) {
        return Err(StateError::TooNew(version));
    }
    let Some(o) = v.as_object_mut() else {
        return Err(StateError::Shape {
            version,
            source: serde::de::Error::custom("not an object"),
        });
    };
    if version < 2 {
        v1_to_v2(o);
    }
    if version < 3 {
        // Version 2 → 3 changes only how a classification may be stored; a whole one still reads.
        o.insert("state_version".into(), json!(3));
    }
    let shape = |source| StateError::Shape { version, source };
    let classification = match o.remove("classification") {
        None | Some(Value::Null) => None,
        Some(rec) if rec.get("result").is_some() => Some(Stored::Whole(Box::new(
            serde_json::from_value(rec).map_err(shape)?,
        ))),
        Some(rec) => Some(Stored::Compact(Box::new(
            serde_json::from_value(rec).map_err(shape)?,
        ))),
    };
    let c: Collaboration = serde_json::from_value(v).map_err(shape)?;
    Ok((c, classification))
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

    fn shipped() -> RulebookSet {
        let kit = crate::domain::lifecycle::testkit::Kit::new();
        RulebookSet::new(vec![kit.rulebook.clone()]).expect("one rulebook")
    }

    /// A collaboration classified by the shipped rulebook (the path production takes), with legal's
    /// override of one obligation.
    fn classified() -> Collaboration {
        let kit = crate::domain::lifecycle::testkit::Kit::new();
        let mut c = kit.collab(crate::domain::lifecycle::testkit::Scenario::pharma());
        let rec = c.classification.as_mut().expect("classified");
        rec.obligation_overrides
            .push(crate::domain::collaboration::ObligationOverride {
                code: ObligationCode::LegalReview,
                waive: false,
                reason: "R".into(),
                by: c.created_by.clone(),
                at: c.created_at,
            });
        c
    }

    #[test]
    fn a_classification_is_stored_compactly_and_read_back_equal() {
        let c = classified();
        let stored = to_stored(&c).expect("stores");
        let rec = &stored["classification"];
        assert!(rec.get("result").is_none(), "{rec}");
        assert!(rec["facts"].is_object() && rec["registers"].is_array());
        let full = serde_json::to_string(&c).expect("serialises").len();
        let compact = stored.to_string().len();
        assert!(compact * 2 < full, "compact {compact} B, whole {full} B");
        let back = load(&stored.to_string(), &shipped()).expect("loads");
        assert_eq!(back, c);
        // Stored again, it is the same bytes: the state hash of an unchanged state does not move.
        assert_eq!(to_stored(&back).expect("stores"), stored);
    }

    #[test]
    fn a_version_2_state_with_the_whole_classification_reads_back_equal() {
        let c = classified();
        let mut v2 = serde_json::to_value(&c).expect("value");
        v2["state_version"] = json!(2);
        let mut expected = c.clone();
        if let Some(rec) = expected.classification.as_mut() {
            rec.inputs = None;
        }
        // No rulebook is needed: the whole result was stored.
        let back = upcast(v2, &RulebookSet::default()).expect("upcasts");
        assert_eq!(back.state_version, STATE_VERSION);
        assert_eq!(back, expected);
        // Without its inputs it is stored whole again, and still reads back equal.
        let stored = to_stored(&back).expect("stores");
        assert!(stored["classification"]["result"].is_object());
        assert_eq!(
            load(&stored.to_string(), &RulebookSet::default()).expect("loads"),
            back
        );
    }

    #[test]
    fn a_compact_classification_needs_its_rulebook_and_must_agree_with_it() {
        let stored = to_stored(&classified()).expect("stores");
        assert!(matches!(
            load(&stored.to_string(), &RulebookSet::default()),
            Err(StateError::UnknownRulebook(_))
        ));
        let mut changed = stored.clone();
        let obligations = changed["classification"]["obligations"]
            .as_array_mut()
            .expect("codes");
        obligations.pop();
        assert!(matches!(
            upcast(changed, &shipped()),
            Err(StateError::ClassificationDiffers(_))
        ));
        let summary = load_for_summary(&stored.to_string()).expect("loads");
        assert!(summary.classification.is_none());
    }

    #[test]
    fn version_1_state_is_upcast_to_the_current_shape() {
        let c = upcast(v1(), &RulebookSet::default()).expect("upcasts");
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
        let c = upcast(v1(), &RulebookSet::default()).expect("upcasts");
        let text = serde_json::to_string(&c).expect("serialises");
        assert_eq!(load(&text, &RulebookSet::default()).expect("loads"), c);
        let mut newer = serde_json::to_value(&c).expect("value");
        newer["state_version"] = json!(STATE_VERSION + 1);
        assert!(matches!(
            upcast(newer, &RulebookSet::default()),
            Err(StateError::TooNew(_))
        ));
    }

    #[test]
    fn corrupt_state_is_an_error_not_a_default() {
        assert!(matches!(
            load("{", &RulebookSet::default()),
            Err(StateError::NotJson(_))
        ));
        let mut broken = v1();
        broken["step"] = json!("nowhere");
        assert!(matches!(
            upcast(broken, &RulebookSet::default()),
            Err(StateError::Shape { .. })
        ));
    }
}
