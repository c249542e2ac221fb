//! Handlers. Each parses its input, calls one command or query, and maps the result.
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Duration;
use serde::{Deserialize, Serialize};

use super::extract::{
    encode_cursor, enter_list_gate, if_match, query_pairs, Abandoned, Authenticated, JsonBody,
    Page, Paging,
};
use super::{blocking, AppState};
use crate::app::collaborations::{
    self as collab, ActionInput, CollaborationSummary, CollaborationView, EventView, ListQuery,
    NewCollaborationInput, PatchInput, TransitionInput,
};
use crate::app::reference::{self, NewOrganisation, NewRegister, RegisterView};
use crate::app::{audit::StreamReport, auth, AppError};
use crate::db::conn::{list_transaction, migrations_applied};
use crate::db::lists::COUNT_CAP;
use crate::db::repo::{self, CollabSort};
use crate::domain::ids::{OrgId, RegisterId};
use crate::domain::lifecycle::Step;
use crate::domain::organisation::{OrgKind, Organisation};

type Data = web::Data<AppState>;

/// How often a write without a precondition is tried when concurrent writers keep winning.
pub(crate) const WRITE_ATTEMPTS: u32 = 8;

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    pub status: String,
    pub database: Option<String>,
}

/// The process is up.
#[utoipa::path(get, path = "/health/live", tag = "health", responses((status = 200, body = Health)))]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "live".into(),
        database: None,
    })
}

/// The database answers and every migration is applied.
#[utoipa::path(get, path = "/health/ready", tag = "health",
    responses((status = 200, body = Health),
              (status = 503, description = "The database does not answer or migrations are pending")))]
pub async fn ready(state: Data) -> Result<HttpResponse, AppError> {
    let backend = state.svc.db.url.backend_name().to_string();
    let s = state.clone();
    let applied = blocking(move || {
        let mut conn = s.svc.db.pool.get()?;
        migrations_applied(&mut conn).map_err(|e| {
            tracing::warn!(error = %e, "reading the applied migrations");
            AppError::Unavailable(crate::msg!("unavailable.database"))
        })
    })
    .await?;
    if !applied {
        return Err(AppError::Unavailable(crate::msg!("unavailable.migrations")));
    }
    Ok(HttpResponse::Ok().json(Health {
        status: "ready".into(),
        database: Some(backend),
    }))
}

pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, AppError> {
    let e = route_not_found(req.method().as_str(), req.path());
    // A person who mistyped a page's address gets a page; API clients get problem+json.
    if crate::web::wants_page(&req) {
        return Ok(crate::web::refused(&req, &e));
    }
    Err(e)
}

/// The answer for a route that does not exist (here, or in this mode).
pub(crate) fn route_not_found(method: &str, path: &str) -> AppError {
    AppError::NotFound(crate::msg!("thing.route", method = method, path = path))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DemoAccount {
    pub account: String,
    pub name: String,
    pub role: String,
    pub organisation: String,
    pub organisation_id: String,
}

/// Local mode: the seeded demo accounts, one per role.
#[utoipa::path(get, path = "/api/v1/local/accounts", tag = "local mode",
    responses((status = 200, body = Vec<DemoAccount>)))]
pub async fn local_accounts(state: Data) -> Result<HttpResponse, AppError> {
    let rows = blocking(move || {
        state
            .svc
            .read(|c| Ok(crate::db::identity::demo_accounts(c)?))
    })
    .await?;
    // One entry per account, in its first role (the one a local token acts in).
    let mut list: Vec<DemoAccount> = Vec::new();
    for (a, m, org) in rows {
        if list.last().is_some_and(|d| d.account == a.username) {
            continue;
        }
        list.push(DemoAccount {
            account: a.username,
            name: a.display_name,
            role: m.role,
            organisation: org,
            organisation_id: m.organisation_id,
        });
    }
    Ok(HttpResponse::Ok().json(list))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// A demo account name from GET /api/v1/local/accounts.
    pub account: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    pub token: String,
    pub token_type: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    pub role: String,
    pub organisation_id: String,
}

/// Local mode: a bearer token for a demo account.
#[utoipa::path(post, path = "/api/v1/local/token", tag = "local mode",
    request_body(content = TokenRequest, example = json!({"account": "company"})),
    responses((status = 200, body = TokenResponse),
              (status = 422, description = "No demo account of that name"),
              (status = 429, description = "Too many token requests from this client (`Retry-After`)")))]
pub async fn local_token(
    state: Data,
    req: HttpRequest,
    body: JsonBody<TokenRequest>,
) -> Result<HttpResponse, AppError> {
    // Per client: the peer address (a reverse proxy in front must then limit per client itself).
    if let Some(ip) = req.peer_addr().map(|a| a.ip()) {
        state
            .token_limiter
            .check(ip)
            .map_err(|secs| AppError::TooManyRequests {
                message: crate::msg!(
                    "too_many_requests.token",
                    max = state.settings.auth.token_requests_per_minute,
                    secs = secs
                ),
                retry_after_secs: secs,
            })?;
    }
    let ttl = Duration::hours(state.settings.auth.token_ttl_hours);
    let (token, expires_at, actor) = blocking(move || {
        let now = state.svc.clock.now();
        state
            .svc
            .write(|c| auth::issue_local_token(c, &body.0.account, now, ttl))
    })
    .await?;
    Ok(HttpResponse::Ok().json(TokenResponse {
        token,
        token_type: "Bearer".into(),
        expires_at,
        role: actor.role.code().into(),
        organisation_id: actor.org.to_string(),
    }))
}

pub(crate) fn org_id(s: &str) -> Result<OrgId, AppError> {
    OrgId::parse(s).ok_or_else(|| AppError::NotFound(crate::msg!("thing.organisation")))
}

fn register_id(s: &str) -> Result<RegisterId, AppError> {
    RegisterId::parse(s).ok_or_else(|| AppError::NotFound(crate::msg!("thing.register")))
}

/// Organisations (reference data).
#[utoipa::path(get, path = "/api/v1/organisations", tag = "reference data",
    params(("kind" = Option<OrgKind>, Query, description = "filter by kind"),
           ("cursor" = Option<String>, Query, description = "next_cursor of the previous page, with the same filters"),
           ("per_page" = Option<i64>, Query, minimum = 1)),
    responses((status = 200, body = Page<Organisation>),
              (status = 400, body = super::problem::Problem, content_type = "application/problem+json")))]
pub async fn list_organisations(
    state: Data,
    req: HttpRequest,
    _who: Authenticated,
) -> Result<HttpResponse, AppError> {
    let pairs = query_pairs(&req, &["kind", "per_page", "cursor"])?;
    let paging = Paging::parse(&pairs, &state)?;
    let kind =
        match pairs.iter().find(|(k, _)| k == "kind") {
            Some((_, v)) => Some(OrgKind::parse(v).ok_or_else(|| {
                AppError::invalid("kind", crate::msg!("one_of.organisation_kind"))
            })?),
            None => None,
        };
    let fingerprint = format!(
        "organisations|kind={}",
        kind.map(|k| k.code()).unwrap_or("")
    );
    let after = paging.after(&fingerprint, 2)?;
    let limit = paging.per_page;
    let (items, total) = blocking(move || {
        state.svc.read(|c| {
            let after = after.as_ref().map(|k| (k[0].as_str(), k[1].as_str()));
            Ok(repo::list_organisations(c, kind, after, limit + 1)?)
        })
    })
    .await?;
    let page = paging.page_after_lookahead(&req, items, total, COUNT_CAP, &fingerprint, |o| {
        vec![o.name.clone(), o.id.to_string()]
    });
    Ok(HttpResponse::Ok().json(page))
}

/// Add an organisation (administrator).
#[utoipa::path(post, path = "/api/v1/organisations", tag = "reference data",
    request_body = NewOrganisation,
    responses((status = 201, body = Organisation),
              (status = 403, description = "Only an administrator adds organisations"),
              (status = 409, description = "An organisation with this number exists")))]
pub async fn create_organisation(
    state: Data,
    who: Authenticated,
    body: JsonBody<NewOrganisation>,
) -> Result<HttpResponse, AppError> {
    crate::app::authz::require_admin(&who.0)?;
    let org = body.0.parse()?;
    let created = blocking(move || {
        let now = state.svc.clock.now();
        state
            .svc
            .write(|c| reference::create_organisation(c, &who.0, org, now))
    })
    .await?;
    Ok(HttpResponse::Created().json(created))
}

/// One organisation.
#[utoipa::path(get, path = "/api/v1/organisations/{id}", tag = "reference data", params(("id" = String, Path, description = "organisation id")),
    responses((status = 200, body = Organisation)))]
pub async fn get_organisation(
    state: Data,
    path: web::Path<String>,
    _who: Authenticated,
) -> Result<HttpResponse, AppError> {
    let id = org_id(&path)?;
    let org = blocking(move || state.svc.read(|c| reference::get_organisation(c, &id))).await?;
    Ok(HttpResponse::Ok().json(org))
}

/// Registers with their current CPUA.
#[utoipa::path(get, path = "/api/v1/registers", tag = "reference data",
    params(("cpua" = Option<String>, Query, description = "the CPUA's organisation id"),
           ("cursor" = Option<String>, Query, description = "next_cursor of the previous page, with the same filters"),
           ("per_page" = Option<i64>, Query, minimum = 1)),
    responses((status = 200, body = Page<RegisterView>),
              (status = 400, body = super::problem::Problem, content_type = "application/problem+json")))]
pub async fn list_registers(
    state: Data,
    req: HttpRequest,
    _who: Authenticated,
) -> Result<HttpResponse, AppError> {
    let pairs = query_pairs(&req, &["cpua", "per_page", "cursor"])?;
    let paging = Paging::parse(&pairs, &state)?;
    let cpua = match pairs.iter().find(|(k, _)| k == "cpua") {
        Some((_, v)) => Some(
            OrgId::parse(v)
                .ok_or_else(|| AppError::invalid("cpua", crate::msg!("uuid.not_an_id")))?,
        ),
        None => None,
    };
    let fingerprint = format!(
        "registers|cpua={}",
        cpua.as_ref().map(OrgId::as_str).unwrap_or("")
    );
    let after = paging.after(&fingerprint, 2)?;
    let limit = paging.per_page;
    let (items, total) = blocking(move || {
        state.svc.read(|c| {
            let after = after.as_ref().map(|k| (k[0].as_str(), k[1].as_str()));
            let (regs, total) = repo::list_registers(c, cpua.as_ref(), after, limit + 1)?;
            let views = regs
                .into_iter()
                .map(|r| reference::register_view(c, r))
                .collect::<Result<Vec<RegisterView>, AppError>>()?;
            Ok((views, total))
        })
    })
    .await?;
    let page = paging.page_after_lookahead(&req, items, total, COUNT_CAP, &fingerprint, |r| {
        vec![r.name.clone(), r.id.clone()]
    });
    Ok(HttpResponse::Ok().json(page))
}

/// Add a register under a CPUA (administrator).
#[utoipa::path(post, path = "/api/v1/registers", tag = "reference data",
    request_body = NewRegister,
    responses((status = 201, body = RegisterView),
              (status = 403, description = "Only an administrator adds registers"),
              (status = 409, description = "A register with this code exists")))]
pub async fn create_register(
    state: Data,
    who: Authenticated,
    body: JsonBody<NewRegister>,
) -> Result<HttpResponse, AppError> {
    let created = blocking(move || {
        let now = state.svc.clock.now();
        state
            .svc
            .write(|c| reference::create_register(c, &who.0, body.0, now))
    })
    .await?;
    Ok(HttpResponse::Created().json(created))
}

/// One register with its CPUA history.
#[utoipa::path(get, path = "/api/v1/registers/{id}", tag = "reference data", params(("id" = String, Path, description = "register id")),
    responses((status = 200, body = RegisterView)))]
pub async fn get_register(
    state: Data,
    path: web::Path<String>,
    _who: Authenticated,
) -> Result<HttpResponse, AppError> {
    let id = register_id(&path)?;
    let r = blocking(move || state.svc.read(|c| reference::get_register(c, &id))).await?;
    Ok(HttpResponse::Ok().json(r))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveRegister {
    /// The id of the CPUA authority now responsible.
    pub cpua: String,
}

/// Move a register to another CPUA; the history is kept (administrator).
#[utoipa::path(put, path = "/api/v1/registers/{id}/cpua", tag = "reference data", params(("id" = String, Path, description = "register id")),
    request_body = MoveRegister,
    responses((status = 200, body = RegisterView),
              (status = 403, description = "Only an administrator moves registers")))]
pub async fn move_register(
    state: Data,
    path: web::Path<String>,
    who: Authenticated,
    body: JsonBody<MoveRegister>,
) -> Result<HttpResponse, AppError> {
    crate::app::authz::require_admin(&who.0)?;
    let id = register_id(&path)?;
    let r = blocking(move || {
        let now = state.svc.clock.now();
        state
            .svc
            .write(|c| reference::move_register(c, &who.0, &id, &body.0.cpua, now))
    })
    .await?;
    Ok(HttpResponse::Ok().json(r))
}

/// Record a written delegation of release decisions for a register (CPUA legal of its CPUA).
#[utoipa::path(post, path = "/api/v1/registers/{id}/delegations", tag = "reference data", params(("id" = String, Path, description = "register id")),
    request_body = reference::NewDelegation,
    responses((status = 200, body = RegisterView),
              (status = 403, description = "Only CPUA legal of the register's CPUA delegates")))]
pub async fn add_delegation(
    state: Data,
    path: web::Path<String>,
    who: Authenticated,
    body: JsonBody<reference::NewDelegation>,
) -> Result<HttpResponse, AppError> {
    let id = register_id(&path)?;
    let r = blocking(move || {
        let (now, today) = (state.svc.clock.now(), state.svc.clock.today());
        state
            .svc
            .write(|c| reference::add_delegation(c, &who.0, &id, body.0, now, today))
    })
    .await?;
    Ok(HttpResponse::Ok().json(r))
}

/// Revoke a delegation as of today (CPUA legal of the register's CPUA).
#[utoipa::path(post, path = "/api/v1/registers/{id}/delegations/{delegation}/revoke", tag = "reference data",
    params(("id" = String, Path, description = "register id"), ("delegation" = String, Path, description = "delegation id")),
    responses((status = 200, body = RegisterView),
              (status = 403, description = "Only CPUA legal of the register's CPUA revokes"),
              (status = 409, description = "The delegation is already revoked")))]
pub async fn revoke_delegation(
    state: Data,
    path: web::Path<(String, String)>,
    who: Authenticated,
) -> Result<HttpResponse, AppError> {
    let (id, delegation) = path.into_inner();
    let id = register_id(&id)?;
    let r = blocking(move || {
        let (now, today) = (state.svc.clock.now(), state.svc.clock.today());
        state
            .svc
            .write(|c| reference::revoke_delegation(c, &who.0, &id, &delegation, now, today))
    })
    .await?;
    Ok(HttpResponse::Ok().json(r))
}

/// Record whether a register's patient information covers research (administrator).
#[utoipa::path(put, path = "/api/v1/registers/{id}/patient-information", tag = "reference data", params(("id" = String, Path, description = "register id")),
    request_body = reference::PatientInformationInput,
    responses((status = 200, body = RegisterView),
              (status = 403, description = "Only an administrator records this")))]
pub async fn set_patient_information(
    state: Data,
    path: web::Path<String>,
    who: Authenticated,
    body: JsonBody<reference::PatientInformationInput>,
) -> Result<HttpResponse, AppError> {
    let id = register_id(&path)?;
    let r = blocking(move || {
        let now = state.svc.clock.now();
        state
            .svc
            .write(|c| reference::set_patient_information(c, &who.0, &id, body.0, now))
    })
    .await?;
    Ok(HttpResponse::Ok().json(r))
}

/// Collaborations the caller may see, filtered and paginated.
#[utoipa::path(get, path = "/api/v1/collaborations", tag = "collaborations",
    params(("step" = Option<Step>, Query, description = "preparation … archiving, refused, withdrawn, closed"),
           ("cpua" = Option<String>, Query, description = "a CPUA's organisation id"),
           ("register" = Option<String>, Query, description = "a register id"),
           ("type" = Option<String>, Query, description = "a collaboration type code (statistics, research-public-principal, …): the type in force"),
           ("overdue" = Option<bool>, Query, description = "only those with a decision past its due date"),
           ("case_number" = Option<String>, Query, description = "a CPUA's own case number (diarienummer), exact match"),
           ("assigned" = Option<String>, Query, description = "mine: only cases whose handling lawyer is the caller"),
           ("q" = Option<String>, Query, description = "search: title or reference contains this text (2–100 characters, case-insensitive)"),
           ("sort" = Option<String>, Query, description = "newest (the default) or due: earliest undecided CPUA decision first; overdue lists are in due order"),
           ("cursor" = Option<String>, Query, description = "next_cursor of the previous page, with the same filters and sort"),
           ("per_page" = Option<i64>, Query, minimum = 1, description = "at most api.max_page_size")),
    responses((status = 200, body = Page<CollaborationSummary>),
              (status = 400, body = super::problem::Problem, content_type = "application/problem+json"),
              (status = 503, body = super::problem::Problem, content_type = "application/problem+json")))]
pub async fn list_collaborations(
    state: Data,
    req: HttpRequest,
    who: Authenticated,
) -> Result<HttpResponse, AppError> {
    let pairs = query_pairs(&req, COLLABORATION_LIST_PARAMS)?;
    let (q, paging) = collaboration_list_query(&pairs, &state, &who.0)?;
    let (items, total, next) = run_collaboration_list(state, who.0, q).await?;
    Ok(HttpResponse::Ok().json(paging.page(&req, items, total, COUNT_CAP, next)))
}

/// The query parameters of the collaborations list.
pub const COLLABORATION_LIST_PARAMS: &[&str] = &[
    "step",
    "cpua",
    "register",
    "type",
    "overdue",
    "sort",
    "per_page",
    "cursor",
    "case_number",
    "assigned",
    "q",
];

/// The search text of a list: trimmed, one line, 2–100 characters, folded to lower case; an empty
/// box is no search at all (a list page's form sends `q=` when nothing was typed).
pub fn parse_search(v: &str) -> Result<Option<String>, crate::domain::messages::Message> {
    if v.trim().is_empty() {
        return Ok(None);
    }
    let t = crate::domain::text::parse_line(v, 100)?;
    if t.chars().count() < 2 {
        return Err(crate::msg!("min_length.search", min = 2));
    }
    Ok(Some(crate::db::lists::fold(&t)))
}

/// The collaborations list's filters, order, page size and position, from its query parameters
/// (the API's and the list page's alike).
pub fn collaboration_list_query(
    pairs: &[(String, String)],
    state: &AppState,
    who: &crate::domain::role::Actor,
) -> Result<(ListQuery, Paging), AppError> {
    let paging = Paging::parse(pairs, state)?;
    let mut q = ListQuery {
        limit: paging.per_page,
        ..Default::default()
    };
    let mut sort = None;
    for (k, v) in pairs {
        match k.as_str() {
            "step" => {
                q.step = Some(Step::parse(v).ok_or_else(|| {
                    AppError::invalid("step", crate::msg!("one_of.step", value = v))
                })?)
            }
            "cpua" => {
                q.cpua = Some(
                    OrgId::parse(v)
                        .ok_or_else(|| AppError::invalid("cpua", crate::msg!("uuid.not_an_id")))?,
                )
            }
            "register" => {
                q.register =
                    Some(RegisterId::parse(v).ok_or_else(|| {
                        AppError::invalid("register", crate::msg!("uuid.not_an_id"))
                    })?)
            }
            "type" => {
                q.collaboration_type = Some(
                    crate::domain::classification::CollaborationType::parse(v).ok_or_else(
                        || {
                            AppError::invalid(
                                "type",
                                crate::msg!("one_of.collaboration_type", value = v),
                            )
                        },
                    )?,
                )
            }
            // Issue 16: the CPUA's own case number and the handling lawyer.
            "case_number" => {
                let n = crate::app::casework::parse_case_number(v)
                    .map_err(|m| AppError::invalid("case_number", m))?;
                q.case_number = Some(n);
            }
            "assigned" => {
                if v != "mine" {
                    return Err(AppError::invalid(
                        "assigned",
                        crate::msg!("casework.assigned_mine"),
                    ));
                }
                q.assignee = Some(who.account.to_string());
            }
            // Issue 12: the list's search box.
            "q" => q.search = parse_search(v).map_err(|m| AppError::invalid("q", m))?,
            "overdue" => {
                q.overdue = match v.as_str() {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    _ => return Err(AppError::invalid("overdue", crate::msg!("bool"))),
                }
            }
            "sort" => {
                sort = Some(match v.as_str() {
                    "newest" => CollabSort::Newest,
                    "due" => CollabSort::Due,
                    _ => {
                        return Err(AppError::invalid(
                            "sort",
                            crate::msg!("one_of.sort", value = v.as_str()),
                        ))
                    }
                })
            }
            _ => {}
        }
    }
    // Overdue is a work queue: in due order, most overdue first.
    q.sort = match (sort, q.overdue) {
        (Some(CollabSort::Newest), true) => {
            return Err(AppError::invalid("sort", crate::msg!("due_with_overdue")))
        }
        (None, true) => CollabSort::Due,
        (s, _) => s.unwrap_or(CollabSort::Newest),
    };
    let today = state.svc.clock.today();
    let fingerprint = q.fingerprint(who, today);
    q.after = match paging.after(&fingerprint, ListQuery::KEY_PARTS)? {
        None => None,
        Some(parts) => Some(q.key_from(&parts).ok_or_else(super::extract::other_list)?),
    };
    Ok((q, paging))
}

/// Runs the collaborations list through the list gate: the page, the count (capped) and the next
/// page's cursor.
pub async fn run_collaboration_list(
    state: Data,
    who: crate::domain::role::Actor,
    q: ListQuery,
) -> Result<(Vec<collab::CollaborationSummary>, i64, Option<String>), AppError> {
    let today = state.svc.clock.today();
    let fingerprint = q.fingerprint(&who, today);
    // A bounded number of lists run at once, so slow ones cannot take every connection.
    let permit = enter_list_gate(&state.svc.db.list_gate).await?;
    let max = state.svc.db.list_gate.max();
    let abandoned = Abandoned::new();
    let gone = abandoned.flag();
    let result = blocking(move || {
        let _permit = permit;
        if gone.load(std::sync::atomic::Ordering::Acquire) {
            return Err(AppError::Unavailable(crate::msg!(
                "unavailable.client_gone"
            )));
        }
        let mut conn = state.svc.db.pool.get()?;
        list_transaction(&mut conn, |c| collab::list(c, &who, &q, today))
    })
    .await;
    abandoned.disarm();
    // A list PostgreSQL cancelled at its statement timeout: busy, retry (503), not a fault (500).
    let (items, total, next) = result.map_err(|e| match e {
        AppError::Internal(ref a) if crate::db::conn::timed_out(a) => AppError::ListsBusy { max },
        e => e,
    })?;
    let next = next.map(|k| encode_cursor(&fingerprint, ListQuery::key_parts(&k)));
    Ok((items, total, next))
}

fn with_etag(status: actix_web::http::StatusCode, v: CollaborationView) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::ETAG, format!("\"{}\"", v.version)))
        .json(v)
}

/// Start a collaboration (step 1, preparation).
#[utoipa::path(post, path = "/api/v1/collaborations", tag = "collaborations",
    request_body = NewCollaborationInput,
    responses((status = 201, body = CollaborationView, headers(("ETag" = String, description = "the version, for If-Match"))),
              (status = 403, description = "The caller's role does not start collaborations")))]
pub async fn create_collaboration(
    state: Data,
    who: Authenticated,
    body: JsonBody<NewCollaborationInput>,
) -> Result<HttpResponse, AppError> {
    // Validate and classify on a read, write under the writer lock, then build the view on a read:
    // the single SQLite writer is held only for the write itself.
    let v = blocking(move || {
        let (now, today) = (state.svc.clock.now(), state.svc.clock.today());
        let (svc, who) = (&state.svc, &who.0);
        let c = svc.read(|c| collab::prepare_create(c, &svc.rulebooks, who, body.0, now, today))?;
        let c = svc.write(|conn| collab::store_created(conn, who, c, today, now))?;
        svc.read(|conn| collab::created_view(conn, &svc.rulebooks, who, c, now, today))
    })
    .await?;
    Ok(with_etag(actix_web::http::StatusCode::CREATED, v))
}

/// One collaboration, with what the caller may do next and which CPUA is holding it up.
#[utoipa::path(get, path = "/api/v1/collaborations/{id}", tag = "collaborations",
    params(("id" = String, Path, description = "collaboration id")),
    responses((status = 200, body = CollaborationView, headers(("ETag" = String, description = "the version, for If-Match")))))]
pub async fn get_collaboration(
    state: Data,
    path: web::Path<String>,
    who: Authenticated,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let (now, today) = (state.svc.clock.now(), state.svc.clock.today());
    // A view kept for this caller is sent without a database connection or a blocking thread.
    let v = match collab::kept_rendered(&state.svc.views, &who.0, &id, now, today) {
        Some(v) => v,
        None => {
            blocking(move || {
                let svc = &state.svc;
                let mut conn = svc.db.pool.get()?;
                collab::get_rendered(
                    &mut conn,
                    &svc.rulebooks,
                    &svc.views,
                    &who.0,
                    &id,
                    now,
                    today,
                )
            })
            .await?
        }
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, format!("\"{}\"", v.version)))
        .content_type("application/json")
        .body(v.body.clone()))
}

async fn run_command(
    state: Data,
    req: HttpRequest,
    id: String,
    who: Authenticated,
    cmd: crate::app::commands::CommandInput,
) -> Result<HttpResponse, AppError> {
    let expected = if_match(&req)?;
    // Without If-Match the caller asked for the change whatever the version: a lost race is retried.
    let attempts = if expected.is_some() {
        1
    } else {
        WRITE_ATTEMPTS
    };
    let v = blocking(move || {
        let (now, today) = (state.svc.clock.now(), state.svc.clock.today());
        state.svc.write_retrying(attempts, |c| {
            collab::execute(
                c,
                &state.svc.rulebooks,
                &who.0,
                &id,
                cmd.clone(),
                expected,
                now,
                today,
            )
        })
    })
    .await?;
    Ok(with_etag(actix_web::http::StatusCode::OK, v))
}

/// Edit details while the collaboration is editable (steps 1–3). Send `If-Match` to guard against
/// concurrent edits.
#[utoipa::path(patch, path = "/api/v1/collaborations/{id}", tag = "collaborations",
    params(("id" = String, Path, description = "collaboration id"),
           ("If-Match" = Option<String>, Header, description = "the ETag of the version the change is based on, e.g. \"3\"; without it a lost race is retried")),
    request_body = PatchInput,
    responses((status = 200, body = CollaborationView, headers(("ETag" = String, description = "the version, for If-Match"))),
              (status = 403, description = "The caller's role or organisation may not issue this command"),
              (status = 409, description = "A precondition of the step is not met; `missing`, `obligations` and `warnings` say which"),
              (status = 412, description = "If-Match names an older version")))]
pub async fn patch_collaboration(
    state: Data,
    req: HttpRequest,
    path: web::Path<String>,
    who: Authenticated,
    body: JsonBody<PatchInput>,
) -> Result<HttpResponse, AppError> {
    let cmd = collab::patch_command(body.0)?.into();
    run_command(state, req, path.into_inner(), who, cmd).await
}

/// Move to a step (`to`) with that step's data. A refused transition names the missing
/// precondition and its source.
#[utoipa::path(post, path = "/api/v1/collaborations/{id}/transitions", tag = "collaborations",
    params(("id" = String, Path, description = "collaboration id"),
           ("If-Match" = Option<String>, Header, description = "the ETag of the version the change is based on, e.g. \"3\"; without it a lost race is retried")),
    request_body(content = TransitionInput, examples(
        ("register_contact" = (value = json!({"to": "register_contact"}))),
        ("data_application" = (value = json!({"to": "data_application", "cpua": "<CPUA id>", "dossier": {
            "recipient_principal": "Exempeluniversitetet", "project_description": "Kohortstudie",
            "ethics_documents": "2026-01234-01", "requested_data": ["alder", "kon"],
            "access_and_storage": "Krypterad server hos huvudmannen"}}))),
        ("release_decision" = (value = json!({"to": "release_decision", "cpua": "<CPUA id>", "outcome": "approved",
            "findings": {"need_for_data": true, "within_ethics_approval": true, "no_risk_of_harm": true}}))))),
    responses((status = 200, body = CollaborationView, headers(("ETag" = String, description = "the version, for If-Match"))),
              (status = 403, description = "The caller's role or organisation may not issue this command"),
              (status = 409, description = "A precondition of the step is not met; `missing`, `obligations` and `warnings` say which"),
              (status = 412, description = "If-Match names an older version")))]
pub async fn transition(
    state: Data,
    req: HttpRequest,
    path: web::Path<String>,
    who: Authenticated,
    body: JsonBody<TransitionInput>,
) -> Result<HttpResponse, AppError> {
    let cmd = body.0.into_command()?;
    run_command(state, req, path.into_inner(), who, cmd).await
}

/// Record something within a step (`action`): feasibility, ethics approval, cost agreement,
/// publications, report back, disposal, amendments, internal notes.
#[utoipa::path(post, path = "/api/v1/collaborations/{id}/actions", tag = "collaborations",
    params(("id" = String, Path, description = "collaboration id"),
           ("If-Match" = Option<String>, Header, description = "the ETag of the version the change is based on, e.g. \"3\"; without it a lost race is retried")),
    request_body(content = ActionInput, examples(
        ("record_feasibility" = (value = json!({"action": "record_feasibility", "register": "<register id>", "feasible": true}))),
        ("record_ethics_approval" = (value = json!({"action": "record_ethics_approval", "reference": "2026-01234-01", "decided_on": "2026-08-20"}))),
        ("add_internal_note" = (value = json!({"action": "add_internal_note", "text": "Kontrollera variabellistan."}))))),
    responses((status = 200, body = CollaborationView, headers(("ETag" = String, description = "the version, for If-Match"))),
              (status = 403, description = "The caller's role or organisation may not issue this command"),
              (status = 409, description = "A precondition of the step is not met; `missing`, `obligations` and `warnings` say which"),
              (status = 412, description = "If-Match names an older version")))]
pub async fn action(
    state: Data,
    req: HttpRequest,
    path: web::Path<String>,
    who: Authenticated,
    body: JsonBody<ActionInput>,
) -> Result<HttpResponse, AppError> {
    let cmd = body.0.into_command()?;
    run_command(state, req, path.into_inner(), who, cmd).await
}

/// The events of a collaboration the caller may see (parties see party-visible events only).
#[utoipa::path(get, path = "/api/v1/collaborations/{id}/events", tag = "audit",
    params(("id" = String, Path, description = "collaboration id")),
    responses((status = 200, body = Vec<EventView>)))]
pub async fn events(
    state: Data,
    path: web::Path<String>,
    who: Authenticated,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let (events, _) = blocking(move || {
        state.svc.read(|c| {
            collab::events(
                c,
                &state.svc.rulebooks,
                &who.0,
                &id,
                state.svc.audit_key.as_deref(),
            )
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(events))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditResponse {
    pub verification: StreamReport,
    pub events: Vec<EventView>,
}

/// The audit trail with the verdict on its hash chain: the first broken link if someone tampered.
#[utoipa::path(get, path = "/api/v1/collaborations/{id}/audit", tag = "audit",
    params(("id" = String, Path, description = "collaboration id")),
    responses((status = 200, body = AuditResponse)))]
pub async fn audit(
    state: Data,
    path: web::Path<String>,
    who: Authenticated,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let (events, verification) = blocking(move || {
        state.svc.read(|c| {
            collab::events(
                c,
                &state.svc.rulebooks,
                &who.0,
                &id,
                state.svc.audit_key.as_deref(),
            )
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(AuditResponse {
        verification,
        events,
    }))
}

/// What-if classification: intake facts in, type, obligations, documents, clauses, missing facts and
/// sensitivity out. Nothing is stored.
#[utoipa::path(post, path = "/api/v1/classify", tag = "classification",
    request_body = crate::app::classification::WhatIfFacts,
    responses((status = 200, description = "type, obligations, documents, clauses, missing facts and sensitivity", body = Object)))]
pub async fn classify(
    state: Data,
    _who: Authenticated,
    body: JsonBody<serde_json::Value>,
) -> Result<HttpResponse, AppError> {
    let result = blocking(move || {
        let today = state.svc.clock.today();
        state
            .svc
            .read(|c| crate::app::classification::what_if(c, &state.svc.rulebooks, &body.0, today))
    })
    .await?;
    Ok(HttpResponse::Ok().json(result))
}

/// Render a new immutable agreement version (DOCX, PDF, HTML) from the collaboration and the
/// negotiated terms. A missing item answers 422 listing each with the step where it is entered.
#[utoipa::path(post, path = "/api/v1/collaborations/{id}/agreements", tag = "agreements",
    params(("id" = String, Path, description = "collaboration id")),
    request_body = crate::app::agreements::NewAgreementVersion,
    responses((status = 201, body = crate::app::agreements::AgreementVersionView),
              (status = 403, description = "The caller may not draw agreements"),
              (status = 409, description = "The collaboration is not at a step where agreements are drawn")))]
pub async fn create_agreement(
    state: Data,
    path: web::Path<String>,
    who: Authenticated,
    body: JsonBody<crate::app::agreements::NewAgreementVersion>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let v = blocking(move || {
        let now = state.svc.clock.now();
        // Two drafts at the same moment race for the next number: the loser draws again.
        state.svc.write_retrying(WRITE_ATTEMPTS, |c| {
            crate::app::agreements::create_version(
                c,
                &state.svc.rulebooks,
                &state.svc.templates,
                &who.0,
                &id,
                body.0.clone(),
                now,
            )
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(v))
}

/// The agreement versions of a collaboration.
#[utoipa::path(get, path = "/api/v1/collaborations/{id}/agreements", tag = "agreements",
    params(("id" = String, Path, description = "collaboration id")),
    responses((status = 200, body = Vec<crate::app::agreements::AgreementVersionView>)))]
pub async fn list_agreements(
    state: Data,
    path: web::Path<String>,
    who: Authenticated,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let v = blocking(move || {
        state
            .svc
            .read(|c| crate::app::agreements::list(c, &state.svc.rulebooks, &who.0, &id))
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// One rendered file of a version: `{n}.docx`, `{n}.pdf` or `{n}.html`, exactly as stored.
#[utoipa::path(get, path = "/api/v1/collaborations/{id}/agreements/{file}", tag = "agreements",
    params(("id" = String, Path, description = "collaboration id"),
           ("file" = String, Path, description = "e.g. 1.docx, 2.pdf, 3.html")),
    responses((status = 200, description = "the file, exactly as stored (`X-Content-SHA256`)", content(
        (Vec<u8> = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (Vec<u8> = "application/pdf"), (String = "text/html")))))]
pub async fn agreement_file(
    state: Data,
    path: web::Path<(String, String)>,
    who: Authenticated,
) -> Result<HttpResponse, AppError> {
    let (id, file) = path.into_inner();
    let not_found = || AppError::NotFound(crate::msg!("thing.agreement_file"));
    let (n, ext) = file.split_once('.').ok_or_else(not_found)?;
    let number: i32 = n.parse().map_err(|_| not_found())?;
    let format = crate::render::Format::parse(&format!("x.{ext}")).ok_or_else(not_found)?;
    let (bytes, sha) = blocking(move || {
        state.svc.read(|c| {
            crate::app::agreements::file(c, &state.svc.rulebooks, &who.0, &id, number, format)
        })
    })
    .await?;
    // The HTML version is shown in the browser (the case page's "Visa" link; issue 12, "agreement
    // versions (HTML view, DOCX and PDF download)"); the others are downloaded.
    let disposition = match format {
        crate::render::Format::Html => "inline",
        _ => "attachment",
    };
    Ok(HttpResponse::Ok()
        .content_type(format.content_type())
        .insert_header(("X-Content-SHA256", sha))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("{disposition}; filename=\"agreement-{number}.{ext}\""),
        ))
        .body(bytes))
}

/// A clause-by-clause comparison of two versions (HTML).
#[utoipa::path(get, path = "/api/v1/collaborations/{id}/agreements/diff", tag = "agreements",
    params(("id" = String, Path, description = "collaboration id"),
           ("from" = i32, Query, description = "version number"), ("to" = i32, Query, description = "version number")),
    responses((status = 200, description = "an HTML page", body = String, content_type = "text/html")))]
pub async fn agreement_diff(
    state: Data,
    req: HttpRequest,
    path: web::Path<String>,
    who: Authenticated,
) -> Result<HttpResponse, AppError> {
    let pairs = query_pairs(&req, &["from", "to"])?;
    let num = |k: &str| -> Result<i32, AppError> {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .and_then(|(_, v)| v.parse().ok())
            .ok_or_else(|| AppError::invalid(k, crate::msg!("required.version")))
    };
    let (from, to) = (num("from")?, num("to")?);
    let id = path.into_inner();
    let html = blocking(move || {
        state
            .svc
            .read(|c| crate::app::agreements::diff(c, &state.svc.rulebooks, &who.0, &id, from, to))
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(html))
}

/// CPUA legal replaces one clause's text for this agreement, with a reason; a new version shows it
/// highlighted and lists it in a deviation appendix.
#[utoipa::path(post, path = "/api/v1/collaborations/{id}/agreements/{number}/deviations", tag = "agreements",
    params(("id" = String, Path, description = "collaboration id"), ("number" = i32, Path, description = "agreement version number")),
    request_body = crate::app::agreements::DeviationInput,
    responses((status = 201, body = crate::app::agreements::AgreementVersionView),
              (status = 403, description = "Only CPUA legal replaces clause text"),
              (status = 409, description = "The version may no longer be changed")))]
pub async fn agreement_deviation(
    state: Data,
    path: web::Path<(String, String)>,
    who: Authenticated,
    body: JsonBody<crate::app::agreements::DeviationInput>,
) -> Result<HttpResponse, AppError> {
    let (id, n) = path.into_inner();
    let number: i32 = n
        .parse()
        .map_err(|_| AppError::NotFound(crate::msg!("thing.agreement_version")))?;
    let v = blocking(move || {
        let now = state.svc.clock.now();
        state.svc.write(|c| {
            crate::app::agreements::add_deviation(
                c,
                &state.svc.rulebooks,
                &state.svc.templates,
                &who.0,
                &id,
                number,
                body.0,
                now,
            )
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(v))
}
