//! Obligations drive the lifecycle (skyldigheter styr processen). The classification derives the obligations
//! of a collaboration from the rulebook; the rulebook says which step each one gates (`gates_step`); this
//! module says, for every obligation code, what evidence satisfies it, and refuses the command that performs
//! a gated step until every obligation gating it is met. One generic guard, no per-obligation booleans.
use crate::domain::sources::Source;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

use super::{CommandKind, Context, Refusal};
use crate::domain::classification::{ClauseCode, Instrument, ObligationCode, Rulebook};
use crate::domain::collaboration::{AgreementRecord, Collaboration, LinkageTarget};
use crate::domain::ids::OrgId;
use crate::domain::lifecycle::SEED_000;

/// An obligation in force for one collaboration, with the step it gates (gällande skyldighet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct EffectiveObligation {
    #[schema(value_type = String)]
    pub code: ObligationCode,
    pub label_sv: String,
    pub label_en: String,
    /// The step (1–9) whose performing command it blocks until met.
    pub gates_step: u8,
    /// CPUA legal may waive it with a reason (the rulebook says so; never a "ska").
    pub waivable: bool,
    pub reason_sv: String,
    pub reason_en: String,
    /// The document and section it comes from; none when CPUA legal added it (`added_by_legal`).
    pub source: Option<Source>,
    /// Added by CPUA legal rather than by a rule.
    pub added_by_legal: bool,
    /// The clauses the agreement must hold for it.
    #[schema(value_type = Vec<String>)]
    pub clauses: Vec<ClauseCode>,
    /// What satisfies it, in Swedish and English.
    pub evidence_sv: String,
    pub evidence_en: String,
}

/// An obligation not yet met (ej uppfylld skyldighet): what is missing and where the rule comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct UnmetObligation {
    pub code: String,
    pub label_sv: String,
    pub label_en: String,
    pub evidence_sv: String,
    pub evidence_en: String,
    /// The document and section it comes from; none when CPUA legal added it.
    pub source: Option<Source>,
    pub missing: Vec<String>,
}

/// What the rulebook declares of one obligation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObligationDecl {
    pub gates_step: u8,
    pub waivable: bool,
    pub label_sv: String,
    pub label_en: String,
    pub clauses: Vec<ClauseCode>,
}

/// The obligations in force for one collaboration, and the rulebook's declarations (skyldigheter).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, utoipa::ToSchema)]
pub struct Obligations {
    pub in_force: Vec<EffectiveObligation>,
    /// Whether the collaboration is classified at all; without a classification nothing may proceed.
    pub classified: bool,
    /// `agreement` or `decision` (statistics and public documents need a decision, no agreement).
    #[schema(value_type = Option<String>)]
    pub instrument: Option<Instrument>,
    #[serde(skip)]
    #[schema(ignore)]
    pub decls: BTreeMap<ObligationCode, ObligationDecl>,
}

impl Obligations {
    pub fn has(&self, code: ObligationCode) -> bool {
        self.in_force.iter().any(|o| o.code == code)
    }

    pub fn get(&self, code: ObligationCode) -> Option<&EffectiveObligation> {
        self.in_force.iter().find(|o| o.code == code)
    }

    /// Whether the collaboration is formalised by an agreement (step 6); a decision needs none.
    pub fn agreement_required(&self) -> bool {
        self.instrument != Some(Instrument::Decision)
    }

    /// Whether CPUA legal may waive `code` (the rulebook marks it; a "ska" never).
    pub fn waivable(&self, code: ObligationCode) -> bool {
        self.decls.get(&code).is_some_and(|d| d.waivable)
    }

    /// The clauses every obligation in force requires of the agreement.
    pub fn required_clauses(&self) -> BTreeMap<ClauseCode, ObligationCode> {
        let mut m = BTreeMap::new();
        for o in &self.in_force {
            for c in &o.clauses {
                m.entry(*c).or_insert(o.code);
            }
        }
        m
    }

    /// The obligations of a collaboration: its classification's (with the rulebook version it used), legal's
    /// additions and waivers (a waiver of an obligation the rulebook does not mark waivable is ignored, so a
    /// "ska" stands whatever a stored override says), the legal review settled once legal decided the type,
    /// and the written cost agreement whenever a register holder said the extraction is charged.
    pub fn build(c: &Collaboration, rulebook: Option<&Rulebook>) -> Obligations {
        // Unclassified, nothing is in force and no step may be performed (see `gate`).
        let Some(rec) = &c.classification else {
            return Obligations::default();
        };
        let decls: BTreeMap<ObligationCode, ObligationDecl> = rulebook
            .map(|rb| {
                ObligationCode::ALL
                    .iter()
                    .filter_map(|code| {
                        rb.obligation_info(*code).map(|i| {
                            (
                                *code,
                                ObligationDecl {
                                    gates_step: i.gates_step,
                                    waivable: i.waivable,
                                    label_sv: i.label_sv.to_string(),
                                    label_en: i.label_en.to_string(),
                                    clauses: i.clauses.clone(),
                                },
                            )
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let instrument = match &rec.type_override {
            Some(o) => rulebook
                .and_then(|rb| rb.type_info(o.collaboration_type))
                .map(|t| t.instrument),
            None => rec.result.parties.instrument,
        };
        let mut codes: BTreeSet<ObligationCode> =
            rec.result.obligation_codes().into_iter().collect();
        for o in &rec.obligation_overrides {
            if !o.waive {
                codes.insert(o.code);
            } else if decls.get(&o.code).is_some_and(|d| d.waivable) {
                codes.remove(&o.code);
            }
        }
        if rec.type_override.is_some() {
            codes.remove(&ObligationCode::LegalReview);
        }
        if c.extraction_charged() {
            codes.insert(ObligationCode::WrittenCostAgreement);
        }
        let in_force = codes
            .into_iter()
            .map(|code| {
                let decl = decls.get(&code);
                let from_rule = rec.result.obligations.iter().find(|o| o.code == code);
                let added = rec
                    .obligation_overrides
                    .iter()
                    .rev()
                    .find(|o| o.code == code && !o.waive);
                let (reason_sv, reason_en, source, added_by_legal) = match (from_rule, added) {
                    (Some(o), _) => (
                        o.reason_sv.to_string(),
                        o.reason_en.to_string(),
                        Some(Source::new(&o.source.file, &o.source.section)),
                        false,
                    ),
                    (None, Some(a)) => (
                        a.reason.clone(),
                        a.reason.clone(),
                        None,
                        true,
                    ),
                    (None, None) => (
                        "Registerhållaren har angett att datauttaget debiteras: ersättningen ska vara reglerad skriftligt innan data lämnas ut.".into(),
                        "The register holder said the extraction is charged: the charge must be agreed in writing before data are released.".into(),
                        Some(Source::new(SEED_000, "Ersättning för datauttag för forskning")),
                        false,
                    ),
                };
                let (evidence_sv, evidence_en) = evidence_text(code);
                EffectiveObligation {
                    code,
                    label_sv: decl.map(|d| d.label_sv.clone()).unwrap_or_else(|| code.to_string()),
                    label_en: decl.map(|d| d.label_en.clone()).unwrap_or_else(|| code.to_string()),
                    gates_step: decl
                        .map(|d| d.gates_step)
                        .or_else(|| from_rule.map(|o| o.gates_step))
                        .unwrap_or(4),
                    waivable: decl.is_some_and(|d| d.waivable),
                    reason_sv,
                    reason_en,
                    source,
                    added_by_legal,
                    clauses: decl.map(|d| d.clauses.clone()).unwrap_or_default(),
                    evidence_sv: evidence_sv.into(),
                    evidence_en: evidence_en.into(),
                }
            })
            .collect();
        Obligations {
            in_force,
            classified: true,
            instrument,
            decls,
        }
    }
}

/// What satisfies each obligation, in Swedish and English. The match is exhaustive: a new obligation code
/// does not compile until its evidence is declared here and in [`evidence`].
pub fn evidence_text(code: ObligationCode) -> (&'static str, &'static str) {
    use ObligationCode as O;
    match code {
        O::EthicsApproval => (
            "Ett etikgodkännande från Etikprövningsmyndigheten (diarienummer och datum) är registrerat.",
            "An ethics approval from the Ethical Review Authority (reference number and date) is recorded.",
        ),
        O::ConfidentialityReview => (
            "Underlaget för menprövningen är komplett hos CPUA-myndigheten (de fem uppgifterna).",
            "The confidentiality-review dossier is complete at the CPUA (the five items).",
        ),
        O::ConfidentialityReservation => (
            "Den undertecknade avtalsversionen innehåller sekretessförbehållet.",
            "The signed agreement version holds the confidentiality reservation.",
        ),
        O::DataProcessingAgreement => (
            "Ett personuppgiftsbiträdesavtal (PUB-avtal) är registrerat.",
            "A data processing agreement is recorded.",
        ),
        O::LinkageApplications => (
            "Varje registerförande myndighet som samkör har fattat eget beslut om bifall.",
            "Each register-keeping authority doing the linkage has approved it in its own decision.",
        ),
        O::ThirdCountryAssessment => (
            "CPUA-myndighetens jurist har bedömt överföringen till varje tredjeland och medgett den med rättslig grund.",
            "CPUA legal has assessed the transfer to every third country and permitted it on a legal basis.",
        ),
        O::IdentityNumbersJustification => (
            "Motiveringen till personnummer är registrerad som den anges i etikansökan, och CPUA-myndigheten godtar den i sitt beslut.",
            "The justification of identity numbers is recorded as stated in the ethics application, and the CPUA accepts it in its decision.",
        ),
        O::PharmaAppendix => (
            "Avtalsversionen innehåller läkemedelsbilagan.",
            "The agreement version holds the pharmaceutical appendix.",
        ),
        O::WrittenCostAgreement => (
            "En skriftlig kostnadsöverenskommelse är registrerad.",
            "A written cost agreement is recorded.",
        ),
        O::ExtendedKeyRetention => (
            "Etikgodkännandet omfattar det förlängda sparandet av kodnyckeln.",
            "The ethics approval covers the extended retention of the key.",
        ),
        O::MultiCpuaCoordination => (
            "Det är bestämt vilken myndighet som förvarar kodnyckeln och vilken som ansvarar för samkörningen.",
            "It is settled which authority keeps the key and which is responsible for the linkage.",
        ),
        O::LegalReview => (
            "CPUA-myndighetens jurist har beslutat samverkanstypen.",
            "CPUA legal has decided the collaboration type.",
        ),
    }
}

/// The agreement record a release relies on: the amendment's for an amendment release, else the original.
fn agreement_for(c: &Collaboration, kind: CommandKind) -> Option<&AgreementRecord> {
    if kind == CommandKind::ReleaseAmendmentData {
        c.amendments.iter().rev().find_map(|a| a.agreement.as_ref())
    } else {
        c.agreement.as_ref()
    }
}

/// The third countries (outside the EU/EEA) among the recipient countries.
fn third_countries(c: &Collaboration) -> Vec<String> {
    c.recipient_countries
        .iter()
        .filter(|cc| cc.is_third_country())
        .map(|cc| cc.as_str().to_string())
        .collect()
}

/// Whether one obligation is met, or what is missing. Exhaustive over the codes.
pub fn evidence(
    code: ObligationCode,
    c: &Collaboration,
    kind: CommandKind,
    track: Option<&OrgId>,
    ctx: &Context,
) -> Result<(), Vec<String>> {
    use ObligationCode as O;
    let need = |ok: bool, item: &str| {
        if ok {
            Ok(())
        } else {
            Err(vec![item.to_string()])
        }
    };
    match code {
        O::EthicsApproval => need(c.ethics.is_some(), "ethics_approval"),
        O::ConfidentialityReview => {
            let ethics = ctx.obligations.has(O::EthicsApproval);
            let tracks: Vec<_> = match track {
                Some(o) => c.review(o).into_iter().collect(),
                None => c.cpua_reviews.iter().collect(),
            };
            if tracks.iter().any(|r| {
                r.dossier
                    .missing(ethics, true, ctx.data_users_named)
                    .is_empty()
            }) {
                Ok(())
            } else {
                let missing: BTreeSet<String> = tracks
                    .iter()
                    .flat_map(|r| r.dossier.missing(ethics, true, ctx.data_users_named))
                    .map(|m| format!("dossier.{m}"))
                    .collect();
                Err(if missing.is_empty() {
                    vec!["dossier".into()]
                } else {
                    missing.into_iter().collect()
                })
            }
        }
        O::ConfidentialityReservation => need(
            agreement_for(c, kind).is_some_and(|a| a.holds(ClauseCode::ConfidentialityReservation)),
            "agreement.clauses.confidentiality_reservation",
        ),
        O::DataProcessingAgreement => need(
            c.evidence.data_processing_agreement.is_some(),
            "evidence.data_processing_agreement",
        ),
        O::LinkageApplications => {
            let mut missing = vec![];
            for target in &c.linkage {
                if target.authority_name().is_none() {
                    // Another quality register is applied for through its own CPUA track.
                    if c.registers.len() < 2 {
                        missing.push("registers.linked_register".to_string());
                    }
                    continue;
                }
                let approved = c
                    .linkage_review(*target)
                    .and_then(|r| r.decision.as_ref())
                    .is_some_and(|d| d.approved);
                if !approved {
                    missing.push(format!("linkage.{}.decision", target.code()));
                }
            }
            if missing.is_empty() {
                Ok(())
            } else {
                Err(missing)
            }
        }
        O::ThirdCountryAssessment => {
            let countries = third_countries(c);
            match &c.evidence.third_country_assessment {
                Some(a)
                    if a.permitted
                        && a.basis.is_some()
                        && countries
                            .iter()
                            .all(|cc| a.countries.iter().any(|x| x.as_str() == cc)) =>
                {
                    Ok(())
                }
                Some(a) if !a.permitted => Err(vec!["third_country_assessment.permitted".into()]),
                _ => Err(vec!["third_country_assessment".into()]),
            }
        }
        O::IdentityNumbersJustification => need(
            c.evidence
                .identity_number_justification
                .as_ref()
                .is_some_and(|j| j.stated_in_ethics_application),
            "evidence.identity_number_justification",
        ),
        O::PharmaAppendix => {
            let in_version = ctx
                .agreement_version
                .is_some_and(|v| v.clauses.contains(&ClauseCode::PharmaAppendix));
            let recorded = c
                .agreement
                .as_ref()
                .is_some_and(|a| a.holds(ClauseCode::PharmaAppendix));
            need(in_version || recorded, "agreement.clauses.pharma_appendix")
        }
        O::WrittenCostAgreement => need(c.cost_agreement.is_some(), "cost_agreement"),
        O::ExtendedKeyRetention => {
            let wanted = c.intake.key_retention_months.unwrap_or(3);
            need(
                c.ethics
                    .as_ref()
                    .and_then(|e| e.key_retention_months)
                    .is_some_and(|m| m >= wanted),
                "ethics_approval.key_retention_months",
            )
        }
        O::MultiCpuaCoordination => {
            need(c.evidence.coordination.is_some(), "evidence.coordination")
        }
        O::LegalReview => need(
            c.classification
                .as_ref()
                .is_some_and(|r| r.type_override.is_some()),
            "classification.type_override",
        ),
    }
}

/// Whether `kind` performs the step an obligation gating `step` blocks. An amendment's release of data is
/// a release (step 7) too.
fn gates(step: u8, kind: CommandKind) -> bool {
    CommandKind::performing_step(step) == Some(kind)
        || (step == 7 && kind == CommandKind::ReleaseAmendmentData)
        || (step == 9 && kind == CommandKind::EndUsagePeriod)
}

/// The obligations gating `kind` that are not met, each with its evidence and what is missing.
pub fn unmet(
    c: &Collaboration,
    kind: CommandKind,
    track: Option<&OrgId>,
    ctx: &Context,
) -> Vec<UnmetObligation> {
    ctx.obligations
        .in_force
        .iter()
        .filter(|o| gates(o.gates_step, kind))
        .filter_map(|o| {
            evidence(o.code, c, kind, track, ctx)
                .err()
                .map(|missing| UnmetObligation {
                    code: o.code.to_string(),
                    label_sv: o.label_sv.clone(),
                    label_en: o.label_en.clone(),
                    evidence_sv: o.evidence_sv.clone(),
                    evidence_en: o.evidence_en.clone(),
                    source: o.source.clone(),
                    missing,
                })
        })
        .collect()
}

/// Refuses `kind` while an obligation gating it is unmet, or while the collaboration is not classified.
pub fn gate(
    c: &Collaboration,
    kind: CommandKind,
    track: Option<&OrgId>,
    ctx: &Context,
) -> Result<(), Refusal> {
    let performs_a_step = (2..=9).any(|s| gates(s, kind));
    if !performs_a_step {
        return Ok(());
    }
    if !ctx.obligations.classified {
        return Err(Refusal::precondition(crate::msg!("not_classified"))
            .source(super::SEED_001, "1. Förarbete")
            .missing(["classification"]));
    }
    let unmet = unmet(c, kind, track, ctx);
    if unmet.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = unmet.iter().map(|u| u.code.as_str()).collect();
    let mut r = Refusal::precondition(crate::msg!(
        "obligations_unmet",
        obligations = crate::domain::messages::Arg::all_of(names)
    ))
    .missing(unmet.iter().flat_map(|u| u.missing.clone()));
    if let [one] = unmet.as_slice() {
        r.source = one.source.clone();
    }
    r.obligations = unmet;
    Err(r)
}

/// Linkage targets that are authorities with a review of their own.
pub fn linkage_authorities(c: &Collaboration) -> Vec<LinkageTarget> {
    c.linkage
        .iter()
        .copied()
        .filter(|t| t.authority_name().is_some())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::super::{Command, CommandKind, DecisionInput};
    use super::*;

    /// A scenario whose classification brings `code` (exhaustive: a new obligation needs one).
    fn scenario_for(code: ObligationCode) -> Scenario {
        use ObligationCode as O;
        let mut s = Scenario::public_research();
        match code {
            O::EthicsApproval | O::ConfidentialityReview => {}
            O::ConfidentialityReservation => s = Scenario::company_principal(),
            O::DataProcessingAgreement => s.facts.external_processor = Some(true),
            O::LinkageApplications => s.linkage = vec![LinkageTarget::Scb],
            O::ThirdCountryAssessment => s = Scenario::third_country(),
            O::IdentityNumbersJustification => s.facts.identity_numbers_requested = Some(true),
            O::PharmaAppendix => s = Scenario::pharma(),
            O::WrittenCostAgreement => s.facts.effort_beyond_routine = Some(true),
            O::ExtendedKeyRetention => s.facts.key_retention_months = Some(6),
            O::MultiCpuaCoordination => s = Scenario::two_cpuas(),
            O::LegalReview => s = Scenario::grey_zone(),
        }
        s
    }

    /// The command performing `step` for Region A, as the walk would send it.
    fn perform(k: &Kit, c: &Collaboration, step: u8) -> Command {
        match step {
            4 => k.application(&k.a),
            5 => {
                let mut d = DecisionInput::approval();
                if let Some(f) = d.findings.as_mut() {
                    f.identity_numbers_necessary = true;
                }
                k.decide(&k.a, d)
            }
            6 => {
                let v = k.version_for(c, 1);
                Command::ToAgreement {
                    version: 1,
                    digest: v.digest,
                    signed_on: k.today(),
                }
            }
            7 => Command::ToDataRelease {
                cpua: k.a.clone(),
                release: k.release_input(),
            },
            other => panic!("no walk to step {other}"),
        }
    }

    /// Walks `s` to just before `step`, every obligation met but `skip`.
    fn walk_before(k: &Kit, s: Scenario, step: u8, skip: ObligationCode) -> Collaboration {
        let c = k.walk_to_feasibility(s);
        let c = k.run(&c, Command::ToEthicsReview).expect("ethics review");
        let mut c = k.satisfy_up_to(&c, step.min(4), Some(skip));
        if step == 4 {
            return c;
        }
        for o in c
            .registers
            .iter()
            .map(|r| k.facts[r].cpua.clone())
            .collect::<BTreeSet<_>>()
        {
            let mut dossier = full_dossier();
            if skip == ObligationCode::ConfidentialityReview {
                dossier.access_and_storage = None;
            }
            c = k
                .run(&c, Command::ToDataApplication { cpua: o, dossier })
                .expect("application");
        }
        let mut c = k.satisfy_up_to(&c, step.min(5), Some(skip));
        if step == 5 {
            return c;
        }
        for o in c
            .cpua_reviews
            .iter()
            .map(|r| r.cpua.clone())
            .collect::<Vec<_>>()
        {
            let mut d = DecisionInput::approval();
            d.findings.as_mut().unwrap().identity_numbers_necessary = true;
            c = k.run(&c, k.decide(&o, d)).expect("decision");
        }
        let c = k.satisfy_up_to(&c, step.min(6), Some(skip));
        if step == 6 {
            return c;
        }
        let v = k.version_for(&c, 1);
        let c = k
            .with_version(v.clone())
            .run(
                &c,
                Command::ToAgreement {
                    version: 1,
                    digest: v.digest,
                    signed_on: k.today(),
                },
            )
            .expect("agreement");
        k.satisfy_up_to(&c, 7, Some(skip))
    }

    /// Records `code`'s evidence the way the lifecycle would see it.
    fn meet(k: &Kit, c: &Collaboration, code: ObligationCode) -> (Kit, Collaboration) {
        use ObligationCode as O;
        match code {
            O::ConfidentialityReservation => {
                let mut n = c.clone();
                if let Some(a) = n.agreement.as_mut() {
                    a.clauses.insert(ClauseCode::ConfidentialityReservation);
                }
                (k.clone(), n)
            }
            O::PharmaAppendix => {
                let mut v = k.version_for(c, 1);
                v.clauses.insert(ClauseCode::PharmaAppendix);
                (k.with_version(v), c.clone())
            }
            O::ConfidentialityReview => {
                let n = k.run(c, k.application(&k.a)).expect("dossier completed");
                (k.clone(), n)
            }
            _ => (k.clone(), k.satisfy(c, code)),
        }
    }

    #[test]
    fn every_obligation_blocks_its_step_until_its_evidence_is_recorded() {
        // DOMAIN.md, "Rules the product enforces"; each obligation's source is in the shipped rulebook.
        let k = Kit::new();
        for &code in ObligationCode::ALL {
            let decl = k
                .rulebook
                .obligation_info(code)
                .unwrap_or_else(|| panic!("{code} undeclared"));
            let kind = CommandKind::performing_step(decl.gates_step).unwrap_or_else(|| {
                panic!(
                    "{code} gates step {} that no command performs",
                    decl.gates_step
                )
            });
            let s = scenario_for(code);
            let c0 = k.collab(s.clone());
            assert!(
                k.obligations_of(&c0).has(code),
                "{code}: the scenario does not bring it"
            );
            let mut c = walk_before(&k, s, decl.gates_step, code);
            let mut kit = k.clone();
            match code {
                ObligationCode::ConfidentialityReservation => {
                    // A version without the clause cannot be recorded; a recorded agreement that lacks
                    // it (one from before versions were required) must still stop the release.
                    c.agreement
                        .as_mut()
                        .unwrap()
                        .clauses
                        .remove(&ClauseCode::ConfidentialityReservation);
                }
                ObligationCode::PharmaAppendix => {
                    let mut v = k.version_for(&c, 1);
                    v.clauses.remove(&ClauseCode::PharmaAppendix);
                    kit = k.with_version(v);
                }
                _ => {}
            }
            let cmd = perform(&kit, &c, decl.gates_step);
            assert_eq!(cmd.kind(), kind);
            let refused = kit
                .run(&c, cmd)
                .expect_err(&format!("{code} did not block {kind:?}"));
            let named = refused.obligations.iter().any(|u| u.code == code.as_str())
                || (code == ObligationCode::ConfidentialityReview
                    && refused.rule == "dossier_incomplete");
            assert!(
                named,
                "{code}: refused for {} {:?} instead",
                refused.rule, refused.missing
            );
            if let Some(u) = refused.obligations.iter().find(|u| u.code == code.as_str()) {
                assert!(
                    u.source.is_some() && !u.evidence_en.is_empty() && !u.evidence_sv.is_empty()
                );
            }
            let (kit, c) = meet(&kit, &c, code);
            let cmd = perform(&kit, &c, decl.gates_step);
            match kit.run(&c, cmd) {
                Ok(_) => {}
                Err(r) => assert!(
                    !r.obligations.iter().any(|u| u.code == code.as_str()),
                    "{code}: still unmet after its evidence: {r:?}"
                ),
            }
        }
    }

    #[test]
    fn an_incomplete_dossier_is_the_unmet_confidentiality_review() {
        // Seed 000, "Menprövning av centralt personuppgiftsansvarig myndighet (CPUA)".
        let k = Kit::new();
        let c = k.walk_to_ethics(Scenario::public_research());
        let mut d = full_dossier();
        d.access_and_storage = None;
        let c = k
            .run(
                &c,
                Command::ToDataApplication {
                    cpua: k.a.clone(),
                    dossier: d,
                },
            )
            .unwrap();
        let r = k
            .run(&c, k.decide(&k.a, DecisionInput::approval()))
            .unwrap_err();
        assert_eq!(r.rule, "dossier_incomplete");
        assert_eq!(r.missing, vec!["dossier.access_and_storage"]);
        let ob = k.obligations_of(&c);
        let ctx_kind = CommandKind::ToReleaseDecision;
        let kit_ctx = |c: &Collaboration| {
            let actor = k.legal_a.clone();
            let acknowledged = vec![];
            let ctx = Context {
                now: k.now(),
                today: k.today(),
                actor: &actor,
                principal_kind: None,
                registers: &k.facts,
                obligations: &ob,
                agreement_version: None,
                acknowledged: &acknowledged,
                data_users_named: false,
            };
            evidence(
                ObligationCode::ConfidentialityReview,
                c,
                ctx_kind,
                Some(&k.a),
                &ctx,
            )
        };
        assert_eq!(
            kit_ctx(&c),
            Err(vec!["dossier.access_and_storage".to_string()])
        );
    }

    #[test]
    fn without_a_classification_no_step_is_performed() {
        let k = Kit::new();
        let mut c = k.walk_to_feasibility(Scenario::public_research());
        c.classification = None;
        let r = k.run(&c, Command::ToEthicsReview).unwrap_err();
        assert_eq!(r.rule, "not_classified");
    }

    #[test]
    fn a_charged_extraction_brings_the_written_cost_agreement() {
        // Seed 000, "Ersättning för datauttag för forskning".
        let k = Kit::new();
        let c = k.walk_to_register_contact(Scenario::public_research());
        assert!(!k
            .obligations_of(&c)
            .has(ObligationCode::WrittenCostAgreement));
        let mut f = k.feasibility_input(0);
        f.extraction_charged = true;
        f.estimated_cost = Some(crate::domain::money::Money::from_ore(100).unwrap());
        let c = k.run(&c, Command::RecordFeasibility(f)).unwrap();
        let ob = k.obligations_of(&c);
        let o = ob
            .get(ObligationCode::WrittenCostAgreement)
            .expect("derived");
        assert_eq!(o.gates_step, 7);
        assert!(o
            .source
            .as_ref()
            .is_some_and(|s| s.section == "Ersättning för datauttag för forskning"));
    }

    fn check(k: &Kit, c: &Collaboration, code: ObligationCode) -> Result<(), Vec<String>> {
        let ob = k.obligations_of(c);
        let ctx = Context {
            now: k.now(),
            today: k.today(),
            actor: &k.company_rep,
            principal_kind: None,
            registers: &k.facts,
            obligations: &ob,
            agreement_version: None,
            acknowledged: &[],
            data_users_named: false,
        };
        evidence(code, c, CommandKind::ToDataRelease, None, &ctx)
    }

    #[test]
    fn a_third_country_transfer_is_met_only_when_permitted_on_a_basis_for_every_country() {
        // Seed 000, "Hantering vid utlämnandet av kvalitetsregisterdata"; seed 002 calls it hard.
        use crate::domain::collaboration::{ThirdCountryAssessment, TransferBasis};
        use crate::domain::text::CountryCode;
        let k = Kit::new();
        let mut c = k.collab(Scenario::third_country());
        let code = ObligationCode::ThirdCountryAssessment;
        assert_eq!(
            check(&k, &c, code),
            Err(vec!["third_country_assessment".to_string()])
        );
        let us = CountryCode::parse("US").unwrap();
        let assessment =
            |permitted: bool, basis: Option<TransferBasis>, countries: Vec<CountryCode>| {
                Some(ThirdCountryAssessment {
                    countries,
                    permitted,
                    basis,
                    reasons: "R".into(),
                    assessed_by: k.legal_a.account.clone(),
                    assessed_on: k.today(),
                })
            };
        c.evidence.third_country_assessment =
            assessment(true, Some(TransferBasis::AdequacyDecision), vec![us]);
        assert_eq!(check(&k, &c, code), Ok(()));
        c.evidence.third_country_assessment = assessment(true, None, vec![us]);
        assert_eq!(
            check(&k, &c, code),
            Err(vec!["third_country_assessment".to_string()])
        );
        c.evidence.third_country_assessment =
            assessment(false, Some(TransferBasis::AdequacyDecision), vec![us]);
        assert_eq!(
            check(&k, &c, code),
            Err(vec!["third_country_assessment.permitted".to_string()])
        );
        // A country added after the assessment is not covered by it.
        c.evidence.third_country_assessment =
            assessment(true, Some(TransferBasis::AdequacyDecision), vec![us]);
        c.recipient_countries
            .push(CountryCode::parse("CN").unwrap());
        assert_eq!(
            check(&k, &c, code),
            Err(vec!["third_country_assessment".to_string()])
        );
        // An EU country needs no assessment of its own.
        c.recipient_countries.pop();
        c.recipient_countries
            .push(CountryCode::parse("DE").unwrap());
        assert_eq!(check(&k, &c, code), Ok(()));
    }

    #[test]
    fn linkage_with_another_register_needs_that_register_in_the_case() {
        // Seed 000, "Sambearbetning av registerdata": the other register's CPUA reviews on its own.
        let k = Kit::new();
        let mut s = Scenario::public_research();
        s.linkage = vec![LinkageTarget::OtherRegister];
        let c = k.collab(s);
        assert_eq!(
            check(&k, &c, ObligationCode::LinkageApplications),
            Err(vec!["registers.linked_register".to_string()])
        );
        let mut s = Scenario::two_cpuas();
        s.linkage = vec![LinkageTarget::OtherRegister];
        let c = k.collab(s);
        assert_eq!(check(&k, &c, ObligationCode::LinkageApplications), Ok(()));
    }

    #[test]
    fn an_obligation_added_by_legal_carries_legals_reason() {
        let k = Kit::new();
        let c = k.collab(Scenario::public_research());
        assert!(!k
            .obligations_of(&c)
            .has(ObligationCode::DataProcessingAgreement));
        let n = k
            .run(
                &c,
                Command::OverrideClassification(super::super::OverrideInput {
                    collaboration_type: None,
                    add: vec![ObligationCode::DataProcessingAgreement],
                    waive: vec![],
                    reason: "the principal uses a cloud processor".into(),
                }),
            )
            .unwrap();
        let ob = k.obligations_of(&n);
        let o = ob
            .get(ObligationCode::DataProcessingAgreement)
            .expect("added");
        assert!(o.added_by_legal);
        assert_eq!(o.reason_en, "the principal uses a cloud processor");
        assert!(o.source.is_none() && o.added_by_legal);
        assert_eq!(o.gates_step, 7);
        // A rule's obligation is not marked as legal's.
        let e = ob.get(ObligationCode::EthicsApproval).unwrap();
        assert!(!e.added_by_legal);
        assert!(e
            .source
            .as_ref()
            .is_some_and(|s| s.section.contains("Etikprövning")));
        // Waiving an added waivable obligation removes it again; adding then waiving pharma leaves it out.
        let p = k
            .run(
                &n,
                Command::OverrideClassification(super::super::OverrideInput {
                    collaboration_type: None,
                    add: vec![ObligationCode::PharmaAppendix],
                    waive: vec![],
                    reason: "pharma after all".into(),
                }),
            )
            .unwrap();
        let ob = k.obligations_of(&p);
        assert!(ob
            .get(ObligationCode::PharmaAppendix)
            .is_some_and(|o| o.added_by_legal));
        // Each added obligation keeps its own reason, not the latest override's.
        assert_eq!(
            ob.get(ObligationCode::DataProcessingAgreement)
                .unwrap()
                .reason_en,
            "the principal uses a cloud processor"
        );
    }

    #[test]
    fn every_obligation_states_its_own_evidence_in_both_languages() {
        let mut seen = std::collections::BTreeSet::new();
        for &code in ObligationCode::ALL {
            let (sv, en) = evidence_text(code);
            assert!(sv.len() > 20 && en.len() > 20, "{code}");
            assert_ne!(sv, en, "{code}: the Swedish text is Swedish");
            assert!(
                seen.insert(en),
                "{code}: its evidence text is another obligation's"
            );
        }
    }
}
