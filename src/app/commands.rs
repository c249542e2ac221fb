//! Request bodies for the commands on a collaboration, parsed into the domain's commands: every field
//! checked at once, each fault named by its field (RFC 9457 at the edge).
use chrono::NaiveDate;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::{AppError, FieldError};
use crate::domain::classification::{CollaborationType, ObligationCode};
use crate::domain::collaboration::*;
use crate::domain::ids::{OrgId, RegisterId};
use crate::domain::lifecycle::{
    self, Acknowledgement, AppealInput, Command, CostAgreementInput, DecisionInput, DetailsPatch,
    EvidenceInput, FeasibilityInput, LinkageInput, OverrideInput, ReleaseInput, TransferMethod,
};
use crate::domain::money::Money;
use crate::domain::text::{parse_text, CountryCode, Doi};

pub(crate) const TITLE_MAX: usize = 300;
pub(crate) const TEXT_MAX: usize = 20_000;
pub(crate) const SHORT_MAX: usize = 500;
pub(crate) const VARIABLES_MAX: usize = 2_000;

/// Accumulates field errors so a client hears of every fault at once.
#[derive(Default)]
pub(crate) struct Errors(pub(crate) Vec<FieldError>);

impl Errors {
    pub(crate) fn text(&mut self, field: &str, v: &str, max: usize) -> String {
        parse_text(v, max).unwrap_or_else(|m| {
            self.0
                .push(FieldError::new(field, crate::msg!("text", reason = m)));
            String::new()
        })
    }

    pub(crate) fn opt_text(&mut self, field: &str, v: Option<&str>, max: usize) -> Option<String> {
        v.map(|s| self.text(field, s, max))
    }

    pub(crate) fn org(&mut self, field: &str, v: &str) -> OrgId {
        OrgId::parse(v).unwrap_or_else(|| {
            self.0
                .push(FieldError::new(field, crate::msg!("uuid", value = v)));
            OrgId::from_db(v.to_string())
        })
    }

    pub(crate) fn variables(&mut self, field: &str, v: &[String]) -> Vec<String> {
        if v.len() > VARIABLES_MAX {
            self.0.push(FieldError::new(
                field,
                crate::msg!("max_items.variables", max = VARIABLES_MAX),
            ));
        }
        v.iter()
            .enumerate()
            .map(|(i, s)| self.text(&format!("{field}[{i}]"), s, 200))
            .collect()
    }

    pub(crate) fn money(&mut self, field: &str, ore: i64) -> Money {
        Money::from_ore(ore).unwrap_or_else(|e| {
            self.0.push(FieldError::new(
                field,
                crate::msg!("money", reason = e.message()),
            ));
            Money::ZERO
        })
    }

    pub(crate) fn done(self) -> Result<(), AppError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AppError::Invalid(self.0))
        }
    }
}

pub(crate) fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// A change of details (PATCH); absent fields stay, `null` clears an optional one.
#[derive(Debug, Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchInput {
    pub title: Option<String>,
    pub purpose: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub research_question: Option<Option<String>>,
    pub is_research: Option<bool>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub research_principal: Option<Option<String>>,
    pub registers: Option<Vec<String>>,
    pub requested_variables: Option<Vec<String>>,
    pub data_kind: Option<DataKind>,
    pub linkage: Option<Vec<LinkageTarget>>,
    #[schema(value_type = Option<Vec<String>>)]
    pub recipient_countries: Option<Vec<CountryCode>>,
    /// Replaces the intake facts as a whole.
    #[schema(value_type = Option<crate::app::classification::IntakeFacts>)]
    pub intake: Option<Value>,
}

/// The confidentiality-review dossier as sent with a data application.
#[derive(Debug, Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DossierInput {
    pub recipient_principal: Option<String>,
    pub project_description: Option<String>,
    pub ethics_documents: Option<String>,
    pub requested_data: Option<Vec<String>>,
    pub access_and_storage: Option<String>,
}

fn dossier(e: &mut Errors, d: DossierInput) -> Dossier {
    Dossier {
        recipient_principal: e.opt_text(
            "dossier.recipient_principal",
            d.recipient_principal.as_deref(),
            SHORT_MAX,
        ),
        project_description: e.opt_text(
            "dossier.project_description",
            d.project_description.as_deref(),
            TEXT_MAX,
        ),
        ethics_documents: e.opt_text(
            "dossier.ethics_documents",
            d.ethics_documents.as_deref(),
            TEXT_MAX,
        ),
        requested_data: d
            .requested_data
            .map(|v| e.variables("dossier.requested_data", &v)),
        access_and_storage: e.opt_text(
            "dossier.access_and_storage",
            d.access_and_storage.as_deref(),
            TEXT_MAX,
        ),
    }
}

/// One role's cost rate in a cost agreement (timpris per roll), e.g. `statistician` at 95 000 öre.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleRateInput {
    pub role: String,
    pub hourly_rate_ore: i64,
}

/// A command with the "bör" warnings its sender passes (each with a reason).
#[derive(Debug, Clone)]
pub struct CommandInput {
    pub command: Command,
    pub acknowledge: Vec<Acknowledgement>,
}

impl From<Command> for CommandInput {
    fn from(command: Command) -> CommandInput {
        CommandInput {
            command,
            acknowledge: vec![],
        }
    }
}

/// What a confidentiality review established, for an approval (seed 002, "Sammanfattningsvis").
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingsInput {
    pub need_for_data: bool,
    pub within_ethics_approval: bool,
    pub no_risk_of_harm: bool,
    /// Required where identity numbers are requested: the CPUA accepts they are necessary.
    #[serde(default)]
    pub identity_numbers_necessary: bool,
}

/// A decision: approve (with the findings), approve with conditions, or refuse (with grounds).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionFields {
    pub outcome: DecisionOutcome,
    pub reasons: Option<String>,
    pub conditions: Option<String>,
    /// For a refusal: harm_to_individual, outside_ethics_approval, variables_not_motivated,
    /// identity_numbers_not_justified, third_country_transfer, no_patient_information_or_consent,
    /// reservation_not_accepted. Research quality or a competing project is never a ground.
    #[serde(default)]
    pub grounds: Vec<String>,
    pub findings: Option<FindingsInput>,
    pub dpo_consulted_on: Option<NaiveDate>,
    /// The CPUA's own reference for the decision (diarienummer).
    pub reference: Option<String>,
    /// An approval's last day of use of the data (användningsperiodens slut), optional; reminded
    /// before and on the day.
    #[serde(default)]
    pub use_until: Option<NaiveDate>,
}

/// A release of data by one CPUA.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseFields {
    pub released_on: NaiveDate,
    pub transfer_method: TransferMethod,
    pub password_sent_separately: bool,
    pub key_deletion_on: Option<NaiveDate>,
    pub extended_retention_justification: Option<String>,
}

/// A transition to a step (`to`), with the data that step needs.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(tag = "to", rename_all = "snake_case", deny_unknown_fields)]
pub enum TransitionInput {
    /// Step 2: contact the register holder.
    RegisterContact {},
    /// Step 3: apply for ethics approval.
    EthicsReview {
        #[serde(default)]
        acknowledge: Vec<Acknowledgement>,
    },
    /// Step 4: apply for data to one CPUA, with the dossier (may be sent again to complete it).
    DataApplication {
        cpua: String,
        dossier: DossierInput,
        #[serde(default)]
        acknowledge: Vec<Acknowledgement>,
    },
    /// Step 5: one CPUA's release decision.
    ReleaseDecision {
        cpua: String,
        outcome: DecisionOutcome,
        reasons: Option<String>,
        conditions: Option<String>,
        /// The grounds of a refusal (see `DecisionFields`).
        #[serde(default)]
        grounds: Vec<String>,
        findings: Option<FindingsInput>,
        dpo_consulted_on: Option<NaiveDate>,
        /// The CPUA's own reference for the decision (diarienummer).
        reference: Option<String>,
        /// An approval's last day of use of the data (användningsperiodens slut), optional.
        #[serde(default)]
        use_until: Option<NaiveDate>,
        #[serde(default)]
        acknowledge: Vec<Acknowledgement>,
    },
    /// Step 6: the signed agreement is the rendered version with this number and digest.
    Agreement {
        version: u32,
        digest: String,
        signed_on: NaiveDate,
    },
    /// Step 7: one CPUA releases its data.
    DataRelease {
        cpua: String,
        released_on: NaiveDate,
        transfer_method: TransferMethod,
        password_sent_separately: bool,
        key_deletion_on: Option<NaiveDate>,
        extended_retention_justification: Option<String>,
    },
    /// Step 8: results and publication.
    Results {},
    /// Step 9: archiving and deletion of copies.
    Archiving {},
    /// Close after the disposal confirmation.
    Closed {},
    /// Withdraw the collaboration: ends it before any release, leads to step 9 after one.
    Withdrawn { reason: String },
    /// Not a transition of its own: refusal is a release decision.
    Refused {},
}

/// An action that records something without moving to another step.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum ActionInput {
    /// A register holder's answer for their own register (step 2).
    RecordFeasibility {
        register: String,
        feasible: bool,
        estimated_weeks: Option<u32>,
        estimated_cost_ore: Option<i64>,
        #[serde(default)]
        extraction_charged: bool,
        agrees_on_type: Option<bool>,
        comment: Option<String>,
    },
    RecordEthicsApproval {
        reference: String,
        decided_on: NaiveDate,
        /// The key-file retention in months the approval covers, when longer than three.
        key_retention_months: Option<u32>,
    },
    /// A lawyer's recommendation to the decision-maker (internal to the CPUA).
    RecommendDecision {
        cpua: String,
        outcome: DecisionOutcome,
        text: String,
    },
    /// The CPUA reconsiders its refusal or restrictive condition (omprövning).
    ReconsiderDecision {
        cpua: String,
        decision: DecisionFields,
        #[serde(default)]
        acknowledge: Vec<Acknowledgement>,
    },
    /// A court's ruling on an appeal against a refusal; an overturned refusal reopens the track.
    RecordAppealOutcome {
        cpua: String,
        court: String,
        ruled_on: NaiveDate,
        reference: String,
        outcome: AppealOutcome,
    },
    RecordCostAgreement {
        reference: String,
        signed_on: NaiveDate,
        estimate_ore: i64,
        hourly_rate_ore: Option<i64>,
        /// Cost rates per role (issue 15, item 1), each role once.
        #[serde(default)]
        rates: Vec<RoleRateInput>,
        /// Direct expenses besides the hours, in öre.
        #[serde(default)]
        expenses_ore: Option<i64>,
        /// The most that may be charged, in öre; none: the estimate.
        #[serde(default)]
        ceiling_ore: Option<i64>,
        /// Passes `cost_far_from_estimate` with a reason.
        #[serde(default)]
        acknowledge: Vec<Acknowledgement>,
    },
    RecordDataProcessingAgreement {
        processor: String,
        reference: String,
        signed_on: NaiveDate,
    },
    /// CPUA legal's assessment of a transfer to third countries.
    RecordThirdCountryAssessment {
        permitted: bool,
        basis: Option<TransferBasis>,
        reasons: String,
    },
    RecordIdentityNumberJustification {
        justification: String,
        stated_in_ethics_application: bool,
    },
    /// Who keeps the key and who links, with several CPUAs or linkage (seed 002).
    RecordCoordination {
        /// A CPUA's organisation id.
        key_custodian: String,
        /// A CPUA's organisation id, or a linkage authority: socialstyrelsen, scb, forsakringskassan.
        linkage_responsible: String,
        note: Option<String>,
    },
    /// Consent obtained afterwards for a register whose patient information did not cover research.
    RecordRetrospectiveConsent {
        register: String,
        description: String,
        obtained_on: NaiveDate,
    },
    RecordLinkageApplication {
        authority: LinkageTarget,
        applied_on: NaiveDate,
        reference: Option<String>,
    },
    RecordLinkageDecision {
        authority: LinkageTarget,
        approved: bool,
        decided_on: NaiveDate,
        reference: String,
    },
    RecordPublication {
        title: String,
        journal: String,
        doi: Option<String>,
        published_on: NaiveDate,
    },
    /// Results reported back to the register: welcome ("gärna"), never required.
    RecordReportBack {
        reported_on: NaiveDate,
        summary: String,
    },
    /// The CPUA deleted the key file of its release; closes the key-file deadline (seed 000, "Hur och
    /// vilka data lämnas ut?").
    RecordKeyFileDeleted {
        cpua: String,
        deleted_on: NaiveDate,
    },
    ConfirmDisposal {
        disposition: Disposition,
        confirmed_on: NaiveDate,
        confirmed_by_name: String,
        statement: String,
    },
    OpenAmendment {
        research_question: String,
        reason: String,
    },
    RecordAmendmentEthics {
        reference: String,
        decided_on: NaiveDate,
        key_retention_months: Option<u32>,
    },
    SubmitAmendmentApplication {},
    DecideAmendment {
        cpua: String,
        decision: DecisionFields,
        #[serde(default)]
        acknowledge: Vec<Acknowledgement>,
    },
    /// The signed amendment version of the agreement.
    RecordAmendmentAgreement {
        version: u32,
        digest: String,
        signed_on: NaiveDate,
    },
    /// A release of data under the amended research question.
    ReleaseAmendmentData {
        cpua: String,
        release: ReleaseFields,
    },
    AddInternalNote {
        text: String,
    },
    /// CPUA legal decides the type and/or adds or waives obligations, with a written reason.
    OverrideClassification {
        #[serde(rename = "type")]
        collaboration_type: Option<String>,
        #[serde(default)]
        add: Vec<String>,
        #[serde(default)]
        waive: Vec<String>,
        reason: String,
    },
}

impl Errors {
    fn register(&mut self, field: &str, v: &str) -> RegisterId {
        RegisterId::parse(v).unwrap_or_else(|| {
            self.0
                .push(FieldError::new(field, crate::msg!("uuid", value = v)));
            RegisterId::from_db(v.to_string())
        })
    }

    fn ethics(
        &mut self,
        reference: &str,
        decided_on: NaiveDate,
        months: Option<u32>,
    ) -> Option<EthicsApproval> {
        match lifecycle::ethics_approval(reference, decided_on, months) {
            Ok(a) => Some(a),
            Err(r) => {
                self.0.push(FieldError::new("reference", r.message));
                None
            }
        }
    }

    fn grounds(&mut self, field: &str, grounds: &[String]) -> Vec<RefusalGround> {
        grounds
            .iter()
            .enumerate()
            .filter_map(|(i, g)| {
                let f = format!("{field}[{i}]");
                if let Some((code, _)) = FORBIDDEN_GROUNDS.iter().find(|(code, _)| code == g) {
                    let m = if *code == "research_quality" {
                        crate::msg!("forbidden_ground.research_quality")
                    } else {
                        crate::msg!("forbidden_ground.duplicate_research")
                    };
                    self.0.push(FieldError::new(f, m));
                    return None;
                }
                let parsed = RefusalGround::parse(g);
                if parsed.is_none() {
                    self.0.push(FieldError::new(
                        f,
                        crate::msg!(
                            "one_of.refusal_ground",
                            values = crate::domain::messages::Arg::any_of(RefusalGround::ACCEPTED)
                        ),
                    ));
                }
                parsed
            })
            .collect()
    }

    fn decision(&mut self, d: DecisionFields) -> DecisionInput {
        DecisionInput {
            outcome: d.outcome,
            reasons: self.opt_text("reasons", d.reasons.as_deref(), TEXT_MAX),
            conditions: self.opt_text("conditions", d.conditions.as_deref(), TEXT_MAX),
            grounds: self.grounds("grounds", &d.grounds),
            findings: d.findings.map(|f| Findings {
                need_for_data: f.need_for_data,
                within_ethics_approval: f.within_ethics_approval,
                no_risk_of_harm: f.no_risk_of_harm,
                identity_numbers_necessary: f.identity_numbers_necessary,
            }),
            dpo_consulted_on: d.dpo_consulted_on,
            reference: self.opt_text("reference", d.reference.as_deref(), 100),
            use_until: d.use_until,
        }
    }

    fn release(&mut self, r: ReleaseFields) -> ReleaseInput {
        ReleaseInput {
            released_on: r.released_on,
            transfer_method: r.transfer_method,
            password_sent_separately: r.password_sent_separately,
            key_deletion_on: r.key_deletion_on,
            extended_retention_justification: self.opt_text(
                "extended_retention_justification",
                r.extended_retention_justification.as_deref(),
                TEXT_MAX,
            ),
        }
    }

    fn acknowledge(&mut self, acks: Vec<Acknowledgement>) -> Vec<Acknowledgement> {
        acks.into_iter()
            .enumerate()
            .map(|(i, a)| Acknowledgement {
                reason: self.text(&format!("acknowledge[{i}].reason"), &a.reason, TEXT_MAX),
                code: a.code,
            })
            .collect()
    }

    fn finish(
        self,
        command: Command,
        acknowledge: Vec<Acknowledgement>,
    ) -> Result<CommandInput, AppError> {
        self.done()?;
        Ok(CommandInput {
            command,
            acknowledge,
        })
    }
}

impl TransitionInput {
    pub fn into_command(self) -> Result<CommandInput, AppError> {
        let mut e = Errors::default();
        let mut acks = vec![];
        let cmd = match self {
            TransitionInput::RegisterContact {} => Command::ToRegisterContact,
            TransitionInput::EthicsReview { acknowledge } => {
                acks = e.acknowledge(acknowledge);
                Command::ToEthicsReview
            }
            TransitionInput::DataApplication {
                cpua,
                dossier: d,
                acknowledge,
            } => {
                acks = e.acknowledge(acknowledge);
                Command::ToDataApplication {
                    cpua: e.org("cpua", &cpua),
                    dossier: dossier(&mut e, d),
                }
            }
            TransitionInput::ReleaseDecision {
                cpua,
                outcome,
                reasons,
                conditions,
                grounds,
                findings,
                dpo_consulted_on,
                reference,
                use_until,
                acknowledge,
            } => {
                acks = e.acknowledge(acknowledge);
                Command::ToReleaseDecision {
                    cpua: e.org("cpua", &cpua),
                    decision: e.decision(DecisionFields {
                        outcome,
                        reasons,
                        conditions,
                        grounds,
                        findings,
                        dpo_consulted_on,
                        reference,
                        use_until,
                    }),
                }
            }
            TransitionInput::Agreement {
                version,
                digest,
                signed_on,
            } => Command::ToAgreement {
                version,
                digest: e.text("digest", &digest, 128),
                signed_on,
            },
            TransitionInput::DataRelease {
                cpua,
                released_on,
                transfer_method,
                password_sent_separately,
                key_deletion_on,
                extended_retention_justification,
            } => Command::ToDataRelease {
                cpua: e.org("cpua", &cpua),
                release: e.release(ReleaseFields {
                    released_on,
                    transfer_method,
                    password_sent_separately,
                    key_deletion_on,
                    extended_retention_justification,
                }),
            },
            TransitionInput::Results {} => Command::ToResults,
            TransitionInput::Archiving {} => Command::ToArchiving,
            TransitionInput::Closed {} => Command::ToClosed,
            TransitionInput::Withdrawn { reason } => Command::ToWithdrawn {
                reason: e.text("reason", &reason, TEXT_MAX),
            },
            TransitionInput::Refused {} => {
                return Err(AppError::invalid("to", crate::msg!("not_a_transition")))
            }
        };
        e.finish(cmd, acks)
    }
}

impl ActionInput {
    pub fn into_command(self) -> Result<CommandInput, AppError> {
        let mut e = Errors::default();
        let mut acks = vec![];
        let cmd = match self {
            ActionInput::RecordFeasibility {
                register,
                feasible,
                estimated_weeks,
                estimated_cost_ore,
                extraction_charged,
                agrees_on_type,
                comment,
            } => Command::RecordFeasibility(FeasibilityInput {
                register: e.register("register", &register),
                feasible,
                estimated_weeks,
                estimated_cost: estimated_cost_ore.map(|o| e.money("estimated_cost_ore", o)),
                extraction_charged,
                agrees_on_type,
                comment: e.opt_text("comment", comment.as_deref(), TEXT_MAX),
            }),
            ActionInput::RecordEthicsApproval {
                reference,
                decided_on,
                key_retention_months,
            } => match e.ethics(&reference, decided_on, key_retention_months) {
                Some(a) => Command::RecordEthicsApproval(a),
                None => return Err(AppError::Invalid(e.0)),
            },
            ActionInput::RecommendDecision {
                cpua,
                outcome,
                text,
            } => Command::RecommendDecision {
                cpua: e.org("cpua", &cpua),
                outcome,
                text: e.text("text", &text, TEXT_MAX),
            },
            ActionInput::ReconsiderDecision {
                cpua,
                decision,
                acknowledge,
            } => {
                acks = e.acknowledge(acknowledge);
                Command::ReconsiderDecision {
                    cpua: e.org("cpua", &cpua),
                    decision: e.decision(decision),
                }
            }
            ActionInput::RecordAppealOutcome {
                cpua,
                court,
                ruled_on,
                reference,
                outcome,
            } => Command::RecordAppealOutcome {
                cpua: e.org("cpua", &cpua),
                ruling: AppealInput {
                    court: e.text("court", &court, SHORT_MAX),
                    ruled_on,
                    reference: e.text("reference", &reference, 100),
                    outcome,
                },
            },
            ActionInput::RecordCostAgreement {
                reference,
                signed_on,
                estimate_ore,
                hourly_rate_ore,
                rates,
                expenses_ore,
                ceiling_ore,
                acknowledge,
            } => {
                acks = e.acknowledge(acknowledge);
                Command::RecordCostAgreement(CostAgreementInput {
                    reference: e.text("reference", &reference, 100),
                    signed_on,
                    estimate: e.money("estimate_ore", estimate_ore),
                    hourly_rate: hourly_rate_ore.map(|o| e.money("hourly_rate_ore", o)),
                    rates: rates
                        .into_iter()
                        .enumerate()
                        .map(|(i, r)| crate::domain::collaboration::RoleRate {
                            role: e.text(&format!("rates[{i}].role"), &r.role, 60),
                            hourly_rate: e
                                .money(&format!("rates[{i}].hourly_rate_ore"), r.hourly_rate_ore),
                        })
                        .collect(),
                    expenses: expenses_ore
                        .map(|o| e.money("expenses_ore", o))
                        .unwrap_or(Money::ZERO),
                    ceiling: ceiling_ore.map(|o| e.money("ceiling_ore", o)),
                })
            }
            ActionInput::RecordDataProcessingAgreement {
                processor,
                reference,
                signed_on,
            } => Command::RecordEvidence(EvidenceInput::DataProcessingAgreement {
                processor: e.text("processor", &processor, SHORT_MAX),
                reference: e.text("reference", &reference, 100),
                signed_on,
            }),
            ActionInput::RecordThirdCountryAssessment {
                permitted,
                basis,
                reasons,
            } => Command::RecordEvidence(EvidenceInput::ThirdCountryAssessment {
                permitted,
                basis,
                reasons: e.text("reasons", &reasons, TEXT_MAX),
            }),
            ActionInput::RecordIdentityNumberJustification {
                justification,
                stated_in_ethics_application,
            } => Command::RecordEvidence(EvidenceInput::IdentityNumberJustification {
                justification: e.text("justification", &justification, TEXT_MAX),
                stated_in_ethics_application,
            }),
            ActionInput::RecordCoordination {
                key_custodian,
                linkage_responsible,
                note,
            } => Command::RecordEvidence(EvidenceInput::Coordination {
                key_custodian: e.org("key_custodian", &key_custodian),
                linkage_responsible: e.text("linkage_responsible", &linkage_responsible, 100),
                note: e.opt_text("note", note.as_deref(), TEXT_MAX),
            }),
            ActionInput::RecordRetrospectiveConsent {
                register,
                description,
                obtained_on,
            } => Command::RecordEvidence(EvidenceInput::RetrospectiveConsent {
                register: e.register("register", &register),
                description: e.text("description", &description, TEXT_MAX),
                obtained_on,
            }),
            ActionInput::RecordLinkageApplication {
                authority,
                applied_on,
                reference,
            } => Command::RecordLinkage(LinkageInput::Application {
                authority,
                applied_on,
                reference: e.opt_text("reference", reference.as_deref(), 100),
            }),
            ActionInput::RecordLinkageDecision {
                authority,
                approved,
                decided_on,
                reference,
            } => Command::RecordLinkage(LinkageInput::Decision {
                authority,
                approved,
                decided_on,
                reference: e.text("reference", &reference, 100),
            }),
            ActionInput::RecordPublication {
                title,
                journal,
                doi,
                published_on,
            } => Command::RecordPublication(Publication {
                title: e.text("title", &title, SHORT_MAX),
                journal: e.text("journal", &journal, SHORT_MAX),
                doi: doi.and_then(|d| {
                    Doi::parse(&d)
                        .map_err(|m| {
                            e.0.push(FieldError::new("doi", crate::msg!("doi", reason = m)))
                        })
                        .ok()
                }),
                published_on,
            }),
            ActionInput::RecordReportBack {
                reported_on,
                summary,
            } => Command::RecordReportBack(ReportBack {
                reported_on,
                summary: e.text("summary", &summary, TEXT_MAX),
            }),
            ActionInput::RecordKeyFileDeleted { cpua, deleted_on } => {
                Command::RecordKeyFileDeleted {
                    cpua: e.org("cpua", &cpua),
                    deleted_on,
                }
            }
            ActionInput::ConfirmDisposal {
                disposition,
                confirmed_on,
                confirmed_by_name,
                statement,
            } => Command::ConfirmDisposal(DisposalConfirmation {
                disposition,
                confirmed_on,
                confirmed_by_name: e.text("confirmed_by_name", &confirmed_by_name, 200),
                statement: e.text("statement", &statement, TEXT_MAX),
            }),
            ActionInput::OpenAmendment {
                research_question,
                reason,
            } => Command::OpenAmendment {
                research_question: e.text("research_question", &research_question, TEXT_MAX),
                reason: e.text("reason", &reason, TEXT_MAX),
            },
            ActionInput::RecordAmendmentEthics {
                reference,
                decided_on,
                key_retention_months,
            } => match e.ethics(&reference, decided_on, key_retention_months) {
                Some(a) => Command::RecordAmendmentEthics(a),
                None => return Err(AppError::Invalid(e.0)),
            },
            ActionInput::SubmitAmendmentApplication {} => Command::SubmitAmendmentApplication,
            ActionInput::DecideAmendment {
                cpua,
                decision,
                acknowledge,
            } => {
                acks = e.acknowledge(acknowledge);
                Command::DecideAmendment {
                    cpua: e.org("cpua", &cpua),
                    decision: e.decision(decision),
                }
            }
            ActionInput::RecordAmendmentAgreement {
                version,
                digest,
                signed_on,
            } => Command::RecordAmendmentAgreement {
                version,
                digest: e.text("digest", &digest, 128),
                signed_on,
            },
            ActionInput::ReleaseAmendmentData { cpua, release } => Command::ReleaseAmendmentData {
                cpua: e.org("cpua", &cpua),
                release: e.release(release),
            },
            ActionInput::AddInternalNote { text } => Command::AddInternalNote {
                text: e.text("text", &text, TEXT_MAX),
            },
            ActionInput::OverrideClassification {
                collaboration_type,
                add,
                waive,
                reason,
            } => {
                let t = collaboration_type.and_then(|t| {
                    CollaborationType::parse(&t).or_else(|| {
                        e.0.push(FieldError::new(
                            "type",
                            crate::msg!("one_of.collaboration_type", value = t),
                        ));
                        None
                    })
                });
                let mut codes = |field: &str, v: Vec<String>| -> Vec<ObligationCode> {
                    v.iter()
                        .enumerate()
                        .filter_map(|(i, c)| {
                            ObligationCode::parse(c).or_else(|| {
                                e.0.push(FieldError::new(
                                    format!("{field}[{i}]"),
                                    crate::msg!("one_of.obligation_code", value = c),
                                ));
                                None
                            })
                        })
                        .collect()
                };
                let add = codes("add", add);
                let waive = codes("waive", waive);
                Command::OverrideClassification(OverrideInput {
                    collaboration_type: t,
                    add,
                    waive,
                    reason: e.text("reason", &reason, TEXT_MAX),
                })
            }
        };
        e.finish(cmd, acks)
    }
}

/// Turns a PATCH body into the domain's patch.
pub fn patch_command(p: PatchInput) -> Result<Command, AppError> {
    let mut e = Errors::default();
    let patch = DetailsPatch {
        title: p.title.map(|t| e.text("title", &t, TITLE_MAX)),
        purpose: p.purpose.map(|t| e.text("purpose", &t, TEXT_MAX)),
        research_question: p
            .research_question
            .map(|q| e.opt_text("research_question", q.as_deref(), TEXT_MAX)),
        is_research: p.is_research,
        research_principal: p
            .research_principal
            .map(|o| o.map(|s| e.org("research_principal", &s))),
        registers: p.registers.map(|v| {
            v.iter()
                .enumerate()
                .map(|(i, s)| {
                    RegisterId::parse(s).unwrap_or_else(|| {
                        e.0.push(FieldError::new(
                            format!("registers[{i}]"),
                            crate::msg!("unknown_register", id = s),
                        ));
                        RegisterId::from_db(s.clone())
                    })
                })
                .collect()
        }),
        requested_variables: p
            .requested_variables
            .map(|v| e.variables("requested_variables", &v)),
        data_kind: p.data_kind,
        linkage: p.linkage,
        recipient_countries: p.recipient_countries,
        intake: match &p.intake {
            Some(v) => match super::classification::parse_intake(v) {
                Ok(f) => Some(f),
                Err(AppError::Invalid(errs)) => {
                    e.0.extend(errs);
                    None
                }
                Err(other) => return Err(other),
            },
            None => None,
        },
    };
    e.done()?;
    Ok(Command::UpdateDetails(patch))
}
