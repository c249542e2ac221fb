//! Collaboration commands and queries: authorize, load what the domain needs, ask the domain, and write the
//! new state with its audit event in one transaction.
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

use super::audit::{collaboration_stream, record};
use super::authz::{self, Scope};
use super::commands::{CommandInput, Errors, TEXT_MAX, TITLE_MAX};
use super::{AppError, FieldError};
use crate::db::repo::{self, CollabFilter, CollabSort, ListKey, Visible};
use crate::db::DbConn;
use crate::domain::agreement::evidence::AgreementVersionEvidence;
use crate::domain::classification::RulebookSet;
use crate::domain::collaboration::*;
use crate::domain::events::EventType;
use crate::domain::ids::{CollaborationId, OrgId, RegisterId};
use crate::domain::lifecycle::{
    self, guard, holding_up, obligations, Advice, Command, CommandKind, Context, HoldUp,
    Obligations, Step,
};
use crate::domain::organisation::OrgKind;
use crate::domain::register::RegisterFacts;
use crate::domain::role::{Actor, Role};
use crate::domain::text::CountryCode;

pub use super::commands::patch_command;
pub use super::commands::{ActionInput, DossierInput, PatchInput, TransitionInput};

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
    #[schema(value_type = Option<crate::app::classification::IntakeFacts>)]
    pub intake: Option<Value>,
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
                crate::msg!("unknown_register", id = s),
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
        .ok_or_else(|| AppError::invalid(field, crate::msg!("unknown_organisation", id = id)))?;
    if matches!(org.kind, OrgKind::CpuaAuthority | OrgKind::RegisterCentre) {
        return Err(AppError::invalid(
            field,
            crate::msg!("research_principal_kind"),
        ));
    }
    Ok(org.id)
}

/// Creates a collaboration in step 1 (preparation), in the caller's one transaction.
pub fn create(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    actor: &Actor,
    input: NewCollaborationInput,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Result<CollaborationView, AppError> {
    let c = prepare_create(conn, rulebooks, actor, input, now, today)?;
    let c = store_created(conn, actor, c, today, now)?;
    created_view(conn, rulebooks, actor, c, now, today)
}

/// The reads and decisions of a create, before anything is written: checks the input and the
/// caller's right, loads the organisations and registers, and classifies. The collaboration it
/// returns has no reference yet ([`store_created`] numbers it). Run it outside the write
/// transaction, so that the single SQLite writer is held only for the write itself.
pub fn prepare_create(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    actor: &Actor,
    input: NewCollaborationInput,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Result<Collaboration, AppError> {
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
            return Err(AppError::invalid("company", crate::msg!("own_company")))
        }
        (Some(c), _) => OrgId::parse(c)
            .ok_or_else(|| AppError::invalid("company", crate::msg!("uuid", value = c)))?,
        (None, _) => {
            return Err(AppError::invalid(
                "company",
                crate::msg!("required.company"),
            ))
        }
    };
    let company_org = repo::find_organisation(conn, &company)?
        .ok_or_else(|| AppError::invalid("company", crate::msg!("unknown_organisation.no_such")))?;
    if company_org.kind != OrgKind::Company {
        return Err(AppError::invalid(
            "company",
            crate::msg!("company_kind", name = company_org.name),
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
            crate::msg!("own_organisation"),
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
    let mut c = Collaboration {
        state_version: STATE_VERSION,
        id: CollaborationId::new(),
        reference: String::new(),
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
        feasibility: vec![],
        ethics: None,
        cpua_reviews: vec![],
        linkage_reviews: vec![],
        evidence: ObligationEvidence::default(),
        passed_warnings: vec![],
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
    Ok(c)
}

/// The write of a create, in one write transaction: numbers the prepared collaboration with the
/// year's next reference, stores it with its projections, and records its creation event.
pub fn store_created(
    conn: &mut DbConn,
    actor: &Actor,
    mut c: Collaboration,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Collaboration, AppError> {
    let year = today.format("%Y").to_string();
    let n = repo::next_counter(conn, &format!("collaboration-{year}"))?;
    c.reference = format!("SAM-{year}-{n:04}");
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
    Ok(c)
}

/// The creator's view of a collaboration just stored (version 1); a read, after the write.
pub fn created_view(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    actor: &Actor,
    c: Collaboration,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Result<CollaborationView, AppError> {
    view(conn, rulebooks, actor, c, 1, now, today)
}

/// The state as stored (compact classification): what events diff and hash.
fn state_value(c: &Collaboration) -> Result<Value, AppError> {
    Ok(crate::domain::state::to_stored(c).map_err(anyhow::Error::from)?)
}

/// The state as shown in the view, with the whole classification.
fn view_value(c: &Collaboration) -> Result<Value, AppError> {
    Ok(serde_json::to_value(c).map_err(anyhow::Error::from)?)
}

/// What the domain needs besides the collaboration, loaded once per command or read.
struct Loaded {
    scope: Scope,
    principal_kind: Option<OrgKind>,
    registers: BTreeMap<RegisterId, RegisterFacts>,
    obligations: Obligations,
    /// An active named data user gives the dossier's fifth item (issue 16 item 6).
    data_users_named: bool,
}

fn load_context(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    c: &Collaboration,
) -> Result<Loaded, AppError> {
    let cpuas = repo::current_cpuas(conn, &c.registers)?;
    let scope = Scope::of(c, cpuas.values().map(|(o, _)| o.clone()));
    let principal_kind = match &c.research_principal {
        Some(p) => repo::find_organisation(conn, p)?.map(|o| o.kind),
        None => None,
    };
    let delegations = repo::delegations(conn, &c.registers)?;
    // All the registers in one query, whatever their number.
    let mut found: BTreeMap<RegisterId, crate::domain::register::Register> =
        repo::find_registers(conn, &c.registers)?
            .into_iter()
            .map(|r| (r.id.clone(), r))
            .collect();
    let mut registers = BTreeMap::new();
    for r in &c.registers {
        let (Some(reg), Some((cpua, cpua_name))) = (found.remove(r), cpuas.get(r)) else {
            continue;
        };
        registers.insert(
            r.clone(),
            RegisterFacts {
                name: reg.name,
                cpua: cpua.clone(),
                cpua_name: cpua_name.clone(),
                patient_information_covers_research: reg.patient_information_covers_research,
                delegations: delegations
                    .iter()
                    .filter(|d| &d.register == r)
                    .cloned()
                    .collect(),
            },
        );
    }
    let rulebook = c
        .classification
        .as_ref()
        .and_then(|rec| rulebooks.by_version(&rec.result.rulebook_version))
        .map(|b| b.as_ref());
    Ok(Loaded {
        scope,
        principal_kind,
        registers,
        obligations: Obligations::build(c, rulebook),
        data_users_named: super::data_users::dossier_item_given(conn, c.id.as_str())?,
    })
}

fn load_visible(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    actor: &Actor,
    id: &str,
) -> Result<(Collaboration, i64, Loaded), AppError> {
    let not_found = || AppError::NotFound(crate::msg!("thing.collaboration"));
    let id = CollaborationId::parse(id).ok_or_else(not_found)?;
    let (c, version) = repo::load_collaboration(conn, rulebooks, &id)?.ok_or_else(not_found)?;
    let loaded = load_context(conn, rulebooks, &c)?;
    if !authz::can_see(actor, &loaded.scope) {
        return Err(not_found());
    }
    Ok((c, version, loaded))
}

/// The collaboration, when the actor may see it (404 otherwise), for reads of other modules.
pub(crate) fn visible(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    actor: &Actor,
    id: &str,
) -> Result<Collaboration, AppError> {
    load_visible(conn, rulebooks, actor, id).map(|(c, _, _)| c)
}

/// The collaboration and whom it concerns, when the actor may see it (404 otherwise), for the
/// authorization of other modules' commands (documents, issue 16).
pub(crate) fn visible_with_scope(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    actor: &Actor,
    id: &str,
) -> Result<(Collaboration, Scope), AppError> {
    load_visible(conn, rulebooks, actor, id).map(|(c, _, l)| (c, l.scope))
}

/// The organisation a command acts for, for authorization: the CPUA track, or for a feasibility answer
/// the register's current CPUA (each register holder answers for their own register).
fn target_org(cmd: &Command, loaded: &Loaded) -> Option<OrgId> {
    cmd.cpua().cloned().or_else(|| {
        cmd.register()
            .and_then(|r| loaded.registers.get(r))
            .map(|f| f.cpua.clone())
    })
}

/// The agreement version a command names, as stored.
fn named_version(
    conn: &mut DbConn,
    c: &Collaboration,
    cmd: &Command,
) -> Result<Option<AgreementVersionEvidence>, AppError> {
    match cmd {
        Command::ToAgreement { version, .. }
        | Command::RecordAmendmentAgreement { version, .. } => match i32::try_from(*version) {
            Ok(n) => super::agreements::version_evidence(conn, c, n),
            Err(_) => Ok(None),
        },
        // The release guard reads the recorded agreement's version and its evidence as stored now.
        Command::ToDataRelease { .. } => {
            match c.agreement.as_ref().map(|a| i32::try_from(a.version)) {
                Some(Ok(n)) => super::agreements::version_evidence(conn, c, n),
                _ => Ok(None),
            }
        }
        _ => Ok(None),
    }
}

/// Runs one command against a collaboration: authorize, load, domain, persist with audit.
#[allow(clippy::too_many_arguments)]
pub fn execute(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    actor: &Actor,
    id: &str,
    input: CommandInput,
    expected_version: Option<i64>,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Result<CollaborationView, AppError> {
    if let Some(cid) = CollaborationId::parse(id) {
        repo::lock_collaboration(conn, &cid)?;
    }
    let (c, version, loaded) = load_visible(conn, rulebooks, actor, id)?;
    authz::may(
        actor,
        input.command.kind(),
        &loaded.scope,
        target_org(&input.command, &loaded).as_ref(),
    )?;
    let at = LoadedCase { c, version, loaded };
    run_loaded(
        conn,
        rulebooks,
        actor,
        at,
        input,
        expected_version,
        now,
        today,
    )
}

/// Runs one of the system's own commands (the scheduler's, [`CommandKind::is_system`]) as the system
/// actor: the same domain, audit, projection and notices as a person's command, without the role check
/// no person passes. `Ok(None)` when the collaboration is gone.
pub fn execute_system(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    id: &CollaborationId,
    cmd: Command,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Result<Option<CollaborationView>, AppError> {
    if !cmd.kind().is_system() {
        return Err(AppError::Internal(anyhow::anyhow!(
            "{} is not a system command",
            cmd.kind().code()
        )));
    }
    repo::lock_collaboration(conn, id)?;
    let Some((c, version)) = repo::load_collaboration(conn, rulebooks, id)? else {
        return Ok(None);
    };
    let loaded = load_context(conn, rulebooks, &c)?;
    let actor = super::audit::system_actor();
    let at = LoadedCase { c, version, loaded };
    run_loaded(
        conn,
        rulebooks,
        &actor,
        at,
        CommandInput::from(cmd),
        None,
        now,
        today,
    )
    .map(Some)
}

/// A collaboration as loaded for a command: its state, stored version and context.
struct LoadedCase {
    c: Collaboration,
    version: i64,
    loaded: Loaded,
}

/// The part of a command after authorization: the domain, then the state, audit event, projection and
/// notices in the caller's transaction.
#[allow(clippy::too_many_arguments)]
fn run_loaded(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    actor: &Actor,
    at: LoadedCase,
    input: CommandInput,
    expected_version: Option<i64>,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Result<CollaborationView, AppError> {
    let LoadedCase { c, version, loaded } = at;
    let CommandInput {
        command: cmd,
        acknowledge,
    } = input;
    let kind = cmd.kind();
    if let Some(v) = expected_version {
        if v != version {
            return Err(AppError::PreconditionFailed(crate::msg!(
                "precondition_failed.version",
                version = version,
                sent = v
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
    let version_evidence = named_version(conn, &c, &cmd)?;
    let ctx = Context {
        now,
        today,
        actor,
        principal_kind: loaded.principal_kind,
        registers: &loaded.registers,
        obligations: &loaded.obligations,
        agreement_version: version_evidence.as_ref(),
        acknowledged: &acknowledge,
        data_users_named: loaded.data_users_named,
    };
    let lifecycle::Executed {
        state: mut next,
        events,
    } = lifecycle::execute(&c, cmd, &ctx)?;
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
        return Err(AppError::RaceLost(crate::msg!("race_lost.collaboration")));
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
        super::audit::record_payload(
            conn,
            &collaboration_stream(next.id.as_str()),
            actor,
            EventType::ClassificationChanged,
            crate::domain::audit::Payload {
                before: old
                    .map(|o| serde_json::to_value(o).map_err(anyhow::Error::from))
                    .transpose()?,
                after: Some(serde_json::to_value(new).map_err(anyhow::Error::from)?),
                state: Some(state_value(&next)?),
                files: Default::default(),
            },
            now,
        )?;
    }
    // The notices of the events, in this same transaction: none for a change that rolls back.
    super::notify::enqueue(conn, &next, &events, &loaded.registers, now)?;
    // The outbound events (webhooks) of the organisations on the case, in the same transaction.
    super::webhooks_out::enqueue(conn, &next, &events, &loaded.registers, now)?;
    view(conn, rulebooks, actor, next, version + 1, now, today)
}

/// One command the actor might issue next, and whether it may now (nästa steg).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NextCommand {
    pub command: String,
    /// `transition` (POST …/transitions with `to`) or `action` (POST …/actions with `action`).
    pub kind: String,
    pub allowed: bool,
    /// The rule that refuses it now, as a stable code.
    pub rule: Option<&'static str>,
    /// Why it is refused (or, for a decision, what an approval waits for), in Swedish and English.
    pub reason: Option<crate::domain::lang::Bilingual>,
    pub missing: Vec<String>,
    pub source: Option<crate::domain::sources::Source>,
    /// Obligations not yet met that the command is waiting for (or, for a decision, that an approval
    /// is waiting for), each with its evidence and source.
    pub obligations: Vec<lifecycle::UnmetObligation>,
    /// "Bör" warnings: the command may go on when each is passed with a reason in `acknowledge`.
    pub warnings: Vec<Advice>,
    /// "Gärna" prompts: welcome, never required.
    pub prompts: Vec<Advice>,
}

/// An obligation in force and whether its evidence is there yet.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ObligationStatus {
    #[serde(flatten)]
    pub obligation: lifecycle::EffectiveObligation,
    pub met: bool,
    pub missing: Vec<String>,
}

/// A collaboration as one actor sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CollaborationView {
    #[schema(value_type = Object)]
    pub collaboration: Value,
    pub version: i64,
    pub step_number: Option<u8>,
    /// The obligations in force, with the step each gates and whether it is met.
    pub obligations: Vec<ObligationStatus>,
    /// Agreement (avtal) or decision (beslut).
    pub instrument: Option<String>,
    pub holding_up: Vec<HoldUp>,
    pub overdue: bool,
    pub next: Vec<NextCommand>,
    /// Which documents (that the reader sees, not redacted) satisfy which dossier item
    /// (`dossier.<item>`) or obligation (issue 16). Shown only: no guard reads it.
    pub satisfied_by: Vec<super::documents::SatisfyingDocument>,
}

/// Removes from a state snapshot what the actor may not see: internal notes of other organisations (an
/// internal note is seen only inside the organisation that wrote it), and for the parties the CPUA's
/// internal recommendations.
pub fn redact_for(actor: &Actor, mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        if let Some(Value::Array(notes)) = o.get_mut("internal_notes") {
            notes.retain(|n| n.get("org").and_then(Value::as_str) == Some(actor.org.as_str()));
        }
        if actor.role.is_party() {
            if let Some(Value::Array(reviews)) = o.get_mut("cpua_reviews") {
                for r in reviews.iter_mut().filter_map(Value::as_object_mut) {
                    r.remove("recommendation");
                }
            }
        }
    }
    v
}

/// The newest agreement version, for what `next` says of recording the agreement.
fn latest_version(
    conn: &mut DbConn,
    c: &Collaboration,
) -> Result<Option<AgreementVersionEvidence>, AppError> {
    match super::agreements::latest_number(conn, c)? {
        Some(n) => super::agreements::version_evidence(conn, c, n),
        None => Ok(None),
    }
}

#[allow(clippy::too_many_arguments)]
fn view(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    actor: &Actor,
    c: Collaboration,
    version: i64,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Result<CollaborationView, AppError> {
    let loaded = load_context(conn, rulebooks, &c)?;
    view_loaded(conn, actor, c, version, loaded, now, today)
}

/// The view of a collaboration whose context is already loaded (a read loads it once, to authorize
/// and to build the view).
#[allow(clippy::too_many_arguments)]
fn view_loaded(
    conn: &mut DbConn,
    actor: &Actor,
    c: Collaboration,
    version: i64,
    loaded: Loaded,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Result<CollaborationView, AppError> {
    let latest = latest_version(conn, &c)?;
    let ctx = Context {
        now,
        today,
        actor,
        principal_kind: loaded.principal_kind,
        registers: &loaded.registers,
        obligations: &loaded.obligations,
        agreement_version: latest.as_ref(),
        acknowledged: &[],
        data_users_named: loaded.data_users_named,
    };
    let mut next = Vec::new();
    for &kind in CommandKind::ALL {
        if !authz::roles_for(kind).contains(&actor.role) {
            continue;
        }
        // A CPUA's staff act on their own track; a register holder answers for their own registers.
        let own = (actor.role.is_cpua_staff()
            && (kind.is_per_cpua() || kind == CommandKind::RecordFeasibility))
            .then_some(&actor.org);
        let check = match authz::may(actor, kind, &loaded.scope, own) {
            Err(e) => Err(lifecycle::Refusal::precondition(crate::msg!(
                "forbidden",
                reason = e.to_string()
            ))),
            Ok(()) => guard(&c, kind, own, &ctx),
        };
        let (allowed, rule, reason, mut missing, source, mut unmet) = match check {
            Ok(()) => (true, None, None, vec![], None, vec![]),
            Err(r) => (
                false,
                Some(r.rule),
                Some(r.message.bilingual()),
                r.missing,
                r.source,
                r.obligations,
            ),
        };
        if kind == CommandKind::AddInternalNote && !allowed {
            continue;
        }
        let mut reason = reason;
        if allowed && kind == CommandKind::ToReleaseDecision {
            // A refusal is always possible; say what an approval still waits for.
            unmet = obligations::unmet(&c, kind, own, &ctx);
            if !unmet.is_empty() {
                missing = unmet.iter().flat_map(|u| u.missing.clone()).collect();
                reason = Some(crate::msg!("approval_waits").bilingual());
            }
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
            rule,
            reason,
            missing,
            source,
            obligations: unmet,
            warnings: if allowed {
                lifecycle::warnings(&c, kind, own, &ctx)
            } else {
                vec![]
            },
            prompts: if allowed {
                lifecycle::prompts(&c, kind)
            } else {
                vec![]
            },
        });
    }
    let statuses = loaded
        .obligations
        .in_force
        .iter()
        .map(|o| {
            let kind =
                CommandKind::performing_step(o.gates_step).unwrap_or(CommandKind::ToDataRelease);
            let result = obligations::evidence(o.code, &c, kind, None, &ctx);
            ObligationStatus {
                obligation: o.clone(),
                met: result.is_ok(),
                missing: result.err().unwrap_or_default(),
            }
        })
        .collect();
    let holding = holding_up(&c, today);
    let satisfied_by = super::documents::satisfying(conn, actor, &c)?;
    Ok(CollaborationView {
        satisfied_by,
        overdue: holding.iter().any(|h| h.overdue),
        holding_up: holding,
        step_number: c.step.number(),
        instrument: loaded
            .obligations
            .instrument
            .map(|i| i.as_str().to_string()),
        obligations: statuses,
        next,
        version,
        collaboration: redact_for(actor, view_value(&c)?),
    })
}

pub fn get(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    actor: &Actor,
    id: &str,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Result<CollaborationView, AppError> {
    let (c, version, loaded) = load_visible(conn, rulebooks, actor, id)?;
    view_loaded(conn, actor, c, version, loaded, now, today)
}

/// The caller's view of a collaboration as JSON, if one built for this caller is still kept
/// ([`super::views`]): no database work, so the caller can ask before taking a connection.
pub fn kept_rendered(
    views: &super::views::ViewCache,
    actor: &Actor,
    id: &str,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Option<std::sync::Arc<super::views::RenderedView>> {
    views.get(super::views::Subject::Collaboration(id), actor, now, today)
}

/// The caller's view of a collaboration as JSON: the kept one ([`kept_rendered`]), or else built in
/// one read transaction and kept for the next reads.
#[allow(clippy::too_many_arguments)]
pub fn get_rendered(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    views: &super::views::ViewCache,
    actor: &Actor,
    id: &str,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Result<std::sync::Arc<super::views::RenderedView>, AppError> {
    if let Some(v) = kept_rendered(views, actor, id, now, today) {
        return Ok(v);
    }
    // The generation before anything is read: a write after this point makes the view built here stale.
    let generation = views.generation();
    let view = diesel::Connection::transaction(conn, |c| get(c, rulebooks, actor, id, now, today))?;
    let rendered = std::sync::Arc::new(super::views::RenderedView {
        version: view.version,
        body: serde_json::to_vec(&view)
            .map_err(anyhow::Error::from)?
            .into(),
    });
    // Kept under the id as asked, which is what the next read of it looks up.
    views.put(
        super::views::Subject::Collaboration(id),
        actor,
        generation,
        now,
        today,
        rendered.clone(),
    );
    Ok(rendered)
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

/// The filters, order and position of the list endpoint.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub step: Option<Step>,
    pub cpua: Option<OrgId>,
    pub register: Option<RegisterId>,
    pub overdue: bool,
    /// Only collaborations of this type in force.
    pub collaboration_type: Option<crate::domain::classification::CollaborationType>,
    /// Issue 16: the CPUA's own case number (diarienummer), exact match.
    pub case_number: Option<String>,
    /// Issue 16: only cases whose handling lawyer is this account (`assigned=mine`).
    pub assignee: Option<String>,
    /// Issue 12: title or reference contains this text (folded to lower case; `db::lists::fold`).
    pub search: Option<String>,
    pub sort: CollabSort,
    /// The sort key of the last row of the previous page.
    pub after: Option<ListKey>,
    pub limit: i64,
}

impl Default for ListQuery {
    fn default() -> Self {
        ListQuery {
            step: None,
            cpua: None,
            register: None,
            overdue: false,
            collaboration_type: None,
            case_number: None,
            assignee: None,
            search: None,
            sort: CollabSort::Newest,
            after: None,
            limit: 50,
        }
    }
}

/// What the actor may see, as the list's filter (the rule of `authz::can_see`).
fn visible_to(actor: &Actor) -> Visible {
    match actor.role {
        Role::Administrator => Visible::All,
        Role::CompanyRepresentative => Visible::Company(actor.org.clone()),
        Role::ResearchPrincipalRepresentative => Visible::Principal(actor.org.clone()),
        Role::RegisterHolder | Role::CpuaLegal | Role::Finance => Visible::Cpua(actor.org.clone()),
    }
}

impl ListQuery {
    /// Names the list a cursor belongs to: the order, every filter, and whose view it is (role and
    /// organisation decide what is visible). The day matters for `overdue`.
    pub fn fingerprint(&self, actor: &Actor, today: NaiveDate) -> String {
        format!(
            "collaborations|sort={}|step={}|cpua={}|register={}|overdue={}|role={}|org={}|type={}",
            self.sort.code(),
            self.step.map(|s| s.code()).unwrap_or(""),
            self.cpua.as_ref().map(OrgId::as_str).unwrap_or(""),
            self.register.as_ref().map(RegisterId::as_str).unwrap_or(""),
            if self.overdue {
                today.to_string()
            } else {
                String::new()
            },
            actor.role.code(),
            actor.org.as_str(),
            self.collaboration_type.map(|t| t.as_str()).unwrap_or(""),
        ) + &format!(
            "|case_number={}|assignee={}|q={}",
            self.case_number.as_deref().unwrap_or(""),
            self.assignee.as_deref().unwrap_or(""),
            self.search.as_deref().unwrap_or("")
        )
    }

    /// How many strings a cursor of this list carries.
    pub const KEY_PARTS: usize = 2;

    /// The sort key from a cursor's strings; `None` when they do not fit this list's order.
    pub fn key_from(&self, parts: &[String]) -> Option<ListKey> {
        let [a, id] = parts else { return None };
        CollaborationId::parse(id)?;
        match self.sort {
            CollabSort::Newest => crate::db::lists::parse_key_time(a)
                .map(|at| ListKey::Created { at, id: id.clone() }),
            CollabSort::Due => a
                .parse::<NaiveDate>()
                .ok()
                .map(|on| ListKey::Due { on, id: id.clone() }),
        }
    }

    /// A sort key as a cursor's strings.
    pub fn key_parts(key: &ListKey) -> Vec<String> {
        match key {
            ListKey::Created { at, id } => {
                vec![crate::db::lists::key_time(at), id.clone()]
            }
            ListKey::Due { on, id } => vec![on.to_string(), id.clone()],
        }
    }
}

/// One page of the collaborations the actor may see, the count (up to the cap + 1), and the sort key
/// of the last row when another page follows.
pub fn list(
    conn: &mut DbConn,
    actor: &Actor,
    q: &ListQuery,
    today: NaiveDate,
) -> Result<(Vec<CollaborationSummary>, i64, Option<ListKey>), AppError> {
    let visible = visible_to(actor);
    let filter = CollabFilter {
        step: q.step.map(|s| s.code().to_string()),
        cpua: q.cpua.clone(),
        register: q.register.clone(),
        overdue_on: q.overdue.then_some(today),
        collaboration_type: q.collaboration_type.map(|t| t.as_str().to_string()),
        case_number: q.case_number.clone(),
        assignee: q.assignee.clone(),
        search: q.search.clone(),
    };
    // One row more than the page says whether another page follows.
    let mut rows = repo::list_collaborations(
        conn,
        &visible,
        &filter,
        q.sort,
        q.after.as_ref(),
        q.limit + 1,
    )?;
    let more = rows.len() as i64 > q.limit;
    rows.truncate(q.limit.max(0) as usize);
    let next = if more {
        rows.last().map(|(_, _, k)| k.clone())
    } else {
        None
    };
    let total = crate::db::lists::count_collaborations(conn, &visible, &filter, q.sort)?;
    let items = rows
        .into_iter()
        .map(|(c, version, _)| {
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
    Ok((items, total, next))
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
    /// The event schema version (1: the first release's full snapshots, converted when read).
    pub schema_version: i32,
    /// What the event changed: an RFC 6902 JSON patch from the value before to the value after
    /// (creation is one `add` at the root path `""`), redacted for the reader.
    #[schema(value_type = Vec<Object>)]
    pub change: Value,
    /// SHA-256 of the collaboration's state after the event (version 2).
    pub state_hash: Option<String>,
    /// Every file the event stored: name → SHA-256 (version 2).
    pub files: std::collections::BTreeMap<String, String>,
    pub hash: String,
    pub prev_hash: String,
}

/// The collaboration's events the actor may see, and the verdict on the whole chain. Parties see the
/// party-visible events; an internal event is seen only inside the organisation that wrote it. The count
/// and the broken link, if any, speak only of the events shown.
pub fn events(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    actor: &Actor,
    id: &str,
    key: Option<&super::checkpoint::PublicKey>,
) -> Result<(Vec<EventView>, super::audit::StreamReport), AppError> {
    let (c, _, _) = load_visible(conn, rulebooks, actor, id)?;
    let stream = collaboration_stream(c.id.as_str());
    let mut report = super::audit::verify_stream(conn, &stream, key)?;
    let events: Vec<EventView> = repo::stream_events(conn, &stream)?
        .into_iter()
        .filter(|e| authz::sees_event(actor, e.visibility, e.actor_org.as_deref()))
        .map(|e| EventView {
            change: crate::domain::audit::change::redact(&e.change_ops(), |v| redact_for(actor, v)),
            seq: e.seq,
            occurred_at: e.occurred_at,
            actor_name: e.actor_name,
            actor_role: e.actor_role,
            actor_org: e.actor_org,
            command: e.command,
            visibility: e.visibility.code().to_string(),
            schema_version: e.schema_version,
            state_hash: e.state_hash,
            files: e.files,
            hash: e.hash,
            prev_hash: e.prev_hash,
        })
        .collect();
    report.events = events.len();
    // A broken link of the chain is named only at an event shown; what the chain vouches for (state,
    // files, checkpoints) concerns the whole collaboration.
    report
        .findings
        .retain(|b| b.check != "chain" || events.iter().any(|e| e.seq == b.seq));
    report.first_broken_link = report.findings.first().cloned();
    Ok((events, report))
}

/// A line of the trail as the case page lists it (issue 12): who did what and when.
#[derive(Debug, Clone)]
pub struct TrailLineView {
    pub seq: i64,
    pub occurred_at: DateTime<Utc>,
    pub actor_name: String,
    pub actor_role: String,
    pub command: String,
}

/// The trail lines of a collaboration the actor may see (404 otherwise), in order, by the same
/// visibility rule as [`events`]; without the changes and without verifying the chain, which the
/// events route does, so that a page listing the trail costs one indexed read.
pub fn trail_lines(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    actor: &Actor,
    id: &str,
) -> Result<Vec<TrailLineView>, AppError> {
    let (c, _, _) = load_visible(conn, rulebooks, actor, id)?;
    Ok(
        repo::stream_trail(conn, &collaboration_stream(c.id.as_str()))?
            .into_iter()
            .filter(|e| authz::sees_event(actor, e.visibility(), e.actor_org.as_deref()))
            .map(|e| TrailLineView {
                seq: e.seq,
                occurred_at: repo::utc(e.occurred_at),
                actor_name: e.actor_name,
                actor_role: e.actor_role,
                command: e.command,
            })
            .collect(),
    )
}

/// Rebuilds every collaboration's projection rows (registers, CPUA reviews and due dates, step, title)
/// from its stored state, upcasting older state versions as it reads them. Returns how many were rebuilt.
/// The state itself and the audit trail are left as they are.
pub fn reproject_all(conn: &mut DbConn, rulebooks: &RulebookSet) -> Result<usize, AppError> {
    let mut after: Option<String> = None;
    let mut n = 0;
    loop {
        let ids = repo::collaboration_ids(conn, after.as_deref(), 500)?;
        let Some(last) = ids.last().cloned() else {
            break;
        };
        for id in ids {
            let cid = CollaborationId::from_db(id);
            if let Some((c, _)) = repo::load_collaboration(conn, rulebooks, &cid)? {
                repo::reproject(conn, &c)?;
                n += 1;
            }
        }
        after = Some(last);
    }
    Ok(n)
}
