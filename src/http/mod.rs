//! The HTTP edge: thin handlers that parse input, call one command or query, and map the result.
pub mod api;
pub mod extract;
pub mod headers;
pub mod mail;
pub mod metrics;
pub mod openapi;
pub mod problem;
pub mod ratelimit;
pub mod routes;

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
/// where authentication is decided, read from the route table ([`routes`]).
pub fn is_public(path: &str) -> bool {
    routes::is_public(path)
}

fn bearer(req: &ServiceRequest) -> Result<String, AppError> {
    let h = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .ok_or_else(|| AppError::Unauthenticated(crate::msg!("unauthenticated.no_token")))?;
    let s = h
        .to_str()
        .map_err(|_| AppError::Unauthenticated(crate::msg!("unauthenticated.not_text")))?;
    match s.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim().to_string())
        }
        _ => Err(AppError::Unauthenticated(crate::msg!(
            "unauthenticated.not_bearer"
        ))),
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
    let is_api_key = token.starts_with(auth::API_KEY_PREFIX);
    blocking(move || {
        let actor = state
            .svc
            .read(|c| auth::authenticate_hash(c, &state.token_cache, &hash, is_api_key, now))?
            .ok_or_else(|| {
                AppError::Unauthenticated(crate::msg!("unauthenticated.unknown_token"))
            })?;
        if is_api_key {
            state
                .svc
                .write(|c| auth::record_api_key_use(c, &actor, now))?;
        }
        Ok(actor)
    })
    .await
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

/// Every route of the service, from the route table ([`routes`]).
pub fn routes(cfg: &mut web::ServiceConfig) {
    routes::configure(cfg)
}
