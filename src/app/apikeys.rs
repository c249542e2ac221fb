//! API keys of company systems (issue 11, part 5): created by a company representative for their
//! own company, scoped (`read`, or `read_write` of the company's own collaborations), expiring,
//! shown once, stored as their SHA-256, revocable, with their last use recorded. A key is used as a
//! bearer token (`svk_…`, `auth::API_KEY_PREFIX`); its scope is enforced for every request by
//! `authz::may_use_method`.
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::audit::record;
use super::auth::{hash_token, new_secret, API_KEY_PREFIX};
use super::authz::may_manage_api_keys;
use super::identity::parse_days;
use super::{AppError, FieldError};
use crate::db::identity::{self as db, ApiKeyRow};
use crate::db::repo::{ts, utc};
use crate::db::DbConn;
use crate::domain::events::EventType;
use crate::domain::ids::ApiKeyId;
use crate::domain::role::{Actor, ApiKeyScope};
use crate::domain::text::parse_line;

/// A key's life unless its creator says otherwise, and at most.
pub const API_KEY_DAYS_DEFAULT: i64 = 90;
pub const API_KEY_DAYS_MAX: i64 = 365;
/// The longest name of a key.
pub const API_KEY_NAME_MAX: usize = 100;

/// A key as the client asks for it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiKey {
    /// What the key is for, e.g. the system that uses it; at most 100 characters.
    pub name: String,
    /// `read` (safe requests only) or `read_write`.
    pub scope: String,
    /// Days until the key expires: 1 to 365, 90 when left out.
    pub expires_in_days: Option<i64>,
}

/// A checked key request.
#[derive(Debug, Clone)]
pub struct ApiKeyRequest {
    pub name: String,
    pub scope: ApiKeyScope,
    pub valid_for: Duration,
}

impl NewApiKey {
    /// Parses every field, reporting all faults at once.
    pub fn parse(&self) -> Result<ApiKeyRequest, AppError> {
        let mut errs = Vec::new();
        let name = parse_line(&self.name, API_KEY_NAME_MAX)
            .map_err(|m| errs.push(FieldError::new("name", crate::msg!("text", reason = m))))
            .ok();
        let scope = ApiKeyScope::parse(&self.scope);
        if scope.is_none() {
            errs.push(FieldError::new(
                "scope",
                crate::msg!("one_of.api_key_scope"),
            ));
        }
        let valid_for = parse_days(
            "expires_in_days",
            self.expires_in_days,
            API_KEY_DAYS_DEFAULT,
            API_KEY_DAYS_MAX,
            &mut errs,
        );
        match (name, scope, valid_for) {
            (Some(name), Some(scope), Some(valid_for)) if errs.is_empty() => Ok(ApiKeyRequest {
                name,
                scope,
                valid_for,
            }),
            _ => Err(AppError::Invalid(errs)),
        }
    }
}

/// A key as listed: never the key itself.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApiKeyView {
    pub id: String,
    pub name: String,
    pub scope: ApiKeyScope,
    /// The company the key acts for.
    pub organisation_id: String,
    /// The account id of the representative who created it.
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// When the key was last used (exact to within the token cache's 30 seconds).
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked: bool,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKeyView {
    fn of(r: &ApiKeyRow) -> Result<ApiKeyView, AppError> {
        Ok(ApiKeyView {
            id: r.id.clone(),
            name: r.name.clone(),
            scope: r.scope()?,
            organisation_id: r.organisation_id.clone(),
            created_by: r.created_by.clone(),
            created_at: utc(r.created_at),
            expires_at: utc(r.expires_at),
            last_used_at: r.last_used_at.map(utc),
            revoked: r.revoked_at.is_some(),
            revoked_at: r.revoked_at.map(utc),
        })
    }
}

/// A new key, with the key itself: shown this once, stored only as its SHA-256.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub view: ApiKeyView,
    /// `svk_` and 64 hexadecimal digits; send it as `Authorization: Bearer <key>`. It cannot be
    /// shown again.
    pub key: String,
}

/// Creates a key for the caller's company. The secret is drawn before the transaction.
pub fn create_api_key(
    conn: &mut DbConn,
    actor: &Actor,
    req: &ApiKeyRequest,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<CreatedApiKey, AppError> {
    may_manage_api_keys(actor)?;
    let row = ApiKeyRow {
        id: ApiKeyId::new().to_string(),
        key_hash: hash_token(secret),
        organisation_id: actor.org.to_string(),
        name: req.name.clone(),
        scope: req.scope.code().to_string(),
        created_by: actor.account.to_string(),
        created_at: ts(now),
        expires_at: ts(now + req.valid_for),
        revoked_at: None,
        revoked_by: None,
        last_used_at: None,
    };
    db::insert_api_key(conn, &row)?;
    let view = ApiKeyView::of(&row)?;
    record(
        conn,
        &format!("organisation:{}", actor.org),
        actor,
        EventType::ApiKeyCreated,
        None,
        Some(serde_json::to_value(&view).map_err(anyhow::Error::from)?),
        now,
    )?;
    Ok(CreatedApiKey {
        view,
        key: secret.to_string(),
    })
}

/// A fresh key secret.
pub fn new_api_key_secret() -> String {
    new_secret(API_KEY_PREFIX)
}

/// The caller's company's keys, newest first.
pub fn list_api_keys(conn: &mut DbConn, actor: &Actor) -> Result<Vec<ApiKeyView>, AppError> {
    may_manage_api_keys(actor)?;
    db::api_keys_of_organisation(conn, &actor.org)?
        .iter()
        .map(ApiKeyView::of)
        .collect()
}

/// Revokes one of the caller's company's keys. Returns the key and its hash, which the caller
/// drops from the token cache after commit.
pub fn revoke_api_key(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    now: DateTime<Utc>,
) -> Result<(ApiKeyView, String), AppError> {
    may_manage_api_keys(actor)?;
    let not_found = || AppError::NotFound(crate::msg!("thing.api_key"));
    let id = ApiKeyId::parse(id).ok_or_else(not_found)?;
    let row = db::api_key_by_id(conn, &id)?
        .filter(|k| k.organisation_id == actor.org.as_str())
        .ok_or_else(not_found)?;
    if !db::revoke_api_key(conn, &id, &actor.account, now)? {
        return Err(AppError::Conflict(crate::msg!("conflict.api_key_revoked")));
    }
    let before = ApiKeyView::of(&row)?;
    let after_row = db::api_key_by_id(conn, &id)?.ok_or_else(not_found)?;
    let after = ApiKeyView::of(&after_row)?;
    record(
        conn,
        &format!("organisation:{}", actor.org),
        actor,
        EventType::ApiKeyRevoked,
        Some(serde_json::to_value(&before).map_err(anyhow::Error::from)?),
        Some(serde_json::to_value(&after).map_err(anyhow::Error::from)?),
        now,
    )?;
    Ok((after, row.key_hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_request_names_each_bad_field() {
        for (days, ok) in [
            (None, true),
            (Some(1), true),
            (Some(365), true),
            (Some(0), false),
            (Some(366), false),
            (Some(-5), false),
        ] {
            let r = NewApiKey {
                name: "Lims".into(),
                scope: "read".into(),
                expires_in_days: days,
            }
            .parse();
            assert_eq!(r.is_ok(), ok, "{days:?}");
        }
        let AppError::Invalid(errs) = NewApiKey {
            name: " ".into(),
            scope: "admin".into(),
            expires_in_days: None,
        }
        .parse()
        .unwrap_err() else {
            panic!("invalid")
        };
        let fields: Vec<&str> = errs.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["name", "scope"]);
    }

    #[test]
    fn a_new_key_has_its_prefix_and_256_bits() {
        let k = new_api_key_secret();
        assert!(k.starts_with("svk_"));
        assert_eq!(k.len(), 4 + 64);
        assert!(k[4..].chars().all(|c| c.is_ascii_hexdigit()));
    }
}
