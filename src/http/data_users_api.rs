//! Named data users (issue 16 item 6): who in the project may access the personal data, their
//! approval after release and their own confidentiality undertaking. Thin edges over
//! `app::data_users`.
use actix_web::{web, HttpResponse};

use super::extract::{Authenticated, JsonBody};
use super::{blocking, AppState};
use crate::app::data_users::{
    self, DataUserDecisionInput, DataUserInput, DataUserRemoveInput, DataUserView, DataUsersView,
    PendingUndertaking, UndertakingInput,
};
use crate::app::AppError;

type Data = web::Data<AppState>;

/// A party names a person who may access the personal data (seed 000, "Menprövning …": the
/// dossier's fifth item). Before release the person is active at once; from release on
/// (`data_release` and later) the addition waits for the CPUA's legal team.
#[utoipa::path(post, path = "/api/v1/collaborations/{id}/data-users", tag = "casework",
    params(("id" = String, Path, description = "collaboration id")),
    request_body(content = DataUserInput, example = json!({"name": "Eva Statistiker", "email": "eva@exempel.se", "project_role": "statistiker"})),
    responses((status = 201, body = DataUserView),
              (status = 403, description = "Only the company's and the research principal's representatives name people"),
              (status = 409, description = "Already named, or the case has ended"),
              (status = 422, description = "An empty name or role, or not an e-mail address")))]
pub async fn add_data_user(
    state: Data,
    path: web::Path<String>,
    who: Authenticated,
    body: JsonBody<DataUserInput>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let v = blocking(move || {
        let now = state.svc.clock.now();
        state
            .svc
            .write(|c| data_users::add(c, &state.svc.rulebooks, &who.0, &id, body.0, now))
    })
    .await?;
    Ok(HttpResponse::Created().json(v))
}

/// The named data users of a case, with their status, approval, removal and undertaking.
#[utoipa::path(get, path = "/api/v1/collaborations/{id}/data-users", tag = "casework",
    params(("id" = String, Path, description = "collaboration id")),
    responses((status = 200, body = DataUsersView),
              (status = 404, description = "No such collaboration visible to the caller")))]
pub async fn list_data_users(
    state: Data,
    path: web::Path<String>,
    who: Authenticated,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let v = blocking(move || {
        state
            .svc
            .read(|c| data_users::list(c, &state.svc.rulebooks, &who.0, &id))
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// CPUA legal of the case approves an addition made after release, or refuses it with a reason.
#[utoipa::path(post, path = "/api/v1/collaborations/{id}/data-users/{user}/decision", tag = "casework",
    params(("id" = String, Path, description = "collaboration id"),
           ("user" = String, Path, description = "data user id")),
    request_body(content = DataUserDecisionInput, example = json!({"approve": false, "reason": "The person's part is not described"})),
    responses((status = 200, body = DataUserView),
              (status = 403, description = "Only the legal team of a CPUA of the case decides"),
              (status = 404, description = "No such data user"),
              (status = 409, description = "The person is not waiting for approval"),
              (status = 422, description = "A refusal without a reason")))]
pub async fn decide_data_user(
    state: Data,
    path: web::Path<(String, String)>,
    who: Authenticated,
    body: JsonBody<DataUserDecisionInput>,
) -> Result<HttpResponse, AppError> {
    let (id, user) = path.into_inner();
    let v = blocking(move || {
        let now = state.svc.clock.now();
        state
            .svc
            .write(|c| data_users::decide(c, &state.svc.rulebooks, &who.0, &id, &user, body.0, now))
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// A party or CPUA legal removes a named person. The record stays, with who, when and why.
#[utoipa::path(post, path = "/api/v1/collaborations/{id}/data-users/{user}/remove", tag = "casework",
    params(("id" = String, Path, description = "collaboration id"),
           ("user" = String, Path, description = "data user id")),
    request_body(content = DataUserRemoveInput, example = json!({"reason": "Left the project"})),
    responses((status = 200, body = DataUserView),
              (status = 403, description = "Neither a party nor the legal team of a CPUA of the case"),
              (status = 404, description = "No such data user"),
              (status = 409, description = "Already removed")))]
pub async fn remove_data_user(
    state: Data,
    path: web::Path<(String, String)>,
    who: Authenticated,
    body: JsonBody<DataUserRemoveInput>,
) -> Result<HttpResponse, AppError> {
    let (id, user) = path.into_inner();
    let v = blocking(move || {
        let now = state.svc.clock.now();
        state
            .svc
            .write(|c| data_users::remove(c, &state.svc.rulebooks, &who.0, &id, &user, body.0, now))
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// The confidentiality undertakings waiting for the signed-in person (by their verified e-mail
/// address), each with the text to read in Swedish and English and its version.
#[utoipa::path(get, path = "/api/v1/me/undertakings", tag = "casework",
    responses((status = 200, body = Vec<PendingUndertaking>)))]
pub async fn my_undertakings(state: Data, who: Authenticated) -> Result<HttpResponse, AppError> {
    let v = blocking(move || state.svc.read(|c| data_users::pending_for_me(c, &who.0))).await?;
    Ok(HttpResponse::Ok().json(v))
}

/// The named person confirms their own confidentiality undertaking, signed in with the named
/// address, on the version of the text they read. Anyone else: 404.
#[utoipa::path(post, path = "/api/v1/me/undertakings/{user}", tag = "casework",
    params(("user" = String, Path, description = "data user id")),
    request_body(content = UndertakingInput, example = json!({"accept": true, "version": "2026-12-1"})),
    responses((status = 200, body = DataUserView),
              (status = 404, description = "No such data user named with the caller's address"),
              (status = 409, description = "Already confirmed, or no longer named"),
              (status = 422, description = "Not accepted, or a version of the text no longer in force")))]
pub async fn confirm_undertaking(
    state: Data,
    path: web::Path<String>,
    who: Authenticated,
    body: JsonBody<UndertakingInput>,
) -> Result<HttpResponse, AppError> {
    let user = path.into_inner();
    let v = blocking(move || {
        let now = state.svc.clock.now();
        state
            .svc
            .write(|c| data_users::confirm_undertaking(c, &who.0, &user, body.0, now))
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}
