//! Case handling for CPUA legal teams (issue 16, items 2-5): completion requests (komplettering),
//! consultations (remisser), the handling lawyer, the CPUA's own case number (diarienummer) and each
//! person's to-do list. Every command is one transaction with its audit event.
//!
//! - A completion request goes through the lifecycle (`return_for_completion`, then
//!   `resubmit_application` with the answer), so the decision clock and the decision's guard live in
//!   `domain::lifecycle::completion`; this module keeps the items, the answers and the snapshots of the
//!   application at the request and at the resubmission, from which the field diff is read.
//! - A consultation of the DPO is the evidence of the "bör" in seed 000, "Menprövning av centralt
//!   personuppgiftsansvarig myndighet (CPUA)" ("bör alltid kontakta CPUA-myndighetens
//!   dataskyddsombud"): its answer day is what a delegate gives as `dpo_consulted_on` in the decision.
//!   The grade stays a "bör" (a warning), never a block.
//! - The to-do list is derived from the states and the tables here: no second source of truth.
//!
//! Which documents were added between request and resubmission: [`documents_added`], the
//! party-visible uploads in between.
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

use super::audit::record_case_event;
use super::collaborations::{self, CollaborationView};
use super::commands::CommandInput;
use super::AppError;
use crate::db::casework as store;
use crate::db::repo::{ts, utc};
use crate::db::DbConn;
use crate::domain::classification::RulebookSet;
use crate::domain::collaboration::Collaboration;
use crate::domain::document::DocumentVisibility;
use crate::domain::events::EventType;
use crate::domain::ids::OrgId;
use crate::domain::lifecycle::Command;
use crate::domain::messages::Message;
use crate::domain::role::{Actor, Role};

/// The fields of the application a completion may change, compared between request and resubmission.
const APPLICATION_FIELDS: &[&str] = &[
    "title",
    "purpose",
    "research_question",
    "is_research",
    "research_principal",
    "registers",
    "requested_variables",
    "data_kind",
    "linkage",
    "recipient_countries",
    "intake",
];

const MAX_TEXT: usize = 4000;

fn text(field: &str, v: &str) -> Result<String, AppError> {
    text_at_most(field, v, MAX_TEXT)
}

/// A required free text of at most `max` characters, trimmed; the error names `field`.
pub(crate) fn text_at_most(field: &str, v: &str, max: usize) -> Result<String, AppError> {
    let t = v.trim();
    if t.is_empty() {
        return Err(AppError::invalid(
            field,
            crate::msg!("casework.text_required"),
        ));
    }
    if t.chars().count() > max {
        return Err(AppError::invalid(
            field,
            crate::msg!("casework.text_too_long", max = max),
        ));
    }
    Ok(t.to_string())
}

fn json_err(e: serde_json::Error) -> AppError {
    AppError::Internal(anyhow::anyhow!("casework JSON: {e}"))
}

fn corrupt(what: &str, e: serde_json::Error) -> AppError {
    AppError::Internal(anyhow::anyhow!("stored {what} is corrupt: {e}"))
}

/// The CPUA's own case number: 1 to 64 visible characters (letters, digits, `-/.:_ `).
pub fn parse_case_number(v: &str) -> Result<String, Message> {
    let t = v.trim();
    let ok = !t.is_empty()
        && t.chars().count() <= 64
        && t.chars()
            .all(|ch| ch.is_alphanumeric() || "-/.:_ ".contains(ch));
    if ok {
        Ok(t.to_string())
    } else {
        Err(crate::msg!("casework.case_number"))
    }
}

/// The application's fields as they stand now, for a snapshot.
fn application_snapshot(c: &Collaboration) -> Result<Value, AppError> {
    let full = serde_json::to_value(c).map_err(json_err)?;
    let mut out = Map::new();
    for f in APPLICATION_FIELDS {
        out.insert(f.to_string(), full.get(*f).cloned().unwrap_or(Value::Null));
    }
    Ok(Value::Object(out))
}

/// The CPUAs of the collaboration now (the register's current CPUA) and those with a track.
fn cpuas_of(conn: &mut DbConn, c: &Collaboration) -> Result<BTreeSet<OrgId>, AppError> {
    let mut s: BTreeSet<OrgId> = crate::db::repo::current_cpuas(conn, &c.registers)?
        .into_values()
        .map(|(o, _)| o)
        .collect();
    s.extend(c.cpua_reviews.iter().map(|r| r.cpua.clone()));
    Ok(s)
}

/// CPUA legal of a CPUA of this case (a consultation, the lawyer, the case number).
fn legal_of(conn: &mut DbConn, actor: &Actor, c: &Collaboration) -> Result<OrgId, AppError> {
    super::authz::may_handle_case(actor, &cpuas_of(conn, c)?)?;
    Ok(actor.org.clone())
}

// ---------------------------------------------------------------------------------------------
// Completion requests

/// One item asked for: free text, optionally naming the field of the application it concerns.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CompletionItem {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// CPUA legal returns its track's application for completion.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct CompletionInput {
    /// The CPUA whose track is returned.
    pub cpua: String,
    pub items: Vec<CompletionItem>,
    pub due_on: NaiveDate,
}

/// The answer to one item, by its position (0, 1, …) in the request.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ItemAnswer {
    pub item: usize,
    pub text: String,
}

/// The parties answer the request and resubmit the application (the fields themselves are changed
/// beforehand through `PATCH /api/v1/collaborations/{id}`).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct CompletionAnswerInput {
    pub answers: Vec<ItemAnswer>,
}

/// One field of the application that changed between the request and the resubmission.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FieldChange {
    pub field: String,
    #[schema(value_type = Object)]
    pub before: Value,
    #[schema(value_type = Object)]
    pub after: Value,
}

/// A completion request as shown.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CompletionView {
    pub id: String,
    pub collaboration_id: String,
    pub cpua: String,
    pub items: Vec<CompletionItem>,
    pub due_on: NaiveDate,
    pub requested_at: DateTime<Utc>,
    pub requested_by: String,
    /// `open` or `answered`.
    pub status: String,
    pub answers: Vec<ItemAnswer>,
    pub answered_at: Option<DateTime<Utc>>,
    /// What changed in the application, field by field (empty while open).
    pub changes: Vec<FieldChange>,
    /// The party-visible documents added between request and resubmission.
    pub documents_added: Vec<AddedDocument>,
    /// The 30-day decision clock counts from the complete application: the resubmission.
    pub clock_note: String,
}

/// A document added to the case while its application was returned (issue 16 item 2).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AddedDocument {
    pub id: String,
    pub doc_type: String,
    pub file_name: String,
    pub uploaded_at: DateTime<Utc>,
}

/// The party-visible documents added to a case between the request and the resubmission, oldest
/// first; redacted ones and those internal to one organisation are left out (the list is read by
/// the CPUA and the parties alike).
pub fn documents_added(
    conn: &mut DbConn,
    collaboration: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<AddedDocument>, AppError> {
    Ok(crate::db::documents::of_collaboration(conn, collaboration)?
        .into_iter()
        .filter(|d| {
            DocumentVisibility::stored(&d.visibility) == DocumentVisibility::Parties
                && d.redacted_at.is_none()
        })
        .filter(|d| (from..=to).contains(&utc(d.uploaded_at)))
        .map(|d| AddedDocument {
            id: d.id,
            doc_type: d.doc_type,
            file_name: d.file_name,
            uploaded_at: utc(d.uploaded_at),
        })
        .collect())
}

fn diff(before: &Value, after: &Value) -> Vec<FieldChange> {
    APPLICATION_FIELDS
        .iter()
        .filter_map(|f| {
            let b = before.get(*f).cloned().unwrap_or(Value::Null);
            let a = after.get(*f).cloned().unwrap_or(Value::Null);
            (a != b).then(|| FieldChange {
                field: f.to_string(),
                before: b,
                after: a,
            })
        })
        .collect()
}

fn completion_view(conn: &mut DbConn, r: store::CompletionRow) -> Result<CompletionView, AppError> {
    let items: Vec<CompletionItem> =
        serde_json::from_str(&r.items).map_err(|e| corrupt("completion items", e))?;
    let answers: Vec<ItemAnswer> = match &r.answers {
        Some(a) => serde_json::from_str(a).map_err(|e| corrupt("completion answers", e))?,
        None => vec![],
    };
    let changes = match &r.resubmitted_snapshot {
        Some(after) => {
            let b: Value =
                serde_json::from_str(&r.snapshot).map_err(|e| corrupt("completion snapshot", e))?;
            let a: Value =
                serde_json::from_str(after).map_err(|e| corrupt("completion snapshot", e))?;
            diff(&b, &a)
        }
        None => vec![],
    };
    let documents_added = match r.answered_at {
        Some(at) => documents_added(conn, &r.collaboration_id, utc(r.requested_at), utc(at))?,
        None => vec![],
    };
    let clock_note = match r.answered_at {
        Some(at) => format!(
            "the 30-day decision clock counts from the resubmission on {}",
            utc(at).date_naive()
        ),
        None => "the application is returned for completion: the 30-day decision clock waits for the resubmission".into(),
    };
    Ok(CompletionView {
        status: if r.answered_at.is_some() {
            "answered"
        } else {
            "open"
        }
        .into(),
        id: r.id,
        collaboration_id: r.collaboration_id,
        cpua: r.cpua_id,
        items,
        due_on: r.due_on,
        requested_at: utc(r.requested_at),
        requested_by: r.requested_by,
        answers,
        answered_at: r.answered_at.map(utc),
        changes,
        documents_added,
        clock_note,
    })
}

/// CPUA legal returns the application of its track for completion, naming the items and the due day.
#[allow(clippy::too_many_arguments)]
pub fn request_completion(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    actor: &Actor,
    id: &str,
    input: CompletionInput,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Result<(CompletionView, CollaborationView), AppError> {
    let c = collaborations::visible(conn, rulebooks, actor, id)?;
    let cpua = OrgId::parse(&input.cpua)
        .ok_or_else(|| AppError::invalid("cpua", crate::msg!("uuid.not_an_id")))?;
    if input.items.is_empty() {
        return Err(AppError::invalid(
            "items",
            crate::msg!("casework.items_required"),
        ));
    }
    let mut items = Vec::new();
    for (i, it) in input.items.iter().enumerate() {
        items.push(CompletionItem {
            text: text(&format!("items[{i}].text"), &it.text)?,
            field: match &it.field {
                Some(f) if APPLICATION_FIELDS.contains(&f.as_str()) => Some(f.clone()),
                Some(_) => {
                    return Err(AppError::invalid(
                        &format!("items[{i}].field"),
                        crate::msg!("casework.unknown_field"),
                    ))
                }
                None => None,
            },
        });
    }
    let snapshot = application_snapshot(&c)?;
    let request_id = uuid::Uuid::new_v4().to_string();
    let view = collaborations::execute(
        conn,
        rulebooks,
        actor,
        id,
        CommandInput::from(Command::ReturnForCompletion {
            cpua: cpua.clone(),
            request_id: request_id.clone(),
            due_on: input.due_on,
        }),
        None,
        now,
        today,
    )?;
    let row = store::CompletionRow {
        id: request_id,
        collaboration_id: c.id.to_string(),
        cpua_id: cpua.to_string(),
        items: serde_json::to_string(&items).map_err(json_err)?,
        due_on: input.due_on,
        requested_by: actor.account.to_string(),
        requested_at: ts(now),
        snapshot: snapshot.to_string(),
        answers: None,
        answered_by: None,
        answered_at: None,
        resubmitted_snapshot: None,
    };
    store::insert_completion(conn, &row)?;
    Ok((completion_view(conn, row)?, view))
}

/// The parties answer a completion request and resubmit; a request already answered is a 409.
#[allow(clippy::too_many_arguments)]
pub fn answer_completion(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    actor: &Actor,
    id: &str,
    request: &str,
    input: CompletionAnswerInput,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Result<CompletionView, AppError> {
    let c = collaborations::visible(conn, rulebooks, actor, id)?;
    let not_found = || AppError::NotFound(crate::msg!("thing.completion_request"));
    let row = store::completion(conn, c.id.as_str(), request)?.ok_or_else(not_found)?;
    if row.answered_at.is_some() {
        return Err(AppError::Conflict(crate::msg!(
            "casework.completion_answered"
        )));
    }
    let items: Vec<CompletionItem> =
        serde_json::from_str(&row.items).map_err(|e| corrupt("completion items", e))?;
    let mut answers = Vec::new();
    for (i, a) in input.answers.iter().enumerate() {
        if a.item >= items.len() {
            return Err(AppError::invalid(
                &format!("answers[{i}].item"),
                crate::msg!("casework.no_such_item", count = items.len()),
            ));
        }
        answers.push(ItemAnswer {
            item: a.item,
            text: text(&format!("answers[{i}].text"), &a.text)?,
        });
    }
    let cpua = OrgId::from_db(row.cpua_id.clone());
    collaborations::execute(
        conn,
        rulebooks,
        actor,
        id,
        CommandInput::from(Command::ResubmitApplication { cpua }),
        None,
        now,
        today,
    )?;
    let after = collaborations::visible(conn, rulebooks, actor, id)?;
    let snapshot = application_snapshot(&after)?.to_string();
    let answers_json = serde_json::to_string(&answers).map_err(json_err)?;
    if !store::answer_completion(
        conn,
        &row.id,
        &answers_json,
        actor.account.as_str(),
        ts(now),
        &snapshot,
    )? {
        return Err(AppError::Conflict(crate::msg!(
            "casework.completion_answered"
        )));
    }
    let row = store::completion(conn, c.id.as_str(), request)?.ok_or_else(not_found)?;
    completion_view(conn, row)
}

/// The completion requests of a case (everyone who sees the case sees them).
pub fn completions(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    actor: &Actor,
    id: &str,
) -> Result<Vec<CompletionView>, AppError> {
    let c = collaborations::visible(conn, rulebooks, actor, id)?;
    store::completions(conn, c.id.as_str())?
        .into_iter()
        .map(|r| completion_view(conn, r))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Consultations

/// Whom a consultation asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AddresseeKind {
    RegisterHolder,
    Dpo,
    LinkageAuthority,
}

impl AddresseeKind {
    fn code(self) -> &'static str {
        match self {
            AddresseeKind::RegisterHolder => "register_holder",
            AddresseeKind::Dpo => "dpo",
            AddresseeKind::LinkageAuthority => "linkage_authority",
        }
    }
}

/// CPUA legal asks for an opinion. The addressee is an organisation and role with accounts (e.g. the
/// register holder of the CPUA), or a named e-mail address (an external authority, a DPO without an
/// account), whose answer legal records when it arrives.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ConsultationInput {
    pub addressee_kind: AddresseeKind,
    #[serde(default)]
    pub addressee_org: Option<String>,
    #[serde(default)]
    pub addressee_role: Option<String>,
    #[serde(default)]
    pub addressee_email: Option<String>,
    #[serde(default)]
    pub addressee_name: Option<String>,
    pub question: String,
    pub due_on: NaiveDate,
}

/// The answer: by the addressee, or recorded by legal with the day it was received.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ConsultationAnswerInput {
    pub answer: String,
    /// The day the answer was given (default today; never in the future).
    #[serde(default)]
    pub answered_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConsultationView {
    pub id: String,
    pub collaboration_id: String,
    pub cpua: String,
    pub addressee_kind: String,
    pub addressee_org: Option<String>,
    pub addressee_role: Option<String>,
    pub addressee_email: Option<String>,
    pub addressee_name: Option<String>,
    pub question: String,
    pub due_on: NaiveDate,
    pub requested_at: DateTime<Utc>,
    pub status: String,
    pub answer: Option<String>,
    pub answered_on: Option<NaiveDate>,
    /// For a DPO consultation: the "bör" it is evidence for (`dpo_not_consulted`, seed 000,
    /// "Menprövning …"); give `answered_on` as the decision's `dpo_consulted_on`.
    pub evidence_for: Option<String>,
}

fn consultation_view(r: store::ConsultationRow) -> ConsultationView {
    ConsultationView {
        evidence_for: (r.addressee_kind == "dpo").then(|| "dpo_not_consulted".to_string()),
        status: if r.answer.is_some() {
            "answered"
        } else {
            "open"
        }
        .into(),
        id: r.id,
        collaboration_id: r.collaboration_id,
        cpua: r.cpua_id,
        addressee_kind: r.addressee_kind,
        addressee_org: r.addressee_org,
        addressee_role: r.addressee_role,
        addressee_email: r.addressee_email,
        addressee_name: r.addressee_name,
        question: r.question,
        due_on: r.due_on,
        requested_at: utc(r.requested_at),
        answer: r.answer,
        answered_on: r.answered_on,
    }
}

fn is_addressee(actor: &Actor, r: &store::ConsultationRow) -> bool {
    r.addressee_org.as_deref() == Some(actor.org.as_str())
        && r.addressee_role.as_deref() == Some(actor.role.code())
}

#[allow(clippy::too_many_arguments)]
pub fn request_consultation(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    actor: &Actor,
    id: &str,
    input: ConsultationInput,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Result<ConsultationView, AppError> {
    let c = collaborations::visible(conn, rulebooks, actor, id)?;
    let cpua = legal_of(conn, actor, &c)?;
    let question = text("question", &input.question)?;
    if input.due_on <= today {
        return Err(AppError::invalid(
            "due_on",
            crate::msg!("completion.due_not_ahead"),
        ));
    }
    let org = match &input.addressee_org {
        Some(o) => Some(
            OrgId::parse(o)
                .ok_or_else(|| AppError::invalid("addressee_org", crate::msg!("uuid.not_an_id")))?,
        ),
        None => None,
    };
    let role = match &input.addressee_role {
        Some(r) => Some(Role::parse(r).ok_or_else(|| {
            AppError::invalid("addressee_role", crate::msg!("casework.addressee_role"))
        })?),
        None => None,
    };
    let email = input
        .addressee_email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty());
    if let Some(e) = email {
        if !e.contains('@') || e.len() > 254 {
            return Err(AppError::invalid(
                "addressee_email",
                crate::msg!("casework.addressee_email"),
            ));
        }
    }
    if (org.is_some() != role.is_some()) || (org.is_none() && email.is_none()) {
        return Err(AppError::invalid(
            "addressee_org",
            crate::msg!("casework.addressee"),
        ));
    }
    let row = store::ConsultationRow {
        id: uuid::Uuid::new_v4().to_string(),
        collaboration_id: c.id.to_string(),
        cpua_id: cpua.to_string(),
        addressee_kind: input.addressee_kind.code().into(),
        addressee_org: org.map(|o| o.to_string()),
        addressee_role: role.map(|r| r.code().to_string()),
        addressee_email: email.map(str::to_string),
        addressee_name: input
            .addressee_name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(|n| n.chars().take(200).collect()),
        question,
        due_on: input.due_on,
        requested_by: actor.account.to_string(),
        requested_at: ts(now),
        answer: None,
        answered_on: None,
        answered_by: None,
        recorded_at: None,
    };
    store::insert_consultation(conn, &row)?;
    let view = consultation_view(row);
    record_case_event(
        conn,
        actor,
        c.id.as_str(),
        EventType::ConsultationRequested,
        None,
        serde_json::to_value(&view).map_err(json_err)?,
        now,
    )?;
    Ok(view)
}

#[allow(clippy::too_many_arguments)]
pub fn answer_consultation(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    actor: &Actor,
    id: &str,
    consultation: &str,
    input: ConsultationAnswerInput,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Result<ConsultationView, AppError> {
    let c = collaborations::visible(conn, rulebooks, actor, id)?;
    let not_found = || AppError::NotFound(crate::msg!("thing.consultation"));
    let row = store::consultation(conn, c.id.as_str(), consultation)?.ok_or_else(not_found)?;
    let legal = actor.role == Role::CpuaLegal && actor.org.as_str() == row.cpua_id;
    if !legal && !is_addressee(actor, &row) {
        // Another CPUA's consultation is not this actor's to see.
        return Err(not_found());
    }
    if row.answer.is_some() {
        return Err(AppError::Conflict(crate::msg!(
            "casework.consultation_answered"
        )));
    }
    let answer = text("answer", &input.answer)?;
    let on = input.answered_on.unwrap_or(today);
    if on > today {
        return Err(AppError::invalid(
            "answered_on",
            crate::msg!("casework.not_in_future"),
        ));
    }
    if !store::answer_consultation(conn, &row.id, &answer, on, actor.account.as_str(), ts(now))? {
        return Err(AppError::Conflict(crate::msg!(
            "casework.consultation_answered"
        )));
    }
    let before = serde_json::to_value(consultation_view(row)).map_err(json_err)?;
    let row = store::consultation(conn, c.id.as_str(), consultation)?.ok_or_else(not_found)?;
    let view = consultation_view(row);
    record_case_event(
        conn,
        actor,
        c.id.as_str(),
        EventType::ConsultationAnswered,
        Some(before),
        serde_json::to_value(&view).map_err(json_err)?,
        now,
    )?;
    Ok(view)
}

/// The consultations of a case: CPUA staff see their own CPUA's; an addressee sees those to them.
pub fn consultations(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    actor: &Actor,
    id: &str,
) -> Result<Vec<ConsultationView>, AppError> {
    let c = collaborations::visible(conn, rulebooks, actor, id)?;
    let cpua_staff = matches!(
        actor.role,
        Role::CpuaLegal | Role::RegisterHolder | Role::Finance
    );
    Ok(store::consultations(conn, c.id.as_str())?
        .into_iter()
        .filter(|r| (cpua_staff && r.cpua_id == actor.org.as_str()) || is_addressee(actor, r))
        .map(consultation_view)
        .collect())
}

// ---------------------------------------------------------------------------------------------
// The case file: handling lawyer and case number

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct AssignInput {
    /// The account id of a person with the role cpua_legal in the caller's CPUA; `null` unassigns.
    pub assignee: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct CaseNumberInput {
    /// The CPUA's own case number (diarienummer); `null` removes it.
    pub case_number: Option<String>,
}

/// One CPUA's case file of a collaboration.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseFileView {
    pub collaboration_id: String,
    pub cpua: String,
    pub case_number: Option<String>,
    /// The handling lawyer (shown to the CPUA's own staff only).
    pub assignee: Option<String>,
    pub assignee_name: Option<String>,
}

fn case_file(
    conn: &mut DbConn,
    collaboration: &str,
    cpua: &OrgId,
    now: DateTime<Utc>,
) -> Result<store::CaseFileRow, AppError> {
    Ok(store::case_files(conn, collaboration)?
        .into_iter()
        .find(|r| r.cpua_id == cpua.as_str())
        .unwrap_or(store::CaseFileRow {
            collaboration_id: collaboration.to_string(),
            cpua_id: cpua.to_string(),
            case_number: None,
            assignee: None,
            updated_at: ts(now),
        }))
}

fn file_view(
    conn: &mut DbConn,
    actor: &Actor,
    r: store::CaseFileRow,
) -> Result<CaseFileView, AppError> {
    let own = r.cpua_id == actor.org.as_str();
    let assignee_name = match (&r.assignee, own) {
        (Some(a), true) => crate::db::outbox::people_with_role(
            conn,
            &OrgId::from_db(r.cpua_id.clone()),
            Role::CpuaLegal,
        )?
        .into_iter()
        .find(|p| p.account.as_str() == a)
        .map(|p| p.name),
        _ => None,
    };
    Ok(CaseFileView {
        collaboration_id: r.collaboration_id,
        cpua: r.cpua_id,
        case_number: r.case_number,
        assignee: r.assignee.filter(|_| own),
        assignee_name,
    })
}

#[allow(clippy::too_many_arguments)]
pub fn assign(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    actor: &Actor,
    id: &str,
    input: AssignInput,
    now: DateTime<Utc>,
) -> Result<CaseFileView, AppError> {
    let c = collaborations::visible(conn, rulebooks, actor, id)?;
    let cpua = legal_of(conn, actor, &c)?;
    if let Some(a) = &input.assignee {
        let lawyers = crate::db::outbox::people_with_role(conn, &cpua, Role::CpuaLegal)?;
        if !lawyers.iter().any(|p| p.account.as_str() == a) {
            return Err(AppError::invalid(
                "assignee",
                crate::msg!("casework.assignee"),
            ));
        }
    }
    let mut row = case_file(conn, c.id.as_str(), &cpua, now)?;
    let before = json!({"assignee": row.assignee});
    row.assignee = input.assignee.clone();
    row.updated_at = ts(now);
    store::put_case_file(conn, &row)?;
    record_case_event(
        conn,
        actor,
        c.id.as_str(),
        EventType::CaseAssigned,
        Some(before),
        json!({"cpua": cpua.as_str(), "assignee": row.assignee}),
        now,
    )?;
    file_view(conn, actor, row)
}

pub fn set_case_number(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    actor: &Actor,
    id: &str,
    input: CaseNumberInput,
    now: DateTime<Utc>,
) -> Result<CaseFileView, AppError> {
    let c = collaborations::visible(conn, rulebooks, actor, id)?;
    let cpua = legal_of(conn, actor, &c)?;
    let number = match &input.case_number {
        Some(n) => Some(parse_case_number(n).map_err(|m| AppError::invalid("case_number", m))?),
        None => None,
    };
    let mut row = case_file(conn, c.id.as_str(), &cpua, now)?;
    let before = json!({"case_number": row.case_number});
    row.case_number = number;
    row.updated_at = ts(now);
    store::put_case_file(conn, &row)?;
    record_case_event(
        conn,
        actor,
        c.id.as_str(),
        EventType::CaseNumberSet,
        Some(before),
        json!({"cpua": cpua.as_str(), "case_number": row.case_number}),
        now,
    )?;
    file_view(conn, actor, row)
}

/// The case files of a collaboration: every party sees the case numbers (they are printed on
/// decisions and agreements); only a CPUA's own staff see its handling lawyer.
pub fn case_files(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    actor: &Actor,
    id: &str,
) -> Result<Vec<CaseFileView>, AppError> {
    let c = collaborations::visible(conn, rulebooks, actor, id)?;
    store::case_files(conn, c.id.as_str())?
        .into_iter()
        .map(|r| file_view(conn, actor, r))
        .collect()
}

/// The CPUAs' case numbers of a collaboration, for printing on decisions and agreements
/// (`"Region X: RS 2026/123"`); empty when none is set.
pub fn case_numbers(
    conn: &mut DbConn,
    collaboration: &str,
) -> Result<Vec<(String, String)>, AppError> {
    Ok(store::case_files(conn, collaboration)?
        .into_iter()
        .filter_map(|r| r.case_number.map(|n| (r.cpua_id, n)))
        .collect())
}

// ---------------------------------------------------------------------------------------------
// The to-do list

/// One thing the process waits for from the signed-in person.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TodoItem {
    /// `decide`, `answer_feasibility`, `answer_completion`, `sign_agreement`,
    /// `confirm_key_file_deleted`, `answer_consultation`, `confirm_disposal`, `approve_data_user`
    /// (CPUA legal: a person named after release), `confirm_undertaking` (the person named: their own
    /// confidentiality undertaking, on `/undertakings`).
    pub reason: String,
    pub collaboration_id: String,
    pub reference: String,
    pub title: String,
    /// The page of the case.
    pub link: String,
    /// The day it is due, when there is one.
    pub due_on: Option<NaiveDate>,
    pub overdue: bool,
    /// What it concerns: a register's name, a CPUA's name, a consultation's question.
    pub subject: Option<String>,
}

const TODO_SCAN: i64 = 500;

/// What the process waits for from the actor, derived from the cases they see: their state (the
/// release decision, feasibility, completion, key file, disposal), the signing envelopes and the
/// consultations addressed to them. At most the first 500 cases visible to the actor are read.
pub fn todo(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    actor: &Actor,
    today: NaiveDate,
) -> Result<Vec<TodoItem>, AppError> {
    use crate::domain::collaboration::ReviewStatus;
    use crate::domain::step::Step;
    let q = collaborations::ListQuery {
        limit: TODO_SCAN,
        ..Default::default()
    };
    let (summaries, _, _) = collaborations::list(conn, actor, &q, today)?;
    let mut out = Vec::new();
    let is_party = matches!(
        actor.role,
        Role::CompanyRepresentative | Role::ResearchPrincipalRepresentative
    );
    for s in summaries {
        let (c, scope) = collaborations::visible_with_scope(conn, rulebooks, actor, &s.id)?;
        let mut push = |reason: &str, due_on: Option<NaiveDate>, subject: Option<String>| {
            out.push(TodoItem {
                reason: reason.into(),
                collaboration_id: c.id.to_string(),
                reference: c.reference.clone(),
                title: c.title.clone(),
                link: format!("/collaborations/{}", c.id),
                overdue: due_on.is_some_and(|d| today > d),
                due_on,
                subject,
            })
        };
        let party_of = |c: &Collaboration| {
            (actor.role == Role::CompanyRepresentative && c.company == actor.org)
                || (actor.role == Role::ResearchPrincipalRepresentative
                    && c.research_principal.as_ref() == Some(&actor.org))
        };
        if c.step.is_terminal() {
            continue;
        }
        for r in &c.cpua_reviews {
            let own = r.cpua == actor.org;
            match actor.role {
                Role::CpuaLegal if own && r.status() == ReviewStatus::UnderReview => {
                    push("decide", r.decision_due_on, Some(r.cpua_name.clone()))
                }
                Role::CpuaLegal
                    if own
                        && r.release
                            .as_ref()
                            .is_some_and(|x| x.key_deleted_on.is_none()) =>
                {
                    push(
                        "confirm_key_file_deleted",
                        r.release.as_ref().map(|x| x.key_deletion_on),
                        Some(r.cpua_name.clone()),
                    )
                }
                _ => {}
            }
            if is_party && party_of(&c) {
                if let Some(h) = &r.completion {
                    push(
                        "answer_completion",
                        Some(h.due_on),
                        Some(r.cpua_name.clone()),
                    );
                }
            }
        }
        if actor.role == Role::RegisterHolder && c.step == Step::RegisterContact {
            let cpuas = crate::db::repo::current_cpuas(conn, &c.registers)?;
            for reg in &c.registers {
                let mine = cpuas.get(reg).is_some_and(|(o, _)| o == &actor.org);
                let answered = c.feasibility.iter().any(|f| &f.register == reg);
                if mine && !answered {
                    let name = crate::db::repo::find_register(conn, reg)?.map(|r| r.name);
                    push("answer_feasibility", None, name.or(Some(reg.to_string())));
                }
            }
        }
        if is_party && party_of(&c) && c.step == Step::Archiving && c.disposal.is_none() {
            push(
                "confirm_disposal",
                c.agreement.as_ref().and_then(|a| a.disposal_due_on()),
                None,
            );
        }
        for (due, version) in super::signing::awaiting_signature(conn, actor, &c)? {
            push("sign_agreement", due, Some(format!("version {version}")));
        }
        for k in store::consultations(conn, c.id.as_str())? {
            if k.answer.is_none() && is_addressee(actor, &k) {
                push(
                    "answer_consultation",
                    Some(k.due_on),
                    Some(k.question.clone()),
                );
            }
        }
        // Issue 16 item 6: a person named after release waits for CPUA legal of the case.
        if super::authz::may_handle_case(actor, &scope.cpuas).is_ok() {
            for u in super::data_users::awaiting_approval(conn, c.id.as_str())? {
                push("approve_data_user", None, Some(u));
            }
        }
    }
    // Issue 16 item 6: the person's own confidentiality undertakings not yet confirmed, whatever the
    // role they act in (named by their verified address, on any case).
    for p in super::data_users::pending_for_me(conn, actor)? {
        out.push(TodoItem {
            reason: "confirm_undertaking".into(),
            collaboration_id: p.data_user.collaboration_id.clone(),
            reference: p.reference,
            title: p.title,
            link: "/undertakings".into(),
            due_on: None,
            overdue: false,
            subject: Some(p.data_user.project_role),
        });
    }
    out.sort_by(|a, b| {
        (a.due_on.is_none(), a.due_on, &a.collaboration_id).cmp(&(
            b.due_on.is_none(),
            b.due_on,
            &b.collaboration_id,
        ))
    });
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Reminders of consultations

/// Days before a consultation's due day its addressee (or, for an external addressee, the legal
/// team that asked) is reminded. A product choice: the seeds set no time for an opinion.
pub const CONSULTATION_NOTICE_DAYS: u64 = 3;

/// Writes the reminders of open consultations due within the notice days, once per consultation and
/// person (the outbox's unique key). Returns how many rows were new.
pub fn remind_consultations(svc: &super::Services) -> Result<usize, AppError> {
    remind_consultations_on(&svc.db, &svc.rulebooks, svc.clock.as_ref())
}

/// [`remind_consultations`] on a database, rulebooks and clock (tests drive it on the manual clock).
pub fn remind_consultations_on(
    db: &crate::db::Db,
    rulebooks: &RulebookSet,
    clock: &dyn super::clock::Clock,
) -> Result<usize, AppError> {
    let now = clock.now();
    let today = clock.today();
    let until = crate::domain::deadlines::add(today, CONSULTATION_NOTICE_DAYS);
    let lock = db.write_lock();
    let _guard = lock
        .as_ref()
        .map(|l| l.lock().unwrap_or_else(|p| p.into_inner()));
    let mut c = db.pool.get()?;
    crate::db::conn::write_transaction(&mut c, |conn| {
        let mut rows = Vec::new();
        for k in store::open_consultations_due_by(conn, until)? {
            if k.due_on < today {
                continue;
            }
            let Some(cid) = crate::domain::ids::CollaborationId::parse(&k.collaboration_id) else {
                continue;
            };
            let Some((c, _)) = crate::db::repo::load_collaboration(conn, rulebooks, &cid)? else {
                continue;
            };
            let (org, role) = match (
                &k.addressee_org,
                k.addressee_role.as_deref().and_then(Role::parse),
            ) {
                (Some(o), Some(r)) => (OrgId::from_db(o.clone()), r),
                _ => (OrgId::from_db(k.cpua_id.clone()), Role::CpuaLegal),
            };
            let data = json!({
                "collaboration_id": c.id.as_str(), "reference": c.reference, "title": c.title,
                "question": k.question, "due_on": k.due_on.to_string(),
            });
            for p in crate::db::outbox::people_with_role(conn, &org, role)? {
                let key = format!("consultation_due_soon:{}:{}:{}", k.id, k.due_on, p.account);
                rows.push(super::notify::row_for(
                    &p,
                    Some(c.id.as_str()),
                    "consultation_due_soon",
                    super::notify::KIND_DEADLINE,
                    Some(key),
                    &data,
                    now,
                ));
            }
        }
        let keys: Vec<String> = rows.iter().filter_map(|r| r.dedup_key.clone()).collect();
        let written = crate::db::outbox::existing_keys(conn, &keys)?;
        let rows: Vec<_> = rows
            .into_iter()
            .filter(|r| r.dedup_key.as_ref().is_some_and(|k| !written.contains(k)))
            .collect();
        if rows.is_empty() {
            return Ok(0);
        }
        Ok(crate::db::outbox::insert(conn, &rows)?)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_number_is_visible_text_of_at_most_64_characters() {
        assert_eq!(parse_case_number(" RS 2026/0123 ").unwrap(), "RS 2026/0123");
        assert!(parse_case_number("").is_err());
        assert!(parse_case_number(&"x".repeat(65)).is_err());
        assert!(parse_case_number("a<b").is_err());
    }

    #[test]
    fn the_diff_names_each_changed_field_once() {
        let b = json!({"title": "A", "purpose": "p", "registers": ["r1"]});
        let a = json!({"title": "A", "purpose": "q", "registers": ["r1", "r2"]});
        let d = diff(&b, &a);
        let f: Vec<&str> = d.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(f, ["purpose", "registers"]);
    }
}
