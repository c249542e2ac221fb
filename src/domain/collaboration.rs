//! The collaboration (samverkansärende): what the parties ask for and everything recorded along the
//! nine steps of seed 001.
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::classification::{
    Classification, ClauseCode, CollaborationType, Facts, ObligationCode, Outcome, RegisterInfo,
};
use super::ids::{AccountId, CollaborationId, OrgId, RegisterId};
use super::money::Money;
use super::step::Step;
use super::text::{CountryCode, Doi, EthicsReference};
use std::collections::BTreeSet;

/// The shape of the stored state (tillståndsversion). Older shapes are upcast when read
/// ([`crate::domain::state`]); stored events are never rewritten.
pub const STATE_VERSION: u32 = 3;

/// The kind of data a collaboration asks for (datatyp).
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
pub enum DataKind {
    /// Aggregated tables, no personal data (aggregerade data).
    Aggregated,
    /// Microdata with a serial number instead of identity; the CPUA keeps the key
    /// (pseudonymiserade data).
    Pseudonymised,
    /// Microdata with personal identity numbers (identifierbara data): only in the most
    /// exceptional cases (seed 000, "Hur och vilka data lämnas ut?").
    Identifiable,
}

impl DataKind {
    pub fn parse(s: &str) -> Option<DataKind> {
        match s {
            "aggregated" => Some(DataKind::Aggregated),
            "pseudonymised" => Some(DataKind::Pseudonymised),
            "identifiable" => Some(DataKind::Identifiable),
            _ => None,
        }
    }

    pub fn is_personal_data(self) -> bool {
        !matches!(self, DataKind::Aggregated)
    }
}

/// An authority or register the data are to be linked with (samkörning).
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
pub enum LinkageTarget {
    /// Socialstyrelsen's health-data registers.
    Socialstyrelsen,
    /// Statistics Sweden (SCB).
    Scb,
    /// The Swedish Social Insurance Agency (Försäkringskassan).
    Forsakringskassan,
    /// Another quality register.
    OtherRegister,
}

impl LinkageTarget {
    pub const ALL: [LinkageTarget; 4] = [
        LinkageTarget::Socialstyrelsen,
        LinkageTarget::Scb,
        LinkageTarget::Forsakringskassan,
        LinkageTarget::OtherRegister,
    ];

    pub fn code(self) -> &'static str {
        match self {
            LinkageTarget::Socialstyrelsen => "socialstyrelsen",
            LinkageTarget::Scb => "scb",
            LinkageTarget::Forsakringskassan => "forsakringskassan",
            LinkageTarget::OtherRegister => "other_register",
        }
    }

    /// The register-keeping authority that reviews a linkage on its own (seed 000, "Sambearbetning av
    /// registerdata"); another quality register is reviewed by its own CPUA through its register.
    pub fn authority_name(self) -> Option<&'static str> {
        match self {
            LinkageTarget::Socialstyrelsen => Some("Socialstyrelsen"),
            LinkageTarget::Scb => Some("Statistiska centralbyrån (SCB)"),
            LinkageTarget::Forsakringskassan => Some("Försäkringskassan"),
            LinkageTarget::OtherRegister => None,
        }
    }

    pub fn parse(s: &str) -> Option<LinkageTarget> {
        match s {
            "socialstyrelsen" => Some(LinkageTarget::Socialstyrelsen),
            "scb" => Some(LinkageTarget::Scb),
            "forsakringskassan" => Some(LinkageTarget::Forsakringskassan),
            "other_register" => Some(LinkageTarget::OtherRegister),
            _ => None,
        }
    }
}

/// One register holder's early answer for their own register (step 2): can the register deliver,
/// roughly when and at what cost (seed 001, "2. Etablera tidig kontakt med registerhållare").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feasibility {
    /// The register the answer is for; each register holder answers for their own.
    pub register: RegisterId,
    pub feasible: bool,
    pub estimated_weeks: Option<u32>,
    pub estimated_cost: Option<Money>,
    /// Extraction beyond routine work is charged (seed 000, "Ersättning för datauttag för forskning").
    pub extraction_charged: bool,
    pub agrees_on_type: Option<bool>,
    pub comment: Option<String>,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: AccountId,
}

/// An ethics approval from the Ethical Review Authority (etikgodkännande).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EthicsApproval {
    pub reference: EthicsReference,
    pub decided_on: NaiveDate,
    /// The key-file retention the approval covers, in months, when it approves keeping the key longer
    /// than the normal three (seed 000, "Hur och vilka data lämnas ut?").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_retention_months: Option<u32>,
}

/// The confidentiality-review dossier (underlag för menprövning): the five items of seed 000,
/// "Menprövning av centralt personuppgiftsansvarig myndighet (CPUA)".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Dossier {
    /// 1. Which research principal the data are released to.
    pub recipient_principal: Option<String>,
    /// 2. A project description stating the purpose.
    pub project_description: Option<String>,
    /// 3. The signed ethics application and the approval (where there is one).
    pub ethics_documents: Option<String>,
    /// 4. Which data are needed.
    pub requested_data: Option<Vec<String>>,
    /// 5. Who in the project has access to the personal data and how they are stored.
    pub access_and_storage: Option<String>,
}

impl Dossier {
    /// The dossier items still missing. With a confidentiality review all five are needed (the ethics item
    /// only where ethics approval is); without one (aggregated statistics, public documents) only which data
    /// are needed. The fifth item (who in the project has access to the personal data) is also given by
    /// the case's named data users when one is active (`data_users_named`; issue 16 item 6, seed 000,
    /// "Menprövning av centralt personuppgiftsansvarig myndighet (CPUA)").
    pub fn missing(
        &self,
        ethics_required: bool,
        confidentiality_review: bool,
        data_users_named: bool,
    ) -> Vec<&'static str> {
        let mut m = Vec::new();
        if confidentiality_review && self.recipient_principal.is_none() {
            m.push("recipient_principal");
        }
        if confidentiality_review && self.project_description.is_none() {
            m.push("project_description");
        }
        if confidentiality_review && ethics_required && self.ethics_documents.is_none() {
            m.push("ethics_documents");
        }
        if self.requested_data.as_ref().is_none_or(|v| v.is_empty()) {
            m.push("requested_data");
        }
        if confidentiality_review && self.access_and_storage.is_none() && !data_users_named {
            m.push("access_and_storage");
        }
        m
    }

    /// Fills the items given in `patch`; items already present are kept unless replaced.
    pub fn merge(&mut self, patch: Dossier) {
        if patch.recipient_principal.is_some() {
            self.recipient_principal = patch.recipient_principal;
        }
        if patch.project_description.is_some() {
            self.project_description = patch.project_description;
        }
        if patch.ethics_documents.is_some() {
            self.ethics_documents = patch.ethics_documents;
        }
        if patch.requested_data.is_some() {
            self.requested_data = patch.requested_data;
        }
        if patch.access_and_storage.is_some() {
            self.access_and_storage = patch.access_and_storage;
        }
    }
}

/// The outcome of a release decision (beslut om utlämnande).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecisionOutcome {
    Approved,
    /// Approved with a restrictive condition (inskränkande förbehåll).
    ApprovedWithConditions,
    Refused,
}

impl DecisionOutcome {
    pub fn parse(s: &str) -> Option<DecisionOutcome> {
        match s {
            "approved" => Some(DecisionOutcome::Approved),
            "approved_with_conditions" => Some(DecisionOutcome::ApprovedWithConditions),
            "refused" => Some(DecisionOutcome::Refused),
            _ => None,
        }
    }

    pub fn releases_data(self) -> bool {
        !matches!(self, DecisionOutcome::Refused)
    }
}

/// The legal ground for a refusal or a restrictive condition (grund för avslag).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefusalGround {
    /// Release would harm the individual or a relative: OSL 25 ch. 1 § (menprövning).
    HarmToIndividual,
    /// The data asked for fall outside the ethics approval.
    OutsideEthicsApproval,
    /// Variables not motivated by the research question.
    VariablesNotMotivated,
    /// Personal identity numbers asked for without exceptional need.
    IdentityNumbersNotJustified,
    /// The recipient country cannot guarantee an adequate level of protection.
    ThirdCountryTransfer,
    /// The information given to patients did not cover research and no retrospective consent was
    /// obtained (seed 000, "Vilka registerdata går att använda för forskning?").
    NoPatientInformationOrConsent,
    /// The recipient is not bound by OSL and refuses the confidentiality reservation (seed 000,
    /// "Forskningssamarbete med industrin").
    ReservationNotAccepted,
    /// A ground given before grounds were a closed list (state version 1); never accepted as input.
    Other,
}

/// Grounds that seed 000 names as never a reason to refuse.
pub const FORBIDDEN_GROUNDS: [(&str, &str); 2] = [
    (
        "research_quality",
        "that the research is expected to be of low quality",
    ),
    (
        "duplicate_research",
        "that other research projects address the same question",
    ),
];

impl RefusalGround {
    pub fn parse(s: &str) -> Option<RefusalGround> {
        match s {
            "harm_to_individual" => Some(RefusalGround::HarmToIndividual),
            "outside_ethics_approval" => Some(RefusalGround::OutsideEthicsApproval),
            "variables_not_motivated" => Some(RefusalGround::VariablesNotMotivated),
            "identity_numbers_not_justified" => Some(RefusalGround::IdentityNumbersNotJustified),
            "third_country_transfer" => Some(RefusalGround::ThirdCountryTransfer),
            "no_patient_information_or_consent" => {
                Some(RefusalGround::NoPatientInformationOrConsent)
            }
            "reservation_not_accepted" => Some(RefusalGround::ReservationNotAccepted),
            _ => None,
        }
    }

    /// The grounds a decision may give (every variant but the legacy `other`).
    pub const ACCEPTED: [&'static str; 7] = [
        "harm_to_individual",
        "outside_ethics_approval",
        "variables_not_motivated",
        "identity_numbers_not_justified",
        "third_country_transfer",
        "no_patient_information_or_consent",
        "reservation_not_accepted",
    ];
}

/// How to appeal a refusal or a restrictive condition (överklagandehänvisning).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppealInfo {
    /// Always the administrative court of appeal (kammarrätten), seed 000.
    pub court: String,
    pub instructions_sv: String,
    pub instructions_en: String,
}

impl AppealInfo {
    /// The standard instructions: appeal to the administrative court of appeal, lodged with the
    /// CPUA within three weeks (Förvaltningslagen 44 §).
    pub fn standard(cpua_name: &str) -> AppealInfo {
        AppealInfo {
            court: "kammarrätten".into(),
            instructions_sv: format!(
                "Beslutet kan överklagas hos kammarrätten. Överklagandet ska vara skriftligt och ha kommit in till {cpua_name} inom tre veckor från den dag du fick del av beslutet."
            ),
            instructions_en: format!(
                "The decision can be appealed to the administrative court of appeal (kammarrätten). The appeal must be in writing and reach {cpua_name} within three weeks of the day you were notified of the decision."
            ),
        }
    }
}

/// In what capacity a decision was taken (beslutsfattare): by the CPUA itself, or by a delegate under a
/// written delegation (seed 000, "För kvalitetsregister förekommer att CPUA-myndigheten ger skriftlig
/// delegation …"; seed 002, roles table).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DecidedAs {
    /// The CPUA authority itself, through its lawyer.
    #[default]
    Cpua,
    /// A delegate (the register holder or a named person) under a written delegation.
    Delegate {
        delegation_reference: String,
        delegated_on: NaiveDate,
    },
}

/// What a confidentiality review established when it approved (prövningens slutsatser), seed 002,
/// "Sammanfattningsvis …": the need for the data, that they fall within the ethics approval, and that
/// they can be released without risk of harm (men) under OSL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Findings {
    pub need_for_data: bool,
    pub within_ethics_approval: bool,
    pub no_risk_of_harm: bool,
    /// The CPUA accepts the exceptional need for personal identity numbers (seed 000, "Hur och vilka data
    /// lämnas ut?"); required where that obligation is in force.
    #[serde(default)]
    pub identity_numbers_necessary: bool,
}

/// A lawyer's recommendation to the decision-maker (rekommendation från regionjurist), seed 002: regional
/// lawyers interpret the law and recommend; the formal decision is the CPUA's or its delegate's. Internal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recommendation {
    pub outcome: DecisionOutcome,
    pub text: String,
    pub by: AccountId,
    pub by_name: String,
    pub at: DateTime<Utc>,
}

/// A CPUA's release decision (beslut om utlämnande).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub outcome: DecisionOutcome,
    pub decided_at: DateTime<Utc>,
    pub decided_by: AccountId,
    /// Who decided, by name, as the decision will show it years later.
    #[serde(default)]
    pub decided_by_name: String,
    #[serde(default)]
    pub decided_as: DecidedAs,
    /// The CPUA's own reference for the decision (diarienummer), cited in the agreement.
    #[serde(default)]
    pub reference: Option<String>,
    pub reasons: Option<String>,
    pub conditions: Option<String>,
    /// The structured grounds of a refusal or restrictive condition; never research quality or a
    /// competing project (seed 000, "Menprövning av centralt personuppgiftsansvarig myndighet (CPUA)").
    #[serde(default)]
    pub grounds: Vec<RefusalGround>,
    /// What an approval established (seed 002).
    #[serde(default)]
    pub findings: Option<Findings>,
    pub dpo_consulted_on: Option<NaiveDate>,
    pub appeal: Option<AppealInfo>,
    /// An approval's last day of use of the data (användningsperiodens slut), when the decision sets
    /// one: data may be used only as long as needed for the purpose (seed 000, "Hantering vid
    /// utlämnandet av kvalitetsregisterdata"). Reminded before and on the day, never a block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_until: Option<NaiveDate>,
}

/// How a decision stopped being the one in force (omprövning, överklagande).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SupersededBy {
    /// The CPUA reconsidered its own decision.
    Reconsideration { at: DateTime<Utc>, by: AccountId },
    /// A court overturned it on appeal; the track reopens for a new decision.
    Appeal {
        court: String,
        ruled_on: NaiveDate,
        reference: String,
    },
}

/// A decision that no longer stands, kept for the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupersededDecision {
    pub decision: Decision,
    pub superseded_by: SupersededBy,
}

/// The outcome of an appeal against a refusal (överklagande till kammarrätten).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AppealOutcome {
    /// The court upheld the refusal (avslag står fast).
    Upheld,
    /// The court overturned the refusal (upphävt): the CPUA decides again.
    Overturned,
}

/// A recorded appeal ruling (domstolens avgörande).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppealRuling {
    pub court: String,
    pub ruled_on: NaiveDate,
    pub reference: String,
    pub outcome: AppealOutcome,
    pub recorded_by: AccountId,
}

/// The actual release of data by one CPUA (utlämnande, step 7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    pub released_on: NaiveDate,
    pub transfer_method: String,
    /// When the CPUA deletes the key file (nyckelfil), normally release + 3 months.
    pub key_deletion_on: NaiveDate,
    /// Why the key is kept longer, approved in the ethics approval (seed 000).
    pub extended_retention_justification: Option<String>,
    pub recorded_by: AccountId,
    /// When the CPUA recorded the key file deleted (kodnyckel raderad); until then the key-file
    /// deadline stays open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_deleted_on: Option<NaiveDate>,
}

/// Where one CPUA's part of the collaboration stands (steps 4, 5 and 7 are tracked per CPUA: seed
/// 000, "Sambearbetning av registerdata", each authority reviews on its own; seed 002 on
/// multi-register cases).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpuaReview {
    pub cpua: OrgId,
    pub cpua_name: String,
    pub registers: Vec<RegisterId>,
    pub application_submitted_at: Option<DateTime<Utc>>,
    pub dossier: Dossier,
    /// When the dossier became complete: the decision deadline counts from here.
    pub application_complete_at: Option<DateTime<Utc>>,
    /// Complete application + 30 days (seed 001, "5. Beslut om utlämnande").
    pub decision_due_on: Option<NaiveDate>,
    pub decision: Option<Decision>,
    pub release: Option<Release>,
    /// A lawyer's recommendation before the decision (internal to the CPUA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recommendation: Option<Recommendation>,
    /// Decisions that were reconsidered or overturned.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<SupersededDecision>,
    /// Appeal rulings recorded on this track.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub appeals: Vec<AppealRuling>,
    /// An open completion request (komplettering, issue 16): the application is returned to the
    /// parties; the decision waits and the 30-day clock restarts at the resubmission.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion: Option<CompletionHold>,
}

/// The application of a track is returned for completion (issue 16, item 2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CompletionHold {
    /// The completion request's id (its items and answers are kept beside the case).
    pub request_id: String,
    pub requested_at: DateTime<Utc>,
    /// The day the parties are asked to answer by.
    pub due_on: NaiveDate,
}

/// The state of one CPUA's review (status för CPUA-prövning).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    NotApplied,
    ApplicationIncomplete,
    UnderReview,
    Approved,
    Refused,
    Released,
}

impl ReviewStatus {
    pub fn code(self) -> &'static str {
        match self {
            ReviewStatus::NotApplied => "not_applied",
            ReviewStatus::ApplicationIncomplete => "application_incomplete",
            ReviewStatus::UnderReview => "under_review",
            ReviewStatus::Approved => "approved",
            ReviewStatus::Refused => "refused",
            ReviewStatus::Released => "released",
        }
    }
}

impl CpuaReview {
    pub fn status(&self) -> ReviewStatus {
        if self.release.is_some() {
            return ReviewStatus::Released;
        }
        match &self.decision {
            Some(d) if d.outcome.releases_data() => ReviewStatus::Approved,
            Some(_) => ReviewStatus::Refused,
            None if self.application_complete_at.is_some() => ReviewStatus::UnderReview,
            None if self.application_submitted_at.is_some() => ReviewStatus::ApplicationIncomplete,
            None => ReviewStatus::NotApplied,
        }
    }

    /// A decision is overdue when its due date has passed without a decision.
    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        self.decision.is_none() && self.decision_due_on.is_some_and(|due| today > due)
    }
}

/// The agreement step (avtal, step 6) as recorded: which rendered version was signed, with its digest
/// and the clauses it holds. Electronic signing arrives in a later capability.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgreementRecord {
    /// The agreement version signed (0 for an agreement recorded before versions were required).
    pub version: u32,
    /// SHA-256 over the version's stored file hashes.
    pub digest: String,
    pub signed_on: NaiveDate,
    /// The clauses the signed version holds (e.g. the confidentiality reservation, sekretessförbehåll).
    pub clauses: BTreeSet<ClauseCode>,
    /// The CPUAs that are parties to the signed version.
    #[serde(default)]
    pub cpua_parties: BTreeSet<OrgId>,
    /// The typed-in reference of an agreement recorded under state version 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legacy_reference: Option<String>,
    pub recorded_by: AccountId,
    /// The end of the signed version's term (avtalstidens slut), when it states one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub term_end: Option<NaiveDate>,
    /// Days after the end of the term within which copies are deleted (raderingsfrist), from the
    /// signed version's archiving clause.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_within_days: Option<u32>,
}

impl AgreementRecord {
    /// When the disposal of the copies is to be confirmed: the term's end plus the deletion days, when
    /// the signed agreement states both (seed 001, "9. Arkivering och radering av kopior", sets no time
    /// of its own).
    pub fn disposal_due_on(&self) -> Option<NaiveDate> {
        let (end, days) = (self.term_end?, self.delete_within_days?);
        end.checked_add_days(chrono::Days::new(u64::from(days)))
    }

    pub fn holds(&self, clause: ClauseCode) -> bool {
        self.clauses.contains(&clause)
    }
}

/// A recorded data processing agreement (personuppgiftsbiträdesavtal, PUB-avtal), seed 000,
/// "Hantering vid utlämnandet av kvalitetsregisterdata".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataProcessingAgreementRecord {
    pub processor: String,
    pub reference: String,
    pub signed_on: NaiveDate,
    pub recorded_by: AccountId,
}

/// The legal basis for a transfer to a third country (rättslig grund för tredjelandsöverföring).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TransferBasis {
    /// An adequacy decision of the European Commission (GDPR art. 45).
    AdequacyDecision,
    /// Standard contractual clauses (GDPR art. 46.2 c).
    StandardContractualClauses,
    /// Binding corporate rules (GDPR art. 47).
    BindingCorporateRules,
    /// A derogation for a specific situation (GDPR art. 49).
    Derogation,
}

/// CPUA legal's assessment of a transfer to third countries (bedömning av tredjelandsöverföring), seed 000,
/// "Hantering vid utlämnandet av kvalitetsregisterdata"; seed 002 calls international sharing hard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThirdCountryAssessment {
    pub countries: Vec<CountryCode>,
    pub permitted: bool,
    pub basis: Option<TransferBasis>,
    pub reasons: String,
    pub assessed_by: AccountId,
    pub assessed_on: NaiveDate,
}

/// Why personal identity numbers are needed, as stated in the ethics application (motivering av
/// personnummer), seed 000, "Hur och vilka data lämnas ut?".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityNumberJustification {
    pub justification: String,
    pub stated_in_ethics_application: bool,
    pub recorded_by: AccountId,
}

/// Who links and who keeps the identity-number key when several CPUAs or linkage take part
/// (samordning), seed 002, "Utbildningens innehåll".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coordination {
    /// The CPUA that keeps the key (kodnyckel).
    pub key_custodian: OrgId,
    /// The authority responsible for the linkage: a CPUA's id or a linkage authority's code.
    pub linkage_responsible: String,
    pub note: Option<String>,
    pub recorded_by: AccountId,
}

/// Consent obtained afterwards from the patients of a register whose patient information did not cover
/// research (retrospektivt samtycke), seed 000, "Vilka registerdata går att använda för forskning?".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetrospectiveConsent {
    pub register: RegisterId,
    pub description: String,
    pub obtained_on: NaiveDate,
    pub recorded_by: AccountId,
}

/// Evidence recorded for obligations beyond the steps' own records (underlag för skyldigheter).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ObligationEvidence {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_processing_agreement: Option<DataProcessingAgreementRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub third_country_assessment: Option<ThirdCountryAssessment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_number_justification: Option<IdentityNumberJustification>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coordination: Option<Coordination>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retrospective_consents: Vec<RetrospectiveConsent>,
}

/// A linkage authority's own decision (samkörningsbeslut), recorded as the parties received it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkageDecision {
    pub approved: bool,
    pub decided_on: NaiveDate,
    pub reference: String,
    pub recorded_by: AccountId,
}

/// A linkage authority's review track (samkörningsprövning): each register-keeping authority reviews on
/// its own (seed 000, "Sambearbetning av registerdata").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkageReview {
    pub authority: LinkageTarget,
    pub applied_on: Option<NaiveDate>,
    pub application_reference: Option<String>,
    pub decision: Option<LinkageDecision>,
}

/// A "bör" warning the actor passed with a recorded reason (åsidosatt rekommendation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassedWarning {
    pub code: String,
    pub command: String,
    pub reason: String,
    pub by: AccountId,
    pub at: DateTime<Utc>,
}

/// The written agreement on extraction costs (skriftlig kostnadsöverenskommelse).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostAgreement {
    pub reference: String,
    pub signed_on: NaiveDate,
    pub estimate: Money,
    pub hourly_rate: Option<Money>,
    pub recorded_by: AccountId,
    /// The cost rate per role (timpris per roll), e.g. a statistician's; a role not listed is charged at
    /// [`CostAgreement::hourly_rate`] (issue 15, item 1). Absent in states written before it: none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rates: Vec<RoleRate>,
    /// Direct expenses agreed besides the hours (direkta kostnader). Absent in older states: zero.
    #[serde(default)]
    pub expenses: Money,
    /// The most that may be charged (takbelopp); none: the estimate is the ceiling
    /// ([`crate::domain::billing::cost::ceiling`]). Absent in older states: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ceiling: Option<Money>,
}

/// The agreed cost rate of one role (timpris för en roll), e.g. `statistician` at 950 kr an hour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleRate {
    pub role: String,
    pub hourly_rate: Money,
}

impl CostAgreement {
    /// The hourly rate of `role`: its own rate, else the general hourly rate, else none (the work
    /// log cannot price an hour of a role the agreement does not rate).
    pub fn rate_for(&self, role: &str) -> Option<Money> {
        self.rates
            .iter()
            .find(|r| r.role == role)
            .map(|r| r.hourly_rate)
            .or(self.hourly_rate)
    }
}

/// A publication based on the released data (publikation, step 8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Publication {
    pub title: String,
    pub journal: String,
    pub doi: Option<Doi>,
    pub published_on: NaiveDate,
}

/// The report of results back to the register (återrapportering, step 8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportBack {
    pub reported_on: NaiveDate,
    pub summary: String,
}

/// What happened to the copies of the data (step 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// Archived under the principal's archive rules (arkiverade).
    Archived,
    /// Deleted (raderade).
    Deleted,
}

/// The confirmation that the copies were archived or deleted (bekräftelse, step 9).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisposalConfirmation {
    pub disposition: Disposition,
    pub confirmed_on: NaiveDate,
    pub confirmed_by_name: String,
    pub statement: String,
}

/// The status of an amendment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AmendmentStatus {
    Open,
    Approved,
    Refused,
}

/// A change of research question after release (ändring av forskningsfråga). Seed 000, "Hantering
/// vid utlämnandet av kvalitetsregisterdata": a new research question always needs a new ethics
/// approval and a new application to the CPUA, so it is never an in-place edit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amendment {
    pub number: u32,
    pub proposed_research_question: String,
    pub previous_research_question: String,
    pub reason: String,
    pub opened_at: DateTime<Utc>,
    pub ethics: Option<EthicsApproval>,
    pub application_submitted_at: Option<DateTime<Utc>>,
    pub decisions: BTreeMap<OrgId, DecisionOutcome>,
    /// Each CPUA's full decision on the amendment, with reasons, grounds and the appeal route.
    #[serde(default)]
    pub decision_records: BTreeMap<OrgId, Decision>,
    pub status: AmendmentStatus,
    /// The amendment version of the agreement, once recorded.
    #[serde(default)]
    pub agreement: Option<AgreementRecord>,
    /// Releases of data under the new research question, per CPUA.
    #[serde(default)]
    pub releases: BTreeMap<OrgId, Release>,
}

/// An internal note (intern anteckning); seen only inside the organisation that wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InternalNote {
    pub org: OrgId,
    pub written_at: DateTime<Utc>,
    pub author: AccountId,
    pub text: String,
}

/// CPUA legal's decision on the type, overriding the rulebook (typbeslut), with its reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeOverride {
    pub collaboration_type: CollaborationType,
    pub reason: String,
    pub by: AccountId,
    pub at: DateTime<Utc>,
}

/// CPUA legal adds or waives one obligation (tillagd eller efterskänkt skyldighet), with its reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObligationOverride {
    pub code: ObligationCode,
    /// True to waive, false to add.
    pub waive: bool,
    pub reason: String,
    pub by: AccountId,
    pub at: DateTime<Utc>,
}

/// The stored classification (klassificering) with the rulebook version it used, and legal's overrides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassificationRecord {
    pub result: Classification,
    pub classified_at: DateTime<Utc>,
    #[serde(default)]
    pub type_override: Option<TypeOverride>,
    #[serde(default)]
    pub obligation_overrides: Vec<ObligationOverride>,
    /// What the classifier read (underlag): the facts and the registers as resolved then. With them and
    /// the rulebook version, `result` is recomputed when the state is read, so the state stores only
    /// these ([`crate::domain::state`]). `None` for a classification read from a state stored before
    /// version 3, which kept the whole result.
    #[serde(skip)]
    pub inputs: Option<ClassifiedInputs>,
}

/// The facts and resolved registers one classification read (underlag för klassificeringen).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassifiedInputs {
    pub facts: Facts,
    pub registers: Vec<RegisterInfo>,
}

impl ClassificationRecord {
    /// The type in force: legal's decision, else the rulebook's.
    pub fn effective_type(&self) -> Option<CollaborationType> {
        self.type_override
            .as_ref()
            .map(|o| o.collaboration_type)
            .or_else(|| self.result.outcome.collaboration_type())
    }

    /// The obligations in force: the rulebook's, then legal's additions and waivers in order. A type
    /// decided by legal settles the legal review.
    pub fn effective_obligations(&self) -> BTreeSet<ObligationCode> {
        let mut set: BTreeSet<ObligationCode> =
            self.result.obligation_codes().into_iter().collect();
        for o in &self.obligation_overrides {
            if o.waive {
                set.remove(&o.code);
            } else {
                set.insert(o.code);
            }
        }
        if self.type_override.is_some() {
            set.remove(&ObligationCode::LegalReview);
        }
        set
    }

    /// The type is undecided only because intake facts are missing.
    pub fn awaits_facts(&self) -> bool {
        self.type_override.is_none()
            && matches!(
                self.result.outcome,
                Outcome::Unclassified {
                    incomplete: true,
                    ..
                }
            )
    }
}

/// A collaboration between industry and one or more quality registers (samverkansärende). Its stored
/// form leaves out empty lists and absent values ([`crate::domain::state::to_stored`]), so every list
/// field reads as empty when missing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Collaboration {
    /// The shape of this stored state; see [`STATE_VERSION`].
    pub state_version: u32,
    pub id: CollaborationId,
    /// Human-readable reference, e.g. `SAM-2026-0001` (ärendenummer).
    pub reference: String,
    pub title: String,
    pub purpose: String,
    pub research_question: Option<String>,
    /// Whether the activity is research (forskning), which brings ethics review.
    pub is_research: bool,
    /// The research principal (forskningshuvudman), when identified.
    pub research_principal: Option<OrgId>,
    pub company: OrgId,
    #[serde(default)]
    pub registers: Vec<RegisterId>,
    #[serde(default)]
    pub requested_variables: Vec<String>,
    pub data_kind: DataKind,
    #[serde(default)]
    pub linkage: Vec<LinkageTarget>,
    #[serde(default)]
    pub recipient_countries: Vec<CountryCode>,
    /// The remaining intake facts of the classification (underlag för klassificering). Registers,
    /// linkage, recipient countries and the principal's kind come from the fields above.
    #[serde(default)]
    pub intake: Facts,
    #[serde(default)]
    pub classification: Option<ClassificationRecord>,
    pub step: Step,
    /// The register holders' answers, one per register at most.
    #[serde(default)]
    pub feasibility: Vec<Feasibility>,
    pub ethics: Option<EthicsApproval>,
    #[serde(default)]
    pub cpua_reviews: Vec<CpuaReview>,
    /// The linkage authorities' own reviews.
    #[serde(default)]
    pub linkage_reviews: Vec<LinkageReview>,
    /// Evidence for obligations recorded outside the steps.
    #[serde(default)]
    pub evidence: ObligationEvidence,
    /// "Bör" warnings passed with a reason.
    #[serde(default)]
    pub passed_warnings: Vec<PassedWarning>,
    pub agreement: Option<AgreementRecord>,
    pub cost_agreement: Option<CostAgreement>,
    #[serde(default)]
    pub publications: Vec<Publication>,
    pub report_back: Option<ReportBack>,
    pub disposal: Option<DisposalConfirmation>,
    #[serde(default)]
    pub amendments: Vec<Amendment>,
    #[serde(default)]
    pub internal_notes: Vec<InternalNote>,
    pub withdrawal_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub created_by: AccountId,
    pub closed_at: Option<DateTime<Utc>>,
}

impl Collaboration {
    pub fn review(&self, cpua: &OrgId) -> Option<&CpuaReview> {
        self.cpua_reviews.iter().find(|r| &r.cpua == cpua)
    }

    pub fn review_mut(&mut self, cpua: &OrgId) -> Option<&mut CpuaReview> {
        self.cpua_reviews.iter_mut().find(|r| &r.cpua == cpua)
    }

    pub fn open_amendment(&self) -> Option<&Amendment> {
        self.amendments
            .iter()
            .find(|a| a.status == AmendmentStatus::Open)
    }

    /// The register holder's answer for one register.
    pub fn feasibility_for(&self, register: &RegisterId) -> Option<&Feasibility> {
        self.feasibility.iter().find(|f| &f.register == register)
    }

    /// Whether any register holder said the extraction is charged.
    pub fn extraction_charged(&self) -> bool {
        self.feasibility.iter().any(|f| f.extraction_charged)
    }

    /// Whether any CPUA has released data.
    pub fn any_released(&self) -> bool {
        self.cpua_reviews.iter().any(|r| r.release.is_some())
    }

    pub fn linkage_review(&self, authority: LinkageTarget) -> Option<&LinkageReview> {
        self.linkage_reviews
            .iter()
            .find(|r| r.authority == authority)
    }

    /// The CPUAs whose review approved (or released): the CPUA parties of the agreement.
    pub fn approving_cpuas(&self) -> BTreeSet<OrgId> {
        self.cpua_reviews
            .iter()
            .filter(|r| matches!(r.status(), ReviewStatus::Approved | ReviewStatus::Released))
            .map(|r| r.cpua.clone())
            .collect()
    }
}
