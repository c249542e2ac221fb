//! Outbound events (issue 16, item 8): an organisation's webhook subscriptions and their delivery log.
//! Thin edges over `app::webhooks_out`.
use actix_web::{web, HttpResponse};

use super::extract::{Authenticated, JsonBody};
use super::{blocking, AppState};
use crate::app::webhooks_out::{
    self, CreatedSubscription, DeliveryView, SubscriptionInput, SubscriptionView,
};
use crate::app::AppError;
use crate::config::AuthMode;

type Data = web::Data<AppState>;

fn org_id(s: &str) -> Result<crate::domain::ids::OrgId, AppError> {
    super::api::org_id(s)
}

/// Subscribes the organisation's system (diary, e-archive, ERP) to event types of the cases the
/// organisation is on. Each event is POSTed as JSON `{"type", "timestamp", "data"}`, signed by the
/// Standard Webhooks scheme (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,…`) with the
/// `secret` of this answer, which is shown only here. Failed deliveries are retried with a doubling
/// pause. Managed by the organisation's CPUA legal team, company representatives or research
/// principal representatives, signed in as persons.
#[utoipa::path(post, path = "/api/v1/organisations/{id}/webhook-subscriptions", tag = "webhooks",
    params(("id" = String, Path, description = "organisation id")),
    request_body(content = SubscriptionInput, example = json!({"url": "https://diarium.region.example/samverkan/events", "event_types": ["application_completed", "decision_taken"], "description": "Diariet"})),
    responses((status = 201, body = CreatedSubscription, description = "Subscribed; the secret is shown this once"),
              (status = 403, description = "The caller's role does not manage the organisation's subscriptions, or an API key"),
              (status = 422, description = "The URL is not http(s), or (outside local mode) resolves to a loopback, private or link-local address; an unknown event type; none")))]
pub async fn create_webhook_subscription(
    state: Data,
    path: web::Path<String>,
    who: Authenticated,
    body: JsonBody<SubscriptionInput>,
) -> Result<HttpResponse, AppError> {
    let org = org_id(&path)?;
    let created = blocking(move || {
        crate::app::authz::may_manage_webhooks(&who.0, &org)?;
        // The name is resolved before the transaction: no write lock is held while DNS answers.
        let guard = state.settings.auth.mode != AuthMode::Local;
        let url = webhooks_out::check_url(&body.0.url, guard)?;
        let now = state.svc.clock.now();
        state
            .svc
            .write(|c| webhooks_out::create(c, &who.0, &org, body.0, url, now))
    })
    .await?;
    Ok(HttpResponse::Created().json(created))
}

/// The organisation's live subscriptions, oldest first; never a secret.
#[utoipa::path(get, path = "/api/v1/organisations/{id}/webhook-subscriptions", tag = "webhooks",
    params(("id" = String, Path, description = "organisation id")),
    responses((status = 200, body = Vec<SubscriptionView>),
              (status = 403, description = "The caller's role does not manage the organisation's subscriptions")))]
pub async fn list_webhook_subscriptions(
    state: Data,
    path: web::Path<String>,
    who: Authenticated,
) -> Result<HttpResponse, AppError> {
    let org = org_id(&path)?;
    let v = blocking(move || state.svc.read(|c| webhooks_out::list(c, &who.0, &org))).await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Deletes a subscription: nothing more is sent to it, and its pending deliveries are cancelled.
#[utoipa::path(delete, path = "/api/v1/organisations/{id}/webhook-subscriptions/{subscription}", tag = "webhooks",
    params(("id" = String, Path, description = "organisation id"),
           ("subscription" = String, Path, description = "subscription id")),
    responses((status = 204, description = "Deleted"),
              (status = 403, description = "The caller's role does not manage the organisation's subscriptions")))]
pub async fn delete_webhook_subscription(
    state: Data,
    path: web::Path<(String, String)>,
    who: Authenticated,
) -> Result<HttpResponse, AppError> {
    let (org, sub) = path.into_inner();
    let org = org_id(&org)?;
    blocking(move || {
        let now = state.svc.clock.now();
        state
            .svc
            .write(|c| webhooks_out::delete(c, &who.0, &org, &sub, now))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The delivery log of a subscription, newest first (at most 200): each event's id and type, the
/// attempts, the last HTTP status or error, and when it was delivered.
#[utoipa::path(get, path = "/api/v1/organisations/{id}/webhook-subscriptions/{subscription}/deliveries", tag = "webhooks",
    params(("id" = String, Path, description = "organisation id"),
           ("subscription" = String, Path, description = "subscription id")),
    responses((status = 200, body = Vec<DeliveryView>),
              (status = 403, description = "The caller's role does not manage the organisation's subscriptions")))]
pub async fn list_webhook_deliveries(
    state: Data,
    path: web::Path<(String, String)>,
    who: Authenticated,
) -> Result<HttpResponse, AppError> {
    let (org, sub) = path.into_inner();
    let org = org_id(&org)?;
    let v = blocking(move || {
        state
            .svc
            .read(|c| webhooks_out::deliveries(c, &who.0, &org, &sub))
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}
