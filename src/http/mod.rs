//! The HTTP edge: thin handlers that parse input, call one command or query, and map the result.
pub mod api;
pub mod auth_routes;
pub mod billing_api;
pub mod billing_receipts_api;
pub mod casework_api;
pub mod data_users_api;
pub mod documents_api;
pub mod edge;
pub mod extract;
pub mod headers;
pub mod identity_api;
pub mod mail;
pub mod metrics;
pub mod openapi;
pub mod payments_api;
pub mod problem;
pub mod ratelimit;
pub mod routes;
pub mod signing_api;
pub mod webhooks_out_api;

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
    /// The OpenID providers, discovered at start (none in local mode).
    pub providers: std::sync::Arc<crate::app::oidc::Providers>,
    /// The organisation's seal of executed agreements (loaded at start; see `startup::seal_key`).
    pub seal_key: std::sync::Arc<crate::render::seal::SealKey>,
    /// Where documents' bytes are kept (`documents.store`, issue 16).
    pub documents: std::sync::Arc<dyn crate::app::document_store::DocumentStore>,
    /// The seal job of executed agreements (`app::signing_seal`): run after a completion commits.
    pub sealer: std::sync::Arc<crate::app::signing_seal::Sealer>,
}

impl AppState {
    pub fn new(
        svc: Services,
        settings: Settings,
        seal_key: std::sync::Arc<crate::render::seal::SealKey>,
        documents: std::sync::Arc<dyn crate::app::document_store::DocumentStore>,
        sealer: std::sync::Arc<crate::app::signing_seal::Sealer>,
    ) -> AppState {
        let token_limiter =
            ratelimit::RateLimiter::per_minute(settings.auth.token_requests_per_minute);
        AppState {
            documents,
            seal_key,
            sealer,
            svc,
            settings,
            token_limiter,
            metrics: std::sync::Arc::new(metrics::Metrics::new()),
            token_cache: auth::TokenCache::new(),
            providers: std::sync::Arc::new(crate::app::oidc::Providers::default()),
        }
    }

    /// With the OpenID providers discovered at start.
    pub fn with_providers(mut self, providers: crate::app::oidc::Providers) -> AppState {
        self.providers = std::sync::Arc::new(providers);
        self
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
///
/// A request authenticates with a bearer token (`Authorization`) or, when it has none, with the
/// session cookie. An unsafe request (POST, PUT, PATCH, DELETE) made with the cookie also needs the
/// session's CSRF token (header `X-CSRF-Token`, or the form field `csrf_token`) and an `Origin` (or
/// `Referer`) equal to the service's address ([`Settings::public_url`](crate::config::Settings::public_url)). Bearer tokens never need CSRF.
pub async fn authenticate(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let oidc = req
        .app_data::<web::Data<AppState>>()
        .is_some_and(|s| s.settings.auth.mode == crate::config::AuthMode::Oidc);
    if oidc && req.path().starts_with("/api/v1/local/") {
        // In oidc mode the demo accounts' routes do not exist.
        let e = api::route_not_found(req.method().as_str(), req.path());
        return Ok(req.error_response(e).map_into_right_body());
    }
    if !is_public(req.path()) {
        let page = crate::web::is_page(req.path());
        match actor_of(&mut req).await {
            Ok((actor, session, hash)) => {
                tracing::Span::current().record("actor", actor.account.as_str());
                // The credential's own limit (an API key's scope), for every route alike.
                if let Err(e) = crate::app::authz::may_use_method(&actor, req.method().as_str()) {
                    return Ok(refuse(req, e, page));
                }
                req.extensions_mut().insert(actor);
                req.extensions_mut().insert(session);
                req.extensions_mut().insert(auth::CredentialHash(hash));
            }
            Err(e) => return Ok(refuse(req, e, page)),
        }
    } else if crate::web::is_page(req.path()) {
        // A public page (sign-in) still knows who is signed in, when someone is.
        if let Ok((actor, session, _)) = actor_of(&mut req).await {
            req.extensions_mut().insert(actor);
            req.extensions_mut().insert(session);
        }
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// The refusal of a request: problem+json for the API, a page (or the way to the sign-in page) for
/// a page.
fn refuse<B>(req: ServiceRequest, e: AppError, page: bool) -> ServiceResponse<EitherBody<B>> {
    if page {
        let res = crate::web::refused(req.request(), &e);
        return req.into_response(res).map_into_right_body();
    }
    req.error_response(e).map_into_right_body()
}

fn app_state(req: &ServiceRequest) -> Result<web::Data<AppState>, AppError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no application state")))
}

/// The actor behind the request's bearer token or session cookie, the session, and the credential's
/// hash (the key of its sessions or api_keys row).
async fn actor_of(
    req: &mut ServiceRequest,
) -> Result<
    (
        crate::domain::role::Actor,
        auth_routes::CurrentSession,
        String,
    ),
    AppError,
> {
    let state = app_state(req)?;
    let has_bearer = req
        .headers()
        .contains_key(actix_web::http::header::AUTHORIZATION);
    if !has_bearer {
        let name = auth_routes::session_cookie_name(&state.settings);
        if let Some(c) = req.cookie(name) {
            let token = c.value().to_string();
            let actor = cookie_actor(req, &state, &token).await?;
            let hash = auth::hash_token(&token);
            return Ok((
                actor,
                auth_routes::CurrentSession {
                    token,
                    cookie: true,
                },
                hash,
            ));
        }
    }
    let token = bearer(req)?;
    let session = auth_routes::CurrentSession {
        token: token.clone(),
        cookie: false,
    };
    let now = state.svc.clock.now();
    // A token seen within the last seconds needs no database round trip.
    let (hash, hit) = auth::cached_actor(&state.token_cache, &token, now);
    if let Some(actor) = hit {
        return Ok((actor, session, hash));
    }
    let is_api_key = token.starts_with(auth::API_KEY_PREFIX);
    let actor = blocking(move || {
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
        Ok((actor, hash))
    })
    .await?;
    Ok((actor.0, session, actor.1))
}

/// The actor behind a session cookie, checked in the database on every request (so a revoked role
/// or a logout ends it at once), touched at most once a minute, with the CSRF check for unsafe
/// methods.
async fn cookie_actor(
    req: &mut ServiceRequest,
    state: &web::Data<AppState>,
    token: &str,
) -> Result<crate::domain::role::Actor, AppError> {
    let now = state.svc.clock.now();
    let unknown = || AppError::Unauthenticated(crate::msg!("unauthenticated.unknown_session"));
    if !token.starts_with(crate::app::login::COOKIE_TOKEN_PREFIX) || token.len() > 200 {
        return Err(unknown());
    }
    let (s2, t2) = (state.clone(), token.to_string());
    let session = blocking(move || {
        s2.svc
            .read(|c| crate::app::login::cookie_session(c, &t2, now))
    })
    .await?
    .ok_or_else(unknown)?;
    if crate::app::authz::is_unsafe_method(req.method().as_str()) {
        check_origin(req.headers(), &state.settings.public_url())?;
        let given = csrf_token_of(req).await?;
        let Some(given) = given else {
            return Err(AppError::Forbidden(crate::msg!("csrf.missing_token")));
        };
        if session.csrf_hash.as_deref() != Some(auth::hash_token(&given).as_str()) {
            return Err(AppError::Forbidden(crate::msg!("csrf.wrong_token")));
        }
    }
    if session.stale {
        let (s2, t2) = (state.clone(), token.to_string());
        blocking(move || s2.svc.write(|c| crate::app::login::touch(c, &t2, now))).await?;
    }
    Ok(session.actor)
}

/// The request's `Origin`, or failing that its `Referer`'s origin, must be the service's own: the
/// CSRF check of cookie sessions here, and of the sign-in form (posted before there is a session).
pub(crate) fn check_origin(
    h: &actix_web::http::header::HeaderMap,
    public_url: &str,
) -> Result<(), AppError> {
    let origin = h
        .get(actix_web::http::header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| {
            h.get(actix_web::http::header::REFERER)
                .and_then(|v| v.to_str().ok())
                .and_then(|r| url::Url::parse(r).ok())
                .map(|u| u.origin().ascii_serialization())
        });
    match origin {
        Some(o) if !public_url.is_empty() && o == public_url => Ok(()),
        other => Err(AppError::Forbidden(crate::msg!(
            "csrf.wrong_origin",
            origin = other.unwrap_or_else(|| "-".into())
        ))),
    }
}

/// The CSRF token sent with a request: the `X-CSRF-Token` header, or the `csrf_token` field of a
/// form body (read, then put back for the handler).
async fn csrf_token_of(req: &mut ServiceRequest) -> Result<Option<String>, AppError> {
    if let Some(v) = req.headers().get("x-csrf-token") {
        return Ok(v.to_str().ok().map(str::to_string));
    }
    let content_type = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    if let Some(boundary) = multipart_boundary(&content_type) {
        return multipart_csrf_token(req, &boundary).await;
    }
    let is_form = content_type.starts_with("application/x-www-form-urlencoded");
    if !is_form {
        return Ok(None);
    }
    let body = req
        .extract::<web::Bytes>()
        .await
        .map_err(|_| AppError::Forbidden(crate::msg!("csrf.missing_token")))?;
    let token = url::form_urlencoded::parse(&body)
        .find(|(k, _)| k == "csrf_token")
        .map(|(_, v)| v.into_owned());
    req.set_payload(actix_web::dev::Payload::from(body));
    Ok(token)
}

/// How much of a multipart body is read, at most, to find the CSRF token in its first part.
const MULTIPART_PEEK_BYTES: usize = 8192;

/// The boundary of a `multipart/form-data` content type.
fn multipart_boundary(content_type: &str) -> Option<String> {
    let mut parts = content_type.split(';');
    if !parts
        .next()?
        .trim()
        .eq_ignore_ascii_case("multipart/form-data")
    {
        return None;
    }
    parts.find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_string())
            .filter(|b| !b.is_empty())
    })
}

/// What the start of a multipart body says of its first part.
#[derive(Debug, PartialEq, Eq)]
enum FirstPart {
    /// The first part is `csrf_token`, with this value.
    Token(String),
    /// The first part is something else (or the body is malformed): no token.
    Other,
    /// More of the body is needed to tell.
    More,
}

/// Reads the first part of a multipart body, if it is the `csrf_token` field (a page's form puts it
/// first, and browsers send fields in document order).
fn first_part(buf: &[u8], boundary: &str) -> FirstPart {
    let open = format!("--{boundary}\r\n");
    if buf.len() < open.len() {
        return if open.as_bytes().starts_with(buf) {
            FirstPart::More
        } else {
            FirstPart::Other
        };
    }
    if !buf.starts_with(open.as_bytes()) {
        return FirstPart::Other;
    }
    let rest = &buf[open.len()..];
    let Some(end) = find(rest, b"\r\n\r\n") else {
        return FirstPart::More;
    };
    let head = String::from_utf8_lossy(&rest[..end]).to_ascii_lowercase();
    let named = head.lines().any(|l| {
        l.starts_with("content-disposition:")
            && l.contains("form-data")
            && l.split(';').any(|p| p.trim() == "name=\"csrf_token\"")
    });
    if !named {
        return FirstPart::Other;
    }
    let body = &rest[end + 4..];
    let close = format!("\r\n--{boundary}");
    match find(body, close.as_bytes()) {
        Some(n) => match std::str::from_utf8(&body[..n]) {
            Ok(v) => FirstPart::Token(v.trim().to_string()),
            Err(_) => FirstPart::Other,
        },
        None => FirstPart::More,
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The CSRF token in the first part of a multipart body (a page's upload form): at most
/// [`MULTIPART_PEEK_BYTES`] are read, then put back in front of the rest of the body, which the
/// handler streams as it arrives (a document is never held here).
async fn multipart_csrf_token(
    req: &mut ServiceRequest,
    boundary: &str,
) -> Result<Option<String>, AppError> {
    use futures_util::StreamExt;
    let mut payload = req.take_payload();
    let mut buf = web::BytesMut::new();
    let mut token = None;
    while buf.len() < MULTIPART_PEEK_BYTES {
        match first_part(&buf, boundary) {
            FirstPart::Token(t) => {
                token = Some(t);
                break;
            }
            FirstPart::Other => break,
            FirstPart::More => {}
        }
        match payload.next().await {
            Some(Ok(chunk)) => buf.extend_from_slice(&chunk),
            Some(Err(_)) => return Err(AppError::BadRequest(crate::msg!("read_body"))),
            None => break,
        }
    }
    if token.is_none() {
        if let FirstPart::Token(t) = first_part(&buf, boundary) {
            token = Some(t);
        }
    }
    let prefix = buf.freeze();
    let rest =
        futures_util::stream::once(async move { Ok::<_, actix_web::error::PayloadError>(prefix) })
            .chain(payload);
    req.set_payload(actix_web::dev::Payload::Stream {
        payload: Box::pin(rest),
    });
    Ok(token)
}

/// Every route of the service, from the route table ([`routes`]).
pub fn routes(cfg: &mut web::ServiceConfig) {
    routes::configure(cfg)
}

#[cfg(test)]
mod multipart_csrf_tests {
    use super::*;

    #[test]
    fn the_csrf_token_is_read_from_the_first_part_of_a_multipart_form() {
        assert_eq!(
            multipart_boundary("multipart/form-data; boundary=\"abc\"").as_deref(),
            Some("abc")
        );
        assert_eq!(multipart_boundary("application/json"), None);
        let body = b"--abc\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\ntok123\r\n--abc\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n%PDF-";
        assert_eq!(first_part(body, "abc"), FirstPart::Token("tok123".into()));
        assert_eq!(first_part(&body[..20], "abc"), FirstPart::More);
        assert_eq!(first_part(&body[..70], "abc"), FirstPart::More);
        let other =
            b"--abc\r\nContent-Disposition: form-data; name=\"type\"\r\n\r\nother\r\n--abc--";
        assert_eq!(first_part(other, "abc"), FirstPart::Other);
        // A name that merely contains the word is not the field.
        let sly =
            b"--abc\r\nContent-Disposition: form-data; name=\"x_csrf_token\"\r\n\r\nt\r\n--abc--";
        assert_eq!(first_part(sly, "abc"), FirstPart::Other);
        assert_eq!(first_part(b"garbage", "abc"), FirstPart::Other);
    }
}
