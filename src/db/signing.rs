//! Signing envelopes, their signers and the append-only evidence (issue 14): rows in, rows out. The
//! rules live in `domain::signing` and `app::signing`.
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::repo::{ts, QResult};
use super::schema::{signing_envelopes as env, signing_evidence as ev, signing_signers as sg};
use super::DbConn;

/// One envelope (kuvert) of one agreement version.
#[derive(Debug, Clone, Queryable, Insertable, Selectable)]
#[diesel(table_name = env)]
pub struct EnvelopeRow {
    pub id: String,
    pub collaboration_id: String,
    /// 1, 2, … per collaboration, in the order the envelopes were drawn.
    pub seq: i32,
    pub version: i32,
    pub digest: String,
    pub status: String,
    pub order_mode: String,
    pub expires_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub created_by: String,
    pub sent_at: Option<NaiveDateTime>,
    pub completed_at: Option<NaiveDateTime>,
    pub ended_at: Option<NaiveDateTime>,
    pub end_reason: Option<String>,
    pub decline_reason: Option<String>,
    pub reminders_sent: i32,
    pub executed_pdf: Option<Vec<u8>>,
    pub executed_pdf_sha256: Option<String>,
    /// The SHA-256 of the seal certificate (DER) the executed PDF was sealed with.
    pub executed_seal_certificate: Option<String>,
}

/// One signer slot: a party's signatory, in a turn group.
#[derive(Debug, Clone, Queryable, Insertable, Selectable)]
#[diesel(table_name = sg)]
pub struct SignerRow {
    pub id: String,
    pub envelope_id: String,
    pub position: i32,
    pub party_role: String,
    pub organisation_id: String,
    pub organisation_name: String,
    pub capacity: String,
    pub turn_group: i32,
    pub status: String,
    pub signed_at: Option<NaiveDateTime>,
    pub signed_by: Option<String>,
    /// The named signatory's full name, when the slot names one.
    pub signer_name: Option<String>,
    /// The named signatory's e-mail (lower-cased): only the person with it signs the slot.
    pub signer_email: Option<String>,
}

/// The evidence of one signature, never changed once written.
#[derive(Debug, Clone, Queryable, Insertable, Selectable)]
#[diesel(table_name = ev)]
pub struct EvidenceRow {
    pub id: String,
    pub envelope_id: String,
    pub signer_id: String,
    pub collaboration_id: String,
    pub version: i32,
    pub method: String,
    pub level: String,
    pub provider: String,
    pub subject: String,
    pub auth_time: Option<NaiveDateTime>,
    pub acr: Option<String>,
    pub amr: Option<String>,
    pub account_id: String,
    pub name: String,
    pub email: String,
    pub organisation_id: String,
    pub organisation_name: String,
    pub capacity: String,
    pub typed_name: String,
    pub consent_version: String,
    pub consent_language: String,
    pub consent_sha256: String,
    pub digest: String,
    pub server_time: NaiveDateTime,
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
}

/// The next envelope number of a collaboration (the caller holds the collaboration's lock).
pub fn next_seq(conn: &mut DbConn, collaboration: &str) -> QResult<i32> {
    let last: Option<i32> = env::table
        .filter(env::collaboration_id.eq(collaboration))
        .select(diesel::dsl::max(env::seq))
        .first(conn)?;
    Ok(last.unwrap_or(0) + 1)
}

pub fn insert_envelope(conn: &mut DbConn, row: &EnvelopeRow) -> QResult<()> {
    diesel::insert_into(env::table).values(row).execute(conn)?;
    Ok(())
}

pub fn insert_signers(conn: &mut DbConn, rows: &[SignerRow]) -> QResult<()> {
    for r in rows {
        diesel::insert_into(sg::table).values(r).execute(conn)?;
    }
    Ok(())
}

/// The signers of a draft are replaced as a whole while it is a draft.
pub fn delete_signers(conn: &mut DbConn, envelope: &str) -> QResult<()> {
    diesel::delete(sg::table.filter(sg::envelope_id.eq(envelope))).execute(conn)?;
    Ok(())
}

pub fn insert_evidence(conn: &mut DbConn, row: &EvidenceRow) -> QResult<()> {
    diesel::insert_into(ev::table).values(row).execute(conn)?;
    Ok(())
}

/// The collaboration's open envelope (draft or sent), if any.
pub fn open_envelope(conn: &mut DbConn, collaboration: &str) -> QResult<Option<EnvelopeRow>> {
    env::table
        .filter(env::collaboration_id.eq(collaboration))
        .filter(env::status.eq_any(["draft", "sent"]))
        .select(EnvelopeRow::as_select())
        .first(conn)
        .optional()
}

/// The newest envelope of one version, whatever its status.
pub fn latest_envelope(
    conn: &mut DbConn,
    collaboration: &str,
    version: i32,
) -> QResult<Option<EnvelopeRow>> {
    env::table
        .filter(env::collaboration_id.eq(collaboration))
        .filter(env::version.eq(version))
        .order(env::seq.desc())
        .select(EnvelopeRow::as_select())
        .first(conn)
        .optional()
}

/// Every envelope of one version, oldest first (the history: voided, declined, expired ones stay).
pub fn envelopes_of_version(
    conn: &mut DbConn,
    collaboration: &str,
    version: i32,
) -> QResult<Vec<EnvelopeRow>> {
    env::table
        .filter(env::collaboration_id.eq(collaboration))
        .filter(env::version.eq(version))
        .order(env::seq.asc())
        .select(EnvelopeRow::as_select())
        .load(conn)
}

pub fn envelope(conn: &mut DbConn, id: &str) -> QResult<Option<EnvelopeRow>> {
    env::table
        .find(id)
        .select(EnvelopeRow::as_select())
        .first(conn)
        .optional()
}

pub fn signers(conn: &mut DbConn, envelope: &str) -> QResult<Vec<SignerRow>> {
    sg::table
        .filter(sg::envelope_id.eq(envelope))
        .order(sg::position.asc())
        .select(SignerRow::as_select())
        .load(conn)
}

pub fn evidence(conn: &mut DbConn, envelope: &str) -> QResult<Vec<EvidenceRow>> {
    ev::table
        .filter(ev::envelope_id.eq(envelope))
        .order((ev::server_time.asc(), ev::id.asc()))
        .select(EvidenceRow::as_select())
        .load(conn)
}

/// Sent envelopes, for the scheduler (expiry and reminders), by expiry.
pub fn sent_envelopes(conn: &mut DbConn) -> QResult<Vec<(String, String)>> {
    env::table
        .filter(env::status.eq("sent"))
        .order((env::expires_at.asc(), env::id.asc()))
        .select((env::id, env::collaboration_id))
        .load(conn)
}

/// A draft's order mode changes.
pub fn set_order(conn: &mut DbConn, id: &str, order: &str) -> QResult<()> {
    diesel::update(env::table.find(id))
        .set(env::order_mode.eq(order))
        .execute(conn)?;
    Ok(())
}

/// A draft is sent: its clock to expiry starts now.
pub fn mark_sent(
    conn: &mut DbConn,
    id: &str,
    now: DateTime<Utc>,
    expires: DateTime<Utc>,
) -> QResult<()> {
    diesel::update(env::table.find(id))
        .set((
            env::status.eq("sent"),
            env::sent_at.eq(Some(ts(now))),
            env::expires_at.eq(ts(expires)),
        ))
        .execute(conn)?;
    Ok(())
}

/// An open envelope ends: declined, expired or voided, with why. Only an open envelope changes;
/// returns whether it did.
pub fn end(
    conn: &mut DbConn,
    id: &str,
    status: &str,
    reason: &str,
    decline_reason: Option<&str>,
    now: DateTime<Utc>,
) -> QResult<bool> {
    let n = diesel::update(
        env::table
            .find(id)
            .filter(env::status.eq_any(["draft", "sent"])),
    )
    .set((
        env::status.eq(status),
        env::ended_at.eq(Some(ts(now))),
        env::end_reason.eq(Some(reason)),
        env::decline_reason.eq(decline_reason),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Stores the sealed executed agreement of a completed envelope with the fingerprint of the seal
/// certificate it was sealed with (once: a written one stays).
pub fn set_executed_pdf(
    conn: &mut DbConn,
    id: &str,
    pdf: &[u8],
    sha256: &str,
    certificate_sha256: &str,
) -> QResult<bool> {
    let n = diesel::update(
        env::table
            .find(id)
            .filter(env::status.eq("completed"))
            .filter(env::executed_pdf.is_null()),
    )
    .set((
        env::executed_pdf.eq(Some(pdf)),
        env::executed_pdf_sha256.eq(Some(sha256)),
        env::executed_seal_certificate.eq(Some(certificate_sha256)),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn complete(conn: &mut DbConn, id: &str, now: DateTime<Utc>) -> QResult<()> {
    diesel::update(env::table.find(id).filter(env::status.eq("sent")))
        .set((
            env::status.eq("completed"),
            env::completed_at.eq(Some(ts(now))),
            env::ended_at.eq(Some(ts(now))),
        ))
        .execute(conn)?;
    Ok(())
}

/// One signer slot signed (or declined). Only a pending slot changes; returns whether it did.
pub fn mark_signer(
    conn: &mut DbConn,
    signer: &str,
    status: &str,
    by: &str,
    now: DateTime<Utc>,
) -> QResult<bool> {
    let n = diesel::update(sg::table.find(signer).filter(sg::status.eq("pending")))
        .set((
            sg::status.eq(status),
            sg::signed_at.eq(Some(ts(now))),
            sg::signed_by.eq(Some(by)),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

pub fn set_reminders(conn: &mut DbConn, id: &str, n: i32) -> QResult<()> {
    diesel::update(env::table.find(id))
        .set(env::reminders_sent.eq(n))
        .execute(conn)?;
    Ok(())
}

/// Marks the other pending signers of a party whose rule is "one of several" as no longer needed
/// once one of them signed. Returns how many it marked.
pub fn release_others(conn: &mut DbConn, envelope: &str, organisation: &str) -> QResult<usize> {
    diesel::update(
        sg::table
            .filter(sg::envelope_id.eq(envelope))
            .filter(sg::organisation_id.eq(organisation))
            .filter(sg::status.eq("pending")),
    )
    .set(sg::status.eq(SIGNER_NOT_NEEDED))
    .execute(conn)
}

/// The status of a signer whose party's rule ("one of several") another signatory already met.
pub const SIGNER_NOT_NEEDED: &str = "not_needed";

/// Each party's rule of an envelope (`all` or `any`), by organisation id; a party without a row
/// signs jointly (`all`).
pub fn party_rules(
    conn: &mut DbConn,
    envelope: &str,
) -> QResult<std::collections::BTreeMap<String, String>> {
    use super::schema::signing_party_rules as pr;
    Ok(pr::table
        .filter(pr::envelope_id.eq(envelope))
        .select((pr::organisation_id, pr::rule))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}

/// Replaces an envelope's party rules (a draft's signers changed, or a new envelope).
pub fn set_party_rules(
    conn: &mut DbConn,
    envelope: &str,
    rules: &[(String, String)],
) -> QResult<()> {
    use super::schema::signing_party_rules as pr;
    diesel::delete(pr::table.filter(pr::envelope_id.eq(envelope))).execute(conn)?;
    for (org, rule) in rules {
        diesel::insert_into(pr::table)
            .values((
                pr::envelope_id.eq(envelope),
                pr::organisation_id.eq(org.as_str()),
                pr::rule.eq(rule.as_str()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The envelope expiry (days) an organisation set, if it set one.
pub fn policy_expiry_days(conn: &mut DbConn, organisation: &str) -> QResult<Option<i32>> {
    use super::schema::signing_policies as sp;
    sp::table
        .find(organisation)
        .select(sp::expiry_days)
        .first(conn)
        .optional()
}

/// Sets (or replaces) an organisation's envelope expiry.
pub fn set_policy_expiry_days(
    conn: &mut DbConn,
    organisation: &str,
    days: i32,
    by: &str,
    now: DateTime<Utc>,
) -> QResult<()> {
    use super::schema::signing_policies as sp;
    let n = diesel::update(sp::table.find(organisation))
        .set((
            sp::expiry_days.eq(days),
            sp::updated_at.eq(ts(now)),
            sp::updated_by.eq(by),
        ))
        .execute(conn)?;
    if n == 0 {
        diesel::insert_into(sp::table)
            .values((
                sp::organisation_id.eq(organisation),
                sp::expiry_days.eq(days),
                sp::updated_at.eq(ts(now)),
                sp::updated_by.eq(by),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// A completed envelope's seal job (issue 14, "Executed agreement": "a job … seals it"): written in
/// the completion's transaction, claimed by the seal worker under a lease.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = super::schema::signing_seal_jobs)]
pub struct SealJobRow {
    /// The envelope's id.
    pub id: String,
    pub collaboration_id: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub lease_until: Option<NaiveDateTime>,
    pub lease_owner: Option<String>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub done_at: Option<NaiveDateTime>,
}

/// The statuses of a seal job.
pub mod seal_status {
    pub const PENDING: &str = "pending";
    pub const DONE: &str = "done";
    pub const DEAD: &str = "dead";
}

/// The durable "seal pending" marker of a completed envelope, due at once.
pub fn insert_seal_job(
    conn: &mut DbConn,
    envelope: &str,
    collaboration: &str,
    now: DateTime<Utc>,
) -> QResult<()> {
    use super::schema::signing_seal_jobs as sj;
    diesel::insert_into(sj::table)
        .values((
            sj::id.eq(envelope),
            sj::collaboration_id.eq(collaboration),
            sj::status.eq(seal_status::PENDING),
            sj::attempts.eq(0),
            sj::next_attempt_at.eq(ts(now)),
            sj::created_at.eq(ts(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Claims up to `limit` due seal jobs for `owner` until `lease_until` (see `queue::leased_claim`):
/// run it in its own write transaction and commit before sealing.
pub fn claim_seal_jobs(
    conn: &mut DbConn,
    owner: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> QResult<Vec<SealJobRow>> {
    use super::schema::signing_seal_jobs;
    super::queue::leased_claim!(
        conn,
        signing_seal_jobs,
        SealJobRow,
        seal_status::PENDING,
        owner,
        now,
        lease_until,
        limit
    )
}

/// Records a seal job done, if `owner` still holds its lease. Returns whether it did.
pub fn seal_job_done(
    conn: &mut DbConn,
    id: &str,
    owner: &str,
    now: DateTime<Utc>,
) -> QResult<bool> {
    use super::schema::signing_seal_jobs as sj;
    let n = diesel::update(
        sj::table
            .filter(sj::id.eq(id))
            .filter(sj::status.eq(seal_status::PENDING))
            .filter(sj::lease_owner.eq(owner)),
    )
    .set((
        sj::status.eq(seal_status::DONE),
        sj::done_at.eq(Some(ts(now))),
        sj::lease_until.eq(None::<NaiveDateTime>),
        sj::last_error.eq(None::<String>),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Records a failed attempt: tried again at `retry_at`, or dead when `None`.
pub fn seal_job_failed(
    conn: &mut DbConn,
    id: &str,
    owner: &str,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
) -> QResult<bool> {
    use super::schema::signing_seal_jobs as sj;
    let target = sj::table
        .filter(sj::id.eq(id))
        .filter(sj::status.eq(seal_status::PENDING))
        .filter(sj::lease_owner.eq(owner));
    let n = match retry_at {
        Some(at) => diesel::update(target)
            .set((
                sj::next_attempt_at.eq(ts(at)),
                sj::lease_until.eq(None::<NaiveDateTime>),
                sj::last_error.eq(Some(error)),
            ))
            .execute(conn)?,
        None => diesel::update(target)
            .set((
                sj::status.eq(seal_status::DEAD),
                sj::lease_until.eq(None::<NaiveDateTime>),
                sj::last_error.eq(Some(error)),
            ))
            .execute(conn)?,
    };
    Ok(n == 1)
}

/// One envelope's seal job, if it has one.
pub fn seal_job(conn: &mut DbConn, envelope: &str) -> QResult<Option<SealJobRow>> {
    use super::schema::signing_seal_jobs as sj;
    sj::table
        .find(envelope)
        .select(SealJobRow::as_select())
        .first(conn)
        .optional()
}

/// Records a seal certificate this installation seals with (once; a known one stays as it was).
pub fn record_seal_certificate(
    conn: &mut DbConn,
    sha256: &str,
    der: &[u8],
    organisation: &str,
    now: DateTime<Utc>,
) -> QResult<()> {
    use super::schema::signing_seal_certificates as sc;
    let row = (
        sc::sha256.eq(sha256),
        sc::certificate.eq(der),
        sc::organisation.eq(organisation),
        sc::first_used_at.eq(ts(now)),
    );
    let insert = diesel::insert_into(sc::table).values(row);
    match conn {
        DbConn::Postgres(c) => insert.on_conflict_do_nothing().execute(c)?,
        DbConn::Sqlite(c) => insert.on_conflict_do_nothing().execute(c)?,
    };
    Ok(())
}

/// A known seal certificate's DER by its SHA-256.
pub fn seal_certificate(conn: &mut DbConn, sha256: &str) -> QResult<Option<Vec<u8>>> {
    use super::schema::signing_seal_certificates as sc;
    sc::table
        .find(sha256)
        .select(sc::certificate)
        .first(conn)
        .optional()
}

/// Every known seal certificate (SHA-256, DER), oldest first.
pub fn seal_certificates(conn: &mut DbConn) -> QResult<Vec<(String, Vec<u8>)>> {
    use super::schema::signing_seal_certificates as sc;
    sc::table
        .order((sc::first_used_at.asc(), sc::sha256.asc()))
        .select((sc::sha256, sc::certificate))
        .load(conn)
}
