//! Payments of invoices, their balance and status, overdue reminders and the finance export (issue
//! 15, items 5, 6 and 8). The commands pages call too:
//!
//! - [`record`]: finance records a payment by hand (invoice id or OCR reference, amount, value
//!   date, bank reference);
//! - [`import`]: finance imports a bank's camt.054 file: parsed ([`camt::parse`]), matched
//!   ([`settlement::settle`]) and written all or nothing in the caller's one transaction. A bank
//!   reference is counted once per CPUA (unique index), so a replayed or overlapping file pays
//!   nothing twice. Unmatched credits are written too (no invoice, with the reason), so the money is
//!   never silently dropped and a replay does not report them again; the answer lists them;
//! - [`allocate`]: finance places (part of) a payment that matched no invoice on an invoice later
//!   (append-only; [`unmatched`] lists what is left to place);
//! - [`standing_of`]: an invoice's balance and status, computed from its payments and credit notes
//!   ([`balance::standing`]), never stored on the immutable invoice;
//! - [`remind_overdue`]: the mail scheduler's round of overdue reminders ([`reminder::round_due`]);
//! - [`export_csv`]: the period's issued invoices, credit notes and payments ([`csv_export`]).
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashSet};

use super::authz;
use super::billing::corrupt;
use super::{AppError, Services};
use crate::db::billing::{self as bill, InvoiceRow};
use crate::db::payments::{self as store, ImportRow, PaymentRow, ReminderRow};
use crate::db::repo::{ts, utc};
use crate::db::DbConn;
use crate::domain::billing::amount::{Amount, Currency};
use crate::domain::billing::balance::{self, Standing};
use crate::domain::billing::document::DocumentKind;
use crate::domain::billing::settlement::{self, OpenInvoice, Outcome, SettlementError};
use crate::domain::billing::{camt, csv_export, ocr, reminder};
use crate::domain::events::EventType;
use crate::domain::lang::Lang;
use crate::domain::role::{Actor, Role};

/// The largest camt.054 file accepted (bytes); a bank's daily notification is far smaller.
pub const MAX_CAMT_BYTES: usize = 4 * 1024 * 1024;
/// The longest period of one finance export (days, both ends included).
pub const MAX_EXPORT_DAYS: i64 = 366;
/// The template and outbox event of an overdue reminder.
pub const REMINDER_TEMPLATE: &str = "invoice_overdue";

fn not_found() -> AppError {
    AppError::NotFound(crate::msg!("thing.invoice"))
}

/// An event on the collaboration's stream with its stored state (`audit::record_case_event`).
fn audit(
    conn: &mut DbConn,
    actor: &Actor,
    collaboration: &str,
    event: EventType,
    after: Value,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    super::audit::record_case_event(conn, actor, collaboration, event, None, after, now)
}

// ---------------------------------------------------------------------------------------------
// Balance and status

/// An invoice's balance and status now (see [`balance`]).
pub fn standing_of(
    conn: &mut DbConn,
    r: &InvoiceRow,
    today: NaiveDate,
) -> Result<Standing, AppError> {
    let issued = r.status == "issued";
    let (credited, paid) = if issued && r.kind == "invoice" {
        (
            store::credited_total(conn, &r.id)?,
            store::paid_total(conn, &r.id)?,
        )
    } else {
        (0, 0)
    };
    Ok(balance::standing(
        &r.kind,
        issued,
        r.gross_ore,
        credited,
        paid,
        r.due_date,
        today,
    ))
}

/// Whether a list filter names a computed status (or `unpaid`: a balance above zero).
pub fn is_computed_filter(status: &str) -> bool {
    matches!(
        status,
        "unpaid" | "partially_paid" | "paid" | "overpaid" | "credited"
    )
}

// ---------------------------------------------------------------------------------------------
// Recording a payment by hand

/// A payment recorded by hand (issue 15, item 5): name the invoice by its id or its OCR reference.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentInput {
    /// The invoice paid (its id); or give `ocr_reference`.
    #[serde(default)]
    pub invoice: Option<String>,
    /// The OCR reference the payer gave; or give `invoice`.
    #[serde(default)]
    pub ocr_reference: Option<String>,
    /// Öre, above zero.
    pub amount_ore: i64,
    /// ISO 4217; the invoice's currency when left out.
    #[serde(default)]
    pub currency: Option<String>,
    /// The bank's value date `YYYY-MM-DD`, not after today.
    pub value_date: String,
    /// The bank's reference; a reference is counted once per CPUA.
    pub bank_reference: String,
    /// Who paid, as the bank statement says (at most 140 characters); optional.
    #[serde(default)]
    pub payer_name: Option<String>,
}

/// A recorded payment.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PaymentView {
    pub id: String,
    /// None while unmatched.
    pub invoice_id: Option<String>,
    pub invoice_number: Option<String>,
    pub amount_ore: i64,
    pub currency: String,
    pub value_date: NaiveDate,
    pub bank_reference: String,
    pub ocr_reference: Option<String>,
    /// `manual` or `camt054`.
    pub source: String,
    pub import_id: Option<String>,
    /// Why it matched no invoice: `no_reference`, `invalid_ocr`, `unknown_ocr`,
    /// `no_single_invoice` or `currency`.
    pub unmatched_reason: Option<String>,
    /// Who paid: camt.054 `Dbtr/Nm`, or as finance typed it; none when not given.
    pub payer_name: Option<String>,
    pub recorded_at: DateTime<Utc>,
    /// Set when an unmatched payment was placed on this invoice later: the placement, and
    /// `amount_ore` is the amount placed.
    pub allocation_id: Option<String>,
}

/// What a payment did to its invoice.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RecordedPayment {
    pub payment: PaymentView,
    pub balance_before_ore: i64,
    pub balance_after_ore: i64,
    /// `paid`, `partially_paid` or `overpaid`.
    pub outcome: String,
    /// The invoice's status after it (see `InvoiceView.payment_status`).
    pub payment_status: String,
}

fn payment_view(p: PaymentRow, number: Option<String>) -> PaymentView {
    PaymentView {
        id: p.id,
        invoice_id: p.invoice_id,
        invoice_number: number,
        amount_ore: p.amount_ore,
        currency: p.currency,
        value_date: p.value_date,
        bank_reference: p.bank_reference,
        ocr_reference: p.ocr_reference,
        source: p.source,
        import_id: p.import_id,
        unmatched_reason: p.unmatched_reason,
        payer_name: p.payer_name,
        recorded_at: utc(p.recorded_at),
        allocation_id: None,
    }
}

fn outcome_code(after: i64) -> &'static str {
    match after {
        0 => "paid",
        a if a > 0 => "partially_paid",
        _ => "overpaid",
    }
}

fn bank_reference(v: &str) -> Result<String, AppError> {
    let t = v.trim();
    if t.is_empty() || t.chars().count() > 140 || t.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "bank_reference",
            crate::msg!("payment.bank_reference"),
        ));
    }
    Ok(t.to_string())
}

/// The payer's name of a payment recorded by hand: optional, one line, at most 140 characters.
fn payer_name_input(v: Option<&str>) -> Result<Option<String>, AppError> {
    let Some(v) = v else { return Ok(None) };
    if v.trim().chars().count() > camt::MAX_PAYER_NAME {
        return Err(AppError::invalid(
            "payer_name",
            crate::msg!("payment.payer_name", max = camt::MAX_PAYER_NAME),
        ));
    }
    Ok(camt::payer_name(v))
}

/// A date written `YYYY-MM-DD`, exactly.
fn date(v: &str) -> Option<NaiveDate> {
    let t = v.trim();
    if t.len() != 10 {
        return None;
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d").ok()
}

/// The issued invoice of the actor's CPUA that a payment names (404 for another CPUA's).
fn payable_invoice(
    conn: &mut DbConn,
    actor: &Actor,
    input: &PaymentInput,
) -> Result<InvoiceRow, AppError> {
    let invoice = input
        .invoice
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let ocr_ref: Option<String> = input
        .ocr_reference
        .as_deref()
        .map(|s| s.chars().filter(|c| !c.is_whitespace()).collect::<String>())
        .filter(|s| !s.is_empty());
    let r = match (invoice, ocr_ref) {
        (Some(id), None) => {
            let r = bill::invoice(conn, id)?.ok_or_else(not_found)?;
            if !authz::pays_for(actor, &r.cpua_id) {
                return Err(not_found());
            }
            r
        }
        (None, Some(o)) => {
            if !ocr::check(&o) {
                return Err(AppError::invalid(
                    "ocr_reference",
                    crate::msg!("payment.unknown_ocr"),
                ));
            }
            let mut found = store::invoices_by_ocr(conn, actor.org.as_str(), &[o])?;
            if found.len() != 1 {
                return Err(AppError::invalid(
                    "ocr_reference",
                    crate::msg!("payment.unknown_ocr"),
                ));
            }
            found.remove(0)
        }
        _ => return Err(AppError::invalid("invoice", crate::msg!("payment.target"))),
    };
    if r.kind != "invoice" || r.status != "issued" {
        return Err(AppError::Conflict(crate::msg!("payment.not_open")));
    }
    Ok(r)
}

/// Finance records a payment of an issued invoice of its CPUA by hand, with its audit event, in the
/// caller's transaction. A bank reference already recorded is refused (409), never counted twice.
pub fn record(
    conn: &mut DbConn,
    actor: &Actor,
    input: PaymentInput,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Result<RecordedPayment, AppError> {
    authz::may_record_payments(actor)?;
    let inv = payable_invoice(conn, actor, &input)?;
    if input.amount_ore <= 0 {
        return Err(AppError::invalid(
            "amount_ore",
            crate::msg!("payment.amount"),
        ));
    }
    let currency = match input.currency.as_deref().map(str::trim) {
        None | Some("") => inv.currency.clone(),
        Some(c) => c.to_ascii_uppercase(),
    };
    if currency != inv.currency {
        return Err(AppError::invalid(
            "currency",
            crate::msg!("payment.currency", currency = inv.currency.as_str()),
        ));
    }
    let value_date = date(&input.value_date)
        .filter(|d| *d <= today)
        .ok_or_else(|| AppError::invalid("value_date", crate::msg!("payment.value_date")))?;
    let bank_ref = bank_reference(&input.bank_reference)?;
    let payer_name = payer_name_input(input.payer_name.as_deref())?;
    if !store::recorded_references(conn, &inv.cpua_id, std::slice::from_ref(&bank_ref))?.is_empty()
    {
        return Err(AppError::Conflict(crate::msg!("payment.duplicate")));
    }
    let before = standing_of(conn, &inv, today)?.balance_ore;
    let row = PaymentRow {
        id: uuid::Uuid::new_v4().to_string(),
        cpua_id: inv.cpua_id.clone(),
        invoice_id: Some(inv.id.clone()),
        amount_ore: input.amount_ore,
        currency,
        value_date,
        bank_reference: bank_ref,
        ocr_reference: inv.ocr.clone(),
        unmatched_reason: None,
        source: "manual".into(),
        import_id: None,
        recorded_by: actor.account.to_string(),
        recorded_at: ts(now),
        payer_name,
    };
    store::insert_payments(conn, std::slice::from_ref(&row))?;
    let after = standing_of(conn, &inv, today)?;
    audit(
        conn,
        actor,
        &inv.collaboration_id,
        EventType::PaymentRecorded,
        json!({"payment_id": row.id, "invoice_id": inv.id, "number": inv.number,
               "amount_ore": row.amount_ore, "currency": row.currency,
               "value_date": row.value_date.to_string(), "bank_reference": row.bank_reference,
               "source": "manual", "payer_name": row.payer_name, "balance_before_ore": before,
               "balance_after_ore": after.balance_ore, "status": after.status}),
        now,
    )?;
    Ok(RecordedPayment {
        outcome: outcome_code(after.balance_ore).into(),
        balance_before_ore: before,
        balance_after_ore: after.balance_ore,
        payment_status: after.status.into(),
        payment: payment_view(row, inv.number.clone()),
    })
}

/// The payments of an invoice the actor sees (seller CPUA staff, the buying company).
pub fn of_invoice(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
) -> Result<Vec<PaymentView>, AppError> {
    let r = bill::invoice(conn, id)?.ok_or_else(not_found)?;
    if !authz::sees_invoice(actor, &r.cpua_id, &r.buyer_org_id) {
        return Err(not_found());
    }
    let mut v: Vec<PaymentView> = store::of_invoice(conn, &r.id)?
        .into_iter()
        .map(|p| payment_view(p, r.number.clone()))
        .collect();
    // An unmatched payment placed on it: the placed amount, with the placement's id.
    for (a, p) in store::allocations_of_invoice(conn, &r.id)? {
        let mut shown = payment_view(p, r.number.clone());
        shown.invoice_id = Some(a.invoice_id);
        shown.amount_ore = a.amount_ore;
        shown.allocation_id = Some(a.id);
        v.push(shown);
    }
    Ok(v)
}

// ---------------------------------------------------------------------------------------------
// Placing an unmatched payment on an invoice

/// Where finance places a payment that matched no invoice (its OCR reference matched nothing, or
/// it had none): the invoice and how much of the payment goes to it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AllocationInput {
    /// An issued invoice (not a credit note) of the caller's CPUA, in the payment's currency.
    pub invoice_id: String,
    /// Öre, above zero and at most what is left of the payment to place.
    pub amount_ore: i64,
}

/// A placement made: what it did to the invoice, and what is left of the payment.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AllocationView {
    pub id: String,
    pub payment_id: String,
    pub invoice_id: String,
    pub invoice_number: Option<String>,
    pub amount_ore: i64,
    pub currency: String,
    /// What is left of the payment to place after this one.
    pub payment_remaining_ore: i64,
    pub balance_before_ore: i64,
    pub balance_after_ore: i64,
    /// `paid`, `partially_paid` or `overpaid`.
    pub outcome: String,
    /// The invoice's status after it (see `InvoiceView.payment_status`).
    pub payment_status: String,
    pub allocated_at: DateTime<Utc>,
}

/// A payment that matched no invoice, with what is left of it to place.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UnmatchedPayment {
    pub payment: PaymentView,
    /// Öre placed on invoices so far.
    pub allocated_ore: i64,
    /// Öre left to place.
    pub remaining_ore: i64,
}

fn payment_not_found() -> AppError {
    AppError::NotFound(crate::msg!("thing.payment"))
}

/// The payments of the actor's CPUA that matched no invoice and are not placed in whole yet
/// (finance only), newest first.
pub fn unmatched(conn: &mut DbConn, actor: &Actor) -> Result<Vec<UnmatchedPayment>, AppError> {
    authz::may_record_payments(actor)?;
    let rows = store::unmatched_of(conn, actor.org.as_str())?;
    let ids: Vec<String> = rows.iter().map(|p| p.id.clone()).collect();
    let placed: BTreeMap<String, i64> = store::allocated_of(conn, &ids)?.into_iter().collect();
    Ok(rows
        .into_iter()
        .filter_map(|p| {
            let allocated = placed.get(&p.id).copied().unwrap_or(0);
            let remaining = p.amount_ore - allocated;
            (remaining > 0).then(|| UnmatchedPayment {
                payment: payment_view(p, None),
                allocated_ore: allocated,
                remaining_ore: remaining,
            })
        })
        .collect())
}

/// Finance places (part of) a payment that matched no invoice on an issued invoice of its CPUA, in
/// the caller's one transaction with its audit event. Append-only: a placement is never changed or
/// taken back (the database refuses it too); a wrong one is corrected by a refund and a new
/// payment. The payment's row is locked first, so two placements at once never place more than it
/// holds. Refusals: another CPUA's payment or invoice 404; a payment matched to an invoice already,
/// a draft or a credit note 409; an amount not above zero or above what is left of the payment
/// (`amount_ore`), another currency (`invoice_id`) 422.
pub fn allocate(
    conn: &mut DbConn,
    actor: &Actor,
    payment_id: &str,
    input: AllocationInput,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Result<AllocationView, AppError> {
    authz::may_record_payments(actor)?;
    let pay = store::payment_for_update(conn, payment_id)?
        .filter(|p| authz::pays_for(actor, &p.cpua_id))
        .ok_or_else(payment_not_found)?;
    if pay.invoice_id.is_some() {
        return Err(AppError::Conflict(crate::msg!("payment.allocate_matched")));
    }
    let invoice_id = input.invoice_id.trim();
    if invoice_id.is_empty() {
        return Err(AppError::invalid(
            "invoice_id",
            crate::msg!("payment.allocate_invoice"),
        ));
    }
    let inv = bill::invoice(conn, invoice_id)?
        .filter(|r| authz::pays_for(actor, &r.cpua_id))
        .ok_or_else(not_found)?;
    if inv.kind != "invoice" || inv.status != "issued" {
        return Err(AppError::Conflict(crate::msg!("payment.not_open")));
    }
    if inv.currency != pay.currency {
        return Err(AppError::invalid(
            "invoice_id",
            crate::msg!("payment.currency", currency = inv.currency.as_str()),
        ));
    }
    let placed: i64 = store::allocated_of(conn, std::slice::from_ref(&pay.id))?
        .into_iter()
        .map(|(_, a)| a)
        .sum();
    let remaining = pay.amount_ore - placed;
    if input.amount_ore <= 0 || input.amount_ore > remaining {
        let currency =
            Currency::parse(&pay.currency).map_err(|e| corrupt("payment currency", e))?;
        return Err(AppError::invalid(
            "amount_ore",
            crate::msg!(
                "payment.allocate_amount",
                remaining = csv_export::kronor(Amount::new(remaining.max(0), currency)).as_str(),
                currency = pay.currency.as_str()
            ),
        ));
    }
    let before = standing_of(conn, &inv, today)?.balance_ore;
    let row = store::AllocationRow {
        id: uuid::Uuid::new_v4().to_string(),
        payment_id: pay.id.clone(),
        invoice_id: inv.id.clone(),
        cpua_id: pay.cpua_id.clone(),
        amount_ore: input.amount_ore,
        allocated_by: actor.account.to_string(),
        allocated_at: ts(now),
    };
    store::insert_allocation(conn, &row)?;
    let after = standing_of(conn, &inv, today)?;
    let left = remaining - row.amount_ore;
    audit(
        conn,
        actor,
        &inv.collaboration_id,
        EventType::PaymentAllocated,
        json!({"allocation_id": row.id, "payment_id": pay.id, "invoice_id": inv.id,
               "number": inv.number, "amount_ore": row.amount_ore, "currency": pay.currency,
               "bank_reference": pay.bank_reference, "payer_name": pay.payer_name,
               "payment_remaining_ore": left, "balance_before_ore": before,
               "balance_after_ore": after.balance_ore, "status": after.status}),
        now,
    )?;
    Ok(AllocationView {
        id: row.id,
        payment_id: pay.id,
        invoice_id: inv.id,
        invoice_number: inv.number,
        amount_ore: row.amount_ore,
        currency: pay.currency,
        payment_remaining_ore: left,
        balance_before_ore: before,
        balance_after_ore: after.balance_ore,
        outcome: outcome_code(after.balance_ore).into(),
        payment_status: after.status.into(),
        allocated_at: utc(row.allocated_at),
    })
}

// ---------------------------------------------------------------------------------------------
// Importing a camt.054 file

/// A payment of the file matched to an invoice.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportedMatch {
    pub payment_id: String,
    pub invoice_id: String,
    pub invoice_number: Option<String>,
    pub bank_reference: String,
    pub amount_ore: i64,
    pub value_date: NaiveDate,
    /// The line of the entry in the file.
    pub line: usize,
    /// Who paid (`Dbtr/Nm`), when the file says.
    pub payer_name: Option<String>,
    pub balance_before_ore: i64,
    pub balance_after_ore: i64,
    /// `paid`, `partially_paid` or `overpaid`.
    pub outcome: String,
}

/// A credit of the file that matched no invoice: recorded without one, for finance to place.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportedUnmatched {
    pub payment_id: String,
    pub bank_reference: String,
    pub amount_ore: i64,
    pub currency: String,
    pub value_date: NaiveDate,
    pub line: usize,
    /// What the payer gave.
    pub reference: Option<String>,
    /// Who paid (`Dbtr/Nm`), when the file says.
    pub payer_name: Option<String>,
    /// `no_reference`, `invalid_ocr`, `unknown_ocr`, `no_single_invoice` or `currency`.
    pub reason: String,
}

/// An entry of the file that is not a payment (a debit, or not booked): not recorded.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportedSkipped {
    pub bank_reference: String,
    /// `debit` or `not_booked`.
    pub reason: String,
}

/// The answer of an import: what every entry of the file did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportView {
    pub import_id: String,
    /// The SHA-256 of the file's bytes.
    pub sha256: String,
    pub message_id: Option<String>,
    pub entries: usize,
    pub matched: Vec<ImportedMatch>,
    pub unmatched: Vec<ImportedUnmatched>,
    /// Bank references recorded before (a replayed or overlapping file): not counted again.
    pub already_recorded: Vec<String>,
    pub skipped: Vec<ImportedSkipped>,
}

fn reason_code(r: &settlement::UnmatchedReason) -> &'static str {
    use settlement::UnmatchedReason as U;
    match r {
        U::NoReference => "no_reference",
        U::InvalidOcr(_) => "invalid_ocr",
        U::UnknownOcr(_) => "unknown_ocr",
        U::NoSingleInvoice => "no_single_invoice",
        U::Currency { .. } => "currency",
    }
}

fn settlement_error(e: SettlementError) -> AppError {
    match e {
        SettlementError::DuplicateReference {
            reference,
            first,
            second,
        } => AppError::invalid(
            "file",
            crate::msg!(
                "payment.import_duplicate",
                reference = reference.as_str(),
                first = first,
                second = second
            ),
        ),
        SettlementError::NoBankReference { line } => AppError::invalid(
            "file",
            crate::msg!("payment.import_no_reference", line = line),
        ),
        SettlementError::NotPositive { line } => AppError::invalid(
            "file",
            crate::msg!("payment.import_not_positive", line = line),
        ),
        SettlementError::Overflow(_) => AppError::invalid("file", crate::msg!("payment.overflow")),
    }
}

/// The OCR references a payment could name: its structured reference, or every digit run of its
/// free text that passes the check.
fn candidates(p: &settlement::IncomingPayment) -> Vec<String> {
    let Some(r) = p.reference.as_deref() else {
        return vec![];
    };
    if p.structured {
        let digits: String = r.chars().filter(|c| !c.is_whitespace()).collect();
        return vec![digits];
    }
    r.split(|c: char| !c.is_ascii_digit())
        .filter(|run| ocr::check(run))
        .map(str::to_string)
        .collect()
}

/// Finance imports a camt.054 file for its CPUA, all or nothing in the caller's transaction: a
/// file that does not parse is refused naming the element and line, and nothing is written.
pub fn import(
    conn: &mut DbConn,
    actor: &Actor,
    bytes: &[u8],
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Result<ImportView, AppError> {
    authz::may_record_payments(actor)?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(AppError::invalid(
            "file",
            crate::msg!("payment.import_empty"),
        ));
    }
    let n = camt::parse(bytes).map_err(|e| AppError::invalid("file", e.message()))?;
    let cpua = actor.org.as_str().to_string();
    let (payments, skipped) = settlement::payments_of(&n);
    let refs: Vec<String> = payments.iter().map(|p| p.bank_reference.clone()).collect();
    let recorded: HashSet<String> = store::recorded_references(conn, &cpua, &refs)?
        .into_iter()
        .collect();
    let mut ocrs: Vec<String> = payments.iter().flat_map(candidates).collect();
    ocrs.sort();
    ocrs.dedup();
    let rows = store::invoices_by_ocr(conn, &cpua, &ocrs)?;
    let mut open = Vec::with_capacity(rows.len());
    let mut by_id: BTreeMap<String, InvoiceRow> = BTreeMap::new();
    for r in rows {
        let Some(o) = r.ocr.clone() else { continue };
        let currency = Currency::parse(&r.currency).map_err(|e| corrupt("invoice currency", e))?;
        let s = standing_of(conn, &r, today)?;
        open.push(OpenInvoice {
            id: r.id.clone(),
            ocr: o,
            balance: Amount::new(s.balance_ore, currency),
        });
        by_id.insert(r.id.clone(), r);
    }
    let s = settlement::settle(&open, &payments, &recorded).map_err(settlement_error)?;
    let sha = hex::encode(Sha256::digest(bytes));
    let import_id = uuid::Uuid::new_v4().to_string();
    let count = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
    store::insert_import(
        conn,
        &ImportRow {
            id: import_id.clone(),
            cpua_id: cpua.clone(),
            sha256: sha.clone(),
            message_id: n.message_id.clone(),
            entries: count(n.transactions.len()),
            matched: count(s.matched.len()),
            unmatched: count(s.unmatched.len()),
            already_recorded: count(s.already_recorded.len()),
            recorded_by: actor.account.to_string(),
            recorded_at: ts(now),
        },
    )?;
    let row_of =
        |p: &settlement::IncomingPayment, invoice: Option<String>, reason: Option<&str>| {
            PaymentRow {
                id: uuid::Uuid::new_v4().to_string(),
                cpua_id: cpua.clone(),
                invoice_id: invoice,
                amount_ore: p.amount.minor(),
                currency: p.amount.currency().as_str().to_string(),
                value_date: p.booked_on,
                bank_reference: p.bank_reference.clone(),
                ocr_reference: p.reference.clone().filter(|_| p.structured),
                unmatched_reason: reason.map(str::to_string),
                source: "camt054".into(),
                import_id: Some(import_id.clone()),
                recorded_by: actor.account.to_string(),
                recorded_at: ts(now),
                payer_name: p.payer_name.clone(),
            }
        };
    let mut matched = Vec::with_capacity(s.matched.len());
    let mut written = Vec::new();
    for m in &s.matched {
        let row = row_of(&m.payment, Some(m.invoice_id.clone()), None);
        let inv = by_id
            .get(&m.invoice_id)
            .ok_or_else(|| corrupt("settlement", "an unknown invoice"))?;
        let outcome = match m.outcome {
            Outcome::Paid => "paid",
            Outcome::Partial { .. } => "partially_paid",
            Outcome::Overpaid { .. } => "overpaid",
        };
        matched.push(ImportedMatch {
            payment_id: row.id.clone(),
            invoice_id: m.invoice_id.clone(),
            invoice_number: inv.number.clone(),
            bank_reference: row.bank_reference.clone(),
            amount_ore: row.amount_ore,
            value_date: row.value_date,
            line: m.payment.line,
            payer_name: row.payer_name.clone(),
            balance_before_ore: m.balance_before.minor(),
            balance_after_ore: m.balance_after.minor(),
            outcome: outcome.into(),
        });
        written.push(row);
    }
    let mut unmatched = Vec::with_capacity(s.unmatched.len());
    for u in &s.unmatched {
        let code = reason_code(&u.reason);
        let row = row_of(&u.payment, None, Some(code));
        unmatched.push(ImportedUnmatched {
            payment_id: row.id.clone(),
            bank_reference: row.bank_reference.clone(),
            amount_ore: row.amount_ore,
            currency: row.currency.clone(),
            value_date: row.value_date,
            line: u.payment.line,
            reference: u.payment.reference.clone(),
            payer_name: row.payer_name.clone(),
            reason: code.into(),
        });
        written.push(row);
    }
    store::insert_payments(conn, &written)?;
    for m in &matched {
        let Some(inv) = by_id.get(&m.invoice_id) else {
            continue;
        };
        audit(
            conn,
            actor,
            &inv.collaboration_id,
            EventType::PaymentRecorded,
            json!({"payment_id": m.payment_id, "invoice_id": m.invoice_id, "number": inv.number,
                   "amount_ore": m.amount_ore, "value_date": m.value_date.to_string(),
                   "bank_reference": m.bank_reference, "source": "camt054",
                   "payer_name": m.payer_name,
                   "import_id": import_id, "file_sha256": sha,
                   "balance_before_ore": m.balance_before_ore,
                   "balance_after_ore": m.balance_after_ore, "outcome": m.outcome}),
            now,
        )?;
    }
    Ok(ImportView {
        import_id: import_id.clone(),
        sha256: sha,
        message_id: n.message_id.clone(),
        entries: n.transactions.len(),
        matched,
        unmatched,
        already_recorded: s
            .already_recorded
            .iter()
            .map(|p| p.bank_reference.clone())
            .collect(),
        skipped: skipped
            .into_iter()
            .map(|k| match k {
                settlement::Skipped::Debit { bank_reference } => ImportedSkipped {
                    bank_reference,
                    reason: "debit".into(),
                },
                settlement::Skipped::NotBooked { bank_reference, .. } => ImportedSkipped {
                    bank_reference,
                    reason: "not_booked".into(),
                },
            })
            .collect(),
    })
}

// ---------------------------------------------------------------------------------------------
// The finance export

/// The period of an export from its query values; a refusal names `from` or `to`.
pub fn period(from: Option<&str>, to: Option<&str>) -> Result<csv_export::Period, AppError> {
    let bad = |f: &str| AppError::invalid(f, crate::msg!("export.date"));
    let from = from.and_then(date).ok_or_else(|| bad("from"))?;
    let to = to.and_then(date).ok_or_else(|| bad("to"))?;
    if to < from || (to - from).num_days() >= MAX_EXPORT_DAYS {
        return Err(AppError::invalid(
            "to",
            crate::msg!("export.period", max = MAX_EXPORT_DAYS),
        ));
    }
    Ok(csv_export::Period { from, to })
}

/// The finance export of the actor's CPUA: the issued invoices and credit notes and the payments
/// (matched or not) of the period, as the region's ledger reads it ([`csv_export::export`]).
pub fn export_csv(
    conn: &mut DbConn,
    actor: &Actor,
    period: csv_export::Period,
    lang: Lang,
) -> Result<String, AppError> {
    authz::may_record_payments(actor)?;
    let cpua = actor.org.as_str();
    let docs = store::issued_between(conn, cpua, period.from, period.to)?;
    let mut numbers: BTreeMap<String, Option<String>> = docs
        .iter()
        .map(|d| (d.id.clone(), d.number.clone()))
        .collect();
    let mut doc_rows = Vec::with_capacity(docs.len());
    for d in &docs {
        let currency = Currency::parse(&d.currency).map_err(|e| corrupt("invoice currency", e))?;
        let corrects = match &d.credits_invoice_id {
            Some(id) => match numbers.get(id) {
                Some(n) => n.clone(),
                None => bill::invoice(conn, id)?.and_then(|r| r.number),
            },
            None => None,
        };
        doc_rows.push(csv_export::DocumentRow {
            kind: if d.kind == "credit_note" {
                DocumentKind::CreditNote
            } else {
                DocumentKind::Invoice
            },
            number: d.number.clone().unwrap_or_default(),
            issue_date: d
                .issue_date
                .ok_or_else(|| corrupt("issue date", "missing"))?,
            issued_at: utc(d.issued_at.ok_or_else(|| corrupt("issued at", "missing"))?),
            due_date: d.due_date,
            buyer_name: d.buyer_name.clone(),
            buyer_org_number: d.buyer_org_number.clone(),
            buyer_vat_number: d.buyer_vat_number.clone(),
            ocr_reference: d.ocr.clone(),
            corrects,
            net: Amount::new(d.net_ore, currency),
            vat: Amount::new(d.vat_ore, currency),
            gross: Amount::new(d.gross_ore, currency),
        });
    }
    let pays = store::payments_between(conn, cpua, period.from, period.to)?;
    let missing: Vec<String> = pays
        .iter()
        .filter_map(|p| p.invoice_id.clone())
        .filter(|id| !numbers.contains_key(id))
        .collect();
    for (id, n) in store::numbers_of(conn, &missing)? {
        numbers.insert(id, n);
    }
    let mut pay_rows = Vec::with_capacity(pays.len());
    for p in pays {
        let currency = Currency::parse(&p.currency).map_err(|e| corrupt("payment currency", e))?;
        pay_rows.push(csv_export::PaymentRow {
            booked_on: p.value_date,
            recorded_at: utc(p.recorded_at),
            invoice_number: p
                .invoice_id
                .as_ref()
                .and_then(|id| numbers.get(id).cloned().flatten()),
            bank_reference: p.bank_reference,
            ocr_reference: p.ocr_reference,
            payer: p.payer_name,
            amount: Amount::new(p.amount_ore, currency),
        });
    }
    // Placements of unmatched payments made on the period's days (Europe/Stockholm).
    let start = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .and_then(|t| {
                t.and_local_timezone(chrono_tz::Europe::Stockholm)
                    .earliest()
            })
            .map(|t| t.naive_utc())
            .ok_or_else(|| corrupt("period", "a day without a start in Europe/Stockholm"))
    };
    let until = period
        .to
        .succ_opt()
        .ok_or_else(|| corrupt("period", "the last day"))?;
    let placed = store::allocations_between(conn, cpua, start(period.from)?, start(until)?)?;
    let missing: Vec<String> = placed
        .iter()
        .map(|(a, _)| a.invoice_id.clone())
        .filter(|id| !numbers.contains_key(id))
        .collect();
    for (id, n) in store::numbers_of(conn, &missing)? {
        numbers.insert(id, n);
    }
    let mut placed_rows = Vec::with_capacity(placed.len());
    for (a, p) in placed {
        let currency = Currency::parse(&p.currency).map_err(|e| corrupt("payment currency", e))?;
        let at = utc(a.allocated_at);
        placed_rows.push(csv_export::AllocationRow {
            placed_on: at.with_timezone(&chrono_tz::Europe::Stockholm).date_naive(),
            placed_at: at,
            invoice_number: numbers.get(&a.invoice_id).cloned().flatten(),
            bank_reference: p.bank_reference,
            amount: Amount::new(a.amount_ore, currency),
        });
    }
    Ok(csv_export::export(
        period,
        &doc_rows,
        &pay_rows,
        &placed_rows,
        lang,
    ))
}

// ---------------------------------------------------------------------------------------------
// Overdue reminders

/// One overdue reminder round for an invoice, in its own transaction: the round recorded (a second
/// instance or a restart finds it and sends nothing), the mails to the buyer's contact, the buying
/// company's representatives and the CPUA's finance in the outbox, and the audit event.
fn remind_one(
    conn: &mut DbConn,
    r: &InvoiceRow,
    round: i32,
    balance_ore: i64,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Result<usize, AppError> {
    use crate::db::outbox::{self as outbox, Person};
    use crate::domain::ids::{AccountId, OrgId};
    let fresh = store::insert_reminder(
        conn,
        &ReminderRow {
            invoice_id: r.id.clone(),
            round,
            sent_on: today,
            balance_ore,
            recorded_at: ts(now),
        },
    )?;
    if !fresh {
        return Ok(0);
    }
    let parties: Value =
        serde_json::from_str(&r.parties).map_err(|e| corrupt("invoice parties", e))?;
    let (reference, title) = store::reference_and_title(conn, &r.collaboration_id)?;
    let currency = Currency::parse(&r.currency).map_err(|e| corrupt("invoice currency", e))?;
    let due_on = r.due_date.map(|d| d.to_string()).unwrap_or_default();
    let data = json!({
        "collaboration_id": r.collaboration_id, "reference": reference, "title": title,
        "invoice_id": r.id, "number": r.number.clone().unwrap_or_default(), "due_on": due_on,
        "balance": csv_export::kronor(Amount::new(balance_ore, currency)),
        "currency": r.currency, "ocr": r.ocr.clone().unwrap_or_default(),
        "bankgiro": parties["bankgiro"].as_str().unwrap_or(""),
        "seller_name": parties["seller"]["name"].as_str().unwrap_or(""),
        "buyer_name": r.buyer_name, "round": round, "max_rounds": reminder::MAX_ROUNDS,
    });
    let buyer = OrgId::from_db(r.buyer_org_id.clone());
    let cpua = OrgId::from_db(r.cpua_id.clone());
    let mut people = Vec::new();
    if let Some(email) = parties["buyer_contact_email"]
        .as_str()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        people.push(Person {
            account: AccountId::from_db(format!("invoice-contact:{}", r.id)),
            name: parties["buyer_contact_name"]
                .as_str()
                .unwrap_or(&r.buyer_name)
                .to_string(),
            email: email.to_string(),
            language: if r.buyer_country == "SE" { "sv" } else { "en" }.into(),
            notices: true,
            org: buyer.clone(),
            role: Role::CompanyRepresentative,
        });
    }
    people.extend(outbox::people_with_role(
        conn,
        &buyer,
        Role::CompanyRepresentative,
    )?);
    people.extend(outbox::people_with_role(conn, &cpua, Role::Finance)?);
    let mut seen = HashSet::new();
    let rows: Vec<_> = people
        .iter()
        .filter(|p| seen.insert(p.email.trim().to_ascii_lowercase()))
        .map(|p| {
            super::notify::row_for(
                p,
                Some(&r.collaboration_id),
                REMINDER_TEMPLATE,
                super::notify::KIND_DEADLINE,
                Some(format!(
                    "{REMINDER_TEMPLATE}:{}:{round}:{}",
                    r.id, p.account
                )),
                &data,
                now,
            )
        })
        .collect();
    let n = outbox::insert(conn, &rows)?;
    let system = super::audit::system_actor();
    audit(
        conn,
        &system,
        &r.collaboration_id,
        EventType::InvoiceReminderSent,
        json!({"invoice_id": r.id, "number": r.number, "round": round, "due_date": due_on,
               "balance_ore": balance_ore, "recipients": rows.len()}),
        now,
    )?;
    Ok(n)
}

/// The mail scheduler's round of overdue reminders (called from [`super::deadlines::run`]): for
/// each issued invoice past its due date with a balance left, the round due today
/// ([`reminder::round_due`]) if not sent yet. Returns how many mails were written.
pub fn remind_overdue(svc: &Services) -> Result<usize, AppError> {
    let now = svc.clock.now();
    let today = svc.clock.today();
    let due: Vec<(InvoiceRow, i32, i64)> = svc.read(|conn| {
        let mut v = Vec::new();
        for r in store::issued_due_before(conn, today)? {
            let s = standing_of(conn, &r, today)?;
            let last = store::last_round(conn, &r.id)?;
            if let Some(round) = reminder::round_due(r.due_date, s.balance_ore, last, today) {
                v.push((r, round, s.balance_ore));
            }
        }
        Ok(v)
    })?;
    let mut written = 0;
    for (r, round, balance) in due {
        written += svc.write(|conn| remind_one(conn, &r, round, balance, now, today))?;
    }
    Ok(written)
}

/// The reminder rounds recorded for an invoice of the actor's CPUA: `(round, sent_on)`.
pub fn reminders(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
) -> Result<Vec<(i32, NaiveDate)>, AppError> {
    let r = bill::invoice(conn, id)?.ok_or_else(not_found)?;
    if !(actor.role.is_cpua_staff() && actor.org.as_str() == r.cpua_id) {
        return Err(not_found());
    }
    Ok(store::reminders_of(conn, &r.id)?
        .into_iter()
        .map(|x| (x.round, x.sent_on))
        .collect())
}
