//! The collaborations list and the case page.
//!
//! The list is the API's list (same filters, order, keyset pages and visibility rule); the case
//! page is the API's view of one collaboration (the kept view when it is current), with the nine
//! steps as a timeline, who is holding it up and until when, and what may happen next, from the
//! view's `next` list: an action the server would refuse is shown with its reason, never as a
//! button.
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use serde::Serialize;
use serde_json::Value;

use super::{PageEnv, PageResult};
use crate::app::AppError;
use crate::domain::lang::Lang;
use crate::domain::step::Step;

#[derive(Serialize)]
struct StepChoice {
    code: &'static str,
    selected: bool,
}

#[derive(Serialize)]
struct ListPage {
    items: Vec<crate::app::collaborations::CollaborationSummary>,
    total: i64,
    total_exact: bool,
    next: Option<String>,
    steps: Vec<StepChoice>,
    overdue: bool,
    /// The search box as typed (issue 12), shown again as entered.
    search: String,
    /// The search box's message when the search was refused.
    search_error: String,
    errors: super::form::FormErrors,
    filtered: bool,
    may_create: bool,
}

/// The collaborations the signed-in person may see, newest first (or overdue first), filtered by
/// step and searched by title or reference. A refused filter (a one-letter search) comes back as
/// the form with its message at the field and no list, answering 422.
pub async fn list(env: PageEnv, req: HttpRequest) -> PageResult {
    let actor = env.actor()?.clone();
    // A filter left empty in the form is no filter.
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .filter(|(k, v)| {
            !v.trim().is_empty()
                && crate::http::api::COLLABORATION_LIST_PARAMS.contains(&k.as_str())
        })
        .collect();
    let search = pairs
        .iter()
        .find(|(k, _)| k == "q")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let entered_step = pairs
        .iter()
        .find(|(k, _)| k == "step")
        .and_then(|(_, v)| Step::parse(v));
    let entered_overdue = pairs.iter().any(|(k, v)| k == "overdue" && v == "true");
    let mut page = ListPage {
        items: Vec::new(),
        total: 0,
        total_exact: true,
        next: None,
        steps: Vec::new(),
        overdue: entered_overdue,
        search,
        search_error: String::new(),
        errors: super::form::FormErrors::default(),
        filtered: true,
        may_create: crate::app::authz::may_create(&actor).is_ok(),
    };
    let steps = |selected: Option<Step>| {
        Step::ALL
            .iter()
            .map(|s| StepChoice {
                code: s.code(),
                selected: Some(*s) == selected,
            })
            .collect()
    };
    let (q, _paging) = match crate::http::api::collaboration_list_query(&pairs, &env.state, &actor)
    {
        Ok(q) => q,
        Err(e) => {
            let errors = super::form::FormErrors::of(&e, env.lang).ok_or_else(|| env.fail(e))?;
            page.search_error = errors.at("q").unwrap_or_default().to_string();
            page.errors = errors;
            page.steps = steps(entered_step);
            return env.render_status(
                actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
                "collaborations",
                "common.list.title",
                page,
            );
        }
    };
    let step = q.step;
    let overdue = q.overdue;
    let searched = q.search.is_some();
    let (items, total, next) =
        crate::http::api::run_collaboration_list(env.state.clone(), actor.clone(), q)
            .await
            .map_err(|e| env.fail(e))?;
    let next = next.map(|cursor| {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs.iter().filter(|(k, _)| k != "cursor") {
            s.append_pair(k, v);
        }
        s.append_pair("cursor", &cursor);
        format!("/collaborations?{}", s.finish())
    });
    page.total_exact = total <= crate::db::lists::COUNT_CAP;
    page.total = total.min(crate::db::lists::COUNT_CAP);
    page.items = items;
    page.next = next;
    page.steps = steps(step);
    page.overdue = overdue;
    page.filtered = step.is_some() || overdue || searched;
    env.render("collaborations", "common.list.title", page)
}

/// One step of the timeline.
#[derive(Serialize)]
struct TimelineStep {
    number: u8,
    code: &'static str,
    /// `done`, `current` or `upcoming`.
    state: &'static str,
    state_label: String,
    current: bool,
}

fn timeline(step: Option<u8>, lang: Lang) -> Vec<TimelineStep> {
    Step::ALL
        .iter()
        .filter_map(|s| s.number().map(|n| (n, s.code())))
        .map(|(number, code)| {
            let state = match step {
                Some(cur) if number < cur => "done",
                Some(cur) if number == cur => "current",
                // A closed case has passed every step; a refused or withdrawn one shows none current.
                None => "upcoming",
                _ => "upcoming",
            };
            let key = match state {
                "done" => "case.state.done",
                "current" => "case.state.current",
                _ => "case.state.upcoming",
            };
            TimelineStep {
                number,
                code,
                state,
                state_label: super::text::t(lang, key),
                current: state == "current",
            }
        })
        .collect()
}

/// One CPUA's part of the case, where several decide: where it stands and until when.
#[derive(Serialize)]
struct Track {
    cpua_name: String,
    status: String,
    due_on: String,
    overdue: bool,
}

/// Who the case is waiting for, and until when.
#[derive(Serialize)]
struct Waiting {
    name: String,
    what: String,
    due_on: String,
    overdue: bool,
}

/// One event of the case, as the page shows it.
#[derive(Serialize)]
struct EventShown {
    at: String,
    who: String,
    role: String,
    what: String,
}

/// One agreement version, with its files.
#[derive(Serialize)]
struct AgreementShown {
    number: i32,
    created_at: String,
    html: String,
    docx: String,
    pdf: String,
    amendment: bool,
}

/// One obligation in force: met or not, and where it comes from.
#[derive(Serialize)]
struct ObligationShown {
    label: String,
    met: bool,
    evidence: String,
    missing: Vec<String>,
    source: String,
    step: u8,
}

/// An internal note of the reader's own organisation.
#[derive(Serialize)]
struct NoteShown {
    at: String,
    text: String,
}

#[derive(Serialize)]
struct CasePage {
    id: String,
    /// What the page reads of the view (see [`page_head`]).
    view: Value,
    timeline: Vec<TimelineStep>,
    tracks: Vec<Track>,
    waiting: Vec<Waiting>,
    forms: Vec<super::commands::CommandForm>,
    refused: Vec<super::commands::Refused>,
    events: Vec<EventShown>,
    agreements: Vec<AgreementShown>,
    may_see_agreements: bool,
    obligations: Vec<ObligationShown>,
    notes: Vec<NoteShown>,
    deadlines: Vec<DeadlineShown>,
    notices: Vec<NoticeShown>,
    done: String,
    errors: super::form::FormErrors,
    action: String,
    /// Documents and attachments (issue 16): the list, the upload form and the redact forms.
    documents: super::documents::Section,
    /// Case handling (issue 16): completion requests, consultations, the lawyer, the case number.
    casework: super::casework::Section,
    /// Issue 15: the case's work log, for the CPUA's staff (`app::billing::work_log` shows it to
    /// them only); empty for anyone else.
    work_log: String,
    /// Named data users (issue 16 item 6).
    data_users: super::data_users::Section,
}

/// The part of the view the template reads: title, reference, version and step. The whole view
/// stays out of the page's data, because handlebars copies the data it renders a partial with from
/// the root, and the view is most of it (issue 12, the page's render time).
fn page_head(view: &Value) -> Value {
    let c = &view["collaboration"];
    serde_json::json!({
        "version": view["version"],
        "step_number": view["step_number"],
        "collaboration": {
            "title": c["title"],
            "reference": c["reference"],
            "step": c["step"],
        },
    })
}

/// A deadline still ahead (or overdue), as the case page shows it.
#[derive(Serialize)]
struct DeadlineShown {
    what: String,
    cpua_name: String,
    due_on: String,
    overdue: bool,
    source: String,
}

/// One line of the notification log: what was told to whom, when, and whether it went out.
#[derive(Serialize)]
struct NoticeShown {
    what: String,
    to: String,
    status: String,
    at: String,
}

fn deadlines_shown(log: &crate::app::outbox::NotificationLog, lang: Lang) -> Vec<DeadlineShown> {
    log.deadlines
        .iter()
        .map(|d| DeadlineShown {
            what: super::text::t(lang, &format!("case.deadline.{}", d.code)),
            cpua_name: d.cpua_name.clone(),
            due_on: d.due_on.to_string(),
            overdue: d.overdue,
            source: format!("{}, {}", d.source_file, d.source_section),
        })
        .collect()
}

/// The newest 30 entries of the log, newest first.
fn notices_shown(log: &crate::app::outbox::NotificationLog, lang: Lang) -> Vec<NoticeShown> {
    let mut entries: Vec<&crate::app::outbox::OutboxEntry> = log.notifications.iter().collect();
    entries.sort_by_key(|e| std::cmp::Reverse(e.created_at));
    entries
        .into_iter()
        .take(30)
        .map(|n| NoticeShown {
            what: super::text::t(lang, &format!("case.notice.{}", n.event)),
            to: format!(
                "{} ({}, {})",
                n.recipient_name,
                super::text::t(lang, &format!("common.role.{}", n.recipient_role)),
                n.recipient_org
            ),
            status: super::text::t(lang, &format!("case.notice_status.{}", n.status)),
            at: super::helpers::format_datetime(n.sent_at.unwrap_or(n.created_at), lang),
        })
        .collect()
}

/// Reads the caller's view of a collaboration (the kept one when current).
pub async fn load_view(env: &PageEnv, id: String) -> Result<Value, super::PageError> {
    let actor = env.actor()?.clone();
    let rendered = env
        .blocking(move |s| {
            let (now, today) = (s.svc.clock.now(), s.svc.clock.today());
            let mut conn = s.svc.db.pool.get()?;
            crate::app::collaborations::get_rendered(
                &mut conn,
                &s.svc.rulebooks,
                &s.svc.views,
                &actor,
                &id,
                now,
                today,
            )
        })
        .await?;
    serde_json::from_slice(&rendered.body)
        .map_err(|e| env.fail(AppError::Internal(anyhow::anyhow!("view: {e}"))))
}

/// What the case page reads besides the view: the case's registers, the events the reader may
/// see and the agreement versions (`None` when the reader may not see those).
type Extras = (
    Vec<super::commands::CaseRegister>,
    Vec<crate::app::collaborations::TrailLineView>,
    Option<Vec<crate::app::agreements::AgreementVersionView>>,
    crate::app::outbox::NotificationLog,
);

async fn load_extras(
    env: &PageEnv,
    id: String,
    registers: Vec<String>,
) -> Result<Extras, super::PageError> {
    let actor = env.actor()?.clone();
    env.blocking(move |s| {
        s.svc.read(|c| {
            let mut regs = Vec::new();
            for r in &registers {
                let Some(rid) = crate::domain::ids::RegisterId::parse(r) else {
                    continue;
                };
                let v = crate::app::reference::get_register(c, &rid)?;
                regs.push(super::commands::CaseRegister {
                    id: v.id,
                    name: v.name,
                    cpua: v.cpua,
                    cpua_name: v.cpua_name,
                });
            }
            let events = crate::app::collaborations::trail_lines(c, &s.svc.rulebooks, &actor, &id)?;
            let agreements = match crate::app::agreements::list(c, &s.svc.rulebooks, &actor, &id) {
                Ok(v) => Some(v),
                // A role that may not read the agreements sees no list (the case itself it may see).
                Err(AppError::Forbidden(_)) => None,
                Err(e) => return Err(e),
            };
            // The deadlines still ahead and what the case told whom (issue 13, "Visible in the
            // case"), as the notification log's API shows them to this actor.
            let log = crate::app::outbox::notification_log(
                c,
                &s.svc.rulebooks,
                &actor,
                &id,
                s.svc.clock.today(),
            )?;
            Ok((regs, events, agreements, log))
        })
    })
    .await
}

fn track_status(lang: Lang, r: &Value) -> String {
    let key = match r
        .get("decision")
        .and_then(|d| d.get("outcome"))
        .and_then(Value::as_str)
    {
        Some("approved") => "case.track.approved",
        Some("approved_with_conditions") => "case.track.approved_with_conditions",
        Some("refused") => "case.track.refused",
        _ if r
            .get("application_complete_at")
            .is_some_and(|v| !v.is_null()) =>
        {
            "case.track.under_review"
        }
        _ if r
            .get("application_submitted_at")
            .is_some_and(|v| !v.is_null()) =>
        {
            "case.track.incomplete"
        }
        _ => "case.track.not_applied",
    };
    let released = r.get("release").is_some_and(|v| !v.is_null());
    if released {
        super::text::t(lang, "case.track.released")
    } else {
        super::text::t(lang, key)
    }
}

fn waiting_for(lang: Lang, code: &str) -> String {
    let key = match code {
        "application" => "case.waiting.application",
        "complete_dossier" => "case.waiting.complete_dossier",
        "decision" => "case.waiting.decision",
        "release" => "case.waiting.release",
        other => return other.replace('_', " "),
    };
    super::text::t(lang, key)
}

fn date_of(v: Option<&Value>, lang: Lang) -> String {
    v.and_then(Value::as_str)
        .and_then(|d| d.parse::<chrono::NaiveDate>().ok())
        .map(|d| super::helpers::format_date(d, lang))
        .unwrap_or_default()
}

fn datetime_of(v: Option<&Value>, lang: Lang) -> String {
    v.and_then(Value::as_str)
        .and_then(|d| d.parse::<chrono::DateTime<chrono::Utc>>().ok())
        .map(|d| super::helpers::format_datetime(d, lang))
        .unwrap_or_default()
}

/// The case page: the timeline, who it waits for, what the reader may do now (forms) and may not
/// yet (with the reason), the obligations, the agreement versions, the notes and the events.
pub async fn render_case(
    env: &PageEnv,
    id: String,
    status: StatusCode,
    done: Option<String>,
    posted: Option<super::commands::Posted>,
) -> PageResult {
    render_case_with(
        env,
        id,
        status,
        done,
        posted,
        super::documents::Posted::default(),
    )
    .await
}

/// The case page, with what the documents section was sent or answered (issue 16).
pub async fn render_case_with(
    env: &PageEnv,
    id: String,
    status: StatusCode,
    done: Option<String>,
    posted: Option<super::commands::Posted>,
    documents_posted: super::documents::Posted,
) -> PageResult {
    render_case_all(
        env,
        id,
        status,
        done,
        posted,
        documents_posted,
        super::casework::Posted::default(),
    )
    .await
}

/// The case page, with what the documents and the case handling sections were sent or answered
/// (issue 16).
pub async fn render_case_all(
    env: &PageEnv,
    id: String,
    status: StatusCode,
    done: Option<String>,
    posted: Option<super::commands::Posted>,
    documents_posted: super::documents::Posted,
    casework_posted: super::casework::Posted,
) -> PageResult {
    render_case_sections(
        env,
        id,
        status,
        done,
        posted,
        documents_posted,
        casework_posted,
        super::data_users::Posted::default(),
    )
    .await
}

/// The case page with what the data users section was sent or answered (issue 16 item 6).
pub async fn render_case_full(
    env: &PageEnv,
    id: String,
    status: StatusCode,
    documents_posted: super::documents::Posted,
    casework_posted: super::casework::Posted,
    data_users_posted: super::data_users::Posted,
) -> PageResult {
    render_case_sections(
        env,
        id,
        status,
        None,
        None,
        documents_posted,
        casework_posted,
        data_users_posted,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn render_case_sections(
    env: &PageEnv,
    id: String,
    status: StatusCode,
    done: Option<String>,
    posted: Option<super::commands::Posted>,
    documents_posted: super::documents::Posted,
    casework_posted: super::casework::Posted,
    data_users_posted: super::data_users::Posted,
) -> PageResult {
    let actor = env.actor()?.clone();
    let lang = env.lang;
    let view = load_view(env, id.clone()).await?;
    let collab = view.get("collaboration").cloned().unwrap_or(Value::Null);
    let register_ids: Vec<String> = collab
        .get("registers")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    let (registers, events, agreements, log) = load_extras(env, id.clone(), register_ids).await?;
    let deadlines = deadlines_shown(&log, lang);
    let notices = notices_shown(&log, lang);
    let step = view
        .get("step_number")
        .and_then(Value::as_u64)
        .and_then(|n| u8::try_from(n).ok());
    let latest_agreement = agreements
        .as_ref()
        .and_then(|a| a.iter().max_by_key(|v| v.number))
        .map(|v| (v.number, v.digest.clone()));
    let choices = super::commands::Choices {
        actor: &actor,
        registers: &registers,
        view: &view,
        latest_agreement,
        obligation_labels: super::commands::obligation_labels(
            &env.state.svc.rulebooks,
            &view,
            lang,
        ),
    };
    let (forms, refused) = super::commands::forms(lang, &choices, posted.as_ref());
    let tracks = collab
        .get("cpua_reviews")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|r| Track {
                    cpua_name: r
                        .get("cpua_name")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .into(),
                    status: track_status(lang, r),
                    due_on: if r.get("decision").is_some_and(|d| !d.is_null()) {
                        String::new()
                    } else {
                        date_of(r.get("decision_due_on"), lang)
                    },
                    overdue: view
                        .get("holding_up")
                        .and_then(Value::as_array)
                        .is_some_and(|h| {
                            h.iter().any(|h| {
                                h.get("cpua") == r.get("cpua")
                                    && h.get("overdue").and_then(Value::as_bool) == Some(true)
                            })
                        }),
                })
                .collect()
        })
        .unwrap_or_default();
    let waiting = view
        .get("holding_up")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|h| Waiting {
                    name: h
                        .get("cpua_name")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .into(),
                    what: waiting_for(
                        lang,
                        h.get("waiting_for").and_then(Value::as_str).unwrap_or(""),
                    ),
                    due_on: date_of(h.get("due_on"), lang),
                    overdue: h.get("overdue").and_then(Value::as_bool).unwrap_or(false),
                })
                .collect()
        })
        .unwrap_or_default();
    let (label, evidence, reason) = match lang {
        Lang::Sv => ("label_sv", "evidence_sv", "reason_sv"),
        Lang::En => ("label_en", "evidence_en", "reason_en"),
    };
    let st = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let obligations = view
        .get("obligations")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|o| ObligationShown {
                    label: st(o, label),
                    met: o.get("met").and_then(Value::as_bool).unwrap_or(false),
                    evidence: format!("{} {}", st(o, reason), st(o, evidence))
                        .trim()
                        .to_string(),
                    missing: o
                        .get("missing")
                        .and_then(Value::as_array)
                        .map(|m| {
                            m.iter()
                                .filter_map(Value::as_str)
                                .map(|m| super::commands::missing_text(lang, m))
                                .collect()
                        })
                        .unwrap_or_default(),
                    source: match o.get("source") {
                        Some(s) if s.is_object() => {
                            format!("{}, {}", st(s, "title"), st(s, "section"))
                        }
                        _ => super::text::t(lang, "case.added_by_legal"),
                    },
                    step: o
                        .get("gates_step")
                        .and_then(Value::as_u64)
                        .and_then(|n| u8::try_from(n).ok())
                        .unwrap_or(0),
                })
                .collect()
        })
        .unwrap_or_default();
    let notes = collab
        .get("internal_notes")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .rev()
                .map(|n| NoteShown {
                    at: datetime_of(n.get("written_at"), lang),
                    text: st(n, "text"),
                })
                .collect()
        })
        .unwrap_or_default();
    // Newest first, in Stockholm time.
    let events = events
        .iter()
        .rev()
        .map(|e| EventShown {
            at: super::helpers::format_datetime(e.occurred_at, lang),
            who: e.actor_name.clone(),
            role: crate::domain::role::Role::parse(&e.actor_role)
                .map(|r| super::role_name(lang, r))
                .unwrap_or_else(|| e.actor_role.clone()),
            what: super::commands::command_title(lang, &e.command),
        })
        .collect();
    let may_see_agreements = agreements.is_some();
    let agreements = agreements
        .unwrap_or_default()
        .iter()
        .rev()
        .map(|a| {
            let base = format!("/api/v1/collaborations/{id}/agreements/{}", a.number);
            AgreementShown {
                number: a.number,
                created_at: super::helpers::format_datetime(a.created_at, lang),
                html: format!("{base}.html"),
                docx: format!("{base}.docx"),
                pdf: format!("{base}.pdf"),
                amendment: a.amendment.is_some(),
            }
        })
        .collect();
    let errors = posted
        .as_ref()
        .map(|p| p.errors.clone())
        .unwrap_or_default();
    // The summary links to the fields as the form placed them.
    let errors = forms
        .iter()
        .find(|f| f.posted)
        .map(|f| f.errors.clone())
        .unwrap_or(errors);
    let documents = super::documents::section(env, &id, documents_posted.clone()).await?;
    // A refused upload or redaction is the form with errors this time.
    let errors = if documents_posted.errors.any {
        documents_posted.errors
    } else {
        errors
    };
    // Completion requests, consultations, the lawyer and the case number (issue 16).
    let casework = super::casework::section(env, &id, &view, &casework_posted).await?;
    let errors = if casework_posted.errors.any {
        casework_posted.errors
    } else {
        errors
    };
    // Named data users (issue 16 item 6).
    let data_users = super::data_users::section(env, &id, &data_users_posted).await?;
    let errors = if data_users_posted.errors.any {
        data_users_posted.errors
    } else {
        errors
    };
    let done = done
        .map(|c| {
            super::text::t_with(
                lang,
                "case.done",
                &[("command", super::commands::command_title(lang, &c))],
            )
        })
        .unwrap_or_default();
    let work_log = if actor.role.is_cpua_staff() {
        super::billing::work_log_href(&id)
    } else {
        String::new()
    };
    env.render_status(
        status,
        "case",
        "case.title",
        CasePage {
            action: format!("/collaborations/{id}/commands"),
            id,
            timeline: timeline(step, lang),
            tracks,
            waiting,
            forms,
            refused,
            events,
            agreements,
            may_see_agreements,
            obligations,
            notes,
            deadlines,
            notices,
            done,
            errors,
            view: page_head(&view),
            documents,
            casework,
            work_log,
            data_users,
        },
    )
}

/// The case page (`?done=<command>` after a command went through).
pub async fn case(env: PageEnv, path: web::Path<String>, req: HttpRequest) -> PageResult {
    let done = url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "done")
        .map(|(_, v)| v.into_owned())
        .filter(|c| super::commands::spec(c).is_some());
    let documents = super::documents::Posted::from_query(req.query_string());
    let casework = super::casework::Posted::from_query(req.query_string());
    let data_users = super::data_users::Posted::from_query(req.query_string());
    render_case_sections(
        &env,
        path.into_inner(),
        StatusCode::OK,
        done,
        None,
        documents,
        casework,
        data_users,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_timeline_marks_done_current_and_upcoming() {
        let t = timeline(Some(3), Lang::En);
        assert_eq!(t.len(), 9);
        assert_eq!(t[0].state, "done");
        assert_eq!(t[1].state, "done");
        assert_eq!(t[2].state, "current");
        assert!(t[2].current);
        assert_eq!(t[3].state, "upcoming");
        assert_eq!(t[2].state_label, "current step");
        assert!(timeline(None, Lang::Sv)
            .iter()
            .all(|s| s.state == "upcoming"));
    }

    #[test]
    fn every_notice_deadline_and_status_has_words_in_both_languages() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/mail-templates/sv");
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("mail templates")
            .flatten()
            .filter_map(|e| {
                e.file_name()
                    .to_str()
                    .and_then(|s| s.split('.').next())
                    .map(String::from)
            })
            .filter(|n| n != "layout")
            .collect();
        names.sort();
        names.dedup();
        assert!(names.len() > 10, "{names:?}");
        let mut keys: Vec<String> = names.iter().map(|n| format!("case.notice.{n}")).collect();
        for code in [
            "release_decision",
            "key_file_deletion",
            "usage_period_end",
            "disposal_confirmation",
        ] {
            keys.push(format!("case.deadline.{code}"));
        }
        for status in ["pending", "sent", "dead", "not_notified", "opted_out"] {
            keys.push(format!("case.notice_status.{status}"));
        }
        for k in keys {
            for lang in [Lang::Sv, Lang::En] {
                assert_ne!(super::super::text::t(lang, &k), k, "{k} has no text");
            }
        }
    }
}
