//! Handlers of mail: the notification log of a case, the caller's mail settings, and the outbox for
//! administrators.
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::extract::{query_pairs, Authenticated, JsonBody};
use super::{blocking, AppState};
use crate::app::outbox::{self, NotificationLog, NotificationSettings, OutboxEntry};
use crate::app::AppError;

type Data = web::Data<AppState>;

/// What a case told whom and when, and its pending deadlines with their dates. Parties see the mail
/// sent to parties; a person without an e-mail address is listed as `not_notified`.
#[utoipa::path(get, path = "/api/v1/collaborations/{id}/notifications", tag = "mail",
    params(("id" = String, Path, description = "collaboration id")),
    responses((status = 200, body = NotificationLog),
              (status = 404, body = super::problem::Problem, content_type = "application/problem+json")))]
pub async fn notifications(
    state: Data,
    path: web::Path<String>,
    who: Authenticated,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let log = blocking(move || {
        let today = state.svc.clock.today();
        state
            .svc
            .read(|c| outbox::notification_log(c, &state.svc.rulebooks, &who.0, &id, today))
    })
    .await?;
    Ok(HttpResponse::Ok().json(log))
}

/// A change of the caller's mail settings; an absent field stays as it is.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationSettingsInput {
    /// `false` turns off notices that are not deadlines (deadline reminders are always sent).
    pub notices: Option<bool>,
    /// `sv` or `en`.
    pub language: Option<String>,
}

/// The caller's own mail settings: notices on or off, and the language of mail.
#[utoipa::path(put, path = "/api/v1/me/notifications", tag = "mail",
    request_body = NotificationSettingsInput,
    responses((status = 200, body = NotificationSettings),
              (status = 422, body = super::problem::Problem, content_type = "application/problem+json")))]
pub async fn set_notifications(
    state: Data,
    who: Authenticated,
    body: JsonBody<NotificationSettingsInput>,
) -> Result<HttpResponse, AppError> {
    let input = body.0;
    let out = blocking(move || {
        let now = state.svc.clock.now();
        state.svc.write(|c| {
            outbox::set_settings(c, &who.0, input.notices, input.language.as_deref(), now)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// The mail outbox in one status (default `dead`: what failed on every attempt, with its last error).
/// Administrators only.
#[utoipa::path(get, path = "/api/v1/admin/outbox", tag = "mail",
    params(("status" = Option<String>, Query, description = "pending, sent, dead (default), not_notified or opted_out")),
    responses((status = 200, body = Vec<OutboxEntry>),
              (status = 403, body = super::problem::Problem, content_type = "application/problem+json"),
              (status = 422, body = super::problem::Problem, content_type = "application/problem+json")))]
pub async fn admin_outbox(
    state: Data,
    req: HttpRequest,
    who: Authenticated,
) -> Result<HttpResponse, AppError> {
    let pairs = query_pairs(&req, &["status"])?;
    let status = pairs
        .iter()
        .find(|(k, _)| k == "status")
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| "dead".into());
    let limit = state.settings.api.max_page_size;
    let rows = blocking(move || {
        state
            .svc
            .read(|c| outbox::admin_list(c, &who.0, &status, limit))
    })
    .await?;
    Ok(HttpResponse::Ok().json(rows))
}
