//! Billing of extraction work (issue 15): work-log lines, the CPUA's invoice series, invoices and
//! credit notes with their lines and stored files. Rows in, rows out; the rules live in
//! `domain::billing::ledger` and `app::billing`. The database itself refuses changes to an issued
//! invoice (migration `2026-12-07-000010_billing`).
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::repo::QResult;
use super::schema::{
    invoice_files as f, invoice_lines as il, invoice_series as s, invoices as i,
    work_log_lines as w, work_log_receipts as wr,
};
use super::DbConn;

/// The backend the statements here are built for: either database, as the connection is.
pub type Backend = <DbConn as diesel::Connection>::Backend;

/// A statement reading invoice rows, as the functions here run it.
pub type InvoiceQuery<'a> =
    i::BoxedQuery<'a, Backend, diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<InvoiceRow, Backend>>>;

#[derive(Debug, Clone, Queryable, Insertable, Selectable)]
#[diesel(table_name = w)]
pub struct WorkLogRow {
    pub id: String,
    pub collaboration_id: String,
    pub cpua_id: String,
    pub person_name: String,
    pub worked_on: NaiveDate,
    pub activity: String,
    pub kind: String,
    pub hours_hundredths: i64,
    pub rate_ore: Option<i64>,
    pub amount_ore: i64,
    pub status: String,
    pub logged_by: String,
    pub logged_at: NaiveDateTime,
    pub approved_by: Option<String>,
    pub approved_at: Option<NaiveDateTime>,
    pub ceiling_reason: Option<String>,
    pub invoice_id: Option<String>,
}

#[derive(Debug, Clone, Queryable, Insertable, Selectable)]
#[diesel(table_name = i)]
pub struct InvoiceRow {
    pub id: String,
    pub kind: String,
    pub credits_invoice_id: Option<String>,
    pub number: Option<String>,
    pub status: String,
    pub cpua_id: String,
    pub collaboration_id: String,
    pub buyer_org_id: String,
    pub buyer_name: String,
    pub buyer_org_number: String,
    pub buyer_vat_number: Option<String>,
    pub buyer_country: String,
    pub buyer_reference: Option<String>,
    pub order_number: Option<String>,
    /// JSON: see `app::billing::Parties`.
    pub parties: String,
    pub payment_terms_days: i32,
    pub issue_date: Option<NaiveDate>,
    pub due_date: Option<NaiveDate>,
    pub ocr: Option<String>,
    pub currency: String,
    pub vat_treatment: Option<String>,
    pub net_ore: i64,
    pub vat_ore: i64,
    pub gross_ore: i64,
    pub note: Option<String>,
    pub document: Option<String>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub issued_by: Option<String>,
    pub issued_at: Option<NaiveDateTime>,
    /// Raised by each edit of a draft (optimistic concurrency); 0 when drawn.
    pub revision: i32,
}

#[derive(Debug, Clone, Queryable, Insertable, Selectable)]
#[diesel(table_name = il)]
pub struct InvoiceLineRow {
    pub invoice_id: String,
    pub line_number: i32,
    pub description: String,
    pub quantity_hundredths: i64,
    pub unit_code: String,
    pub unit_price_ore: i64,
    pub net_ore: i64,
    pub work_log_line_id: Option<String>,
}

#[derive(Debug, Clone, Queryable, Insertable, Selectable)]
#[diesel(table_name = f)]
pub struct InvoiceFileRow {
    pub invoice_id: String,
    pub kind: String,
    pub bytes: Vec<u8>,
    pub sha256: String,
}

/// What an issue writes onto the draft.
pub struct Issued<'a> {
    pub number: &'a str,
    pub issue_date: NaiveDate,
    pub due_date: Option<NaiveDate>,
    pub ocr: Option<&'a str>,
    pub vat_treatment: &'a str,
    pub net_ore: i64,
    pub vat_ore: i64,
    pub gross_ore: i64,
    pub document: &'a str,
    pub issued_by: &'a str,
    pub issued_at: NaiveDateTime,
}

// ---------- work log ----------

pub fn insert_work_line(conn: &mut DbConn, r: &WorkLogRow) -> QResult<()> {
    diesel::insert_into(w::table).values(r).execute(conn)?;
    Ok(())
}

pub fn work_lines(conn: &mut DbConn, collaboration: &str) -> QResult<Vec<WorkLogRow>> {
    w::table
        .filter(w::collaboration_id.eq(collaboration))
        .order((w::worked_on.asc(), w::logged_at.asc(), w::id.asc()))
        .select(WorkLogRow::as_select())
        .load(conn)
}

pub fn work_line(conn: &mut DbConn, collaboration: &str, id: &str) -> QResult<Option<WorkLogRow>> {
    w::table
        .filter(w::collaboration_id.eq(collaboration))
        .filter(w::id.eq(id))
        .select(WorkLogRow::as_select())
        .first(conn)
        .optional()
}

/// The sum of every line logged for a collaboration (öre): the cost agreement is the case's.
pub fn logged_total(conn: &mut DbConn, collaboration: &str) -> QResult<i64> {
    let amounts: Vec<i64> = w::table
        .filter(w::collaboration_id.eq(collaboration))
        .select(w::amount_ore)
        .load(conn)?;
    Ok(amounts.iter().sum())
}

/// Approves a line still logged; `false` when it was approved already.
pub fn approve_work_line(
    conn: &mut DbConn,
    id: &str,
    by: &str,
    at: NaiveDateTime,
) -> QResult<bool> {
    let n = diesel::update(w::table.filter(w::id.eq(id)).filter(w::status.eq("logged")))
        .set((
            w::status.eq("approved"),
            w::approved_by.eq(by),
            w::approved_at.eq(at),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// The approved lines of a collaboration and CPUA not yet on an invoice.
pub fn uninvoiced_approved(
    conn: &mut DbConn,
    collaboration: &str,
    cpua: &str,
) -> QResult<Vec<WorkLogRow>> {
    w::table
        .filter(w::collaboration_id.eq(collaboration))
        .filter(w::cpua_id.eq(cpua))
        .filter(w::status.eq("approved"))
        .filter(w::invoice_id.is_null())
        .order((w::worked_on.asc(), w::logged_at.asc(), w::id.asc()))
        .select(WorkLogRow::as_select())
        .load(conn)
}

/// Puts lines on a draft; `false` when one of them was taken by another draft meanwhile.
pub fn attach_work_lines(conn: &mut DbConn, ids: &[String], invoice: &str) -> QResult<bool> {
    let n = diesel::update(
        w::table
            .filter(w::id.eq_any(ids))
            .filter(w::invoice_id.is_null()),
    )
    .set(w::invoice_id.eq(invoice))
    .execute(conn)?;
    Ok(n == ids.len())
}

// ---------- the series ----------

/// Takes the next number of a CPUA's series for `year`, inside the caller's transaction. On
/// PostgreSQL the row is read `SELECT … FOR UPDATE`, so a second issuer (in this or another
/// process) waits until this transaction commits or rolls back; on SQLite the transaction holds the
/// single writer (`BEGIN IMMEDIATE`). A rollback gives the number back: no gaps.
pub fn take_number(conn: &mut DbConn, cpua: &str, year: i32) -> QResult<i64> {
    let first = (
        s::cpua_id.eq(cpua),
        s::year.eq(year),
        s::next_number.eq(1i64),
    );
    match conn {
        DbConn::Postgres(pg) => diesel::insert_into(s::table)
            .values(first)
            .on_conflict((s::cpua_id, s::year))
            .do_nothing()
            .execute(pg)?,
        DbConn::Sqlite(sq) => diesel::insert_into(s::table)
            .values(first)
            .on_conflict((s::cpua_id, s::year))
            .do_nothing()
            .execute(sq)?,
    };
    let key = s::table
        .filter(s::cpua_id.eq(cpua))
        .filter(s::year.eq(year));
    let n: i64 = match conn {
        DbConn::Postgres(pg) => key.select(s::next_number).for_update().first(pg)?,
        DbConn::Sqlite(_) => key.select(s::next_number).first(conn)?,
    };
    diesel::update(key)
        .set(s::next_number.eq(n + 1))
        .execute(conn)?;
    Ok(n)
}

// ---------- invoices ----------

pub fn insert_invoice(conn: &mut DbConn, r: &InvoiceRow, lines: &[InvoiceLineRow]) -> QResult<()> {
    diesel::insert_into(i::table).values(r).execute(conn)?;
    for l in lines {
        diesel::insert_into(il::table).values(l).execute(conn)?;
    }
    Ok(())
}

/// Takes the row lock of an invoice for the rest of the transaction (PostgreSQL `FOR UPDATE`; SQLite
/// has one writer already), so two issues of one draft queue and the second sees it issued.
pub fn lock_invoice(conn: &mut DbConn, id: &str) -> QResult<()> {
    if let DbConn::Postgres(pg) = conn {
        i::table
            .filter(i::id.eq(id))
            .select(i::id)
            .for_update()
            .first::<String>(pg)
            .optional()?;
    }
    Ok(())
}

pub fn invoice(conn: &mut DbConn, id: &str) -> QResult<Option<InvoiceRow>> {
    i::table
        .filter(i::id.eq(id))
        .select(InvoiceRow::as_select())
        .first(conn)
        .optional()
}

pub fn invoice_lines(conn: &mut DbConn, invoice: &str) -> QResult<Vec<InvoiceLineRow>> {
    il::table
        .filter(il::invoice_id.eq(invoice))
        .order(il::line_number.asc())
        .select(InvoiceLineRow::as_select())
        .load(conn)
}

/// Where a page of the invoice list starts: after the invoice with this creation time and id (the
/// list's order, newest first).
pub type InvoiceKey = (NaiveDateTime, String);

/// A page of a CPUA's invoices with a status (`draft`, `issued`) or all, newest first, after `after`
/// (keyset: the same cost however deep), at most `limit` rows; for `overdue`, the issued invoices due
/// before `due_before` (indexes `invoices_by_cpua`, `invoices_list`, `invoices_due`).
pub fn list_invoices(
    conn: &mut DbConn,
    cpua: &str,
    status: Option<&str>,
    after: Option<&InvoiceKey>,
    limit: i64,
) -> QResult<Vec<InvoiceRow>> {
    list_invoices_query(cpua, status, after)
        .limit(limit)
        .load(conn)
}

/// How many invoices the list of `status` (or all) holds, counted up to `cap` + 1.
pub fn count_invoices(
    conn: &mut DbConn,
    cpua: &str,
    status: Option<&str>,
    cap: i64,
) -> QResult<i64> {
    let mut q = i::table
        .filter(i::cpua_id.eq(cpua))
        .select(i::id)
        .into_boxed();
    if let Some(st) = status {
        q = q.filter(i::status.eq(st));
    }
    let ids: Vec<String> = q.limit(cap + 1).load(conn)?;
    Ok(i64::try_from(ids.len()).unwrap_or(i64::MAX))
}

/// The statement `list_invoices` runs (its query plan is checked in `tests/query_plans.rs`).
pub fn list_invoices_query<'a>(
    cpua: &'a str,
    status: Option<&'a str>,
    after: Option<&'a InvoiceKey>,
) -> InvoiceQuery<'a> {
    let mut q = i::table
        .filter(i::cpua_id.eq(cpua))
        .select(InvoiceRow::as_select())
        .into_boxed();
    if let Some(st) = status {
        q = q.filter(i::status.eq(st));
    }
    if let Some((at, id)) = after {
        q = q.filter(
            i::created_at
                .lt(*at)
                .or(i::created_at.eq(*at).and(i::id.lt(id.as_str()))),
        );
    }
    q.order((i::created_at.desc(), i::id.desc()))
}

/// What an issued invoice's standing is computed from, without its lines or files.
#[derive(Debug, Clone, Queryable)]
pub struct StandingInput {
    pub id: String,
    pub created_at: NaiveDateTime,
    pub gross_ore: i64,
    pub due_date: Option<NaiveDate>,
}

/// The issued invoices (not credit notes) of a CPUA, newest first, due before `due_before` when
/// given, with the sums their standing is computed from: the payments matched to each and the
/// placements on it, and the gross of the issued credit notes against it (negative). Four reads of
/// index ranges of the CPUA, whatever the number of invoices; the list's computed filters (`paid`,
/// `overdue`, …) run over these.
#[allow(clippy::type_complexity)]
pub fn standing_inputs(
    conn: &mut DbConn,
    cpua: &str,
    due_before: Option<NaiveDate>,
) -> QResult<(
    Vec<StandingInput>,
    std::collections::HashMap<String, i64>,
    std::collections::HashMap<String, i64>,
)> {
    use super::schema::{payment_allocations as pa, payments as p};
    let rows: Vec<StandingInput> = standing_rows_query(cpua, due_before).load(conn)?;
    let mut paid = std::collections::HashMap::new();
    let direct: Vec<(Option<String>, i64)> = p::table
        .filter(p::cpua_id.eq(cpua))
        .filter(p::invoice_id.is_not_null())
        .select((p::invoice_id, p::amount_ore))
        .load(conn)?;
    for (id, amount) in direct {
        if let Some(id) = id {
            *paid.entry(id).or_insert(0i64) += amount;
        }
    }
    let placed: Vec<(String, i64)> = pa::table
        .filter(pa::cpua_id.eq(cpua))
        .select((pa::invoice_id, pa::amount_ore))
        .load(conn)?;
    for (id, amount) in placed {
        *paid.entry(id).or_insert(0i64) += amount;
    }
    let mut credited = std::collections::HashMap::new();
    let credits: Vec<(Option<String>, i64)> = i::table
        .filter(i::cpua_id.eq(cpua))
        .filter(i::status.eq("issued"))
        .filter(i::credits_invoice_id.is_not_null())
        .select((i::credits_invoice_id, i::gross_ore))
        .load(conn)?;
    for (id, gross) in credits {
        if let Some(id) = id {
            *credited.entry(id).or_insert(0i64) += gross;
        }
    }
    Ok((rows, paid, credited))
}

/// The first read of [`standing_inputs`]: the CPUA's issued invoices, newest first (its query plan
/// is checked in `tests/query_plans.rs`).
pub fn standing_rows_query<'a>(
    cpua: &'a str,
    due_before: Option<NaiveDate>,
) -> i::BoxedQuery<
    'a,
    Backend,
    (
        diesel::sql_types::Text,
        diesel::sql_types::Timestamp,
        diesel::sql_types::BigInt,
        diesel::sql_types::Nullable<diesel::sql_types::Date>,
    ),
> {
    let mut q = i::table
        .filter(i::cpua_id.eq(cpua))
        .filter(i::status.eq("issued"))
        .filter(i::kind.eq("invoice"))
        .select((i::id, i::created_at, i::gross_ore, i::due_date))
        .into_boxed();
    if let Some(d) = due_before {
        q = q.filter(i::due_date.lt(d));
    }
    q.order((i::created_at.desc(), i::id.desc()))
}

/// Invoice rows by id, in no particular order.
pub fn invoices_by_id(conn: &mut DbConn, ids: &[String]) -> QResult<Vec<InvoiceRow>> {
    i::table
        .filter(i::id.eq_any(ids))
        .select(InvoiceRow::as_select())
        .load(conn)
}

/// The credit notes issued against an invoice.
pub fn credit_notes_of(conn: &mut DbConn, invoice: &str) -> QResult<Vec<InvoiceRow>> {
    i::table
        .filter(i::credits_invoice_id.eq(invoice))
        .order((i::created_at.asc(), i::id.asc()))
        .select(InvoiceRow::as_select())
        .load(conn)
}

/// Stores a rendering of a draft about to be issued (the database refuses it once issued).
pub fn insert_file(conn: &mut DbConn, r: &InvoiceFileRow) -> QResult<()> {
    diesel::insert_into(f::table).values(r).execute(conn)?;
    Ok(())
}

pub fn file(conn: &mut DbConn, invoice: &str, kind: &str) -> QResult<Option<InvoiceFileRow>> {
    f::table
        .filter(f::invoice_id.eq(invoice))
        .filter(f::kind.eq(kind))
        .select(InvoiceFileRow::as_select())
        .first(conn)
        .optional()
}

/// The stored files' kinds and hashes.
pub fn file_hashes(conn: &mut DbConn, invoice: &str) -> QResult<Vec<(String, String)>> {
    f::table
        .filter(f::invoice_id.eq(invoice))
        .order(f::kind.asc())
        .select((f::kind, f::sha256))
        .load(conn)
}

/// Issues a draft: number, dates, totals, the document; `false` when it was issued already.
pub fn mark_issued(conn: &mut DbConn, id: &str, v: &Issued<'_>) -> QResult<bool> {
    let n = diesel::update(i::table.filter(i::id.eq(id)).filter(i::status.eq("draft")))
        .set((
            i::status.eq("issued"),
            i::number.eq(v.number),
            i::issue_date.eq(v.issue_date),
            i::due_date.eq(v.due_date),
            i::ocr.eq(v.ocr),
            i::vat_treatment.eq(v.vat_treatment),
            i::net_ore.eq(v.net_ore),
            i::vat_ore.eq(v.vat_ore),
            i::gross_ore.eq(v.gross_ore),
            i::document.eq(v.document),
            i::issued_by.eq(v.issued_by),
            i::issued_at.eq(v.issued_at),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

// ---------- query plans ----------

/// `EXPLAIN` (PostgreSQL) or `EXPLAIN QUERY PLAN` (SQLite) in front of a statement built here, with
/// its binds, so a test reads the plan of the very statement production runs.
struct Explain<Q, ST> {
    query: Q,
    prefix: &'static str,
    row: std::marker::PhantomData<ST>,
}

impl<Q, ST> diesel::query_builder::QueryId for Explain<Q, ST> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q, ST: 'static> diesel::query_builder::Query for Explain<Q, ST> {
    type SqlType = ST;
}

impl<Q, ST, DB> diesel::query_builder::QueryFragment<DB> for Explain<Q, ST>
where
    DB: diesel::backend::Backend,
    Q: diesel::query_builder::QueryFragment<DB>,
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> QueryResult<()> {
        out.push_sql(self.prefix);
        self.query.walk_ast(out.reborrow())
    }
}

impl<Q, ST, C> RunQueryDsl<C> for Explain<Q, ST> {}

/// The plan of a statement built here: PostgreSQL's `EXPLAIN` lines, or SQLite's `EXPLAIN QUERY
/// PLAN` details.
pub fn explain<Q>(conn: &mut DbConn, query: Q) -> QResult<Vec<String>>
where
    Q: diesel::query_builder::QueryFragment<Backend>,
{
    use diesel::sql_types::{Integer, Text};
    if matches!(conn, DbConn::Postgres(_)) {
        Explain::<Q, Text> {
            query,
            prefix: "EXPLAIN ",
            row: std::marker::PhantomData,
        }
        .load::<String>(conn)
    } else {
        let rows = Explain::<Q, (Integer, Integer, Integer, Text)> {
            query,
            prefix: "EXPLAIN QUERY PLAN ",
            row: std::marker::PhantomData,
        }
        .load::<(i32, i32, i32, String)>(conn)?;
        Ok(rows.into_iter().map(|r| r.3).collect())
    }
}

// ---------- receipts of expense lines (issue 15, item 2) ----------

/// Which case document is the receipt of a work-log line.
#[derive(Debug, Clone, Queryable, Insertable, Selectable)]
#[diesel(table_name = wr)]
pub struct ReceiptRow {
    pub work_log_line_id: String,
    pub document_id: String,
    pub attached_by: String,
    pub attached_at: NaiveDateTime,
}

pub fn insert_receipt(conn: &mut DbConn, r: &ReceiptRow) -> QResult<()> {
    diesel::insert_into(wr::table).values(r).execute(conn)?;
    Ok(())
}

pub fn receipt_of(conn: &mut DbConn, line: &str) -> QResult<Option<ReceiptRow>> {
    wr::table
        .filter(wr::work_log_line_id.eq(line))
        .select(ReceiptRow::as_select())
        .first(conn)
        .optional()
}

/// The receipts of the lines of a collaboration (by its lines' ids).
pub fn receipts_of(conn: &mut DbConn, lines: &[String]) -> QResult<Vec<ReceiptRow>> {
    if lines.is_empty() {
        return Ok(Vec::new());
    }
    wr::table
        .filter(wr::work_log_line_id.eq_any(lines))
        .select(ReceiptRow::as_select())
        .load(conn)
}

// ---------- editing a draft (issue 15, item 3) ----------

/// What an edit of a draft writes onto it.
pub struct DraftEdit<'a> {
    pub buyer_reference: Option<&'a str>,
    pub order_number: Option<&'a str>,
    pub payment_terms_days: i32,
    pub net_ore: i64,
    pub vat_ore: i64,
    pub gross_ore: i64,
}

/// Writes an edit onto a draft still at `revision`, raising it; `false` when the draft was issued
/// or edited meanwhile (nothing written).
pub fn update_draft(
    conn: &mut DbConn,
    id: &str,
    revision: i32,
    v: &DraftEdit<'_>,
) -> QResult<bool> {
    let n = diesel::update(
        i::table
            .filter(i::id.eq(id))
            .filter(i::status.eq("draft"))
            .filter(i::revision.eq(revision)),
    )
    .set((
        i::buyer_reference.eq(v.buyer_reference),
        i::order_number.eq(v.order_number),
        i::payment_terms_days.eq(v.payment_terms_days),
        i::net_ore.eq(v.net_ore),
        i::vat_ore.eq(v.vat_ore),
        i::gross_ore.eq(v.gross_ore),
        i::revision.eq(revision + 1),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Replaces a draft's lines (the database refuses it once issued).
pub fn replace_draft_lines(
    conn: &mut DbConn,
    invoice: &str,
    lines: &[InvoiceLineRow],
) -> QResult<()> {
    diesel::delete(il::table.filter(il::invoice_id.eq(invoice))).execute(conn)?;
    for l in lines {
        diesel::insert_into(il::table).values(l).execute(conn)?;
    }
    Ok(())
}

/// Takes lines off a draft: they are approved and free to invoice again.
pub fn detach_work_lines(conn: &mut DbConn, ids: &[String], invoice: &str) -> QResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    diesel::update(
        w::table
            .filter(w::id.eq_any(ids))
            .filter(w::invoice_id.eq(invoice)),
    )
    .set(w::invoice_id.eq(None::<String>))
    .execute(conn)?;
    Ok(())
}

/// The work-log lines of a collaboration and CPUA a draft may hold: the approved lines that are
/// free or on this draft.
pub fn draftable_lines(
    conn: &mut DbConn,
    collaboration: &str,
    cpua: &str,
    invoice: &str,
) -> QResult<Vec<WorkLogRow>> {
    w::table
        .filter(w::collaboration_id.eq(collaboration))
        .filter(w::cpua_id.eq(cpua))
        .filter(w::status.eq("approved"))
        .filter(w::invoice_id.is_null().or(w::invoice_id.eq(invoice)))
        .order((w::worked_on.asc(), w::logged_at.asc(), w::id.asc()))
        .select(WorkLogRow::as_select())
        .load(conn)
}
