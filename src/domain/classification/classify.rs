//! The classifier (klassificering): pure and deterministic. Facts and registers in, type, parties,
//! obligations, documents, clauses, missing facts and sensitivity out, with the rulebook version used.
use super::codes::{ClauseCode, CollaborationType, DetailKind, Instrument, ObligationCode, Role};
use super::condition::{
    Env, Tri, COUNTRIES_EU_EEA, COUNTRIES_NONE, COUNTRIES_OUTSIDE, EMPTY_ENV, MISSING,
};
use super::facts::{FactEnum, FactId, Facts, PrincipalKind, RegisterInfo};
use super::rulebook::{Conclusion, Rulebook, Source};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The result of classifying one collaboration (klassificering).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Classification {
    /// The rulebook version used; stored with the classification.
    pub rulebook_version: String,
    pub outcome: Outcome,
    pub parties: Parties,
    pub obligations: Vec<Obligation>,
    pub documents: Vec<DocumentItem>,
    pub clauses: Vec<ClauseItem>,
    /// Facts not given that would change the outcome (type or obligations) if given.
    pub missing: Vec<FactId>,
    /// For each fact: would another answer change the type / the obligations? Empty from [`classify_core`].
    pub sensitivity: Vec<FactSensitivity>,
}

/// The collaboration type (samverkanstyp), or unclassified, which sends the case to legal review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    Classified {
        #[serde(rename = "type")]
        collaboration_type: CollaborationType,
        label_sv: Arc<str>,
        label_en: Arc<str>,
        rule_id: Arc<str>,
        reason_sv: Arc<str>,
        reason_en: Arc<str>,
        source: Source,
    },
    Unclassified {
        /// The grey-zone rule that decided, if any.
        rule_id: Option<Arc<str>>,
        reason_sv: Arc<str>,
        reason_en: Arc<str>,
        source: Option<Source>,
        /// True when the type cannot be decided only because facts are missing (no legal review yet).
        incomplete: bool,
    },
}

impl Outcome {
    pub fn collaboration_type(&self) -> Option<CollaborationType> {
        match self {
            Outcome::Classified {
                collaboration_type, ..
            } => Some(*collaboration_type),
            Outcome::Unclassified { .. } => None,
        }
    }
}

/// Who signs (parter).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parties {
    /// Agreement or decision; `None` while unclassified.
    pub instrument: Option<Instrument>,
    pub signatories: Vec<Role>,
    /// The company is also the research principal (two roles); `None` if the principal kind is not given.
    pub company_is_research_principal: Option<bool>,
}

/// An obligation (skyldighet) with its reason, source and the lifecycle step it gates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Obligation {
    pub code: ObligationCode,
    pub label_sv: Arc<str>,
    pub label_en: Arc<str>,
    /// Reason and source of the first rule (in file order) that concluded it.
    pub reason_sv: Arc<str>,
    pub reason_en: Arc<str>,
    pub source: Source,
    pub gates_step: u8,
    /// Every rule that concluded it.
    pub rules: Vec<Arc<str>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub details: BTreeMap<String, Vec<String>>,
}

/// A document the parties must supply (underlag).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentItem {
    pub code: Arc<str>,
    pub label_sv: Arc<str>,
    pub label_en: Arc<str>,
}

/// An agreement clause to activate (avtalsklausul).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClauseItem {
    pub code: ClauseCode,
    pub label_sv: Arc<str>,
    pub label_en: Arc<str>,
}

/// Whether another answer to a fact would change the outcome (känslighet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FactSensitivity {
    pub fact: FactId,
    pub given: bool,
    pub changes_type: bool,
    pub changes_obligations: bool,
}

/// Builds the evaluation environment from the facts and the resolved registers.
pub(crate) fn env_of(facts: &Facts, registers: &[RegisterInfo]) -> Env {
    fn s<E: FactEnum>(v: Option<E>) -> u32 {
        v.map(|e| e.index() as u32).unwrap_or(MISSING)
    }
    fn b(v: Option<bool>) -> u32 {
        v.map(u32::from).unwrap_or(MISSING)
    }
    let mut env = EMPTY_ENV;
    env[FactId::ResearchPrincipalKind as usize] = s(facts.research_principal_kind);
    env[FactId::IsResearch as usize] = s(facts.is_research);
    env[FactId::Purpose as usize] = s(facts.purpose);
    env[FactId::CompanyReceives as usize] = s(facts.company_receives);
    env[FactId::PrincipalReceives as usize] = s(facts.principal_receives);
    env[FactId::AnalysisBy as usize] = s(facts.analysis_by);
    env[FactId::Sector as usize] = s(facts.sector);
    env[FactId::ExternalProcessor as usize] = b(facts.external_processor);
    env[FactId::IdentityNumbersRequested as usize] = b(facts.identity_numbers_requested);
    env[FactId::EffortBeyondRoutine as usize] = b(facts.effort_beyond_routine);
    env[FactId::Registers as usize] = if !registers.is_empty() {
        distinct_cpuas(registers).len() as u32
    } else if facts.registers.as_ref().is_some_and(|r| r.is_empty()) {
        0
    } else {
        MISSING
    };
    env[FactId::LinkageWith as usize] = facts
        .linkage_with
        .as_ref()
        .map(|l| l.iter().fold(0u32, |m, a| m | 1 << a.index()))
        .unwrap_or(MISSING);
    env[FactId::RecipientCountries as usize] = match &facts.recipient_countries {
        None => MISSING,
        Some(c) if c.is_empty() => COUNTRIES_NONE,
        Some(c) if c.iter().all(|c| c.is_eu_eea()) => COUNTRIES_EU_EEA,
        Some(_) => COUNTRIES_OUTSIDE,
    };
    env[FactId::KeyRetentionMonths as usize] = facts
        .key_retention_months
        .map(|m| m.min(MISSING - 1))
        .unwrap_or(MISSING);
    env
}

fn distinct_cpuas(registers: &[RegisterInfo]) -> Vec<&RegisterInfo> {
    let mut out: Vec<&RegisterInfo> = Vec::with_capacity(registers.len());
    for r in registers {
        if !out.iter().any(|x| x.cpua_id == r.cpua_id) {
            out.push(r);
        }
    }
    out
}

/// Type outcome keys beyond the collaboration types.
const KEY_NAMED_UNCLASSIFIED: u8 = 100;
const KEY_INCOMPLETE: u8 = 101;
const KEY_DEFAULT_UNCLASSIFIED: u8 = 102;

/// The decision of one evaluation, comparable across alternatives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Decision {
    type_key: u8,
    obligations: u32,
}

/// Evaluates all rules, recording truths (for sensitivity) and the missing facts of unknown rules.
struct Base {
    truths: Vec<Tri>,
    unknown: Vec<u16>,
    type_rule: Option<usize>,
    decision: Decision,
}

fn type_key(rb: &Rulebook, type_rule: Option<usize>, any_unknown: bool) -> u8 {
    match type_rule {
        Some(i) => match rb.type_rules[i].conclusion {
            Conclusion::Type(t) => t as u8,
            _ => KEY_NAMED_UNCLASSIFIED,
        },
        None if any_unknown => KEY_INCOMPLETE,
        None => KEY_DEFAULT_UNCLASSIFIED,
    }
}

fn add_legal_review(key: u8, bits: u32) -> u32 {
    if key == KEY_NAMED_UNCLASSIFIED || key == KEY_DEFAULT_UNCLASSIFIED {
        bits | ObligationCode::LegalReview.bit()
    } else {
        bits
    }
}

fn evaluate(rb: &Rulebook, env: &Env) -> Base {
    let n_type = rb.type_rules.len();
    let mut truths = Vec::with_capacity(n_type + rb.obligation_rules.len());
    let mut unknown = Vec::with_capacity(n_type + rb.obligation_rules.len());
    let mut type_rule = None;
    let mut any_unknown = false;
    for (i, r) in rb.type_rules.iter().enumerate() {
        let (t, m) = r.cond.eval(env);
        if t == Tri::True && type_rule.is_none() {
            type_rule = Some(i);
        }
        any_unknown |= t == Tri::Unknown;
        truths.push(t);
        unknown.push(m);
    }
    let mut bits = 0u32;
    for r in &rb.obligation_rules {
        let (t, m) = r.cond.eval(env);
        if t == Tri::True {
            if let Conclusion::Obligation(o) = r.conclusion {
                bits |= o.bit();
            }
        }
        truths.push(t);
        unknown.push(m);
    }
    let key = type_key(rb, type_rule, any_unknown);
    Base {
        truths,
        unknown,
        type_rule,
        decision: Decision {
            type_key: key,
            obligations: add_legal_review(key, bits),
        },
    }
}

/// Classifies with sensitivity (the full result).
pub fn classify(rulebook: &Rulebook, facts: &Facts, registers: &[RegisterInfo]) -> Classification {
    let env = env_of(facts, registers);
    let base = evaluate(rulebook, &env);
    let mut c = build(rulebook, facts, registers, &base);
    c.sensitivity = sensitivity(rulebook, &env, &base);
    c
}

/// Classifies without computing sensitivity (the hot path for recomputation and `diff`).
pub fn classify_core(
    rulebook: &Rulebook,
    facts: &Facts,
    registers: &[RegisterInfo],
) -> Classification {
    let env = env_of(facts, registers);
    let base = evaluate(rulebook, &env);
    build(rulebook, facts, registers, &base)
}

/// For each fact, tries every representative alternative value. Only the rules that read the fact are
/// re-evaluated; the others keep their base truth.
fn sensitivity(rb: &Rulebook, env: &Env, base: &Base) -> Vec<FactSensitivity> {
    let n_type = rb.type_rules.len();
    let mut out = Vec::with_capacity(FactId::ALL.len());
    for f in FactId::ALL {
        let fi = f as usize;
        let given = env[fi] != MISSING;
        let mut s = FactSensitivity {
            fact: f,
            given,
            changes_type: false,
            changes_obligations: false,
        };
        let (type_deps, obligation_deps) = (&rb.type_deps[fi], &rb.obligation_deps[fi]);
        if type_deps.is_empty() && obligation_deps.is_empty() {
            out.push(s);
            continue;
        }
        let bit = f.bit();
        // What the rules that do not read the fact conclude, whatever its value.
        let mut fixed_type = None;
        let mut other_unknown = false;
        for (i, r) in rb.type_rules.iter().enumerate() {
            if r.mask & bit == 0 {
                match base.truths[i] {
                    Tri::True if fixed_type.is_none() => fixed_type = Some(i),
                    Tri::Unknown => other_unknown = true,
                    _ => {}
                }
            }
        }
        let mut other_bits = 0u32;
        for (j, r) in rb.obligation_rules.iter().enumerate() {
            if r.mask & bit == 0 && base.truths[n_type + j] == Tri::True {
                if let Conclusion::Obligation(o) = r.conclusion {
                    other_bits |= o.bit();
                }
            }
        }
        let current = env[fi];
        let mut alt = *env;
        for &v in &rb.domains[fi] {
            if v == current {
                continue;
            }
            alt[fi] = v;
            let mut type_rule = fixed_type;
            let mut any_unknown = other_unknown;
            if type_rule.is_none() {
                for &i in type_deps {
                    match rb.type_rules[i].cond.eval(&alt).0 {
                        Tri::True => {
                            type_rule = Some(i);
                            break;
                        }
                        Tri::Unknown => any_unknown = true,
                        Tri::False => {}
                    }
                }
            }
            let key = type_key(rb, type_rule, any_unknown);
            let mut bits = other_bits;
            for &j in obligation_deps {
                let r = &rb.obligation_rules[j];
                if let Conclusion::Obligation(o) = r.conclusion {
                    if bits & o.bit() == 0 && r.cond.eval(&alt).0 == Tri::True {
                        bits |= o.bit();
                    }
                }
            }
            let bits = add_legal_review(key, bits);
            s.changes_type |= key != base.decision.type_key;
            s.changes_obligations |= bits != base.decision.obligations;
            if s.changes_type && s.changes_obligations {
                break;
            }
        }
        out.push(s);
    }
    out
}

fn build(rb: &Rulebook, facts: &Facts, registers: &[RegisterInfo], base: &Base) -> Classification {
    let n_type = rb.type_rules.len();
    let key = base.decision.type_key;

    // Missing facts: those behind unknown rules whose conclusion is not already established.
    let mut missing_mask = 0u16;
    if base.type_rule.is_none() {
        for i in 0..n_type {
            if base.truths[i] == Tri::Unknown {
                missing_mask |= base.unknown[i];
            }
        }
    }
    for (j, r) in rb.obligation_rules.iter().enumerate() {
        if base.truths[n_type + j] != Tri::Unknown {
            continue;
        }
        if let Conclusion::Obligation(o) = r.conclusion {
            if base.decision.obligations & o.bit() == 0 {
                missing_mask |= base.unknown[n_type + j];
            }
        }
    }
    let missing: Vec<FactId> = FactId::ALL
        .iter()
        .copied()
        .filter(|f| missing_mask & f.bit() != 0)
        .collect();

    // Outcome and parties.
    let is_research = facts.is_research == Some(super::facts::IsResearch::Yes);
    let company_is_research_principal = facts
        .research_principal_kind
        .map(|k| k == PrincipalKind::Company);
    let mut documents_mask = 0u64;
    let mut clauses_mask = 0u32;
    let (outcome, parties) = match base.type_rule.map(|i| &rb.type_rules[i]) {
        Some(rule) => match rule.conclusion {
            Conclusion::Type(t) => {
                let def = rb.types[t as usize].as_ref();
                let mut signatories = Vec::new();
                if let Some(def) = def {
                    documents_mask |= def.documents;
                    clauses_mask |= def.clauses;
                    signatories.extend_from_slice(&def.parties);
                    if is_research {
                        for r in &def.parties_if_research {
                            if !signatories.contains(r) {
                                signatories.push(*r);
                            }
                        }
                    }
                }
                signatories.sort();
                (
                    Outcome::Classified {
                        collaboration_type: t,
                        label_sv: def
                            .map(|d| d.label_sv.clone())
                            .unwrap_or_else(|| Arc::from(t.as_str())),
                        label_en: def
                            .map(|d| d.label_en.clone())
                            .unwrap_or_else(|| Arc::from(t.as_str())),
                        rule_id: rule.id.clone(),
                        reason_sv: rule.reason_sv.clone(),
                        reason_en: rule.reason_en.clone(),
                        source: rule.source.clone(),
                    },
                    Parties {
                        instrument: def.map(|d| d.instrument),
                        signatories,
                        company_is_research_principal,
                    },
                )
            }
            _ => (
                Outcome::Unclassified {
                    rule_id: Some(rule.id.clone()),
                    reason_sv: rule.reason_sv.clone(),
                    reason_en: rule.reason_en.clone(),
                    source: Some(rule.source.clone()),
                    incomplete: false,
                },
                Parties {
                    instrument: None,
                    signatories: Vec::new(),
                    company_is_research_principal,
                },
            ),
        },
        None => {
            let outcome = if key == KEY_INCOMPLETE {
                let mut type_missing = 0u16;
                for i in 0..n_type {
                    if base.truths[i] == Tri::Unknown {
                        type_missing |= base.unknown[i];
                    }
                }
                let names: Vec<&str> = FactId::ALL
                    .iter()
                    .filter(|f| type_missing & f.bit() != 0)
                    .map(|f| f.name())
                    .collect();
                let names = names.join(", ");
                Outcome::Unclassified {
                    rule_id: None,
                    reason_sv: Arc::from(format!(
                        "Uppgifter saknas för att bestämma samverkanstypen: {names}."
                    )),
                    reason_en: Arc::from(format!(
                        "Facts are missing to decide the collaboration type: {names}."
                    )),
                    source: None,
                    incomplete: true,
                }
            } else {
                Outcome::Unclassified {
                    rule_id: None,
                    reason_sv: rb.unclassified.reason_sv.clone(),
                    reason_en: rb.unclassified.reason_en.clone(),
                    source: Some(rb.unclassified.source.clone()),
                    incomplete: false,
                }
            };
            (
                outcome,
                Parties {
                    instrument: None,
                    signatories: Vec::new(),
                    company_is_research_principal,
                },
            )
        }
    };

    // Obligations, in code order; the first firing rule gives reason and source.
    let mut obligations: Vec<Obligation> = Vec::new();
    for (j, r) in rb.obligation_rules.iter().enumerate() {
        if base.truths[n_type + j] != Tri::True {
            continue;
        }
        let Conclusion::Obligation(code) = r.conclusion else {
            continue;
        };
        let entry = match obligations.iter_mut().position(|o| o.code == code) {
            Some(p) => {
                obligations[p].rules.push(r.id.clone());
                &mut obligations[p]
            }
            None => {
                let def = rb.obligations[code as usize].as_ref();
                if let Some(def) = def {
                    documents_mask |= def.documents;
                    clauses_mask |= def.clauses;
                }
                obligations.push(Obligation {
                    code,
                    label_sv: def
                        .map(|d| d.label_sv.clone())
                        .unwrap_or_else(|| Arc::from(code.as_str())),
                    label_en: def
                        .map(|d| d.label_en.clone())
                        .unwrap_or_else(|| Arc::from(code.as_str())),
                    reason_sv: r.reason_sv.clone(),
                    reason_en: r.reason_en.clone(),
                    source: r.source.clone(),
                    gates_step: def.map(|d| d.gates_step).unwrap_or(1),
                    rules: vec![r.id.clone()],
                    details: BTreeMap::new(),
                });
                let last = obligations.len() - 1;
                &mut obligations[last]
            }
        };
        for d in &r.details {
            let values = detail_values(*d, facts, registers);
            let slot = entry.details.entry(d.as_str().to_string()).or_default();
            for v in values {
                if !slot.contains(&v) {
                    slot.push(v);
                }
            }
        }
    }
    // An unclassified case always goes to legal review.
    if base.decision.obligations & ObligationCode::LegalReview.bit() != 0
        && !obligations
            .iter()
            .any(|o| o.code == ObligationCode::LegalReview)
    {
        let def = rb.obligations[ObligationCode::LegalReview as usize].as_ref();
        if let Some(def) = def {
            documents_mask |= def.documents;
            clauses_mask |= def.clauses;
        }
        let (reason_sv, reason_en, source, rule) = match &outcome {
            Outcome::Unclassified {
                rule_id: Some(id),
                reason_sv,
                reason_en,
                source: Some(source),
                ..
            } => (
                reason_sv.clone(),
                reason_en.clone(),
                source.clone(),
                id.clone(),
            ),
            _ => (
                rb.unclassified.reason_sv.clone(),
                rb.unclassified.reason_en.clone(),
                rb.unclassified.source.clone(),
                Arc::from("unclassified"),
            ),
        };
        obligations.push(Obligation {
            code: ObligationCode::LegalReview,
            label_sv: def
                .map(|d| d.label_sv.clone())
                .unwrap_or_else(|| Arc::from("legal_review")),
            label_en: def
                .map(|d| d.label_en.clone())
                .unwrap_or_else(|| Arc::from("legal_review")),
            reason_sv,
            reason_en,
            source,
            gates_step: def.map(|d| d.gates_step).unwrap_or(2),
            rules: vec![rule],
            details: BTreeMap::new(),
        });
    }
    obligations.sort_by_key(|o| o.code);

    let documents = rb
        .documents
        .iter()
        .enumerate()
        .filter(|(i, _)| documents_mask & (1u64 << i) != 0)
        .map(|(_, d)| DocumentItem {
            code: d.code.clone(),
            label_sv: d.label_sv.clone(),
            label_en: d.label_en.clone(),
        })
        .collect();
    let clauses = ClauseCode::ALL
        .iter()
        .filter(|c| clauses_mask & c.bit() != 0)
        .map(|&c| {
            let l = rb.clauses[c as usize].as_ref();
            ClauseItem {
                code: c,
                label_sv: l
                    .map(|l| l.label_sv.clone())
                    .unwrap_or_else(|| Arc::from(c.as_str())),
                label_en: l
                    .map(|l| l.label_en.clone())
                    .unwrap_or_else(|| Arc::from(c.as_str())),
            }
        })
        .collect();

    Classification {
        rulebook_version: rb.version.clone(),
        outcome,
        parties,
        obligations,
        documents,
        clauses,
        missing,
        sensitivity: Vec::new(),
    }
}

fn detail_values(kind: DetailKind, facts: &Facts, registers: &[RegisterInfo]) -> Vec<String> {
    match kind {
        DetailKind::LinkageAuthorities => facts
            .linkage_with
            .iter()
            .flatten()
            .map(|a| a.name().to_string())
            .collect(),
        DetailKind::ThirdCountries => facts
            .recipient_countries
            .iter()
            .flatten()
            .filter(|c| !c.is_eu_eea())
            .map(|c| c.to_string())
            .collect(),
        DetailKind::Cpuas => distinct_cpuas(registers)
            .iter()
            .map(|r| r.cpua_name.clone())
            .collect(),
        DetailKind::KeyRetentionMonths => facts
            .key_retention_months
            .iter()
            .map(|m| m.to_string())
            .collect(),
    }
}

impl Classification {
    /// The obligation codes, in code order.
    pub fn obligation_codes(&self) -> Vec<ObligationCode> {
        self.obligations.iter().map(|o| o.code).collect()
    }

    pub fn has_obligation(&self, code: ObligationCode) -> bool {
        self.obligations.iter().any(|o| o.code == code)
    }
}
