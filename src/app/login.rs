//! What happens at a sign-in through an OpenID provider (inloggning): the pending attempt, then, once
//! the provider's ID token is validated, the person found or created by issuer and subject, open
//! invitations bound to a verified e-mail, bootstrap administrators, the memberships a trusted
//! provider asserts, and a cookie session (or "not invited" when the person holds no role). One write
//! transaction per sign-in, every change audited.
use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

use super::audit::{record, system_actor};
use super::auth::{hash_token, new_secret};
use super::oidc::{Authorization, SignInClaims};
use super::AppError;
use crate::config::AuthSettings;
use crate::db::identity::{self, AccountRow, MembershipRow, SessionRow};
use crate::db::login::{self as db, LoginAttemptRow};
use crate::db::repo::{self, ts};
use crate::db::DbConn;
use crate::domain::events::EventType;
use crate::domain::ids::{AccountId, OrgId};
use crate::domain::organisation::OrgNumber;
use crate::domain::role::{Actor, Credential, Role};

/// How long a sign-in may take between leaving for the provider and coming back.
pub const ATTEMPT_MINUTES: i64 = 10;

/// The prefix of cookie session tokens (bearer sessions have `sv_`, API keys `svk_`).
pub const COOKIE_TOKEN_PREFIX: &str = "svc_";

/// The CSRF token of a cookie session: derived from the session token (SHA-256 under its own
/// label), so a page can be given it again at any time without storing it; only its hash is stored.
pub fn csrf_token_for(session_token: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"samverkan-csrf\0");
    h.update(session_token.as_bytes());
    hex::encode(h.finalize())
}

/// Records a sign-in under way; returns nothing but the row being there.
pub fn record_attempt(
    conn: &mut DbConn,
    provider: &str,
    a: &Authorization,
    next: &str,
    step_up_session: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    db::purge_expired_login_attempts(conn, now)?;
    db::insert_login_attempt(
        conn,
        &LoginAttemptRow {
            state_hash: hash_token(&a.state),
            provider: provider.to_string(),
            nonce: a.nonce.clone(),
            pkce_verifier: a.pkce_verifier.clone(),
            next_path: next.to_string(),
            step_up_session: step_up_session.map(str::to_string),
            created_at: ts(now),
            expires_at: ts(now + Duration::minutes(ATTEMPT_MINUTES)),
        },
    )?;
    Ok(())
}

/// Takes the attempt a callback's `state` names: single use, and only within its ten minutes.
pub fn take_attempt(
    conn: &mut DbConn,
    state: &str,
    now: DateTime<Utc>,
) -> Result<Option<LoginAttemptRow>, AppError> {
    Ok(db::take_login_attempt(conn, &hash_token(state), now)?)
}

/// A cookie session just created: the token for the cookie, its CSRF token and who it acts as.
#[derive(Debug)]
pub struct NewSession {
    pub token: String,
    pub csrf_token: String,
    pub actor: Actor,
}

/// How a sign-in ended.
#[derive(Debug)]
pub enum SignInOutcome {
    Session(NewSession),
    /// The provider knows the person, but they hold no role here (and no open invitation for a
    /// verified e-mail): nothing to act as.
    NotInvited {
        email: Option<String>,
    },
}

/// Finishes a sign-in whose ID token was validated.
pub fn sign_in(
    conn: &mut DbConn,
    auth: &AuthSettings,
    provider: &str,
    claims: &SignInClaims,
    now: DateTime<Utc>,
) -> Result<SignInOutcome, AppError> {
    let system = system_actor();
    let email = claims.email.as_deref().map(str::to_lowercase);
    let verified = claims.email_verified && email.is_some();
    let display = claims
        .name
        .clone()
        .or_else(|| email.clone())
        .unwrap_or_else(|| claims.subject.clone());
    let (account, created) =
        match identity::account_by_subject(conn, &claims.issuer, &claims.subject)? {
            Some(a) => {
                db::update_account_at_sign_in(
                    conn,
                    &a.account_id(),
                    &display,
                    email.as_deref().unwrap_or(&a.email),
                    verified,
                    now,
                )?;
                (a, false)
            }
            None => {
                let mut row = AccountRow::new(
                    &format!("{provider}:{}", claims.subject),
                    &display,
                    email.as_deref().unwrap_or(""),
                    false,
                    now,
                );
                row.email_verified = verified;
                row.issuer = Some(claims.issuer.clone());
                row.subject = Some(claims.subject.clone());
                row.last_login_at = Some(ts(now));
                identity::insert_account(conn, &row)?;
                record(
                    conn,
                    &format!("account:{}", row.id),
                    &system,
                    EventType::AccountCreated,
                    None,
                    Some(serde_json::json!({
                        "username": row.username, "email": row.email,
                        "email_verified": verified, "issuer": claims.issuer,
                        "subject": claims.subject, "provider": provider,
                    })),
                    now,
                )?;
                (row, true)
            }
        };
    let id = account.account_id();
    let stream = format!("account:{}", account.id);
    let mut grant = |conn: &mut DbConn, org: &OrgId, role: Role, source: &str, extra| {
        if identity::live_membership(conn, &id, org, role)?.is_some() {
            return Ok::<bool, AppError>(false);
        }
        let m = MembershipRow::new(&id, org, role, source, None, now);
        identity::insert_membership(conn, &m)?;
        let mut after = serde_json::json!({
            "membership": m.id, "organisation": m.organisation_id,
            "role": m.role, "source": source, "provider": provider,
        });
        if let (Some(obj), serde_json::Value::Object(more)) = (after.as_object_mut(), extra) {
            obj.extend(more);
        }
        record(
            conn,
            &stream,
            &system,
            EventType::SignInMembershipGranted,
            None,
            Some(after),
            now,
        )?;
        Ok(true)
    };

    // Invitations bind only to an e-mail address the provider says it verified.
    if let (true, Some(e)) = (verified, email.as_deref()) {
        for inv in identity::open_invitations_for_email(conn, e, now)? {
            if identity::accept_invitation(conn, &inv.id, &id, now)? {
                grant(
                    conn,
                    &inv.org(),
                    inv.role()?,
                    "invitation",
                    serde_json::json!({ "invitation": inv.id }),
                )?;
            }
        }
        let bootstrap = auth
            .bootstrap_admins
            .iter()
            .any(|b| b.eq_ignore_ascii_case(e));
        if created && bootstrap {
            let org = bootstrap_organisation(conn, auth)?;
            grant(
                conn,
                &org,
                Role::Administrator,
                "bootstrap",
                serde_json::json!({}),
            )?;
        }
    }

    sync_claimed_memberships(conn, provider, auth, claims, &id, &stream, now, &mut grant)?;

    let Some(membership) = identity::live_memberships(conn, &id)?.into_iter().next() else {
        return Ok(SignInOutcome::NotInvited { email });
    };
    let account = identity::account_by_id(conn, &id)?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("account vanished at sign-in")))?;
    identity::purge_ended_sessions(conn, now)?;
    let (token, csrf_token, mut row) = cookie_row(auth, &id, &membership.membership_id(), now);
    row.provider = Some(provider.to_string());
    row.auth_time = Some(ts(claims.auth_time.unwrap_or(now)));
    row.acr = claims.acr.clone();
    row.amr = (!claims.amr.is_empty()).then(|| claims.amr.join(" "));
    row.id_token_hint = Some(claims.id_token.clone());
    identity::insert_session(conn, &row)?;
    let actor = membership.actor(&account, Credential::Cookie)?;
    tracing::info!(account = %account.id, provider, "signed in");
    Ok(SignInOutcome::Session(NewSession {
        token,
        csrf_token,
        actor,
    }))
}

/// A new cookie session's token, CSRF token and row (without a provider's details).
fn cookie_row(
    auth: &AuthSettings,
    account: &AccountId,
    membership: &crate::domain::ids::MembershipId,
    now: DateTime<Utc>,
) -> (String, String, SessionRow) {
    let token = new_secret(COOKIE_TOKEN_PREFIX);
    let csrf_token = csrf_token_for(&token);
    let mut row = SessionRow::bearer(
        &hash_token(&token),
        account,
        membership,
        now,
        now + Duration::hours(auth.session.absolute_hours),
    );
    row.kind = "cookie".into();
    row.idle_timeout_seconds = Some(auth.session.idle_minutes * 60);
    row.csrf_hash = Some(hash_token(&csrf_token));
    (token, csrf_token, row)
}

/// Signs a demo account in with a cookie session (local mode only: the caller checks the mode), in
/// its first role, as the sign-in page's buttons do.
pub fn sign_in_local(
    conn: &mut DbConn,
    auth: &AuthSettings,
    username: &str,
    now: DateTime<Utc>,
) -> Result<NewSession, AppError> {
    let unknown = || {
        AppError::invalid(
            "account",
            crate::msg!("unknown_account", username = username),
        )
    };
    let account = identity::account_by_username(conn, username)?
        .filter(|a| a.is_demo)
        .ok_or_else(unknown)?;
    let id = account.account_id();
    let membership = identity::live_memberships(conn, &id)?
        .into_iter()
        .next()
        .ok_or_else(unknown)?;
    identity::purge_ended_sessions(conn, now)?;
    let (token, csrf_token, mut row) = cookie_row(auth, &id, &membership.membership_id(), now);
    // A demo account's sign-in counts as the fresh login signing asks for (issue 14).
    row.auth_time = Some(ts(now));
    identity::insert_session(conn, &row)?;
    let actor = membership.actor(&account, Credential::Cookie)?;
    Ok(NewSession {
        token,
        csrf_token,
        actor,
    })
}

fn bootstrap_organisation(conn: &mut DbConn, auth: &AuthSettings) -> Result<OrgId, AppError> {
    if auth.bootstrap_organisation.is_empty() {
        return db::oldest_organisation(conn)?.ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!(
                "no organisation for a bootstrap administrator"
            ))
        });
    }
    let n = OrgNumber::parse(&auth.bootstrap_organisation)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("auth.bootstrap_organisation: {e}")))?;
    repo::organisation_by_number(conn, &n)?
        .map(|o| o.id)
        .ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!(
                "auth.bootstrap_organisation: no organisation {} is registered",
                auth.bootstrap_organisation
            ))
        })
}

/// The memberships a provider trusted with claims asserts: every asserted role (never
/// `administrator`) in every asserted organisation that is also in `trusted_organisations` and
/// registered here. A role granted from claims before and no longer asserted is revoked, with the
/// sessions acting in it.
#[allow(clippy::too_many_arguments)]
fn sync_claimed_memberships(
    conn: &mut DbConn,
    provider: &str,
    auth: &AuthSettings,
    claims: &SignInClaims,
    id: &AccountId,
    stream: &str,
    now: DateTime<Utc>,
    grant: &mut impl FnMut(&mut DbConn, &OrgId, Role, &str, serde_json::Value) -> Result<bool, AppError>,
) -> Result<(), AppError> {
    let Some(p) = auth.oidc.providers.iter().find(|p| p.name == provider) else {
        return Ok(());
    };
    if p.claims.organisations.is_empty() || p.claims.trusted_organisations.is_empty() {
        return Ok(());
    }
    let mut trusted: Vec<OrgId> = Vec::new();
    let mut wanted: Vec<(OrgId, Role)> = Vec::new();
    let roles: Vec<Role> = claims
        .roles
        .iter()
        .filter_map(|r| Role::parse(r))
        .filter(|r| *r != Role::Administrator)
        .collect();
    for number in &p.claims.trusted_organisations {
        let Ok(n) = OrgNumber::parse(number) else {
            continue;
        };
        let Some(org) = repo::organisation_by_number(conn, &n)? else {
            continue;
        };
        let asserted = claims
            .organisations
            .iter()
            .any(|c| OrgNumber::parse(c).is_ok_and(|c| c == n));
        if asserted {
            wanted.extend(roles.iter().map(|r| (org.id.clone(), *r)));
        }
        trusted.push(org.id);
    }
    for (org, role) in &wanted {
        grant(conn, org, *role, "claims", serde_json::json!({}))?;
    }
    let system = system_actor();
    for m in db::live_memberships_from(conn, id, "claims")? {
        let org = m.org();
        let role = m.role()?;
        if !trusted.contains(&org) || wanted.iter().any(|(o, r)| *o == org && *r == role) {
            continue;
        }
        if identity::revoke_membership(conn, &m.membership_id(), &system.account, now)? {
            identity::revoke_sessions_of_membership(conn, &m.membership_id(), now)?;
            record(
                conn,
                stream,
                &system,
                EventType::SignInMembershipRevoked,
                None,
                Some(serde_json::json!({
                    "membership": m.id, "organisation": m.organisation_id,
                    "role": m.role, "provider": provider,
                })),
                now,
            )?;
        }
    }
    Ok(())
}

/// Records a step-up on the session it renews: the same person must have signed in again, freshly
/// (an `auth_time` no older than the attempt, less the clock skew). Returns whether it was recorded.
pub fn step_up(
    conn: &mut DbConn,
    session_hash: &str,
    attempt_created: DateTime<Utc>,
    claims: &SignInClaims,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let Some((s, account, _)) = identity::live_session(conn, session_hash, now)? else {
        return Ok(false);
    };
    let same_person = account.issuer.as_deref() == Some(claims.issuer.as_str())
        && account.subject.as_deref() == Some(claims.subject.as_str());
    let skew = Duration::seconds(super::oidc::CLOCK_SKEW_SECONDS);
    let fresh = claims
        .auth_time
        .is_some_and(|t| t + skew >= attempt_created);
    if !same_person || !fresh || s.ends_at() <= now {
        return Ok(false);
    }
    let amr = (!claims.amr.is_empty()).then(|| claims.amr.join(" "));
    Ok(db::record_step_up(
        conn,
        session_hash,
        claims.auth_time.unwrap_or(now),
        claims.acr.as_deref(),
        amr.as_deref(),
        &claims.id_token,
    )?)
}

/// Ends a session (logout); returns its provider and ID token for RP-initiated logout.
pub fn log_out(
    conn: &mut DbConn,
    session_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<(String, Option<String>)>, AppError> {
    let row = db::session_by_hash(conn, session_hash)?;
    identity::revoke_session(conn, session_hash, now)?;
    Ok(row.and_then(|r| r.provider.map(|p| (p, r.id_token_hint))))
}

/// A cookie session as the middleware sees it.
#[derive(Debug, Clone)]
pub struct CookieSession {
    pub actor: Actor,
    pub csrf_hash: Option<String>,
    /// Whether `last_seen_at` is a minute old or more (the caller then touches the session).
    pub stale: bool,
}

/// The live, not idle cookie session behind a cookie's token.
pub fn cookie_session(
    conn: &mut DbConn,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<CookieSession>, AppError> {
    let Some((s, account, m)) = db::session_for_request(conn, &hash_token(token), now)? else {
        return Ok(None);
    };
    if s.kind != "cookie" || s.ends_at() <= now {
        return Ok(None);
    }
    let stale = crate::db::repo::utc(s.last_seen_at) + Duration::minutes(1) <= now;
    Ok(Some(CookieSession {
        actor: m.actor(&account, Credential::Cookie)?,
        csrf_hash: s.csrf_hash,
        stale,
    }))
}

/// Records a use of a cookie session (the idle timeout counts from here): at most once a minute.
pub fn touch(conn: &mut DbConn, token: &str, now: DateTime<Utc>) -> Result<(), AppError> {
    Ok(identity::touch_session(conn, &hash_token(token), now)?)
}
