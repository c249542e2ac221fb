//! Case handling (issue 16, items 2-5): completion requests, consultations, the case files (handling
//! lawyer, the CPUA's case number) and the caller's to-do list. Thin edges over `app::casework`.
use actix_web::{web, HttpResponse};

use super::extract::{Authenticated, JsonBody};
use super::{blocking, AppState};
use crate::app::casework::{
    self, AssignInput, CaseFileView, CaseNumberInput, CompletionAnswerInput, CompletionInput,
    CompletionView, ConsultationAnswerInput, ConsultationInput, ConsultationView, TodoItem,
};
use crate::app::AppError;

type Data = web::Data<AppState>;

/// CPUA legal returns its track's application for completion (komplettering): named items (free
/// text, optionally the application field concerned) and a due date. The decision waits, and the
/// 30-day decision clock restarts at the resubmission (seed 001, "5. Beslut om utlämnande").
#[utoipa::path(post, path = "/api/v1/collaborations/{id}/completion-requests", tag = "casework",
    params(("id" = String, Path, description = "collaboration id")),
    request_body(content = CompletionInput, example = json!({"cpua": "…", "items": [{"text": "Attach the signed ethics decision", "field": null}], "due_on": "2026-12-20"})),
    responses((status = 201, body = CompletionView, description = "The application is returned"),
              (status = 403, description = "Only the legal team of the track's CPUA returns an application"),
              (status = 409, description = "The application is not complete, already decided, or already returned"),
              (status = 422, description = "No items, an empty item, an unknown field, or a due date not ahead")))]
pub async fn request_completion(
    state: Data,
    path: web::Path<String>,
    who: Authenticated,
    body: JsonBody<CompletionInput>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let (view, _) = blocking(move || {
        let (now, today) = (state.svc.clock.now(), state.svc.clock.today());
        state.svc.write(|c| {
            casework::request_completion(c, &state.svc.rulebooks, &who.0, &id, body.0, now, today)
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}

/// The completion requests of a case, each with its items, answers and, once answered, what changed
/// in the application field by field.
#[utoipa::path(get, path = "/api/v1/collaborations/{id}/completion-requests", tag = "casework",
    params(("id" = String, Path, description = "collaboration id")),
    responses((status = 200, body = Vec<CompletionView>),
              (status = 404, description = "No such collaboration visible to the caller")))]
pub async fn list_completions(
    state: Data,
    path: web::Path<String>,
    who: Authenticated,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let v = blocking(move || {
        state
            .svc
            .read(|c| casework::completions(c, &state.svc.rulebooks, &who.0, &id))
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// The company or the research principal answers a completion request and resubmits the application
/// (change the fields first with `PATCH /api/v1/collaborations/{id}`). A request already answered: 409.
#[utoipa::path(post, path = "/api/v1/collaborations/{id}/completion-requests/{request}/answer", tag = "casework",
    params(("id" = String, Path, description = "collaboration id"),
           ("request" = String, Path, description = "completion request id")),
    request_body(content = CompletionAnswerInput, example = json!({"answers": [{"item": 0, "text": "Attached"}]})),
    responses((status = 200, body = CompletionView, description = "Answered and resubmitted"),
              (status = 403, description = "Only a party answers"),
              (status = 404, description = "No such request"),
              (status = 409, description = "The request is already answered"),
              (status = 422, description = "An empty answer or an item the request does not have")))]
pub async fn answer_completion(
    state: Data,
    path: web::Path<(String, String)>,
    who: Authenticated,
    body: JsonBody<CompletionAnswerInput>,
) -> Result<HttpResponse, AppError> {
    let (id, request) = path.into_inner();
    let v = blocking(move || {
        let (now, today) = (state.svc.clock.now(), state.svc.clock.today());
        state.svc.write(|c| {
            casework::answer_completion(
                c,
                &state.svc.rulebooks,
                &who.0,
                &id,
                &request,
                body.0,
                now,
                today,
            )
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// CPUA legal asks the register holder, the DPO or a linkage authority for an opinion by a due date;
/// a reminder goes out before it. A DPO's answer is the evidence for the "bör" of seed 000,
/// "Menprövning …" (`dpo_not_consulted`).
#[utoipa::path(post, path = "/api/v1/collaborations/{id}/consultations", tag = "casework",
    params(("id" = String, Path, description = "collaboration id")),
    request_body(content = ConsultationInput, example = json!({"addressee_kind": "dpo", "addressee_email": "dpo@region.se", "addressee_name": "Dataskyddsombudet", "question": "Can the restriction be set?", "due_on": "2026-12-20"})),
    responses((status = 201, body = ConsultationView),
              (status = 403, description = "Only the legal team of a CPUA of the case asks"),
              (status = 422, description = "No addressee, an empty question, or a due date not ahead")))]
pub async fn request_consultation(
    state: Data,
    path: web::Path<String>,
    who: Authenticated,
    body: JsonBody<ConsultationInput>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let v = blocking(move || {
        let (now, today) = (state.svc.clock.now(), state.svc.clock.today());
        state.svc.write(|c| {
            casework::request_consultation(c, &state.svc.rulebooks, &who.0, &id, body.0, now, today)
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(v))
}

/// The consultations of a case: a CPUA's staff see their own; an addressee sees those asked of them.
#[utoipa::path(get, path = "/api/v1/collaborations/{id}/consultations", tag = "casework",
    params(("id" = String, Path, description = "collaboration id")),
    responses((status = 200, body = Vec<ConsultationView>)))]
pub async fn list_consultations(
    state: Data,
    path: web::Path<String>,
    who: Authenticated,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let v = blocking(move || {
        state
            .svc
            .read(|c| casework::consultations(c, &state.svc.rulebooks, &who.0, &id))
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// The addressee answers (signed in), or the legal team records the answer received, with its day.
#[utoipa::path(post, path = "/api/v1/collaborations/{id}/consultations/{consultation}/answer", tag = "casework",
    params(("id" = String, Path, description = "collaboration id"),
           ("consultation" = String, Path, description = "consultation id")),
    request_body(content = ConsultationAnswerInput, example = json!({"answer": "No objection", "answered_on": "2026-12-10"})),
    responses((status = 200, body = ConsultationView),
              (status = 404, description = "No such consultation for the caller"),
              (status = 409, description = "Already answered"),
              (status = 422, description = "An empty answer or a day in the future")))]
pub async fn answer_consultation(
    state: Data,
    path: web::Path<(String, String)>,
    who: Authenticated,
    body: JsonBody<ConsultationAnswerInput>,
) -> Result<HttpResponse, AppError> {
    let (id, k) = path.into_inner();
    let v = blocking(move || {
        let (now, today) = (state.svc.clock.now(), state.svc.clock.today());
        state.svc.write(|c| {
            casework::answer_consultation(
                c,
                &state.svc.rulebooks,
                &who.0,
                &id,
                &k,
                body.0,
                now,
                today,
            )
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Each CPUA's case file of the collaboration: its case number (diarienummer) and, for its own staff,
/// the handling lawyer.
#[utoipa::path(get, path = "/api/v1/collaborations/{id}/case-files", tag = "casework",
    params(("id" = String, Path, description = "collaboration id")),
    responses((status = 200, body = Vec<CaseFileView>)))]
pub async fn list_case_files(
    state: Data,
    path: web::Path<String>,
    who: Authenticated,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let v = blocking(move || {
        state
            .svc
            .read(|c| casework::case_files(c, &state.svc.rulebooks, &who.0, &id))
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// CPUA legal assigns (or reassigns, or with `null` unassigns) the handling lawyer of its case: a
/// person with the role cpua_legal in the same CPUA. Audited.
#[utoipa::path(put, path = "/api/v1/collaborations/{id}/assignee", tag = "casework",
    params(("id" = String, Path, description = "collaboration id")),
    request_body(content = AssignInput, example = json!({"assignee": "…account id…"})),
    responses((status = 200, body = CaseFileView),
              (status = 403, description = "Only the legal team of a CPUA of the case assigns"),
              (status = 422, description = "The person is no lawyer of the caller's CPUA")))]
pub async fn assign(
    state: Data,
    path: web::Path<String>,
    who: Authenticated,
    body: JsonBody<AssignInput>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let v = blocking(move || {
        let now = state.svc.clock.now();
        state
            .svc
            .write(|c| casework::assign(c, &state.svc.rulebooks, &who.0, &id, body.0, now))
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// CPUA legal records its own case number (diarienummer) beside ours; `null` removes it. Searchable
/// with `GET /api/v1/collaborations?case_number=…`. Audited.
#[utoipa::path(put, path = "/api/v1/collaborations/{id}/case-number", tag = "casework",
    params(("id" = String, Path, description = "collaboration id")),
    request_body(content = CaseNumberInput, example = json!({"case_number": "RS 2026/0123"})),
    responses((status = 200, body = CaseFileView),
              (status = 403, description = "Only the legal team of a CPUA of the case sets it"),
              (status = 422, description = "Not a case number")))]
pub async fn set_case_number(
    state: Data,
    path: web::Path<String>,
    who: Authenticated,
    body: JsonBody<CaseNumberInput>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let v = blocking(move || {
        let now = state.svc.clock.now();
        state
            .svc
            .write(|c| casework::set_case_number(c, &state.svc.rulebooks, &who.0, &id, body.0, now))
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// What the process waits for from the caller: each item with its reason, the case, a link and the
/// date, derived from the cases' state (decide by, answer feasibility, answer a completion request,
/// sign the agreement, confirm the key file deleted, answer a consultation, confirm disposal).
#[utoipa::path(get, path = "/api/v1/me/todo", tag = "casework",
    responses((status = 200, body = Vec<TodoItem>)))]
pub async fn todo(state: Data, who: Authenticated) -> Result<HttpResponse, AppError> {
    let v = blocking(move || {
        let today = state.svc.clock.today();
        state
            .svc
            .read(|c| casework::todo(c, &state.svc.rulebooks, &who.0, today))
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}
