//! Bearer tokens. Only a token's SHA-256 is stored; the token itself is shown once.
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::AppError;
use crate::db::{repo, DbConn};
use crate::domain::role::Actor;

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Issues a token for a demo account in local mode.
pub fn issue_local_token(
    conn: &mut DbConn,
    username: &str,
    now: DateTime<Utc>,
    ttl: Duration,
) -> Result<(String, DateTime<Utc>, Actor), AppError> {
    // Expired tokens go as new ones come, so the table holds only live tokens.
    repo::purge_expired_tokens(conn, now)?;
    let account = repo::account_by_username(conn, username)?
        .filter(|a| a.is_demo)
        .ok_or_else(|| {
            AppError::invalid(
                "account",
                crate::msg!("unknown_account", username = username),
            )
        })?;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = format!("sv_{}", hex::encode(bytes));
    let expires = now + ttl;
    repo::insert_token(conn, &hash_token(&token), &account.id, now, expires)?;
    Ok((token, expires, account.actor()?))
}

/// The actor behind a bearer token, if the token is known and not expired.
pub fn authenticate(
    conn: &mut DbConn,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<Actor>, AppError> {
    Ok(repo::actor_by_token(conn, &hash_token(token), now)?)
}
