//! People (accounts), their memberships, sessions, API keys and invitations: rows in, domain types
//! out. The rules (who may grant what, the last administrator, binding an invitation) live in
//! `app::identity`; here only what is stored.
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::repo::{ts, utc, QResult};
use super::schema::*;
use super::DbConn;
use crate::domain::ids::{AccountId, ApiKeyId, MembershipId, OrgId};
use crate::domain::role::{Actor, ApiKeyScope, Credential, Role};

fn corrupt(what: &str) -> diesel::result::Error {
    diesel::result::Error::DeserializationError(format!("stored {what} is not valid").into())
}

// ---------- accounts (people) ----------

/// A person (person): one account, whatever organisations and roles it holds.
#[derive(Debug, Clone, Queryable, Insertable, Selectable)]
#[diesel(table_name = accounts)]
pub struct AccountRow {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub email_verified: bool,
    pub issuer: Option<String>,
    pub subject: Option<String>,
    pub is_demo: bool,
    pub created_at: NaiveDateTime,
    pub last_login_at: Option<NaiveDateTime>,
}

impl AccountRow {
    /// A new account row with no sign-in binding.
    pub fn new(
        username: &str,
        display_name: &str,
        email: &str,
        is_demo: bool,
        now: DateTime<Utc>,
    ) -> AccountRow {
        AccountRow {
            id: AccountId::new().to_string(),
            username: username.to_string(),
            display_name: display_name.to_string(),
            email: email.to_string(),
            email_verified: false,
            issuer: None,
            subject: None,
            is_demo,
            created_at: ts(now),
            last_login_at: None,
        }
    }

    pub fn account_id(&self) -> AccountId {
        AccountId::from_db(self.id.clone())
    }
}

pub fn insert_account(conn: &mut DbConn, row: &AccountRow) -> QResult<()> {
    diesel::insert_into(accounts::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn account_by_id(conn: &mut DbConn, id: &AccountId) -> QResult<Option<AccountRow>> {
    accounts::table
        .find(id.as_str())
        .select(AccountRow::as_select())
        .first(conn)
        .optional()
}

pub fn account_by_username(conn: &mut DbConn, username: &str) -> QResult<Option<AccountRow>> {
    accounts::table
        .filter(accounts::username.eq(username))
        .select(AccountRow::as_select())
        .first(conn)
        .optional()
}

/// The account an identity provider knows by this issuer and subject.
pub fn account_by_subject(
    conn: &mut DbConn,
    issuer: &str,
    subject: &str,
) -> QResult<Option<AccountRow>> {
    accounts::table
        .filter(accounts::issuer.eq(issuer))
        .filter(accounts::subject.eq(subject))
        .select(AccountRow::as_select())
        .first(conn)
        .optional()
}

// ---------- memberships ----------

/// One role a person holds in one organisation (roll i en organisation).
#[derive(Debug, Clone, Queryable, Insertable, Selectable)]
#[diesel(table_name = memberships)]
pub struct MembershipRow {
    pub id: String,
    pub account_id: String,
    pub organisation_id: String,
    pub role: String,
    pub source: String,
    pub granted_at: NaiveDateTime,
    pub granted_by: Option<String>,
    pub revoked_at: Option<NaiveDateTime>,
    pub revoked_by: Option<String>,
}

impl MembershipRow {
    pub fn new(
        account: &AccountId,
        org: &OrgId,
        role: Role,
        source: &str,
        granted_by: Option<&AccountId>,
        now: DateTime<Utc>,
    ) -> MembershipRow {
        MembershipRow {
            id: MembershipId::new().to_string(),
            account_id: account.to_string(),
            organisation_id: org.to_string(),
            role: role.code().to_string(),
            source: source.to_string(),
            granted_at: ts(now),
            granted_by: granted_by.map(|a| a.to_string()),
            revoked_at: None,
            revoked_by: None,
        }
    }

    pub fn membership_id(&self) -> MembershipId {
        MembershipId::from_db(self.id.clone())
    }

    pub fn org(&self) -> OrgId {
        OrgId::from_db(self.organisation_id.clone())
    }

    pub fn role(&self) -> QResult<Role> {
        Role::parse(&self.role).ok_or_else(|| corrupt("role"))
    }

    /// The actor this person is when acting in this membership.
    pub fn actor(&self, account: &AccountRow, credential: Credential) -> QResult<Actor> {
        Ok(Actor {
            account: account.account_id(),
            name: account.display_name.clone(),
            org: self.org(),
            role: self.role()?,
            membership: Some(self.membership_id()),
            credential,
        })
    }
}

pub fn insert_membership(conn: &mut DbConn, row: &MembershipRow) -> QResult<()> {
    diesel::insert_into(memberships::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// The memberships a person holds now (not revoked), oldest first.
pub fn live_memberships(conn: &mut DbConn, account: &AccountId) -> QResult<Vec<MembershipRow>> {
    memberships::table
        .filter(memberships::account_id.eq(account.as_str()))
        .filter(memberships::revoked_at.is_null())
        .order((memberships::granted_at.asc(), memberships::id.asc()))
        .select(MembershipRow::as_select())
        .load(conn)
}

pub fn membership_by_id(conn: &mut DbConn, id: &MembershipId) -> QResult<Option<MembershipRow>> {
    memberships::table
        .find(id.as_str())
        .select(MembershipRow::as_select())
        .first(conn)
        .optional()
}

/// The live membership of a person in an organisation and role, if there is one.
pub fn live_membership(
    conn: &mut DbConn,
    account: &AccountId,
    org: &OrgId,
    role: Role,
) -> QResult<Option<MembershipRow>> {
    memberships::table
        .filter(memberships::account_id.eq(account.as_str()))
        .filter(memberships::organisation_id.eq(org.as_str()))
        .filter(memberships::role.eq(role.code()))
        .filter(memberships::revoked_at.is_null())
        .select(MembershipRow::as_select())
        .first(conn)
        .optional()
}

/// Marks a membership revoked; returns whether a live one was changed.
pub fn revoke_membership(
    conn: &mut DbConn,
    id: &MembershipId,
    by: &AccountId,
    now: DateTime<Utc>,
) -> QResult<bool> {
    let n = diesel::update(
        memberships::table
            .find(id.as_str())
            .filter(memberships::revoked_at.is_null()),
    )
    .set((
        memberships::revoked_at.eq(ts(now)),
        memberships::revoked_by.eq(by.as_str()),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// How many live memberships hold this role (the last administrator is kept).
pub fn count_live_role(conn: &mut DbConn, role: Role) -> QResult<i64> {
    memberships::table
        .filter(memberships::role.eq(role.code()))
        .filter(memberships::revoked_at.is_null())
        .count()
        .get_result(conn)
}

/// The demo accounts of local mode with each live membership and its organisation's name.
pub fn demo_accounts(conn: &mut DbConn) -> QResult<Vec<(AccountRow, MembershipRow, String)>> {
    accounts::table
        .inner_join(memberships::table.inner_join(organisations::table))
        .filter(accounts::is_demo.eq(true))
        .filter(memberships::revoked_at.is_null())
        .order((accounts::username.asc(), memberships::granted_at.asc()))
        .select((
            AccountRow::as_select(),
            MembershipRow::as_select(),
            organisations::name,
        ))
        .load(conn)
}

// ---------- sessions ----------

/// A session: a bearer token or a browser cookie, stored as its SHA-256, acting in one membership.
#[derive(Debug, Clone, Queryable, Insertable, Selectable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub token_hash: String,
    pub account_id: String,
    pub membership_id: Option<String>,
    /// `bearer` or `cookie`.
    pub kind: String,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub idle_timeout_seconds: Option<i64>,
    pub csrf_hash: Option<String>,
    pub provider: Option<String>,
    pub auth_time: Option<NaiveDateTime>,
    pub acr: Option<String>,
    pub amr: Option<String>,
    pub id_token_hint: Option<String>,
    pub revoked_at: Option<NaiveDateTime>,
}

impl SessionRow {
    /// A bearer session for API clients and local mode.
    pub fn bearer(
        hash: &str,
        account: &AccountId,
        membership: &MembershipId,
        now: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> SessionRow {
        SessionRow {
            token_hash: hash.to_string(),
            account_id: account.to_string(),
            membership_id: Some(membership.to_string()),
            kind: "bearer".into(),
            created_at: ts(now),
            last_seen_at: ts(now),
            expires_at: ts(expires),
            idle_timeout_seconds: None,
            csrf_hash: None,
            provider: None,
            auth_time: None,
            acr: None,
            amr: None,
            id_token_hint: None,
            revoked_at: None,
        }
    }

    /// When the session ends if it is not used again: its absolute end, or sooner when idle.
    pub fn ends_at(&self) -> DateTime<Utc> {
        let absolute = utc(self.expires_at);
        match self.idle_timeout_seconds {
            Some(idle) => absolute.min(utc(self.last_seen_at) + chrono::Duration::seconds(idle)),
            None => absolute,
        }
    }

    pub fn credential(&self) -> Credential {
        if self.kind == "cookie" {
            Credential::Cookie
        } else {
            Credential::Token
        }
    }
}

pub fn insert_session(conn: &mut DbConn, row: &SessionRow) -> QResult<()> {
    diesel::insert_into(sessions::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// A live session (not revoked, not past its absolute end) with its account and active membership,
/// when that membership is live too. The idle timeout is the caller's to check ([`SessionRow::ends_at`]).
pub fn live_session(
    conn: &mut DbConn,
    hash: &str,
    now: DateTime<Utc>,
) -> QResult<Option<(SessionRow, AccountRow, MembershipRow)>> {
    sessions::table
        .inner_join(accounts::table)
        .inner_join(memberships::table)
        .filter(sessions::token_hash.eq(hash))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(ts(now)))
        .filter(memberships::revoked_at.is_null())
        .select((
            SessionRow::as_select(),
            AccountRow::as_select(),
            MembershipRow::as_select(),
        ))
        .first(conn)
        .optional()
}

/// The actor behind a live, not idle session and when the session ends.
pub fn actor_by_session(
    conn: &mut DbConn,
    hash: &str,
    now: DateTime<Utc>,
) -> QResult<Option<(Actor, DateTime<Utc>)>> {
    let Some((s, a, m)) = live_session(conn, hash, now)? else {
        return Ok(None);
    };
    let ends = s.ends_at();
    if ends <= now {
        return Ok(None);
    }
    Ok(Some((m.actor(&a, s.credential())?, ends)))
}

/// Records that a session was used at `now` (the idle timeout counts from here).
pub fn touch_session(conn: &mut DbConn, hash: &str, now: DateTime<Utc>) -> QResult<()> {
    diesel::update(sessions::table.find(hash))
        .set(sessions::last_seen_at.eq(ts(now)))
        .execute(conn)?;
    Ok(())
}

/// Switches a session to another membership of the same person.
pub fn set_session_membership(
    conn: &mut DbConn,
    hash: &str,
    membership: &MembershipId,
) -> QResult<bool> {
    let n = diesel::update(sessions::table.find(hash))
        .set(sessions::membership_id.eq(membership.as_str()))
        .execute(conn)?;
    Ok(n == 1)
}

/// Ends one session; returns whether it was live.
pub fn revoke_session(conn: &mut DbConn, hash: &str, now: DateTime<Utc>) -> QResult<bool> {
    let n = diesel::update(
        sessions::table
            .find(hash)
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(ts(now)))
    .execute(conn)?;
    Ok(n == 1)
}

/// Ends every session acting in a membership (the membership was revoked); returns how many.
pub fn revoke_sessions_of_membership(
    conn: &mut DbConn,
    membership: &MembershipId,
    now: DateTime<Utc>,
) -> QResult<usize> {
    diesel::update(
        sessions::table
            .filter(sessions::membership_id.eq(membership.as_str()))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(ts(now)))
    .execute(conn)
}

/// Deletes every session that has ended by `now` (past its absolute end, or revoked); returns how
/// many. Runs when a session is created and at start, so ended sessions do not pile up.
pub fn purge_ended_sessions(conn: &mut DbConn, now: DateTime<Utc>) -> QResult<usize> {
    diesel::delete(
        sessions::table.filter(
            sessions::expires_at
                .le(ts(now))
                .or(sessions::revoked_at.is_not_null()),
        ),
    )
    .execute(conn)
}

// ---------- API keys ----------

/// An API key of a company system (API-nyckel), stored as its SHA-256.
#[derive(Debug, Clone, Queryable, Insertable, Selectable)]
#[diesel(table_name = api_keys)]
pub struct ApiKeyRow {
    pub id: String,
    pub key_hash: String,
    pub organisation_id: String,
    pub name: String,
    pub scope: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    pub revoked_by: Option<String>,
    pub last_used_at: Option<NaiveDateTime>,
}

impl ApiKeyRow {
    pub fn scope(&self) -> QResult<ApiKeyScope> {
        ApiKeyScope::parse(&self.scope).ok_or_else(|| corrupt("API key scope"))
    }

    /// The actor a live key acts as: a company representative of its organisation, on behalf of
    /// the person who created it, limited to the key's scope.
    pub fn actor(&self, creator: &AccountRow) -> QResult<Actor> {
        Ok(Actor {
            account: creator.account_id(),
            name: format!("{} ({})", self.name, creator.display_name),
            org: OrgId::from_db(self.organisation_id.clone()),
            role: Role::CompanyRepresentative,
            membership: None,
            credential: Credential::ApiKey {
                key: ApiKeyId::from_db(self.id.clone()),
                scope: self.scope()?,
            },
        })
    }
}

pub fn insert_api_key(conn: &mut DbConn, row: &ApiKeyRow) -> QResult<()> {
    diesel::insert_into(api_keys::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// A live key (not revoked, not expired) with the account that created it, while that person still
/// holds the company representative role at the key's company: a key acts on its creator's behalf, so
/// it stops with the creator's role.
pub fn live_api_key(
    conn: &mut DbConn,
    hash: &str,
    now: DateTime<Utc>,
) -> QResult<Option<(ApiKeyRow, AccountRow)>> {
    let creator_holds_role = diesel::dsl::exists(
        memberships::table
            .filter(memberships::account_id.eq(api_keys::created_by))
            .filter(memberships::organisation_id.eq(api_keys::organisation_id))
            .filter(memberships::role.eq(Role::CompanyRepresentative.code()))
            .filter(memberships::revoked_at.is_null()),
    );
    api_keys::table
        .inner_join(accounts::table)
        .filter(api_keys::key_hash.eq(hash))
        .filter(api_keys::revoked_at.is_null())
        .filter(api_keys::expires_at.gt(ts(now)))
        .filter(creator_holds_role)
        .select((ApiKeyRow::as_select(), AccountRow::as_select()))
        .first(conn)
        .optional()
}

/// Records a key's last use.
pub fn touch_api_key(conn: &mut DbConn, id: &ApiKeyId, now: DateTime<Utc>) -> QResult<()> {
    diesel::update(api_keys::table.find(id.as_str()))
        .set(api_keys::last_used_at.eq(ts(now)))
        .execute(conn)?;
    Ok(())
}

/// The actor an account is in its first live membership (local mode's demo accounts, the CLI, the
/// benchmark's seeding): `None` if there is no such account or it holds no role.
pub fn first_actor_by_username(conn: &mut DbConn, username: &str) -> QResult<Option<Actor>> {
    let Some(account) = account_by_username(conn, username)? else {
        return Ok(None);
    };
    let memberships = live_memberships(conn, &account.account_id())?;
    memberships
        .first()
        .map(|m| m.actor(&account, Credential::Token))
        .transpose()
}

// ---------- invitations ----------

/// An invitation of a person, by e-mail, to a role in an organisation (inbjudan); bound at the
/// first sign-in with that verified e-mail.
#[derive(Debug, Clone, Queryable, Insertable, Selectable)]
#[diesel(table_name = invitations)]
pub struct InvitationRow {
    pub id: String,
    /// Lower case.
    pub email: String,
    pub organisation_id: String,
    pub role: String,
    pub invited_by: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub accepted_at: Option<NaiveDateTime>,
    pub accepted_by: Option<String>,
    pub revoked_at: Option<NaiveDateTime>,
}

impl InvitationRow {
    pub fn role(&self) -> QResult<Role> {
        Role::parse(&self.role).ok_or_else(|| corrupt("role"))
    }

    pub fn org(&self) -> OrgId {
        OrgId::from_db(self.organisation_id.clone())
    }
}

pub fn insert_invitation(conn: &mut DbConn, row: &InvitationRow) -> QResult<()> {
    diesel::insert_into(invitations::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// The open invitations (not accepted, not revoked, not expired) for an e-mail address, oldest first.
pub fn open_invitations_for_email(
    conn: &mut DbConn,
    email: &str,
    now: DateTime<Utc>,
) -> QResult<Vec<InvitationRow>> {
    invitations::table
        .filter(invitations::email.eq(email.to_lowercase()))
        .filter(invitations::accepted_at.is_null())
        .filter(invitations::revoked_at.is_null())
        .filter(invitations::expires_at.gt(ts(now)))
        .order((invitations::created_at.asc(), invitations::id.asc()))
        .select(InvitationRow::as_select())
        .load(conn)
}

/// Marks an open invitation accepted by an account; returns whether it was open.
pub fn accept_invitation(
    conn: &mut DbConn,
    id: &str,
    account: &AccountId,
    now: DateTime<Utc>,
) -> QResult<bool> {
    let n = diesel::update(
        invitations::table
            .find(id)
            .filter(invitations::accepted_at.is_null())
            .filter(invitations::revoked_at.is_null()),
    )
    .set((
        invitations::accepted_at.eq(ts(now)),
        invitations::accepted_by.eq(account.as_str()),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

// ---------- people, roles, invitations and keys of an organisation (app::identity, app::apikeys) ----------

/// A person's live memberships, oldest first, each with its organisation's name, and the person's
/// account (in one query: `GET /api/v1/me` runs it on every call).
pub fn live_memberships_with_names(
    conn: &mut DbConn,
    account: &AccountId,
) -> QResult<Vec<(MembershipRow, String, AccountRow)>> {
    memberships::table
        .inner_join(organisations::table)
        .inner_join(accounts::table)
        .filter(memberships::account_id.eq(account.as_str()))
        .filter(memberships::revoked_at.is_null())
        .order((memberships::granted_at.asc(), memberships::id.asc()))
        .select((
            MembershipRow::as_select(),
            organisations::name,
            AccountRow::as_select(),
        ))
        .load(conn)
}

/// The most people one organisation's list shows (a company or an authority has far fewer).
pub const PEOPLE_MAX: i64 = 1000;

/// The people with a live membership in an organisation, each row one membership, by name, then
/// account, then grant (served by `memberships_by_org`).
pub fn people_of_organisation(
    conn: &mut DbConn,
    org: &OrgId,
) -> QResult<Vec<(AccountRow, MembershipRow)>> {
    accounts::table
        .inner_join(memberships::table)
        .filter(memberships::organisation_id.eq(org.as_str()))
        .filter(memberships::revoked_at.is_null())
        .order((
            accounts::display_name.asc(),
            accounts::id.asc(),
            memberships::granted_at.asc(),
        ))
        .limit(PEOPLE_MAX)
        .select((AccountRow::as_select(), MembershipRow::as_select()))
        .load(conn)
}

/// Whether a person with this e-mail address (stored lower-cased) already holds the role in the
/// organisation.
pub fn email_holds_role(conn: &mut DbConn, email: &str, org: &OrgId, role: Role) -> QResult<bool> {
    let n: i64 = accounts::table
        .inner_join(memberships::table)
        .filter(accounts::email.eq(email))
        .filter(memberships::organisation_id.eq(org.as_str()))
        .filter(memberships::role.eq(role.code()))
        .filter(memberships::revoked_at.is_null())
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// The hashes of the live sessions acting in a membership (to drop them from the token cache when
/// the membership is revoked).
pub fn session_hashes_of_membership(
    conn: &mut DbConn,
    membership: &MembershipId,
) -> QResult<Vec<String>> {
    sessions::table
        .filter(sessions::membership_id.eq(membership.as_str()))
        .filter(sessions::revoked_at.is_null())
        .select(sessions::token_hash)
        .load(conn)
}

/// Takes the row locks of every live administrator membership for the rest of the transaction, so
/// that two administrators revoking each other at the same moment cannot both pass the last-
/// administrator check (PostgreSQL `FOR UPDATE`; SQLite has one writer already). Returns how many
/// there are.
pub fn lock_live_administrators(conn: &mut DbConn) -> QResult<i64> {
    if let DbConn::Postgres(pg) = conn {
        let ids: Vec<String> = memberships::table
            .filter(memberships::role.eq(Role::Administrator.code()))
            .filter(memberships::revoked_at.is_null())
            .select(memberships::id)
            .for_update()
            .load(pg)?;
        return Ok(ids.len() as i64);
    }
    count_live_role(conn, Role::Administrator)
}

pub fn invitation_by_id(conn: &mut DbConn, id: &str) -> QResult<Option<InvitationRow>> {
    invitations::table
        .find(id)
        .select(InvitationRow::as_select())
        .first(conn)
        .optional()
}

/// Whether an open invitation of this e-mail address to this organisation and role exists.
pub fn open_invitation_exists(
    conn: &mut DbConn,
    email: &str,
    org: &OrgId,
    role: Role,
    now: DateTime<Utc>,
) -> QResult<bool> {
    let n: i64 = invitations::table
        .filter(invitations::email.eq(email))
        .filter(invitations::organisation_id.eq(org.as_str()))
        .filter(invitations::role.eq(role.code()))
        .filter(invitations::accepted_at.is_null())
        .filter(invitations::revoked_at.is_null())
        .filter(invitations::expires_at.gt(ts(now)))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// The most invitations one organisation's list shows: every open one, then the newest others.
pub const INVITATIONS_MAX: i64 = 500;

/// An organisation's invitations: the open ones first (newest first), then the accepted, revoked
/// and expired ones (newest first), at most [`INVITATIONS_MAX`] in all (served by
/// `invitations_by_org`).
pub fn invitations_of_organisation(
    conn: &mut DbConn,
    org: &OrgId,
    now: DateTime<Utc>,
) -> QResult<Vec<InvitationRow>> {
    let mut open: Vec<InvitationRow> = invitations::table
        .filter(invitations::organisation_id.eq(org.as_str()))
        .filter(invitations::accepted_at.is_null())
        .filter(invitations::revoked_at.is_null())
        .filter(invitations::expires_at.gt(ts(now)))
        .order((invitations::created_at.desc(), invitations::id.desc()))
        .limit(INVITATIONS_MAX)
        .select(InvitationRow::as_select())
        .load(conn)?;
    let left = INVITATIONS_MAX - open.len() as i64;
    if left > 0 {
        let closed: Vec<InvitationRow> = invitations::table
            .filter(invitations::organisation_id.eq(org.as_str()))
            .filter(
                invitations::accepted_at
                    .is_not_null()
                    .or(invitations::revoked_at.is_not_null())
                    .or(invitations::expires_at.le(ts(now))),
            )
            .order((invitations::created_at.desc(), invitations::id.desc()))
            .limit(left)
            .select(InvitationRow::as_select())
            .load(conn)?;
        open.extend(closed);
    }
    Ok(open)
}

/// Marks an open invitation revoked; returns whether it was open (not accepted, not revoked).
pub fn revoke_invitation(conn: &mut DbConn, id: &str, now: DateTime<Utc>) -> QResult<bool> {
    let n = diesel::update(
        invitations::table
            .find(id)
            .filter(invitations::accepted_at.is_null())
            .filter(invitations::revoked_at.is_null()),
    )
    .set(invitations::revoked_at.eq(ts(now)))
    .execute(conn)?;
    Ok(n == 1)
}

/// The most keys one company's list shows.
pub const API_KEYS_MAX: i64 = 500;

/// An organisation's API keys, newest first (served by `api_keys_by_org`).
pub fn api_keys_of_organisation(conn: &mut DbConn, org: &OrgId) -> QResult<Vec<ApiKeyRow>> {
    api_keys::table
        .filter(api_keys::organisation_id.eq(org.as_str()))
        .order((api_keys::created_at.desc(), api_keys::id.desc()))
        .limit(API_KEYS_MAX)
        .select(ApiKeyRow::as_select())
        .load(conn)
}

pub fn api_key_by_id(conn: &mut DbConn, id: &ApiKeyId) -> QResult<Option<ApiKeyRow>> {
    api_keys::table
        .find(id.as_str())
        .select(ApiKeyRow::as_select())
        .first(conn)
        .optional()
}

/// Marks a key revoked; returns whether it was live.
pub fn revoke_api_key(
    conn: &mut DbConn,
    id: &ApiKeyId,
    by: &AccountId,
    now: DateTime<Utc>,
) -> QResult<bool> {
    let n = diesel::update(
        api_keys::table
            .find(id.as_str())
            .filter(api_keys::revoked_at.is_null()),
    )
    .set((
        api_keys::revoked_at.eq(ts(now)),
        api_keys::revoked_by.eq(by.as_str()),
    ))
    .execute(conn)?;
    Ok(n == 1)
}
