//! Named data users (issue 16 item 6): who in the project may access the personal data (seed 000,
//! "Menprövning av centralt personuppgiftsansvarig myndighet (CPUA)", the dossier's fifth item), each
//! with a confidentiality undertaking the person confirms themselves, signed in, on a versioned text
//! (`config/data-user-undertaking.toml`; seed 000, "Hantering vid utlämnandet av
//! kvalitetsregisterdata": the data "får därför inte röjas för någon obehörig").
//!
//! The rules are `domain::data_users`: before release a named person is active at once; from release
//! on the addition waits for the CPUA's legal team; removal and refusal are statuses, never deletions.
//! Every change is one transaction with its audit event on the collaboration's stream.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::LazyLock;

use super::audit::record_case_event;
use super::casework::text_at_most;
use super::collaborations;
use super::AppError;
use crate::db::data_users::{self as store, DataUserRow};
use crate::db::repo::{ts, utc};
use crate::db::DbConn;
use crate::domain::classification::RulebookSet;
use crate::domain::data_users::{self as rules, DataUserRefusal, DataUserStatus, NamedUser};
use crate::domain::email::EmailAddress;
use crate::domain::events::EventType;
use crate::domain::role::Actor;

const MAX_TEXT: usize = 200;
const MAX_REASON: usize = 2000;

/// The confidentiality undertaking's text in force (sekretessförbindelse), with its version.
#[derive(Debug, Clone, Deserialize)]
pub struct Undertaking {
    pub version: String,
    pub sv: String,
    pub en: String,
}

impl Undertaking {
    /// The SHA-256 of both texts as confirmed, Swedish then English.
    pub fn sha256(&self) -> String {
        rules::consent_hash(&format!("{}\n{}", self.sv, self.en))
    }
}

static UNDERTAKING: LazyLock<Undertaking> = LazyLock::new(|| {
    toml::from_str(include_str!("../../config/data-user-undertaking.toml"))
        .expect("config/data-user-undertaking.toml is part of the build")
});

/// The undertaking in force.
pub fn undertaking() -> &'static Undertaking {
    &UNDERTAKING
}

/// A person to name.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DataUserInput {
    pub name: String,
    /// The address the person signs in with: they confirm their own undertaking.
    pub email: String,
    /// Their part in the project, e.g. "statistiker".
    pub project_role: String,
}

/// CPUA legal's answer to an addition after release: approve, or refuse with a reason.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DataUserDecisionInput {
    pub approve: bool,
    #[serde(default)]
    pub reason: Option<String>,
}

/// A removal, with an optional reason.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DataUserRemoveInput {
    #[serde(default)]
    pub reason: Option<String>,
}

/// The person's own confirmation of the text of `version`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UndertakingInput {
    pub accept: bool,
    /// The version of the text the person read (`GET /api/v1/me/undertakings`).
    pub version: String,
}

/// Who did something, by name.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ByWhom {
    pub name: String,
    pub at: DateTime<Utc>,
}

/// A confirmed undertaking.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UndertakingRecord {
    pub at: DateTime<Utc>,
    pub version: String,
    pub sha256: String,
}

/// A named data user as shown.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DataUserView {
    pub id: String,
    pub collaboration_id: String,
    pub name: String,
    pub email: String,
    pub project_role: String,
    /// `active`, `pending_approval`, `refused` or `removed`.
    pub status: String,
    pub added_by: ByWhom,
    pub decided_by: Option<ByWhom>,
    pub refusal_reason: Option<String>,
    pub removed_by: Option<ByWhom>,
    pub removal_reason: Option<String>,
    pub undertaking: Option<UndertakingRecord>,
    /// Active with the undertaking confirmed.
    pub may_access: bool,
}

/// The named users of a case.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DataUsersView {
    pub items: Vec<DataUserView>,
    /// The dossier's fifth item: at least one person named and active (named before release, or
    /// approved after).
    pub dossier_item_satisfied: bool,
    /// Active people whose undertaking is not yet confirmed: a hint, never a block.
    pub undertakings_pending: usize,
    /// What the caller may do now (the pages offer only these forms): name a person (a party of a
    /// case that has not ended), approve or refuse a pending addition (CPUA legal of the case),
    /// remove a person (a party or CPUA legal of the case).
    pub may_add: bool,
    pub may_decide: bool,
    pub may_remove: bool,
}

/// An undertaking that waits for the signed-in person.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PendingUndertaking {
    pub data_user: DataUserView,
    pub reference: String,
    pub title: String,
    pub version: String,
    pub text_sv: String,
    pub text_en: String,
}

fn status_of(row: &DataUserRow) -> DataUserStatus {
    // Fail closed: an unknown stored status is as good as removed.
    DataUserStatus::parse(&row.status).unwrap_or(DataUserStatus::Removed)
}

fn named(row: &DataUserRow) -> NamedUser {
    NamedUser {
        status: status_of(row),
        undertaking_confirmed: row.undertaking_at.is_some(),
    }
}

fn by(name: &Option<String>, at: Option<chrono::NaiveDateTime>) -> Option<ByWhom> {
    Some(ByWhom {
        name: name.clone()?,
        at: utc(at?),
    })
}

pub fn view_of(row: &DataUserRow) -> DataUserView {
    DataUserView {
        id: row.id.clone(),
        collaboration_id: row.collaboration_id.clone(),
        name: row.name.clone(),
        email: row.email.clone(),
        project_role: row.project_role.clone(),
        status: status_of(row).code().to_string(),
        added_by: ByWhom {
            name: row.added_by_name.clone(),
            at: utc(row.added_at),
        },
        decided_by: by(&row.decided_by_name, row.decided_at),
        refusal_reason: row.refusal_reason.clone(),
        removed_by: by(&row.removed_by_name, row.removed_at),
        removal_reason: row.removal_reason.clone(),
        undertaking: match (
            row.undertaking_at,
            &row.undertaking_version,
            &row.undertaking_sha256,
        ) {
            (Some(at), Some(v), Some(h)) => Some(UndertakingRecord {
                at: utc(at),
                version: v.clone(),
                sha256: h.clone(),
            }),
            _ => None,
        },
        may_access: rules::may_access(&named(row)),
    }
}

fn refused(r: DataUserRefusal) -> AppError {
    match r {
        DataUserRefusal::CaseTerminal => {
            AppError::Conflict(crate::msg!("data_users.case_terminal"))
        }
        DataUserRefusal::NotPending => AppError::Conflict(crate::msg!("data_users.not_pending")),
        DataUserRefusal::ReasonRequired => {
            AppError::invalid("reason", crate::msg!("data_users.reason_required"))
        }
        DataUserRefusal::AlreadyRemoved => {
            AppError::Conflict(crate::msg!("data_users.already_removed"))
        }
        DataUserRefusal::NotThePerson => AppError::NotFound(crate::msg!("thing.data_user")),
        DataUserRefusal::AlreadyConfirmed => {
            AppError::Conflict(crate::msg!("data_users.already_confirmed"))
        }
    }
}

fn reason(v: &Option<String>) -> Result<Option<String>, AppError> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(r) => text_at_most("reason", r, MAX_REASON).map(Some),
    }
}

fn audit(
    conn: &mut DbConn,
    actor: &Actor,
    row: &DataUserRow,
    event: EventType,
    before: Option<&DataUserRow>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let value = |r: &DataUserRow| -> Result<serde_json::Value, AppError> {
        Ok(json!({"data_user": serde_json::to_value(view_of(r)).map_err(anyhow::Error::from)?}))
    };
    let before = before.map(value).transpose()?;
    record_case_event(
        conn,
        actor,
        &row.collaboration_id,
        event,
        before,
        value(row)?,
        now,
    )
}

/// The named users of a case the actor sees.
pub fn list(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    actor: &Actor,
    id: &str,
) -> Result<DataUsersView, AppError> {
    let (c, scope) = collaborations::visible_with_scope(conn, rulebooks, actor, id)?;
    let rows = store::of_collaboration(conn, c.id.as_str())?;
    let users: Vec<NamedUser> = rows.iter().map(named).collect();
    Ok(DataUsersView {
        items: rows.iter().map(view_of).collect(),
        dossier_item_satisfied: rules::dossier_item_satisfied(&users),
        undertakings_pending: rules::pending_undertakings(&users).len(),
        may_add: super::authz::may_name_data_users(actor, &scope).is_ok()
            && rules::status_on_add(c.step).is_ok(),
        may_decide: super::authz::may_handle_case(actor, &scope.cpuas).is_ok(),
        may_remove: super::authz::may_remove_data_user(actor, &scope).is_ok(),
    })
}

/// Whether the named users of a case give the dossier's fifth item (seed 000, "Menprövning av
/// centralt personuppgiftsansvarig myndighet (CPUA)": "Uppgift om vilka som har tillgång till
/// personuppgifterna i forskningsprojektet"): at least one active person.
pub fn dossier_item_given(conn: &mut DbConn, collaboration: &str) -> Result<bool, AppError> {
    let rows = store::of_collaboration(conn, collaboration)?;
    let users: Vec<NamedUser> = rows.iter().map(named).collect();
    Ok(rules::dossier_item_satisfied(&users))
}

/// The names of a case's people waiting for the CPUA's approval (the to-do of its legal team).
pub fn awaiting_approval(conn: &mut DbConn, collaboration: &str) -> Result<Vec<String>, AppError> {
    Ok(store::of_collaboration(conn, collaboration)?
        .into_iter()
        .filter(|r| status_of(r) == DataUserStatus::PendingApproval)
        .map(|r| r.name)
        .collect())
}

/// A party names a person. Before release the person is active at once; from release on the
/// addition waits for the CPUA's approval. The same address named twice (not removed or refused): 409.
pub fn add(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    actor: &Actor,
    id: &str,
    input: DataUserInput,
    now: DateTime<Utc>,
) -> Result<DataUserView, AppError> {
    let (c, scope) = collaborations::visible_with_scope(conn, rulebooks, actor, id)?;
    super::authz::may_name_data_users(actor, &scope)?;
    let name = text_at_most("name", &input.name, MAX_TEXT)?;
    let project_role = text_at_most("project_role", &input.project_role, MAX_TEXT)?;
    let email = EmailAddress::parse(&input.email).map_err(|m| AppError::invalid("email", m))?;
    let status = rules::status_on_add(c.step).map_err(refused)?;
    let existing = store::of_collaboration(conn, c.id.as_str())?;
    if existing.iter().any(|r| {
        r.email.eq_ignore_ascii_case(email.as_str())
            && matches!(
                status_of(r),
                DataUserStatus::Active | DataUserStatus::PendingApproval
            )
    }) {
        return Err(AppError::Conflict(crate::msg!("data_users.already_named")));
    }
    let row = DataUserRow {
        id: uuid::Uuid::new_v4().to_string(),
        collaboration_id: c.id.as_str().to_string(),
        name,
        email: email.as_str().to_string(),
        project_role,
        status: status.code().to_string(),
        added_by: actor.account.as_str().to_string(),
        added_by_name: actor.name.clone(),
        added_by_org: actor.org.as_str().to_string(),
        added_at: ts(now),
        decided_by: None,
        decided_by_name: None,
        decided_by_org: None,
        decided_at: None,
        refusal_reason: None,
        removed_by: None,
        removed_by_name: None,
        removed_at: None,
        removal_reason: None,
        undertaking_account: None,
        undertaking_at: None,
        undertaking_version: None,
        undertaking_sha256: None,
    };
    store::insert(conn, &row)?;
    audit(conn, actor, &row, EventType::DataUserAdded, None, now)?;
    Ok(view_of(&row))
}

fn load(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    actor: &Actor,
    id: &str,
    user: &str,
) -> Result<(DataUserRow, super::authz::Scope), AppError> {
    let (c, scope) = collaborations::visible_with_scope(conn, rulebooks, actor, id)?;
    let row = store::get(conn, c.id.as_str(), user)?
        .ok_or_else(|| AppError::NotFound(crate::msg!("thing.data_user")))?;
    Ok((row, scope))
}

/// CPUA legal of the case approves or refuses an addition made after release.
pub fn decide(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    actor: &Actor,
    id: &str,
    user: &str,
    input: DataUserDecisionInput,
    now: DateTime<Utc>,
) -> Result<DataUserView, AppError> {
    let (before, scope) = load(conn, rulebooks, actor, id, user)?;
    super::authz::may_handle_case(actor, &scope.cpuas)?;
    let why = if input.approve {
        None
    } else {
        Some(reason(&input.reason)?.unwrap_or_default())
    };
    let status = rules::decide(status_of(&before), why.as_deref()).map_err(refused)?;
    let mut row = before.clone();
    row.status = status.code().to_string();
    row.decided_by = Some(actor.account.as_str().to_string());
    row.decided_by_name = Some(actor.name.clone());
    row.decided_by_org = Some(actor.org.as_str().to_string());
    row.decided_at = Some(ts(now));
    row.refusal_reason = why;
    store::update(conn, &row)?;
    let event = if input.approve {
        EventType::DataUserApproved
    } else {
        EventType::DataUserRefused
    };
    audit(conn, actor, &row, event, Some(&before), now)?;
    Ok(view_of(&row))
}

/// A party or CPUA legal removes a person: the record stays, with who, when and why.
pub fn remove(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    actor: &Actor,
    id: &str,
    user: &str,
    input: DataUserRemoveInput,
    now: DateTime<Utc>,
) -> Result<DataUserView, AppError> {
    let (before, scope) = load(conn, rulebooks, actor, id, user)?;
    super::authz::may_remove_data_user(actor, &scope)?;
    let status = rules::remove(status_of(&before)).map_err(refused)?;
    let mut row = before.clone();
    row.status = status.code().to_string();
    row.removed_by = Some(actor.account.as_str().to_string());
    row.removed_by_name = Some(actor.name.clone());
    row.removed_at = Some(ts(now));
    row.removal_reason = reason(&input.reason)?;
    store::update(conn, &row)?;
    audit(
        conn,
        actor,
        &row,
        EventType::DataUserRemoved,
        Some(&before),
        now,
    )?;
    Ok(view_of(&row))
}

/// The signed-in person's verified address, or none (an API key, or an address not verified). A
/// local mode demo account counts as verified: local mode has no sign-in to verify anything.
fn own_email(conn: &mut DbConn, actor: &Actor) -> Result<Option<String>, AppError> {
    if super::authz::require_person(actor).is_err() {
        return Ok(None);
    }
    Ok(crate::db::identity::account_by_id(conn, &actor.account)?
        .filter(|a| (a.email_verified || a.is_demo) && !a.email.trim().is_empty())
        .map(|a| a.email.trim().to_lowercase()))
}

/// The undertakings waiting for the signed-in person: every case naming their verified address,
/// active or pending, not yet confirmed, with the text to read.
pub fn pending_for_me(
    conn: &mut DbConn,
    actor: &Actor,
) -> Result<Vec<PendingUndertaking>, AppError> {
    let Some(email) = own_email(conn, actor)? else {
        return Ok(vec![]);
    };
    let u = undertaking();
    let mut out = Vec::new();
    for row in store::with_email(conn, &email)? {
        let st = status_of(&row);
        if row.undertaking_at.is_some()
            || !matches!(st, DataUserStatus::Active | DataUserStatus::PendingApproval)
        {
            continue;
        }
        let (reference, title) =
            store::collaboration_heading(conn, &row.collaboration_id)?.unwrap_or_default();
        out.push(PendingUndertaking {
            data_user: view_of(&row),
            reference,
            title,
            version: u.version.clone(),
            text_sv: u.sv.clone(),
            text_en: u.en.clone(),
        });
    }
    Ok(out)
}

/// The named person confirms their own undertaking, signed in with the named (verified) address, on
/// the text of the version in force. Anyone else: 404, as for a record they cannot see.
pub fn confirm_undertaking(
    conn: &mut DbConn,
    actor: &Actor,
    user: &str,
    input: UndertakingInput,
    now: DateTime<Utc>,
) -> Result<DataUserView, AppError> {
    let not_found = || AppError::NotFound(crate::msg!("thing.data_user"));
    let email = own_email(conn, actor)?.ok_or_else(not_found)?;
    let before = store::with_email(conn, &email)?
        .into_iter()
        .find(|r| r.id == user)
        .ok_or_else(not_found)?;
    rules::may_confirm(&before.email, &email, before.undertaking_at.is_some()).map_err(refused)?;
    if !matches!(
        status_of(&before),
        DataUserStatus::Active | DataUserStatus::PendingApproval
    ) {
        return Err(AppError::Conflict(crate::msg!("data_users.not_named")));
    }
    if !input.accept {
        return Err(AppError::invalid(
            "accept",
            crate::msg!("data_users.accept_required"),
        ));
    }
    let u = undertaking();
    if input.version != u.version {
        return Err(AppError::invalid(
            "version",
            crate::msg!(
                "data_users.undertaking_version",
                version = u.version.clone()
            ),
        ));
    }
    let mut row = before.clone();
    row.undertaking_account = Some(actor.account.as_str().to_string());
    row.undertaking_at = Some(ts(now));
    row.undertaking_version = Some(u.version.clone());
    row.undertaking_sha256 = Some(u.sha256());
    store::update(conn, &row)?;
    audit(
        conn,
        actor,
        &row,
        EventType::DataUserUndertakingConfirmed,
        Some(&before),
        now,
    )?;
    Ok(view_of(&row))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_undertaking_text_is_there_in_both_languages_and_its_hash_covers_both() {
        let u = undertaking();
        assert!(!u.version.is_empty());
        assert!(u.sv.contains("obehörigen röja"));
        assert!(u.en.contains("not to disclose"));
        let mut changed = u.clone();
        changed.en.push('.');
        assert_ne!(changed.sha256(), u.sha256());
        assert_eq!(u.sha256().len(), 64);
    }
}
