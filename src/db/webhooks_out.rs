//! Outbound events (issue 16, item 8): webhook subscriptions and their delivery rows. Who gets what is
//! `app::webhooks_out`'s; this module only reads and writes. Claiming is safe across instances, like the
//! mail outbox: `FOR UPDATE SKIP LOCKED` on PostgreSQL, the single writer on SQLite, and a lease so a
//! crashed sender's rows come back.
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::repo::{ts, QResult};
use super::schema::*;
use super::DbConn;

/// The states of a delivery row.
pub mod status {
    /// Waiting to be sent (or to be retried).
    pub const PENDING: &str = "pending";
    /// The receiver answered 2xx.
    pub const DELIVERED: &str = "delivered";
    /// Failed on every attempt.
    pub const DEAD: &str = "dead";
    /// Its subscription was deleted before it was delivered.
    pub const CANCELLED: &str = "cancelled";
}

/// One subscription (prenumeration) of an organisation.
#[derive(Debug, Clone, Queryable, Insertable, Selectable)]
#[diesel(table_name = webhook_subscriptions)]
pub struct SubscriptionRow {
    pub id: String,
    pub organisation_id: String,
    pub url: String,
    pub event_types: String,
    pub description: String,
    pub secret: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
}

/// One event for one subscription (leverans).
#[derive(Debug, Clone, Queryable, Insertable, Selectable)]
#[diesel(table_name = webhook_deliveries)]
pub struct DeliveryRow {
    pub id: String,
    pub subscription_id: String,
    pub event_id: String,
    pub event_type: String,
    pub collaboration_id: Option<String>,
    pub payload: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub lease_until: Option<NaiveDateTime>,
    pub lease_owner: Option<String>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub delivered_at: Option<NaiveDateTime>,
}

pub fn insert_subscription(conn: &mut DbConn, row: &SubscriptionRow) -> QResult<()> {
    diesel::insert_into(webhook_subscriptions::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// The live subscriptions of the given organisations.
pub fn live_for_orgs(conn: &mut DbConn, orgs: &[String]) -> QResult<Vec<SubscriptionRow>> {
    if orgs.is_empty() {
        return Ok(vec![]);
    }
    webhook_subscriptions::table
        .filter(webhook_subscriptions::organisation_id.eq_any(orgs))
        .filter(webhook_subscriptions::deleted_at.is_null())
        .order((webhook_subscriptions::created_at, webhook_subscriptions::id))
        .select(SubscriptionRow::as_select())
        .load(conn)
}

/// The live subscription `id` of `org`, if there is one.
pub fn live(conn: &mut DbConn, org: &str, id: &str) -> QResult<Option<SubscriptionRow>> {
    webhook_subscriptions::table
        .filter(webhook_subscriptions::id.eq(id))
        .filter(webhook_subscriptions::organisation_id.eq(org))
        .filter(webhook_subscriptions::deleted_at.is_null())
        .select(SubscriptionRow::as_select())
        .first(conn)
        .optional()
}

/// A subscription by id, deleted or not (the worker signs with its secret).
pub fn by_id(conn: &mut DbConn, id: &str) -> QResult<Option<SubscriptionRow>> {
    webhook_subscriptions::table
        .find(id)
        .select(SubscriptionRow::as_select())
        .first(conn)
        .optional()
}

/// Marks a subscription deleted and cancels its pending deliveries. Returns whether it was live.
pub fn delete(conn: &mut DbConn, org: &str, id: &str, now: DateTime<Utc>) -> QResult<bool> {
    let n = diesel::update(
        webhook_subscriptions::table
            .filter(webhook_subscriptions::id.eq(id))
            .filter(webhook_subscriptions::organisation_id.eq(org))
            .filter(webhook_subscriptions::deleted_at.is_null()),
    )
    .set(webhook_subscriptions::deleted_at.eq(Some(ts(now))))
    .execute(conn)?;
    if n == 1 {
        diesel::update(
            webhook_deliveries::table
                .filter(webhook_deliveries::subscription_id.eq(id))
                .filter(webhook_deliveries::status.eq(status::PENDING)),
        )
        .set((
            webhook_deliveries::status.eq(status::CANCELLED),
            webhook_deliveries::lease_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    }
    Ok(n == 1)
}

/// The live subscriptions of one organisation, oldest first.
pub fn list(conn: &mut DbConn, org: &str) -> QResult<Vec<SubscriptionRow>> {
    live_for_orgs(conn, &[org.to_string()])
}

pub fn insert_deliveries(conn: &mut DbConn, rows: &[DeliveryRow]) -> QResult<usize> {
    let mut n = 0;
    for r in rows {
        n += diesel::insert_into(webhook_deliveries::table)
            .values(r)
            .execute(conn)?;
    }
    Ok(n)
}

/// The deliveries of one subscription, newest first, at most `limit`.
pub fn deliveries(conn: &mut DbConn, subscription: &str, limit: i64) -> QResult<Vec<DeliveryRow>> {
    webhook_deliveries::table
        .filter(webhook_deliveries::subscription_id.eq(subscription))
        .order((
            webhook_deliveries::created_at.desc(),
            webhook_deliveries::id.desc(),
        ))
        .limit(limit)
        .select(DeliveryRow::as_select())
        .load(conn)
}

/// Whether any delivery is due now (a read, so an idle worker takes no write lock).
pub fn any_due(conn: &mut DbConn, now: DateTime<Utc>) -> QResult<bool> {
    let now = ts(now);
    let n: i64 = webhook_deliveries::table
        .filter(webhook_deliveries::status.eq(status::PENDING))
        .filter(webhook_deliveries::next_attempt_at.le(now))
        .filter(
            webhook_deliveries::lease_until
                .is_null()
                .or(webhook_deliveries::lease_until.lt(now)),
        )
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Claims up to `limit` deliveries due now for `owner` until `lease_until`, counting the attempt. Run
/// it in its own write transaction and commit before sending, so another instance sees the lease.
pub fn claim(
    conn: &mut DbConn,
    owner: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> QResult<Vec<DeliveryRow>> {
    super::queue::leased_claim!(
        conn,
        webhook_deliveries,
        DeliveryRow,
        status::PENDING,
        owner,
        now,
        lease_until,
        limit
    )
}

/// Records a delivery, if `owner` still holds the lease. Returns whether it did.
pub fn mark_delivered(
    conn: &mut DbConn,
    id: &str,
    owner: &str,
    http_status: i32,
    now: DateTime<Utc>,
) -> QResult<bool> {
    let n = diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::id.eq(id))
            .filter(webhook_deliveries::lease_owner.eq(owner))
            .filter(webhook_deliveries::status.eq(status::PENDING)),
    )
    .set((
        webhook_deliveries::status.eq(status::DELIVERED),
        webhook_deliveries::delivered_at.eq(Some(ts(now))),
        webhook_deliveries::lease_until.eq(None::<NaiveDateTime>),
        webhook_deliveries::last_status.eq(Some(http_status)),
        webhook_deliveries::last_error.eq(None::<String>),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Records a failed attempt: retried at `retry_at`, or dead when `None`.
pub fn mark_failed(
    conn: &mut DbConn,
    id: &str,
    owner: &str,
    http_status: Option<i32>,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
) -> QResult<bool> {
    let target = webhook_deliveries::table
        .filter(webhook_deliveries::id.eq(id))
        .filter(webhook_deliveries::lease_owner.eq(owner))
        .filter(webhook_deliveries::status.eq(status::PENDING));
    let n = match retry_at {
        Some(at) => diesel::update(target)
            .set((
                webhook_deliveries::next_attempt_at.eq(ts(at)),
                webhook_deliveries::lease_until.eq(None::<NaiveDateTime>),
                webhook_deliveries::last_status.eq(http_status),
                webhook_deliveries::last_error.eq(Some(error)),
            ))
            .execute(conn)?,
        None => diesel::update(target)
            .set((
                webhook_deliveries::status.eq(status::DEAD),
                webhook_deliveries::lease_until.eq(None::<NaiveDateTime>),
                webhook_deliveries::last_status.eq(http_status),
                webhook_deliveries::last_error.eq(Some(error)),
            ))
            .execute(conn)?,
    };
    Ok(n == 1)
}
