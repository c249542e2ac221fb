//! Sign-in through an OpenID provider: pending login attempts, and the cookie-session and account
//! updates a sign-in makes. Rows in, plain values out; the rules live in `app::login`.
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::identity::{AccountRow, MembershipRow, SessionRow};
use super::repo::{ts, QResult};
use super::schema::*;
use super::DbConn;
use crate::domain::ids::{AccountId, OrgId};

/// A sign-in under way (inloggningsförsök): what the callback needs to finish it.
#[derive(Debug, Clone, Queryable, Insertable, Selectable)]
#[diesel(table_name = login_attempts)]
pub struct LoginAttemptRow {
    pub state_hash: String,
    pub provider: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub next_path: String,
    pub step_up_session: Option<String>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

pub fn insert_login_attempt(conn: &mut DbConn, row: &LoginAttemptRow) -> QResult<()> {
    diesel::insert_into(login_attempts::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Takes a live attempt by its state hash: returns it and deletes it, so a second callback with the
/// same state finds nothing. `None` when there is no such attempt, it expired, or another request
/// took it first.
pub fn take_login_attempt(
    conn: &mut DbConn,
    state_hash: &str,
    now: DateTime<Utc>,
) -> QResult<Option<LoginAttemptRow>> {
    let Some(row) = login_attempts::table
        .find(state_hash)
        .select(LoginAttemptRow::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let n = diesel::delete(login_attempts::table.find(state_hash)).execute(conn)?;
    if n != 1 || row.expires_at <= ts(now) {
        return Ok(None);
    }
    Ok(Some(row))
}

/// Deletes the attempts that expired by `now`; returns how many.
pub fn purge_expired_login_attempts(conn: &mut DbConn, now: DateTime<Utc>) -> QResult<usize> {
    diesel::delete(login_attempts::table.filter(login_attempts::expires_at.le(ts(now))))
        .execute(conn)
}

/// Records what the provider said about a person at this sign-in.
pub fn update_account_at_sign_in(
    conn: &mut DbConn,
    id: &AccountId,
    display_name: &str,
    email: &str,
    email_verified: bool,
    now: DateTime<Utc>,
) -> QResult<()> {
    diesel::update(accounts::table.find(id.as_str()))
        .set((
            accounts::display_name.eq(display_name),
            accounts::email.eq(email),
            accounts::email_verified.eq(email_verified),
            accounts::last_login_at.eq(ts(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Every membership of a person (live or not) with the given source, e.g. `claims`.
pub fn live_memberships_from(
    conn: &mut DbConn,
    account: &AccountId,
    source: &str,
) -> QResult<Vec<MembershipRow>> {
    memberships::table
        .filter(memberships::account_id.eq(account.as_str()))
        .filter(memberships::source.eq(source))
        .filter(memberships::revoked_at.is_null())
        .select(MembershipRow::as_select())
        .load(conn)
}

/// The oldest organisation (a bootstrap administrator's when none is configured).
pub fn oldest_organisation(conn: &mut DbConn) -> QResult<Option<OrgId>> {
    Ok(organisations::table
        .order((organisations::created_at.asc(), organisations::id.asc()))
        .select(organisations::id)
        .first::<String>(conn)
        .optional()?
        .map(OrgId::from_db))
}

/// A live cookie or bearer session with its account and active membership, for the middleware: the
/// caller checks the idle timeout ([`SessionRow::ends_at`]) and the CSRF token.
pub fn session_for_request(
    conn: &mut DbConn,
    hash: &str,
    now: DateTime<Utc>,
) -> QResult<Option<(SessionRow, AccountRow, MembershipRow)>> {
    super::identity::live_session(conn, hash, now)
}

/// Records a fresh authentication on a session (a step-up).
pub fn record_step_up(
    conn: &mut DbConn,
    hash: &str,
    auth_time: DateTime<Utc>,
    acr: Option<&str>,
    amr: Option<&str>,
    id_token_hint: &str,
) -> QResult<bool> {
    let n = diesel::update(
        sessions::table
            .find(hash)
            .filter(sessions::revoked_at.is_null()),
    )
    .set((
        sessions::auth_time.eq(ts(auth_time)),
        sessions::acr.eq(acr),
        sessions::amr.eq(amr),
        sessions::id_token_hint.eq(id_token_hint),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// A session row by its token hash, whatever its state (logout reads the provider and ID token).
pub fn session_by_hash(conn: &mut DbConn, hash: &str) -> QResult<Option<SessionRow>> {
    sessions::table
        .find(hash)
        .select(SessionRow::as_select())
        .first(conn)
        .optional()
}

/// Every live cookie session, newest first (operators' checks and tests).
pub fn live_cookie_sessions(conn: &mut DbConn) -> QResult<Vec<SessionRow>> {
    sessions::table
        .filter(sessions::kind.eq("cookie"))
        .filter(sessions::revoked_at.is_null())
        .order(sessions::created_at.desc())
        .select(SessionRow::as_select())
        .load(conn)
}
