//! The administrator's pages: organisations, registers (with their CPUA history, moves,
//! delegations and patient information) and the people of an organisation.
//!
//! Every form is read into the API's own input type and reaches the same app-layer command as the
//! API handler (`http::api::create_organisation`, `move_register`, `add_delegation`,
//! `revoke_delegation`, `set_patient_information`; `http::identity_api::create_invitation`,
//! `grant_membership`, `revoke_membership`), so the rules and their messages are the app's own.
//!
//! Who may open what mirrors the API: reference data are an administrator's
//! (`authz::require_admin`); a register's delegations are recorded by the legal team of its CPUA,
//! who may therefore open the register's page too; the people of an organisation are managed as
//! `authz::may_manage_people` says (an administrator any organisation, a company representative
//! their own company's representatives; another organisation answers 404).
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use serde::Serialize;
use std::collections::BTreeMap;

use super::form::{anchor, Entered, Form, FormErrors};
use super::{PageEnv, PageError, PageResult};
use crate::app::authz::{self, PeopleManager};
use crate::app::identity::{self, InvitationView, MemberView, NewInvitation, NewMembership};
use crate::app::reference::{self, NewOrganisation, PatientInformationInput, RegisterView};
use crate::app::AppError;
use crate::db::lists::COUNT_CAP;
use crate::db::repo;
use crate::domain::ids::{OrgId, RegisterId};
use crate::domain::lang::Lang;
use crate::domain::organisation::{OrgKind, Organisation};
use crate::domain::register::Delegate;
use crate::domain::role::{Actor, Role};
use crate::http::api::WRITE_ATTEMPTS;
use crate::http::extract::{query_pairs, Paging};

// ---------- shared pieces ----------

/// One input of a form as the page shows it: its element id, what was entered, and the message
/// at it (empty when none).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Field {
    pub anchor: String,
    pub value: String,
    pub error: String,
}

/// The field `name` (the input type's own field name) with what was entered and its message.
pub fn field(name: &str, entered: &Entered, errors: &FormErrors) -> Field {
    Field {
        anchor: anchor(name),
        value: entered.value(name),
        error: errors.at(name).unwrap_or_default().to_string(),
    }
}

/// One option of a select or a radio group.
#[derive(Debug, Clone, Serialize)]
pub struct Choice {
    pub code: String,
    pub label: String,
    pub selected: bool,
}

/// An error's explanation in the language, as a sentence (a refusal shown where a form is not
/// offered).
fn reason(e: &AppError, lang: Lang) -> String {
    sentence(&crate::http::problem::problem_in(e, lang).detail)
}

/// A message fragment as a sentence: a capital first letter and a full stop.
fn sentence(s: &str) -> String {
    let s = s.trim();
    let mut chars = s.chars();
    let mut out: String = match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => return String::new(),
    };
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// The text key of an organisation kind's name.
fn kind_key(k: OrgKind) -> &'static str {
    match k {
        OrgKind::Company => "admin.kind.company",
        OrgKind::University => "admin.kind.university",
        OrgKind::Region => "admin.kind.region",
        OrgKind::CpuaAuthority => "admin.kind.cpua_authority",
        OrgKind::RegisterCentre => "admin.kind.register_centre",
        OrgKind::OtherPrivate => "admin.kind.other_private",
    }
}

/// The administrator, or the page refused (403).
fn admin(env: &PageEnv) -> Result<Actor, PageError> {
    let actor = env.actor()?.clone();
    authz::require_admin(&actor).map_err(|e| env.fail(e))?;
    Ok(actor)
}

/// A form's errors, or the whole page's failure when the error is not the form's fault.
fn form_errors(env: &PageEnv, e: AppError) -> Result<FormErrors, PageError> {
    FormErrors::of(&e, env.lang).ok_or_else(|| env.fail(e))
}

fn status_of(errors: &FormErrors) -> StatusCode {
    if errors.any {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    }
}

// ---------- the overview ----------

/// The administrator's start page: where each kind of reference data is kept, and the
/// organisation's signing policy (issue 14: the envelope expiry, "configurable per CPUA").
pub async fn overview(env: PageEnv) -> PageResult {
    let actor = admin(&env)?;
    overview_page(&env, actor, None, FormErrors::default()).await
}

#[derive(Serialize)]
struct SigningPolicyForm {
    organisation: String,
    expiry_days: Field,
    own: bool,
}

async fn overview_page(
    env: &PageEnv,
    actor: Actor,
    entered: Option<Entered>,
    errors: FormErrors,
) -> PageResult {
    let a = actor.clone();
    let (view, org_name) = env
        .blocking(move |s| {
            let policy = crate::http::signing_api::policy(s);
            s.svc.read(|c| {
                let view = crate::app::signing::signing_policy(c, &policy, &a, &a.org)?;
                let name = repo::find_organisation(c, &a.org)?
                    .map(|o| o.name)
                    .unwrap_or_else(|| a.org.to_string());
                Ok((view, name))
            })
        })
        .await?;
    let mut expiry_days = field("expiry_days", &entered.unwrap_or_default(), &errors);
    if expiry_days.value.is_empty() {
        expiry_days.value = view.expiry_days.to_string();
    }
    let status = status_of(&errors);
    env.render_status(
        status,
        "admin",
        "admin.title",
        serde_json::json!({
            "signing_policy": SigningPolicyForm {
                organisation: org_name,
                expiry_days,
                own: view.own,
            },
            "errors": errors,
        }),
    )
}

/// Sets the organisation's envelope expiry (`app::signing::set_signing_policy`, the API's
/// `PUT /api/v1/organisations/{id}/signing-policy`).
pub async fn set_signing_policy(env: PageEnv, form: Form) -> PageResult {
    let actor = admin(&env)?;
    let input = form.read::<crate::app::signing::SigningPolicyInput>();
    let a = actor.clone();
    let result = env
        .blocking(move |s| {
            Ok(input.and_then(|input| {
                let policy = crate::http::signing_api::policy(s);
                let now = s.svc.clock.now();
                s.svc.write(|c| {
                    crate::app::signing::set_signing_policy(c, &policy, &a, &a.org, input, now)
                })
            }))
        })
        .await?;
    match result {
        Ok(_) => Ok(env.see_other("/admin")),
        Err(e) => {
            let errors = form_errors(&env, e)?;
            overview_page(&env, actor, Some(form.entered()), errors).await
        }
    }
}

// ---------- organisations ----------

#[derive(Serialize)]
struct OrgRow {
    id: String,
    name: String,
    kind: String,
    org_number: String,
}

#[derive(Serialize)]
struct OrgForm {
    name: Field,
    kind: Field,
    kinds: Vec<Choice>,
    org_number: Field,
    vat_number: Field,
    street: Field,
    postal_code: Field,
    city: Field,
    country: Field,
}

#[derive(Serialize)]
struct OrganisationsPage {
    items: Vec<OrgRow>,
    total: i64,
    total_exact: bool,
    next: Option<String>,
    form: OrgForm,
    errors: FormErrors,
    created: Option<String>,
}

/// The organisations, by name, in the API's keyset pages (same fingerprint, so the cursors are
/// the API's), and the form that adds one.
async fn organisations_page(
    env: &PageEnv,
    req: &HttpRequest,
    entered: Entered,
    errors: FormErrors,
) -> PageResult {
    let pairs = query_pairs(req, &["per_page", "cursor", "created"]).map_err(|e| env.fail(e))?;
    let paging = Paging::parse(&pairs, &env.state).map_err(|e| env.fail(e))?;
    // The API's list with no kind filter.
    let fingerprint = "organisations|kind=".to_string();
    let after = paging.after(&fingerprint, 2).map_err(|e| env.fail(e))?;
    let limit = paging.per_page;
    let created = pairs
        .iter()
        .find(|(k, _)| k == "created")
        .and_then(|(_, v)| OrgId::parse(v));
    let (items, total, created) = env
        .blocking(move |s| {
            s.svc.read(|c| {
                let after = after.as_ref().map(|k| (k[0].as_str(), k[1].as_str()));
                let (items, total) = repo::list_organisations(c, None, after, limit + 1)?;
                let created = match created {
                    Some(id) => repo::find_organisation(c, &id)?.map(|o| o.name),
                    None => None,
                };
                Ok((items, total, created))
            })
        })
        .await?;
    let page = paging.page_after_lookahead(req, items, total, COUNT_CAP, &fingerprint, |o| {
        vec![o.name.clone(), o.id.to_string()]
    });
    let lang = env.lang;
    let f = |n: &str| field(n, &entered, &errors);
    let chosen = entered.value("kind");
    let form = OrgForm {
        name: f("name"),
        kind: f("kind"),
        kinds: OrgKind::ALL
            .iter()
            .map(|k| Choice {
                code: k.code().to_string(),
                label: super::text::t(lang, kind_key(*k)),
                selected: chosen == k.code(),
            })
            .collect(),
        org_number: f("org_number"),
        vat_number: f("vat_number"),
        street: f("address.street"),
        postal_code: f("address.postal_code"),
        city: f("address.city"),
        country: f("address.country"),
    };
    let items = page
        .items
        .iter()
        .map(|o: &Organisation| OrgRow {
            id: o.id.to_string(),
            name: o.name.clone(),
            kind: super::text::t(lang, kind_key(o.kind)),
            org_number: o.org_number.to_string(),
        })
        .collect();
    env.render_status(
        status_of(&errors),
        "admin_organisations",
        "admin.orgs.title",
        OrganisationsPage {
            items,
            total: page.total,
            total_exact: page.total_exact,
            next: page.next,
            form,
            created,
            errors,
        },
    )
}

/// The organisations and the form to add one.
pub async fn organisations(env: PageEnv, req: HttpRequest) -> PageResult {
    admin(&env)?;
    organisations_page(&env, &req, Entered::default(), FormErrors::default()).await
}

/// Adds an organisation through the API's command (`reference::create_organisation`); a form
/// with errors comes back 422 with what was entered and each message at its field.
pub async fn create_organisation(env: PageEnv, req: HttpRequest, form: Form) -> PageResult {
    let actor = admin(&env)?;
    let parsed = form
        .read::<NewOrganisation>()
        .and_then(NewOrganisation::parse);
    let result = match parsed {
        Ok(org) => {
            env.blocking(move |s| {
                let now = s.svc.clock.now();
                match s
                    .svc
                    .write(|c| reference::create_organisation(c, &actor, org, now))
                {
                    Ok(o) => Ok(Ok(o)),
                    Err(e) => Ok(Err(e)),
                }
            })
            .await?
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(o) => Ok(env.see_other(&format!("/admin/organisations?created={}", o.id))),
        Err(e) => {
            let errors = form_errors(&env, e)?;
            organisations_page(&env, &req, form.entered(), errors).await
        }
    }
}

// ---------- registers ----------

#[derive(Serialize)]
struct RegisterRow {
    id: String,
    code: String,
    name: String,
    cpua_name: String,
    covers_research: bool,
    is_example: bool,
}

#[derive(Serialize)]
struct RegistersPage {
    is_admin: bool,
    items: Vec<RegisterRow>,
    total: i64,
    total_exact: bool,
    next: Option<String>,
}

/// The registers, by name, each with its CPUA now, in the API's keyset pages (the API's
/// fingerprint, so its cursors). An administrator sees them all; a CPUA legal team the registers
/// of its own CPUA (the API's `cpua` filter), whose delegations it records.
pub async fn registers(env: PageEnv, req: HttpRequest) -> PageResult {
    let actor = register_reader(&env)?;
    let is_admin = actor.role == Role::Administrator;
    let cpua = (!is_admin).then(|| actor.org.clone());
    let pairs = query_pairs(&req, &["per_page", "cursor"]).map_err(|e| env.fail(e))?;
    let paging = Paging::parse(&pairs, &env.state).map_err(|e| env.fail(e))?;
    let fingerprint = format!(
        "registers|cpua={}",
        cpua.as_ref().map(OrgId::as_str).unwrap_or("")
    );
    let after = paging.after(&fingerprint, 2).map_err(|e| env.fail(e))?;
    let limit = paging.per_page;
    let (items, total) = env
        .blocking(move |s| {
            s.svc.read(|c| {
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
    let items = page
        .items
        .into_iter()
        .map(|r| RegisterRow {
            id: r.id,
            code: r.code,
            name: r.name,
            cpua_name: r.cpua_name.unwrap_or_default(),
            covers_research: r.patient_information_covers_research,
            is_example: r.is_example,
        })
        .collect();
    env.render(
        "admin_registers",
        "admin.registers.title",
        RegistersPage {
            is_admin,
            items,
            total: page.total,
            total_exact: page.total_exact,
            next: page.next,
        },
    )
}

#[derive(Serialize)]
struct HistoryRow {
    cpua_name: String,
    valid_from: String,
    valid_to: Option<String>,
    current: bool,
}

#[derive(Serialize)]
struct DelegationRow {
    id: String,
    delegate: String,
    delegated_on: String,
    reference: String,
    revoked_on: Option<String>,
    in_force: bool,
    may_revoke: bool,
}

#[derive(Serialize)]
struct RegisterPage {
    is_admin: bool,
    id: String,
    code: String,
    name: String,
    is_example: bool,
    cpua_name: String,
    covers_research: bool,
    history: Vec<HistoryRow>,
    delegations: Vec<DelegationRow>,
    /// The administrator's forms (move, patient information), or why they are not offered.
    may_admin: bool,
    admin_reason: String,
    cpuas: Vec<Choice>,
    cpua: Field,
    covers: Field,
    /// CPUA legal of the register's CPUA records and revokes delegations.
    may_delegate: bool,
    delegate_reason: String,
    delegate: Field,
    delegate_person: bool,
    account: Field,
    delegated_on: Field,
    reference: Field,
    today: String,
    errors: FormErrors,
}

/// Who may open a register's page: an administrator, and the CPUA legal teams (the legal team of
/// the register's CPUA records its delegations; the API lets anyone signed in read a register).
fn register_reader(env: &PageEnv) -> Result<Actor, PageError> {
    let actor = env.actor()?.clone();
    if matches!(actor.role, Role::Administrator | Role::CpuaLegal) {
        Ok(actor)
    } else {
        Err(env.fail(AppError::Forbidden(crate::msg!("forbidden.reference_data"))))
    }
}

fn parse_register(env: &PageEnv, id: &str) -> Result<RegisterId, PageError> {
    RegisterId::parse(id).ok_or_else(|| env.fail(AppError::NotFound(crate::msg!("thing.register"))))
}

/// The register page: the register now, its CPUA history (each assignment kept when it moves,
/// `reference::move_register`), its delegations, and the forms the reader may use.
async fn register_page(
    env: &PageEnv,
    actor: Actor,
    id: RegisterId,
    entered: Entered,
    errors: FormErrors,
) -> PageResult {
    let (reg, cpuas) = env
        .blocking(move |s| {
            s.svc.read(|c| {
                let reg = reference::get_register(c, &id)?;
                // The CPUA authorities, few (six after the consolidation, seed 002).
                let (cpuas, _) =
                    repo::list_organisations(c, Some(OrgKind::CpuaAuthority), None, 500)?;
                Ok((reg, cpuas))
            })
        })
        .await?;
    let lang = env.lang;
    let today = env.state.svc.clock.today();
    let names: BTreeMap<String, String> = cpuas
        .iter()
        .map(|o| (o.id.to_string(), o.name.clone()))
        .collect();
    let history = reg
        .cpua_history
        .iter()
        .rev()
        .map(|h| HistoryRow {
            cpua_name: names
                .get(h.cpua.as_str())
                .cloned()
                .unwrap_or_else(|| h.cpua.to_string()),
            valid_from: h.valid_from.to_rfc3339(),
            valid_to: h.valid_to.map(|t| t.to_rfc3339()),
            current: h.valid_to.is_none(),
        })
        .collect();
    let may_admin = authz::require_admin(&actor);
    let is_cpua_legal =
        actor.role == Role::CpuaLegal && reg.cpua.as_deref() == Some(actor.org.as_str());
    let delegate_refusal = AppError::Forbidden(crate::msg!("forbidden.delegate"));
    let delegations = reg
        .delegations
        .iter()
        .map(|d| DelegationRow {
            id: d.id.clone(),
            delegate: match &d.delegate {
                Delegate::RegisterHolder => super::text::t(lang, "admin.register.holder"),
                Delegate::Person { name, .. } => name.clone(),
            },
            delegated_on: d.delegated_on.to_string(),
            reference: d.reference.clone(),
            revoked_on: d.revoked_on.map(|r| r.to_string()),
            in_force: d.in_force(today),
            may_revoke: is_cpua_legal && d.revoked_on.is_none(),
        })
        .collect();
    let f = |n: &str| field(n, &entered, &errors);
    let chosen_cpua = entered.value("cpua");
    let cpua_choices = cpuas
        .iter()
        .filter(|o| reg.cpua.as_deref() != Some(o.id.as_str()))
        .map(|o| Choice {
            code: o.id.to_string(),
            label: o.name.clone(),
            selected: chosen_cpua == o.id.as_str(),
        })
        .collect();
    let mut delegate = f("delegate");
    if delegate.value.is_empty() {
        delegate.value = "register_holder".into();
    }
    let covers = f("covers_research");
    env.render_status(
        status_of(&errors),
        "admin_register",
        "admin.register.title",
        RegisterPage {
            is_admin: actor.role == Role::Administrator,
            id: reg.id.clone(),
            code: reg.code.clone(),
            name: reg.name.clone(),
            is_example: reg.is_example,
            cpua_name: reg.cpua_name.clone().unwrap_or_default(),
            covers_research: reg.patient_information_covers_research,
            history,
            delegations,
            may_admin: may_admin.is_ok(),
            admin_reason: may_admin
                .err()
                .map(|e| reason(&e, lang))
                .unwrap_or_default(),
            cpuas: cpua_choices,
            cpua: f("cpua"),
            covers,
            may_delegate: is_cpua_legal,
            delegate_reason: if is_cpua_legal {
                String::new()
            } else {
                reason(&delegate_refusal, lang)
            },
            delegate_person: delegate.value == "person",
            delegate,
            account: f("account"),
            delegated_on: f("delegated_on"),
            reference: f("reference"),
            today: today.to_string(),
            errors,
        },
    )
}

/// One register's page.
pub async fn register(env: PageEnv, path: web::Path<String>) -> PageResult {
    let actor = register_reader(&env)?;
    let id = parse_register(&env, &path)?;
    register_page(&env, actor, id, Entered::default(), FormErrors::default()).await
}

/// Runs a register command; on success back to the register's page, on a form's fault the page
/// again (422) with what was entered and the messages.
async fn register_command(
    env: PageEnv,
    actor: Actor,
    id: RegisterId,
    form: Form,
    run: impl FnOnce(&crate::http::AppState, &Actor, &RegisterId) -> Result<RegisterView, AppError>
        + Send
        + 'static,
) -> PageResult {
    let (a, i) = (actor.clone(), id.clone());
    let result = env.blocking(move |s| Ok(run(s, &a, &i))).await?;
    match result {
        Ok(_) => Ok(env.see_other(&format!("/admin/registers/{id}"))),
        Err(e) => {
            let errors = form_errors(&env, e)?;
            register_page(&env, actor, id, form.entered(), errors).await
        }
    }
}

/// Moves the register to another CPUA (`reference::move_register`, the API's
/// `PUT /api/v1/registers/{id}/cpua`). The move takes effect when it is saved: the app keeps
/// the earlier assignment, with its end, as history; collaborations already under review stay
/// with the CPUA they applied to.
pub async fn move_register(env: PageEnv, path: web::Path<String>, form: Form) -> PageResult {
    let actor = admin(&env)?;
    let id = parse_register(&env, &path)?;
    let input = form.read::<crate::http::api::MoveRegister>();
    register_command(env, actor, id, form, move |s, a, i| {
        let input = input?;
        let now = s.svc.clock.now();
        s.svc
            .write(|c| reference::move_register(c, a, i, &input.cpua, now))
    })
    .await
}

/// Records whether the register's patient information covers research
/// (`reference::set_patient_information`; seed 000, "Vilka registerdata går att använda för
/// forskning?").
pub async fn set_patient_information(
    env: PageEnv,
    path: web::Path<String>,
    form: Form,
) -> PageResult {
    let actor = admin(&env)?;
    let id = parse_register(&env, &path)?;
    let input = form.read::<PatientInformationInput>();
    register_command(env, actor, id, form, move |s, a, i| {
        let input = input?;
        let now = s.svc.clock.now();
        s.svc
            .write(|c| reference::set_patient_information(c, a, i, input, now))
    })
    .await
}

/// Records a written delegation of the release decision (`reference::add_delegation`; seed 000,
/// "Menprövning av centralt personuppgiftsansvarig myndighet (CPUA)"). The app lets only the
/// legal team of the register's CPUA do it.
pub async fn add_delegation(env: PageEnv, path: web::Path<String>, form: Form) -> PageResult {
    let actor = register_reader(&env)?;
    let id = parse_register(&env, &path)?;
    let input = form.read::<reference::NewDelegation>();
    register_command(env, actor, id, form, move |s, a, i| {
        let input = input?;
        let (now, today) = (s.svc.clock.now(), s.svc.clock.today());
        s.svc
            .write(|c| reference::add_delegation(c, a, i, input, now, today))
    })
    .await
}

/// Revokes a delegation as of today (`reference::revoke_delegation`).
pub async fn revoke_delegation(
    env: PageEnv,
    path: web::Path<(String, String)>,
    form: Form,
) -> PageResult {
    let actor = register_reader(&env)?;
    let (id, delegation) = path.into_inner();
    let id = parse_register(&env, &id)?;
    register_command(env, actor, id, form, move |s, a, i| {
        let (now, today) = (s.svc.clock.now(), s.svc.clock.today());
        s.svc
            .write(|c| reference::revoke_delegation(c, a, i, &delegation, now, today))
    })
    .await
}

// ---------- people ----------

#[derive(Serialize)]
struct MembershipRow {
    id: String,
    role: String,
    role_label: String,
    granted_at: String,
    may_revoke: bool,
}

#[derive(Serialize)]
struct PersonRow {
    account: String,
    name: String,
    email: String,
    memberships: Vec<MembershipRow>,
}

#[derive(Serialize)]
struct InvitationRow {
    id: String,
    may_revoke: bool,
    email: String,
    role_label: String,
    status: String,
    expires_at: String,
}

#[derive(Serialize)]
struct PeoplePage {
    is_admin: bool,
    chosen: bool,
    org_id: String,
    org_name: String,
    org_kind: String,
    people: Vec<PersonRow>,
    invitations: Vec<InvitationRow>,
    roles: Vec<Choice>,
    email: Field,
    role: Field,
    expires_in_days: Field,
    may_grant: bool,
    grant_reason: String,
    account: Field,
    grant_roles: Vec<Choice>,
    grant_role: Field,
    errors: FormErrors,
}

/// The text key of an invitation's status.
fn status_key(s: &str) -> &'static str {
    match s {
        "open" => "admin.people.status_open",
        "accepted" => "admin.people.status_accepted",
        "revoked" => "admin.people.status_revoked",
        _ => "admin.people.status_expired",
    }
}

/// Which organisation the people page is about: the one asked for, else the caller's own (a
/// company representative's company); an administrator with none chooses one first.
fn people_org(
    env: &PageEnv,
    actor: &Actor,
    asked: Option<&str>,
) -> Result<Option<OrgId>, PageError> {
    match asked.filter(|s| !s.is_empty()) {
        Some(s) => crate::http::api::org_id(s)
            .map(Some)
            .map_err(|e| env.fail(e)),
        None if actor.role == Role::Administrator => Ok(None),
        None => Ok(Some(actor.org.clone())),
    }
}

/// The people page of an organisation: its people and their roles (`identity::list_people`), its
/// invitations, and the forms the caller may use. The app decides who may: another
/// organisation's people answer 404, a role that does not manage people 403.
async fn people_page(
    env: &PageEnv,
    actor: Actor,
    org: Option<OrgId>,
    entered: Entered,
    errors: FormErrors,
) -> PageResult {
    let lang = env.lang;
    let Some(org) = org else {
        return env.render(
            "admin_people",
            "admin.people.title",
            PeoplePage {
                is_admin: actor.role == Role::Administrator,
                chosen: false,
                org_id: String::new(),
                org_name: String::new(),
                org_kind: String::new(),
                people: Vec::new(),
                invitations: Vec::new(),
                roles: Vec::new(),
                email: Field::default(),
                role: Field::default(),
                expires_in_days: Field::default(),
                may_grant: false,
                grant_reason: String::new(),
                account: Field::default(),
                grant_roles: Vec::new(),
                grant_role: Field::default(),
                errors,
            },
        );
    };
    let a = actor.clone();
    let o = org.clone();
    let (people, invitations, organisation): (Vec<MemberView>, Vec<InvitationView>, Organisation) =
        env.blocking(move |s| {
            let now = s.svc.clock.now();
            s.svc.read(|c| {
                let people = identity::list_people(c, &a, &o)?;
                let invitations = identity::list_invitations(c, &a, &o, now)?;
                let organisation = reference::get_organisation(c, &o)?;
                Ok((people, invitations, organisation))
            })
        })
        .await?;
    // list_people has let the caller in: they manage this organisation's people.
    let manager = authz::may_manage_people(&actor, &org).map_err(|e| env.fail(e))?;
    let grantable = |r: &Role| {
        identity::may_grant(manager, *r).is_ok() && identity::role_fits(*r, organisation.kind)
    };
    let choices = |chosen: &str| -> Vec<Choice> {
        Role::ALL
            .iter()
            .filter(|r| grantable(r))
            .map(|r| Choice {
                code: r.code().to_string(),
                label: super::role_name(lang, *r),
                selected: chosen == r.code(),
            })
            .collect()
    };
    let people = people
        .into_iter()
        .map(|p| PersonRow {
            account: p.account,
            name: p.name,
            email: p.email,
            memberships: p
                .memberships
                .into_iter()
                .map(|m| MembershipRow {
                    may_revoke: identity::may_grant(manager, m.role).is_ok(),
                    id: m.id,
                    role: m.role.code().to_string(),
                    role_label: super::role_name(lang, m.role),
                    granted_at: m.granted_at.to_rfc3339(),
                })
                .collect(),
        })
        .collect();
    let invitations = invitations
        .into_iter()
        .map(|i| InvitationRow {
            may_revoke: i.status == "open" && identity::may_grant(manager, i.role).is_ok(),
            id: i.id,
            email: i.email,
            role_label: super::role_name(lang, i.role),
            status: super::text::t(lang, status_key(&i.status)),
            expires_at: i.expires_at.to_rfc3339(),
        })
        .collect();
    let f = |n: &str| field(n, &entered, &errors);
    let chosen_role = entered.value("role");
    let granting = entered.0.contains_key("account");
    let may_grant = manager == PeopleManager::Administrator;
    env.render_status(
        status_of(&errors),
        "admin_people",
        "admin.people.title",
        PeoplePage {
            is_admin: actor.role == Role::Administrator,
            chosen: true,
            org_id: organisation.id.to_string(),
            org_name: organisation.name.clone(),
            org_kind: super::text::t(lang, kind_key(organisation.kind)),
            people,
            invitations,
            roles: choices(if granting { "" } else { &chosen_role }),
            email: f("email"),
            // Both forms have a field `role`: the message (and the id the summary links to) go to
            // the form posted; the other form's select gets an id of its own.
            role: if granting {
                Field {
                    anchor: "f-invite-role".into(),
                    ..Field::default()
                }
            } else {
                f("role")
            },
            expires_in_days: f("expires_in_days"),
            may_grant,
            grant_reason: if may_grant {
                String::new()
            } else {
                reason(
                    &AppError::Forbidden(crate::msg!("forbidden.grant_membership")),
                    lang,
                )
            },
            account: f("account"),
            grant_roles: choices(if granting { &chosen_role } else { "" }),
            grant_role: if granting {
                f("role")
            } else {
                Field {
                    anchor: "f-grant-role".into(),
                    ..Field::default()
                }
            },
            errors,
        },
    )
}

/// The people of an organisation (`?org=<id>`; a company representative's own by default).
pub async fn people(env: PageEnv, req: HttpRequest) -> PageResult {
    let actor = env.actor()?.clone();
    let pairs = query_pairs(&req, &["org"]).map_err(|e| env.fail(e))?;
    let asked = pairs
        .iter()
        .find(|(k, _)| k == "org")
        .map(|(_, v)| v.as_str());
    let org = people_org(&env, &actor, asked)?;
    if org.is_none() {
        // Choosing an organisation is the administrator's; anyone else has one.
        authz::require_admin(&actor).map_err(|e| env.fail(e))?;
    }
    people_page(&env, actor, org, Entered::default(), FormErrors::default()).await
}

/// Runs a people command for the organisation in the form's `_org` field; on success back to
/// its people page, on a form's fault the page again (422).
async fn people_command<T: Send + 'static>(
    env: PageEnv,
    form: Form,
    run: impl FnOnce(&crate::http::AppState, &Actor, &OrgId) -> Result<T, AppError> + Send + 'static,
) -> PageResult {
    let actor = env.actor()?.clone();
    let org = people_org(&env, &actor, Some(form.get("_org").unwrap_or("")))?
        .ok_or_else(|| env.fail(AppError::NotFound(crate::msg!("thing.organisation"))))?;
    let (a, o) = (actor.clone(), org.clone());
    let result = env.blocking(move |s| Ok(run(s, &a, &o))).await?;
    match result {
        Ok(_) => Ok(env.see_other(&format!("/admin/people?org={org}"))),
        Err(e) => {
            let errors = form_errors(&env, e)?;
            people_page(&env, actor, Some(org), form.entered(), errors).await
        }
    }
}

/// Invites a person by e-mail (`identity::create_invitation`).
pub async fn invite(env: PageEnv, form: Form) -> PageResult {
    let input = form.read::<NewInvitation>().and_then(|i| i.parse());
    people_command(env, form, move |s, a, o| {
        let inv = input?;
        let now = s.svc.clock.now();
        s.svc.write_retrying(WRITE_ATTEMPTS, |c| {
            identity::create_invitation(c, a, o, &inv, now)
        })
    })
    .await
}

/// Grants a role to a person who has an account (`identity::grant_membership`).
pub async fn grant(env: PageEnv, form: Form) -> PageResult {
    let input = form.read::<NewMembership>();
    people_command(env, form, move |s, a, o| {
        let input = input?;
        let now = s.svc.clock.now();
        s.svc.write_retrying(WRITE_ATTEMPTS, |c| {
            identity::grant_membership(c, a, o, &input, now)
        })
    })
    .await
}

/// Revokes a role (`identity::revoke_membership`): the sessions acting in it end at once, and
/// the last administrator is kept.
pub async fn revoke(env: PageEnv, form: Form) -> PageResult {
    let membership = form.get("_membership").unwrap_or("").to_string();
    people_command(env, form, move |s, a, _| {
        let now = s.svc.clock.now();
        let (v, hashes) = s.svc.write_retrying(WRITE_ATTEMPTS, |c| {
            identity::revoke_membership(c, a, &membership, now)
        })?;
        for h in &hashes {
            s.token_cache.forget(h);
        }
        Ok(v)
    })
    .await
}

/// Withdraws an open invitation (`identity::revoke_invitation`).
pub async fn revoke_invitation(env: PageEnv, form: Form) -> PageResult {
    let invitation = form.get("_invitation").unwrap_or("").to_string();
    people_command(env, form, move |s, a, o| {
        let now = s.svc.clock.now();
        s.svc.write_retrying(WRITE_ATTEMPTS, |c| {
            identity::revoke_invitation(c, a, o, &invitation, now)
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_carries_its_anchor_value_and_message() {
        let form = Form(vec![("org_number".into(), "123".into())]);
        let errors = FormErrors {
            summary: "x".into(),
            fields: vec![crate::web::form::FieldMessage {
                field: "org_number".into(),
                anchor: anchor("org_number"),
                message: "wrong".into(),
            }],
            details: vec![],
            any: true,
        };
        let f = field("org_number", &form.entered(), &errors);
        assert_eq!(f.anchor, "f-org_number");
        assert_eq!(f.value, "123");
        assert_eq!(f.error, "wrong");
        assert_eq!(field("name", &form.entered(), &errors).error, "");
        assert_eq!(status_of(&errors), StatusCode::UNPROCESSABLE_ENTITY);
    }

    #[test]
    fn a_refusal_reads_as_a_sentence() {
        assert_eq!(
            sentence("endast en administratör"),
            "Endast en administratör."
        );
        assert_eq!(sentence("Ärendet är stängt."), "Ärendet är stängt.");
        assert_eq!(sentence("  "), "");
        assert_eq!(
            reason(
                &AppError::Forbidden(crate::msg!("forbidden.delegate")),
                Lang::En
            ),
            "Only the register's CPUA, through its legal team, delegates its release decisions."
        );
    }

    #[test]
    fn every_kind_and_status_has_a_text() {
        for k in OrgKind::ALL {
            assert_ne!(super::super::text::t(Lang::Sv, kind_key(k)), kind_key(k));
            assert_ne!(super::super::text::t(Lang::En, kind_key(k)), kind_key(k));
        }
        for s in ["open", "accepted", "revoked", "expired"] {
            assert_ne!(
                super::super::text::t(Lang::En, status_key(s)),
                status_key(s)
            );
        }
    }
}
