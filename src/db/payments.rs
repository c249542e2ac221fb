//! Payments of invoices (issue 15, items 5, 6 and 8): payments recorded by hand or imported from a
//! camt.054 file, the imports, and the overdue reminders sent. Rows in, rows out; the rules live in
//! `domain::billing::{settlement, reminder}` and `app::payments`. The database refuses changes to a
//! recorded payment or import (migration `2026-12-08-000010_payments`), and counts a bank reference
//! once per CPUA (`payments_bank_reference`). An unmatched payment is placed on an invoice later by
//! an append-only allocation (migration `2026-12-10-000010_payment_allocations`).
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::billing::{Backend, InvoiceQuery, InvoiceRow};
use super::repo::QResult;
use super::schema::{
    invoice_reminders as r, invoices as i, payment_allocations as pa, payment_imports as pi,
    payments as p,
};
use super::DbConn;

/// A statement reading payment rows, as the functions here run it.
pub type PaymentQuery<'a> =
    p::BoxedQuery<'a, Backend, diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<PaymentRow, Backend>>>;

#[derive(Debug, Clone, Queryable, Insertable, Selectable)]
#[diesel(table_name = p)]
pub struct PaymentRow {
    pub id: String,
    pub cpua_id: String,
    pub invoice_id: Option<String>,
    pub amount_ore: i64,
    pub currency: String,
    pub value_date: NaiveDate,
    pub bank_reference: String,
    pub ocr_reference: Option<String>,
    pub unmatched_reason: Option<String>,
    /// `manual` or `camt054`.
    pub source: String,
    pub import_id: Option<String>,
    pub recorded_by: String,
    pub recorded_at: NaiveDateTime,
    /// The payer's name as the bank gave it (camt.054 `Dbtr/Nm`) or finance typed it.
    pub payer_name: Option<String>,
}

#[derive(Debug, Clone, Queryable, Insertable, Selectable)]
#[diesel(table_name = pi)]
pub struct ImportRow {
    pub id: String,
    pub cpua_id: String,
    pub sha256: String,
    pub message_id: Option<String>,
    pub entries: i32,
    pub matched: i32,
    pub unmatched: i32,
    pub already_recorded: i32,
    pub recorded_by: String,
    pub recorded_at: NaiveDateTime,
}

/// An unmatched payment placed on an invoice, in part or in whole (never changed or undone).
#[derive(Debug, Clone, Queryable, Insertable, Selectable)]
#[diesel(table_name = pa)]
pub struct AllocationRow {
    pub id: String,
    pub payment_id: String,
    pub invoice_id: String,
    pub cpua_id: String,
    pub amount_ore: i64,
    pub allocated_by: String,
    pub allocated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Insertable, Selectable)]
#[diesel(table_name = r)]
pub struct ReminderRow {
    pub invoice_id: String,
    pub round: i32,
    pub sent_on: NaiveDate,
    pub balance_ore: i64,
    pub recorded_at: NaiveDateTime,
}

pub fn insert_import(conn: &mut DbConn, row: &ImportRow) -> QResult<()> {
    diesel::insert_into(pi::table).values(row).execute(conn)?;
    Ok(())
}

pub fn insert_payments(conn: &mut DbConn, rows: &[PaymentRow]) -> QResult<()> {
    for row in rows {
        diesel::insert_into(p::table).values(row).execute(conn)?;
    }
    Ok(())
}

/// The payments matched to an invoice, in value-date order (index `payments_invoice`).
pub fn of_invoice(conn: &mut DbConn, invoice: &str) -> QResult<Vec<PaymentRow>> {
    of_invoice_query(invoice).load(conn)
}

/// The statement `of_invoice` runs (its query plan is checked in `tests/query_plans.rs`).
pub fn of_invoice_query<'a>(invoice: &'a str) -> PaymentQuery<'a> {
    p::table
        .filter(p::invoice_id.eq(invoice))
        .order((p::value_date.asc(), p::recorded_at.asc(), p::id.asc()))
        .select(PaymentRow::as_select())
        .into_boxed()
}

/// The sum (öre) of the payments matched to an invoice (index `payments_invoice`) and of the
/// unmatched payments placed on it (index `payment_allocations_invoice`).
pub fn paid_total(conn: &mut DbConn, invoice: &str) -> QResult<i64> {
    let amounts: Vec<i64> = p::table
        .filter(p::invoice_id.eq(invoice))
        .select(p::amount_ore)
        .load(conn)?;
    let placed: Vec<i64> = pa::table
        .filter(pa::invoice_id.eq(invoice))
        .select(pa::amount_ore)
        .load(conn)?;
    Ok(amounts.iter().sum::<i64>() + placed.iter().sum::<i64>())
}

/// A payment by its id, its row locked for the rest of the transaction on PostgreSQL (SQLite has
/// one writer already), so two placements of it at once queue and never place more than it holds.
pub fn payment_for_update(conn: &mut DbConn, id: &str) -> QResult<Option<PaymentRow>> {
    if let DbConn::Postgres(pg) = conn {
        p::table
            .find(id)
            .select(p::id)
            .for_update()
            .first::<String>(pg)
            .optional()?;
    }
    p::table
        .find(id)
        .select(PaymentRow::as_select())
        .first(conn)
        .optional()
}

/// The sum (öre) placed of each payment so far (index `payment_allocations_payment`).
pub fn allocated_of(conn: &mut DbConn, payments: &[String]) -> QResult<Vec<(String, i64)>> {
    if payments.is_empty() {
        return Ok(vec![]);
    }
    let rows: Vec<(String, i64)> = pa::table
        .filter(pa::payment_id.eq_any(payments))
        .select((pa::payment_id, pa::amount_ore))
        .load(conn)?;
    let mut sums: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
    for (id, a) in rows {
        *sums.entry(id).or_default() += a;
    }
    Ok(sums.into_iter().collect())
}

pub fn insert_allocation(conn: &mut DbConn, row: &AllocationRow) -> QResult<()> {
    diesel::insert_into(pa::table).values(row).execute(conn)?;
    Ok(())
}

/// The placements on an invoice with their payments, in placing order.
pub fn allocations_of_invoice(
    conn: &mut DbConn,
    invoice: &str,
) -> QResult<Vec<(AllocationRow, PaymentRow)>> {
    pa::table
        .inner_join(p::table)
        .filter(pa::invoice_id.eq(invoice))
        .order((pa::allocated_at.asc(), pa::id.asc()))
        .select((AllocationRow::as_select(), PaymentRow::as_select()))
        .load(conn)
}

/// A CPUA's placements made from `from` (inclusive) to `until` (exclusive), UTC, with their
/// payments, in placing order (index `payment_allocations_cpua`): the finance export's placements.
pub fn allocations_between(
    conn: &mut DbConn,
    cpua: &str,
    from: NaiveDateTime,
    until: NaiveDateTime,
) -> QResult<Vec<(AllocationRow, PaymentRow)>> {
    pa::table
        .inner_join(p::table)
        .filter(pa::cpua_id.eq(cpua))
        .filter(pa::allocated_at.ge(from))
        .filter(pa::allocated_at.lt(until))
        .order((pa::allocated_at.asc(), pa::id.asc()))
        .select((AllocationRow::as_select(), PaymentRow::as_select()))
        .load(conn)
}

/// A CPUA's payments that matched no invoice, newest value date first (index
/// `payments_cpua_date`); the caller leaves out those placed in whole.
pub fn unmatched_of(conn: &mut DbConn, cpua: &str) -> QResult<Vec<PaymentRow>> {
    p::table
        .filter(p::cpua_id.eq(cpua))
        .filter(p::invoice_id.is_null())
        .order((p::value_date.desc(), p::bank_reference.asc()))
        .select(PaymentRow::as_select())
        .load(conn)
}

/// The sum (öre, negative) of the issued credit notes against an invoice (index `invoices_credits`).
pub fn credited_total(conn: &mut DbConn, invoice: &str) -> QResult<i64> {
    let amounts: Vec<i64> = i::table
        .filter(i::credits_invoice_id.eq(invoice))
        .filter(i::status.eq("issued"))
        .select(i::gross_ore)
        .load(conn)?;
    Ok(amounts.iter().sum())
}

/// Which of `references` a CPUA has recorded already (unique index `payments_bank_reference`).
pub fn recorded_references(
    conn: &mut DbConn,
    cpua: &str,
    references: &[String],
) -> QResult<Vec<String>> {
    if references.is_empty() {
        return Ok(vec![]);
    }
    p::table
        .filter(p::cpua_id.eq(cpua))
        .filter(p::bank_reference.eq_any(references))
        .select(p::bank_reference)
        .load(conn)
}

/// A CPUA's issued invoices (not credit notes) with one of the OCR references (index `invoices_ocr`).
pub fn invoices_by_ocr(conn: &mut DbConn, cpua: &str, ocrs: &[String]) -> QResult<Vec<InvoiceRow>> {
    if ocrs.is_empty() {
        return Ok(vec![]);
    }
    i::table
        .filter(i::cpua_id.eq(cpua))
        .filter(i::ocr.eq_any(ocrs))
        .filter(i::status.eq("issued"))
        .filter(i::kind.eq("invoice"))
        .select(InvoiceRow::as_select())
        .load(conn)
}

/// A CPUA's issued invoices and credit notes issued in the period, both days included (index
/// `invoices_issued` on the CPUA, status and issue date).
pub fn issued_between(
    conn: &mut DbConn,
    cpua: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> QResult<Vec<InvoiceRow>> {
    issued_between_query(cpua, from, to).load(conn)
}

/// The statement `issued_between` runs (its query plan is checked in `tests/query_plans.rs`).
pub fn issued_between_query<'a>(cpua: &'a str, from: NaiveDate, to: NaiveDate) -> InvoiceQuery<'a> {
    i::table
        .filter(i::cpua_id.eq(cpua))
        .filter(i::status.eq("issued"))
        .filter(i::issue_date.ge(from))
        .filter(i::issue_date.le(to))
        .order((i::issue_date.asc(), i::number.asc()))
        .select(InvoiceRow::as_select())
        .into_boxed()
}

/// A CPUA's payments with a value date in the period, both days included (index
/// `payments_cpua_date`).
pub fn payments_between(
    conn: &mut DbConn,
    cpua: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> QResult<Vec<PaymentRow>> {
    payments_between_query(cpua, from, to).load(conn)
}

/// The statement `payments_between` runs (its query plan is checked in `tests/query_plans.rs`).
pub fn payments_between_query<'a>(
    cpua: &'a str,
    from: NaiveDate,
    to: NaiveDate,
) -> PaymentQuery<'a> {
    p::table
        .filter(p::cpua_id.eq(cpua))
        .filter(p::value_date.ge(from))
        .filter(p::value_date.le(to))
        .order((p::value_date.asc(), p::bank_reference.asc()))
        .select(PaymentRow::as_select())
        .into_boxed()
}

/// The numbers of invoices by id.
pub fn numbers_of(conn: &mut DbConn, ids: &[String]) -> QResult<Vec<(String, Option<String>)>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    i::table
        .filter(i::id.eq_any(ids))
        .select((i::id, i::number))
        .load(conn)
}

/// Issued invoices (every CPUA) due before `today`: the candidates for a reminder (index
/// `invoices_overdue`).
pub fn issued_due_before(conn: &mut DbConn, today: NaiveDate) -> QResult<Vec<InvoiceRow>> {
    issued_due_before_query(today).load(conn)
}

/// The statement `issued_due_before` runs (its query plan is checked in `tests/query_plans.rs`).
pub fn issued_due_before_query(today: NaiveDate) -> InvoiceQuery<'static> {
    i::table
        .filter(i::status.eq("issued"))
        .filter(i::kind.eq("invoice"))
        .filter(i::due_date.lt(today))
        .order((i::due_date.asc(), i::id.asc()))
        .select(InvoiceRow::as_select())
        .into_boxed()
}

/// The highest reminder round recorded for an invoice (0 for none).
pub fn last_round(conn: &mut DbConn, invoice: &str) -> QResult<i32> {
    let rounds: Vec<i32> = r::table
        .filter(r::invoice_id.eq(invoice))
        .select(r::round)
        .load(conn)?;
    Ok(rounds.into_iter().max().unwrap_or(0))
}

/// Records a reminder round; `false` when it was recorded already (another instance, a restart).
pub fn insert_reminder(conn: &mut DbConn, row: &ReminderRow) -> QResult<bool> {
    let n = match conn {
        DbConn::Postgres(pg) => diesel::insert_into(r::table)
            .values(row)
            .on_conflict((r::invoice_id, r::round))
            .do_nothing()
            .execute(pg)?,
        DbConn::Sqlite(sq) => diesel::insert_into(r::table)
            .values(row)
            .on_conflict((r::invoice_id, r::round))
            .do_nothing()
            .execute(sq)?,
    };
    Ok(n == 1)
}

/// The reminders recorded for an invoice, in round order.
pub fn reminders_of(conn: &mut DbConn, invoice: &str) -> QResult<Vec<ReminderRow>> {
    r::table
        .filter(r::invoice_id.eq(invoice))
        .order(r::round.asc())
        .select(ReminderRow::as_select())
        .load(conn)
}

/// A collaboration's reference and title, for a reminder's text.
pub fn reference_and_title(conn: &mut DbConn, collaboration: &str) -> QResult<(String, String)> {
    use super::schema::collaborations as c;
    c::table
        .filter(c::id.eq(collaboration))
        .select((c::reference, c::title))
        .first(conn)
}
