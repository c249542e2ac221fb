//! People, their roles in organisations, invitations and companies (issue 11, parts 3 and 4).
//!
//! A person (account) holds roles in organisations (memberships) and acts in one at a time, the
//! active membership of their session; every authorization decision reads the actor built from it.
//! Administrators invite and grant any role in any organisation; a company representative manages
//! the company representatives of their own company (`authz::may_manage_people`). The rules of
//! this module are pure functions at the top ([`may_grant`], [`role_fits`], [`keep_an_administrator`]),
//! with unit tests; the commands below them authorize, load, check and write with their audit event
//! in one transaction.
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::audit::record;
use super::authz::{may_manage_people, require_admin, PeopleManager};
use super::reference::{insert_organisation_audited, NewOrganisation};
use super::{AppError, FieldError};
use crate::db::identity::{self as db, InvitationRow, MembershipRow};
use crate::db::repo::{self, ts, utc};
use crate::db::DbConn;
use crate::domain::email::EmailAddress;
use crate::domain::events::EventType;
use crate::domain::ids::{AccountId, InvitationId, MembershipId, OrgId};
use crate::domain::organisation::{Address, OrgKind, Organisation};
use crate::domain::role::{Actor, ApiKeyScope, Credential, Role};

// ---------- rules ----------

/// Which roles a manager may grant, invite to or revoke: an administrator any; a company
/// representative only the company-representative role (issue 11, part 4: "a company representative
/// manages the people of their own company").
pub fn may_grant(manager: PeopleManager, role: Role) -> Result<(), AppError> {
    match (manager, role) {
        (PeopleManager::Administrator, _) => Ok(()),
        (PeopleManager::CompanyRepresentative, Role::CompanyRepresentative) => Ok(()),
        (PeopleManager::CompanyRepresentative, _) => {
            Err(AppError::Forbidden(crate::msg!("forbidden.company_role")))
        }
    }
}

/// Whether a role can be held in an organisation of this kind (DOMAIN.md, "Who is involved"): a
/// company representative in a company; register holders, CPUA lawyers and finance staff at a CPUA
/// authority; a research principal's representative where a research principal can be (a
/// university, a region, a company or another private body, as `collaborations` accepts);
/// an administrator anywhere.
pub fn role_fits(role: Role, kind: OrgKind) -> bool {
    match role {
        Role::CompanyRepresentative => kind == OrgKind::Company,
        Role::RegisterHolder | Role::CpuaLegal | Role::Finance => kind == OrgKind::CpuaAuthority,
        Role::ResearchPrincipalRepresentative => {
            !matches!(kind, OrgKind::CpuaAuthority | OrgKind::RegisterCentre)
        }
        Role::Administrator => true,
    }
}

fn check_role_fits(role: Role, org: &Organisation) -> Result<(), AppError> {
    if role_fits(role, org.kind) {
        Ok(())
    } else {
        Err(AppError::invalid(
            "role",
            crate::msg!(
                "role_for_organisation_kind",
                role = role.code(),
                name = org.name.as_str()
            ),
        ))
    }
}

/// The last administrator cannot be removed (issue 11, part 3): revoking an administrator
/// membership needs another live one.
pub fn keep_an_administrator(role: Role, live_administrators: i64) -> Result<(), AppError> {
    if role == Role::Administrator && live_administrators <= 1 {
        Err(AppError::Conflict(crate::msg!(
            "conflict.last_administrator"
        )))
    } else {
        Ok(())
    }
}

/// How long an invitation stays open unless the inviter says otherwise, and at most.
pub const INVITATION_DAYS_DEFAULT: i64 = 14;
pub const INVITATION_DAYS_MAX: i64 = 90;

fn parse_role(field: &str, s: &str, errs: &mut Vec<FieldError>) -> Option<Role> {
    let role = Role::parse(s);
    if role.is_none() {
        errs.push(FieldError::new(
            field,
            crate::msg!(
                "one_of.role",
                values = Role::ALL
                    .iter()
                    .map(|r| r.code())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    role
}

fn parse_email(field: &str, s: &str, errs: &mut Vec<FieldError>) -> Option<EmailAddress> {
    EmailAddress::parse(s)
        .map_err(|m| errs.push(FieldError::new(field, crate::msg!("email", reason = m))))
        .ok()
}

/// A whole number of days in `1..=max`, `default` when absent.
pub fn parse_days(
    field: &str,
    v: Option<i64>,
    default: i64,
    max: i64,
    errs: &mut Vec<FieldError>,
) -> Option<Duration> {
    match v.unwrap_or(default) {
        d if (1..=max).contains(&d) => Some(Duration::days(d)),
        _ => {
            errs.push(FieldError::new(field, crate::msg!("max", max = max)));
            None
        }
    }
}

// ---------- views ----------

/// One role of a person in an organisation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MembershipView {
    pub id: String,
    pub organisation_id: String,
    pub organisation_name: String,
    pub role: Role,
    pub granted_at: DateTime<Utc>,
}

impl MembershipView {
    fn of(m: &MembershipRow, organisation_name: &str) -> Result<MembershipView, AppError> {
        Ok(MembershipView {
            id: m.id.clone(),
            organisation_id: m.organisation_id.clone(),
            organisation_name: organisation_name.to_string(),
            role: m.role()?,
            granted_at: utc(m.granted_at),
        })
    }
}

/// A person.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PersonView {
    /// The account id.
    pub id: String,
    pub name: String,
    pub email: String,
}

/// How the caller signed in.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CredentialView {
    /// `token` (a bearer session), `cookie` (a browser session) or `api_key`.
    pub kind: String,
    /// The API key's id, for `api_key`.
    pub key: Option<String>,
    /// The API key's scope, for `api_key`.
    pub scope: Option<ApiKeyScope>,
}

impl CredentialView {
    fn of(c: &Credential) -> CredentialView {
        match c {
            Credential::Token => CredentialView {
                kind: "token".into(),
                key: None,
                scope: None,
            },
            Credential::Cookie => CredentialView {
                kind: "cookie".into(),
                key: None,
                scope: None,
            },
            Credential::ApiKey { key, scope } => CredentialView {
                kind: "api_key".into(),
                key: Some(key.to_string()),
                scope: Some(*scope),
            },
        }
    }
}

/// The caller: the person, the role they act in now, every role they hold, and how they signed in.
/// `account`, `name`, `org` and `role` are the answer's earlier shape, kept for existing clients.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MeView {
    /// The account id (as `person.id`).
    pub account: String,
    /// The acting name (an API key: the key's name and its creator's).
    pub name: String,
    /// The id of the organisation acted in now.
    pub org: String,
    /// The role acted in now.
    pub role: Role,
    /// The person; for an API key, the person who created it.
    pub person: PersonView,
    /// The membership acted in now; `null` for an API key, which acts as its company.
    pub active_membership: Option<MembershipView>,
    /// Every live membership of the person, oldest first; empty for an API key (a company system
    /// has no business with its creator's other roles).
    pub memberships: Vec<MembershipView>,
    pub credential: CredentialView,
}

/// Who am I.
pub fn me(conn: &mut DbConn, actor: &Actor) -> Result<MeView, AppError> {
    let is_key = matches!(actor.credential, Credential::ApiKey { .. });
    let mut memberships = Vec::new();
    let mut active = None;
    let mut account = None;
    if !is_key {
        for (m, name, a) in db::live_memberships_with_names(conn, &actor.account)? {
            let v = MembershipView::of(&m, &name)?;
            if actor.membership.as_ref().map(MembershipId::as_str) == Some(m.id.as_str()) {
                active = Some(v.clone());
            }
            memberships.push(v);
            account = Some(a);
        }
    }
    // An API key (or a person whose last role just went) needs the account on its own.
    let account = match account {
        Some(a) => a,
        None => db::account_by_id(conn, &actor.account)?.ok_or_else(|| {
            AppError::Unauthenticated(crate::msg!("unauthenticated.unknown_token"))
        })?,
    };
    Ok(MeView {
        account: actor.account.to_string(),
        name: actor.name.clone(),
        org: actor.org.to_string(),
        role: actor.role,
        person: PersonView {
            id: account.id,
            name: account.display_name,
            email: account.email,
        },
        active_membership: active,
        memberships,
        credential: CredentialView::of(&actor.credential),
    })
}

/// The caller's [`me`] as JSON, if one built for this caller is still kept ([`super::views`]): no
/// database work, so the caller can ask before taking a connection.
pub fn kept_me(
    views: &super::views::ViewCache,
    actor: &Actor,
    now: chrono::DateTime<chrono::Utc>,
    today: chrono::NaiveDate,
) -> Option<std::sync::Arc<super::views::RenderedView>> {
    views.get(super::views::Subject::Me, actor, now, today)
}

/// The caller's [`me`] as JSON, read (one statement, two for an API key: no transaction of its own)
/// and kept for the next reads ([`kept_me`]).
pub fn me_rendered(
    db: &crate::db::Db,
    views: &super::views::ViewCache,
    actor: &Actor,
    now: chrono::DateTime<chrono::Utc>,
    today: chrono::NaiveDate,
) -> Result<std::sync::Arc<super::views::RenderedView>, AppError> {
    use super::views::{RenderedView, Subject};
    // Before the read: a write committed after this point makes what is read here stale.
    let generation = views.generation();
    let mut conn = db.pool.get()?;
    let view = me(&mut conn, actor)?;
    let rendered = std::sync::Arc::new(RenderedView {
        version: 0,
        body: serde_json::to_vec(&view)
            .map_err(anyhow::Error::from)?
            .into(),
    });
    views.put(Subject::Me, actor, generation, now, today, rendered.clone());
    Ok(rendered)
}

/// The membership a session should act in.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActiveMembershipInput {
    /// The id of one of the caller's live memberships (from `GET /api/v1/me`).
    pub membership: String,
}

/// Switches the caller's session (the one with this credential hash) to another live membership of
/// the same person. The caller drops the hash from the token cache after commit. Answers the new
/// `me`.
pub fn switch_active_membership(
    conn: &mut DbConn,
    actor: &Actor,
    session_hash: &str,
    input: &ActiveMembershipInput,
    now: DateTime<Utc>,
) -> Result<MeView, AppError> {
    if matches!(actor.credential, Credential::ApiKey { .. }) {
        return Err(AppError::Forbidden(crate::msg!("forbidden.api_key_switch")));
    }
    let not_yours = || AppError::invalid("membership", crate::msg!("not_your_membership"));
    let id = MembershipId::parse(input.membership.trim()).ok_or_else(not_yours)?;
    let m = db::membership_by_id(conn, &id)?
        .filter(|m| m.account_id == actor.account.as_str() && m.revoked_at.is_none())
        .ok_or_else(not_yours)?;
    if actor.membership.as_ref() == Some(&id) {
        return me(conn, actor);
    }
    let account = db::account_by_id(conn, &actor.account)?.ok_or_else(not_yours)?;
    if !db::set_session_membership(conn, session_hash, &id)? {
        return Err(AppError::Unauthenticated(crate::msg!(
            "unauthenticated.unknown_token"
        )));
    }
    let after = m.actor(&account, actor.credential.clone())?;
    record(
        conn,
        &format!("account:{}", actor.account),
        actor,
        EventType::ActiveMembershipChanged,
        Some(
            serde_json::json!({"membership": actor.membership, "organisation": actor.org,
                                "role": actor.role}),
        ),
        Some(
            serde_json::json!({"membership": m.id, "organisation": m.organisation_id,
                                "role": m.role}),
        ),
        now,
    )?;
    me(conn, &after)
}

// ---------- invitations ----------

/// An invitation as the client sends it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInvitation {
    /// The person's e-mail address; the first sign-in with this verified address binds it.
    pub email: String,
    /// The role code, e.g. `company_representative`.
    pub role: String,
    /// Days the invitation stays open: 1 to 90, 14 when left out.
    pub expires_in_days: Option<i64>,
}

/// A checked invitation.
#[derive(Debug, Clone)]
pub struct Invitation {
    pub email: EmailAddress,
    pub role: Role,
    pub open_for: Duration,
}

impl NewInvitation {
    /// Parses every field, reporting all faults at once.
    pub fn parse(&self) -> Result<Invitation, AppError> {
        let mut errs = Vec::new();
        let email = parse_email("email", &self.email, &mut errs);
        let role = parse_role("role", &self.role, &mut errs);
        let open_for = parse_days(
            "expires_in_days",
            self.expires_in_days,
            INVITATION_DAYS_DEFAULT,
            INVITATION_DAYS_MAX,
            &mut errs,
        );
        match (email, role, open_for) {
            (Some(email), Some(role), Some(open_for)) if errs.is_empty() => Ok(Invitation {
                email,
                role,
                open_for,
            }),
            _ => Err(AppError::Invalid(errs)),
        }
    }
}

/// An invitation as shown.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InvitationView {
    pub id: String,
    pub email: String,
    pub organisation_id: String,
    pub role: Role,
    /// `open`, `accepted`, `revoked` or `expired`.
    pub status: String,
    /// The account id of the inviter.
    pub invited_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    /// The account that accepted it.
    pub accepted_by: Option<String>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl InvitationView {
    fn of(r: &InvitationRow, now: DateTime<Utc>) -> Result<InvitationView, AppError> {
        let status = if r.accepted_at.is_some() {
            "accepted"
        } else if r.revoked_at.is_some() {
            "revoked"
        } else if utc(r.expires_at) <= now {
            "expired"
        } else {
            "open"
        };
        Ok(InvitationView {
            id: r.id.clone(),
            email: r.email.clone(),
            organisation_id: r.organisation_id.clone(),
            role: r.role()?,
            status: status.into(),
            invited_by: r.invited_by.clone(),
            created_at: utc(r.created_at),
            expires_at: utc(r.expires_at),
            accepted_at: r.accepted_at.map(utc),
            accepted_by: r.accepted_by.clone(),
            revoked_at: r.revoked_at.map(utc),
        })
    }
}

fn organisation(conn: &mut DbConn, id: &OrgId) -> Result<Organisation, AppError> {
    repo::find_organisation(conn, id)?
        .ok_or_else(|| AppError::NotFound(crate::msg!("thing.organisation")))
}

/// Invites a person by e-mail to a role in an organisation.
pub fn create_invitation(
    conn: &mut DbConn,
    actor: &Actor,
    org: &OrgId,
    inv: &Invitation,
    now: DateTime<Utc>,
) -> Result<InvitationView, AppError> {
    let manager = may_manage_people(actor, org)?;
    let o = organisation(conn, org)?;
    may_grant(manager, inv.role)?;
    invite(conn, actor, &o, inv, now)
}

/// Writes an invitation the caller has authorized, with its event.
fn invite(
    conn: &mut DbConn,
    actor: &Actor,
    org: &Organisation,
    inv: &Invitation,
    now: DateTime<Utc>,
) -> Result<InvitationView, AppError> {
    check_role_fits(inv.role, org)?;
    let email = inv.email.as_str();
    if db::email_holds_role(conn, email, &org.id, inv.role)? {
        return Err(AppError::Conflict(crate::msg!(
            "conflict.already_member",
            email = email
        )));
    }
    if db::open_invitation_exists(conn, email, &org.id, inv.role, now)? {
        return Err(AppError::Conflict(crate::msg!(
            "conflict.invitation_open",
            email = email
        )));
    }
    let row = InvitationRow {
        id: InvitationId::new().to_string(),
        email: email.to_string(),
        organisation_id: org.id.to_string(),
        role: inv.role.code().to_string(),
        invited_by: actor.account.to_string(),
        created_at: ts(now),
        expires_at: ts(now + inv.open_for),
        accepted_at: None,
        accepted_by: None,
        revoked_at: None,
    };
    db::insert_invitation(conn, &row)?;
    let view = InvitationView::of(&row, now)?;
    record(
        conn,
        &format!("organisation:{}", org.id),
        actor,
        EventType::InvitationCreated,
        None,
        Some(serde_json::to_value(&view).map_err(anyhow::Error::from)?),
        now,
    )?;
    Ok(view)
}

/// An organisation's invitations, the open ones first.
pub fn list_invitations(
    conn: &mut DbConn,
    actor: &Actor,
    org: &OrgId,
    now: DateTime<Utc>,
) -> Result<Vec<InvitationView>, AppError> {
    may_manage_people(actor, org)?;
    organisation(conn, org)?;
    db::invitations_of_organisation(conn, org, now)?
        .iter()
        .map(|r| InvitationView::of(r, now))
        .collect()
}

/// Withdraws an open invitation.
pub fn revoke_invitation(
    conn: &mut DbConn,
    actor: &Actor,
    org: &OrgId,
    invitation: &str,
    now: DateTime<Utc>,
) -> Result<InvitationView, AppError> {
    let manager = may_manage_people(actor, org)?;
    let not_found = || AppError::NotFound(crate::msg!("thing.invitation"));
    let id = InvitationId::parse(invitation).ok_or_else(not_found)?;
    let row = db::invitation_by_id(conn, id.as_str())?
        .filter(|r| r.organisation_id == org.as_str())
        .ok_or_else(not_found)?;
    may_grant(manager, row.role()?)?;
    let before = InvitationView::of(&row, now)?;
    if !db::revoke_invitation(conn, &row.id, now)? {
        return Err(AppError::Conflict(crate::msg!(
            "conflict.invitation_closed"
        )));
    }
    let after_row = db::invitation_by_id(conn, &row.id)?.ok_or_else(not_found)?;
    let after = InvitationView::of(&after_row, now)?;
    record(
        conn,
        &format!("organisation:{org}"),
        actor,
        EventType::InvitationRevoked,
        Some(serde_json::to_value(&before).map_err(anyhow::Error::from)?),
        Some(serde_json::to_value(&after).map_err(anyhow::Error::from)?),
        now,
    )?;
    Ok(after)
}

// ---------- people and memberships ----------

/// A person with their roles in one organisation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MemberView {
    /// The account id.
    pub account: String,
    pub name: String,
    pub email: String,
    /// The person's live memberships in this organisation.
    pub memberships: Vec<MembershipView>,
}

/// The people with live memberships in an organisation, by name.
pub fn list_people(
    conn: &mut DbConn,
    actor: &Actor,
    org: &OrgId,
) -> Result<Vec<MemberView>, AppError> {
    may_manage_people(actor, org)?;
    let o = organisation(conn, org)?;
    let mut out: Vec<MemberView> = Vec::new();
    for (a, m) in db::people_of_organisation(conn, org)? {
        let v = MembershipView::of(&m, &o.name)?;
        match out.last_mut() {
            Some(p) if p.account == a.id => p.memberships.push(v),
            _ => out.push(MemberView {
                account: a.id,
                name: a.display_name,
                email: a.email,
                memberships: vec![v],
            }),
        }
    }
    Ok(out)
}

/// A role to grant to a person who has an account already.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMembership {
    /// The person's account id.
    pub account: String,
    /// The role code.
    pub role: String,
}

/// Grants a role in an organisation to an existing person (administrator).
pub fn grant_membership(
    conn: &mut DbConn,
    actor: &Actor,
    org: &OrgId,
    input: &NewMembership,
    now: DateTime<Utc>,
) -> Result<MembershipView, AppError> {
    let manager = may_manage_people(actor, org)?;
    if manager != PeopleManager::Administrator {
        return Err(AppError::Forbidden(crate::msg!(
            "forbidden.grant_membership"
        )));
    }
    let mut errs = Vec::new();
    let account = AccountId::parse(input.account.trim());
    if account.is_none() {
        errs.push(FieldError::new("account", crate::msg!("uuid.account")));
    }
    let role = parse_role("role", &input.role, &mut errs);
    let (Some(account), Some(role)) = (account, role) else {
        return Err(AppError::Invalid(errs));
    };
    let o = organisation(conn, org)?;
    let person = db::account_by_id(conn, &account)?
        .ok_or_else(|| AppError::invalid("account", crate::msg!("unknown_account.no_such")))?;
    check_role_fits(role, &o)?;
    if db::live_membership(conn, &account, org, role)?.is_some() {
        return Err(AppError::Conflict(crate::msg!(
            "conflict.membership_exists"
        )));
    }
    let m = MembershipRow::new(&account, org, role, "admin", Some(&actor.account), now);
    db::insert_membership(conn, &m)?;
    let view = MembershipView::of(&m, &o.name)?;
    record(
        conn,
        &format!("account:{}", person.id),
        actor,
        EventType::MembershipGranted,
        None,
        Some(serde_json::to_value(&view).map_err(anyhow::Error::from)?),
        now,
    )?;
    Ok(view)
}

/// Revokes a membership and ends every session acting in it. Returns the revoked membership and
/// the hashes of the sessions ended, which the caller drops from the token cache after commit.
pub fn revoke_membership(
    conn: &mut DbConn,
    actor: &Actor,
    membership: &str,
    now: DateTime<Utc>,
) -> Result<(MembershipView, Vec<String>), AppError> {
    let not_found = || AppError::NotFound(crate::msg!("thing.membership"));
    let id = MembershipId::parse(membership).ok_or_else(not_found)?;
    let m = db::membership_by_id(conn, &id)?.ok_or_else(not_found)?;
    let manager = may_manage_people(actor, &m.org()).map_err(|e| match e {
        // The organisation is not the caller's: the membership is what they asked for.
        AppError::NotFound(_) => not_found(),
        other => other,
    })?;
    let role = m.role()?;
    may_grant(manager, role)?;
    if m.revoked_at.is_some() {
        return Err(AppError::Conflict(crate::msg!(
            "conflict.membership_revoked"
        )));
    }
    if role == Role::Administrator {
        keep_an_administrator(role, db::lock_live_administrators(conn)?)?;
    }
    let hashes = db::session_hashes_of_membership(conn, &id)?;
    db::revoke_sessions_of_membership(conn, &id, now)?;
    if !db::revoke_membership(conn, &id, &actor.account, now)? {
        return Err(AppError::Conflict(crate::msg!(
            "conflict.membership_revoked"
        )));
    }
    let o = organisation(conn, &m.org())?;
    let view = MembershipView::of(&m, &o.name)?;
    record(
        conn,
        &format!("account:{}", m.account_id),
        actor,
        EventType::MembershipRevoked,
        Some(serde_json::to_value(&view).map_err(anyhow::Error::from)?),
        Some(serde_json::json!({"membership": m.id, "revoked_at": now,
                                "sessions_ended": hashes.len()})),
        now,
    )?;
    Ok((view, hashes))
}

// ---------- companies ----------

/// A company as an administrator registers it, with its first representative.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCompany {
    pub name: String,
    /// NNNNNN-NNNN with a valid check digit.
    pub org_number: String,
    /// SE + the ten digits + 01.
    pub vat_number: Option<String>,
    pub address: Option<Address>,
    /// The e-mail address of the first company representative, who is invited.
    pub representative_email: String,
    /// Days the invitation stays open: 1 to 90, 14 when left out.
    pub invitation_expires_in_days: Option<i64>,
}

/// A checked company registration.
#[derive(Debug, Clone)]
pub struct Company {
    pub organisation: Organisation,
    pub representative: Invitation,
}

impl NewCompany {
    /// Parses every field, reporting all faults at once.
    pub fn parse(self) -> Result<Company, AppError> {
        let mut errs = Vec::new();
        let email = parse_email(
            "representative_email",
            &self.representative_email,
            &mut errs,
        );
        let open_for = parse_days(
            "invitation_expires_in_days",
            self.invitation_expires_in_days,
            INVITATION_DAYS_DEFAULT,
            INVITATION_DAYS_MAX,
            &mut errs,
        );
        let org = NewOrganisation {
            name: self.name,
            kind: OrgKind::Company.code().to_string(),
            org_number: self.org_number,
            vat_number: self.vat_number,
            address: self.address,
        }
        .parse();
        let org = match org {
            Ok(o) => Some(o),
            Err(AppError::Invalid(mut e)) => {
                e.append(&mut errs);
                errs = e;
                None
            }
            Err(other) => return Err(other),
        };
        match (org, email, open_for) {
            (Some(organisation), Some(email), Some(open_for)) if errs.is_empty() => Ok(Company {
                organisation,
                representative: Invitation {
                    email,
                    role: Role::CompanyRepresentative,
                    open_for,
                },
            }),
            _ => Err(AppError::Invalid(errs)),
        }
    }
}

/// A registered company and the invitation of its first representative.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CompanyView {
    pub organisation: Organisation,
    pub invitation: InvitationView,
}

/// Registers a company and invites its first representative, in the caller's one transaction
/// (administrator).
pub fn create_company(
    conn: &mut DbConn,
    actor: &Actor,
    company: Company,
    now: DateTime<Utc>,
) -> Result<CompanyView, AppError> {
    super::authz::require_person(actor)?;
    require_admin(actor)?;
    let org = insert_organisation_audited(conn, actor, company.organisation, now)?;
    let invitation = invite(conn, actor, &org, &company.representative, now)?;
    Ok(CompanyView {
        organisation: org,
        invitation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_administrator_grants_any_role_a_company_representative_only_their_own() {
        for role in Role::ALL {
            assert!(
                may_grant(PeopleManager::Administrator, role).is_ok(),
                "{role:?}"
            );
            let rep = may_grant(PeopleManager::CompanyRepresentative, role);
            assert_eq!(rep.is_ok(), role == Role::CompanyRepresentative, "{role:?}");
        }
    }

    #[test]
    fn a_role_is_held_only_where_it_belongs() {
        use OrgKind::*;
        assert!(role_fits(Role::CompanyRepresentative, Company));
        assert!(!role_fits(Role::CompanyRepresentative, CpuaAuthority));
        for r in [Role::RegisterHolder, Role::CpuaLegal, Role::Finance] {
            assert!(role_fits(r, CpuaAuthority), "{r:?}");
            assert!(!role_fits(r, Company), "{r:?}");
            assert!(!role_fits(r, University), "{r:?}");
        }
        assert!(role_fits(Role::ResearchPrincipalRepresentative, University));
        assert!(role_fits(Role::ResearchPrincipalRepresentative, Company));
        assert!(!role_fits(
            Role::ResearchPrincipalRepresentative,
            RegisterCentre
        ));
        for k in OrgKind::ALL {
            assert!(role_fits(Role::Administrator, k), "{k:?}");
        }
    }

    #[test]
    fn the_last_administrator_is_kept() {
        assert!(matches!(
            keep_an_administrator(Role::Administrator, 1),
            Err(AppError::Conflict(_))
        ));
        assert!(keep_an_administrator(Role::Administrator, 2).is_ok());
        // Other roles may go to the last one.
        assert!(keep_an_administrator(Role::CompanyRepresentative, 1).is_ok());
    }

    #[test]
    fn an_invitation_names_each_bad_field() {
        let e = NewInvitation {
            email: "inte en adress".into(),
            role: "boss".into(),
            expires_in_days: Some(0),
        }
        .parse()
        .unwrap_err();
        let AppError::Invalid(errs) = e else {
            panic!("invalid")
        };
        let fields: Vec<&str> = errs.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["email", "role", "expires_in_days"]);
        let ok = NewInvitation {
            email: " Ny.Person@Exempel.SE".into(),
            role: "company_representative".into(),
            expires_in_days: None,
        }
        .parse()
        .unwrap();
        assert_eq!(ok.email.as_str(), "ny.person@exempel.se");
        assert_eq!(ok.open_for, Duration::days(INVITATION_DAYS_DEFAULT));
    }
}
