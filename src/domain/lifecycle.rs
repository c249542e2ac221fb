//! The nine-step process of seed 001 as an explicit state machine.
//!
//! Every change to a collaboration is a [`Command`]. [`execute`] checks the command's guard against
//! the current state, validates its data and returns the new state, or a [`Refusal`] that names the
//! rule, the missing precondition and its source in the seeds. Steps 4, 5 and 7 are tracked per
//! CPUA; the collaboration's step is derived from those tracks ([`derive_step`]).
use chrono::{DateTime, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

use super::classification::{CollaborationType, ObligationCode};
use super::collaboration::*;
use super::ids::{OrgId, RegisterId};
use super::money::Money;
use super::organisation::OrgKind;
use super::role::Actor;
use super::text::EthicsReference;

pub const SEED_000: &str = "000_8f4d98e28584af27.txt";
pub const SEED_001: &str = "001_2ea1acc3c69dfa36.txt";
pub const SEED_002: &str = "002_f476663c34a527d0.txt";

/// A step of the process, or a terminal state (steg).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// 1. Förarbete.
    Preparation,
    /// 2. Etablera tidig kontakt med registerhållare.
    RegisterContact,
    /// 3. Ansökan om etiskt godkännande.
    EthicsReview,
    /// 4. Ansökan om datauttag.
    DataApplication,
    /// 5. Beslut om utlämnande.
    ReleaseDecision,
    /// 6. Avtal upprättas.
    Agreement,
    /// 7. Utlämnande av data.
    DataRelease,
    /// 8. Resultat och redovisning/publicering.
    Results,
    /// 9. Arkivering och radering av kopior.
    Archiving,
    /// Terminal: every CPUA refused (avslag).
    Refused,
    /// Terminal: the parties withdrew (återkallat).
    Withdrawn,
    /// Terminal: copies archived or deleted and confirmed (avslutat).
    Closed,
}

impl Step {
    pub const ALL: [Step; 12] = [
        Step::Preparation,
        Step::RegisterContact,
        Step::EthicsReview,
        Step::DataApplication,
        Step::ReleaseDecision,
        Step::Agreement,
        Step::DataRelease,
        Step::Results,
        Step::Archiving,
        Step::Refused,
        Step::Withdrawn,
        Step::Closed,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Step::Preparation => "preparation",
            Step::RegisterContact => "register_contact",
            Step::EthicsReview => "ethics_review",
            Step::DataApplication => "data_application",
            Step::ReleaseDecision => "release_decision",
            Step::Agreement => "agreement",
            Step::DataRelease => "data_release",
            Step::Results => "results",
            Step::Archiving => "archiving",
            Step::Refused => "refused",
            Step::Withdrawn => "withdrawn",
            Step::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|st| st.code() == s)
    }

    /// The number of the step in seed 001 (1–9); none for terminal states.
    pub fn number(self) -> Option<u8> {
        match self {
            Step::Preparation => Some(1),
            Step::RegisterContact => Some(2),
            Step::EthicsReview => Some(3),
            Step::DataApplication => Some(4),
            Step::ReleaseDecision => Some(5),
            Step::Agreement => Some(6),
            Step::DataRelease => Some(7),
            Step::Results => Some(8),
            Step::Archiving => Some(9),
            _ => None,
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, Step::Refused | Step::Withdrawn | Step::Closed)
    }

    /// Details may be edited until the data application is made.
    pub fn is_editable(self) -> bool {
        matches!(
            self,
            Step::Preparation | Step::RegisterContact | Step::EthicsReview
        )
    }
}

/// What the rest of the process requires of this collaboration (skyldigheter). Until the
/// classification rulebook arrives these come from [`baseline_obligations`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Obligations {
    pub ethics_approval: bool,
    pub confidentiality_reservation: bool,
    pub written_cost_agreement: bool,
    pub data_processing_agreement: bool,
    /// A grey zone that CPUA legal must decide before the data application (seed 002).
    pub legal_review: bool,
}

/// The obligations in force: from the stored classification (with legal's overrides) when there is
/// one, else from the collaboration's own facts. A charged extraction in the register holder's answer
/// always brings the written cost agreement.
pub fn obligations(c: &Collaboration, principal_kind: Option<OrgKind>) -> Obligations {
    let charged = c.feasibility.as_ref().is_some_and(|f| f.extraction_charged);
    match &c.classification {
        Some(rec) => {
            let set = rec.effective_obligations();
            Obligations {
                ethics_approval: set.contains(&ObligationCode::EthicsApproval),
                confidentiality_reservation: set
                    .contains(&ObligationCode::ConfidentialityReservation),
                written_cost_agreement: charged
                    || set.contains(&ObligationCode::WrittenCostAgreement),
                data_processing_agreement: set.contains(&ObligationCode::DataProcessingAgreement),
                legal_review: set.contains(&ObligationCode::LegalReview),
            }
        }
        None => baseline_obligations(c, principal_kind),
    }
}

/// The obligations that follow from the collaboration's own facts.
///
/// - Ethics approval: all register data are sensitive personal data, so research on personal-level
///   data needs ethics approval, consent or not (seed 000, "Etikprövning").
/// - Confidentiality reservation: a principal that is not a university/state body or a region is not
///   bound by OSL, so the release needs a reservation formalised in the agreement; a company as
///   principal always gets one (seed 000, "Forskningssamarbete med industrin").
/// - Written cost agreement: charged extraction must be agreed in writing before release (seed 000,
///   "Ersättning för datauttag för forskning").
pub fn baseline_obligations(c: &Collaboration, principal_kind: Option<OrgKind>) -> Obligations {
    let personal = c.data_kind.is_personal_data();
    Obligations {
        ethics_approval: c.is_research && personal,
        confidentiality_reservation: principal_kind == Some(OrgKind::Company)
            || (personal && principal_kind.is_some_and(|k| !k.bound_by_osl())),
        written_cost_agreement: c.feasibility.as_ref().is_some_and(|f| f.extraction_charged),
        data_processing_agreement: false,
        legal_review: false,
    }
}

/// What the domain needs to know besides the collaboration itself.
pub struct Context<'a> {
    pub now: DateTime<Utc>,
    pub today: NaiveDate,
    pub actor: &'a Actor,
    pub principal_kind: Option<OrgKind>,
    /// The CPUA responsible for each register now, with its name.
    pub register_cpuas: &'a BTreeMap<RegisterId, (OrgId, String)>,
    pub obligations: Obligations,
}

/// Why a command was refused (skäl för vägran).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    pub kind: RefusalKind,
    /// A stable code of the rule, e.g. `feasibility_required`.
    pub rule: &'static str,
    /// The input field at fault, when it is one.
    pub field: Option<String>,
    pub message: String,
    /// The seed file and section the rule comes from.
    pub source: Option<String>,
    /// The preconditions still missing.
    pub missing: Vec<String>,
}

/// Whether the state or the input is at fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalKind {
    /// A precondition of the current state is not met (409).
    Precondition,
    /// The data given with the command break a rule (422).
    Invalid,
}

impl Refusal {
    pub fn precondition(rule: &'static str, message: impl Into<String>) -> Refusal {
        Refusal {
            kind: RefusalKind::Precondition,
            rule,
            field: None,
            message: message.into(),
            source: None,
            missing: vec![],
        }
    }

    pub fn invalid(field: &str, rule: &'static str, message: impl Into<String>) -> Refusal {
        Refusal {
            kind: RefusalKind::Invalid,
            rule,
            field: Some(field.to_string()),
            message: message.into(),
            source: None,
            missing: vec![],
        }
    }

    pub fn source(mut self, seed: &str, section: &str) -> Refusal {
        self.source = Some(format!("{seed}, \"{section}\""));
        self
    }

    pub fn missing(mut self, items: impl IntoIterator<Item = impl Into<String>>) -> Refusal {
        self.missing = items.into_iter().map(Into::into).collect();
        self
    }
}

/// The kinds of command, without their data (kommandotyp). Transitions name a target step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandKind {
    UpdateDetails,
    ToRegisterContact,
    RecordFeasibility,
    ToEthicsReview,
    RecordEthicsApproval,
    ToDataApplication,
    ToReleaseDecision,
    RecordCostAgreement,
    ToAgreement,
    ToDataRelease,
    RecordPublication,
    RecordReportBack,
    ToResults,
    ToArchiving,
    ConfirmDisposal,
    ToClosed,
    ToWithdrawn,
    OpenAmendment,
    RecordAmendmentEthics,
    SubmitAmendmentApplication,
    DecideAmendment,
    AddInternalNote,
    OverrideClassification,
}

impl CommandKind {
    pub const ALL: [CommandKind; 23] = [
        CommandKind::UpdateDetails,
        CommandKind::ToRegisterContact,
        CommandKind::RecordFeasibility,
        CommandKind::ToEthicsReview,
        CommandKind::RecordEthicsApproval,
        CommandKind::ToDataApplication,
        CommandKind::ToReleaseDecision,
        CommandKind::RecordCostAgreement,
        CommandKind::ToAgreement,
        CommandKind::ToDataRelease,
        CommandKind::RecordPublication,
        CommandKind::RecordReportBack,
        CommandKind::ToResults,
        CommandKind::ToArchiving,
        CommandKind::ConfirmDisposal,
        CommandKind::ToClosed,
        CommandKind::ToWithdrawn,
        CommandKind::OpenAmendment,
        CommandKind::RecordAmendmentEthics,
        CommandKind::SubmitAmendmentApplication,
        CommandKind::DecideAmendment,
        CommandKind::AddInternalNote,
        CommandKind::OverrideClassification,
    ];

    /// The name used in the API and in audit events.
    pub fn code(self) -> &'static str {
        match self {
            CommandKind::UpdateDetails => "update_details",
            CommandKind::ToRegisterContact => "register_contact",
            CommandKind::RecordFeasibility => "record_feasibility",
            CommandKind::ToEthicsReview => "ethics_review",
            CommandKind::RecordEthicsApproval => "record_ethics_approval",
            CommandKind::ToDataApplication => "data_application",
            CommandKind::ToReleaseDecision => "release_decision",
            CommandKind::RecordCostAgreement => "record_cost_agreement",
            CommandKind::ToAgreement => "agreement",
            CommandKind::ToDataRelease => "data_release",
            CommandKind::RecordPublication => "record_publication",
            CommandKind::RecordReportBack => "record_report_back",
            CommandKind::ToResults => "results",
            CommandKind::ToArchiving => "archiving",
            CommandKind::ConfirmDisposal => "confirm_disposal",
            CommandKind::ToClosed => "closed",
            CommandKind::ToWithdrawn => "withdrawn",
            CommandKind::OpenAmendment => "open_amendment",
            CommandKind::RecordAmendmentEthics => "record_amendment_ethics",
            CommandKind::SubmitAmendmentApplication => "submit_amendment_application",
            CommandKind::DecideAmendment => "decide_amendment",
            CommandKind::AddInternalNote => "add_internal_note",
            CommandKind::OverrideClassification => "override_classification",
        }
    }

    /// Whether this command is a transition (`POST …/transitions` with `to`) rather than an action.
    pub fn is_transition(self) -> bool {
        matches!(
            self,
            CommandKind::ToRegisterContact
                | CommandKind::ToEthicsReview
                | CommandKind::ToDataApplication
                | CommandKind::ToReleaseDecision
                | CommandKind::ToAgreement
                | CommandKind::ToDataRelease
                | CommandKind::ToResults
                | CommandKind::ToArchiving
                | CommandKind::ToClosed
                | CommandKind::ToWithdrawn
        )
    }

    pub fn parse_transition(to: &str) -> Option<CommandKind> {
        CommandKind::ALL
            .into_iter()
            .find(|k| k.is_transition() && k.code() == to)
    }

    pub fn parse_action(action: &str) -> Option<CommandKind> {
        CommandKind::ALL
            .into_iter()
            .find(|k| !k.is_transition() && k.code() == action)
    }

    /// Whether the command concerns one CPUA's track (steps 4, 5, 7 and amendment decisions).
    pub fn is_per_cpua(self) -> bool {
        matches!(
            self,
            CommandKind::ToDataApplication
                | CommandKind::ToReleaseDecision
                | CommandKind::ToDataRelease
                | CommandKind::DecideAmendment
        )
    }
}

/// The changeable details of a collaboration; `None` leaves a field as it is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DetailsPatch {
    pub title: Option<String>,
    pub purpose: Option<String>,
    pub research_question: Option<Option<String>>,
    pub is_research: Option<bool>,
    pub research_principal: Option<Option<OrgId>>,
    pub registers: Option<Vec<RegisterId>>,
    pub requested_variables: Option<Vec<String>>,
    pub data_kind: Option<DataKind>,
    pub linkage: Option<Vec<LinkageTarget>>,
    pub recipient_countries: Option<Vec<super::text::CountryCode>>,
    pub intake: Option<super::classification::Facts>,
}

/// How data are transferred (överföringssätt). Seed 000, "Hur och vilka data lämnas ut?": USB, DVD
/// or electronic transfer must be encrypted or over SSL/TLS; physical media by registered mail;
/// the password is sent separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferMethod {
    EncryptedFile,
    Tls,
    EncryptedMediaRegisteredMail,
}

impl TransferMethod {
    pub fn parse(s: &str) -> Option<TransferMethod> {
        match s {
            "encrypted_file" => Some(TransferMethod::EncryptedFile),
            "tls" => Some(TransferMethod::Tls),
            "encrypted_media_registered_mail" => Some(TransferMethod::EncryptedMediaRegisteredMail),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            TransferMethod::EncryptedFile => "encrypted_file",
            TransferMethod::Tls => "tls",
            TransferMethod::EncryptedMediaRegisteredMail => "encrypted_media_registered_mail",
        }
    }
}

/// A decision as given by the CPUA lawyer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionInput {
    pub outcome: DecisionOutcome,
    pub reasons: Option<String>,
    pub conditions: Option<String>,
    pub ground: Option<RefusalGround>,
    pub dpo_consulted_on: Option<NaiveDate>,
    /// The CPUA's own reference for the decision (diarienummer).
    pub reference: Option<String>,
}

/// A release as recorded by the CPUA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseInput {
    pub released_on: NaiveDate,
    pub transfer_method: TransferMethod,
    pub password_sent_separately: bool,
    pub key_deletion_on: Option<NaiveDate>,
    pub extended_retention_justification: Option<String>,
}

/// A command with its data (kommando).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    UpdateDetails(DetailsPatch),
    ToRegisterContact,
    RecordFeasibility {
        feasible: bool,
        estimated_weeks: Option<u32>,
        estimated_cost: Option<Money>,
        extraction_charged: bool,
        agrees_on_type: Option<bool>,
        comment: Option<String>,
    },
    ToEthicsReview,
    RecordEthicsApproval(EthicsApproval),
    ToDataApplication {
        cpua: OrgId,
        dossier: Dossier,
    },
    ToReleaseDecision {
        cpua: OrgId,
        decision: DecisionInput,
    },
    RecordCostAgreement {
        reference: String,
        signed_on: NaiveDate,
        estimate: Money,
        hourly_rate: Option<Money>,
    },
    ToAgreement {
        reference: String,
        signed_on: NaiveDate,
        confidentiality_reservation: bool,
        data_processing_agreement: bool,
    },
    ToDataRelease {
        cpua: OrgId,
        release: ReleaseInput,
    },
    RecordPublication(Publication),
    RecordReportBack(ReportBack),
    ToResults,
    ToArchiving,
    ConfirmDisposal(DisposalConfirmation),
    ToClosed,
    ToWithdrawn {
        reason: String,
    },
    OpenAmendment {
        research_question: String,
        reason: String,
    },
    RecordAmendmentEthics(EthicsApproval),
    SubmitAmendmentApplication,
    DecideAmendment {
        cpua: OrgId,
        approve: bool,
    },
    AddInternalNote {
        text: String,
    },
    /// CPUA legal decides the type and/or adds or waives obligations, with a written reason.
    OverrideClassification {
        collaboration_type: Option<CollaborationType>,
        add: Vec<ObligationCode>,
        waive: Vec<ObligationCode>,
        reason: String,
    },
}

impl Command {
    pub fn kind(&self) -> CommandKind {
        match self {
            Command::UpdateDetails(_) => CommandKind::UpdateDetails,
            Command::ToRegisterContact => CommandKind::ToRegisterContact,
            Command::RecordFeasibility { .. } => CommandKind::RecordFeasibility,
            Command::ToEthicsReview => CommandKind::ToEthicsReview,
            Command::RecordEthicsApproval(_) => CommandKind::RecordEthicsApproval,
            Command::ToDataApplication { .. } => CommandKind::ToDataApplication,
            Command::ToReleaseDecision { .. } => CommandKind::ToReleaseDecision,
            Command::RecordCostAgreement { .. } => CommandKind::RecordCostAgreement,
            Command::ToAgreement { .. } => CommandKind::ToAgreement,
            Command::ToDataRelease { .. } => CommandKind::ToDataRelease,
            Command::RecordPublication(_) => CommandKind::RecordPublication,
            Command::RecordReportBack(_) => CommandKind::RecordReportBack,
            Command::ToResults => CommandKind::ToResults,
            Command::ToArchiving => CommandKind::ToArchiving,
            Command::ConfirmDisposal(_) => CommandKind::ConfirmDisposal,
            Command::ToClosed => CommandKind::ToClosed,
            Command::ToWithdrawn { .. } => CommandKind::ToWithdrawn,
            Command::OpenAmendment { .. } => CommandKind::OpenAmendment,
            Command::RecordAmendmentEthics(_) => CommandKind::RecordAmendmentEthics,
            Command::SubmitAmendmentApplication => CommandKind::SubmitAmendmentApplication,
            Command::DecideAmendment { .. } => CommandKind::DecideAmendment,
            Command::AddInternalNote { .. } => CommandKind::AddInternalNote,
            Command::OverrideClassification { .. } => CommandKind::OverrideClassification,
        }
    }

    pub fn cpua(&self) -> Option<&OrgId> {
        match self {
            Command::ToDataApplication { cpua, .. }
            | Command::ToReleaseDecision { cpua, .. }
            | Command::ToDataRelease { cpua, .. }
            | Command::DecideAmendment { cpua, .. } => Some(cpua),
            _ => None,
        }
    }
}

fn step_is(c: &Collaboration, allowed: &[Step], what: &str) -> Result<(), Refusal> {
    if allowed.contains(&c.step) {
        return Ok(());
    }
    let names: Vec<&str> = allowed.iter().map(|s| s.code()).collect();
    Err(Refusal::precondition(
        "wrong_step",
        format!(
            "{what} is possible only in step {}; the collaboration is in step {}",
            names.join(" or "),
            c.step.code()
        ),
    )
    .missing([format!("step {}", names.join(" or "))]))
}

fn any_released(c: &Collaboration) -> bool {
    c.cpua_reviews.iter().any(|r| r.release.is_some())
}

fn feasibility_guard(c: &Collaboration) -> Result<(), Refusal> {
    match &c.feasibility {
        None => Err(Refusal::precondition(
            "feasibility_required",
            "the register holder's feasibility answer (step 2) has not been recorded",
        )
        .source(SEED_001, "2. Etablera tidig kontakt med registerhållare")
        .missing(["feasibility"])),
        Some(f) if !f.feasible => Err(Refusal::precondition(
            "register_cannot_deliver",
            "the register holder answered that the register cannot deliver what is asked for; ask where the information can be found instead",
        )
        .source(SEED_001, "2. Etablera tidig kontakt med registerhållare")),
        Some(_) => Ok(()),
    }
}

/// The preconditions of a command kind in the current state, regardless of its data. For per-CPUA
/// kinds, `cpua` names the track (when `None`, any track that would allow it counts).
pub fn guard(
    c: &Collaboration,
    kind: CommandKind,
    cpua: Option<&OrgId>,
    ctx: &Context,
) -> Result<(), Refusal> {
    if c.step.is_terminal() && kind != CommandKind::AddInternalNote {
        return Err(Refusal::precondition(
            "terminal_state",
            format!(
                "the collaboration is {} and takes no further commands",
                c.step.code()
            ),
        ));
    }
    let ob = ctx.obligations;
    match kind {
        CommandKind::UpdateDetails => {
            if !c.step.is_editable() {
                let released = any_released(c);
                let msg = if released {
                    "the collaboration's data have been released: a changed research question needs an amendment with a new ethics approval and a new application (open_amendment), never an in-place edit"
                } else {
                    "the details can no longer be edited once the data application has been made"
                };
                let mut r = Refusal::precondition("not_editable", msg);
                if released {
                    r = r.source(SEED_000, "Hantering vid utlämnandet av kvalitetsregisterdata");
                }
                return Err(r);
            }
            Ok(())
        }
        CommandKind::ToRegisterContact => {
            step_is(c, &[Step::Preparation], "contacting the register holder")?;
            let mut missing = Vec::new();
            if c.registers.is_empty() {
                missing.push("registers");
            }
            if c.is_research {
                if c.research_principal.is_none() {
                    missing.push("research_principal");
                }
                if c.research_question.is_none() {
                    missing.push("research_question");
                }
            }
            if let Some(rec) = c.classification.as_ref().filter(|r| r.awaits_facts()) {
                let facts: Vec<String> = rec
                    .result
                    .missing
                    .iter()
                    .map(|f| format!("intake.{f}"))
                    .collect();
                if missing.is_empty() {
                    return Err(Refusal::precondition(
                        "collaboration_type_undecided",
                        "the type of collaboration under the agreement must be identified in preparation: answer the intake facts listed as missing",
                    )
                    .source(SEED_001, "1. Förarbete")
                    .missing(facts));
                }
            }
            if !missing.is_empty() {
                return Err(Refusal::precondition(
                    "preparation_incomplete",
                    format!(
                        "preparation (step 1) is not complete: {} must be given first",
                        missing.join(", ")
                    ),
                )
                .source(SEED_001, "1. Förarbete")
                .missing(missing));
            }
            Ok(())
        }
        CommandKind::RecordFeasibility => {
            step_is(c, &[Step::RegisterContact], "recording the feasibility answer")
        }
        CommandKind::ToEthicsReview => {
            step_is(c, &[Step::RegisterContact], "applying for ethics approval")?;
            feasibility_guard(c)
        }
        CommandKind::RecordEthicsApproval => step_is(
            c,
            &[Step::Preparation, Step::RegisterContact, Step::EthicsReview],
            "recording the ethics approval",
        ),
        CommandKind::ToDataApplication => {
            step_is(
                c,
                &[
                    Step::RegisterContact,
                    Step::EthicsReview,
                    Step::DataApplication,
                    Step::ReleaseDecision,
                ],
                "applying for data",
            )?;
            feasibility_guard(c)?;
            if let Some(rec) = &c.classification {
                if rec.effective_type().is_none() {
                    return Err(if ob.legal_review {
                        Refusal::precondition(
                            "legal_review_required",
                            "the collaboration lies in a grey zone (research, algorithm training, database building, international sharing): CPUA legal must decide its type before the data application",
                        )
                        .source(SEED_002, "Utbildningens innehåll")
                        .missing(["classification.type_override"])
                    } else {
                        Refusal::precondition(
                            "collaboration_type_undecided",
                            "the type of collaboration must be identified before applying for data",
                        )
                        .source(SEED_001, "1. Förarbete")
                        .missing(
                            rec.result
                                .missing
                                .iter()
                                .map(|f| format!("intake.{f}"))
                                .collect::<Vec<_>>(),
                        )
                    });
                }
            }
            if ob.ethics_approval && c.ethics.is_none() {
                return Err(Refusal::precondition(
                    "ethics_approval_required",
                    "research on register data needs an ethics approval: record it (reference number and date) before applying for data",
                )
                .source(SEED_000, "Etikprövning")
                .missing(["ethics_approval"]));
            }
            if let Some(cpua) = cpua {
                if let Some(r) = c.review(cpua) {
                    if r.application_complete_at.is_some() {
                        return Err(Refusal::precondition(
                            "application_already_complete",
                            format!("the application to {} is already complete", r.cpua_name),
                        ));
                    }
                } else if !c.cpua_reviews.is_empty()
                    || !ctx.register_cpuas.values().any(|(o, _)| o == cpua)
                {
                    return Err(Refusal::invalid(
                        "cpua",
                        "not_a_cpua_of_collaboration",
                        "this authority is not the CPUA of any register in the collaboration",
                    ));
                }
            } else if !c.cpua_reviews.is_empty()
                && c.cpua_reviews.iter().all(|r| r.application_complete_at.is_some())
            {
                return Err(Refusal::precondition(
                    "applications_complete",
                    "every CPUA already has a complete application",
                ));
            }
            Ok(())
        }
        CommandKind::ToReleaseDecision => {
            step_is(
                c,
                &[Step::DataApplication, Step::ReleaseDecision],
                "a release decision",
            )?;
            let ready = |r: &CpuaReview| r.decision.is_none() && r.application_complete_at.is_some();
            match cpua.and_then(|o| c.review(o)) {
                Some(r) if ready(r) => Ok(()),
                Some(r) if r.decision.is_some() => Err(Refusal::precondition(
                    "already_decided",
                    format!("{} has already decided", r.cpua_name),
                )),
                Some(r) => Err(Refusal::precondition(
                    "dossier_incomplete",
                    format!(
                        "the confidentiality-review dossier for {} is not complete",
                        r.cpua_name
                    ),
                )
                .source(
                    SEED_000,
                    "Menprövning av centralt personuppgiftsansvarig myndighet (CPUA)",
                )
                .missing(
                    r.dossier
                        .missing(ob.ethics_approval)
                        .into_iter()
                        .map(|m| format!("dossier.{m}")),
                )),
                None if cpua.is_some() => Err(Refusal::invalid(
                    "cpua",
                    "not_a_cpua_of_collaboration",
                    "no application has been made to this authority",
                )),
                None if c.cpua_reviews.iter().any(ready) => Ok(()),
                None => Err(Refusal::precondition(
                    "dossier_incomplete",
                    "no CPUA has a complete confidentiality-review dossier to decide on",
                )
                .source(
                    SEED_000,
                    "Menprövning av centralt personuppgiftsansvarig myndighet (CPUA)",
                )),
            }
        }
        CommandKind::RecordCostAgreement => {
            step_is(
                c,
                &[
                    Step::RegisterContact,
                    Step::EthicsReview,
                    Step::DataApplication,
                    Step::ReleaseDecision,
                    Step::Agreement,
                    Step::DataRelease,
                ],
                "recording the written cost agreement",
            )?;
            if any_released(c) {
                return Err(Refusal::precondition(
                    "cost_agreement_after_release",
                    "the cost agreement must be made in writing before any data are released",
                )
                .source(SEED_000, "Ersättning för datauttag för forskning"));
            }
            Ok(())
        }
        CommandKind::ToAgreement => step_is(c, &[Step::Agreement], "completing the agreement")
            .map_err(|r| {
                if matches!(c.step, Step::DataApplication | Step::ReleaseDecision) {
                    Refusal::precondition(
                        "decisions_pending",
                        "the agreement follows the release decisions: every CPUA must have decided first",
                    )
                    .source(SEED_001, "6. Avtal upprättas")
                    .missing(pending_decisions(c))
                } else {
                    r
                }
            }),
        CommandKind::ToDataRelease => {
            if matches!(
                c.step,
                Step::DataApplication | Step::ReleaseDecision | Step::Agreement
            ) {
                return Err(Refusal::precondition(
                    "agreement_required",
                    "data are released only after the agreement step is complete",
                )
                .source(SEED_000, "Forskningssamarbete med industrin")
                .missing(["agreement"]));
            }
            step_is(c, &[Step::DataRelease], "releasing data")?;
            if ob.written_cost_agreement && c.cost_agreement.is_none() {
                return Err(Refusal::precondition(
                    "cost_agreement_required",
                    "the extraction is charged: a written cost agreement must be recorded before the data are released",
                )
                .source(SEED_000, "Ersättning för datauttag för forskning")
                .missing(["cost_agreement"]));
            }
            if ob.confidentiality_reservation
                && !c.agreement.as_ref().is_some_and(|a| a.confidentiality_reservation)
            {
                return Err(Refusal::precondition(
                    "confidentiality_reservation_required",
                    "the research principal is not bound by OSL: the confidentiality reservation must be formalised in the agreement before any data are released",
                )
                .source(SEED_000, "Forskningssamarbete med industrin")
                .missing(["agreement.confidentiality_reservation"]));
            }
            let ready = |r: &CpuaReview| r.status() == ReviewStatus::Approved;
            match cpua.and_then(|o| c.review(o)) {
                Some(r) if ready(r) => Ok(()),
                Some(r) => Err(Refusal::precondition(
                    "not_releasable",
                    format!(
                        "{} cannot release: its review is {}",
                        r.cpua_name,
                        r.status().code()
                    ),
                )),
                None if cpua.is_some() => Err(Refusal::invalid(
                    "cpua",
                    "not_a_cpua_of_collaboration",
                    "no application has been made to this authority",
                )),
                None if c.cpua_reviews.iter().any(ready) => Ok(()),
                None => Err(Refusal::precondition(
                    "not_releasable",
                    "no approved CPUA is waiting to release",
                )),
            }
        }
        CommandKind::RecordPublication | CommandKind::RecordReportBack => {
            step_is(
                c,
                &[Step::DataRelease, Step::Results],
                "recording results",
            )?;
            if !any_released(c) {
                return Err(Refusal::precondition(
                    "nothing_released",
                    "results can be recorded only after data have been released",
                ));
            }
            Ok(())
        }
        CommandKind::ToResults => {
            step_is(c, &[Step::DataRelease], "moving to results")?;
            let waiting: Vec<String> = c
                .cpua_reviews
                .iter()
                .filter(|r| r.status() == ReviewStatus::Approved)
                .map(|r| format!("release by {}", r.cpua_name))
                .collect();
            if !waiting.is_empty() {
                return Err(Refusal::precondition(
                    "releases_pending",
                    "every approving CPUA must have released its data first",
                )
                .missing(waiting));
            }
            Ok(())
        }
        CommandKind::ToArchiving => {
            step_is(c, &[Step::Results], "archiving")?;
            if c.report_back.is_none() {
                return Err(Refusal::precondition(
                    "report_back_required",
                    "the results must be reported back to the register before archiving: the agreement regulates reporting and publication of results",
                )
                .source(SEED_001, "6. Avtal upprättas")
                .missing(["report_back"]));
            }
            if c.open_amendment().is_some() {
                return Err(Refusal::precondition(
                    "amendment_open",
                    "an amendment is still open: decide or withdraw it first",
                ));
            }
            Ok(())
        }
        CommandKind::ConfirmDisposal => step_is(c, &[Step::Archiving], "confirming disposal"),
        CommandKind::ToClosed => {
            step_is(c, &[Step::Archiving], "closing")?;
            if c.disposal.is_none() {
                return Err(Refusal::precondition(
                    "disposal_confirmation_required",
                    "the confirmation that copies were archived or deleted must be recorded before closing",
                )
                .source(SEED_001, "9. Arkivering och radering av kopior")
                .missing(["disposal"]));
            }
            Ok(())
        }
        CommandKind::ToWithdrawn => Ok(()),
        CommandKind::OpenAmendment => {
            step_is(c, &[Step::DataRelease, Step::Results], "an amendment")?;
            if !any_released(c) {
                return Err(Refusal::precondition(
                    "nothing_released",
                    "before release the details can be edited: an amendment is for a released collaboration",
                ));
            }
            if c.open_amendment().is_some() {
                return Err(Refusal::precondition(
                    "amendment_open",
                    "an amendment is already open",
                ));
            }
            Ok(())
        }
        CommandKind::RecordAmendmentEthics | CommandKind::SubmitAmendmentApplication => {
            let Some(a) = c.open_amendment() else {
                return Err(Refusal::precondition(
                    "no_open_amendment",
                    "there is no open amendment",
                ));
            };
            if kind == CommandKind::SubmitAmendmentApplication {
                if a.ethics.is_none() {
                    return Err(Refusal::precondition(
                        "new_ethics_approval_required",
                        "a new research question needs a new ethics approval before the new application",
                    )
                    .source(SEED_000, "Hantering vid utlämnandet av kvalitetsregisterdata")
                    .missing(["amendment.ethics"]));
                }
                if a.application_submitted_at.is_some() {
                    return Err(Refusal::precondition(
                        "already_submitted",
                        "the amendment application has already been submitted",
                    ));
                }
            }
            Ok(())
        }
        CommandKind::DecideAmendment => {
            let Some(a) = c.open_amendment() else {
                return Err(Refusal::precondition(
                    "no_open_amendment",
                    "there is no open amendment",
                ));
            };
            if a.application_submitted_at.is_none() {
                return Err(Refusal::precondition(
                    "new_application_required",
                    "a new research question needs a new application to the CPUA before it can be decided",
                )
                .source(SEED_000, "Hantering vid utlämnandet av kvalitetsregisterdata")
                .missing(["amendment.application"]));
            }
            if let Some(o) = cpua {
                if a.decisions.contains_key(o) {
                    return Err(Refusal::precondition(
                        "already_decided",
                        "this CPUA has already decided on the amendment",
                    ));
                }
                if !c
                    .cpua_reviews
                    .iter()
                    .any(|r| &r.cpua == o && r.status() == ReviewStatus::Released)
                {
                    return Err(Refusal::invalid(
                        "cpua",
                        "not_a_cpua_of_collaboration",
                        "this authority has released no data in this collaboration",
                    ));
                }
            }
            Ok(())
        }
        CommandKind::AddInternalNote => Ok(()),
        CommandKind::OverrideClassification => {
            if c.classification.is_none() {
                return Err(Refusal::precondition(
                    "not_classified",
                    "the collaboration has no classification to override",
                ));
            }
            if any_released(c) {
                return Err(Refusal::precondition(
                    "released",
                    "data have been released: the classification can no longer be changed",
                ));
            }
            Ok(())
        }
    }
}

fn pending_decisions(c: &Collaboration) -> Vec<String> {
    c.cpua_reviews
        .iter()
        .filter(|r| r.decision.is_none())
        .map(|r| format!("decision by {}", r.cpua_name))
        .collect()
}

fn not_in_future(field: &str, d: NaiveDate, ctx: &Context) -> Result<NaiveDate, Refusal> {
    if d > ctx.today {
        return Err(Refusal::invalid(
            field,
            "date_in_future",
            format!("{d} lies in the future"),
        ));
    }
    Ok(d)
}

/// Runs a command: guard, validate, apply. Returns the new state; the caller persists it together
/// with the audit event.
pub fn execute(c: &Collaboration, cmd: Command, ctx: &Context) -> Result<Collaboration, Refusal> {
    guard(c, cmd.kind(), cmd.cpua(), ctx)?;
    let mut n = c.clone();
    let actor = ctx.actor.account.clone();
    match cmd {
        Command::UpdateDetails(p) => {
            if let Some(v) = p.title {
                n.title = v;
            }
            if let Some(v) = p.purpose {
                n.purpose = v;
            }
            if let Some(v) = p.research_question {
                n.research_question = v;
            }
            if let Some(v) = p.is_research {
                n.is_research = v;
            }
            if let Some(v) = p.research_principal {
                n.research_principal = v;
            }
            if let Some(v) = p.registers {
                n.registers = v;
            }
            if let Some(v) = p.requested_variables {
                n.requested_variables = v;
            }
            if let Some(v) = p.data_kind {
                n.data_kind = v;
            }
            if let Some(v) = p.linkage {
                n.linkage = v;
            }
            if let Some(v) = p.recipient_countries {
                n.recipient_countries = v;
            }
            if let Some(v) = p.intake {
                n.intake = v;
            }
        }
        Command::ToRegisterContact => n.step = Step::RegisterContact,
        Command::RecordFeasibility {
            feasible,
            estimated_weeks,
            estimated_cost,
            extraction_charged,
            agrees_on_type,
            comment,
        } => {
            if extraction_charged && estimated_cost.is_none() {
                return Err(Refusal::invalid(
                    "estimated_cost",
                    "cost_estimate_required",
                    "a charged extraction needs an approximate total cost",
                )
                .source(SEED_001, "2. Etablera tidig kontakt med registerhållare"));
            }
            n.feasibility = Some(Feasibility {
                feasible,
                estimated_weeks,
                estimated_cost,
                extraction_charged,
                agrees_on_type,
                comment,
                recorded_at: ctx.now,
                recorded_by: actor,
            });
        }
        Command::ToEthicsReview => n.step = Step::EthicsReview,
        Command::RecordEthicsApproval(e) => {
            not_in_future("decided_on", e.decided_on, ctx)?;
            n.ethics = Some(e);
        }
        Command::ToDataApplication { cpua, dossier } => {
            if n.cpua_reviews.is_empty() {
                n.cpua_reviews = open_reviews(&n, ctx)?;
            }
            let ethics_required = ctx.obligations.ethics_approval;
            let review = n.review_mut(&cpua).ok_or_else(|| {
                Refusal::invalid(
                    "cpua",
                    "not_a_cpua_of_collaboration",
                    "this authority is not the CPUA of any register in the collaboration",
                )
            })?;
            review.application_submitted_at.get_or_insert(ctx.now);
            review.dossier.merge(dossier);
            if review.dossier.missing(ethics_required).is_empty() {
                review.application_complete_at = Some(ctx.now);
                // Seed 001, "5. Beslut om utlämnande": a decision should be given within 30
                // days, counted from the complete application.
                review.decision_due_on = ctx.today.checked_add_days(chrono::Days::new(30));
            }
        }
        Command::ToReleaseDecision { cpua, decision } => {
            let d = validate_decision(decision, &cpua, c, ctx)?;
            if let Some(r) = n.review_mut(&cpua) {
                r.decision = Some(d);
            }
        }
        Command::RecordCostAgreement {
            reference,
            signed_on,
            estimate,
            hourly_rate,
        } => {
            not_in_future("signed_on", signed_on, ctx)?;
            n.cost_agreement = Some(CostAgreement {
                reference,
                signed_on,
                estimate,
                hourly_rate,
                recorded_by: actor,
            });
        }
        Command::ToAgreement {
            reference,
            signed_on,
            confidentiality_reservation,
            data_processing_agreement,
        } => {
            not_in_future("signed_on", signed_on, ctx)?;
            if ctx.obligations.confidentiality_reservation && !confidentiality_reservation {
                return Err(Refusal::invalid(
                    "confidentiality_reservation",
                    "confidentiality_reservation_required",
                    "the research principal is not bound by OSL: the agreement must formalise a confidentiality reservation",
                )
                .source(SEED_000, "Forskningssamarbete med industrin"));
            }
            if ctx.obligations.data_processing_agreement && !data_processing_agreement {
                return Err(Refusal::invalid(
                    "data_processing_agreement",
                    "data_processing_agreement_required",
                    "the research principal uses an outside processor: a data processing agreement (PUB-avtal) is required",
                )
                .source(SEED_000, "Hantering vid utlämnandet av kvalitetsregisterdata"));
            }
            n.agreement = Some(AgreementRecord {
                reference,
                signed_on,
                confidentiality_reservation,
                data_processing_agreement,
                recorded_by: actor,
            });
        }
        Command::ToDataRelease { cpua, release } => {
            let r = validate_release(release, &cpua, c, ctx)?;
            if let Some(rev) = n.review_mut(&cpua) {
                rev.release = Some(r);
            }
        }
        Command::RecordPublication(p) => {
            not_in_future("published_on", p.published_on, ctx)?;
            n.publications.push(p);
        }
        Command::RecordReportBack(r) => {
            not_in_future("reported_on", r.reported_on, ctx)?;
            n.report_back = Some(r);
        }
        Command::ToResults => n.step = Step::Results,
        Command::ToArchiving => n.step = Step::Archiving,
        Command::ConfirmDisposal(d) => {
            not_in_future("confirmed_on", d.confirmed_on, ctx)?;
            n.disposal = Some(d);
        }
        Command::ToClosed => {
            n.step = Step::Closed;
            n.closed_at = Some(ctx.now);
        }
        Command::ToWithdrawn { reason } => {
            n.step = Step::Withdrawn;
            n.withdrawal_reason = Some(reason);
            n.closed_at = Some(ctx.now);
        }
        Command::OpenAmendment {
            research_question,
            reason,
        } => {
            if n.research_question.as_deref() == Some(research_question.as_str()) {
                return Err(Refusal::invalid(
                    "research_question",
                    "unchanged",
                    "the proposed research question is the current one",
                ));
            }
            let number = u32::try_from(n.amendments.len()).unwrap_or(u32::MAX) + 1;
            n.amendments.push(Amendment {
                number,
                previous_research_question: n.research_question.clone().unwrap_or_default(),
                proposed_research_question: research_question,
                reason,
                opened_at: ctx.now,
                ethics: None,
                application_submitted_at: None,
                decisions: BTreeMap::new(),
                status: AmendmentStatus::Open,
            });
        }
        Command::RecordAmendmentEthics(e) => {
            not_in_future("decided_on", e.decided_on, ctx)?;
            if c.ethics
                .as_ref()
                .is_some_and(|old| old.reference == e.reference)
            {
                return Err(Refusal::invalid(
                    "reference",
                    "new_ethics_approval_required",
                    "a new research question needs a new ethics approval, not the existing one",
                )
                .source(
                    SEED_000,
                    "Hantering vid utlämnandet av kvalitetsregisterdata",
                ));
            }
            if let Some(a) = n
                .amendments
                .iter_mut()
                .find(|a| a.status == AmendmentStatus::Open)
            {
                a.ethics = Some(e);
            }
        }
        Command::SubmitAmendmentApplication => {
            if let Some(a) = n
                .amendments
                .iter_mut()
                .find(|a| a.status == AmendmentStatus::Open)
            {
                a.application_submitted_at = Some(ctx.now);
            }
        }
        Command::DecideAmendment { cpua, approve } => {
            let deciders: BTreeSet<OrgId> = c
                .cpua_reviews
                .iter()
                .filter(|r| r.status() == ReviewStatus::Released)
                .map(|r| r.cpua.clone())
                .collect();
            let mut replace = None;
            if let Some(a) = n
                .amendments
                .iter_mut()
                .find(|a| a.status == AmendmentStatus::Open)
            {
                a.decisions.insert(
                    cpua,
                    if approve {
                        DecisionOutcome::Approved
                    } else {
                        DecisionOutcome::Refused
                    },
                );
                if !approve {
                    a.status = AmendmentStatus::Refused;
                } else if deciders.iter().all(|o| a.decisions.contains_key(o)) {
                    a.status = AmendmentStatus::Approved;
                    replace = Some(a.proposed_research_question.clone());
                }
            }
            if let Some(q) = replace {
                n.research_question = Some(q);
                if let Some(e) = n.amendments.last().and_then(|a| a.ethics.clone()) {
                    n.ethics = Some(e);
                }
            }
        }
        Command::OverrideClassification {
            collaboration_type,
            add,
            waive,
            reason,
        } => {
            if collaboration_type.is_none() && add.is_empty() && waive.is_empty() {
                return Err(Refusal::invalid(
                    "type",
                    "nothing_to_override",
                    "give a type, obligations to add, or obligations to waive",
                ));
            }
            if let Some(code) = add.iter().find(|c| waive.contains(c)) {
                return Err(Refusal::invalid(
                    "waive",
                    "add_and_waive",
                    format!("{code} cannot be both added and waived"),
                ));
            }
            if let Some(rec) = n.classification.as_mut() {
                if let Some(t) = collaboration_type {
                    rec.type_override = Some(TypeOverride {
                        collaboration_type: t,
                        reason: reason.clone(),
                        by: actor.clone(),
                        at: ctx.now,
                    });
                }
                for (codes, w) in [(add, false), (waive, true)] {
                    for code in codes {
                        rec.obligation_overrides.push(ObligationOverride {
                            code,
                            waive: w,
                            reason: reason.clone(),
                            by: actor.clone(),
                            at: ctx.now,
                        });
                    }
                }
            }
        }
        Command::AddInternalNote { text } => n.internal_notes.push(InternalNote {
            org: ctx.actor.org.clone(),
            written_at: ctx.now,
            author: actor,
            text,
        }),
    }
    n.step = derive_step(&n);
    Ok(n)
}

fn open_reviews(c: &Collaboration, ctx: &Context) -> Result<Vec<CpuaReview>, Refusal> {
    let mut by_cpua: BTreeMap<OrgId, (String, Vec<RegisterId>)> = BTreeMap::new();
    for reg in &c.registers {
        let (cpua, name) = ctx.register_cpuas.get(reg).ok_or_else(|| {
            Refusal::precondition(
                "register_without_cpua",
                format!("register {reg} has no responsible CPUA in the reference data"),
            )
        })?;
        by_cpua
            .entry(cpua.clone())
            .or_insert_with(|| (name.clone(), vec![]))
            .1
            .push(reg.clone());
    }
    Ok(by_cpua
        .into_iter()
        .map(|(cpua, (cpua_name, registers))| CpuaReview {
            cpua,
            cpua_name,
            registers,
            application_submitted_at: None,
            dossier: Dossier::default(),
            application_complete_at: None,
            decision_due_on: None,
            decision: None,
            release: None,
        })
        .collect())
}

fn validate_decision(
    d: DecisionInput,
    cpua: &OrgId,
    c: &Collaboration,
    ctx: &Context,
) -> Result<Decision, Refusal> {
    let restrictive = d.outcome != DecisionOutcome::Approved;
    if restrictive {
        // Seed 001, "5. Beslut om utlämnande": a refusal comes with a written reason.
        // Seed 000, "Menprövning …": before refusing or setting a restrictive condition the DPO is
        // consulted first, and the formal decision can be appealed to the administrative court.
        if d.reasons.is_none() {
            return Err(Refusal::invalid(
                "reasons",
                "written_reasons_required",
                "a refusal or a restrictive condition needs written reasons",
            )
            .source(SEED_001, "5. Beslut om utlämnande"));
        }
        if d.dpo_consulted_on.is_none() {
            return Err(Refusal::invalid(
                "dpo_consulted_on",
                "dpo_consultation_required",
                "the data protection officer must be consulted before a refusal or a restrictive condition; give the date",
            )
            .source(
                SEED_000,
                "Menprövning av centralt personuppgiftsansvarig myndighet (CPUA)",
            ));
        }
        if let Some(day) = d.dpo_consulted_on {
            not_in_future("dpo_consulted_on", day, ctx)?;
        }
    }
    if d.outcome == DecisionOutcome::Refused && d.ground.is_none() {
        return Err(Refusal::invalid(
            "ground",
            "refusal_ground_required",
            "a refusal names its legal ground",
        )
        .source(
            SEED_000,
            "Menprövning av centralt personuppgiftsansvarig myndighet (CPUA)",
        ));
    }
    if d.outcome == DecisionOutcome::ApprovedWithConditions && d.conditions.is_none() {
        return Err(Refusal::invalid(
            "conditions",
            "conditions_required",
            "an approval with conditions states the conditions",
        ));
    }
    let cpua_name = c
        .review(cpua)
        .map(|r| r.cpua_name.clone())
        .unwrap_or_default();
    Ok(Decision {
        outcome: d.outcome,
        decided_at: ctx.now,
        decided_by: ctx.actor.account.clone(),
        reference: d.reference,
        reasons: d.reasons,
        conditions: d.conditions,
        ground: d.ground,
        dpo_consulted_on: d.dpo_consulted_on,
        appeal: restrictive.then(|| AppealInfo::standard(&cpua_name)),
    })
}

/// The key file is normally kept about three months (seed 000, "Hur och vilka data lämnas ut?").
pub fn default_key_deletion(released_on: NaiveDate) -> NaiveDate {
    released_on
        .checked_add_months(Months::new(3))
        .unwrap_or(released_on)
}

fn validate_release(
    r: ReleaseInput,
    cpua: &OrgId,
    c: &Collaboration,
    ctx: &Context,
) -> Result<Release, Refusal> {
    not_in_future("released_on", r.released_on, ctx)?;
    if let Some(decided) = c
        .review(cpua)
        .and_then(|rv| rv.decision.as_ref())
        .map(|d| d.decided_at.date_naive())
    {
        if r.released_on < decided {
            return Err(Refusal::invalid(
                "released_on",
                "release_before_decision",
                format!("the release date lies before the decision ({decided})"),
            ));
        }
    }
    if !r.password_sent_separately {
        return Err(Refusal::invalid(
            "password_sent_separately",
            "password_separately",
            "the password to encrypted data must be sent separately",
        )
        .source(SEED_000, "Hur och vilka data lämnas ut?"));
    }
    let default = default_key_deletion(r.released_on);
    let key_deletion_on = r.key_deletion_on.unwrap_or(default);
    if key_deletion_on < r.released_on {
        return Err(Refusal::invalid(
            "key_deletion_on",
            "key_deletion_before_release",
            "the key file cannot be deleted before the release",
        ));
    }
    if key_deletion_on > default {
        // Seed 000, "Hur och vilka data lämnas ut?": the key may be kept longer if needed; that
        // must be ethics-approved and stated in the application to the CPUA.
        if r.extended_retention_justification.is_none() {
            return Err(Refusal::invalid(
                "extended_retention_justification",
                "extended_retention_needs_justification",
                format!(
                    "keeping the key file beyond {default} (release + 3 months) needs a justification approved in the ethics approval"
                ),
            )
            .source(SEED_000, "Hur och vilka data lämnas ut?"));
        }
        if c.ethics.is_none() {
            return Err(Refusal::invalid(
                "key_deletion_on",
                "extended_retention_needs_ethics_approval",
                "keeping the key file longer than 3 months needs an ethics approval that covers it; none is recorded",
            )
            .source(SEED_000, "Hur och vilka data lämnas ut?"));
        }
    }
    Ok(Release {
        released_on: r.released_on,
        transfer_method: r.transfer_method.code().to_string(),
        key_deletion_on,
        extended_retention_justification: if key_deletion_on > default {
            r.extended_retention_justification
        } else {
            None
        },
        recorded_by: ctx.actor.account.clone(),
    })
}

/// The collaboration's step follows from its CPUA tracks while they are open: the slowest active
/// CPUA sets the pace; a refusal by one CPUA does not erase another's approval; when every CPUA has
/// refused, the collaboration is refused.
pub fn derive_step(c: &Collaboration) -> Step {
    let tracked = matches!(
        c.step,
        Step::RegisterContact
            | Step::EthicsReview
            | Step::DataApplication
            | Step::ReleaseDecision
            | Step::Agreement
            | Step::DataRelease
    );
    if !tracked || c.cpua_reviews.is_empty() {
        return c.step;
    }
    let active: Vec<&CpuaReview> = c
        .cpua_reviews
        .iter()
        .filter(|r| r.status() != ReviewStatus::Refused)
        .collect();
    if active.is_empty() {
        return Step::Refused;
    }
    if active.iter().any(|r| r.application_complete_at.is_none()) {
        return Step::DataApplication;
    }
    if active.iter().any(|r| r.decision.is_none()) {
        return Step::ReleaseDecision;
    }
    if c.agreement.is_none() {
        return Step::Agreement;
    }
    Step::DataRelease
}

/// What a CPUA track is waiting for (väntar på).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct HoldUp {
    pub cpua: String,
    pub cpua_name: String,
    pub waiting_for: String,
    pub due_on: Option<NaiveDate>,
    pub overdue: bool,
}

/// Which CPUAs are holding the collaboration up, and for what.
pub fn holding_up(c: &Collaboration, today: NaiveDate) -> Vec<HoldUp> {
    if c.step.is_terminal() {
        return vec![];
    }
    c.cpua_reviews
        .iter()
        .filter_map(|r| {
            let waiting_for = match r.status() {
                ReviewStatus::NotApplied => "application",
                ReviewStatus::ApplicationIncomplete => "complete_dossier",
                ReviewStatus::UnderReview => "decision",
                ReviewStatus::Approved if c.step == Step::DataRelease => "release",
                _ => return None,
            };
            Some(HoldUp {
                cpua: r.cpua.to_string(),
                cpua_name: r.cpua_name.clone(),
                waiting_for: waiting_for.to_string(),
                due_on: r.decision_due_on.filter(|_| r.decision.is_none()),
                overdue: r.is_overdue(today),
            })
        })
        .collect()
}

/// Parses an ethics approval from its two fields.
pub fn ethics_approval(reference: &str, decided_on: NaiveDate) -> Result<EthicsApproval, Refusal> {
    let reference = EthicsReference::parse(reference)
        .map_err(|m| Refusal::invalid("reference", "ethics_reference_format", m))?;
    Ok(EthicsApproval {
        reference,
        decided_on,
    })
}

#[cfg(test)]
#[path = "lifecycle_tests.rs"]
mod tests;
