//! Signing in and out, the language switch and the choice of role.
//!
//! In local mode the sign-in page lists the demo accounts, each with a button that starts a
//! cookie session (`POST /sign-in`); with identity providers it links to each provider
//! (`/auth/login`). Signing out ends the session (`POST /sign-out`) and, where the provider
//! offers it, signs out there too.
use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::form::{Form, FormErrors};
use super::{PageEnv, PageResult, LANG_COOKIE};
use crate::app::AppError;
use crate::config::AuthMode;
use crate::domain::lang::Lang;
use crate::http::auth_routes::{is_local_path, session_cookie_name, CurrentSession};

/// Where the front door leads: the collaborations for someone signed in, else the sign-in page.
pub async fn home(env: PageEnv) -> HttpResponse {
    if env.actor.is_some() {
        env.see_other("/collaborations")
    } else {
        env.see_other("/sign-in")
    }
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

fn next_or_home(next: Option<&str>) -> String {
    match next {
        Some(n) if n.len() <= 2000 && is_local_path(n) => n.to_string(),
        _ => "/collaborations".into(),
    }
}

#[derive(Serialize)]
struct DemoChoice {
    account: String,
    name: String,
    role: String,
    organisation: String,
}

#[derive(Serialize)]
struct ProviderChoice {
    href: String,
    name: String,
}

#[derive(Serialize)]
struct SignInPage {
    local: bool,
    next: String,
    accounts: Vec<DemoChoice>,
    providers: Vec<ProviderChoice>,
    errors: FormErrors,
}

async fn sign_in_view(env: &PageEnv, next: String, errors: FormErrors) -> PageResult {
    let local = env.state.settings.auth.mode == AuthMode::Local;
    let lang = env.lang;
    let accounts = if local {
        let rows = env
            .blocking(|s| s.svc.read(|c| Ok(crate::db::identity::demo_accounts(c)?)))
            .await?;
        let mut list: Vec<DemoChoice> = Vec::new();
        for (a, m, org) in rows {
            if list.last().is_some_and(|d| d.account == a.username) {
                continue;
            }
            let role = m
                .role()
                .map(|r| super::role_name(lang, r))
                .unwrap_or_else(|_| m.role.clone());
            list.push(DemoChoice {
                account: a.username,
                name: a.display_name,
                role,
                organisation: org,
            });
        }
        list
    } else {
        Vec::new()
    };
    let providers = env
        .state
        .settings
        .auth
        .oidc
        .providers
        .iter()
        .filter(|p| env.state.providers.get(&p.name).is_some())
        .map(|p| {
            let mut q = url::form_urlencoded::Serializer::new(String::new());
            q.append_pair("provider", &p.name);
            q.append_pair("next", &next);
            ProviderChoice {
                href: format!("/auth/login?{}", q.finish()),
                name: p.name.clone(),
            }
        })
        .collect();
    let status = if errors.any {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    env.render_status(
        status,
        "sign_in",
        "common.sign_in.title",
        SignInPage {
            local,
            next,
            accounts,
            providers,
            errors,
        },
    )
}

/// The sign-in page.
pub async fn sign_in_page(env: PageEnv, q: web::Query<NextQuery>) -> PageResult {
    if env.actor.is_some() {
        return Ok(env.see_other(&next_or_home(q.next.as_deref())));
    }
    sign_in_view(&env, next_or_home(q.next.as_deref()), FormErrors::default()).await
}

/// Signs a demo account in (local mode only) with a cookie session, and goes on to `next`.
pub async fn sign_in(env: PageEnv, req: HttpRequest, form: Form) -> PageResult {
    if env.state.settings.auth.mode != AuthMode::Local {
        return Err(env.fail(crate::http::api::route_not_found("POST", "/sign-in")));
    }
    // A form posted without a session must still come from this service's own pages.
    crate::http::check_origin(req.headers(), &env.state.settings.public_url())
        .map_err(|e| env.fail(e))?;
    let next = next_or_home(form.get("next"));
    let account = form.get("account").unwrap_or("").to_string();
    let result = env
        .blocking(move |s| {
            let now = s.svc.clock.now();
            s.svc
                .write(|c| crate::app::login::sign_in_local(c, &s.settings.auth, &account, now))
        })
        .await;
    match result {
        Ok(session) => {
            tracing::info!(account = %session.actor.account, "signed in on the sign-in page");
            let mut res = env.see_other(&next);
            let max_age = env.state.settings.auth.session.absolute_hours * 3600;
            res.add_cookie(&session_cookie(&env, session.token, max_age))
                .map_err(|e| env.fail(AppError::Internal(anyhow::anyhow!("cookie: {e}"))))?;
            Ok(res)
        }
        // The API's message names the API route that lists the accounts; here they are listed
        // on the page itself.
        Err(e) if matches!(e.error, AppError::Invalid(_)) => {
            let errors = FormErrors::of(
                &AppError::invalid("account", crate::msg!("unknown_account.no_such")),
                env.lang,
            )
            .unwrap_or_default();
            sign_in_view(&env, next, errors).await
        }
        Err(e) => match FormErrors::of(&e.error, env.lang) {
            Some(errors) => sign_in_view(&env, next, errors).await,
            None => Err(e),
        },
    }
}

fn session_cookie(env: &PageEnv, token: String, max_age: i64) -> Cookie<'static> {
    Cookie::build(session_cookie_name(&env.state.settings), token)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(env.state.settings.is_https())
        .max_age(time::Duration::seconds(max_age))
        .finish()
}

/// Ends the session and goes to the sign-in page (or to the provider's sign-out first).
pub async fn sign_out(env: PageEnv, req: HttpRequest) -> PageResult {
    let Some(s) = req.extensions().get::<CurrentSession>().cloned() else {
        return Ok(env.see_other("/sign-in"));
    };
    let hash = crate::app::auth::hash_token(&s.token);
    let h2 = hash.clone();
    let ended = env
        .blocking(move |st| {
            let now = st.svc.clock.now();
            st.svc.write(|c| crate::app::login::log_out(c, &h2, now))
        })
        .await?;
    env.state.token_cache.forget(&hash);
    let to = ended
        .and_then(|(provider, hint)| {
            env.state
                .providers
                .get(&provider)
                .and_then(|p| p.logout_url(hint.as_deref()))
        })
        .map(|u| u.to_string())
        .unwrap_or_else(|| "/sign-in".into());
    let mut res = env.see_other(&to);
    let _ = res.add_removal_cookie(&session_cookie(&env, String::new(), 0));
    Ok(res)
}

/// Switches the language (remembered in a cookie for a year) and comes back.
pub async fn language(
    env: PageEnv,
    code: web::Path<String>,
    q: web::Query<NextQuery>,
) -> PageResult {
    let lang = Lang::parse(&code)
        .ok_or_else(|| env.fail(AppError::NotFound(crate::msg!("thing.language"))))?;
    let back = match q.next.as_deref() {
        Some(n) if n.len() <= 2000 && is_local_path(n) => n.to_string(),
        _ => "/".into(),
    };
    let mut res = env.see_other(&back);
    let c = Cookie::build(LANG_COOKIE, lang.code().to_string())
        .path("/")
        .same_site(SameSite::Lax)
        .secure(env.state.settings.is_https())
        .max_age(time::Duration::days(365))
        .finish();
    res.add_cookie(&c)
        .map_err(|e| env.fail(AppError::Internal(anyhow::anyhow!("cookie: {e}"))))?;
    Ok(res)
}

/// Acts in another of the person's roles from now on (the session's active membership).
pub async fn switch_role(env: PageEnv, req: HttpRequest, form: Form) -> PageResult {
    let actor = env.actor()?.clone();
    let Some(s) = req.extensions().get::<CurrentSession>().cloned() else {
        return Err(env.fail(AppError::Forbidden(crate::msg!(
            "login.cookie_session_only"
        ))));
    };
    let input = crate::app::identity::ActiveMembershipInput {
        membership: form.get("membership").unwrap_or("").to_string(),
    };
    let hash = crate::app::auth::hash_token(&s.token);
    let h2 = hash.clone();
    env.blocking(move |st| {
        let now = st.svc.clock.now();
        st.svc
            .write(|c| crate::app::identity::switch_active_membership(c, &actor, &h2, &input, now))
    })
    .await?;
    env.state.token_cache.forget(&hash);
    Ok(env.see_other(&next_or_home(form.get("next"))))
}

#[derive(Serialize)]
struct RoleChoice {
    id: String,
    role: String,
    organisation: String,
    current: bool,
}

#[derive(Serialize)]
struct RolePage {
    choices: Vec<RoleChoice>,
}

/// The person's roles, with a button to work in each.
pub async fn role_page(env: PageEnv) -> PageResult {
    let actor = env.actor()?.clone();
    let me = env
        .blocking(move |s| s.svc.read(|c| crate::app::identity::me(c, &actor)))
        .await?;
    let current = me.active_membership.as_ref().map(|m| m.id.clone());
    let choices = me
        .memberships
        .iter()
        .map(|m| RoleChoice {
            id: m.id.clone(),
            role: super::role_name(env.lang, m.role),
            organisation: m.organisation_name.clone(),
            current: current.as_deref() == Some(m.id.as_str()),
        })
        .collect();
    env.render("role", "common.role_page.title", RolePage { choices })
}
