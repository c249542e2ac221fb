//! The commands (kommandon) and their kinds; each command's rules live in its own module.
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::classification::{CollaborationType, ObligationCode};
use crate::domain::collaboration::*;
use crate::domain::ids::{OrgId, RegisterId};
use crate::domain::money::Money;
use crate::domain::step::Step;
use crate::domain::text::{CountryCode, EthicsReference};

use super::Refusal;

macro_rules! command_kinds {
    ($( $(#[$m:meta])* $v:ident = $code:literal, $transition:literal; )+) => {
        /// The kinds of command, without their data (kommandotyp). Transitions name a target step.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum CommandKind { $( $(#[$m])* $v ),+ }

        impl CommandKind {
            pub const ALL: &'static [CommandKind] = &[$(CommandKind::$v),+];

            /// The name used in the API and in audit events.
            pub fn code(self) -> &'static str {
                match self { $(CommandKind::$v => $code),+ }
            }

            /// Whether this command is a transition (`POST …/transitions` with `to`) rather than an action.
            pub fn is_transition(self) -> bool {
                match self { $(CommandKind::$v => $transition),+ }
            }
        }
    };
}

command_kinds! {
    UpdateDetails = "update_details", false;
    /// Step 2: contact the register holder.
    ToRegisterContact = "register_contact", true;
    RecordFeasibility = "record_feasibility", false;
    /// Step 3: apply for ethics approval.
    ToEthicsReview = "ethics_review", true;
    RecordEthicsApproval = "record_ethics_approval", false;
    /// Step 4: the application to one CPUA.
    ToDataApplication = "data_application", true;
    /// A lawyer's recommendation to the decision-maker (internal).
    RecommendDecision = "recommend_decision", false;
    /// Step 5: one CPUA's release decision.
    ToReleaseDecision = "release_decision", true;
    ReconsiderDecision = "reconsider_decision", false;
    RecordAppealOutcome = "record_appeal_outcome", false;
    RecordCostAgreement = "record_cost_agreement", false;
    RecordDataProcessingAgreement = "record_data_processing_agreement", false;
    RecordThirdCountryAssessment = "record_third_country_assessment", false;
    RecordIdentityNumberJustification = "record_identity_number_justification", false;
    RecordCoordination = "record_coordination", false;
    RecordRetrospectiveConsent = "record_retrospective_consent", false;
    RecordLinkageApplication = "record_linkage_application", false;
    RecordLinkageDecision = "record_linkage_decision", false;
    /// Step 6: the signed agreement version.
    ToAgreement = "agreement", true;
    /// Step 7: one CPUA releases its data.
    ToDataRelease = "data_release", true;
    RecordPublication = "record_publication", false;
    RecordReportBack = "record_report_back", false;
    /// Step 8.
    ToResults = "results", true;
    /// Step 9.
    ToArchiving = "archiving", true;
    ConfirmDisposal = "confirm_disposal", false;
    /// The CPUA deleted the key file of its release (seed 000, "Hur och vilka data lämnas ut?").
    RecordKeyFileDeleted = "record_key_file_deleted", false;
    ToClosed = "closed", true;
    ToWithdrawn = "withdrawn", true;
    OpenAmendment = "open_amendment", false;
    RecordAmendmentEthics = "record_amendment_ethics", false;
    SubmitAmendmentApplication = "submit_amendment_application", false;
    DecideAmendment = "decide_amendment", false;
    RecordAmendmentAgreement = "record_amendment_agreement", false;
    ReleaseAmendmentData = "release_amendment_data", false;
    AddInternalNote = "add_internal_note", false;
    OverrideClassification = "override_classification", false;
    /// Issue 16: CPUA legal returns a track's application for completion (komplettering).
    ReturnForCompletion = "return_for_completion", false;
    /// Issue 16: the parties answer the completion request and resubmit the application.
    ResubmitApplication = "resubmit_application", false;
    /// Issue 16 item 7: the system moves the case to step 9 on the last day of use (no person issues it).
    EndUsagePeriod = "end_usage_period", true;
}

impl CommandKind {
    pub fn parse_transition(to: &str) -> Option<CommandKind> {
        CommandKind::ALL
            .iter()
            .copied()
            .find(|k| k.is_transition() && !k.is_system() && k.code() == to)
    }

    pub fn parse_action(action: &str) -> Option<CommandKind> {
        CommandKind::ALL
            .iter()
            .copied()
            .find(|k| !k.is_transition() && !k.is_system() && k.code() == action)
    }

    /// Whether only the system issues the command (the scheduler), never a person: the API does not
    /// parse it and no role is given it.
    pub fn is_system(self) -> bool {
        matches!(self, CommandKind::EndUsagePeriod)
    }

    /// Whether the command concerns one CPUA's track.
    pub fn is_per_cpua(self) -> bool {
        matches!(
            self,
            CommandKind::ToDataApplication
                | CommandKind::RecommendDecision
                | CommandKind::ToReleaseDecision
                | CommandKind::ReconsiderDecision
                | CommandKind::RecordAppealOutcome
                | CommandKind::ToDataRelease
                | CommandKind::RecordKeyFileDeleted
                | CommandKind::DecideAmendment
                | CommandKind::ReleaseAmendmentData
                | CommandKind::ReturnForCompletion
                | CommandKind::ResubmitApplication
        )
    }

    /// The commands a terminal state still takes: notes always; a refused collaboration can be reopened by
    /// a reconsideration or an appeal that overturns a refusal (DOMAIN.md, "Refusals can be reversed").
    pub fn allowed_when_terminal(self, step: Step) -> bool {
        match self {
            CommandKind::AddInternalNote => true,
            CommandKind::ReconsiderDecision | CommandKind::RecordAppealOutcome => {
                step == Step::Refused
            }
            _ => false,
        }
    }

    /// The command that performs step `n` of seed 001, which an obligation with `gates_step = n` blocks.
    pub fn performing_step(n: u8) -> Option<CommandKind> {
        Some(match n {
            2 => CommandKind::ToRegisterContact,
            3 => CommandKind::ToEthicsReview,
            4 => CommandKind::ToDataApplication,
            5 => CommandKind::ToReleaseDecision,
            6 => CommandKind::ToAgreement,
            7 => CommandKind::ToDataRelease,
            8 => CommandKind::ToResults,
            9 => CommandKind::ToArchiving,
            _ => return None,
        })
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
    pub recipient_countries: Option<Vec<CountryCode>>,
    pub intake: Option<crate::domain::classification::Facts>,
}

/// How data are transferred (överföringssätt). Seed 000, "Hur och vilka data lämnas ut?": USB, DVD or
/// electronic transfer must be encrypted or over SSL/TLS; physical media by registered mail; the password
/// is sent separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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

/// A register holder's feasibility answer as given (step 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeasibilityInput {
    pub register: RegisterId,
    pub feasible: bool,
    pub estimated_weeks: Option<u32>,
    pub estimated_cost: Option<Money>,
    pub extraction_charged: bool,
    pub agrees_on_type: Option<bool>,
    pub comment: Option<String>,
}

/// A decision as given by the decision-maker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionInput {
    pub outcome: DecisionOutcome,
    pub reasons: Option<String>,
    pub conditions: Option<String>,
    pub grounds: Vec<RefusalGround>,
    pub findings: Option<Findings>,
    pub dpo_consulted_on: Option<NaiveDate>,
    /// The CPUA's own reference for the decision (diarienummer).
    pub reference: Option<String>,
    /// An approval's last day of use of the data, when the decision sets one.
    pub use_until: Option<NaiveDate>,
}

impl DecisionInput {
    /// An approval with the three findings of seed 002 established.
    pub fn approval() -> DecisionInput {
        DecisionInput {
            outcome: DecisionOutcome::Approved,
            reasons: None,
            conditions: None,
            grounds: vec![],
            findings: Some(Findings {
                need_for_data: true,
                within_ethics_approval: true,
                no_risk_of_harm: true,
                identity_numbers_necessary: false,
            }),
            dpo_consulted_on: None,
            reference: None,
            use_until: None,
        }
    }
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

/// The written cost agreement as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CostAgreementInput {
    pub reference: String,
    pub signed_on: NaiveDate,
    pub estimate: Money,
    pub hourly_rate: Option<Money>,
    /// Rates per role (issue 15, item 1); roles are unique.
    pub rates: Vec<crate::domain::collaboration::RoleRate>,
    /// Direct expenses besides the hours.
    pub expenses: Money,
    /// The most that may be charged; none: the estimate.
    pub ceiling: Option<Money>,
}

/// An appeal ruling as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppealInput {
    pub court: String,
    pub ruled_on: NaiveDate,
    pub reference: String,
    pub outcome: AppealOutcome,
}

/// Evidence for an obligation, recorded by an action of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EvidenceInput {
    DataProcessingAgreement {
        processor: String,
        reference: String,
        signed_on: NaiveDate,
    },
    ThirdCountryAssessment {
        permitted: bool,
        basis: Option<TransferBasis>,
        reasons: String,
    },
    IdentityNumberJustification {
        justification: String,
        stated_in_ethics_application: bool,
    },
    Coordination {
        key_custodian: OrgId,
        linkage_responsible: String,
        note: Option<String>,
    },
    RetrospectiveConsent {
        register: RegisterId,
        description: String,
        obtained_on: NaiveDate,
    },
}

/// A linkage authority's application or decision, as the parties record it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkageInput {
    Application {
        authority: LinkageTarget,
        applied_on: NaiveDate,
        reference: Option<String>,
    },
    Decision {
        authority: LinkageTarget,
        approved: bool,
        decided_on: NaiveDate,
        reference: String,
    },
}

/// CPUA legal decides the type and/or adds or waives obligations, with a written reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverrideInput {
    pub collaboration_type: Option<CollaborationType>,
    pub add: Vec<ObligationCode>,
    pub waive: Vec<ObligationCode>,
    pub reason: String,
}

/// A command with its data (kommando).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    UpdateDetails(DetailsPatch),
    ToRegisterContact,
    RecordFeasibility(FeasibilityInput),
    ToEthicsReview,
    RecordEthicsApproval(EthicsApproval),
    ToDataApplication {
        cpua: OrgId,
        dossier: Dossier,
    },
    RecommendDecision {
        cpua: OrgId,
        outcome: DecisionOutcome,
        text: String,
    },
    ToReleaseDecision {
        cpua: OrgId,
        decision: DecisionInput,
    },
    ReconsiderDecision {
        cpua: OrgId,
        decision: DecisionInput,
    },
    RecordAppealOutcome {
        cpua: OrgId,
        ruling: AppealInput,
    },
    RecordCostAgreement(CostAgreementInput),
    RecordEvidence(EvidenceInput),
    RecordLinkage(LinkageInput),
    /// Records the signed agreement: the rendered version by number and digest.
    ToAgreement {
        version: u32,
        digest: String,
        signed_on: NaiveDate,
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
    RecordKeyFileDeleted {
        cpua: OrgId,
        deleted_on: NaiveDate,
    },
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
        decision: DecisionInput,
    },
    RecordAmendmentAgreement {
        version: u32,
        digest: String,
        signed_on: NaiveDate,
    },
    ReleaseAmendmentData {
        cpua: OrgId,
        release: ReleaseInput,
    },
    AddInternalNote {
        text: String,
    },
    OverrideClassification(OverrideInput),
    /// Issue 16: the application of `cpua`'s track is returned for completion, answered by `due_on`.
    ReturnForCompletion {
        cpua: OrgId,
        request_id: String,
        due_on: NaiveDate,
    },
    /// Issue 16: the completed application is submitted again to `cpua`.
    ResubmitApplication {
        cpua: OrgId,
    },
    /// Issue 16 item 7: the usage period is over; the case moves to archiving (step 9).
    EndUsagePeriod,
}

impl Command {
    pub fn kind(&self) -> CommandKind {
        use CommandKind as K;
        match self {
            Command::UpdateDetails(_) => K::UpdateDetails,
            Command::ToRegisterContact => K::ToRegisterContact,
            Command::RecordFeasibility(_) => K::RecordFeasibility,
            Command::ToEthicsReview => K::ToEthicsReview,
            Command::RecordEthicsApproval(_) => K::RecordEthicsApproval,
            Command::ToDataApplication { .. } => K::ToDataApplication,
            Command::RecommendDecision { .. } => K::RecommendDecision,
            Command::ToReleaseDecision { .. } => K::ToReleaseDecision,
            Command::ReconsiderDecision { .. } => K::ReconsiderDecision,
            Command::RecordAppealOutcome { .. } => K::RecordAppealOutcome,
            Command::RecordCostAgreement(_) => K::RecordCostAgreement,
            Command::RecordEvidence(e) => match e {
                EvidenceInput::DataProcessingAgreement { .. } => K::RecordDataProcessingAgreement,
                EvidenceInput::ThirdCountryAssessment { .. } => K::RecordThirdCountryAssessment,
                EvidenceInput::IdentityNumberJustification { .. } => {
                    K::RecordIdentityNumberJustification
                }
                EvidenceInput::Coordination { .. } => K::RecordCoordination,
                EvidenceInput::RetrospectiveConsent { .. } => K::RecordRetrospectiveConsent,
            },
            Command::RecordLinkage(LinkageInput::Application { .. }) => K::RecordLinkageApplication,
            Command::RecordLinkage(LinkageInput::Decision { .. }) => K::RecordLinkageDecision,
            Command::ToAgreement { .. } => K::ToAgreement,
            Command::ToDataRelease { .. } => K::ToDataRelease,
            Command::RecordPublication(_) => K::RecordPublication,
            Command::RecordReportBack(_) => K::RecordReportBack,
            Command::ToResults => K::ToResults,
            Command::ToArchiving => K::ToArchiving,
            Command::ConfirmDisposal(_) => K::ConfirmDisposal,
            Command::RecordKeyFileDeleted { .. } => K::RecordKeyFileDeleted,
            Command::ToClosed => K::ToClosed,
            Command::ToWithdrawn { .. } => K::ToWithdrawn,
            Command::OpenAmendment { .. } => K::OpenAmendment,
            Command::RecordAmendmentEthics(_) => K::RecordAmendmentEthics,
            Command::SubmitAmendmentApplication => K::SubmitAmendmentApplication,
            Command::DecideAmendment { .. } => K::DecideAmendment,
            Command::RecordAmendmentAgreement { .. } => K::RecordAmendmentAgreement,
            Command::ReleaseAmendmentData { .. } => K::ReleaseAmendmentData,
            Command::AddInternalNote { .. } => K::AddInternalNote,
            Command::OverrideClassification(_) => K::OverrideClassification,
            Command::ReturnForCompletion { .. } => K::ReturnForCompletion,
            Command::ResubmitApplication { .. } => K::ResubmitApplication,
            Command::EndUsagePeriod => K::EndUsagePeriod,
        }
    }

    /// The CPUA track a per-CPUA command concerns.
    pub fn cpua(&self) -> Option<&OrgId> {
        match self {
            Command::ToDataApplication { cpua, .. }
            | Command::RecommendDecision { cpua, .. }
            | Command::ToReleaseDecision { cpua, .. }
            | Command::ReconsiderDecision { cpua, .. }
            | Command::RecordAppealOutcome { cpua, .. }
            | Command::ToDataRelease { cpua, .. }
            | Command::RecordKeyFileDeleted { cpua, .. }
            | Command::DecideAmendment { cpua, .. }
            | Command::ReleaseAmendmentData { cpua, .. }
            | Command::ReturnForCompletion { cpua, .. }
            | Command::ResubmitApplication { cpua } => Some(cpua),
            _ => None,
        }
    }

    /// The register a register-scoped command concerns (a feasibility answer).
    pub fn register(&self) -> Option<&RegisterId> {
        match self {
            Command::RecordFeasibility(f) => Some(&f.register),
            _ => None,
        }
    }
}

/// Parses an ethics approval from its fields.
pub fn ethics_approval(
    reference: &str,
    decided_on: NaiveDate,
    key_retention_months: Option<u32>,
) -> Result<EthicsApproval, Refusal> {
    let reference = EthicsReference::parse(reference).map_err(|m| {
        Refusal::invalid(
            "reference",
            crate::msg!("ethics_reference_format", reason = m),
        )
    })?;
    Ok(EthicsApproval {
        reference,
        decided_on,
        key_retention_months,
    })
}

/// What a command caused (domänhändelse): the facts the application turns into notices and deadlines.
/// Each is derived from the state before and after the command, so a command cannot change the case
/// without the event that tells of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DomainEvent {
    /// Step 2: the register holders are asked whether the extraction is feasible (seed 001, "2. Kontakt
    /// med registerhållare").
    FeasibilityRequested { registers: Vec<RegisterId> },
    /// Step 4: one CPUA's application became complete; its release decision is due on `due_on`, 30 days
    /// later (seed 001, "5. Beslut om utlämnande").
    ApplicationCompleted {
        cpua: OrgId,
        cpua_name: String,
        due_on: Option<NaiveDate>,
    },
    /// Step 5: one CPUA decided (or reconsidered, or an appeal changed the outcome).
    DecisionTaken {
        cpua: OrgId,
        cpua_name: String,
        outcome: DecisionOutcome,
    },
    /// The written cost agreement was recorded (seed 001, "2. Kontakt med registerhållare": costs).
    CostAgreementRecorded { reference: String },
    /// Step 7: one CPUA released its data; its key file is deleted on `key_deletion_on` (seed 000,
    /// "Hur och vilka data lämnas ut?").
    DataReleased {
        cpua: OrgId,
        cpua_name: String,
        released_on: NaiveDate,
        key_deletion_on: NaiveDate,
    },
    /// The CPUA recorded its key file deleted: nothing can be corrected or added any more (seed 000,
    /// "Hur och vilka data lämnas ut?").
    KeyFileDeleted {
        cpua: OrgId,
        cpua_name: String,
        deleted_on: NaiveDate,
    },
    /// Step 9: the recipient confirmed that every copy was archived or deleted.
    DisposalConfirmed,
}

impl DomainEvent {
    /// The stable code of the event, which also names its mail template.
    pub fn code(&self) -> &'static str {
        match self {
            DomainEvent::FeasibilityRequested { .. } => "feasibility_requested",
            DomainEvent::ApplicationCompleted { .. } => "application_completed",
            DomainEvent::DecisionTaken { .. } => "decision_taken",
            DomainEvent::CostAgreementRecorded { .. } => "cost_agreement_recorded",
            DomainEvent::DataReleased { .. } => "data_released",
            DomainEvent::KeyFileDeleted { .. } => "key_file_deleted",
            DomainEvent::DisposalConfirmed => "disposal_confirmed",
        }
    }
}

/// The events a change from `before` to `after` caused.
pub fn events_between(before: &Collaboration, after: &Collaboration) -> Vec<DomainEvent> {
    use crate::domain::step::Step;
    let mut out = Vec::new();
    if before.step != Step::RegisterContact && after.step == Step::RegisterContact {
        out.push(DomainEvent::FeasibilityRequested {
            registers: after.registers.clone(),
        });
    }
    for r in &after.cpua_reviews {
        let old = before.review(&r.cpua);
        let was_complete = old.is_some_and(|o| o.application_complete_at.is_some());
        if r.application_complete_at.is_some() && !was_complete {
            out.push(DomainEvent::ApplicationCompleted {
                cpua: r.cpua.clone(),
                cpua_name: r.cpua_name.clone(),
                due_on: r.decision_due_on,
            });
        }
        let old_decision = old.and_then(|o| o.decision.as_ref());
        if let Some(d) = &r.decision {
            let changed =
                old_decision.is_none_or(|o| o.decided_at != d.decided_at || o.outcome != d.outcome);
            if changed {
                out.push(DomainEvent::DecisionTaken {
                    cpua: r.cpua.clone(),
                    cpua_name: r.cpua_name.clone(),
                    outcome: d.outcome,
                });
            }
        }
        if let (Some(rel), false) = (&r.release, old.is_some_and(|o| o.release.is_some())) {
            out.push(DomainEvent::DataReleased {
                cpua: r.cpua.clone(),
                cpua_name: r.cpua_name.clone(),
                released_on: rel.released_on,
                key_deletion_on: rel.key_deletion_on,
            });
        }
        let was_deleted = old
            .and_then(|o| o.release.as_ref())
            .is_some_and(|o| o.key_deleted_on.is_some());
        if let (Some(on), false) = (
            r.release.as_ref().and_then(|x| x.key_deleted_on),
            was_deleted,
        ) {
            out.push(DomainEvent::KeyFileDeleted {
                cpua: r.cpua.clone(),
                cpua_name: r.cpua_name.clone(),
                deleted_on: on,
            });
        }
    }
    if let (Some(ca), None) = (&after.cost_agreement, &before.cost_agreement) {
        out.push(DomainEvent::CostAgreementRecorded {
            reference: ca.reference.clone(),
        });
    }
    if after.disposal.is_some() && before.disposal.is_none() {
        out.push(DomainEvent::DisposalConfirmed);
    }
    out
}

#[cfg(test)]
mod event_tests {
    use super::super::testkit::*;
    use super::*;

    #[test]
    fn the_register_contact_asks_the_register_holders() {
        // Seed 001, "2. Kontakt med registerhållare": the register holder is asked about feasibility.
        let k = Kit::new();
        let before = k.collab(Scenario::public_research());
        let after = k.run(&before, Command::ToRegisterContact).unwrap();
        assert_eq!(
            events_between(&before, &after),
            vec![DomainEvent::FeasibilityRequested {
                registers: after.registers.clone()
            }]
        );
        // Nothing happened, nothing is told.
        assert!(events_between(&after, &after).is_empty());
    }

    #[test]
    fn a_complete_application_names_its_cpua_and_the_decision_due_date() {
        // Seed 001, "5. Beslut om utlämnande": the decision within 30 days of the complete application.
        let k = Kit::new();
        let before = k.walk_to_ethics(Scenario::two_cpuas());
        let after = k.run(&before, k.application(&k.a)).unwrap();
        let ev = events_between(&before, &after);
        assert_eq!(ev.len(), 1, "{ev:?}");
        match &ev[0] {
            DomainEvent::ApplicationCompleted { cpua, due_on, .. } => {
                assert_eq!(cpua, &k.a);
                assert_eq!(*due_on, k.today().checked_add_days(chrono::Days::new(30)));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_decision_and_a_release_are_events_of_their_cpua() {
        let k = Kit::new();
        let applied = k.walk_to_applied(Scenario::public_research());
        let decided = k.walk_to_decided(Scenario::public_research());
        let ev = events_between(&applied, &decided);
        assert!(
            ev.iter().all(|e| matches!(
                e,
                DomainEvent::DecisionTaken {
                    outcome: DecisionOutcome::Approved,
                    ..
                }
            )) && !ev.is_empty(),
            "{ev:?}"
        );
        let agreed = k.walk_to_agreement_recorded(Scenario::public_research());
        let cpua = agreed.cpua_reviews[0].cpua.clone();
        let released = k.release(&agreed, &cpua);
        let ev = events_between(&agreed, &released);
        assert!(
            matches!(&ev[..], [DomainEvent::DataReleased { cpua: c, .. }] if c == &cpua),
            "{ev:?}"
        );
    }
}
