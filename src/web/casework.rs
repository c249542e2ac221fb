//! The case handling section of the case page (issue 16, items 2, 3 and 5) for CPUA legal and the
//! parties: return the application for completion (items, optionally the field concerned, a due
//! day) and the requests with what changed field by field after the resubmission; the parties'
//! answer-and-resubmit form; consultations (remisser) asked, listed, answered by the addressee or
//! recorded as received by legal; the handling lawyer and the CPUA's own case number (diarienummer).
//!
//! Every form posts through the same `app::casework` command as the API; a refused form comes back
//! on the case page (422, or 409 for a request already answered) with each message at its field and
//! in the summary, and what was entered kept. A form is shown only to whom the server would let
//! send it: legal of a CPUA of the case, the parties for an open request (the view's `next` list
//! says `resubmit_application` is allowed), the addressee of a consultation.
use actix_web::http::StatusCode;
use actix_web::{web, ResponseError};
use chrono::NaiveDate;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeSet;

use super::form::{anchor, Entered, Form, FormErrors};
use super::{PageEnv, PageError, PageResult};
use crate::app::casework::{
    self, AssignInput, CaseFileView, CaseNumberInput, CompletionAnswerInput, CompletionInput,
    CompletionView, ConsultationAnswerInput, ConsultationInput, ConsultationView,
};
use crate::app::AppError;
use crate::db::DbConn;
use crate::domain::ids::OrgId;
use crate::domain::lang::Lang;
use crate::domain::role::{Actor, Role};
use crate::http::AppState;

/// How many item rows the completion form offers.
const ITEM_ROWS: usize = 3;

/// The application fields an item may name (as `app::casework` compares them).
const FIELDS: &[&str] = &[
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

/// The roles a consultation may be addressed to, by organisation and role.
const ADDRESSEE_ROLES: &[Role] = &[Role::RegisterHolder, Role::CpuaLegal, Role::Finance];

/// What the section was sent (to show again) and answered.
#[derive(Debug, Clone, Default)]
pub struct Posted {
    pub errors: FormErrors,
    /// The form that was refused: `completion`, `answer-<request>`, `consultation`,
    /// `consult-<consultation>`, `file`.
    pub form: String,
    pub entered: Entered,
    /// The form that went through, after the redirect (`?casework=<done>`).
    pub done: Option<&'static str>,
}

const DONE: &[&str] = &[
    "returned",
    "resubmitted",
    "consulted",
    "consultation_answered",
    "assigned",
    "numbered",
];

impl Posted {
    /// `?casework=<done>` after a redirect.
    pub fn from_query(q: &str) -> Posted {
        let done = url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "casework")
            .and_then(|(_, v)| DONE.iter().copied().find(|d| *d == v.as_ref()));
        Posted {
            done,
            ..Posted::default()
        }
    }

    fn value(&self, form: &str, name: &str) -> String {
        if self.form == form {
            self.entered.value(name)
        } else {
            String::new()
        }
    }

    fn error(&self, form: &str, field: &str) -> String {
        if self.form == form {
            self.errors
                .at(&format!("{form}.{field}"))
                .unwrap_or("")
                .to_string()
        } else {
            String::new()
        }
    }
}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

/// One input of a form: its element id, name, the value to show and the message at it.
#[derive(Serialize, Default)]
struct Input {
    id: String,
    name: String,
    value: String,
    error: String,
}

fn input(p: &Posted, form: &str, field: &str, fallback: String) -> Input {
    let value = if p.form == form {
        p.entered.value(field)
    } else {
        fallback
    };
    Input {
        id: anchor(&format!("{form}.{field}")),
        name: field.to_string(),
        value,
        error: p.error(form, field),
    }
}

#[derive(Serialize)]
struct ItemRow {
    number: usize,
    text: Input,
    field: Input,
    fields: Vec<Choice>,
}

#[derive(Serialize)]
struct ItemShown {
    number: usize,
    text: String,
    field: String,
    answer: String,
}

#[derive(Serialize)]
struct ChangeShown {
    field: String,
    before: String,
    after: String,
}

#[derive(Serialize)]
struct AnswerRow {
    number: usize,
    item: String,
    input: Input,
}

#[derive(Serialize)]
struct EditRow {
    label: String,
    input: Input,
}

/// The application's text fields the answer form lets the parties correct (through the ordinary
/// update, `PATCH /api/v1/collaborations/{id}`, in the same transaction as the answer).
const EDITABLE: &[&str] = &["title", "purpose", "research_question"];

#[derive(Serialize)]
struct RequestShown {
    cpua_name: String,
    requested_at: String,
    due_on: String,
    open: bool,
    items: Vec<ItemShown>,
    answered_at: String,
    clock_note: String,
    changes: Vec<ChangeShown>,
    documents_added: Vec<String>,
    may_answer: bool,
    action: String,
    heading_id: String,
    rows: Vec<AnswerRow>,
    /// The text fields the items name, to correct in the same form (changed before the resubmission).
    edits: Vec<EditRow>,
}

#[derive(Serialize)]
struct ConsultationShown {
    addressee: String,
    kind: String,
    question: String,
    due_on: String,
    overdue: bool,
    asked_at: String,
    open: bool,
    answer: String,
    answered_on: String,
    dpo: bool,
    /// The addressee's own answer form, or legal's "answer received" form.
    may_answer: bool,
    may_record: bool,
    action: String,
    heading_id: String,
    answer_input: Input,
    on_input: Input,
    today: String,
}

#[derive(Serialize)]
struct FileShown {
    cpua_name: String,
    case_number: String,
    assignee: String,
}

/// The section as the template reads it.
#[derive(Serialize, Default)]
pub struct Section {
    show: bool,
    done: String,
    files: Vec<FileShown>,
    may_handle: bool,
    assignee_action: String,
    number_action: String,
    lawyers: Vec<Choice>,
    assignee_id: String,
    assignee_error: String,
    number: Input,
    may_return: bool,
    return_action: String,
    return_cpua: String,
    item_rows: Vec<ItemRow>,
    due: Input,
    min_due: String,
    requests: Vec<RequestShown>,
    may_consult: bool,
    consult_action: String,
    kinds: Vec<Choice>,
    kind_id: String,
    kind_error: String,
    orgs: Vec<Choice>,
    org_id: String,
    org_error: String,
    roles: Vec<Choice>,
    role_id: String,
    role_error: String,
    email: Input,
    name: Input,
    question: Input,
    consult_due: Input,
    consultations: Vec<ConsultationShown>,
}

fn t(lang: Lang, key: &str) -> String {
    super::text::t(lang, key)
}

/// An application field's name in the language.
fn field_label(lang: Lang, field: &str) -> String {
    let key = match field {
        "title" => "casework.field.title",
        "purpose" => "casework.field.purpose",
        "research_question" => "casework.field.research_question",
        "is_research" => "casework.field.is_research",
        "research_principal" => "casework.field.research_principal",
        "registers" => "casework.field.registers",
        "requested_variables" => "casework.field.requested_variables",
        "data_kind" => "casework.field.data_kind",
        "linkage" => "casework.field.linkage",
        "recipient_countries" => "casework.field.recipient_countries",
        "intake" => "casework.field.intake",
        other => return other.replace('_', " "),
    };
    t(lang, key)
}

fn kind_label(lang: Lang, kind: &str) -> String {
    match kind {
        "register_holder" => t(lang, "casework.addressee_kind.register_holder"),
        "dpo" => t(lang, "casework.addressee_kind.dpo"),
        "linkage_authority" => t(lang, "casework.addressee_kind.linkage_authority"),
        other => other.to_string(),
    }
}

/// A stored value as people read it: text as is, lists joined, nothing as a dash.
fn shown(lang: Lang, v: &Value) -> String {
    match v {
        Value::Null => "–".into(),
        Value::String(s) => s.clone(),
        Value::Bool(true) => t(lang, "casework.yes"),
        Value::Bool(false) => t(lang, "casework.no"),
        Value::Array(a) if a.iter().all(|x| !x.is_object() && !x.is_array()) => {
            if a.is_empty() {
                "–".into()
            } else {
                a.iter()
                    .map(|x| shown(lang, x))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        }
        other => other.to_string(),
    }
}

/// What the section reads besides the view.
struct Loaded {
    completions: Vec<CompletionView>,
    consultations: Vec<ConsultationView>,
    files: Vec<CaseFileView>,
    cpua_names: Vec<(String, String)>,
    may_handle: bool,
    lawyers: Vec<(String, String)>,
    orgs: Vec<(String, String)>,
}

/// The CPUAs of the case: the registers' current CPUAs and those with a track (as `app::casework`
/// decides who handles the case).
fn cpuas(
    conn: &mut DbConn,
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<BTreeSet<OrgId>, AppError> {
    let c = crate::app::collaborations::visible(conn, &state.svc.rulebooks, actor, id)?;
    let mut s: BTreeSet<OrgId> = crate::db::repo::current_cpuas(conn, &c.registers)?
        .into_values()
        .map(|(o, _)| o)
        .collect();
    s.extend(c.cpua_reviews.iter().map(|r| r.cpua.clone()));
    Ok(s)
}

fn load(state: &AppState, actor: &Actor, id: &str) -> Result<Loaded, AppError> {
    let rb = &state.svc.rulebooks;
    state.svc.read(|c| {
        let completions = casework::completions(c, rb, actor, id)?;
        let consultations = casework::consultations(c, rb, actor, id)?;
        let files = casework::case_files(c, rb, actor, id)?;
        let set = cpuas(c, state, actor, id)?;
        let mut cpua_names = Vec::new();
        for o in &set {
            let name = crate::app::reference::get_organisation(c, o)
                .map(|v| v.name)
                .unwrap_or_else(|_| o.to_string());
            cpua_names.push((o.to_string(), name));
        }
        let may_handle = crate::app::authz::may_handle_case(actor, &set).is_ok();
        let (lawyers, orgs) = if may_handle {
            let lawyers = crate::db::outbox::people_with_role(c, &actor.org, Role::CpuaLegal)?
                .into_iter()
                .map(|p| (p.account.to_string(), p.name))
                .collect();
            let (list, _) = crate::db::repo::list_organisations(c, None, None, 500)?;
            let orgs = list
                .into_iter()
                .map(|o| (o.id.to_string(), o.name))
                .collect();
            (lawyers, orgs)
        } else {
            (vec![], vec![])
        };
        Ok(Loaded {
            completions,
            consultations,
            files,
            cpua_names,
            may_handle,
            lawyers,
            orgs,
        })
    })
}

/// Whether the view's `next` list allows the command now.
fn allowed(view: &Value, command: &str) -> bool {
    view.get("next").and_then(Value::as_array).is_some_and(|a| {
        a.iter().any(|n| {
            n.get("command").and_then(Value::as_str) == Some(command)
                && n.get("allowed").and_then(Value::as_bool) == Some(true)
        })
    })
}

/// The actor's own track when it may be returned: complete, not decided, not already returned.
fn returnable_track(view: &Value, actor: &Actor) -> Option<String> {
    let own = actor.org.as_str();
    view.pointer("/collaboration/cpua_reviews")
        .and_then(Value::as_array)?
        .iter()
        .find(|r| {
            r.get("cpua").and_then(Value::as_str) == Some(own)
                && r.get("decision").is_none_or(Value::is_null)
                && r.get("application_complete_at")
                    .is_some_and(|v| !v.is_null())
                && r.get("completion").is_none_or(Value::is_null)
        })
        .map(|_| own.to_string())
}

fn choices(list: &[(String, String)], selected: &str) -> Vec<Choice> {
    list.iter()
        .map(|(v, l)| Choice {
            value: v.clone(),
            label: l.clone(),
            selected: v == selected,
        })
        .collect()
}

/// The case handling section of the case `id` for the signed-in person.
pub async fn section(
    env: &PageEnv,
    id: &str,
    view: &Value,
    posted: &Posted,
) -> Result<Section, PageError> {
    let actor = env.actor()?.clone();
    let lang = env.lang;
    let (a, i) = (actor.clone(), id.to_string());
    let loaded = env.blocking(move |s| load(s, &a, &i)).await?;
    let today = env.state.svc.clock.today();
    let name_of = |cpua: &str| {
        loaded
            .cpua_names
            .iter()
            .find(|(o, _)| o == cpua)
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| cpua.to_string())
    };
    let date = |d: NaiveDate| super::helpers::format_date(d, lang);
    let is_party = matches!(
        actor.role,
        Role::CompanyRepresentative | Role::ResearchPrincipalRepresentative
    );
    let may_resubmit = is_party && allowed(view, "resubmit_application");

    // The case files: the numbers for everyone, the lawyer for the CPUA's own staff.
    let files: Vec<FileShown> = loaded
        .files
        .iter()
        .filter(|f| f.case_number.is_some() || f.assignee_name.is_some())
        .map(|f| FileShown {
            cpua_name: name_of(&f.cpua),
            case_number: f.case_number.clone().unwrap_or_default(),
            assignee: f.assignee_name.clone().unwrap_or_default(),
        })
        .collect();
    let own_file = loaded.files.iter().find(|f| f.cpua == actor.org.as_str());
    let current_assignee = if posted.form == "file" && posted.errors.at("file.assignee").is_some() {
        posted.entered.value("assignee")
    } else {
        own_file
            .and_then(|f| f.assignee.clone())
            .unwrap_or_default()
    };
    let lawyers: Vec<Choice> = loaded
        .lawyers
        .iter()
        .map(|(v, l)| Choice {
            value: v.clone(),
            label: l.clone(),
            selected: *v == current_assignee,
        })
        .collect();
    let number = input(
        posted,
        "file",
        "case_number",
        own_file
            .and_then(|f| f.case_number.clone())
            .unwrap_or_default(),
    );

    // Completion requests.
    let return_cpua = if loaded.may_handle && allowed(view, "return_for_completion") {
        returnable_track(view, &actor)
    } else {
        None
    };
    let item_rows = (0..ITEM_ROWS)
        .map(|n| {
            let text = input(
                posted,
                "completion",
                &format!("items[{n}].text"),
                String::new(),
            );
            let field = input(
                posted,
                "completion",
                &format!("items[{n}].field"),
                String::new(),
            );
            let fields = FIELDS
                .iter()
                .map(|f| Choice {
                    value: f.to_string(),
                    label: field_label(lang, f),
                    selected: field.value == *f,
                })
                .collect();
            ItemRow {
                number: n + 1,
                text,
                field,
                fields,
            }
        })
        .collect();
    let due = input(posted, "completion", "due_on", String::new());
    let requests = loaded
        .completions
        .iter()
        .rev()
        .map(|r| {
            let open = r.status == "open";
            let form = format!("answer-{}", r.id);
            let items = r
                .items
                .iter()
                .enumerate()
                .map(|(n, it)| ItemShown {
                    number: n + 1,
                    text: it.text.clone(),
                    field: it
                        .field
                        .as_deref()
                        .map(|f| field_label(lang, f))
                        .unwrap_or_default(),
                    answer: r
                        .answers
                        .iter()
                        .find(|a| a.item == n)
                        .map(|a| a.text.clone())
                        .unwrap_or_default(),
                })
                .collect();
            let rows = r
                .items
                .iter()
                .enumerate()
                .map(|(n, it)| AnswerRow {
                    number: n + 1,
                    item: it.text.clone(),
                    input: input(posted, &form, &format!("answers[{n}].text"), String::new()),
                })
                .collect();
            let mut named: Vec<&str> = r
                .items
                .iter()
                .filter_map(|it| it.field.as_deref())
                .filter(|f| EDITABLE.contains(f))
                .collect();
            named.dedup();
            let edits = named
                .iter()
                .map(|f| EditRow {
                    label: field_label(lang, f),
                    input: input(
                        posted,
                        &form,
                        &format!("patch.{f}"),
                        view.pointer(&format!("/collaboration/{f}"))
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string(),
                    ),
                })
                .collect();
            let clock_note = match r.answered_at {
                Some(at) => super::text::t_with(
                    lang,
                    "casework.clock_counts",
                    &[("date", date(at.date_naive()))],
                ),
                None => t(lang, "casework.clock_waits"),
            };
            RequestShown {
                cpua_name: name_of(&r.cpua),
                requested_at: super::helpers::format_datetime(r.requested_at, lang),
                due_on: date(r.due_on),
                open,
                items,
                answered_at: r
                    .answered_at
                    .map(|a| super::helpers::format_datetime(a, lang))
                    .unwrap_or_default(),
                clock_note,
                changes: r
                    .changes
                    .iter()
                    .map(|c| ChangeShown {
                        field: field_label(lang, &c.field),
                        before: shown(lang, &c.before),
                        after: shown(lang, &c.after),
                    })
                    .collect(),
                documents_added: r
                    .documents_added
                    .iter()
                    .map(|d| format!("{} ({})", d.file_name, d.doc_type))
                    .collect(),
                may_answer: open && may_resubmit,
                action: format!("/collaborations/{id}/completion-requests/{}/answer", r.id),
                heading_id: anchor(&format!("h-{form}")),
                rows,
                edits,
            }
        })
        .collect();

    // Consultations.
    let kind_value = posted.value("consultation", "addressee_kind");
    let kinds = ["register_holder", "dpo", "linkage_authority"]
        .iter()
        .map(|k| Choice {
            value: k.to_string(),
            label: kind_label(lang, k),
            selected: kind_value == *k,
        })
        .collect();
    let roles: Vec<(String, String)> = ADDRESSEE_ROLES
        .iter()
        .map(|r| (r.code().to_string(), super::role_name(lang, *r)))
        .collect();
    let consultations = loaded
        .consultations
        .iter()
        .rev()
        .map(|k| {
            let form = format!("consult-{}", k.id);
            let open = k.status == "open";
            let addressee_of = k.addressee_org.as_deref() == Some(actor.org.as_str())
                && k.addressee_role.as_deref() == Some(actor.role.code());
            let legal = actor.role == Role::CpuaLegal && actor.org.as_str() == k.cpua;
            let mut who = Vec::new();
            if let Some(n) = &k.addressee_name {
                who.push(n.clone());
            }
            if let Some(o) = &k.addressee_org {
                let org = loaded
                    .orgs
                    .iter()
                    .find(|(id, _)| id == o)
                    .map(|(_, n)| n.clone())
                    .unwrap_or_else(|| name_of(o));
                let role = k
                    .addressee_role
                    .as_deref()
                    .and_then(Role::parse)
                    .map(|r| super::role_name(lang, r))
                    .unwrap_or_default();
                who.push(format!("{org}, {role}"));
            }
            if let Some(e) = &k.addressee_email {
                who.push(e.clone());
            }
            ConsultationShown {
                addressee: who.join(" · "),
                kind: kind_label(lang, &k.addressee_kind),
                question: k.question.clone(),
                due_on: date(k.due_on),
                overdue: open && today > k.due_on,
                asked_at: super::helpers::format_datetime(k.requested_at, lang),
                open,
                answer: k.answer.clone().unwrap_or_default(),
                answered_on: k.answered_on.map(date).unwrap_or_default(),
                dpo: k.evidence_for.is_some(),
                may_answer: open && addressee_of,
                may_record: open && legal && !addressee_of,
                action: format!("/collaborations/{id}/consultations/{}/answer", k.id),
                heading_id: anchor(&format!("h-{form}")),
                answer_input: input(posted, &form, "answer", String::new()),
                on_input: input(posted, &form, "answered_on", today.to_string()),
                today: today.to_string(),
            }
        })
        .collect::<Vec<_>>();

    let done = match posted.done {
        Some("returned") => t(lang, "casework.done.returned"),
        Some("resubmitted") => t(lang, "casework.done.resubmitted"),
        Some("consulted") => t(lang, "casework.done.consulted"),
        Some("consultation_answered") => t(lang, "casework.done.consultation_answered"),
        Some("assigned") => t(lang, "casework.done.assigned"),
        Some("numbered") => t(lang, "casework.done.numbered"),
        _ => String::new(),
    };
    let show = loaded.may_handle
        || !files.is_empty()
        || !loaded.completions.is_empty()
        || !consultations.is_empty();
    let tomorrow = today.succ_opt().unwrap_or(today).to_string();
    Ok(Section {
        show,
        done,
        files,
        may_handle: loaded.may_handle,
        assignee_action: format!("/collaborations/{id}/assignee"),
        number_action: format!("/collaborations/{id}/case-number"),
        lawyers,
        assignee_id: anchor("file.assignee"),
        assignee_error: posted.error("file", "assignee"),
        number,
        may_return: return_cpua.is_some(),
        return_action: format!("/collaborations/{id}/completion-requests"),
        return_cpua: return_cpua.unwrap_or_default(),
        item_rows,
        due,
        min_due: tomorrow,
        requests,
        may_consult: loaded.may_handle,
        consult_action: format!("/collaborations/{id}/consultations"),
        kinds,
        kind_id: anchor("consultation.addressee_kind"),
        kind_error: posted.error("consultation", "addressee_kind"),
        orgs: choices(&loaded.orgs, &posted.value("consultation", "addressee_org")),
        org_id: anchor("consultation.addressee_org"),
        org_error: posted.error("consultation", "addressee_org"),
        roles: choices(&roles, &posted.value("consultation", "addressee_role")),
        role_id: anchor("consultation.addressee_role"),
        role_error: posted.error("consultation", "addressee_role"),
        email: input(posted, "consultation", "addressee_email", String::new()),
        name: input(posted, "consultation", "addressee_name", String::new()),
        question: input(posted, "consultation", "question", String::new()),
        consult_due: input(posted, "consultation", "due_on", String::new()),
        consultations,
    })
}

// ---------------------------------------------------------------------------------------------
// The forms

type Work<T> = Box<dyn FnOnce(&mut DbConn, &AppState, &Actor) -> Result<T, AppError> + Send>;

/// Runs a form's command in one write transaction; on success a 303 back to the section, on a
/// refusal the case page with the errors at their fields.
async fn submit<T: Send + 'static>(
    env: PageEnv,
    id: String,
    form: Form,
    which: String,
    default_field: &'static str,
    done: &'static str,
    work: Result<Work<T>, AppError>,
) -> PageResult {
    let actor = env.actor()?.clone();
    let result = match work {
        Ok(work) => {
            let state = env.state.clone();
            crate::http::blocking(move || state.svc.write(|c| work(c, &state, &actor))).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(env.see_other(&format!("/collaborations/{id}?casework={done}#casework"))),
        Err(e) => match FormErrors::of_form(&e, env.lang, &which, default_field) {
            Some(errors) => {
                let status = match e.status_code() {
                    s if s.is_client_error() => s,
                    _ => StatusCode::UNPROCESSABLE_ENTITY,
                };
                let posted = Posted {
                    errors,
                    form: which,
                    entered: form.entered(),
                    done: None,
                };
                super::collaborations::render_case_all(
                    &env,
                    id,
                    status,
                    None,
                    None,
                    super::documents::Posted::default(),
                    posted,
                )
                .await
            }
            None => Err(env.fail(e)),
        },
    }
}

fn field(form: &Form, name: &str) -> Option<String> {
    form.get(name)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(String::from)
}

/// `POST /collaborations/{id}/completion-requests`: legal returns its track's application.
pub async fn request_completion(env: PageEnv, path: web::Path<String>, form: Form) -> PageResult {
    let id = path.into_inner();
    // The rows filled in, in order; `rows[k]` is the form's row of the input's item `k`.
    let mut rows = Vec::new();
    let mut items = Vec::new();
    for n in 0..ITEM_ROWS {
        let text = form
            .get(&format!("items[{n}].text"))
            .unwrap_or("")
            .to_string();
        let f = field(&form, &format!("items[{n}].field"));
        if text.trim().is_empty() && f.is_none() {
            continue;
        }
        rows.push(n);
        items.push(json!({"text": text, "field": f}));
    }
    // Nothing typed: the first item's text is what is missing, said at its box.
    if items.is_empty() {
        rows.push(0);
        items.push(json!({"text": ""}));
    }
    let body = json!({
        "cpua": field(&form, "cpua"),
        "items": items,
        "due_on": field(&form, "due_on"),
    });
    let work = crate::http::extract::parse_value::<CompletionInput>(body).map(|input| {
        let i = id.clone();
        Box::new(move |c: &mut DbConn, s: &AppState, a: &Actor| {
            let (now, today) = (s.svc.clock.now(), s.svc.clock.today());
            casework::request_completion(c, &s.svc.rulebooks, a, &i, input, now, today)
                .map_err(|e| renumber(e, &rows))
        }) as Work<_>
    });
    submit(
        env,
        id,
        form,
        "completion".into(),
        "items[0].text",
        "returned",
        work,
    )
    .await
}

/// An error at `items[k]…` said at the form's row `rows[k]`.
fn renumber(e: AppError, rows: &[usize]) -> AppError {
    match e {
        AppError::Invalid(mut errs) => {
            for f in &mut errs {
                if let Some(rest) = f.field.strip_prefix("items[") {
                    if let Some((k, tail)) = rest.split_once(']') {
                        if let Some(row) = k.parse::<usize>().ok().and_then(|k| rows.get(k)) {
                            f.field = format!("items[{row}]{tail}");
                        }
                    }
                }
            }
            AppError::Invalid(errs)
        }
        other => other,
    }
}

/// The text fields corrected in the answer form, through the ordinary update command (as
/// `PATCH /api/v1/collaborations/{id}`), when they differ from what the application holds; an error
/// is said at the field of the form (`patch.<field>`).
fn correct_fields(
    conn: &mut DbConn,
    state: &AppState,
    actor: &Actor,
    id: &str,
    edits: &[(String, String)],
) -> Result<(), AppError> {
    if edits.is_empty() {
        return Ok(());
    }
    let rb = &state.svc.rulebooks;
    let c = crate::app::collaborations::visible(conn, rb, actor, id)?;
    let now_json = serde_json::to_value(&c)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("collaboration JSON: {e}")))?;
    let mut patch = serde_json::Map::new();
    for (f, v) in edits {
        let current = now_json
            .get(f.as_str())
            .and_then(Value::as_str)
            .unwrap_or("");
        if v.trim() != current.trim() {
            patch.insert(f.clone(), Value::from(v.trim()));
        }
    }
    if patch.is_empty() {
        return Ok(());
    }
    let at_patch = |e: AppError| match e {
        AppError::Invalid(mut errs) => {
            for f in &mut errs {
                f.field = format!("patch.{}", f.field);
            }
            AppError::Invalid(errs)
        }
        other => other,
    };
    let input: crate::app::commands::PatchInput =
        crate::http::extract::parse_value(Value::Object(patch)).map_err(at_patch)?;
    let cmd = crate::app::commands::patch_command(input).map_err(at_patch)?;
    let (now, today) = (state.svc.clock.now(), state.svc.clock.today());
    crate::app::collaborations::execute(conn, rb, actor, id, cmd.into(), None, now, today)
        .map_err(at_patch)?;
    Ok(())
}

/// `POST /collaborations/{id}/completion-requests/{request}/answer`: the parties answer each item and
/// resubmit (the fields themselves are changed on the intake pages beforehand).
pub async fn answer_completion(
    env: PageEnv,
    path: web::Path<(String, String)>,
    form: Form,
) -> PageResult {
    let (id, request) = path.into_inner();
    let mut answers = Vec::new();
    for n in 0..1000 {
        match form.get(&format!("answers[{n}].text")) {
            Some(text) => answers.push(json!({"item": n, "text": text})),
            None => break,
        }
    }
    let edits: Vec<(String, String)> = EDITABLE
        .iter()
        .filter_map(|f| {
            form.get(&format!("patch.{f}"))
                .map(|v| (f.to_string(), v.to_string()))
        })
        .collect();
    let work =
        crate::http::extract::parse_value::<CompletionAnswerInput>(json!({"answers": answers}))
            .map(|input| {
                let (i, r) = (id.clone(), request.clone());
                Box::new(move |c: &mut DbConn, s: &AppState, a: &Actor| {
                    let (now, today) = (s.svc.clock.now(), s.svc.clock.today());
                    correct_fields(c, s, a, &i, &edits)?;
                    casework::answer_completion(c, &s.svc.rulebooks, a, &i, &r, input, now, today)
                }) as Work<_>
            });
    let which = format!("answer-{request}");
    submit(env, id, form, which, "answers[0].text", "resubmitted", work).await
}

/// `POST /collaborations/{id}/consultations`: legal asks for an opinion.
pub async fn request_consultation(env: PageEnv, path: web::Path<String>, form: Form) -> PageResult {
    let id = path.into_inner();
    let body = json!({
        "addressee_kind": field(&form, "addressee_kind"),
        "addressee_org": field(&form, "addressee_org"),
        "addressee_role": field(&form, "addressee_role"),
        "addressee_email": field(&form, "addressee_email"),
        "addressee_name": field(&form, "addressee_name"),
        "question": form.get("question").unwrap_or(""),
        "due_on": field(&form, "due_on"),
    });
    let work = crate::http::extract::parse_value::<ConsultationInput>(body).map(|input| {
        let i = id.clone();
        Box::new(move |c: &mut DbConn, s: &AppState, a: &Actor| {
            let (now, today) = (s.svc.clock.now(), s.svc.clock.today());
            casework::request_consultation(c, &s.svc.rulebooks, a, &i, input, now, today)
        }) as Work<_>
    });
    submit(
        env,
        id,
        form,
        "consultation".into(),
        "question",
        "consulted",
        work,
    )
    .await
}

/// `POST /collaborations/{id}/consultations/{consultation}/answer`: the addressee answers, or legal
/// records the answer received with its day.
pub async fn answer_consultation(
    env: PageEnv,
    path: web::Path<(String, String)>,
    form: Form,
) -> PageResult {
    let (id, k) = path.into_inner();
    let body = json!({
        "answer": form.get("answer").unwrap_or(""),
        "answered_on": field(&form, "answered_on"),
    });
    let work = crate::http::extract::parse_value::<ConsultationAnswerInput>(body).map(|input| {
        let (i, k) = (id.clone(), k.clone());
        Box::new(move |c: &mut DbConn, s: &AppState, a: &Actor| {
            let (now, today) = (s.svc.clock.now(), s.svc.clock.today());
            casework::answer_consultation(c, &s.svc.rulebooks, a, &i, &k, input, now, today)
        }) as Work<_>
    });
    let which = format!("consult-{k}");
    submit(
        env,
        id,
        form,
        which,
        "answer",
        "consultation_answered",
        work,
    )
    .await
}

/// `POST /collaborations/{id}/assignee`: legal assigns the handling lawyer (empty: nobody).
pub async fn assign(env: PageEnv, path: web::Path<String>, form: Form) -> PageResult {
    let id = path.into_inner();
    let input = AssignInput {
        assignee: field(&form, "assignee"),
    };
    let i = id.clone();
    let work: Result<Work<_>, AppError> =
        Ok(Box::new(move |c: &mut DbConn, s: &AppState, a: &Actor| {
            let now = s.svc.clock.now();
            casework::assign(c, &s.svc.rulebooks, a, &i, input, now)
        }));
    submit(env, id, form, "file".into(), "assignee", "assigned", work).await
}

/// `POST /collaborations/{id}/case-number`: legal records its own case number (empty removes it).
pub async fn set_case_number(env: PageEnv, path: web::Path<String>, form: Form) -> PageResult {
    let id = path.into_inner();
    let input = CaseNumberInput {
        case_number: field(&form, "case_number"),
    };
    let i = id.clone();
    let work: Result<Work<_>, AppError> =
        Ok(Box::new(move |c: &mut DbConn, s: &AppState, a: &Actor| {
            let now = s.svc.clock.now();
            casework::set_case_number(c, &s.svc.rulebooks, a, &i, input, now)
        }));
    submit(
        env,
        id,
        form,
        "file".into(),
        "case_number",
        "numbered",
        work,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_is_said_at_its_field_of_its_form() {
        let e = AppError::invalid("due_on", crate::msg!("completion.due_not_ahead"));
        let f = FormErrors::of_form(&e, Lang::Sv, "completion", "items[0].text").unwrap();
        assert_eq!(f.fields[0].field, "completion.due_on");
        assert_eq!(f.fields[0].anchor, "f-completion-due_on");
        // A request already answered names no field: said at the form's first answer.
        let e = AppError::Conflict(crate::msg!("casework.completion_answered"));
        let f = FormErrors::of_form(&e, Lang::En, "answer-x", "answers[0].text").unwrap();
        assert_eq!(f.fields[0].field, "answer-x.answers[0].text");
        assert_eq!(f.fields[0].anchor, "f-answer-x-answers-0--text");
        assert!(!f.fields[0].message.is_empty());
    }

    #[test]
    fn an_item_error_is_said_at_the_row_it_was_typed_in() {
        let e = AppError::invalid("items[1].text", crate::msg!("casework.text_required"));
        let AppError::Invalid(errs) = renumber(e, &[0, 2]) else {
            panic!("still invalid")
        };
        assert_eq!(errs[0].field, "items[2].text");
    }

    #[test]
    fn a_pending_decision_is_named_in_the_page_language() {
        // Issue 12: no English server text on a Swedish page.
        assert_eq!(
            super::super::commands::missing_text(Lang::Sv, "decision by Region Uppsala"),
            "Beslut från Region Uppsala"
        );
        assert_eq!(
            super::super::commands::missing_text(Lang::En, "decision by Region Uppsala"),
            "Decision by Region Uppsala"
        );
    }

    #[test]
    fn every_application_field_has_a_name_in_both_languages() {
        for f in FIELDS {
            for lang in [Lang::Sv, Lang::En] {
                assert!(!field_label(lang, f).starts_with("casework."), "{f}");
                assert_ne!(field_label(lang, f), f.replace('_', " "), "{f}");
            }
        }
        assert_eq!(shown(Lang::Sv, &json!(["a", "b"])), "a, b");
        assert_eq!(shown(Lang::En, &Value::Null), "–");
    }
}
