//! The transactional outbox (utkorg): rows in, rows out. Who gets what is `app::notify`'s; sending is
//! `app::outbox`'s. Claiming is safe across instances: `FOR UPDATE SKIP LOCKED` on PostgreSQL, the
//! single writer on SQLite, and a lease so a crashed sender's rows come back.
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::repo::{ts, QResult};
use super::schema::*;
use super::DbConn;
use crate::domain::ids::{AccountId, OrgId};
use crate::domain::role::Role;

/// The states of an outbox row.
pub mod status {
    /// Waiting to be sent (or to be retried).
    pub const PENDING: &str = "pending";
    pub const SENT: &str = "sent";
    /// Failed on every attempt: an administrator looks at it.
    pub const DEAD: &str = "dead";
    /// The person has no e-mail address.
    pub const NOT_NOTIFIED: &str = "not_notified";
    /// The person turned off notices that are not deadlines.
    pub const OPTED_OUT: &str = "opted_out";
    pub const ALL: [&str; 5] = [PENDING, SENT, DEAD, NOT_NOTIFIED, OPTED_OUT];
}

/// One mail to one person.
#[derive(Debug, Clone, Queryable, Insertable, Selectable)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    pub id: String,
    pub collaboration_id: Option<String>,
    pub event: String,
    pub kind: String,
    pub dedup_key: Option<String>,
    pub recipient_account: String,
    pub recipient_name: String,
    pub recipient_org: String,
    pub recipient_role: String,
    pub recipient_email: Option<String>,
    pub language: String,
    pub data: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub lease_until: Option<NaiveDateTime>,
    pub lease_owner: Option<String>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

/// A person who holds a role in an organisation now, as mail needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub account: AccountId,
    pub name: String,
    /// Empty when the person has no address.
    pub email: String,
    pub language: String,
    pub notices: bool,
    pub org: OrgId,
    pub role: Role,
}

/// Everyone holding `role` in `org` through a live membership, by name.
pub fn people_with_role(conn: &mut DbConn, org: &OrgId, role: Role) -> QResult<Vec<Person>> {
    let rows: Vec<(String, String, String, String, bool)> = memberships::table
        .inner_join(accounts::table)
        .filter(memberships::organisation_id.eq(org.as_str()))
        .filter(memberships::role.eq(role.code()))
        .filter(memberships::revoked_at.is_null())
        .select((
            accounts::id,
            accounts::display_name,
            accounts::email,
            accounts::language,
            accounts::notices,
        ))
        .order((accounts::display_name, accounts::id))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, name, email, language, notices)| Person {
            account: AccountId::from_db(id),
            name,
            email,
            language,
            notices,
            org: org.clone(),
            role,
        })
        .collect())
}

/// Writes rows; a row whose `dedup_key` is already there is skipped (a deadline's reminder is written
/// once). Returns how many were written.
pub fn insert(conn: &mut DbConn, rows: &[OutboxRow]) -> QResult<usize> {
    if rows.is_empty() {
        return Ok(0);
    }
    match conn {
        DbConn::Postgres(c) => diesel::insert_into(outbox::table)
            .values(rows)
            .on_conflict_do_nothing()
            .execute(c),
        DbConn::Sqlite(c) => {
            let mut n = 0;
            for r in rows {
                n += diesel::insert_or_ignore_into(outbox::table)
                    .values(r)
                    .execute(c)?;
            }
            Ok(n)
        }
    }
}

/// Claims up to `limit` rows due now for `owner` until `lease_until`, counting the attempt. Run it in
/// its own write transaction and commit before sending, so another instance sees the lease.
pub fn claim(
    conn: &mut DbConn,
    owner: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> QResult<Vec<OutboxRow>> {
    super::queue::leased_claim!(
        conn,
        outbox,
        OutboxRow,
        status::PENDING,
        owner,
        now,
        lease_until,
        limit
    )
}

/// Records a delivery, if `owner` still holds the lease. Returns whether it did.
pub fn mark_sent(conn: &mut DbConn, id: &str, owner: &str, now: DateTime<Utc>) -> QResult<bool> {
    let n = diesel::update(
        outbox::table
            .filter(outbox::id.eq(id))
            .filter(outbox::lease_owner.eq(owner)),
    )
    .set((
        outbox::status.eq(status::SENT),
        outbox::sent_at.eq(Some(ts(now))),
        outbox::lease_until.eq(None::<NaiveDateTime>),
        outbox::last_error.eq(None::<String>),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Records a failed attempt: retried at `retry_at`, or dead when `None`.
pub fn mark_failed(
    conn: &mut DbConn,
    id: &str,
    owner: &str,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
) -> QResult<bool> {
    let target = outbox::table
        .filter(outbox::id.eq(id))
        .filter(outbox::lease_owner.eq(owner));
    let n = match retry_at {
        Some(at) => diesel::update(target)
            .set((
                outbox::next_attempt_at.eq(ts(at)),
                outbox::lease_until.eq(None::<NaiveDateTime>),
                outbox::last_error.eq(Some(error)),
            ))
            .execute(conn)?,
        None => diesel::update(target)
            .set((
                outbox::status.eq(status::DEAD),
                outbox::lease_until.eq(None::<NaiveDateTime>),
                outbox::last_error.eq(Some(error)),
            ))
            .execute(conn)?,
    };
    Ok(n == 1)
}

/// Every row of a collaboration, oldest first.
pub fn for_collaboration(conn: &mut DbConn, collaboration: &str) -> QResult<Vec<OutboxRow>> {
    outbox::table
        .filter(outbox::collaboration_id.eq(collaboration))
        .order((outbox::created_at, outbox::id))
        .select(OutboxRow::as_select())
        .load(conn)
}

/// Rows in one status, newest first, at most `limit`.
pub fn by_status(conn: &mut DbConn, status: &str, limit: i64) -> QResult<Vec<OutboxRow>> {
    outbox::table
        .filter(outbox::status.eq(status))
        .order((outbox::created_at.desc(), outbox::id.desc()))
        .limit(limit)
        .select(OutboxRow::as_select())
        .load(conn)
}

/// How many rows are in each status.
pub fn count_by_status(conn: &mut DbConn, status: &str) -> QResult<i64> {
    outbox::table
        .filter(outbox::status.eq(status))
        .count()
        .get_result(conn)
}

/// Turns a person's notices that are not deadlines on or off. Returns whether the person exists.
pub fn set_notices(conn: &mut DbConn, account: &AccountId, on: bool) -> QResult<bool> {
    let n = diesel::update(accounts::table.find(account.as_str()))
        .set(accounts::notices.eq(on))
        .execute(conn)?;
    Ok(n == 1)
}

/// A person's language and notice setting.
pub fn preferences(conn: &mut DbConn, account: &AccountId) -> QResult<Option<(String, bool)>> {
    accounts::table
        .find(account.as_str())
        .select((accounts::language, accounts::notices))
        .first(conn)
        .optional()
}

/// Sets a person's language (`sv` or `en`, checked by the caller).
pub fn set_language(conn: &mut DbConn, account: &AccountId, language: &str) -> QResult<bool> {
    let n = diesel::update(accounts::table.find(account.as_str()))
        .set(accounts::language.eq(language))
        .execute(conn)?;
    Ok(n == 1)
}

/// The statement the scheduler reads its cases with: the open deadlines whose first reminder is on or
/// before `today`, one range of the partial index `deadlines_open_reminder` (its plan is checked in
/// `tests/query_plans.rs`). Closed deadlines and those whose first reminder lies ahead are not read.
pub fn due_deadlines_sql(today: chrono::NaiveDate) -> super::lists::Sql {
    super::lists::Sql {
        text: "SELECT collaboration_id FROM deadlines \
               WHERE closed_at IS NULL AND first_reminder_on <= ?"
            .into(),
        binds: vec![super::lists::Bind::Date(today)],
    }
}

#[derive(diesel::QueryableByName)]
struct CaseId {
    #[diesel(sql_type = diesel::sql_types::Text)]
    collaboration_id: String,
}

/// The collaborations with an open deadline whose first reminder is due by `today`, each once.
pub fn due_deadline_cases(conn: &mut DbConn, today: chrono::NaiveDate) -> QResult<Vec<String>> {
    let mut ids: Vec<String> = super::lists::load::<CaseId>(conn, &due_deadlines_sql(today))?
        .into_iter()
        .map(|r| r.collaboration_id)
        .collect();
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// Which of these deadline keys are already in the outbox.
pub fn existing_keys(
    conn: &mut DbConn,
    keys: &[String],
) -> QResult<std::collections::BTreeSet<String>> {
    if keys.is_empty() {
        return Ok(Default::default());
    }
    let found: Vec<Option<String>> = outbox::table
        .filter(outbox::dedup_key.eq_any(keys))
        .select(outbox::dedup_key)
        .load(conn)?;
    Ok(found.into_iter().flatten().collect())
}
