//! Sign-in through an OpenID provider: `GET /auth/login`, `GET /auth/callback`, `POST /auth/logout`,
//! `GET /auth/step-up`, and `GET /api/v1/session/csrf` for pages that need the CSRF token. A failed
//! sign-in is answered with a small page in Swedish and English, never a 500.
use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;

use super::{blocking, AppState};
use crate::app::auth::hash_token;
use crate::app::login::{self, SignInOutcome};
use crate::app::AppError;
use crate::config::Settings;
use crate::domain::lang::Lang;
use crate::domain::messages::Message;

type Data = web::Data<AppState>;

/// The session a request was authenticated with (put there by the middleware).
#[derive(Debug, Clone)]
pub struct CurrentSession {
    /// The token itself (from the cookie or the `Authorization` header).
    pub token: String,
    /// Whether it came in the session cookie (unsafe requests then needed the CSRF token).
    pub cookie: bool,
}

/// The session cookie's name: `__Host-samverkan` behind HTTPS; over plain HTTP (tests, loopback)
/// browsers refuse `__Host-` without `Secure`, so the name is plain `samverkan`.
pub fn session_cookie_name(settings: &Settings) -> &'static str {
    if settings.is_https() {
        "__Host-samverkan"
    } else {
        "samverkan"
    }
}

/// The cookie that ties a sign-in under way to the browser that started it (its `state`).
pub fn login_cookie_name(settings: &Settings) -> &'static str {
    if settings.is_https() {
        "__Host-samverkan-login"
    } else {
        "samverkan-login"
    }
}

fn cookie(settings: &Settings, name: &'static str, value: String, max_age: i64) -> Cookie<'static> {
    Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(settings.is_https())
        .max_age(time::Duration::seconds(max_age))
        .finish()
}

/// Whether `next` is a path on this service: starts with one `/`, no scheme, no host, no
/// backslash or control character (browsers read `/\evil` and `//evil` as another host).
pub fn is_local_path(next: &str) -> bool {
    next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(|c| c.is_control())
        && url::Url::parse("http://samverkan.invalid")
            .and_then(|b| b.join(next))
            .is_ok_and(|u| u.host_str() == Some("samverkan.invalid"))
}

fn checked_next(next: Option<&str>) -> Result<String, AppError> {
    match next {
        None | Some("") => Ok("/".into()),
        Some(n) if n.len() <= 2000 && is_local_path(n) => Ok(n.to_string()),
        Some(_) => Err(AppError::invalid(
            "next",
            crate::msg!("login.next_not_relative"),
        )),
    }
}

static PAGES: LazyLock<handlebars::Handlebars<'static>> = LazyLock::new(|| {
    let mut hb = handlebars::Handlebars::new();
    hb.set_strict_mode(true);
    // A compiled-in template; a syntax error fails every test of a failed sign-in.
    if let Err(e) = hb.register_template_string("sign_in", include_str!("pages/sign_in.hbs")) {
        tracing::error!(error = %e, "the sign-in page template does not compile");
    }
    hb
});

#[derive(Serialize)]
struct PageText {
    title: String,
    text: String,
    retry: String,
}

#[derive(Serialize)]
struct Page {
    sv: PageText,
    en: PageText,
    retry: Option<String>,
}

/// A page saying why the sign-in did not succeed, in Swedish and English from the catalogues.
fn page(status: StatusCode, message: Message, retry: Option<String>) -> HttpResponse {
    let text = |lang: Lang| PageText {
        title: crate::msg!("login.page.title").render(lang),
        text: message.render(lang),
        retry: crate::msg!("login.page.retry").render(lang),
    };
    let body = PAGES.render(
        "sign_in",
        &Page {
            sv: text(Lang::Sv),
            en: text(Lang::En),
            retry,
        },
    );
    match body {
        Ok(html) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(html),
        Err(e) => {
            tracing::error!(error = %e, "the sign-in page did not render");
            HttpResponse::build(status)
                .content_type("text/plain; charset=utf-8")
                .body(message.render(Lang::Sv))
        }
    }
}

fn retry_link(provider: &str) -> Option<String> {
    let mut u = url::Url::parse("http://x.invalid/auth/login").ok()?;
    u.query_pairs_mut().append_pair("provider", provider);
    Some(format!("{}?{}", u.path(), u.query().unwrap_or_default()))
}

fn not_found(req: &HttpRequest) -> AppError {
    super::api::route_not_found(req.method().as_str(), req.path())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LoginQuery {
    /// The provider's name in `[[auth.oidc.providers]]`.
    pub provider: Option<String>,
    /// Where to go after signing in: a path on this service (default `/`).
    pub next: Option<String>,
}

/// Starts a sign-in: records the attempt (state, nonce, PKCE verifier, next) and sends the browser
/// to the provider.
#[utoipa::path(get, path = "/auth/login", tag = "sign-in", params(LoginQuery),
    responses((status = 303, description = "To the provider's authorization endpoint"),
              (status = 404, description = "Not in oidc mode"),
              (status = 422, description = "Unknown provider, or `next` is not a path on this service")))]
pub async fn login(
    state: Data,
    req: HttpRequest,
    q: web::Query<LoginQuery>,
) -> Result<HttpResponse, AppError> {
    if state.providers.is_empty() {
        return Err(not_found(&req));
    }
    let name = q.provider.clone().unwrap_or_default();
    let Some(provider) = state.providers.get(&name) else {
        return Err(AppError::invalid(
            "provider",
            crate::msg!(
                "login.unknown_provider",
                provider = name.as_str(),
                known = state.providers.names().join(", ")
            ),
        ));
    };
    let next = checked_next(q.next.as_deref())?;
    start(state.clone(), provider.name.clone(), next, None).await
}

async fn start(
    state: Data,
    provider: String,
    next: String,
    step_up_session: Option<String>,
) -> Result<HttpResponse, AppError> {
    let p = state
        .providers
        .get(&provider)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("provider {provider} vanished")))?;
    let a = p.authorize(step_up_session.is_some());
    let now = state.svc.clock.now();
    let url = a.url.to_string();
    let st = a.state.clone();
    let s2 = state.clone();
    blocking(move || {
        s2.svc.write(|c| {
            login::record_attempt(c, &provider, &a, &next, step_up_session.as_deref(), now)
        })
    })
    .await?;
    let name = login_cookie_name(&state.settings);
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, url))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .cookie(cookie(
            &state.settings,
            name,
            st,
            login::ATTEMPT_MINUTES * 60,
        ))
        .finish())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackQuery {
    pub code: Option<String>,
    pub state: Option<String>,
    /// The provider's error code, e.g. `access_denied`.
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// The provider sends the browser back here with a code (or an error). The attempt is taken (single
/// use), the code exchanged with the PKCE verifier, the ID token validated, and a cookie session
/// started; then the browser goes to `next`.
#[utoipa::path(get, path = "/auth/callback", tag = "sign-in", params(CallbackQuery),
    responses((status = 303, description = "Signed in (or stepped up): to `next`, with the session cookie"),
              (status = 400, description = "A page: provider error, unknown or used state, refused token"),
              (status = 403, description = "A page: the person is not invited"),
              (status = 404, description = "Not in oidc mode")))]
pub async fn callback(
    state: Data,
    req: HttpRequest,
    q: web::Query<CallbackQuery>,
) -> Result<HttpResponse, AppError> {
    if state.providers.is_empty() {
        return Err(not_found(&req));
    }
    let now = state.svc.clock.now();
    let q = q.into_inner();
    let login_cookie = login_cookie_name(&state.settings);
    let bound = req.cookie(login_cookie).map(|c| c.value().to_string());
    let unknown = || {
        page(
            StatusCode::BAD_REQUEST,
            crate::msg!("login.unknown_state"),
            None,
        )
    };
    // The attempt is taken first, whatever else the answer says: a state is good for one answer.
    let attempt = match q.state.clone() {
        Some(s) if !s.is_empty() && s.len() <= 512 => {
            let s2 = state.clone();
            blocking(move || s2.svc.write(|c| login::take_attempt(c, &s, now))).await?
        }
        _ => None,
    };
    let mut res = match (attempt, &q.error) {
        (Some(a), Some(err)) => {
            tracing::info!(provider = %a.provider, error = %err, description = ?q.error_description, "the provider ended the sign-in");
            page(
                StatusCode::BAD_REQUEST,
                crate::msg!(
                    "login.provider_error",
                    provider = a.provider.as_str(),
                    error = err.as_str()
                ),
                retry_link(&a.provider),
            )
        }
        (None, _) => unknown(),
        // The browser that comes back must be the one that left: the state is also in its cookie.
        (Some(_), None) if bound.as_deref() != q.state.as_deref() => {
            tracing::warn!("a callback's state does not match the browser's sign-in cookie");
            unknown()
        }
        (Some(a), None) => finish(&state, a, q.code.unwrap_or_default(), now).await?,
    };
    let _ = res.add_removal_cookie(&cookie(&state.settings, login_cookie, String::new(), 0));
    Ok(res)
}

async fn finish(
    state: &Data,
    a: crate::db::login::LoginAttemptRow,
    code: String,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<HttpResponse, AppError> {
    let Some(p) = state.providers.get(&a.provider) else {
        return Ok(page(
            StatusCode::BAD_REQUEST,
            crate::msg!("login.unknown_state"),
            None,
        ));
    };
    let failed = || {
        page(
            StatusCode::BAD_REQUEST,
            crate::msg!("login.failed", provider = a.provider.as_str()),
            retry_link(&a.provider),
        )
    };
    if code.is_empty() || code.len() > 4096 {
        return Ok(failed());
    }
    let claims = match p.finish(&code, &a.pkce_verifier, &a.nonce, now).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(provider = %a.provider, error = %e, "sign-in refused");
            return Ok(failed());
        }
    };
    let next = a.next_path.clone();
    let s2 = state.clone();
    if let Some(session) = a.step_up_session.clone() {
        let created = crate::db::repo::utc(a.created_at);
        let ok = blocking(move || {
            s2.svc
                .write(|c| login::step_up(c, &session, created, &claims, now))
        })
        .await?;
        if !ok {
            return Ok(page(
                StatusCode::FORBIDDEN,
                crate::msg!("login.step_up_refused"),
                None,
            ));
        }
        return Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, next))
            .finish());
    }
    let provider = a.provider.clone();
    let outcome = blocking(move || {
        s2.svc
            .write(|c| login::sign_in(c, &s2.settings.auth, &provider, &claims, now))
    })
    .await?;
    match outcome {
        SignInOutcome::NotInvited { email } => Ok(page(
            StatusCode::FORBIDDEN,
            crate::msg!(
                "login.not_invited",
                email = email.unwrap_or_else(|| "?".into())
            ),
            None,
        )),
        SignInOutcome::Session(s) => Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, next))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .cookie(cookie(
                &state.settings,
                session_cookie_name(&state.settings),
                s.token,
                state.settings.auth.session.absolute_hours * 3600,
            ))
            .finish()),
    }
}

fn current(req: &HttpRequest) -> Result<CurrentSession, AppError> {
    req.extensions()
        .get::<CurrentSession>()
        .cloned()
        .ok_or_else(|| AppError::Forbidden(crate::msg!("login.cookie_session_only")))
}

/// Ends the session (cookie or bearer). With a cookie session of a provider that offers
/// RP-initiated logout, the answer sends the browser on to the provider's end-session endpoint
/// (303); otherwise 204.
#[utoipa::path(post, path = "/auth/logout", tag = "sign-in",
    responses((status = 303, description = "Ended here; on to the provider's end-session endpoint"),
              (status = 204, description = "Ended"),
              (status = 403, description = "Cookie session without the CSRF token or from another origin")))]
pub async fn logout(state: Data, req: HttpRequest) -> Result<HttpResponse, AppError> {
    let s = current(&req)?;
    let now = state.svc.clock.now();
    let hash = hash_token(&s.token);
    let (s2, h2) = (state.clone(), hash.clone());
    let ended = blocking(move || s2.svc.write(|c| login::log_out(c, &h2, now))).await?;
    // A bearer token's cached actor goes with it, so the next request with it is refused here at once
    // (cookies are not cached).
    state.token_cache.forget(&hash);
    let logout_url = ended.and_then(|(provider, hint)| {
        state
            .providers
            .get(&provider)
            .and_then(|p| p.logout_url(hint.as_deref()))
    });
    let mut res = match logout_url {
        Some(u) => HttpResponse::SeeOther()
            .insert_header((header::LOCATION, u.to_string()))
            .finish(),
        None => HttpResponse::NoContent().finish(),
    };
    if s.cookie {
        let name = session_cookie_name(&state.settings);
        let _ = res.add_removal_cookie(&cookie(&state.settings, name, String::new(), 0));
    }
    Ok(res)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StepUpQuery {
    /// Where to go afterwards: a path on this service (default `/`).
    pub next: Option<String>,
}

/// Forces a fresh authentication at the provider (`prompt=login`, `max_age=0`) for the current
/// cookie session; the callback records `auth_time`, `acr` and `amr` on the session.
#[utoipa::path(get, path = "/auth/step-up", tag = "sign-in", params(StepUpQuery),
    responses((status = 303, description = "To the provider, forcing a fresh sign-in"),
              (status = 403, description = "Not a cookie session"),
              (status = 422, description = "`next` is not a path on this service")))]
pub async fn step_up(
    state: Data,
    req: HttpRequest,
    q: web::Query<StepUpQuery>,
) -> Result<HttpResponse, AppError> {
    let s = current(&req)?;
    if !s.cookie {
        return Err(AppError::Forbidden(crate::msg!(
            "login.cookie_session_only"
        )));
    }
    let next = checked_next(q.next.as_deref())?;
    let hash = hash_token(&s.token);
    let s2 = state.clone();
    let provider = blocking(move || {
        s2.svc
            .read(|c| Ok(crate::db::login::session_by_hash(c, &hash)?))
    })
    .await?
    .and_then(|r| r.provider)
    .filter(|p| state.providers.get(p).is_some())
    .ok_or_else(|| AppError::Forbidden(crate::msg!("login.cookie_session_only")))?;
    start(state.clone(), provider, next, Some(hash_token(&s.token))).await
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CsrfToken {
    /// Send it as the `X-CSRF-Token` header (or the form field `csrf_token`) with every POST, PUT,
    /// PATCH and DELETE made with the session cookie.
    pub csrf_token: String,
}

/// The CSRF token of the current cookie session, for pages.
#[utoipa::path(get, path = "/api/v1/session/csrf", tag = "sign-in",
    responses((status = 200, body = CsrfToken),
              (status = 403, description = "Not a cookie session")))]
pub async fn csrf(req: HttpRequest) -> Result<HttpResponse, AppError> {
    let s = current(&req)?;
    if !s.cookie {
        return Err(AppError::Forbidden(crate::msg!(
            "login.cookie_session_only"
        )));
    }
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(CsrfToken {
            csrf_token: login::csrf_token_for(&s.token),
        }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_must_be_a_path_on_this_service() {
        for ok in ["/", "/api/v1/me", "/a?b=c#d", "/x/y%2F"] {
            assert!(is_local_path(ok), "{ok}");
        }
        for bad in [
            "https://evil.example/",
            "//evil.example/x",
            "/\\evil.example",
            "evil.example",
            "javascript:alert(1)",
            "/\nx",
            "",
        ] {
            assert!(!is_local_path(bad), "{bad}");
        }
    }

    #[test]
    fn the_failure_page_renders_both_languages_escaped() {
        let res = page(
            StatusCode::BAD_REQUEST,
            crate::msg!("login.provider_error", provider = "x", error = "<script>"),
            retry_link("region"),
        );
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        let html = PAGES
            .render(
                "sign_in",
                &Page {
                    sv: PageText {
                        title: "a".into(),
                        text: "<b>".into(),
                        retry: "r".into(),
                    },
                    en: PageText {
                        title: "b".into(),
                        text: "c".into(),
                        retry: "r".into(),
                    },
                    retry: None,
                },
            )
            .unwrap();
        assert!(html.contains("&lt;b&gt;"), "{html}");
    }
}
