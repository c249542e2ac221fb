//! Bearer tokens. Only a token's SHA-256 is stored; the token itself is shown once.
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::AppError;
use crate::db::{identity, DbConn};
use crate::domain::role::Actor;

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new random credential with a prefix that says what it is (`sv_` a session token, `svk_` an API
/// key), 256 bits from the operating system's generator.
pub fn new_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", hex::encode(bytes))
}

/// The prefix of API keys; anything else presented as a bearer token is a session token.
pub const API_KEY_PREFIX: &str = "svk_";

/// Issues a bearer session for a demo account in local mode, acting in its first role.
pub fn issue_local_token(
    conn: &mut DbConn,
    username: &str,
    now: DateTime<Utc>,
    ttl: Duration,
) -> Result<(String, DateTime<Utc>, Actor), AppError> {
    // Ended sessions go as new ones come, so the table holds only live ones.
    identity::purge_ended_sessions(conn, now)?;
    let unknown = || {
        AppError::invalid(
            "account",
            crate::msg!("unknown_account", username = username),
        )
    };
    let account = identity::account_by_username(conn, username)?
        .filter(|a| a.is_demo)
        .ok_or_else(unknown)?;
    let membership = identity::live_memberships(conn, &account.account_id())?
        .into_iter()
        .next()
        .ok_or_else(unknown)?;
    let token = new_secret("sv_");
    let expires = now + ttl;
    let mut row = identity::SessionRow::bearer(
        &hash_token(&token),
        &account.account_id(),
        &membership.membership_id(),
        now,
        expires,
    );
    // In local mode a demo account's token counts as its sign-in: the fresh login that signing asks
    // for (issue 14) is the token's creation.
    row.auth_time = Some(crate::db::repo::ts(now));
    identity::insert_session(conn, &row)?;
    let actor = membership.actor(&account, crate::domain::role::Credential::Token)?;
    Ok((token, expires, actor))
}

/// The actor behind a bearer token (a session token or an API key), if it is live.
pub fn authenticate(
    conn: &mut DbConn,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<Actor>, AppError> {
    Ok(lookup(
        conn,
        &hash_token(token),
        token.starts_with(API_KEY_PREFIX),
        now,
    )?
    .map(|(a, _)| a))
}

fn lookup(
    conn: &mut DbConn,
    hash: &str,
    is_api_key: bool,
    now: DateTime<Utc>,
) -> Result<Option<(Actor, DateTime<Utc>)>, AppError> {
    if is_api_key {
        let Some((key, creator)) = identity::live_api_key(conn, hash, now)? else {
            return Ok(None);
        };
        Ok(Some((
            key.actor(&creator)?,
            crate::db::repo::utc(key.expires_at),
        )))
    } else {
        Ok(identity::actor_by_session(conn, hash, now)?)
    }
}

/// Records an API key's last use. Called when a key is looked up in the database (not when the
/// cache answers), so `last_used_at` is exact to within [`TOKEN_CACHE_SECONDS`], in a write of its own.
pub fn record_api_key_use(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    if let crate::domain::role::Credential::ApiKey { key, .. } = &actor.credential {
        identity::touch_api_key(conn, key, now)?;
    }
    Ok(())
}

/// How long an authenticated token is trusted without asking the database again. A token deleted or
/// expired in the database, or an account changed, takes effect within this time (README,
/// "Authentication").
pub const TOKEN_CACHE_SECONDS: i64 = 30;

/// The most tokens kept; when full, the expired ones go, and if that is not enough, all of them.
const TOKEN_CACHE_MAX: usize = 50_000;

/// Recently authenticated tokens, by their SHA-256 (never the token itself), each with the actor and
/// until when the entry may be used: [`TOKEN_CACHE_SECONDS`] after the lookup, never past the token's
/// own expiry. Times come from the injected clock.
#[derive(Default)]
pub struct TokenCache {
    entries: std::sync::Mutex<std::collections::HashMap<String, (Actor, DateTime<Utc>)>>,
    /// How many times an entry was forgotten. A lookup notes it before it reads the database and
    /// caches its answer only if nothing was forgotten meanwhile: a lookup that read the database
    /// just before a revocation committed must not put the old actor back for 30 seconds.
    forgotten: std::sync::atomic::AtomicU64,
}

impl TokenCache {
    pub fn new() -> TokenCache {
        TokenCache::default()
    }

    fn entries(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, (Actor, DateTime<Utc>)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cached actor for a token hash, if the entry is still fresh at `now`.
    pub fn get(&self, hash: &str, now: DateTime<Utc>) -> Option<Actor> {
        let mut entries = self.entries();
        match entries.get(hash) {
            Some((actor, until)) if now < *until => Some(actor.clone()),
            Some(_) => {
                entries.remove(hash);
                None
            }
            None => None,
        }
    }

    /// Drops the entry of a token hash, so that the next request with that token asks the database:
    /// called after a change that ends or alters the session or key (a switched or revoked role, a
    /// revoked key) has committed, so it takes effect at once in this process.
    pub fn forget(&self, hash: &str) {
        let mut entries = self.entries();
        self.forgotten
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        entries.remove(hash);
    }

    /// A mark to take before reading the database for a lookup (see [`TokenCache::put_unless_forgotten`]).
    pub fn mark(&self) -> u64 {
        self.forgotten.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Like [`TokenCache::put`], unless an entry was forgotten since `mark` was taken (then the
    /// answer is used for this request only).
    pub fn put_unless_forgotten(
        &self,
        mark: u64,
        hash: String,
        actor: Actor,
        expires: DateTime<Utc>,
        now: DateTime<Utc>,
    ) {
        let entries = self.entries();
        if self.forgotten.load(std::sync::atomic::Ordering::SeqCst) != mark {
            return;
        }
        self.put_locked(entries, hash, actor, expires, now);
    }

    /// Remembers a lookup made at `now` of a token that expires at `expires`.
    pub fn put(&self, hash: String, actor: Actor, expires: DateTime<Utc>, now: DateTime<Utc>) {
        let entries = self.entries();
        self.put_locked(entries, hash, actor, expires, now);
    }

    fn put_locked(
        &self,
        mut entries: std::sync::MutexGuard<
            '_,
            std::collections::HashMap<String, (Actor, DateTime<Utc>)>,
        >,
        hash: String,
        actor: Actor,
        expires: DateTime<Utc>,
        now: DateTime<Utc>,
    ) {
        let until = (now + Duration::seconds(TOKEN_CACHE_SECONDS)).min(expires);
        if entries.len() >= TOKEN_CACHE_MAX {
            entries.retain(|_, (_, u)| now < *u);
            if entries.len() >= TOKEN_CACHE_MAX {
                entries.clear();
            }
        }
        entries.insert(hash, (actor, until));
    }
}

/// The SHA-256 of the credential a request was authenticated with (a session token or an API key),
/// put in the request's extensions beside the actor by the authentication middleware, so that a
/// command on the caller's own session (switching its role) knows which session it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialHash(pub String);

/// A bearer token's hash, and its actor when a lookup within the last [`TOKEN_CACHE_SECONDS`] found
/// it; otherwise the caller asks [`authenticate_hash`] (blocking work, run where the caller decides).
pub fn cached_actor(
    cache: &TokenCache,
    token: &str,
    now: DateTime<Utc>,
) -> (String, Option<Actor>) {
    let hash = hash_token(token);
    let hit = cache.get(&hash, now);
    (hash, hit)
}

/// Looks a token hash up in the database and caches what it finds.
pub fn authenticate_hash(
    conn: &mut DbConn,
    cache: &TokenCache,
    hash: &str,
    is_api_key: bool,
    now: DateTime<Utc>,
) -> Result<Option<Actor>, AppError> {
    // Before the first read of the lookup (SQLite's read snapshot starts there, PostgreSQL's
    // statement snapshot too).
    let mark = cache.mark();
    Ok(match lookup(conn, hash, is_api_key, now)? {
        Some((actor, expires)) => {
            cache.put_unless_forgotten(mark, hash.to_string(), actor.clone(), expires, now);
            Some(actor)
        }
        None => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{AccountId, OrgId};
    use crate::domain::role::Role;
    use chrono::TimeZone;

    fn actor() -> Actor {
        Actor::new(AccountId::new(), "x", OrgId::new(), Role::CpuaLegal)
    }

    #[test]
    fn a_cached_token_is_trusted_for_thirty_seconds_and_never_past_its_expiry() {
        let cache = TokenCache::new();
        let now = Utc.with_ymd_and_hms(2026, 9, 1, 9, 0, 0).unwrap();
        cache.put("h".into(), actor(), now + Duration::hours(1), now);
        assert!(cache.get("h", now + Duration::seconds(29)).is_some());
        assert!(cache.get("h", now + Duration::seconds(30)).is_none());
        cache.put("e".into(), actor(), now + Duration::seconds(5), now);
        assert!(cache.get("e", now + Duration::seconds(4)).is_some());
        assert!(cache.get("e", now + Duration::seconds(5)).is_none());
    }

    #[test]
    fn a_forgotten_entry_is_not_served_again() {
        let cache = TokenCache::new();
        let now = Utc.with_ymd_and_hms(2026, 9, 1, 9, 0, 0).unwrap();
        cache.put("h".into(), actor(), now + Duration::hours(1), now);
        cache.put("k".into(), actor(), now + Duration::hours(1), now);
        cache.forget("h");
        assert!(cache.get("h", now).is_none());
        assert!(cache.get("k", now).is_some());
    }

    #[test]
    fn a_lookup_that_raced_a_forget_is_not_cached() {
        let cache = TokenCache::new();
        let now = Utc.with_ymd_and_hms(2026, 9, 1, 9, 0, 0).unwrap();
        // The lookup reads the database (the old actor), then the revocation commits and forgets.
        let mark = cache.mark();
        cache.forget("h");
        cache.put_unless_forgotten(mark, "h".into(), actor(), now + Duration::hours(1), now);
        assert!(cache.get("h", now).is_none());
        // A lookup after the forget is cached as usual.
        let mark = cache.mark();
        cache.put_unless_forgotten(mark, "h".into(), actor(), now + Duration::hours(1), now);
        assert!(cache.get("h", now).is_some());
    }
}
