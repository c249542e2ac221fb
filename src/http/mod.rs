//! The HTTP edge: thin handlers that parse input, call one command or query, and map the result.
pub mod api;
pub mod extract;
pub mod headers;
pub mod metrics;
pub mod openapi;
pub mod problem;
pub mod ratelimit;

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
    /// Token requests per client (`auth.token_requests_per_minute`).
    pub token_limiter: ratelimit::RateLimiter,
    /// Request counts and latency per route, for `/metrics`.
    pub metrics: std::sync::Arc<metrics::Metrics>,
    /// Recently authenticated tokens (`auth::TOKEN_CACHE_SECONDS`).
    pub token_cache: auth::TokenCache,
}

impl AppState {
    pub fn new(svc: Services, settings: Settings) -> AppState {
        let token_limiter =
            ratelimit::RateLimiter::per_minute(settings.auth.token_requests_per_minute);
        AppState {
            svc,
            settings,
            token_limiter,
            metrics: std::sync::Arc::new(metrics::Metrics::new()),
            token_cache: auth::TokenCache::new(),
        }
    }
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
            | "/api/docs/docs.js"
            | "/api/docs/docs.css"
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
    let now = state.svc.clock.now();
    // A token seen within the last seconds needs no database round trip.
    let (hash, hit) = auth::cached_actor(&state.token_cache, &token, now);
    if let Some(actor) = hit {
        return Ok(actor);
    }
    blocking(move || {
        state
            .svc
            .read(|c| auth::authenticate_hash(c, &state.token_cache, &hash, now))
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

/// One resource with its routes; a method it does not serve answers 405 with `Allow` naming the
/// ones it does, as problem+json.
macro_rules! resource {
    ($path:expr, $($method:ident => $handler:expr),+ $(,)?) => {{
        let allow: &'static str = concat!($(stringify!($method), ", "),+);
        let allow = allow.trim_end_matches(", ").to_ascii_uppercase();
        web::resource($path)
            $(.route(web::$method().to($handler)))+
            .default_service(web::to(move || {
                let allow = allow.clone();
                async move { method_not_allowed(&allow) }
            }))
    }};
}

fn method_not_allowed(allow: &str) -> actix_web::HttpResponse {
    let mut res = actix_web::ResponseError::error_response(&AppError::MethodNotAllowed(format!(
        "this resource answers {allow}"
    )));
    if let Ok(v) = actix_web::http::header::HeaderValue::from_str(allow) {
        res.headers_mut().insert(actix_web::http::header::ALLOW, v);
    }
    res
}

/// Every route of the service.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource!("/health/live", get => api::live))
        .service(resource!("/health/ready", get => api::ready))
        .service(resource!("/api/openapi.json", get => openapi::spec))
        .service(resource!("/api/docs", get => openapi::docs_page))
        .service(resource!("/api/docs/docs.js", get => openapi::docs_script))
        .service(resource!("/api/docs/docs.css", get => openapi::docs_style))
        .service(resource!("/metrics", get => metrics::metrics))
        .service(
            web::scope("/api/v1")
                .service(resource!("/local/accounts", get => api::local_accounts))
                .service(resource!("/local/token", post => api::local_token))
                .service(resource!("/me", get => api::me))
                .service(resource!("/classify", post => api::classify))
                .service(resource!("/organisations",
                    get => api::list_organisations, post => api::create_organisation))
                .service(resource!("/organisations/{id}", get => api::get_organisation))
                .service(resource!("/registers",
                    get => api::list_registers, post => api::create_register))
                .service(resource!("/registers/{id}", get => api::get_register))
                .service(resource!("/registers/{id}/cpua", put => api::move_register))
                .service(resource!("/registers/{id}/delegations", post => api::add_delegation))
                .service(resource!("/registers/{id}/delegations/{delegation}/revoke",
                    post => api::revoke_delegation))
                .service(resource!("/registers/{id}/patient-information",
                    put => api::set_patient_information))
                .service(resource!("/collaborations",
                    get => api::list_collaborations, post => api::create_collaboration))
                .service(resource!("/collaborations/{id}",
                    get => api::get_collaboration, patch => api::patch_collaboration))
                .service(resource!("/collaborations/{id}/transitions", post => api::transition))
                .service(resource!("/collaborations/{id}/actions", post => api::action))
                .service(resource!("/collaborations/{id}/events", get => api::events))
                .service(resource!("/collaborations/{id}/audit", get => api::audit))
                .service(resource!("/collaborations/{id}/agreements",
                    post => api::create_agreement, get => api::list_agreements))
                .service(
                    resource!("/collaborations/{id}/agreements/diff", get => api::agreement_diff),
                )
                .service(
                    resource!("/collaborations/{id}/agreements/{file}", get => api::agreement_file),
                )
                .service(
                    resource!("/collaborations/{id}/agreements/{number}/deviations",
                    post => api::agreement_deviation),
                ),
        )
        .default_service(web::to(api::not_found));
}
