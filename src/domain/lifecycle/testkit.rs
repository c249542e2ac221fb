//! The lifecycle tests' fixture. Every collaboration is classified by the real classifier with the shipped
//! rulebook (the path production takes), and walked forward only by executing commands, each obligation met
//! by recording its evidence ([`Kit::satisfy`], exhaustive over the obligation codes).
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use std::collections::{BTreeMap, BTreeSet};

use super::*;
use crate::domain::agreement::evidence::AgreementVersionEvidence;
use crate::domain::classification::{
    AnalysisBy, ClauseCode, Facts, IsResearch, ObligationCode, Purpose, Receives, RegisterInfo,
    Rulebook, Sector,
};
use crate::domain::ids::{AccountId, CollaborationId};
use crate::domain::register::{Delegate, Delegation};
use crate::domain::role::Role;
use crate::domain::text::CountryCode;

const SHIPPED: &str = include_str!("../../../config/rulebook/2026-07-01.toml");

/// What a test collaboration asks for.
#[derive(Clone)]
pub struct Scenario {
    pub facts: Facts,
    /// Indexes into [`Kit::registers`]: 0 and 2 are Region A's (2 without patient information for
    /// research), 1 is Region B's.
    pub registers: Vec<usize>,
    pub linkage: Vec<LinkageTarget>,
    pub countries: Vec<&'static str>,
    pub data_kind: DataKind,
    pub is_research: bool,
    pub principal: Option<OrgKind>,
}

impl Scenario {
    /// Research led by a university; the principal gets pseudonymised microdata, the company results.
    pub fn public_research() -> Scenario {
        Scenario {
            facts: Facts {
                purpose: Some(Purpose::Research),
                company_receives: Some(Receives::Aggregated),
                principal_receives: Some(Receives::Pseudonymised),
                analysis_by: Some(AnalysisBy::Principal),
                sector: Some(Sector::Medtech),
                external_processor: Some(false),
                identity_numbers_requested: Some(false),
                effort_beyond_routine: Some(false),
                key_retention_months: Some(3),
                ..Facts::default()
            },
            registers: vec![0],
            linkage: vec![],
            countries: vec![],
            data_kind: DataKind::Pseudonymised,
            is_research: true,
            principal: Some(OrgKind::University),
        }
    }

    /// As [`Scenario::public_research`] with a register under each CPUA.
    pub fn two_cpuas() -> Scenario {
        Scenario {
            registers: vec![0, 1],
            ..Scenario::public_research()
        }
    }

    /// The company is the research principal.
    pub fn company_principal() -> Scenario {
        let mut s = Scenario::public_research();
        s.principal = Some(OrgKind::Company);
        s.facts.analysis_by = Some(AnalysisBy::Company);
        s
    }

    /// Aggregated statistics, no research, no personal data: a decision, no agreement.
    pub fn statistics() -> Scenario {
        Scenario {
            facts: Facts {
                is_research: Some(IsResearch::No),
                purpose: Some(Purpose::Statistics),
                company_receives: Some(Receives::Aggregated),
                principal_receives: Some(Receives::Nothing),
                sector: Some(Sector::Medtech),
                external_processor: Some(false),
                identity_numbers_requested: Some(false),
                effort_beyond_routine: Some(false),
                ..Facts::default()
            },
            registers: vec![0],
            linkage: vec![],
            countries: vec![],
            data_kind: DataKind::Aggregated,
            is_research: false,
            principal: None,
        }
    }

    /// Public research sending pseudonymised data to a recipient in the United States.
    pub fn third_country() -> Scenario {
        Scenario {
            countries: vec!["US"],
            ..Scenario::public_research()
        }
    }

    /// Public research by a pharmaceutical company (the pharma appendix applies).
    pub fn pharma() -> Scenario {
        let mut s = Scenario::public_research();
        s.facts.sector = Some(Sector::Pharma);
        s
    }

    /// A grey zone: algorithm training goes to legal review.
    pub fn grey_zone() -> Scenario {
        let mut s = Scenario::public_research();
        s.facts.purpose = Some(Purpose::AlgorithmTraining);
        s
    }
}

/// Two CPUAs, three registers, an actor per role, the shipped rulebook and a fixed clock.
#[derive(Clone)]
pub struct Kit {
    pub rulebook: Rulebook,
    pub a: OrgId,
    pub b: OrgId,
    pub company: OrgId,
    pub principal_org: OrgId,
    pub registers: [RegisterId; 3],
    pub company_rep: Actor,
    pub holder_a: Actor,
    pub holder_b: Actor,
    pub legal_a: Actor,
    pub legal_b: Actor,
    pub facts: BTreeMap<RegisterId, RegisterFacts>,
    pub now: DateTime<Utc>,
    pub version: Option<AgreementVersionEvidence>,
}

fn actor(role: Role, org: &OrgId, name: &str) -> Actor {
    Actor::new(AccountId::new(), name, org.clone(), role)
}

impl Kit {
    pub fn new() -> Kit {
        let (a, b, company) = (OrgId::new(), OrgId::new(), OrgId::new());
        let registers = [RegisterId::new(), RegisterId::new(), RegisterId::new()];
        let mut facts = BTreeMap::new();
        for (i, r) in registers.iter().enumerate() {
            let (cpua, name) = if i == 1 {
                (b.clone(), "Region B")
            } else {
                (a.clone(), "Region A")
            };
            facts.insert(
                r.clone(),
                RegisterFacts {
                    name: format!("Register {i}"),
                    cpua,
                    cpua_name: name.into(),
                    patient_information_covers_research: i != 2,
                    delegations: vec![],
                },
            );
        }
        Kit {
            rulebook: Rulebook::parse("2026-07-01.toml", SHIPPED).expect("shipped rulebook"),
            company_rep: actor(Role::CompanyRepresentative, &company, "Company Rep"),
            holder_a: actor(Role::RegisterHolder, &a, "Holder A"),
            holder_b: actor(Role::RegisterHolder, &b, "Holder B"),
            legal_a: actor(Role::CpuaLegal, &a, "Lawyer A"),
            legal_b: actor(Role::CpuaLegal, &b, "Lawyer B"),
            principal_org: OrgId::new(),
            a,
            b,
            company,
            registers,
            facts,
            now: Utc.with_ymd_and_hms(2026, 9, 1, 9, 0, 0).unwrap(),
            version: None,
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    pub fn today(&self) -> NaiveDate {
        self.now.date_naive()
    }

    /// The same kit `days` later.
    pub fn later(&self, days: u64) -> Kit {
        let mut k = self.clone();
        k.now += chrono::Duration::days(days as i64);
        k
    }

    fn delegated(&self, i: usize, revoked: bool) -> Kit {
        let mut k = self.clone();
        let reg = k.registers[i].clone();
        let f = k.facts.get_mut(&reg).expect("register");
        f.delegations.push(Delegation {
            id: "d1".into(),
            register: reg.clone(),
            cpua: f.cpua.clone(),
            delegate: Delegate::RegisterHolder,
            delegated_on: self.today().pred_opt().unwrap(),
            reference: "DEL-1".into(),
            revoked_on: revoked.then(|| self.today()),
        });
        k
    }

    /// Region A delegated the release decision for register `i` to the named person `to`.
    pub fn with_person_delegation(&self, i: usize, to: &Actor) -> Kit {
        let mut k = self.clone();
        let reg = k.registers[i].clone();
        let f = k.facts.get_mut(&reg).expect("register");
        f.delegations.push(Delegation {
            id: "d2".into(),
            register: reg.clone(),
            cpua: f.cpua.clone(),
            delegate: Delegate::Person {
                account: to.account.clone(),
                name: to.name.clone(),
            },
            delegated_on: self.today(),
            reference: "DEL-2".into(),
            revoked_on: None,
        });
        k
    }

    /// Region A delegated the release decision for register `i` to its register holder.
    pub fn with_delegation(&self, i: usize) -> Kit {
        self.delegated(i, false)
    }

    /// As [`Kit::with_delegation`], revoked as of today.
    pub fn with_revoked_delegation(&self, i: usize) -> Kit {
        self.delegated(i, true)
    }

    /// The kit with a stored agreement version the next command may name.
    pub fn with_version(&self, v: AgreementVersionEvidence) -> Kit {
        let mut k = self.clone();
        k.version = Some(v);
        k
    }

    fn principal_of(&self, s: &Scenario) -> Option<OrgId> {
        match s.principal {
            Some(OrgKind::Company) => Some(self.company.clone()),
            Some(_) => Some(self.principal_org.clone()),
            None => None,
        }
    }

    /// A collaboration in preparation, classified by the shipped rulebook.
    pub fn collab(&self, s: Scenario) -> Collaboration {
        let mut c = Collaboration {
            state_version: STATE_VERSION,
            id: CollaborationId::new(),
            reference: "SAM-2026-0001".into(),
            title: "T".into(),
            purpose: "P".into(),
            research_question: s.is_research.then(|| "Q".to_string()),
            is_research: s.is_research,
            research_principal: self.principal_of(&s),
            company: self.company.clone(),
            registers: s
                .registers
                .iter()
                .map(|i| self.registers[*i].clone())
                .collect(),
            requested_variables: vec!["alder".into()],
            data_kind: s.data_kind,
            linkage: s.linkage.clone(),
            recipient_countries: s
                .countries
                .iter()
                .map(|cc| CountryCode::parse(cc).expect("country"))
                .collect(),
            intake: s.facts.clone(),
            classification: None,
            step: Step::Preparation,
            feasibility: vec![],
            ethics: None,
            cpua_reviews: vec![],
            linkage_reviews: vec![],
            evidence: Default::default(),
            passed_warnings: vec![],
            agreement: None,
            cost_agreement: None,
            publications: vec![],
            report_back: None,
            disposal: None,
            amendments: vec![],
            internal_notes: vec![],
            withdrawal_reason: None,
            created_at: self.now,
            created_by: self.company_rep.account.clone(),
            closed_at: None,
        };
        let infos: Vec<RegisterInfo> = c
            .registers
            .iter()
            .map(|r| {
                let f = &self.facts[r];
                RegisterInfo {
                    id: r.to_string(),
                    cpua_id: f.cpua.to_string(),
                    cpua_name: f.cpua_name.clone(),
                }
            })
            .collect();
        c.classification = Some(crate::domain::intake::classify_collaboration(
            &self.rulebook,
            &c,
            s.principal,
            &infos,
            self.now,
        ));
        c
    }

    pub fn obligations_of(&self, c: &Collaboration) -> Obligations {
        Obligations::build(c, Some(&self.rulebook))
    }

    fn principal_kind(&self, c: &Collaboration) -> Option<OrgKind> {
        match &c.research_principal {
            Some(p) if p == &self.company => Some(OrgKind::Company),
            Some(_) => Some(OrgKind::University),
            None => None,
        }
    }

    /// The actor who would issue `cmd`: the track's lawyer for CPUA commands, the register's holder for a
    /// feasibility answer, the company representative otherwise.
    fn actor_for(&self, cmd: &Command) -> &Actor {
        let legal = |o: Option<&OrgId>| {
            if o == Some(&self.b) {
                &self.legal_b
            } else {
                &self.legal_a
            }
        };
        use CommandKind as K;
        match cmd.kind() {
            K::RecordFeasibility => {
                if cmd.register().is_some_and(|r| self.facts[r].cpua == self.b) {
                    &self.holder_b
                } else {
                    &self.holder_a
                }
            }
            K::RecommendDecision
            | K::ToReleaseDecision
            | K::ReconsiderDecision
            | K::RecordAppealOutcome
            | K::ToDataRelease
            | K::RecordKeyFileDeleted
            | K::DecideAmendment
            | K::ReleaseAmendmentData => legal(cmd.cpua()),
            K::ToAgreement
            | K::RecordAmendmentAgreement
            | K::RecordThirdCountryAssessment
            | K::RecordCoordination
            | K::OverrideClassification
            | K::RecordCostAgreement => &self.legal_a,
            _ => &self.company_rep,
        }
    }

    fn exec(
        &self,
        c: &Collaboration,
        actor: &Actor,
        cmd: Command,
        acks: &[(&str, &str)],
    ) -> Result<Collaboration, Refusal> {
        let ob = self.obligations_of(c);
        let acknowledged: Vec<Acknowledgement> = acks
            .iter()
            .map(|(code, reason)| Acknowledgement {
                code: code.to_string(),
                reason: reason.to_string(),
            })
            .collect();
        let stored = self.stored_version(c);
        let ctx = Context {
            now: self.now,
            today: self.today(),
            actor,
            principal_kind: self.principal_kind(c),
            registers: &self.facts,
            obligations: &ob,
            agreement_version: stored.as_ref(),
            acknowledged: &acknowledged,
            data_users_named: false,
        };
        execute(c, cmd, &ctx).map(|e| e.state)
    }

    pub fn run(&self, c: &Collaboration, cmd: Command) -> Result<Collaboration, Refusal> {
        let actor = self.actor_for(&cmd).clone();
        self.exec(c, &actor, cmd, &[])
    }

    pub fn run_ack(
        &self,
        c: &Collaboration,
        cmd: Command,
        acks: &[(&str, &str)],
    ) -> Result<Collaboration, Refusal> {
        let actor = self.actor_for(&cmd).clone();
        self.exec(c, &actor, cmd, acks)
    }

    pub fn run_as(
        &self,
        c: &Collaboration,
        actor: &Actor,
        cmd: Command,
    ) -> Result<Collaboration, Refusal> {
        self.exec(c, actor, cmd, &[])
    }

    pub fn run_as_ack(
        &self,
        c: &Collaboration,
        actor: &Actor,
        cmd: Command,
        acks: &[(&str, &str)],
    ) -> Result<Collaboration, Refusal> {
        self.exec(c, actor, cmd, acks)
    }

    /// The guard of `kind` as `actor` sees it.
    pub fn guard(
        &self,
        c: &Collaboration,
        actor: &Actor,
        kind: CommandKind,
        track: Option<&OrgId>,
    ) -> Result<(), Refusal> {
        let ob = self.obligations_of(c);
        let stored = self.stored_version(c);
        let ctx = Context {
            now: self.now,
            today: self.today(),
            actor,
            principal_kind: self.principal_kind(c),
            registers: &self.facts,
            obligations: &ob,
            agreement_version: stored.as_ref(),
            acknowledged: &[],
            data_users_named: false,
        };
        guard(c, kind, track, &ctx)
    }

    fn ok(&self, c: &Collaboration, cmd: Command) -> Collaboration {
        let what = format!("{cmd:?}");
        self.run(c, cmd)
            .unwrap_or_else(|r| panic!("{what} refused: {} {:?}", r.rule, r.missing))
    }

    // ---------- commands ----------

    pub fn feasibility_input(&self, i: usize) -> FeasibilityInput {
        FeasibilityInput {
            register: self.registers[i].clone(),
            feasible: true,
            estimated_weeks: Some(4),
            estimated_cost: None,
            extraction_charged: false,
            agrees_on_type: Some(true),
            comment: None,
        }
    }

    pub fn feasibility(&self, i: usize) -> Command {
        Command::RecordFeasibility(self.feasibility_input(i))
    }

    pub fn ethics_approval(&self) -> EthicsApproval {
        ethics_approval("2026-01234-01", self.today(), None).expect("reference")
    }

    pub fn new_ethics(&self) -> EthicsApproval {
        ethics_approval("2026-05678-02", self.today(), None).expect("reference")
    }

    pub fn application(&self, cpua: &OrgId) -> Command {
        Command::ToDataApplication {
            cpua: cpua.clone(),
            dossier: full_dossier(),
        }
    }

    pub fn decide(&self, cpua: &OrgId, d: DecisionInput) -> Command {
        Command::ToReleaseDecision {
            cpua: cpua.clone(),
            decision: d,
        }
    }

    pub fn retrospective_consent(&self, i: usize) -> Command {
        Command::RecordEvidence(EvidenceInput::RetrospectiveConsent {
            register: self.registers[i].clone(),
            description: "consent letters sent and returned".into(),
            obtained_on: self.today(),
        })
    }

    pub fn cost_agreement(&self) -> Command {
        Command::RecordCostAgreement(CostAgreementInput {
            reference: "KOST-1".into(),
            signed_on: self.today(),
            estimate: crate::domain::money::Money::from_ore(1_000_000).expect("money"),
            hourly_rate: None,
            rates: vec![],
            expenses: crate::domain::money::Money::ZERO,
            ceiling: None,
        })
    }

    pub fn evidence_dpa(&self) -> EvidenceInput {
        EvidenceInput::DataProcessingAgreement {
            processor: "Cloud AB".into(),
            reference: "PUB-1".into(),
            signed_on: self.today(),
        }
    }

    pub fn linkage_decision(&self, authority: LinkageTarget, approved: bool) -> Command {
        Command::RecordLinkage(LinkageInput::Decision {
            authority,
            approved,
            decided_on: self.today(),
            reference: "SCB-1".into(),
        })
    }

    pub fn disposal(&self) -> DisposalConfirmation {
        DisposalConfirmation {
            disposition: Disposition::Deleted,
            confirmed_on: self.today(),
            confirmed_by_name: "N".into(),
            statement: "deleted".into(),
        }
    }

    pub fn release_input(&self) -> ReleaseInput {
        ReleaseInput {
            released_on: self.today(),
            transfer_method: TransferMethod::EncryptedFile,
            password_sent_separately: true,
            key_deletion_on: None,
            extended_retention_justification: None,
        }
    }

    pub fn open_amendment(&self) -> Command {
        Command::OpenAmendment {
            research_question: "A new question".into(),
            reason: "R".into(),
        }
    }

    pub fn decide_amendment(&self, cpua: &OrgId, d: DecisionInput) -> Command {
        Command::DecideAmendment {
            cpua: cpua.clone(),
            decision: d,
        }
    }

    pub fn amendment_release(&self, cpua: &OrgId) -> Command {
        Command::ReleaseAmendmentData {
            cpua: cpua.clone(),
            release: self.release_input(),
        }
    }

    /// A stored version that fits `c`: the approving CPUAs, every clause the obligations require, and
    /// a completed envelope whose every party signed its digest (issue 14).
    pub fn version_for(&self, c: &Collaboration, number: u32) -> AgreementVersionEvidence {
        let ob = self.obligations_of(c);
        let mut clauses: BTreeSet<ClauseCode> = ob.required_clauses().into_keys().collect();
        clauses.insert(ClauseCode::GoalsAndDeliverables);
        let digest = format!("digest-{number}");
        let mut parties: BTreeSet<OrgId> = c.approving_cpuas();
        parties.insert(c.company.clone());
        parties.extend(c.research_principal.clone());
        let execution = crate::domain::signing::Execution {
            status: crate::domain::signing::EnvelopeStatus::Completed,
            digest: digest.clone(),
            signers: parties
                .iter()
                .map(|o| crate::domain::signing::SignerFacts {
                    org: o.clone(),
                    signed_digest: Some(digest.clone()),
                    name: String::new(),
                })
                .collect(),
            sealed: true,
            party_rules: Default::default(),
        };
        AgreementVersionEvidence {
            number,
            digest,
            clauses,
            weakened_clauses: BTreeSet::new(),
            cpua_parties: c.approving_cpuas(),
            amendment: None,
            is_latest: true,
            term_end: None,
            delete_within_days: None,
            parties,
            execution: Some(execution),
        }
    }

    /// The version the next command reads as stored: the one given with [`Kit::with_version`], else,
    /// once an agreement is recorded, that agreement's executed version (as the store would hold it).
    fn stored_version(&self, c: &Collaboration) -> Option<AgreementVersionEvidence> {
        self.version.clone().or_else(|| {
            c.agreement
                .as_ref()
                .filter(|a| a.version > 0)
                .map(|a| self.version_for(c, a.version))
        })
    }

    pub fn amendment_version_for(
        &self,
        c: &Collaboration,
        number: u32,
        amendment: u32,
    ) -> AgreementVersionEvidence {
        AgreementVersionEvidence {
            amendment: Some(amendment),
            ..self.version_for(c, number)
        }
    }

    // ---------- evidence ----------

    /// Records the evidence that meets `code` (exhaustive: a new obligation fails to compile here until its
    /// evidence can be recorded).
    pub fn satisfy(&self, c: &Collaboration, code: ObligationCode) -> Collaboration {
        use ObligationCode as O;
        match code {
            O::EthicsApproval => self.ok(c, Command::RecordEthicsApproval(self.ethics_approval())),
            O::ConfidentialityReview => c.clone(),
            O::ConfidentialityReservation | O::PharmaAppendix => c.clone(),
            O::DataProcessingAgreement => self.ok(c, Command::RecordEvidence(self.evidence_dpa())),
            O::LinkageApplications => {
                let mut n = c.clone();
                for t in obligations::linkage_authorities(c) {
                    n = self.ok(&n, self.linkage_decision(t, true));
                }
                n
            }
            O::ThirdCountryAssessment => self.ok(
                c,
                Command::RecordEvidence(EvidenceInput::ThirdCountryAssessment {
                    permitted: true,
                    basis: Some(TransferBasis::StandardContractualClauses),
                    reasons: "SCC".into(),
                }),
            ),
            O::IdentityNumbersJustification => self.ok(
                c,
                Command::RecordEvidence(EvidenceInput::IdentityNumberJustification {
                    justification: "linkage needs them".into(),
                    stated_in_ethics_application: true,
                }),
            ),
            O::WrittenCostAgreement => self.ok(c, self.cost_agreement()),
            O::ExtendedKeyRetention => {
                let months = c.intake.key_retention_months.unwrap_or(3);
                let e = ethics_approval("2026-01234-01", self.today(), Some(months)).expect("ref");
                self.ok(c, Command::RecordEthicsApproval(e))
            }
            O::MultiCpuaCoordination => {
                let resp = if c.linkage.contains(&LinkageTarget::Socialstyrelsen) {
                    "socialstyrelsen".to_string()
                } else {
                    self.a.to_string()
                };
                self.ok(
                    c,
                    Command::RecordEvidence(EvidenceInput::Coordination {
                        key_custodian: self.a.clone(),
                        linkage_responsible: resp,
                        note: None,
                    }),
                )
            }
            O::LegalReview => self.ok(
                c,
                Command::OverrideClassification(OverrideInput {
                    collaboration_type: Some(
                        crate::domain::classification::CollaborationType::ResearchPublicPrincipal,
                    ),
                    add: vec![],
                    waive: vec![],
                    reason: "legal decided".into(),
                }),
            ),
        }
    }

    /// Meets every obligation in force that gates a step up to `step`, except `skip`.
    pub fn satisfy_up_to(
        &self,
        c: &Collaboration,
        step: u8,
        skip: Option<ObligationCode>,
    ) -> Collaboration {
        let mut n = c.clone();
        // Settle the type first: it can change the obligations.
        if self.obligations_of(&n).has(ObligationCode::LegalReview)
            && skip != Some(ObligationCode::LegalReview)
        {
            n = self.satisfy(&n, ObligationCode::LegalReview);
        }
        let ob = self.obligations_of(&n);
        let mut codes: Vec<&EffectiveObligation> = ob
            .in_force
            .iter()
            .filter(|o| o.gates_step <= step)
            .collect();
        // Record ethics before the extended retention, which replaces it with a covering approval.
        codes.sort_by_key(|o| o.code != ObligationCode::EthicsApproval);
        for o in codes {
            if Some(o.code) != skip && self.obligations_evidence_missing(&n, o.code) {
                n = self.satisfy(&n, o.code);
            }
        }
        n
    }

    // ---------- walks ----------

    pub fn walk_to_register_contact(&self, s: Scenario) -> Collaboration {
        let c = self.collab(s);
        self.ok(&c, Command::ToRegisterContact)
    }

    /// Every register's holder answers.
    pub fn answer_feasibility(&self, c: &Collaboration) -> Collaboration {
        let mut n = c.clone();
        for (i, r) in self.registers.iter().enumerate() {
            if n.registers.contains(r) {
                n = self.ok(&n, self.feasibility(i));
            }
        }
        n
    }

    pub fn walk_to_feasibility(&self, s: Scenario) -> Collaboration {
        let c = self.walk_to_register_contact(s);
        self.answer_feasibility(&c)
    }

    /// Answered, in ethics review, with the obligations gating steps 3 and 4 met.
    pub fn walk_to_ethics(&self, s: Scenario) -> Collaboration {
        let c = self.walk_to_feasibility(s);
        let c = self.ok(&c, Command::ToEthicsReview);
        self.satisfy_up_to(&c, 4, None)
    }

    /// A complete application to every CPUA, with the patient-information consent where needed.
    pub fn walk_to_applied(&self, s: Scenario) -> Collaboration {
        let mut c = if s.data_kind == DataKind::Aggregated && !s.is_research {
            let c = self.walk_to_feasibility(s);
            self.satisfy_up_to(&c, 4, None)
        } else {
            self.walk_to_ethics(s)
        };
        for (i, r) in self.registers.clone().iter().enumerate() {
            if c.registers.contains(r)
                && c.is_research
                && !self.facts[r].patient_information_covers_research
            {
                c = self.ok(&c, self.retrospective_consent(i));
            }
        }
        let cpuas: BTreeSet<OrgId> = c
            .registers
            .iter()
            .map(|r| self.facts[r].cpua.clone())
            .collect();
        for o in cpuas {
            c = self.ok(&c, self.application(&o));
        }
        c
    }

    /// Every CPUA approved, with the obligations gating step 5 met.
    pub fn walk_to_decided(&self, s: Scenario) -> Collaboration {
        let c = self.walk_to_applied(s);
        let mut c = self.satisfy_up_to(&c, 5, None);
        let identity = self
            .obligations_of(&c)
            .has(ObligationCode::IdentityNumbersJustification);
        for o in c
            .cpua_reviews
            .iter()
            .map(|r| r.cpua.clone())
            .collect::<Vec<_>>()
        {
            let mut d = DecisionInput::approval();
            if identity {
                if let Some(f) = d.findings.as_mut() {
                    f.identity_numbers_necessary = true;
                }
            }
            c = self.ok(&c, self.decide(&o, d));
        }
        c
    }

    /// The agreement recorded with a fitting version 1.
    pub fn walk_to_agreement_recorded(&self, s: Scenario) -> Collaboration {
        let c = self.walk_to_decided(s);
        let c = self.satisfy_up_to(&c, 6, None);
        if !self.obligations_of(&c).agreement_required() {
            return c;
        }
        let v = self.version_for(&c, 1);
        let k = self.with_version(v.clone());
        k.ok(
            &c,
            Command::ToAgreement {
                version: 1,
                digest: v.digest,
                signed_on: self.today(),
            },
        )
    }

    /// One CPUA releases.
    pub fn release(&self, c: &Collaboration, cpua: &OrgId) -> Collaboration {
        self.ok(
            c,
            Command::ToDataRelease {
                cpua: cpua.clone(),
                release: self.release_input(),
            },
        )
    }

    /// Every approving CPUA released, with the obligations gating step 7 met.
    pub fn walk_to_released(&self, s: Scenario) -> Collaboration {
        let c = self.walk_to_agreement_recorded(s);
        let mut c = self.satisfy_up_to(&c, 7, None);
        for o in c.approving_cpuas() {
            c = self.release(&c, &o);
        }
        c
    }

    /// Released, an amendment opened with a new ethics approval and its application submitted.
    pub fn walk_to_amendment_submitted(&self, s: Scenario) -> Collaboration {
        let c = self.walk_to_released(s);
        let c = self.ok(&c, self.open_amendment());
        let c = self.ok(&c, Command::RecordAmendmentEthics(self.new_ethics()));
        self.ok(&c, Command::SubmitAmendmentApplication)
    }
}

impl Kit {
    /// Whether `code`'s evidence is missing in `c` for the command it gates (any track).
    fn obligations_evidence_missing(&self, c: &Collaboration, code: ObligationCode) -> bool {
        let ob = self.obligations_of(c);
        let Some(o) = ob.get(code) else { return false };
        let kind = CommandKind::performing_step(o.gates_step).unwrap_or(CommandKind::ToDataRelease);
        let stored = self.stored_version(c);
        let ctx = Context {
            now: self.now,
            today: self.today(),
            actor: &self.company_rep,
            principal_kind: self.principal_kind(c),
            registers: &self.facts,
            obligations: &ob,
            agreement_version: stored.as_ref(),
            acknowledged: &[],
            data_users_named: false,
        };
        obligations::evidence(code, c, kind, None, &ctx).is_err()
    }
}

/// The five dossier items of seed 000, "Menprövning av centralt personuppgiftsansvarig myndighet (CPUA)".
pub fn full_dossier() -> Dossier {
    Dossier {
        recipient_principal: Some("U".into()),
        project_description: Some("D".into()),
        ethics_documents: Some("E".into()),
        requested_data: Some(vec!["alder".into()]),
        access_and_storage: Some("S".into()),
    }
}
