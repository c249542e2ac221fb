//! The signing providers' webhook events acted on (issue 14): the idempotency keys. Rows in, rows out.
use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::repo::QResult;
use super::schema::webhook_events as we;
use super::DbConn;

/// One event a provider delivered and samverkan acted on.
#[derive(Debug, Clone, Queryable, Insertable, Selectable)]
#[diesel(table_name = we)]
pub struct WebhookEventRow {
    pub provider: String,
    pub event_id: String,
    pub event_type: String,
    pub collaboration_id: String,
    pub agreement_version: i32,
    pub envelope_id: String,
    pub outcome: String,
    pub body_sha256: String,
    pub sent_at: NaiveDateTime,
    pub received_at: NaiveDateTime,
}

/// The event already acted on under this provider and `webhook-id`, if any.
pub fn find(conn: &mut DbConn, provider: &str, event_id: &str) -> QResult<Option<WebhookEventRow>> {
    we::table
        .find((provider, event_id))
        .select(WebhookEventRow::as_select())
        .first(conn)
        .optional()
}

/// Records an event; `false` when its key is already taken (a concurrent delivery of the same event
/// won: the caller's transaction rolls back and the delivery is answered as a replay).
pub fn insert(conn: &mut DbConn, row: &WebhookEventRow) -> QResult<bool> {
    let n = match conn {
        DbConn::Postgres(c) => diesel::insert_into(we::table)
            .values(row)
            .on_conflict_do_nothing()
            .execute(c)?,
        DbConn::Sqlite(c) => diesel::insert_or_ignore_into(we::table)
            .values(row)
            .execute(c)?,
    };
    Ok(n == 1)
}

/// The envelope an event acted on and its status after it.
pub fn set_outcome(
    conn: &mut DbConn,
    provider: &str,
    event_id: &str,
    envelope: &str,
    outcome: &str,
) -> QResult<()> {
    diesel::update(we::table.find((provider, event_id)))
        .set((we::envelope_id.eq(envelope), we::outcome.eq(outcome)))
        .execute(conn)?;
    Ok(())
}
