//! The HTTP edge: thin handlers that parse input, call one command or query, and map the result.
pub mod api;
pub mod extract;
pub mod openapi;
pub mod problem;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage};

use crate::app::{auth, AppError, Services};
use crate::config::Settings;

/// What every handler can reach.
pub struct AppState {
    pub svc: Services,
    pub settings: Settings,
}

/// Runs blocking database work off the async workers, keeping the request's tracing span.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    let span = tracing::Span::current();
    web::block(move || span.in_scope(f))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("blocking task failed: {e}")))?
}

/// The routes anyone may call without a token. Everything else needs one: this is the one place
/// where authentication is decided.
pub fn is_public(path: &str) -> bool {
    matches!(
        path,
        "/health/live"
            | "/health/ready"
            | "/api/openapi.json"
            | "/api/docs"
            | "/api/v1/local/accounts"
            | "/api/v1/local/token"
    )
}

fn bearer(req: &ServiceRequest) -> Result<String, AppError> {
    let h = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .ok_or_else(|| AppError::Unauthenticated("send Authorization: Bearer <token>".into()))?;
    let s = h
        .to_str()
        .map_err(|_| AppError::Unauthenticated("the Authorization header is not text".into()))?;
    match s.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim().to_string())
        }
        _ => Err(AppError::Unauthenticated(
            "the Authorization header must be Bearer <token>".into(),
        )),
    }
}

/// Authenticates every non-public request and puts the actor in the request's extensions. A refusal
/// is answered here, as problem+json, so the layers outside see an ordinary response.
pub async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if !is_public(req.path()) {
        match actor_of(&req).await {
            Ok(actor) => {
                tracing::Span::current().record("actor", actor.account.as_str());
                req.extensions_mut().insert(actor);
            }
            Err(e) => return Ok(req.error_response(e).map_into_right_body()),
        }
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

async fn actor_of(req: &ServiceRequest) -> Result<crate::domain::role::Actor, AppError> {
    let token = bearer(req)?;
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no application state")))?;
    blocking(move || {
        let now = state.svc.clock.now();
        state.svc.read(|c| auth::authenticate(c, &token, now))
    })
    .await?
    .ok_or_else(|| AppError::Unauthenticated("the token is unknown or has expired".into()))
}

/// Returns the request id (from the tracing middleware) as `x-request-id` on every response,
/// errors included, so a user can quote it and staff can find the log line.
pub async fn request_id_header(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = req
        .extensions()
        .get::<tracing_actix_web::RequestId>()
        .map(|r| r.to_string());
    let mut res = next.call(req).await?;
    if let Some(v) = id.and_then(|i| actix_web::http::header::HeaderValue::from_str(&i).ok()) {
        res.headers_mut().insert(
            actix_web::http::header::HeaderName::from_static("x-request-id"),
            v,
        );
    }
    Ok(res)
}

/// Every route of the service.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/health/live", web::get().to(api::live))
        .route("/health/ready", web::get().to(api::ready))
        .route("/api/openapi.json", web::get().to(openapi::spec))
        .route("/api/docs", web::get().to(openapi::docs_page))
        .service(
            web::scope("/api/v1")
                .route("/local/accounts", web::get().to(api::local_accounts))
                .route("/local/token", web::post().to(api::local_token))
                .route("/me", web::get().to(api::me))
                .route("/classify", web::post().to(api::classify))
                .route("/organisations", web::get().to(api::list_organisations))
                .route("/organisations", web::post().to(api::create_organisation))
                .route("/organisations/{id}", web::get().to(api::get_organisation))
                .route("/registers", web::get().to(api::list_registers))
                .route("/registers", web::post().to(api::create_register))
                .route("/registers/{id}", web::get().to(api::get_register))
                .route("/registers/{id}/cpua", web::put().to(api::move_register))
                .route(
                    "/registers/{id}/delegations",
                    web::post().to(api::add_delegation),
                )
                .route(
                    "/registers/{id}/delegations/{delegation}/revoke",
                    web::post().to(api::revoke_delegation),
                )
                .route(
                    "/registers/{id}/patient-information",
                    web::put().to(api::set_patient_information),
                )
                .route("/collaborations", web::get().to(api::list_collaborations))
                .route("/collaborations", web::post().to(api::create_collaboration))
                .route(
                    "/collaborations/{id}",
                    web::get().to(api::get_collaboration),
                )
                .route(
                    "/collaborations/{id}",
                    web::patch().to(api::patch_collaboration),
                )
                .route(
                    "/collaborations/{id}/transitions",
                    web::post().to(api::transition),
                )
                .route("/collaborations/{id}/actions", web::post().to(api::action))
                .route("/collaborations/{id}/events", web::get().to(api::events))
                .route("/collaborations/{id}/audit", web::get().to(api::audit))
                .route(
                    "/collaborations/{id}/agreements",
                    web::post().to(api::create_agreement),
                )
                .route(
                    "/collaborations/{id}/agreements",
                    web::get().to(api::list_agreements),
                )
                .route(
                    "/collaborations/{id}/agreements/diff",
                    web::get().to(api::agreement_diff),
                )
                .route(
                    "/collaborations/{id}/agreements/{file}",
                    web::get().to(api::agreement_file),
                )
                .route(
                    "/collaborations/{id}/agreements/{number}/deviations",
                    web::post().to(api::agreement_deviation),
                ),
        )
        .default_service(web::to(api::not_found));
}
