//! Reference data: organisations and registers, and which CPUA is responsible for each register.
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::audit::record;
use super::authz::require_admin;
use super::{AppError, FieldError};
use crate::db::{repo, DbConn};
use crate::domain::events::EventType;
use crate::domain::ids::{AccountId, OrgId, RegisterId};
use crate::domain::organisation::{Address, OrgKind, OrgNumber, Organisation, VatNumber};
use crate::domain::register::{
    parse_register_code, CpuaAssignment, Delegate, Delegation, Register,
};
use crate::domain::role::Actor;
use crate::domain::text::parse_text;

/// An organisation as the client sends it.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrganisation {
    pub name: String,
    /// company, university, region, cpua_authority, register_centre, other_private
    pub kind: String,
    /// NNNNNN-NNNN with a valid check digit
    pub org_number: String,
    /// SE + the ten digits + 01
    pub vat_number: Option<String>,
    pub address: Option<Address>,
}

impl NewOrganisation {
    /// Parses every field, reporting all faults at once.
    pub fn parse(self) -> Result<Organisation, AppError> {
        let mut errs = Vec::new();
        let name = parse_text(&self.name, 200)
            .map_err(|m| errs.push(FieldError::new("name", crate::msg!("text", reason = m))))
            .ok();
        let kind = OrgKind::parse(&self.kind);
        if kind.is_none() {
            errs.push(FieldError::new(
                "kind",
                crate::msg!("one_of.organisation_kind"),
            ));
        }
        let org_number = OrgNumber::parse(&self.org_number)
            .map_err(|e| {
                errs.push(FieldError::new(
                    "org_number",
                    crate::msg!("org_number", reason = e.message()),
                ))
            })
            .ok();
        let vat_number = match (&self.vat_number, &org_number) {
            (Some(v), Some(o)) => VatNumber::parse_for(v, o)
                .map_err(|e| {
                    errs.push(FieldError::new(
                        "vat_number",
                        crate::msg!("vat_number", reason = e.message()),
                    ))
                })
                .ok(),
            _ => None,
        };
        match (name, kind, org_number) {
            (Some(name), Some(kind), Some(org_number)) if errs.is_empty() => Ok(Organisation {
                id: OrgId::new(),
                name,
                kind,
                org_number,
                vat_number,
                address: self.address,
            }),
            _ => Err(AppError::Invalid(errs)),
        }
    }
}

pub fn create_organisation(
    conn: &mut DbConn,
    actor: &Actor,
    org: Organisation,
    now: DateTime<Utc>,
) -> Result<Organisation, AppError> {
    require_admin(actor)?;
    insert_organisation_audited(conn, actor, org, now)
}

pub fn insert_organisation_audited(
    conn: &mut DbConn,
    actor: &Actor,
    org: Organisation,
    now: DateTime<Utc>,
) -> Result<Organisation, AppError> {
    if repo::organisation_by_number(conn, &org.org_number)?.is_some() {
        return Err(AppError::invalid(
            "org_number",
            crate::msg!("unique.org_number", number = org.org_number.to_string()),
        ));
    }
    repo::insert_organisation(conn, &org, now)?;
    record(
        conn,
        &format!("organisation:{}", org.id),
        actor,
        EventType::OrganisationCreated,
        None,
        Some(serde_json::to_value(&org).map_err(anyhow::Error::from)?),
        now,
    )?;
    Ok(org)
}

pub fn get_organisation(conn: &mut DbConn, id: &OrgId) -> Result<Organisation, AppError> {
    repo::find_organisation(conn, id)?
        .ok_or_else(|| AppError::NotFound(crate::msg!("thing.organisation")))
}

/// A register with its current CPUA and the history of assignments.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RegisterView {
    pub id: String,
    pub code: String,
    pub name: String,
    pub is_example: bool,
    pub patient_information_covers_research: bool,
    pub cpua: Option<String>,
    pub cpua_name: Option<String>,
    #[schema(value_type = Vec<Object>)]
    pub cpua_history: Vec<CpuaAssignment>,
    /// Written delegations of the release decision for this register, in force or revoked.
    #[schema(value_type = Vec<Object>)]
    pub delegations: Vec<Delegation>,
}

pub fn register_view(conn: &mut DbConn, r: Register) -> Result<RegisterView, AppError> {
    let current = repo::current_cpuas(conn, std::slice::from_ref(&r.id))?;
    let (cpua, cpua_name) = match current.get(&r.id) {
        Some((o, n)) => (Some(o.to_string()), Some(n.clone())),
        None => (None, None),
    };
    Ok(RegisterView {
        cpua_history: repo::cpua_history(conn, &r.id)?,
        id: r.id.to_string(),
        code: r.code,
        name: r.name,
        is_example: r.is_example,
        patient_information_covers_research: r.patient_information_covers_research,
        delegations: repo::delegations(conn, std::slice::from_ref(&r.id))?,
        cpua,
        cpua_name,
    })
}

/// A register as the client sends it.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRegister {
    pub code: String,
    pub name: String,
    /// The id of the responsible CPUA authority.
    pub cpua: String,
    #[serde(default)]
    pub is_example: bool,
    /// Whether the information given to patients when their data were reported said the data may be used
    /// for research (seed 000, "Vilka registerdata går att använda för forskning?"). Unknown is no.
    #[serde(default)]
    pub patient_information_covers_research: bool,
}

fn cpua_org(conn: &mut DbConn, field: &str, id: &str) -> Result<OrgId, AppError> {
    let org = OrgId::parse(id)
        .map(|o| repo::find_organisation(conn, &o))
        .transpose()?
        .flatten()
        .ok_or_else(|| AppError::invalid(field, crate::msg!("unknown_organisation", id = id)))?;
    if org.kind != OrgKind::CpuaAuthority {
        return Err(AppError::invalid(
            field,
            crate::msg!("cpua_authority", name = org.name),
        ));
    }
    Ok(org.id)
}

pub fn create_register(
    conn: &mut DbConn,
    actor: &Actor,
    input: NewRegister,
    now: DateTime<Utc>,
) -> Result<RegisterView, AppError> {
    require_admin(actor)?;
    let mut errs = Vec::new();
    let code = parse_register_code(&input.code)
        .map_err(|m| {
            errs.push(FieldError::new(
                "code",
                crate::msg!("register_code", reason = m),
            ))
        })
        .ok();
    let name = parse_text(&input.name, 200)
        .map_err(|m| errs.push(FieldError::new("name", crate::msg!("text", reason = m))))
        .ok();
    let (Some(code), Some(name)) = (code, name) else {
        return Err(AppError::Invalid(errs));
    };
    let cpua = cpua_org(conn, "cpua", &input.cpua)?;
    if repo::register_by_code(conn, &code)?.is_some() {
        return Err(AppError::invalid(
            "code",
            crate::msg!("unique.register_code", code = &code),
        ));
    }
    let reg = Register {
        id: RegisterId::new(),
        code,
        name,
        is_example: input.is_example,
        patient_information_covers_research: input.patient_information_covers_research,
    };
    insert_register_audited(conn, actor, reg, &cpua, now)
}

pub fn insert_register_audited(
    conn: &mut DbConn,
    actor: &Actor,
    reg: Register,
    cpua: &OrgId,
    now: DateTime<Utc>,
) -> Result<RegisterView, AppError> {
    repo::insert_register(conn, &reg, now)?;
    repo::assign_cpua(conn, &reg.id, cpua, now)?;
    let view = register_view(conn, reg)?;
    record(
        conn,
        &format!("register:{}", view.id),
        actor,
        EventType::RegisterCreated,
        None,
        Some(serde_json::to_value(&view).map_err(anyhow::Error::from)?),
        now,
    )?;
    Ok(view)
}

/// Moves a register to another CPUA; the earlier assignment is kept as history. Collaborations
/// already under review stay with the CPUA they applied to.
pub fn move_register(
    conn: &mut DbConn,
    actor: &Actor,
    id: &RegisterId,
    cpua: &str,
    now: DateTime<Utc>,
) -> Result<RegisterView, AppError> {
    require_admin(actor)?;
    let reg = repo::find_register(conn, id)?
        .ok_or_else(|| AppError::NotFound(crate::msg!("thing.register")))?;
    let cpua = cpua_org(conn, "cpua", cpua)?;
    let before = register_view(conn, reg.clone())?;
    if before.cpua.as_deref() == Some(cpua.as_str()) {
        return Err(AppError::invalid("cpua", crate::msg!("unchanged.cpua")));
    }
    repo::assign_cpua(conn, id, &cpua, now)?;
    let after = register_view(conn, reg)?;
    record(
        conn,
        &format!("register:{id}"),
        actor,
        EventType::RegisterMoved,
        Some(serde_json::to_value(&before).map_err(anyhow::Error::from)?),
        Some(serde_json::to_value(&after).map_err(anyhow::Error::from)?),
        now,
    )?;
    Ok(after)
}

pub fn get_register(conn: &mut DbConn, id: &RegisterId) -> Result<RegisterView, AppError> {
    let reg = repo::find_register(conn, id)?
        .ok_or_else(|| AppError::NotFound(crate::msg!("thing.register")))?;
    register_view(conn, reg)
}

/// A written delegation of the release decision for a register, as CPUA legal records it.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDelegation {
    /// `register_holder`, or `person` with `account`.
    pub delegate: String,
    /// The delegate's account id when `delegate` is `person`.
    pub account: Option<String>,
    pub delegated_on: chrono::NaiveDate,
    /// The delegation decision's reference (dnr).
    pub reference: String,
}

/// Whether the actor is CPUA legal of the register's current CPUA.
fn require_register_cpua_legal(
    conn: &mut DbConn,
    actor: &Actor,
    id: &RegisterId,
) -> Result<OrgId, AppError> {
    let current = repo::current_cpuas(conn, std::slice::from_ref(id))?;
    let Some((cpua, _)) = current.get(id) else {
        return Err(AppError::NotFound(crate::msg!("thing.register")));
    };
    if actor.role != crate::domain::role::Role::CpuaLegal || &actor.org != cpua {
        return Err(AppError::Forbidden(crate::msg!("forbidden.delegate")));
    }
    Ok(cpua.clone())
}

/// CPUA legal records a written delegation of release decisions for one of its registers (seed 000,
/// "Menprövning av centralt personuppgiftsansvarig myndighet (CPUA)": "skriftlig delegation till
/// registerhållaren eller annan").
pub fn add_delegation(
    conn: &mut DbConn,
    actor: &Actor,
    id: &RegisterId,
    input: NewDelegation,
    now: DateTime<Utc>,
    today: chrono::NaiveDate,
) -> Result<RegisterView, AppError> {
    repo::find_register(conn, id)?
        .ok_or_else(|| AppError::NotFound(crate::msg!("thing.register")))?;
    let cpua = require_register_cpua_legal(conn, actor, id)?;
    let reference = crate::domain::text::parse_text(&input.reference, 100)
        .map_err(|m| AppError::invalid("reference", crate::msg!("text", reason = m)))?;
    if input.delegated_on > today {
        return Err(AppError::invalid(
            "delegated_on",
            crate::msg!("date_in_future.delegation"),
        ));
    }
    let delegate = match (input.delegate.as_str(), &input.account) {
        ("register_holder", None) => Delegate::RegisterHolder,
        ("person", Some(a)) => {
            let account = AccountId::parse(a)
                .ok_or_else(|| AppError::invalid("account", crate::msg!("uuid.account")))?;
            let row = crate::db::identity::account_by_id(conn, &account)?.ok_or_else(|| {
                AppError::invalid("account", crate::msg!("unknown_account.no_such"))
            })?;
            let of_this_cpua = crate::db::identity::live_memberships(conn, &account)?
                .iter()
                .any(|m| m.organisation_id == cpua.as_str());
            if !of_this_cpua {
                return Err(AppError::invalid(
                    "account",
                    crate::msg!("not_of_this_cpua"),
                ));
            }
            Delegate::Person {
                account,
                name: row.display_name,
            }
        }
        ("person", None) => {
            return Err(AppError::invalid(
                "account",
                crate::msg!("required.delegate_account"),
            ))
        }
        _ => {
            return Err(AppError::invalid(
                "delegate",
                crate::msg!("one_of.delegate"),
            ))
        }
    };
    let before = get_register(conn, id)?;
    let d = Delegation {
        id: uuid::Uuid::new_v4().to_string(),
        register: id.clone(),
        cpua,
        delegate,
        delegated_on: input.delegated_on,
        reference,
        revoked_on: None,
    };
    repo::insert_delegation(conn, &d, actor.account.as_str(), now)?;
    let after = get_register(conn, id)?;
    record(
        conn,
        &format!("register:{id}"),
        actor,
        EventType::DelegationRecorded,
        Some(serde_json::to_value(&before).map_err(anyhow::Error::from)?),
        Some(serde_json::to_value(&after).map_err(anyhow::Error::from)?),
        now,
    )?;
    Ok(after)
}

/// CPUA legal revokes a delegation as of today; decisions already taken under it stand.
pub fn revoke_delegation(
    conn: &mut DbConn,
    actor: &Actor,
    id: &RegisterId,
    delegation: &str,
    now: DateTime<Utc>,
    today: chrono::NaiveDate,
) -> Result<RegisterView, AppError> {
    repo::find_register(conn, id)?
        .ok_or_else(|| AppError::NotFound(crate::msg!("thing.register")))?;
    require_register_cpua_legal(conn, actor, id)?;
    let before = get_register(conn, id)?;
    if !before.delegations.iter().any(|d| d.id == delegation) {
        return Err(AppError::NotFound(crate::msg!("thing.delegation")));
    }
    if !repo::revoke_delegation(conn, delegation, today)? {
        return Err(AppError::Conflict(crate::msg!(
            "conflict.delegation_revoked"
        )));
    }
    let after = get_register(conn, id)?;
    record(
        conn,
        &format!("register:{id}"),
        actor,
        EventType::DelegationRevoked,
        Some(serde_json::to_value(&before).map_err(anyhow::Error::from)?),
        Some(serde_json::to_value(&after).map_err(anyhow::Error::from)?),
        now,
    )?;
    Ok(after)
}

/// Whether a register's patient information covers research, as an administrator records it.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatientInformationInput {
    pub covers_research: bool,
}

/// An administrator records whether a register's patient information covers research (reference data).
pub fn set_patient_information(
    conn: &mut DbConn,
    actor: &Actor,
    id: &RegisterId,
    input: PatientInformationInput,
    now: DateTime<Utc>,
) -> Result<RegisterView, AppError> {
    require_admin(actor)?;
    let before = get_register(conn, id)?;
    repo::set_patient_information(conn, id, input.covers_research)?;
    let after = get_register(conn, id)?;
    record(
        conn,
        &format!("register:{id}"),
        actor,
        EventType::RegisterPatientInformationChanged,
        Some(serde_json::to_value(&before).map_err(anyhow::Error::from)?),
        Some(serde_json::to_value(&after).map_err(anyhow::Error::from)?),
        now,
    )?;
    Ok(after)
}
