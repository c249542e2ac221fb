//! Collaboration commands and queries.
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

use super::audit::{collaboration_stream, record};
use super::authz::{self, Scope};
use super::{AppError, FieldError};
use crate::db::repo::{self, CollabFilter, Visible};
use crate::db::DbConn;
use crate::domain::classification::{CollaborationType, ObligationCode, RulebookSet};
use crate::domain::collaboration::*;
use crate::domain::events::EventType;
use crate::domain::ids::{CollaborationId, OrgId, RegisterId};
use crate::domain::lifecycle::{
    self, guard, holding_up, Command, CommandKind, Context, DecisionInput, DetailsPatch, HoldUp,
    Obligations, ReleaseInput, Step, TransferMethod,
};
use crate::domain::money::Money;
use crate::domain::organisation::OrgKind;
use crate::domain::role::{Actor, Role};
use crate::domain::text::{parse_text, CountryCode, Doi};

const TITLE_MAX: usize = 300;
const TEXT_MAX: usize = 20_000;
const SHORT_MAX: usize = 500;
const VARIABLES_MAX: usize = 2_000;

/// Accumulates field errors so a client hears of every fault at once.
#[derive(Default)]
struct Errors(Vec<FieldError>);

impl Errors {
    fn text(&mut self, field: &str, v: &str, max: usize) -> String {
        parse_text(v, max).unwrap_or_else(|m| {
            self.0.push(FieldError::new(field, "text", m));
            String::new()
        })
    }

    fn opt_text(&mut self, field: &str, v: Option<&str>, max: usize) -> Option<String> {
        v.map(|s| self.text(field, s, max))
    }

    fn org(&mut self, field: &str, v: &str) -> OrgId {
        OrgId::parse(v).unwrap_or_else(|| {
            self.0.push(FieldError::new(
                field,
                "uuid",
                format!("'{v}' is not an id"),
            ));
            OrgId::from_db(v.to_string())
        })
    }

    fn variables(&mut self, field: &str, v: &[String]) -> Vec<String> {
        if v.len() > VARIABLES_MAX {
            self.0.push(FieldError::new(
                field,
                "max_items",
                format!("at most {VARIABLES_MAX} variables"),
            ));
        }
        v.iter()
            .enumerate()
            .map(|(i, s)| self.text(&format!("{field}[{i}]"), s, 200))
            .collect()
    }

    fn money(&mut self, field: &str, ore: i64) -> Money {
        Money::from_ore(ore).unwrap_or_else(|e| {
            self.0.push(FieldError::new(field, "money", e.to_string()));
            Money::ZERO
        })
    }

    fn done(self) -> Result<(), AppError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AppError::Invalid(self.0))
        }
    }
}

fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

fn yes() -> bool {
    true
}

/// A new collaboration as the client sends it (step 1, preparation).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCollaborationInput {
    pub title: String,
    pub purpose: String,
    pub research_question: Option<String>,
    /// Whether the activity is research; defaults to true.
    #[serde(default = "yes")]
    pub is_research: bool,
    /// The research principal's organisation id.
    pub research_principal: Option<String>,
    /// The company's organisation id; a company representative's own by default.
    pub company: Option<String>,
    /// Register ids.
    #[serde(default)]
    pub registers: Vec<String>,
    #[serde(default)]
    pub requested_variables: Vec<String>,
    pub data_kind: DataKind,
    #[serde(default)]
    pub linkage: Vec<LinkageTarget>,
    /// ISO 3166-1 alpha-2 codes.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub recipient_countries: Vec<CountryCode>,
    /// The intake facts of the classification (purpose, company_receives, principal_receives,
    /// analysis_by, sector, external_processor, identity_numbers_requested, effort_beyond_routine,
    /// key_retention_months, is_research).
    #[schema(value_type = Option<Object>)]
    pub intake: Option<Value>,
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
    #[schema(value_type = Option<Object>)]
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

/// A transition to a step (`to`), with the data that step needs.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(tag = "to", rename_all = "snake_case", deny_unknown_fields)]
pub enum TransitionInput {
    /// Step 2: contact the register holder.
    RegisterContact {},
    /// Step 3: apply for ethics approval.
    EthicsReview {},
    /// Step 4: apply for data to one CPUA, with the dossier (may be sent again to complete it).
    DataApplication { cpua: String, dossier: DossierInput },
    /// Step 5: one CPUA's release decision.
    ReleaseDecision {
        cpua: String,
        outcome: DecisionOutcome,
        reasons: Option<String>,
        conditions: Option<String>,
        /// harm_to_individual, outside_ethics_approval, variables_not_motivated,
        /// identity_numbers_not_justified, third_country_transfer, other
        ground: Option<String>,
        dpo_consulted_on: Option<NaiveDate>,
        /// The CPUA's own reference for the decision (diarienummer).
        reference: Option<String>,
    },
    /// Step 6: the agreement is signed.
    Agreement {
        reference: String,
        signed_on: NaiveDate,
        confidentiality_reservation: bool,
        #[serde(default)]
        data_processing_agreement: bool,
    },
    /// Step 7: one CPUA releases its data.
    DataRelease {
        cpua: String,
        released_on: NaiveDate,
        #[schema(value_type = String)]
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
    /// Withdraw the collaboration.
    Withdrawn { reason: String },
    /// Not a transition of its own: refusal is a release decision.
    Refused {},
}

/// An action that records something without moving to another step.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum ActionInput {
    RecordFeasibility {
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
    },
    RecordCostAgreement {
        reference: String,
        signed_on: NaiveDate,
        estimate_ore: i64,
        hourly_rate_ore: Option<i64>,
    },
    RecordPublication {
        title: String,
        journal: String,
        doi: Option<String>,
        published_on: NaiveDate,
    },
    RecordReportBack {
        reported_on: NaiveDate,
        summary: String,
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
    },
    SubmitAmendmentApplication {},
    DecideAmendment {
        cpua: String,
        approve: bool,
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

fn ethics(e: &mut Errors, reference: &str, decided_on: NaiveDate) -> Option<EthicsApproval> {
    match lifecycle::ethics_approval(reference, decided_on) {
        Ok(a) => Some(a),
        Err(r) => {
            e.0.push(FieldError::new("reference", r.rule, r.message));
            None
        }
    }
}

fn refusal_ground(e: &mut Errors, g: Option<String>) -> Option<RefusalGround> {
    let g = g?;
    if let Some((_, why)) = FORBIDDEN_GROUNDS.iter().find(|(code, _)| *code == g) {
        e.0.push(FieldError::new(
            "ground",
            "forbidden_ground",
            format!(
                "{why} is not a ground for refusal; tell the researcher in another way ({}, \"Menprövning av centralt personuppgiftsansvarig myndighet (CPUA)\")",
                lifecycle::SEED_000
            ),
        ));
        return None;
    }
    let parsed = RefusalGround::parse(&g);
    if parsed.is_none() {
        e.0.push(FieldError::new(
            "ground",
            "one_of",
            "must be one of harm_to_individual, outside_ethics_approval, variables_not_motivated, identity_numbers_not_justified, third_country_transfer, other",
        ));
    }
    parsed
}

impl TransitionInput {
    pub fn into_command(self) -> Result<Command, AppError> {
        let mut e = Errors::default();
        let cmd = match self {
            TransitionInput::RegisterContact {} => Command::ToRegisterContact,
            TransitionInput::EthicsReview {} => Command::ToEthicsReview,
            TransitionInput::DataApplication { cpua, dossier: d } => Command::ToDataApplication {
                cpua: e.org("cpua", &cpua),
                dossier: dossier(&mut e, d),
            },
            TransitionInput::ReleaseDecision {
                cpua,
                outcome,
                reasons,
                conditions,
                ground,
                dpo_consulted_on,
                reference,
            } => Command::ToReleaseDecision {
                cpua: e.org("cpua", &cpua),
                decision: DecisionInput {
                    outcome,
                    reasons: e.opt_text("reasons", reasons.as_deref(), TEXT_MAX),
                    conditions: e.opt_text("conditions", conditions.as_deref(), TEXT_MAX),
                    ground: refusal_ground(&mut e, ground),
                    dpo_consulted_on,
                    reference: e.opt_text("reference", reference.as_deref(), 100),
                },
            },
            TransitionInput::Agreement {
                reference,
                signed_on,
                confidentiality_reservation,
                data_processing_agreement,
            } => Command::ToAgreement {
                reference: e.text("reference", &reference, 100),
                signed_on,
                confidentiality_reservation,
                data_processing_agreement,
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
                release: ReleaseInput {
                    released_on,
                    transfer_method,
                    password_sent_separately,
                    key_deletion_on,
                    extended_retention_justification: e.opt_text(
                        "extended_retention_justification",
                        extended_retention_justification.as_deref(),
                        TEXT_MAX,
                    ),
                },
            },
            TransitionInput::Results {} => Command::ToResults,
            TransitionInput::Archiving {} => Command::ToArchiving,
            TransitionInput::Closed {} => Command::ToClosed,
            TransitionInput::Withdrawn { reason } => Command::ToWithdrawn {
                reason: e.text("reason", &reason, TEXT_MAX),
            },
            TransitionInput::Refused {} => {
                return Err(AppError::invalid(
                    "to",
                    "not_a_transition",
                    "a refusal is a release decision: POST {\"to\": \"release_decision\", \"outcome\": \"refused\", …} for the CPUA concerned",
                ))
            }
        };
        e.done()?;
        Ok(cmd)
    }
}

impl ActionInput {
    pub fn into_command(self) -> Result<Command, AppError> {
        let mut e = Errors::default();
        let cmd = match self {
            ActionInput::RecordFeasibility {
                feasible,
                estimated_weeks,
                estimated_cost_ore,
                extraction_charged,
                agrees_on_type,
                comment,
            } => Command::RecordFeasibility {
                feasible,
                estimated_weeks,
                estimated_cost: estimated_cost_ore.map(|o| e.money("estimated_cost_ore", o)),
                extraction_charged,
                agrees_on_type,
                comment: e.opt_text("comment", comment.as_deref(), TEXT_MAX),
            },
            ActionInput::RecordEthicsApproval {
                reference,
                decided_on,
            } => match ethics(&mut e, &reference, decided_on) {
                Some(a) => Command::RecordEthicsApproval(a),
                None => return Err(AppError::Invalid(e.0)),
            },
            ActionInput::RecordCostAgreement {
                reference,
                signed_on,
                estimate_ore,
                hourly_rate_ore,
            } => Command::RecordCostAgreement {
                reference: e.text("reference", &reference, 100),
                signed_on,
                estimate: e.money("estimate_ore", estimate_ore),
                hourly_rate: hourly_rate_ore.map(|o| e.money("hourly_rate_ore", o)),
            },
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
                        .map_err(|m| e.0.push(FieldError::new("doi", "doi", m)))
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
            } => match ethics(&mut e, &reference, decided_on) {
                Some(a) => Command::RecordAmendmentEthics(a),
                None => return Err(AppError::Invalid(e.0)),
            },
            ActionInput::SubmitAmendmentApplication {} => Command::SubmitAmendmentApplication,
            ActionInput::DecideAmendment { cpua, approve } => Command::DecideAmendment {
                cpua: e.org("cpua", &cpua),
                approve,
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
                            "one_of",
                            format!("'{t}' is not a collaboration type"),
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
                                    "one_of",
                                    format!("'{c}' is not an obligation code"),
                                ));
                                None
                            })
                        })
                        .collect()
                };
                let add = codes("add", add);
                let waive = codes("waive", waive);
                Command::OverrideClassification {
                    collaboration_type: t,
                    add,
                    waive,
                    reason: e.text("reason", &reason, TEXT_MAX),
                }
            }
        };
        e.done()?;
        Ok(cmd)
    }
}

/// Resolves register ids, refusing unknown ones by their position.
fn registers(conn: &mut DbConn, field: &str, ids: &[String]) -> Result<Vec<RegisterId>, AppError> {
    let mut errs = Vec::new();
    let mut out = Vec::new();
    for (i, s) in ids.iter().enumerate() {
        match RegisterId::parse(s) {
            Some(id) if repo::find_register(conn, &id)?.is_some() => {
                if !out.contains(&id) {
                    out.push(id)
                }
            }
            _ => errs.push(FieldError::new(
                format!("{field}[{i}]"),
                "unknown_register",
                format!("no register with id '{s}'"),
            )),
        }
    }
    if !errs.is_empty() {
        return Err(AppError::Invalid(errs));
    }
    Ok(out)
}

fn principal(conn: &mut DbConn, field: &str, id: &str) -> Result<OrgId, AppError> {
    let org = OrgId::parse(id)
        .map(|o| repo::find_organisation(conn, &o))
        .transpose()?
        .flatten()
        .ok_or_else(|| {
            AppError::invalid(
                field,
                "unknown_organisation",
                format!("no organisation '{id}'"),
            )
        })?;
    if matches!(org.kind, OrgKind::CpuaAuthority | OrgKind::RegisterCentre) {
        return Err(AppError::invalid(
            field,
            "research_principal_kind",
            "a research principal is a university, a region, a company or another private body",
        ));
    }
    Ok(org.id)
}

/// Creates a collaboration in step 1 (preparation).
pub fn create(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    actor: &Actor,
    input: NewCollaborationInput,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Result<CollaborationView, AppError> {
    authz::may_create(actor)?;
    let mut e = Errors::default();
    let title = e.text("title", &input.title, TITLE_MAX);
    let purpose = e.text("purpose", &input.purpose, TEXT_MAX);
    let research_question = e.opt_text(
        "research_question",
        input.research_question.as_deref(),
        TEXT_MAX,
    );
    let variables = e.variables("requested_variables", &input.requested_variables);
    e.done()?;
    let company = match (&input.company, actor.role) {
        (None, Role::CompanyRepresentative) => actor.org.clone(),
        (Some(c), Role::CompanyRepresentative) if c != actor.org.as_str() => {
            return Err(AppError::invalid(
                "company",
                "own_company",
                "a company representative starts collaborations for their own company",
            ))
        }
        (Some(c), _) => OrgId::parse(c)
            .ok_or_else(|| AppError::invalid("company", "uuid", format!("'{c}' is not an id")))?,
        (None, _) => {
            return Err(AppError::invalid(
                "company",
                "required",
                "name the company taking part",
            ))
        }
    };
    let company_org = repo::find_organisation(conn, &company)?.ok_or_else(|| {
        AppError::invalid("company", "unknown_organisation", "no such organisation")
    })?;
    if company_org.kind != OrgKind::Company {
        return Err(AppError::invalid(
            "company",
            "company_kind",
            format!("{} is not a company", company_org.name),
        ));
    }
    let research_principal = input
        .research_principal
        .as_deref()
        .map(|p| principal(conn, "research_principal", p))
        .transpose()?;
    if actor.role == Role::ResearchPrincipalRepresentative
        && research_principal.as_ref() != Some(&actor.org)
    {
        return Err(AppError::invalid(
            "research_principal",
            "own_organisation",
            "a research-principal representative starts collaborations with their own organisation as principal",
        ));
    }
    let regs = registers(conn, "registers", &input.registers)?;
    let intake = match &input.intake {
        Some(v) => super::classification::parse_intake(v)?,
        None => Default::default(),
    };
    let principal_kind = match &research_principal {
        Some(p) => repo::find_organisation(conn, p)?.map(|o| o.kind),
        None => None,
    };
    let year = today.format("%Y").to_string();
    let n = repo::next_counter(conn, &format!("collaboration-{year}"))?;
    let mut c = Collaboration {
        id: CollaborationId::new(),
        reference: format!("SAM-{year}-{n:04}"),
        title,
        purpose,
        research_question,
        is_research: input.is_research,
        research_principal,
        company,
        registers: regs,
        requested_variables: variables,
        data_kind: input.data_kind,
        linkage: input.linkage,
        recipient_countries: input.recipient_countries,
        intake,
        classification: None,
        step: Step::Preparation,
        feasibility: None,
        ethics: None,
        cpua_reviews: vec![],
        agreement: None,
        cost_agreement: None,
        publications: vec![],
        report_back: None,
        disposal: None,
        amendments: vec![],
        internal_notes: vec![],
        withdrawal_reason: None,
        created_at: crate::domain::audit::truncate_micros(now),
        created_by: actor.account.clone(),
        closed_at: None,
    };
    c.classification = Some(super::classification::classify_collaboration(
        conn,
        rulebooks,
        &c,
        principal_kind,
        today,
        now,
    )?);
    repo::insert_collaboration(conn, &c, now)?;
    record(
        conn,
        &collaboration_stream(c.id.as_str()),
        actor,
        EventType::CollaborationCreated,
        None,
        Some(state_value(&c)?),
        now,
    )?;
    view(conn, actor, c, 1, now, today)
}

fn state_value(c: &Collaboration) -> Result<Value, AppError> {
    Ok(serde_json::to_value(c).map_err(anyhow::Error::from)?)
}

/// Loads what the domain needs besides the collaboration.
struct Loaded {
    scope: Scope,
    principal_kind: Option<OrgKind>,
    register_cpuas: BTreeMap<RegisterId, (OrgId, String)>,
}

fn load_context(conn: &mut DbConn, c: &Collaboration) -> Result<Loaded, AppError> {
    let register_cpuas = repo::current_cpuas(conn, &c.registers)?;
    let scope = Scope::of(c, register_cpuas.values().map(|(o, _)| o.clone()));
    let principal_kind = match &c.research_principal {
        Some(p) => repo::find_organisation(conn, p)?.map(|o| o.kind),
        None => None,
    };
    Ok(Loaded {
        scope,
        principal_kind,
        register_cpuas,
    })
}

fn load_visible(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
) -> Result<(Collaboration, i64, Loaded), AppError> {
    let not_found = || AppError::NotFound("collaboration".into());
    let id = CollaborationId::parse(id).ok_or_else(not_found)?;
    let (c, version) = repo::load_collaboration(conn, &id)?.ok_or_else(not_found)?;
    let loaded = load_context(conn, &c)?;
    if !authz::can_see(actor, &loaded.scope) {
        return Err(not_found());
    }
    Ok((c, version, loaded))
}

/// The obligations that gate the lifecycle: the stored classification's, with legal's overrides.
pub fn obligations(c: &Collaboration, principal_kind: Option<OrgKind>) -> Obligations {
    lifecycle::obligations(c, principal_kind)
}

/// Runs one command against a collaboration: authorize, load, domain, persist with audit.
#[allow(clippy::too_many_arguments)]
pub fn execute(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    actor: &Actor,
    id: &str,
    cmd: Command,
    expected_version: Option<i64>,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Result<CollaborationView, AppError> {
    let (c, version, loaded) = load_visible(conn, actor, id)?;
    let kind = cmd.kind();
    authz::may(actor, kind, &loaded.scope, cmd.cpua())?;
    if let Some(v) = expected_version {
        if v != version {
            return Err(AppError::PreconditionFailed(format!(
                "the collaboration has changed (version {version}, you sent {v}); reload and try again"
            )));
        }
    }
    // New registers or a new principal in a patch must exist before the domain sees them.
    let cmd = match cmd {
        Command::UpdateDetails(mut p) => {
            if let Some(regs) = p.registers.take() {
                let strs: Vec<String> = regs.iter().map(ToString::to_string).collect();
                p.registers = Some(registers(conn, "registers", &strs)?);
            }
            if let Some(Some(pr)) = &p.research_principal {
                principal(conn, "research_principal", pr.as_str())?;
            }
            Command::UpdateDetails(p)
        }
        other => other,
    };
    let ctx = Context {
        now,
        today,
        actor,
        principal_kind: loaded.principal_kind,
        register_cpuas: &loaded.register_cpuas,
        obligations: obligations(&c, loaded.principal_kind),
    };
    let mut next = lifecycle::execute(&c, cmd, &ctx)?;
    // Facts changed: classify again with the rulebook in force, keeping legal's overrides.
    let mut reclassified = None;
    if kind == CommandKind::UpdateDetails {
        let principal_kind = match &next.research_principal {
            Some(p) => repo::find_organisation(conn, p)?.map(|o| o.kind),
            None => None,
        };
        let rec = super::classification::classify_collaboration(
            conn,
            rulebooks,
            &next,
            principal_kind,
            today,
            now,
        )?;
        let changed = match &c.classification {
            Some(old) => super::classification::materially_differs(old, &rec),
            None => true,
        };
        if changed {
            reclassified = Some((c.classification.clone(), rec.clone()));
        }
        next.classification = Some(rec);
    }
    if !repo::update_collaboration(conn, &next, version, now)? {
        return Err(AppError::Conflict(
            "another change to this collaboration got there first; reload and try again".into(),
        ));
    }
    record(
        conn,
        &collaboration_stream(next.id.as_str()),
        actor,
        EventType::Command(kind),
        Some(state_value(&c)?),
        Some(state_value(&next)?),
        now,
    )?;
    if let Some((old, new)) = reclassified {
        record(
            conn,
            &collaboration_stream(next.id.as_str()),
            actor,
            EventType::ClassificationChanged,
            old.map(|o| serde_json::to_value(o).map_err(anyhow::Error::from))
                .transpose()?,
            Some(serde_json::to_value(new).map_err(anyhow::Error::from)?),
            now,
        )?;
    }
    view(conn, actor, next, version + 1, now, today)
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
                            "unknown_register",
                            format!("no register with id '{s}'"),
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

/// One command the actor might issue next, and whether it may now (nästa steg).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NextCommand {
    pub command: String,
    /// `transition` (POST …/transitions with `to`) or `action` (POST …/actions with `action`).
    pub kind: String,
    pub allowed: bool,
    pub reason: Option<String>,
    pub missing: Vec<String>,
    pub source: Option<String>,
}

/// A collaboration as one actor sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CollaborationView {
    #[schema(value_type = Object)]
    pub collaboration: Value,
    pub version: i64,
    pub step_number: Option<u8>,
    #[schema(value_type = Object)]
    pub obligations: Obligations,
    pub holding_up: Vec<HoldUp>,
    pub overdue: bool,
    pub next: Vec<NextCommand>,
}

/// Removes what the parties may not see from a state snapshot.
pub fn redact_for(actor: &Actor, mut v: Value) -> Value {
    if !authz::sees_internal(actor) {
        if let Some(o) = v.as_object_mut() {
            o.remove("internal_notes");
        }
    }
    v
}

fn view(
    conn: &mut DbConn,
    actor: &Actor,
    c: Collaboration,
    version: i64,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Result<CollaborationView, AppError> {
    let loaded = load_context(conn, &c)?;
    let ob = obligations(&c, loaded.principal_kind);
    let ctx = Context {
        now,
        today,
        actor,
        principal_kind: loaded.principal_kind,
        register_cpuas: &loaded.register_cpuas,
        obligations: ob,
    };
    let mut next = Vec::new();
    for kind in CommandKind::ALL {
        if !authz::roles_for(kind).contains(&actor.role) {
            continue;
        }
        let own = (actor.role.is_cpua_staff() && kind.is_per_cpua()).then_some(&actor.org);
        let check = authz::may(actor, kind, &loaded.scope, own)
            .map_err(|e| (e.to_string(), vec![], None))
            .and_then(|_| guard(&c, kind, own, &ctx).map_err(|r| (r.message, r.missing, r.source)));
        let (allowed, reason, missing, source) = match check {
            Ok(()) => (true, None, vec![], None),
            Err((m, miss, src)) => (false, Some(m), miss, src),
        };
        if kind == CommandKind::AddInternalNote && !allowed {
            continue;
        }
        next.push(NextCommand {
            command: kind.code().to_string(),
            kind: if kind.is_transition() {
                "transition"
            } else {
                "action"
            }
            .into(),
            allowed,
            reason,
            missing,
            source,
        });
    }
    let holding = holding_up(&c, today);
    Ok(CollaborationView {
        overdue: holding.iter().any(|h| h.overdue),
        holding_up: holding,
        step_number: c.step.number(),
        obligations: ob,
        next,
        version,
        collaboration: redact_for(actor, state_value(&c)?),
    })
}

pub fn get(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Result<CollaborationView, AppError> {
    let (c, version, _) = load_visible(conn, actor, id)?;
    view(conn, actor, c, version, now, today)
}

/// One line of a collaboration list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CollaborationSummary {
    pub id: String,
    pub reference: String,
    pub title: String,
    #[schema(value_type = String)]
    pub step: Step,
    pub step_number: Option<u8>,
    pub company: String,
    pub research_principal: Option<String>,
    pub registers: Vec<String>,
    pub holding_up: Vec<HoldUp>,
    pub overdue: bool,
    pub version: i64,
}

/// The filters of the list endpoint.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub step: Option<Step>,
    pub cpua: Option<OrgId>,
    pub register: Option<RegisterId>,
    pub overdue: bool,
    pub offset: i64,
    pub limit: i64,
}

pub fn list(
    conn: &mut DbConn,
    actor: &Actor,
    q: &ListQuery,
    today: NaiveDate,
) -> Result<(Vec<CollaborationSummary>, i64), AppError> {
    let visible = match actor.role {
        Role::Administrator => Visible::All,
        Role::CompanyRepresentative => Visible::Company(actor.org.clone()),
        Role::ResearchPrincipalRepresentative => Visible::Principal(actor.org.clone()),
        Role::RegisterHolder | Role::CpuaLegal | Role::Finance => Visible::Cpua(actor.org.clone()),
    };
    let filter = CollabFilter {
        step: q.step.map(|s| s.code().to_string()),
        cpua: q.cpua.clone(),
        register: q.register.clone(),
        overdue_on: q.overdue.then_some(today),
    };
    let (rows, total) = repo::list_collaborations(conn, &visible, &filter, q.offset, q.limit)?;
    let items = rows
        .into_iter()
        .map(|(c, version)| {
            let holding = holding_up(&c, today);
            CollaborationSummary {
                id: c.id.to_string(),
                reference: c.reference.clone(),
                title: c.title.clone(),
                step: c.step,
                step_number: c.step.number(),
                company: c.company.to_string(),
                research_principal: c.research_principal.as_ref().map(ToString::to_string),
                registers: c.registers.iter().map(ToString::to_string).collect(),
                overdue: holding.iter().any(|h| h.overdue),
                holding_up: holding,
                version,
            }
        })
        .collect();
    Ok((items, total))
}

/// An audit event as shown through the API.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventView {
    pub seq: i64,
    pub occurred_at: DateTime<Utc>,
    pub actor_name: String,
    pub actor_role: String,
    pub actor_org: Option<String>,
    pub command: String,
    pub visibility: String,
    #[schema(value_type = Option<Object>)]
    pub before: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub after: Option<Value>,
    pub hash: String,
    pub prev_hash: String,
}

/// The collaboration's events the actor may see, and the verdict on the whole chain.
pub fn events(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
) -> Result<(Vec<EventView>, super::audit::StreamReport), AppError> {
    let (c, _, _) = load_visible(conn, actor, id)?;
    let stream = collaboration_stream(c.id.as_str());
    let report = super::audit::verify_stream(conn, &stream)?;
    let internal = authz::sees_internal(actor);
    let events = repo::stream_events(conn, &stream)?
        .into_iter()
        .filter(|e| internal || e.visibility == crate::domain::audit::Visibility::Party)
        .map(|e| EventView {
            seq: e.seq,
            occurred_at: e.occurred_at,
            actor_name: e.actor_name,
            actor_role: e.actor_role,
            actor_org: e.actor_org,
            command: e.command,
            visibility: e.visibility.code().to_string(),
            before: e.before.map(|v| redact_for(actor, v)),
            after: e.after.map(|v| redact_for(actor, v)),
            hash: e.hash,
            prev_hash: e.prev_hash,
        })
        .collect();
    Ok((events, report))
}
