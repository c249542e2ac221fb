//! Handlers of identity: who am I and which role I act in, the people and invitations of an
//! organisation, companies, and API keys. Each parses its input, calls one command or query of
//! `app::identity` or `app::apikeys`, and maps the result; the token cache is told after commit
//! which sessions and keys a change ended.
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};

use super::extract::{Authenticated, JsonBody};
use super::{blocking, AppState};
use crate::app::apikeys::{self, ApiKeyView, CreatedApiKey, NewApiKey};
use crate::app::auth::CredentialHash;
use crate::app::identity::{
    self, ActiveMembershipInput, CompanyView, InvitationView, MeView, MemberView, MembershipView,
    NewCompany, NewInvitation, NewMembership,
};
use crate::app::AppError;

type Data = web::Data<AppState>;

use super::api::{org_id, WRITE_ATTEMPTS};

/// Who am I: the person, the role acted in now, every role held, and how the caller signed in.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts", responses((status = 200, body = MeView)))]
pub async fn me(state: Data, who: Authenticated) -> Result<HttpResponse, AppError> {
    let (now, today) = (state.svc.clock.now(), state.svc.clock.today());
    // A view kept for this caller is sent without a database connection or a blocking thread.
    let v = match identity::kept_me(&state.svc.views, &who.0, now, today) {
        Some(v) => v,
        None => {
            blocking(move || {
                identity::me_rendered(&state.svc.db, &state.svc.views, &who.0, now, today)
            })
            .await?
        }
    };
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(v.body.clone()))
}

/// Act in another of my roles: switches this session's active membership. Every authorization
/// decision after this uses the new one, at once.
#[utoipa::path(put, path = "/api/v1/me/active-membership", tag = "accounts",
    request_body(content = ActiveMembershipInput, example = json!({"membership": "00000000-0000-4000-8000-000000000000"})),
    responses((status = 200, body = MeView),
              (status = 403, description = "An API key cannot switch roles"),
              (status = 422, description = "`membership` is not one of the caller's live memberships")))]
pub async fn set_active_membership(
    state: Data,
    req: HttpRequest,
    who: Authenticated,
    body: JsonBody<ActiveMembershipInput>,
) -> Result<HttpResponse, AppError> {
    let hash = req
        .extensions()
        .get::<CredentialHash>()
        .cloned()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no credential hash on the request")))?;
    let v = blocking(move || {
        let now = state.svc.clock.now();
        let v = state.svc.write_retrying(WRITE_ATTEMPTS, |c| {
            identity::switch_active_membership(c, &who.0, &hash.0, &body.0, now)
        })?;
        state.token_cache.forget(&hash.0);
        Ok(v)
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Invite a person by e-mail to a role in an organisation (an administrator: any; a company
/// representative: their own company, the company_representative role).
#[utoipa::path(post, path = "/api/v1/organisations/{id}/invitations", tag = "people",
    params(("id" = String, Path, description = "organisation id")),
    request_body(content = NewInvitation, example = json!({"email": "ny.person@exempel.se", "role": "company_representative"})),
    responses((status = 201, body = InvitationView),
              (status = 403, description = "The caller may not invite to this role"),
              (status = 409, description = "An open invitation of this e-mail to this role exists, or the person holds it")))]
pub async fn create_invitation(
    state: Data,
    path: web::Path<String>,
    who: Authenticated,
    body: JsonBody<NewInvitation>,
) -> Result<HttpResponse, AppError> {
    let org = org_id(&path)?;
    let inv = body.0.parse()?;
    let v = blocking(move || {
        let now = state.svc.clock.now();
        state.svc.write_retrying(WRITE_ATTEMPTS, |c| {
            identity::create_invitation(c, &who.0, &org, &inv, now)
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(v))
}

/// An organisation's invitations: the open ones first, then the accepted, revoked and expired ones.
#[utoipa::path(get, path = "/api/v1/organisations/{id}/invitations", tag = "people",
    params(("id" = String, Path, description = "organisation id")),
    responses((status = 200, body = Vec<InvitationView>),
              (status = 403, description = "The caller does not manage this organisation's people")))]
pub async fn list_invitations(
    state: Data,
    path: web::Path<String>,
    who: Authenticated,
) -> Result<HttpResponse, AppError> {
    let org = org_id(&path)?;
    let v = blocking(move || {
        let now = state.svc.clock.now();
        state
            .svc
            .read(|c| identity::list_invitations(c, &who.0, &org, now))
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Withdraw an open invitation.
#[utoipa::path(delete, path = "/api/v1/organisations/{id}/invitations/{invitation}", tag = "people",
    params(("id" = String, Path, description = "organisation id"),
           ("invitation" = String, Path, description = "invitation id")),
    responses((status = 200, body = InvitationView),
              (status = 403, description = "The caller may not revoke invitations to this role"),
              (status = 409, description = "The invitation was accepted or revoked already")))]
pub async fn revoke_invitation(
    state: Data,
    path: web::Path<(String, String)>,
    who: Authenticated,
) -> Result<HttpResponse, AppError> {
    let (org, invitation) = path.into_inner();
    let org = org_id(&org)?;
    let v = blocking(move || {
        let now = state.svc.clock.now();
        state.svc.write_retrying(WRITE_ATTEMPTS, |c| {
            identity::revoke_invitation(c, &who.0, &org, &invitation, now)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// The people with live roles in an organisation, with those roles.
#[utoipa::path(get, path = "/api/v1/organisations/{id}/people", tag = "people",
    params(("id" = String, Path, description = "organisation id")),
    responses((status = 200, body = Vec<MemberView>),
              (status = 403, description = "The caller does not manage this organisation's people")))]
pub async fn list_people(
    state: Data,
    path: web::Path<String>,
    who: Authenticated,
) -> Result<HttpResponse, AppError> {
    let org = org_id(&path)?;
    let v = blocking(move || state.svc.read(|c| identity::list_people(c, &who.0, &org))).await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Grant a role in an organisation to a person who has an account (administrator).
#[utoipa::path(post, path = "/api/v1/organisations/{id}/memberships", tag = "people",
    params(("id" = String, Path, description = "organisation id")),
    request_body(content = NewMembership, example = json!({"account": "00000000-0000-4000-8000-000000000000", "role": "cpua_legal"})),
    responses((status = 201, body = MembershipView),
              (status = 403, description = "Only an administrator grants roles"),
              (status = 409, description = "The person holds this role here already")))]
pub async fn grant_membership(
    state: Data,
    path: web::Path<String>,
    who: Authenticated,
    body: JsonBody<NewMembership>,
) -> Result<HttpResponse, AppError> {
    let org = org_id(&path)?;
    let v = blocking(move || {
        let now = state.svc.clock.now();
        state.svc.write_retrying(WRITE_ATTEMPTS, |c| {
            identity::grant_membership(c, &who.0, &org, &body.0, now)
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(v))
}

/// Revoke a role: every session acting in it ends at once. The last administrator is kept.
#[utoipa::path(delete, path = "/api/v1/memberships/{id}", tag = "people",
    params(("id" = String, Path, description = "membership id")),
    responses((status = 200, body = MembershipView),
              (status = 403, description = "The caller may not revoke this role"),
              (status = 409, description = "Already revoked, or the last administrator")))]
pub async fn revoke_membership(
    state: Data,
    path: web::Path<String>,
    who: Authenticated,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let v = blocking(move || {
        let now = state.svc.clock.now();
        let (v, hashes) = state.svc.write_retrying(WRITE_ATTEMPTS, |c| {
            identity::revoke_membership(c, &who.0, &id, now)
        })?;
        for h in &hashes {
            state.token_cache.forget(h);
        }
        Ok(v)
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Register a company and invite its first company representative, in one transaction
/// (administrator).
#[utoipa::path(post, path = "/api/v1/companies", tag = "people",
    request_body(content = NewCompany, example = json!({"name": "Nytt Bolag AB", "org_number": "556016-0680",
        "vat_number": "SE556016068001", "representative_email": "vd@nyttbolag.se"})),
    responses((status = 201, body = CompanyView),
              (status = 403, description = "Only an administrator registers companies"),
              (status = 409, description = "The representative holds the role already")))]
pub async fn create_company(
    state: Data,
    who: Authenticated,
    body: JsonBody<NewCompany>,
) -> Result<HttpResponse, AppError> {
    let company = body.0.parse()?;
    let v = blocking(move || {
        let now = state.svc.clock.now();
        state.svc.write_retrying(WRITE_ATTEMPTS, |c| {
            identity::create_company(c, &who.0, company.clone(), now)
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(v))
}

/// Create an API key for a system of the caller's company (company representative). The key is
/// in this answer only; it is stored as its SHA-256.
#[utoipa::path(post, path = "/api/v1/api-keys", tag = "api keys",
    request_body(content = NewApiKey, example = json!({"name": "Studiesystem", "scope": "read", "expires_in_days": 90})),
    responses((status = 201, body = CreatedApiKey),
              (status = 403, description = "Only a company representative, signed in as a person, creates keys")))]
pub async fn create_api_key(
    state: Data,
    who: Authenticated,
    body: JsonBody<NewApiKey>,
) -> Result<HttpResponse, AppError> {
    let req = body.0.parse()?;
    let secret = apikeys::new_api_key_secret();
    let v = blocking(move || {
        let now = state.svc.clock.now();
        state.svc.write_retrying(WRITE_ATTEMPTS, |c| {
            apikeys::create_api_key(c, &who.0, &req, &secret, now)
        })
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(v))
}

/// The caller's company's API keys, newest first; never the keys themselves.
#[utoipa::path(get, path = "/api/v1/api-keys", tag = "api keys",
    responses((status = 200, body = Vec<ApiKeyView>),
              (status = 403, description = "Only a company representative, signed in as a person, lists keys")))]
pub async fn list_api_keys(state: Data, who: Authenticated) -> Result<HttpResponse, AppError> {
    let v = blocking(move || state.svc.read(|c| apikeys::list_api_keys(c, &who.0))).await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Revoke one of the caller's company's API keys; it is refused from the next request on.
#[utoipa::path(delete, path = "/api/v1/api-keys/{id}", tag = "api keys",
    params(("id" = String, Path, description = "API key id")),
    responses((status = 200, body = ApiKeyView),
              (status = 403, description = "Only a company representative, signed in as a person, revokes keys"),
              (status = 409, description = "The key is already revoked")))]
pub async fn revoke_api_key(
    state: Data,
    path: web::Path<String>,
    who: Authenticated,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let v = blocking(move || {
        let now = state.svc.clock.now();
        let (v, hash) = state.svc.write_retrying(WRITE_ATTEMPTS, |c| {
            apikeys::revoke_api_key(c, &who.0, &id, now)
        })?;
        state.token_cache.forget(&hash);
        Ok(v)
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}
