//! Repositories: rows in, domain types out. No rules live here.
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

use super::schema::*;
use super::DbConn;
use crate::domain::audit::{AuditEvent, Visibility};
use crate::domain::collaboration::Collaboration;
use crate::domain::ids::{AccountId, CollaborationId, OrgId, RegisterId};
use crate::domain::organisation::{Address, OrgKind, OrgNumber, Organisation, VatNumber};
use crate::domain::register::{CpuaAssignment, Delegate, Delegation, Register};

pub type QResult<T> = Result<T, diesel::result::Error>;

fn corrupt(what: &str) -> diesel::result::Error {
    diesel::result::Error::DeserializationError(format!("stored {what} is not valid").into())
}

pub fn ts(t: DateTime<Utc>) -> NaiveDateTime {
    crate::domain::audit::truncate_micros(t).naive_utc()
}

pub fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

// ---------- organisations ----------

#[derive(Queryable, QueryableByName, Insertable)]
#[diesel(table_name = organisations)]
struct OrgRow {
    id: String,
    name: String,
    kind: String,
    org_number: String,
    vat_number: Option<String>,
    address: Option<String>,
    created_at: NaiveDateTime,
}

impl OrgRow {
    fn into_domain(self) -> QResult<Organisation> {
        Ok(Organisation {
            id: OrgId::from_db(self.id),
            name: self.name,
            kind: OrgKind::parse(&self.kind).ok_or_else(|| corrupt("organisation kind"))?,
            org_number: OrgNumber::parse(&self.org_number)
                .map_err(|_| corrupt("organisation number"))?,
            vat_number: self
                .vat_number
                .map(|v| VatNumber::parse(&v).map_err(|_| corrupt("VAT number")))
                .transpose()?,
            address: self
                .address
                .map(|a| serde_json::from_str::<Address>(&a).map_err(|_| corrupt("address")))
                .transpose()?,
        })
    }
}

pub fn insert_organisation(conn: &mut DbConn, o: &Organisation, now: DateTime<Utc>) -> QResult<()> {
    let row = OrgRow {
        id: o.id.to_string(),
        name: o.name.clone(),
        kind: o.kind.code().to_string(),
        org_number: o.org_number.to_string(),
        vat_number: o.vat_number.as_ref().map(|v| v.as_str().to_string()),
        address: o
            .address
            .as_ref()
            .map(|a| serde_json::to_string(a).unwrap_or_default()),
        created_at: ts(now),
    };
    diesel::insert_into(organisations::table)
        .values(&row)
        .execute(conn)?;
    Ok(())
}

pub fn find_organisation(conn: &mut DbConn, id: &OrgId) -> QResult<Option<Organisation>> {
    organisations::table
        .find(id.as_str())
        .first::<OrgRow>(conn)
        .optional()?
        .map(OrgRow::into_domain)
        .transpose()
}

pub fn organisation_by_number(conn: &mut DbConn, n: &OrgNumber) -> QResult<Option<Organisation>> {
    organisations::table
        .filter(organisations::org_number.eq(n.as_str()))
        .first::<OrgRow>(conn)
        .optional()?
        .map(OrgRow::into_domain)
        .transpose()
}

/// One page of organisations in name order (then id), after the `(name, id)` of the last one shown,
/// with their number counted up to [`super::lists::COUNT_CAP`] + 1.
pub fn list_organisations(
    conn: &mut DbConn,
    kind: Option<OrgKind>,
    after: Option<(&str, &str)>,
    limit: i64,
) -> QResult<(Vec<Organisation>, i64)> {
    let kind = kind.map(|k| k.code());
    let sql = super::lists::organisation_list_sql(kind, after, limit);
    let rows: Vec<OrgRow> = super::lists::load(conn, &sql)?;
    let total = super::lists::count_organisations(conn, kind)?;
    let orgs = rows
        .into_iter()
        .map(OrgRow::into_domain)
        .collect::<QResult<Vec<_>>>()?;
    Ok((orgs, total))
}

pub fn count_organisations(conn: &mut DbConn) -> QResult<i64> {
    organisations::table.count().get_result(conn)
}

// ---------- registers ----------

#[derive(Queryable, Insertable)]
#[diesel(table_name = registers)]
struct RegisterRow {
    id: String,
    code: String,
    name: String,
    is_example: bool,
    created_at: NaiveDateTime,
    patient_information_covers_research: bool,
}

impl RegisterRow {
    fn into_domain(self) -> Register {
        Register {
            id: RegisterId::from_db(self.id),
            code: self.code,
            name: self.name,
            is_example: self.is_example,
            patient_information_covers_research: self.patient_information_covers_research,
        }
    }
}

pub fn insert_register(conn: &mut DbConn, r: &Register, now: DateTime<Utc>) -> QResult<()> {
    diesel::insert_into(registers::table)
        .values(&RegisterRow {
            id: r.id.to_string(),
            code: r.code.clone(),
            name: r.name.clone(),
            is_example: r.is_example,
            created_at: ts(now),
            patient_information_covers_research: r.patient_information_covers_research,
        })
        .execute(conn)?;
    Ok(())
}

pub fn find_register(conn: &mut DbConn, id: &RegisterId) -> QResult<Option<Register>> {
    Ok(registers::table
        .find(id.as_str())
        .first::<RegisterRow>(conn)
        .optional()?
        .map(RegisterRow::into_domain))
}

/// The registers with the given ids (those that exist), in one query.
pub fn find_registers(conn: &mut DbConn, ids: &[RegisterId]) -> QResult<Vec<Register>> {
    let ids: Vec<&str> = ids.iter().map(RegisterId::as_str).collect();
    Ok(registers::table
        .filter(registers::id.eq_any(ids))
        .load::<RegisterRow>(conn)?
        .into_iter()
        .map(RegisterRow::into_domain)
        .collect())
}

pub fn register_by_code(conn: &mut DbConn, code: &str) -> QResult<Option<Register>> {
    Ok(registers::table
        .filter(registers::code.eq(code))
        .first::<RegisterRow>(conn)
        .optional()?
        .map(RegisterRow::into_domain))
}

/// One page of registers in name order (then id), after the `(name, id)` of the last one shown, with
/// their number counted up to [`super::lists::COUNT_CAP`] + 1. Registers are a few dozen rows, so the
/// keyset condition is written plainly.
pub fn list_registers(
    conn: &mut DbConn,
    cpua: Option<&OrgId>,
    after: Option<(&str, &str)>,
    limit: i64,
) -> QResult<(Vec<Register>, i64)> {
    let mut q = registers::table.into_boxed();
    let mut c = registers::table.select(registers::id).into_boxed();
    if let Some(o) = cpua {
        let ids = register_cpua::table
            .filter(register_cpua::cpua_id.eq(o.as_str().to_string()))
            .filter(register_cpua::valid_to.is_null())
            .select(register_cpua::register_id);
        q = q.filter(registers::id.eq_any(ids));
        let ids = register_cpua::table
            .filter(register_cpua::cpua_id.eq(o.as_str().to_string()))
            .filter(register_cpua::valid_to.is_null())
            .select(register_cpua::register_id);
        c = c.filter(registers::id.eq_any(ids));
    }
    if let Some((name, id)) = after {
        q = q.filter(
            registers::name.gt(name.to_string()).or(registers::name
                .eq(name.to_string())
                .and(registers::id.gt(id.to_string()))),
        );
    }
    let counted: Vec<String> = c.limit(super::lists::COUNT_CAP + 1).load(conn)?;
    let rows: Vec<RegisterRow> = q
        .order((registers::name.asc(), registers::id.asc()))
        .limit(limit)
        .load(conn)?;
    Ok((
        rows.into_iter().map(RegisterRow::into_domain).collect(),
        counted.len() as i64,
    ))
}

pub fn cpua_history(conn: &mut DbConn, register: &RegisterId) -> QResult<Vec<CpuaAssignment>> {
    let rows: Vec<(String, String, NaiveDateTime, Option<NaiveDateTime>)> = register_cpua::table
        .filter(register_cpua::register_id.eq(register.as_str()))
        .order(register_cpua::id.asc())
        .select((
            register_cpua::register_id,
            register_cpua::cpua_id,
            register_cpua::valid_from,
            register_cpua::valid_to,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(r, c, f, t)| CpuaAssignment {
            register: RegisterId::from_db(r),
            cpua: OrgId::from_db(c),
            valid_from: utc(f),
            valid_to: t.map(utc),
        })
        .collect())
}

/// Ends the current assignment (if any) and starts a new one, keeping the history.
pub fn assign_cpua(
    conn: &mut DbConn,
    register: &RegisterId,
    cpua: &OrgId,
    now: DateTime<Utc>,
) -> QResult<()> {
    diesel::update(
        register_cpua::table
            .filter(register_cpua::register_id.eq(register.as_str()))
            .filter(register_cpua::valid_to.is_null()),
    )
    .set(register_cpua::valid_to.eq(Some(ts(now))))
    .execute(conn)?;
    diesel::insert_into(register_cpua::table)
        .values((
            register_cpua::register_id.eq(register.as_str()),
            register_cpua::cpua_id.eq(cpua.as_str()),
            register_cpua::valid_from.eq(ts(now)),
        ))
        .execute(conn)?;
    // Who sees the register's collaborations changes with their CPUA.
    super::lists::rebuild_access(
        conn,
        super::lists::AccessScope::OfRegister(register.as_str()),
    )
}

/// The CPUA responsible now for each of the given registers, with the CPUA's name.
pub fn current_cpuas(
    conn: &mut DbConn,
    regs: &[RegisterId],
) -> QResult<BTreeMap<RegisterId, (OrgId, String)>> {
    let ids: Vec<&str> = regs.iter().map(RegisterId::as_str).collect();
    let rows: Vec<(String, String, String)> = register_cpua::table
        .inner_join(organisations::table)
        .filter(register_cpua::register_id.eq_any(ids))
        .filter(register_cpua::valid_to.is_null())
        .select((
            register_cpua::register_id,
            register_cpua::cpua_id,
            organisations::name,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(r, c, n)| (RegisterId::from_db(r), (OrgId::from_db(c), n)))
        .collect())
}

// ---------- collaborations ----------

#[derive(Queryable)]
struct CollabRow {
    #[allow(dead_code)]
    id: String,
    #[allow(dead_code)]
    reference: String,
    #[allow(dead_code)]
    title: String,
    #[allow(dead_code)]
    step: String,
    #[allow(dead_code)]
    company_id: String,
    #[allow(dead_code)]
    principal_id: Option<String>,
    version: i64,
    state: String,
    #[allow(dead_code)]
    created_at: NaiveDateTime,
    #[allow(dead_code)]
    updated_at: NaiveDateTime,
    #[allow(dead_code)]
    collaboration_type: Option<String>,
    state_z: Option<Vec<u8>>,
}

/// Takes the next number of a named counter, in one statement: an upsert that inserts 1 or adds 1
/// and returns the new value. Runs inside the caller's transaction. On PostgreSQL the upsert takes
/// the row lock (or waits on the conflicting insert), so concurrent callers on any number of
/// instances get distinct, gapless numbers; an update-then-insert let two first callers of a new
/// name both insert, and one failed on `counters_pkey`. On SQLite the single writer serialises.
pub fn next_counter(conn: &mut DbConn, name: &str) -> QResult<i64> {
    match conn {
        DbConn::Postgres(c) => diesel::insert_into(counters::table)
            .values((counters::name.eq(name), counters::value.eq(1i64)))
            .on_conflict(counters::name)
            .do_update()
            .set(counters::value.eq(counters::value + 1))
            .returning(counters::value)
            .get_result(c),
        DbConn::Sqlite(c) => diesel::insert_into(counters::table)
            .values((counters::name.eq(name), counters::value.eq(1i64)))
            .on_conflict(counters::name)
            .do_update()
            .set(counters::value.eq(counters::value + 1))
            .returning(counters::value)
            .get_result(c),
    }
}

/// Rebuilds one collaboration's projection rows (registers, CPUA reviews, step, title) from its state.
pub fn reproject(conn: &mut DbConn, c: &Collaboration) -> QResult<()> {
    diesel::update(collaborations::table.find(c.id.as_str()))
        .set((
            collaborations::title.eq(&c.title),
            collaborations::step.eq(c.step.code()),
            collaborations::principal_id.eq(c.research_principal.as_ref().map(OrgId::as_str)),
        ))
        .execute(conn)?;
    write_projections(conn, c, None)
}

/// Every collaboration id, in a stable order, a page at a time.
pub fn collaboration_ids(
    conn: &mut DbConn,
    after: Option<&str>,
    limit: i64,
) -> QResult<Vec<String>> {
    let mut q = collaborations::table
        .select(collaborations::id)
        .into_boxed();
    if let Some(a) = after {
        q = q.filter(collaborations::id.gt(a.to_string()));
    }
    q.order(collaborations::id.asc()).limit(limit).load(conn)
}

/// Writes the projection rows of one collaboration from its state. `now` is the time of the command
/// that wrote the state (a closed deadline's `closed_at`); `None` rebuilds (`samverkan reproject`).
fn write_projections(
    conn: &mut DbConn,
    c: &Collaboration,
    now: Option<DateTime<Utc>>,
) -> QResult<()> {
    let id = c.id.as_str();
    diesel::delete(
        collaboration_registers::table.filter(collaboration_registers::collaboration_id.eq(id)),
    )
    .execute(conn)?;
    let regs: BTreeSet<&str> = c.registers.iter().map(RegisterId::as_str).collect();
    // One row at a time: batch inserts do not go through diesel's MultiConnection.
    for r in regs {
        diesel::insert_into(collaboration_registers::table)
            .values((
                collaboration_registers::collaboration_id.eq(id),
                collaboration_registers::register_id.eq(r),
                collaboration_registers::created_at.eq(Some(ts(c.created_at))),
            ))
            .execute(conn)?;
    }
    diesel::delete(cpua_reviews::table.filter(cpua_reviews::collaboration_id.eq(id)))
        .execute(conn)?;
    for r in &c.cpua_reviews {
        diesel::insert_into(cpua_reviews::table)
            .values((
                cpua_reviews::collaboration_id.eq(id),
                cpua_reviews::cpua_id.eq(r.cpua.as_str()),
                cpua_reviews::status.eq(r.status().code()),
                cpua_reviews::decision_due_on
                    .eq(r.decision_due_on.filter(|_| r.decision.is_none())),
            ))
            .execute(conn)?;
    }
    write_deadlines(conn, c, now)?;
    super::lists::rebuild_access(conn, super::lists::AccessScope::One(id))
}

/// The deadline projection of one collaboration ([`crate::domain::deadlines::projection`]): a row per
/// open deadline; a deadline no longer open keeps its row with `closed_at`; the rows of a closed case,
/// and a key-file deadline whose deletion is recorded, leave the table. With `now` `None` the rows are
/// rebuilt from the state alone.
fn write_deadlines(
    conn: &mut DbConn,
    c: &Collaboration,
    now: Option<DateTime<Utc>>,
) -> QResult<()> {
    use crate::domain::deadlines::{projection, KEY_FILE_DELETION};
    let id = c.id.as_str();
    let mine = deadlines::table.filter(deadlines::collaboration_id.eq(id));
    let Some(now) = now.filter(|_| !c.step.is_terminal()) else {
        diesel::delete(mine).execute(conn)?;
        if c.step.is_terminal() {
            return Ok(());
        }
        for d in projection(c) {
            insert_deadline(conn, id, &d)?;
        }
        return Ok(());
    };
    type Row = (String, String, NaiveDate, NaiveDate, Option<NaiveDateTime>);
    let existing: Vec<Row> = mine
        .select((
            deadlines::code,
            deadlines::track,
            deadlines::due_on,
            deadlines::first_reminder_on,
            deadlines::closed_at,
        ))
        .load(conn)?;
    let open = projection(c);
    for d in &open {
        let key = |r: &&Row| r.0 == d.code && r.1 == d.track;
        match existing.iter().find(key) {
            None => insert_deadline(conn, id, d)?,
            Some(r) if (r.2, r.3, r.4) != (d.due_on, d.first_reminder_on, None) => {
                diesel::update(mine.filter(deadlines::code.eq(d.code)))
                    .filter(deadlines::track.eq(&d.track))
                    .set((
                        deadlines::due_on.eq(d.due_on),
                        deadlines::first_reminder_on.eq(d.first_reminder_on),
                        deadlines::closed_at.eq(None::<NaiveDateTime>),
                    ))
                    .execute(conn)?;
            }
            Some(_) => {}
        }
    }
    for (code, track, ..) in existing
        .iter()
        .filter(|r| r.4.is_none())
        .filter(|r| !open.iter().any(|d| d.code == r.0 && d.track == r.1))
    {
        let row = mine
            .filter(deadlines::code.eq(code))
            .filter(deadlines::track.eq(track));
        if code == KEY_FILE_DELETION {
            diesel::delete(row).execute(conn)?;
        } else {
            diesel::update(row)
                .set(deadlines::closed_at.eq(Some(ts(now))))
                .execute(conn)?;
        }
    }
    Ok(())
}

fn insert_deadline(
    conn: &mut DbConn,
    id: &str,
    d: &crate::domain::deadlines::ProjectedDeadline,
) -> QResult<()> {
    diesel::insert_into(deadlines::table)
        .values((
            deadlines::collaboration_id.eq(id),
            deadlines::code.eq(d.code),
            deadlines::track.eq(&d.track),
            deadlines::due_on.eq(d.due_on),
            deadlines::first_reminder_on.eq(d.first_reminder_on),
        ))
        .execute(conn)?;
    Ok(())
}

/// How a collaboration's state is stored: `state` empty, the stored JSON
/// ([`crate::domain::state::to_stored`]) packed in `state_z`, and the type in force beside it.
struct StoredState {
    state: &'static str,
    state_z: Vec<u8>,
    collaboration_type: Option<String>,
}

fn stored_state(c: &Collaboration) -> QResult<StoredState> {
    let v = crate::domain::state::to_stored(c)
        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    Ok(StoredState {
        state: "",
        state_z: super::packed::pack(&v.to_string()),
        collaboration_type: type_in_force(&v),
    })
}

/// The type in force as the stored state records it: legal's override, else the rulebook's (what
/// the generated column of migration `2026-12-05-000010_list_type_filter` computed).
pub fn type_in_force(stored: &serde_json::Value) -> Option<String> {
    [
        "/classification/type_override/collaboration_type",
        "/classification/type",
    ]
    .iter()
    .find_map(|p| stored.pointer(p).and_then(serde_json::Value::as_str))
    .map(str::to_string)
}

/// The stored state's JSON text from its columns: `state` when it is not empty (a row written before
/// packing, or edited by hand), else `state_z` unpacked.
pub fn state_text(state: String, state_z: Option<&[u8]>) -> QResult<String> {
    match state_z {
        Some(z) if state.is_empty() => super::packed::unpack(z)
            .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e))),
        _ => Ok(state),
    }
}

pub fn insert_collaboration(
    conn: &mut DbConn,
    c: &Collaboration,
    now: DateTime<Utc>,
) -> QResult<()> {
    let s = stored_state(c)?;
    diesel::insert_into(collaborations::table)
        .values((
            collaborations::id.eq(c.id.as_str()),
            collaborations::reference.eq(&c.reference),
            collaborations::title.eq(&c.title),
            collaborations::step.eq(c.step.code()),
            collaborations::company_id.eq(c.company.as_str()),
            collaborations::principal_id.eq(c.research_principal.as_ref().map(OrgId::as_str)),
            collaborations::version.eq(1i64),
            collaborations::state.eq(s.state),
            collaborations::created_at.eq(ts(now)),
            collaborations::updated_at.eq(ts(now)),
            collaborations::collaboration_type.eq(s.collaboration_type),
            collaborations::state_z.eq(s.state_z),
        ))
        .execute(conn)?;
    write_projections(conn, c, Some(now))
}

/// Runs the same diesel statement on whichever database the connection is (a batch insert of many
/// rows does not go through the `MultiConnection` enum, but does on each backend).
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            DbConn::Postgres($c) => $body,
            DbConn::Sqlite($c) => $body,
        }
    };
}

/// Rows a multi-row INSERT carries at most (within both databases' limits on bound values).
const BULK_ROWS: usize = 400;

/// Stores many new collaborations at once, each with its projection rows, access rows and its first
/// (creation) event: multi-row INSERTs of [`BULK_ROWS`] rows, for loading a benchmark database
/// (`examples/seed.rs`) in minutes. The rows are exactly those [`insert_collaboration`] and
/// [`insert_event`] write one at a time; each event must be the first of its stream.
pub fn insert_collaborations_bulk(
    conn: &mut DbConn,
    items: &[(Collaboration, DateTime<Utc>, AuditEvent)],
) -> QResult<()> {
    for chunk in items.chunks(BULK_ROWS) {
        let mut rows = Vec::with_capacity(chunk.len());
        let mut regs = Vec::new();
        let mut reviews = Vec::new();
        let mut due = Vec::new();
        let mut events = Vec::with_capacity(chunk.len());
        let mut states = Vec::with_capacity(chunk.len());
        for (c, _, _) in chunk {
            states.push(stored_state(c)?);
        }
        let json = |v: &Option<serde_json::Value>| v.as_ref().map(|x| x.to_string());
        let mut ids = Vec::with_capacity(chunk.len());
        for ((c, at, e), state) in chunk.iter().zip(&states) {
            let at = ts(*at);
            ids.push(c.id.as_str().to_string());
            rows.push((
                collaborations::id.eq(c.id.as_str()),
                collaborations::reference.eq(&c.reference),
                collaborations::title.eq(&c.title),
                collaborations::step.eq(c.step.code()),
                collaborations::company_id.eq(c.company.as_str()),
                collaborations::principal_id.eq(c.research_principal.as_ref().map(OrgId::as_str)),
                collaborations::version.eq(1i64),
                collaborations::state.eq(state.state),
                collaborations::created_at.eq(at),
                collaborations::updated_at.eq(at),
                collaborations::collaboration_type.eq(state.collaboration_type.as_deref()),
                collaborations::state_z.eq(state.state_z.as_slice()),
            ));
            let distinct: BTreeSet<&str> = c.registers.iter().map(RegisterId::as_str).collect();
            for r in distinct {
                regs.push((
                    collaboration_registers::collaboration_id.eq(c.id.as_str()),
                    collaboration_registers::register_id.eq(r),
                    collaboration_registers::created_at.eq(Some(ts(c.created_at))),
                ));
            }
            for r in &c.cpua_reviews {
                reviews.push((
                    cpua_reviews::collaboration_id.eq(c.id.as_str()),
                    cpua_reviews::cpua_id.eq(r.cpua.as_str()),
                    cpua_reviews::status.eq(r.status().code()),
                    cpua_reviews::decision_due_on
                        .eq(r.decision_due_on.filter(|_| r.decision.is_none())),
                ));
            }
            if !c.step.is_terminal() {
                for d in crate::domain::deadlines::projection(c) {
                    due.push((
                        deadlines::collaboration_id.eq(c.id.as_str()),
                        deadlines::code.eq(d.code),
                        deadlines::track.eq(d.track),
                        deadlines::due_on.eq(d.due_on),
                        deadlines::first_reminder_on.eq(d.first_reminder_on),
                    ));
                }
            }
            let s = stored_event(e)?;
            events.push((
                audit_events::stream.eq(e.stream.clone()),
                audit_events::seq.eq(e.seq),
                audit_events::schema_version.eq(e.schema_version),
                audit_events::occurred_at.eq(ts(e.occurred_at)),
                audit_events::actor_account.eq(e.actor_account.clone()),
                audit_events::actor_name.eq(e.actor_name.clone()),
                audit_events::actor_org.eq(e.actor_org.clone()),
                audit_events::actor_role.eq(e.actor_role.clone()),
                audit_events::command.eq(e.command.clone()),
                audit_events::visibility.eq(e.visibility.code()),
                audit_events::before_state.eq(json(&e.before)),
                audit_events::after_state.eq(json(&e.after)),
                audit_events::prev_hash.eq(s.prev_hash),
                audit_events::hash.eq(e.hash.clone()),
                audit_events::change_patch.eq(s.change_patch),
                audit_events::state_hash.eq(e.state_hash.clone()),
                audit_events::files.eq(s.files),
                audit_events::change_z.eq(s.change_z),
            ));
        }
        on_backend!(&mut *conn, |c| diesel::insert_into(collaborations::table)
            .values(&rows)
            .execute(c))?;
        if !regs.is_empty() {
            on_backend!(&mut *conn, |c| diesel::insert_into(
                collaboration_registers::table
            )
            .values(&regs)
            .execute(c))?;
        }
        if !reviews.is_empty() {
            on_backend!(&mut *conn, |c| diesel::insert_into(cpua_reviews::table)
                .values(&reviews)
                .execute(c))?;
        }
        if !due.is_empty() {
            on_backend!(&mut *conn, |c| diesel::insert_into(deadlines::table)
                .values(&due)
                .execute(c))?;
        }
        on_backend!(&mut *conn, |c| diesel::insert_into(audit_events::table)
            .values(&events)
            .execute(c))?;
        super::lists::rebuild_access(conn, super::lists::AccessScope::Many(&ids))?;
    }
    Ok(())
}

/// Writes the new state if nobody changed the collaboration since `version`; returns false when
/// somebody did (the caller answers 409).
pub fn update_collaboration(
    conn: &mut DbConn,
    c: &Collaboration,
    version: i64,
    now: DateTime<Utc>,
) -> QResult<bool> {
    let s = stored_state(c)?;
    let n = diesel::update(
        collaborations::table
            .filter(collaborations::id.eq(c.id.as_str()))
            .filter(collaborations::version.eq(version)),
    )
    .set((
        collaborations::title.eq(&c.title),
        collaborations::step.eq(c.step.code()),
        collaborations::principal_id.eq(c.research_principal.as_ref().map(OrgId::as_str)),
        collaborations::version.eq(version + 1),
        collaborations::state.eq(s.state),
        collaborations::updated_at.eq(ts(now)),
        collaborations::collaboration_type.eq(s.collaboration_type),
        collaborations::state_z.eq(s.state_z),
    ))
    .execute(conn)?;
    if n == 0 {
        return Ok(false);
    }
    write_projections(conn, c, Some(now))?;
    Ok(true)
}

/// One collaboration and its version; a compact classification is recomputed with `rulebooks`.
pub fn load_collaboration(
    conn: &mut DbConn,
    rulebooks: &crate::domain::classification::RulebookSet,
    id: &CollaborationId,
) -> QResult<Option<(Collaboration, i64)>> {
    let row: Option<CollabRow> = collaborations::table
        .find(id.as_str())
        .first(conn)
        .optional()?;
    row.map(|r| {
        let text = state_text(r.state, r.state_z.as_deref())?;
        crate::domain::state::load(&text, rulebooks)
            .map(|c| (c, r.version))
            .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))
    })
    .transpose()
}

/// Takes the row lock of one collaboration for the rest of the transaction, so that concurrent commands
/// on it queue instead of losing an optimistic race (PostgreSQL `FOR UPDATE`; SQLite has one writer
/// already). Call it before loading the state that the command will change.
pub fn lock_collaboration(conn: &mut DbConn, id: &CollaborationId) -> QResult<()> {
    if let DbConn::Postgres(pg) = conn {
        collaborations::table
            .find(id.as_str())
            .select(collaborations::id)
            .for_update()
            .first::<String>(pg)
            .optional()?;
    }
    Ok(())
}

/// Records whether a register's patient information covers research.
pub fn set_patient_information(
    conn: &mut DbConn,
    register: &RegisterId,
    covers_research: bool,
) -> QResult<()> {
    diesel::update(registers::table.find(register.as_str()))
        .set(registers::patient_information_covers_research.eq(covers_research))
        .execute(conn)?;
    Ok(())
}

// ---------- delegations ----------

pub fn insert_delegation(
    conn: &mut DbConn,
    d: &Delegation,
    created_by: &str,
    now: DateTime<Utc>,
) -> QResult<()> {
    let (kind, account, name) = match &d.delegate {
        Delegate::RegisterHolder => ("register_holder", None, None),
        Delegate::Person { account, name } => {
            ("person", Some(account.to_string()), Some(name.clone()))
        }
    };
    diesel::insert_into(release_delegations::table)
        .values((
            release_delegations::id.eq(&d.id),
            release_delegations::register_id.eq(d.register.as_str()),
            release_delegations::cpua_id.eq(d.cpua.as_str()),
            release_delegations::delegate_kind.eq(kind),
            release_delegations::delegate_account_id.eq(account),
            release_delegations::delegate_name.eq(name),
            release_delegations::delegated_on.eq(d.delegated_on),
            release_delegations::reference.eq(&d.reference),
            release_delegations::revoked_on.eq(d.revoked_on),
            release_delegations::created_by.eq(created_by),
            release_delegations::created_at.eq(ts(now)),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn revoke_delegation(conn: &mut DbConn, id: &str, on: NaiveDate) -> QResult<bool> {
    let n = diesel::update(
        release_delegations::table
            .find(id)
            .filter(release_delegations::revoked_on.is_null()),
    )
    .set(release_delegations::revoked_on.eq(Some(on)))
    .execute(conn)?;
    Ok(n == 1)
}

type DelegationRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    NaiveDate,
    String,
    Option<NaiveDate>,
);

/// The delegations recorded for the given registers, oldest first.
pub fn delegations(conn: &mut DbConn, regs: &[RegisterId]) -> QResult<Vec<Delegation>> {
    let ids: Vec<&str> = regs.iter().map(RegisterId::as_str).collect();
    let rows: Vec<DelegationRow> = release_delegations::table
        .filter(release_delegations::register_id.eq_any(ids))
        .order((
            release_delegations::created_at.asc(),
            release_delegations::id.asc(),
        ))
        .select((
            release_delegations::id,
            release_delegations::register_id,
            release_delegations::cpua_id,
            release_delegations::delegate_kind,
            release_delegations::delegate_account_id,
            release_delegations::delegate_name,
            release_delegations::delegated_on,
            release_delegations::reference,
            release_delegations::revoked_on,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(
            |(id, reg, cpua, kind, account, name, on, reference, revoked)| {
                let delegate = match (kind.as_str(), account) {
                    ("register_holder", _) => Delegate::RegisterHolder,
                    ("person", Some(a)) => Delegate::Person {
                        account: AccountId::from_db(a),
                        name: name.unwrap_or_default(),
                    },
                    _ => return Err(corrupt("release delegation")),
                };
                Ok(Delegation {
                    id,
                    register: RegisterId::from_db(reg),
                    cpua: OrgId::from_db(cpua),
                    delegate,
                    delegated_on: on,
                    reference,
                    revoked_on: revoked,
                })
            },
        )
        .collect()
}

pub use super::lists::{CollabFilter, CollabSort, ListKey, Visible};

/// One page of the collaboration list, in keyset order (see [`super::lists`]).
pub fn list_collaborations(
    conn: &mut DbConn,
    visible: &Visible,
    f: &CollabFilter,
    sort: CollabSort,
    after: Option<&ListKey>,
    limit: i64,
) -> QResult<super::lists::CollabPage> {
    super::lists::list_collaborations(conn, visible, f, sort, after, limit)
}

// ---------- audit events ----------

#[derive(Queryable)]
struct EventRow {
    #[allow(dead_code)]
    id: i64,
    stream: String,
    seq: i64,
    schema_version: i32,
    occurred_at: NaiveDateTime,
    actor_account: String,
    actor_name: String,
    actor_org: Option<String>,
    actor_role: String,
    command: String,
    visibility: String,
    before_state: Option<String>,
    after_state: Option<String>,
    prev_hash: String,
    hash: String,
    change_patch: Option<String>,
    state_hash: Option<String>,
    files: Option<String>,
    change_z: Option<Vec<u8>>,
}

impl EventRow {
    /// Reads a stored event. An unreadable JSON body is kept as a string so that verification
    /// reports the broken link instead of failing; an unknown visibility is read as internal (fail
    /// closed), which breaks the hash if the stored value was changed.
    fn into_domain(self) -> AuditEvent {
        let parse = |s: Option<String>| {
            s.map(|t| serde_json::from_str(&t).unwrap_or(serde_json::Value::String(t)))
        };
        let files = match &self.files {
            None => BTreeMap::new(),
            Some(t) => serde_json::from_str::<BTreeMap<String, String>>(t).unwrap_or_else(|_| {
                // Kept under a name no event writes, so the hash no longer matches.
                BTreeMap::from([("(unreadable)".to_string(), t.clone())])
            }),
        };
        AuditEvent {
            stream: self.stream,
            seq: self.seq,
            schema_version: self.schema_version,
            occurred_at: utc(self.occurred_at),
            actor_account: self.actor_account,
            actor_name: self.actor_name,
            actor_org: self.actor_org,
            actor_role: self.actor_role,
            command: self.command,
            visibility: visibility_of(&self.visibility),
            before: parse(self.before_state),
            after: parse(self.after_state),
            change: match self.change_z {
                // Kept as a string when it does not inflate to JSON, so the hash no longer matches.
                Some(z) => Some(
                    super::packed::unpack(&z)
                        .ok()
                        .and_then(|t| serde_json::from_str(&t).ok())
                        .unwrap_or_else(|| serde_json::Value::String("(unreadable)".into())),
                ),
                None => parse(self.change_patch),
            },
            state_hash: self.state_hash,
            files,
            prev_hash: self.prev_hash,
            hash: self.hash,
        }
    }
}

pub fn last_event(conn: &mut DbConn, stream: &str) -> QResult<Option<(i64, String)>> {
    audit_events::table
        .filter(audit_events::stream.eq(stream))
        .order(audit_events::seq.desc())
        .select((audit_events::seq, audit_events::hash))
        .first(conn)
        .optional()
}

/// How an event's change, previous hash and files are stored for its schema version: version 2 keeps
/// the change as JSON text and the previous hash; version 3 packs the change ([`super::packed`]) and
/// stores the previous hash empty (it is the previous event's hash, filled in by [`stream_events`]).
struct StoredEvent {
    change_patch: Option<String>,
    change_z: Option<Vec<u8>>,
    prev_hash: String,
    files: Option<String>,
}

fn stored_event(e: &AuditEvent) -> QResult<StoredEvent> {
    let files = (e.schema_version >= 2)
        .then(|| serde_json::to_string(&e.files))
        .transpose()
        .map_err(|x| diesel::result::Error::SerializationError(Box::new(x)))?;
    let json = e.change.as_ref().map(|x| x.to_string());
    Ok(if e.schema_version >= 3 {
        StoredEvent {
            change_patch: None,
            change_z: json.map(|t| super::packed::pack(&t)),
            prev_hash: String::new(),
            files,
        }
    } else {
        StoredEvent {
            change_patch: json,
            change_z: None,
            prev_hash: e.prev_hash.clone(),
            files,
        }
    })
}

pub fn insert_event(conn: &mut DbConn, e: &AuditEvent) -> QResult<()> {
    let json = |v: &Option<serde_json::Value>| v.as_ref().map(|x| x.to_string());
    let s = stored_event(e)?;
    diesel::insert_into(audit_events::table)
        .values((
            audit_events::stream.eq(&e.stream),
            audit_events::seq.eq(e.seq),
            audit_events::schema_version.eq(e.schema_version),
            audit_events::occurred_at.eq(ts(e.occurred_at)),
            audit_events::actor_account.eq(&e.actor_account),
            audit_events::actor_name.eq(&e.actor_name),
            audit_events::actor_org.eq(&e.actor_org),
            audit_events::actor_role.eq(&e.actor_role),
            audit_events::command.eq(&e.command),
            audit_events::visibility.eq(e.visibility.code()),
            audit_events::before_state.eq(json(&e.before)),
            audit_events::after_state.eq(json(&e.after)),
            audit_events::prev_hash.eq(s.prev_hash),
            audit_events::hash.eq(&e.hash),
            audit_events::change_patch.eq(s.change_patch),
            audit_events::state_hash.eq(&e.state_hash),
            audit_events::files.eq(s.files),
            audit_events::change_z.eq(s.change_z),
        ))
        .execute(conn)?;
    Ok(())
}

/// A stream's events in sequence order. A version-3 event's previous hash is not stored: it is the
/// hash of the event before it in the stream (the genesis hash for the first), so a removed or
/// changed earlier event still breaks the next event's hash.
pub fn stream_events(conn: &mut DbConn, stream: &str) -> QResult<Vec<AuditEvent>> {
    let rows: Vec<EventRow> = audit_events::table
        .filter(audit_events::stream.eq(stream))
        .order(audit_events::seq.asc())
        .load(conn)?;
    let mut prev = crate::domain::audit::GENESIS.to_string();
    Ok(rows
        .into_iter()
        .map(|r| {
            let mut e = r.into_domain();
            if e.schema_version >= 3 && e.prev_hash.is_empty() {
                e.prev_hash = prev.clone();
            }
            prev = e.hash.clone();
            e
        })
        .collect())
}

/// A line of a stream's trail as a reader's list shows it: who did what and when (issue 12, the
/// case page's events). It reads neither the change nor the hashes, so listing costs no inflating,
/// hashing or verifying; the trail's integrity is `audit verify`'s and the events route's to show.
#[derive(Debug, Clone, Queryable)]
pub struct TrailLine {
    pub seq: i64,
    pub occurred_at: NaiveDateTime,
    pub actor_name: String,
    pub actor_org: Option<String>,
    pub actor_role: String,
    pub command: String,
    pub visibility: String,
}

impl TrailLine {
    /// The line's visibility, read as a stored event's is.
    pub fn visibility(&self) -> Visibility {
        visibility_of(&self.visibility)
    }
}

/// A stored visibility: an unknown value is read as internal (fail closed), which breaks the event's
/// hash if the stored value was changed.
fn visibility_of(code: &str) -> Visibility {
    if code == "party" {
        Visibility::Party
    } else {
        Visibility::Internal
    }
}

/// A stream's trail lines in sequence order.
pub fn stream_trail(conn: &mut DbConn, stream: &str) -> QResult<Vec<TrailLine>> {
    audit_events::table
        .filter(audit_events::stream.eq(stream))
        .order(audit_events::seq.asc())
        .select((
            audit_events::seq,
            audit_events::occurred_at,
            audit_events::actor_name,
            audit_events::actor_org,
            audit_events::actor_role,
            audit_events::command,
            audit_events::visibility,
        ))
        .load(conn)
}

/// Every stream that has events or checkpoints, in order.
pub fn all_streams(conn: &mut DbConn) -> QResult<Vec<String>> {
    let mut s: BTreeSet<String> = audit_events::table
        .select(audit_events::stream)
        .distinct()
        .load::<String>(conn)?
        .into_iter()
        .collect();
    s.extend(
        audit_checkpoints::table
            .select(audit_checkpoints::stream)
            .distinct()
            .load::<String>(conn)?,
    );
    Ok(s.into_iter().collect())
}

#[derive(QueryableByName)]
struct HeadRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    stream: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    seq: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    hash: String,
}

/// The head (last event: seq and hash) of every stream whose head has no checkpoint yet.
pub fn heads_without_checkpoint(conn: &mut DbConn) -> QResult<Vec<(String, i64, String)>> {
    let rows: Vec<HeadRow> = diesel::sql_query(
        "SELECT e.stream AS stream, e.seq AS seq, e.hash AS hash FROM audit_events e \
         WHERE e.seq = (SELECT MAX(m.seq) FROM audit_events m WHERE m.stream = e.stream) \
         AND NOT EXISTS (SELECT 1 FROM audit_checkpoints c \
                         WHERE c.stream = e.stream AND c.seq = e.seq AND c.hash = e.hash) \
         ORDER BY e.stream",
    )
    .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| (r.stream, r.seq, r.hash))
        .collect())
}

/// A signed checkpoint of a stream's head (kontrollpunkt).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Insertable)]
#[diesel(table_name = audit_checkpoints)]
pub struct CheckpointRow {
    pub stream: String,
    pub seq: i64,
    pub hash: String,
    pub signed_at: NaiveDateTime,
    pub key_id: String,
    pub signature: String,
}

pub fn insert_checkpoint(conn: &mut DbConn, c: &CheckpointRow) -> QResult<()> {
    diesel::insert_into(audit_checkpoints::table)
        .values(c)
        .execute(conn)?;
    Ok(())
}

/// A stream's checkpoints, oldest first.
pub fn stream_checkpoints(conn: &mut DbConn, stream: &str) -> QResult<Vec<CheckpointRow>> {
    audit_checkpoints::table
        .filter(audit_checkpoints::stream.eq(stream))
        .order((audit_checkpoints::seq.asc(), audit_checkpoints::id.asc()))
        .select((
            audit_checkpoints::stream,
            audit_checkpoints::seq,
            audit_checkpoints::hash,
            audit_checkpoints::signed_at,
            audit_checkpoints::key_id,
            audit_checkpoints::signature,
        ))
        .load(conn)
}

/// How many CPUA reviews have a decision due before `today` (the due date is stored only while the
/// decision is not made).
pub fn count_overdue_reviews(conn: &mut DbConn, today: NaiveDate) -> QueryResult<i64> {
    cpua_reviews::table
        .filter(cpua_reviews::decision_due_on.lt(today))
        .count()
        .get_result(conn)
}

/// The newest checkpoint of every stream, in stream order.
pub fn latest_checkpoints(conn: &mut DbConn) -> QResult<Vec<CheckpointRow>> {
    let rows: Vec<(i64, CheckpointRow)> = audit_checkpoints::table
        .order((audit_checkpoints::stream.asc(), audit_checkpoints::id.asc()))
        .select((
            audit_checkpoints::id,
            (
                audit_checkpoints::stream,
                audit_checkpoints::seq,
                audit_checkpoints::hash,
                audit_checkpoints::signed_at,
                audit_checkpoints::key_id,
                audit_checkpoints::signature,
            ),
        ))
        .load(conn)?;
    let mut latest: BTreeMap<String, CheckpointRow> = BTreeMap::new();
    for (_, r) in rows {
        let newer = latest.get(&r.stream).is_none_or(|l| r.seq >= l.seq);
        if newer {
            latest.insert(r.stream.clone(), r);
        }
    }
    Ok(latest.into_values().collect())
}

/// The stored state of a collaboration, as JSON exactly as written (no upcast), if the row exists.
pub fn collaboration_state(conn: &mut DbConn, id: &str) -> QResult<Option<String>> {
    let row: Option<(String, Option<Vec<u8>>)> = collaborations::table
        .find(id)
        .select((collaborations::state, collaborations::state_z))
        .first(conn)
        .optional()?;
    row.map(|(s, z)| state_text(s, z.as_deref())).transpose()
}

/// One stored agreement version's files with the hashes in their columns.
#[derive(Debug, Clone)]
pub struct StoredFiles {
    pub number: i32,
    /// (format, bytes, the hash column)
    pub files: Vec<(&'static str, Vec<u8>, String)>,
}

/// The files of every agreement version of a collaboration, oldest first.
pub fn agreement_files(conn: &mut DbConn, collaboration: &str) -> QResult<Vec<StoredFiles>> {
    type Row = (i32, Vec<u8>, Vec<u8>, Vec<u8>, String, String, String);
    let rows: Vec<Row> = agreement_versions::table
        .filter(agreement_versions::collaboration_id.eq(collaboration))
        .order(agreement_versions::number.asc())
        .select((
            agreement_versions::number,
            agreement_versions::docx,
            agreement_versions::pdf,
            agreement_versions::html,
            agreement_versions::docx_sha256,
            agreement_versions::pdf_sha256,
            agreement_versions::html_sha256,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(number, docx, pdf, html, ds, ps, hs)| StoredFiles {
            number,
            files: vec![("docx", docx, ds), ("pdf", pdf, ps), ("html", html, hs)],
        })
        .collect())
}
