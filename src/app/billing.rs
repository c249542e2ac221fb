//! Billing of extraction work (issue 15, items 2-4 and 6): the work log against the written cost
//! agreement, draft invoices from approved lines, issuing them (a number from the CPUA's series in
//! the same transaction, the OCR reference, VAT from the buyer's country, the PDF in Swedish and
//! English and the Peppol UBL stored with their SHA-256), and credit notes. Each command is one
//! transaction with its audit event on the collaboration's stream.
//!
//! The rules are pure functions in `domain::billing` (`ledger`, `vat`, `ocr`); the renderings read
//! only the [`InvoiceDocument`] built here, so the stored bytes follow from one value.
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use super::authz;
use super::collaborations;
use super::AppError;
use crate::db::billing::{self as store, InvoiceFileRow, InvoiceLineRow, InvoiceRow, WorkLogRow};
use crate::db::repo::{self, ts, utc};
use crate::db::DbConn;
use crate::domain::billing::amount::{Amount, Currency};
use crate::domain::billing::document::{
    DocumentKind, DocumentLine, DocumentParty, Endpoint, InvoiceDocument, VatTreatment,
};
use crate::domain::billing::ledger::{self, CreditLine, CreditScope, LineKind};
use crate::domain::billing::{ocr, vat};
use crate::domain::classification::RulebookSet;
use crate::domain::events::EventType;
use crate::domain::ids::CollaborationId;
use crate::domain::lang::Lang;
use crate::domain::lifecycle::{Acknowledgement, Advice, Refusal, SEED_000};
use crate::domain::money::Money;
use crate::domain::role::Actor;

/// Payment terms when the draft names none (issue 15, item 3: "terms, default 30 days").
pub const DEFAULT_TERMS_DAYS: u32 = 30;

/// The test-only fault: with `SAMVERKAN_TEST_FAIL_EVERY_KTH_ISSUE=k` in the environment, every
/// k-th issue in this process fails after it has taken its number and stored its files, so the
/// transaction rolls back (issue 15, "Tests": the numbers stay exactly 1..N).
pub const FAULT_ENV: &str = "SAMVERKAN_TEST_FAIL_EVERY_KTH_ISSUE";

fn injected_fault() -> bool {
    static EVERY: OnceLock<Option<u64>> = OnceLock::new();
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let every = *EVERY.get_or_init(|| {
        std::env::var(FAULT_ENV)
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|k| *k > 0)
    });
    match every {
        Some(k) => (COUNT.fetch_add(1, Ordering::SeqCst) + 1) % k == 0,
        None => false,
    }
}

fn text(field: &str, v: &str, max: usize) -> Result<String, AppError> {
    let t = v.trim();
    if t.is_empty() {
        return Err(AppError::invalid(
            field,
            crate::msg!("casework.text_required"),
        ));
    }
    if t.chars().count() > max {
        return Err(AppError::invalid(
            field,
            crate::msg!("casework.text_too_long", max = max),
        ));
    }
    Ok(t.to_string())
}

fn opt_text(field: &str, v: &Option<String>, max: usize) -> Result<Option<String>, AppError> {
    match v.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => text(field, t, max).map(Some),
        None => Ok(None),
    }
}

pub(crate) fn corrupt(what: &str, e: impl std::fmt::Display) -> AppError {
    AppError::Internal(anyhow::anyhow!("stored {what} is corrupt: {e}"))
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
// The work log

/// A line of work or a direct expense (issue 15, item 2).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkLineInput {
    /// Who did the work (a register centre's statistician, the register holder).
    pub person_name: String,
    pub worked_on: NaiveDate,
    pub activity: String,
    pub kind: LineKind,
    /// Hours in hundredths (1.50 h = 150), for `hours`.
    #[serde(default)]
    pub hours_hundredths: Option<i64>,
    /// The expense in öre, for `expense`.
    #[serde(default)]
    pub amount_ore: Option<i64>,
    /// Passes the "bör" `cost_ceiling_passed` with a reason when the line goes past the ceiling.
    #[serde(default)]
    pub acknowledge: Vec<Acknowledgement>,
}

/// A work-log line as shown.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WorkLineView {
    pub id: String,
    pub collaboration_id: String,
    pub cpua: String,
    pub person_name: String,
    pub worked_on: NaiveDate,
    pub activity: String,
    pub kind: String,
    pub hours_hundredths: i64,
    pub rate_ore: Option<i64>,
    pub amount_ore: i64,
    /// `logged` or `approved`.
    pub status: String,
    pub logged_by: String,
    pub logged_at: DateTime<Utc>,
    pub approved_by: Option<String>,
    pub approved_at: Option<DateTime<Utc>>,
    /// The reason given for passing the cost ceiling.
    pub ceiling_reason: Option<String>,
    /// The invoice (or draft) the line is on.
    pub invoice_id: Option<String>,
    /// The receipt of an expense line, when one is attached (a case document of type `receipt`).
    pub receipt: Option<ReceiptView>,
    /// What the command answering with the line says beside it: approving an expense line without
    /// a receipt says `receipt_missing` (a "gärna": it never blocks).
    pub warnings: Vec<Advice>,
}

/// The receipt of an expense line: the case document it is stored as, and where to read it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReceiptView {
    pub document_id: String,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub attached_by: String,
    pub attached_at: DateTime<Utc>,
    /// `GET` this for the bytes.
    pub href: String,
}

/// The answer to a logged line: the line and the warnings about the ceiling.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LoggedView {
    pub line: WorkLineView,
    pub warnings: Vec<Advice>,
    /// Everything logged on the case so far, this line included (öre).
    pub logged_total_ore: i64,
    pub ceiling_ore: i64,
}

/// The work log of a case as the caller's CPUA sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WorkLogView {
    pub lines: Vec<WorkLineView>,
    pub logged_total_ore: i64,
    pub approved_total_ore: i64,
    /// The cost agreement's ceiling (its estimate for now), when there is an agreement.
    pub ceiling_ore: Option<i64>,
    pub cost_agreement_reference: Option<String>,
}

fn line_view(r: WorkLogRow) -> WorkLineView {
    WorkLineView {
        id: r.id,
        collaboration_id: r.collaboration_id,
        cpua: r.cpua_id,
        person_name: r.person_name,
        worked_on: r.worked_on,
        activity: r.activity,
        kind: r.kind,
        hours_hundredths: r.hours_hundredths,
        rate_ore: r.rate_ore,
        amount_ore: r.amount_ore,
        status: r.status,
        logged_by: r.logged_by,
        logged_at: utc(r.logged_at),
        approved_by: r.approved_by,
        approved_at: r.approved_at.map(utc),
        ceiling_reason: r.ceiling_reason,
        invoice_id: r.invoice_id,
        receipt: None,
        warnings: Vec::new(),
    }
}

/// The receipts of these lines, by line id.
fn receipts_by_line(
    conn: &mut DbConn,
    collaboration: &str,
    lines: &[String],
) -> Result<std::collections::HashMap<String, ReceiptView>, AppError> {
    let mut out = std::collections::HashMap::new();
    for r in store::receipts_of(conn, lines)? {
        let d = crate::db::documents::get(conn, collaboration, &r.document_id)?
            .ok_or_else(|| corrupt("work-log receipt", &r.document_id))?;
        out.insert(
            r.work_log_line_id.clone(),
            ReceiptView {
                href: format!(
                    "/api/v1/collaborations/{collaboration}/work-log/{}/receipt",
                    r.work_log_line_id
                ),
                document_id: d.id,
                file_name: d.file_name,
                content_type: d.content_type,
                size_bytes: d.size_bytes,
                sha256: d.sha256,
                attached_by: r.attached_by,
                attached_at: utc(r.attached_at),
            },
        );
    }
    Ok(out)
}

/// The register holder or finance of a CPUA of the case logs a line at the cost agreement's rate.
/// Refused naming `cost_agreement` when the case has none; the ceiling rule is
/// [`ledger::check_ceiling`].
pub fn log_work(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    actor: &Actor,
    id: &str,
    input: WorkLineInput,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Result<LoggedView, AppError> {
    let (c, scope) = collaborations::visible_with_scope(conn, rulebooks, actor, id)?;
    let cpua = authz::may_log_work(actor, &scope)?;
    let ca = c.cost_agreement.as_ref().ok_or_else(|| {
        let mut r = Refusal::precondition(crate::msg!("worklog.no_cost_agreement"))
            .missing(["cost_agreement"])
            .source(SEED_000, ledger::COST_SECTION);
        r.field = Some("cost_agreement".into());
        AppError::from(r)
    })?;
    let person = text("person_name", &input.person_name, 200)?;
    let activity = text("activity", &input.activity, 1000)?;
    if input.worked_on > today {
        return Err(AppError::invalid(
            "worked_on",
            crate::msg!("casework.not_in_future"),
        ));
    }
    let (rate, amount) =
        ledger::line_amount(input.kind, input.hours_hundredths, input.amount_ore, ca)?;
    let logged = store::logged_total(conn, c.id.as_str())?;
    let logged_money = Money::from_ore(logged).map_err(|e| corrupt("work log total", e))?;
    let ceiling = ledger::ceiling_of(ca);
    let outcome = ledger::check_ceiling(ceiling, logged_money, amount, &input.acknowledge)?;
    let row = WorkLogRow {
        id: uuid::Uuid::new_v4().to_string(),
        collaboration_id: c.id.to_string(),
        cpua_id: cpua.to_string(),
        person_name: person,
        worked_on: input.worked_on,
        activity,
        kind: input.kind.code().into(),
        hours_hundredths: match input.kind {
            LineKind::Hours => input.hours_hundredths.unwrap_or(0),
            LineKind::Expense => 0,
        },
        rate_ore: rate.map(Money::ore),
        amount_ore: amount.ore(),
        status: "logged".into(),
        logged_by: actor.account.to_string(),
        logged_at: ts(now),
        approved_by: None,
        approved_at: None,
        ceiling_reason: outcome.passed_reason.clone(),
        invoice_id: None,
    };
    store::insert_work_line(conn, &row)?;
    audit(
        conn,
        actor,
        c.id.as_str(),
        EventType::WorkLogged,
        json!({"work_log_line": row.id, "kind": row.kind, "amount_ore": row.amount_ore,
               "ceiling_reason": row.ceiling_reason}),
        now,
    )?;
    Ok(LoggedView {
        line: line_view(row),
        warnings: outcome.warnings,
        logged_total_ore: logged + amount.ore(),
        ceiling_ore: ceiling.ore(),
    })
}

/// The work log of a case: the lines of the caller's CPUA (its staff only).
pub fn work_log(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    actor: &Actor,
    id: &str,
) -> Result<WorkLogView, AppError> {
    let c = collaborations::visible(conn, rulebooks, actor, id)?;
    if !actor.role.is_cpua_staff() {
        return Err(AppError::Forbidden(crate::msg!("forbidden.work_log")));
    }
    let rows: Vec<WorkLogRow> = store::work_lines(conn, c.id.as_str())?
        .into_iter()
        .filter(|r| authz::sees_work_log(actor, &r.cpua_id))
        .collect();
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut receipts = receipts_by_line(conn, c.id.as_str(), &ids)?;
    let lines: Vec<WorkLineView> = rows
        .into_iter()
        .map(|r| {
            let receipt = receipts.remove(&r.id);
            WorkLineView {
                receipt,
                ..line_view(r)
            }
        })
        .collect();
    Ok(WorkLogView {
        logged_total_ore: lines.iter().map(|l| l.amount_ore).sum(),
        approved_total_ore: lines
            .iter()
            .filter(|l| l.status == "approved")
            .map(|l| l.amount_ore)
            .sum(),
        ceiling_ore: c
            .cost_agreement
            .as_ref()
            .map(|ca| ledger::ceiling_of(ca).ore()),
        cost_agreement_reference: c.cost_agreement.as_ref().map(|ca| ca.reference.clone()),
        lines,
    })
}

/// The register holder or finance of the line's CPUA approves it; not the person who logged it.
pub fn approve_work(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    actor: &Actor,
    id: &str,
    line: &str,
    now: DateTime<Utc>,
) -> Result<WorkLineView, AppError> {
    let c = collaborations::visible(conn, rulebooks, actor, id)?;
    let not_found = || AppError::NotFound(crate::msg!("thing.work_log_line"));
    let row = store::work_line(conn, c.id.as_str(), line)?.ok_or_else(not_found)?;
    if !authz::sees_work_log(actor, &row.cpua_id) {
        return Err(not_found());
    }
    authz::may_approve_work(actor, &row.cpua_id, &row.logged_by)?;
    if row.status != "logged"
        || !store::approve_work_line(conn, &row.id, actor.account.as_str(), ts(now))?
    {
        return Err(AppError::Conflict(crate::msg!("worklog.already_approved")));
    }
    let kind = LineKind::parse(&row.kind).ok_or_else(|| corrupt("work-log kind", &row.kind))?;
    let mut receipts = receipts_by_line(conn, c.id.as_str(), std::slice::from_ref(&row.id))?;
    let receipt = receipts.remove(&row.id);
    let warnings = ledger::approval_advice(kind, receipt.is_some());
    audit(
        conn,
        actor,
        c.id.as_str(),
        EventType::WorkApproved,
        json!({"work_log_line": row.id, "amount_ore": row.amount_ore,
               "receipt": receipt.as_ref().map(|r| r.document_id.clone()),
               "warnings": warnings.iter().map(|w| w.code).collect::<Vec<_>>()}),
        now,
    )?;
    let row = store::work_line(conn, c.id.as_str(), line)?.ok_or_else(not_found)?;
    Ok(WorkLineView {
        receipt,
        warnings,
        ..line_view(row)
    })
}

// ---------------------------------------------------------------------------------------------
// Invoices

/// A draft invoice from the approved, not yet invoiced lines of one collaboration. The buyer is the
/// collaboration's company: its name, organisation number, VAT number and address come from the
/// organisation, and any field given here overrides it (the organisation register holds no postal
/// address for most companies, and none for a foreign one). The seller is the caller's CPUA; its
/// address is given here when the organisation has none.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftInput {
    pub collaboration: String,
    /// The buyer's reference (the person or code they asked for); this or `order_number` is required.
    #[serde(default)]
    pub buyer_reference: Option<String>,
    #[serde(default)]
    pub order_number: Option<String>,
    /// Days net (default 30).
    #[serde(default)]
    pub payment_terms_days: Option<u32>,
    #[serde(default)]
    pub buyer_name: Option<String>,
    #[serde(default)]
    pub buyer_org_number: Option<String>,
    /// With its country prefix (`DE123456789`): required for reverse charge to another EU country.
    #[serde(default)]
    pub buyer_vat: Option<String>,
    #[serde(default)]
    pub buyer_street: Option<String>,
    #[serde(default)]
    pub buyer_postal_code: Option<String>,
    #[serde(default)]
    pub buyer_city: Option<String>,
    /// ISO 3166-1 alpha-2 (default: the organisation's address, else SE).
    #[serde(default)]
    pub buyer_country: Option<String>,
    /// The buyer's Peppol address, `scheme:id` (e.g. `9930:DE123456789`), where it is not derived
    /// from a Swedish or Norwegian organisation number.
    #[serde(default)]
    pub buyer_endpoint: Option<String>,
    #[serde(default)]
    pub buyer_contact_name: Option<String>,
    #[serde(default)]
    pub buyer_contact_email: Option<String>,
    #[serde(default)]
    pub seller_street: Option<String>,
    #[serde(default)]
    pub seller_postal_code: Option<String>,
    #[serde(default)]
    pub seller_city: Option<String>,
    #[serde(default)]
    pub seller_contact_name: Option<String>,
    #[serde(default)]
    pub seller_contact_email: Option<String>,
    /// The CPUA's bankgiro, `NNN-NNNN` or `NNNN-NNNN`, where payment goes.
    #[serde(default)]
    pub bankgiro: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

/// A credit note (kreditfaktura) against an issued invoice: in full (neither `lines` nor
/// `amount_ore`), of some lines whole, or of one amount.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditInput {
    /// Why the invoice is corrected; printed on the credit note.
    pub reason: String,
    /// The invoice's line numbers (1, 2, …) to credit whole.
    #[serde(default)]
    pub lines: Option<Vec<u32>>,
    /// A net amount in öre to credit as one line.
    #[serde(default)]
    pub amount_ore: Option<i64>,
    /// A part of a line's quantity to credit (with `lines` or alone): the line is credited for
    /// that quantity × its unit price. A line named here is credited whether or not `lines` names it.
    #[serde(default)]
    pub quantities: Option<Vec<CreditQuantity>>,
}

/// A part of an invoice line's quantity to credit.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditQuantity {
    /// The invoice's line number (1, 2, …).
    pub line: u32,
    /// Hundredths (1.25 h = 125), above zero and at most the line's quantity.
    pub quantity_hundredths: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InvoiceLineView {
    pub number: i32,
    pub description: String,
    /// Negative on a credit note.
    pub quantity_hundredths: i64,
    pub unit_code: String,
    pub unit_price_ore: i64,
    /// Negative on a credit note.
    pub net_ore: i64,
    pub work_log_line: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InvoiceFileView {
    /// `pdf_sv`, `pdf_en` or `ubl`.
    pub kind: String,
    pub sha256: String,
}

/// An invoice or credit note as shown. Amounts in öre, negative on a credit note.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InvoiceView {
    pub id: String,
    /// `invoice` or `credit_note`.
    pub kind: String,
    /// `draft` or `issued`.
    pub status: String,
    pub number: Option<String>,
    pub credits_invoice_id: Option<String>,
    pub collaboration_id: String,
    pub cpua: String,
    pub buyer_org: String,
    pub buyer_name: String,
    pub buyer_org_number: String,
    pub buyer_vat_number: Option<String>,
    pub buyer_street: String,
    pub buyer_postal_code: String,
    pub buyer_city: String,
    pub buyer_country: String,
    pub bankgiro: Option<String>,
    pub buyer_reference: Option<String>,
    pub order_number: Option<String>,
    pub payment_terms_days: i32,
    pub issue_date: Option<NaiveDate>,
    pub due_date: Option<NaiveDate>,
    pub ocr: Option<String>,
    pub currency: String,
    /// `domestic`, `reverse_charge` or `outside_scope`.
    pub vat_treatment: Option<String>,
    pub net_ore: i64,
    pub vat_ore: i64,
    pub gross_ore: i64,
    pub note: Option<String>,
    /// Issued, not a credit note, a balance above zero, and past its due date (the
    /// Europe/Stockholm day).
    pub overdue: bool,
    /// Computed from payments and credit notes (`domain::billing::balance`): `draft`, `issued`
    /// (nothing paid), `partially_paid`, `paid`, `overpaid` or `credited`.
    pub payment_status: String,
    /// The payments matched to the invoice (öre).
    pub paid_ore: i64,
    /// The gross taken back by issued credit notes (öre, positive).
    pub credited_ore: i64,
    /// Gross − credited − paid (öre): negative when overpaid.
    pub balance_ore: i64,
    pub lines: Vec<InvoiceLineView>,
    pub files: Vec<InvoiceFileView>,
    pub created_at: DateTime<Utc>,
    pub issued_at: Option<DateTime<Utc>>,
    /// A draft's revision, raised by each edit: send it back with an edit (a stale one is refused).
    pub revision: i32,
}

fn treatment_code(t: VatTreatment) -> &'static str {
    match t {
        VatTreatment::Domestic => "domestic",
        VatTreatment::ReverseCharge => "reverse_charge",
        VatTreatment::OutsideScope => "outside_scope",
    }
}

fn invoice_view(
    conn: &mut DbConn,
    r: InvoiceRow,
    today: NaiveDate,
) -> Result<InvoiceView, AppError> {
    let lines = store::invoice_lines(conn, &r.id)?
        .into_iter()
        .map(|l| InvoiceLineView {
            number: l.line_number,
            description: l.description,
            quantity_hundredths: l.quantity_hundredths,
            unit_code: l.unit_code,
            unit_price_ore: l.unit_price_ore,
            net_ore: l.net_ore,
            work_log_line: l.work_log_line_id,
        })
        .collect();
    let files = store::file_hashes(conn, &r.id)?
        .into_iter()
        .map(|(kind, sha256)| InvoiceFileView { kind, sha256 })
        .collect();
    let p = parties(&r)?;
    let st = super::payments::standing_of(conn, &r, today)?;
    Ok(InvoiceView {
        overdue: st.overdue,
        payment_status: st.status.to_string(),
        paid_ore: st.paid_ore,
        credited_ore: st.credited_ore,
        balance_ore: st.balance_ore,
        lines,
        files,
        id: r.id,
        kind: r.kind,
        status: r.status,
        number: r.number,
        credits_invoice_id: r.credits_invoice_id,
        collaboration_id: r.collaboration_id,
        cpua: r.cpua_id,
        buyer_org: r.buyer_org_id,
        buyer_name: r.buyer_name,
        buyer_org_number: r.buyer_org_number,
        buyer_vat_number: r.buyer_vat_number,
        buyer_street: p.buyer_street,
        buyer_postal_code: p.buyer_postal_code,
        buyer_city: p.buyer_city,
        bankgiro: p.bankgiro,
        buyer_country: r.buyer_country,
        buyer_reference: r.buyer_reference,
        order_number: r.order_number,
        payment_terms_days: r.payment_terms_days,
        issue_date: r.issue_date,
        due_date: r.due_date,
        ocr: r.ocr,
        currency: r.currency,
        vat_treatment: r.vat_treatment,
        net_ore: r.net_ore,
        vat_ore: r.vat_ore,
        gross_ore: r.gross_ore,
        note: r.note,
        created_at: utc(r.created_at),
        issued_at: r.issued_at.map(utc),
        revision: r.revision,
    })
}

/// The VAT treatment of a buyer, its refusals naming the draft's fields.
fn treatment_of(country: &str, vat_number: Option<&str>) -> Result<VatTreatment, AppError> {
    vat::treatment(country, vat_number).map_err(|e| match e {
        vat::VatError::Country(_) => {
            AppError::invalid("buyer_country", crate::msg!("invoice.buyer_country"))
        }
        vat::VatError::BuyerVatMissing(c) => AppError::invalid(
            "buyer_vat",
            crate::msg!("invoice.buyer_vat_missing", country = c),
        ),
        vat::VatError::BuyerVatFormat { expected, .. } => AppError::invalid(
            "buyer_vat",
            crate::msg!("invoice.buyer_vat_format", prefix = expected),
        ),
    })
}

fn required(
    field: &str,
    given: &Option<String>,
    fallback: Option<&str>,
    max: usize,
) -> Result<String, AppError> {
    match opt_text(field, given, max)? {
        Some(v) => Ok(v),
        None => match fallback.map(str::trim).filter(|f| !f.is_empty()) {
            Some(f) => Ok(f.to_string()),
            None => Err(AppError::invalid(field, crate::msg!("invoice.party_field"))),
        },
    }
}

/// A bankgiro number: 7 or 8 digits written `NNN-NNNN` or `NNNN-NNNN`.
fn bankgiro(v: &Option<String>) -> Result<Option<String>, AppError> {
    let Some(b) = v.as_deref().map(str::trim).filter(|b| !b.is_empty()) else {
        return Ok(None);
    };
    let ok = match b.split_once('-') {
        Some((a, c)) => {
            (a.len() == 3 || a.len() == 4)
                && c.len() == 4
                && a.bytes().chain(c.bytes()).all(|x| x.is_ascii_digit())
        }
        None => false,
    };
    if ok {
        Ok(Some(b.to_string()))
    } else {
        Err(AppError::invalid(
            "bankgiro",
            crate::msg!("invoice.bankgiro"),
        ))
    }
}

fn endpoint(v: &Option<String>) -> Result<Option<Endpoint>, AppError> {
    let Some(e) = v.as_deref().map(str::trim).filter(|e| !e.is_empty()) else {
        return Ok(None);
    };
    match e.split_once(':') {
        Some((s, id))
            if s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()) && !id.trim().is_empty() =>
        {
            Ok(Some(Endpoint {
                scheme: s.to_string(),
                id: id.trim().to_string(),
            }))
        }
        _ => Err(AppError::invalid(
            "buyer_endpoint",
            crate::msg!("invoice.endpoint"),
        )),
    }
}

/// The invoice lines of a draft from its work-log lines, numbered 1, 2, … in the order given.
fn draft_lines(invoice_id: &str, work: &[WorkLogRow]) -> Result<Vec<InvoiceLineRow>, AppError> {
    let mut lines = Vec::new();
    for (n, w) in work.iter().enumerate() {
        let kind = LineKind::parse(&w.kind).ok_or_else(|| corrupt("work-log kind", &w.kind))?;
        let (qty, price) = match kind {
            LineKind::Hours => (w.hours_hundredths, w.rate_ore.unwrap_or(0)),
            LineKind::Expense => (100, w.amount_ore),
        };
        lines.push(InvoiceLineRow {
            invoice_id: invoice_id.to_string(),
            line_number: i32::try_from(n + 1).unwrap_or(i32::MAX),
            description: format!("{}, {}, {}", w.activity, w.person_name, w.worked_on),
            quantity_hundredths: qty,
            unit_code: kind.unit_code().into(),
            unit_price_ore: price,
            net_ore: w.amount_ore,
            work_log_line_id: Some(w.id.clone()),
        });
    }
    Ok(lines)
}

/// Finance draws a draft from the approved, not yet invoiced lines of one collaboration.
pub fn create_draft(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    actor: &Actor,
    input: DraftInput,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Result<InvoiceView, AppError> {
    authz::may_invoice(actor)?;
    let (c, scope) =
        collaborations::visible_with_scope(conn, rulebooks, actor, &input.collaboration)?;
    if !scope.cpuas.contains(&actor.org) {
        return Err(AppError::Forbidden(crate::msg!("forbidden.invoice")));
    }
    let buyer_reference = opt_text("buyer_reference", &input.buyer_reference, 200)?;
    let order_number = opt_text("order_number", &input.order_number, 200)?;
    if buyer_reference.is_none() && order_number.is_none() {
        return Err(AppError::invalid(
            "buyer_reference",
            crate::msg!("invoice.buyer_reference_required"),
        ));
    }
    let terms = input.payment_terms_days.unwrap_or(DEFAULT_TERMS_DAYS);
    if !(1..=365).contains(&terms) {
        return Err(AppError::invalid(
            "payment_terms_days",
            crate::msg!("invoice.terms"),
        ));
    }
    let company = repo::find_organisation(conn, &c.company)?
        .ok_or_else(|| AppError::NotFound(crate::msg!("thing.organisation")))?;
    let addr = company.address.as_ref();
    let buyer_name = required("buyer_name", &input.buyer_name, Some(&company.name), 200)?;
    let buyer_org_number = required(
        "buyer_org_number",
        &input.buyer_org_number,
        Some(company.org_number.as_str()),
        40,
    )?;
    let buyer_street = required(
        "buyer_street",
        &input.buyer_street,
        addr.map(|a| a.street.as_str()),
        200,
    )?;
    let buyer_postal_code = required(
        "buyer_postal_code",
        &input.buyer_postal_code,
        addr.map(|a| a.postal_code.as_str()),
        12,
    )?;
    let buyer_city = required(
        "buyer_city",
        &input.buyer_city,
        addr.map(|a| a.city.as_str()),
        100,
    )?;
    let buyer_country = required(
        "buyer_country",
        &input.buyer_country,
        Some(addr.map(|a| a.country.as_str()).unwrap_or("SE")),
        2,
    )?;
    // The register's VAT numbers are Swedish: they stand for the buyer only in Sweden.
    let buyer_vat = opt_text("buyer_vat", &input.buyer_vat, 20)?.or_else(|| {
        (buyer_country == "SE")
            .then(|| company.vat_number.as_ref().map(|v| v.as_str().to_string()))
            .flatten()
    });
    // Refused now, naming the field, rather than at the issue.
    treatment_of(&buyer_country, buyer_vat.as_deref())?;
    let buyer_endpoint = endpoint(&input.buyer_endpoint)?;

    let seller_org = repo::find_organisation(conn, &actor.org)?
        .ok_or_else(|| AppError::NotFound(crate::msg!("thing.organisation")))?;
    let sa = seller_org.address.as_ref();
    let seller = DocumentParty {
        name: seller_org.name.clone(),
        org_number: seller_org.org_number.as_str().to_string(),
        vat_number: Some(
            seller_org
                .vat_number
                .as_ref()
                .map(|v| v.as_str().to_string())
                .unwrap_or_else(|| format!("SE{}01", seller_org.org_number.digits())),
        ),
        street: required(
            "seller_street",
            &input.seller_street,
            sa.map(|a| a.street.as_str()),
            200,
        )?,
        postal_code: required(
            "seller_postal_code",
            &input.seller_postal_code,
            sa.map(|a| a.postal_code.as_str()),
            12,
        )?,
        city: required(
            "seller_city",
            &input.seller_city,
            sa.map(|a| a.city.as_str()),
            100,
        )?,
        country: "SE".into(),
        contact_name: opt_text("seller_contact_name", &input.seller_contact_name, 200)?,
        contact_email: opt_text("seller_contact_email", &input.seller_contact_email, 254)?,
        endpoint: None,
    };
    // The buyer's contact and endpoint travel inside the seller JSON's sibling: kept with the draft.
    let parties = Parties {
        seller,
        bankgiro: bankgiro(&input.bankgiro)?,
        buyer_street,
        buyer_postal_code,
        buyer_city,
        buyer_contact_name: opt_text("buyer_contact_name", &input.buyer_contact_name, 200)?,
        buyer_contact_email: opt_text("buyer_contact_email", &input.buyer_contact_email, 254)?,
        buyer_endpoint,
    };
    let parties_json = serde_json::to_string(&parties)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("invoice parties JSON: {e}")))?;

    let work = store::uninvoiced_approved(conn, c.id.as_str(), actor.org.as_str())?;
    if work.is_empty() {
        return Err(Refusal::precondition(crate::msg!("invoice.no_lines"))
            .missing(["approved_work_log_lines"])
            .into());
    }
    let invoice_id = uuid::Uuid::new_v4().to_string();
    let lines = draft_lines(&invoice_id, &work)?;
    let t = treatment_of(&buyer_country, buyer_vat.as_deref())?;
    let net: i64 = lines.iter().map(|l| l.net_ore).sum();
    let vat_ore = vat::vat_of(Amount::sek(net), t).minor();
    let row = InvoiceRow {
        id: invoice_id.clone(),
        kind: "invoice".into(),
        credits_invoice_id: None,
        number: None,
        status: "draft".into(),
        cpua_id: actor.org.to_string(),
        collaboration_id: c.id.to_string(),
        buyer_org_id: company.id.to_string(),
        buyer_name,
        buyer_org_number,
        buyer_vat_number: buyer_vat,
        buyer_country,
        buyer_reference,
        order_number,
        parties: parties_json,
        payment_terms_days: i32::try_from(terms).unwrap_or(30),
        issue_date: None,
        due_date: None,
        ocr: None,
        currency: Currency::SEK.as_str().into(),
        vat_treatment: Some(treatment_code(t).into()),
        net_ore: net,
        vat_ore,
        gross_ore: net + vat_ore,
        note: opt_text("note", &input.note, 1000)?,
        document: None,
        created_by: actor.account.to_string(),
        created_at: ts(now),
        issued_by: None,
        issued_at: None,
        revision: 0,
    };
    store::insert_invoice(conn, &row, &lines)?;
    let ids: Vec<String> = work.iter().map(|w| w.id.clone()).collect();
    if !store::attach_work_lines(conn, &ids, &invoice_id)? {
        return Err(AppError::RaceLost(crate::msg!("race_lost.concurrent")));
    }
    audit(
        conn,
        actor,
        c.id.as_str(),
        EventType::InvoiceDrafted,
        json!({"invoice": invoice_id, "net_ore": net, "lines": ids}),
        now,
    )?;
    invoice_view(conn, row, today)
}

/// The invoice the actor may see (404 otherwise), the row locked for the rest of the transaction
/// on PostgreSQL when `lock` is set.
fn visible_invoice(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    lock: bool,
) -> Result<InvoiceRow, AppError> {
    let not_found = || AppError::NotFound(crate::msg!("thing.invoice"));
    if lock {
        store::lock_invoice(conn, id)?;
    }
    let r = store::invoice(conn, id)?.ok_or_else(not_found)?;
    if !authz::sees_invoice(actor, &r.cpua_id, &r.buyer_org_id) {
        return Err(not_found());
    }
    Ok(r)
}

/// What a draft prints beyond its columns (stored as JSON in `invoices.parties`): the seller, its
/// bankgiro, the buyer's postal address, contact and Peppol endpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Parties {
    seller: DocumentParty,
    bankgiro: Option<String>,
    buyer_street: String,
    buyer_postal_code: String,
    buyer_city: String,
    buyer_contact_name: Option<String>,
    buyer_contact_email: Option<String>,
    buyer_endpoint: Option<Endpoint>,
}

fn parties(r: &InvoiceRow) -> Result<Parties, AppError> {
    serde_json::from_str(&r.parties).map_err(|e| corrupt("invoice parties", e))
}

fn sha256_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// Issues a draft in the caller's transaction: the next number of the CPUA's series, the dates,
/// the OCR reference (invoices), the VAT, the document and its three renderings with their hashes.
#[allow(clippy::too_many_arguments)]
fn issue_draft(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    actor: &Actor,
    r: InvoiceRow,
    corrects: Option<(String, NaiveDate)>,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Result<InvoiceRow, AppError> {
    let kind = match r.kind.as_str() {
        "invoice" => DocumentKind::Invoice,
        "credit_note" => DocumentKind::CreditNote,
        other => return Err(corrupt("invoice kind", other)),
    };
    let t = treatment_of(&r.buyer_country, r.buyer_vat_number.as_deref())?;
    let ex = parties(&r)?;
    let (c, _) = repo::load_collaboration(
        conn,
        rulebooks,
        &CollaborationId::from_db(r.collaboration_id.clone()),
    )?
    .ok_or_else(|| AppError::NotFound(crate::msg!("thing.collaboration")))?;
    let contract_reference = match (&c.agreement, &c.cost_agreement) {
        (Some(a), Some(ca)) => format!("{} version {}, {}", c.reference, a.version, ca.reference),
        (Some(a), None) => format!("{} version {}", c.reference, a.version),
        (None, Some(ca)) => ca.reference.clone(),
        (None, None) => c.reference.clone(),
    };
    let lines = store::invoice_lines(conn, &r.id)?;
    let mut doc_lines = Vec::new();
    let mut net = Amount::zero(Currency::SEK);
    for l in &lines {
        let unit_price = Amount::sek(l.unit_price_ore.abs());
        let line_net = Amount::sek(l.net_ore.abs());
        net = net
            .checked_add(line_net)
            .map_err(|e| corrupt("invoice total", e))?;
        doc_lines.push(DocumentLine {
            number: u32::try_from(l.line_number).unwrap_or(0),
            description: l.description.clone(),
            quantity_hundredths: l.quantity_hundredths.abs(),
            unit_code: l.unit_code.clone(),
            unit_price,
            net: line_net,
            work_log_line: l.work_log_line_id.clone(),
        });
    }
    let vat_total = vat::vat_of(net, t);
    let gross = net
        .checked_add(vat_total)
        .map_err(|e| corrupt("invoice total", e))?;

    let year = today.year();
    let n = store::take_number(conn, &r.cpua_id, year)?;
    let number = format!("{year}-{n:06}");
    let ocr_reference = match kind {
        DocumentKind::Invoice => Some(
            ocr::ocr_reference(&format!("{year}{n:05}"), true)
                .map_err(|e| AppError::Internal(anyhow::anyhow!("OCR reference: {e}")))?,
        ),
        DocumentKind::CreditNote => None,
    };
    let terms = u32::try_from(r.payment_terms_days).unwrap_or(DEFAULT_TERMS_DAYS);
    let due_date = match kind {
        DocumentKind::Invoice => today.checked_add_days(chrono::Days::new(u64::from(terms))),
        DocumentKind::CreditNote => None,
    };
    let doc = InvoiceDocument {
        kind,
        number: number.clone(),
        issue_date: today,
        due_date,
        currency: Currency::SEK,
        ocr_reference: ocr_reference.clone(),
        bankgiro: ex.bankgiro.clone(),
        buyer_reference: r.buyer_reference.clone(),
        order_number: r.order_number.clone(),
        contract_reference,
        case_reference: c.reference.clone(),
        corrects,
        seller: ex.seller,
        buyer: DocumentParty {
            name: r.buyer_name.clone(),
            org_number: r.buyer_org_number.clone(),
            vat_number: r.buyer_vat_number.clone(),
            street: ex.buyer_street.clone(),
            postal_code: ex.buyer_postal_code.clone(),
            city: ex.buyer_city.clone(),
            country: r.buyer_country.clone(),
            contact_name: ex.buyer_contact_name,
            contact_email: ex.buyer_contact_email,
            endpoint: ex.buyer_endpoint,
        },
        treatment: t,
        vat_rate_percent: vat::rate_percent(t),
        lines: doc_lines,
        net_total: net,
        vat_total,
        gross_total: gross,
        payment_terms_days: terms,
        note: r.note.clone(),
    };
    let ubl = crate::render::ubl::invoice_xml(&doc).into_bytes();
    let pdf_sv = crate::render::invoice_pdf::render(&doc, Lang::Sv).map_err(AppError::Internal)?;
    let pdf_en = crate::render::invoice_pdf::render(&doc, Lang::En).map_err(AppError::Internal)?;
    for (k, bytes) in [("pdf_sv", pdf_sv), ("pdf_en", pdf_en), ("ubl", ubl)] {
        store::insert_file(
            conn,
            &InvoiceFileRow {
                invoice_id: r.id.clone(),
                kind: k.into(),
                sha256: sha256_hex(&bytes),
                bytes,
            },
        )?;
    }
    if injected_fault() {
        return Err(AppError::Unavailable(crate::msg!("invoice.injected_fault")));
    }
    let sign = if kind == DocumentKind::CreditNote {
        -1
    } else {
        1
    };
    let document = serde_json::to_string(&doc)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("invoice document JSON: {e}")))?;
    let issued = store::mark_issued(
        conn,
        &r.id,
        &store::Issued {
            number: &number,
            issue_date: today,
            due_date,
            ocr: ocr_reference.as_deref(),
            vat_treatment: treatment_code(t),
            net_ore: sign * net.minor(),
            vat_ore: sign * vat_total.minor(),
            gross_ore: sign * gross.minor(),
            document: &document,
            issued_by: actor.account.as_str(),
            issued_at: ts(now),
        },
    )?;
    if !issued {
        return Err(AppError::Conflict(crate::msg!("invoice.already_issued")));
    }
    let event = match kind {
        DocumentKind::Invoice => EventType::InvoiceIssued,
        DocumentKind::CreditNote => EventType::CreditNoteIssued,
    };
    audit(
        conn,
        actor,
        &r.collaboration_id,
        event,
        json!({"invoice": r.id, "number": number, "gross_ore": sign * gross.minor(),
               "credits": r.credits_invoice_id}),
        now,
    )?;
    store::invoice(conn, &r.id)?.ok_or_else(|| AppError::NotFound(crate::msg!("thing.invoice")))
}

/// Finance issues a draft of its CPUA: the number is taken from the series in this transaction.
pub fn issue(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    actor: &Actor,
    id: &str,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Result<InvoiceView, AppError> {
    authz::may_invoice(actor)?;
    let r = visible_invoice(conn, actor, id, true)?;
    if r.cpua_id != actor.org.as_str() {
        return Err(AppError::NotFound(crate::msg!("thing.invoice")));
    }
    if r.status != "draft" {
        return Err(AppError::Conflict(crate::msg!("invoice.already_issued")));
    }
    let r = issue_draft(conn, rulebooks, actor, r, None, now, today)?;
    invoice_view(conn, r, today)
}

/// Finance issues a credit note against an issued invoice of its CPUA: its own number from the same
/// series, the lines taken back (never more than is left), negative amounts, the invoice referred to.
#[allow(clippy::too_many_arguments)]
pub fn credit(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    actor: &Actor,
    id: &str,
    input: CreditInput,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Result<InvoiceView, AppError> {
    authz::may_invoice(actor)?;
    let orig = visible_invoice(conn, actor, id, true)?;
    if orig.cpua_id != actor.org.as_str() {
        return Err(AppError::NotFound(crate::msg!("thing.invoice")));
    }
    if orig.kind != "invoice" || orig.status != "issued" {
        return Err(AppError::Conflict(crate::msg!("credit.not_issued")));
    }
    let reason = text("reason", &input.reason, 500)?;
    let parts = input.quantities.clone().filter(|q| !q.is_empty());
    let scope = match (&input.lines, input.amount_ore, parts) {
        (None, None, None) => CreditScope::Full,
        (Some(l), None, None) => CreditScope::Lines(l.clone()),
        (l, None, Some(parts)) => {
            let mut chosen: Vec<(u32, Option<i64>)> =
                l.iter().flatten().map(|n| (*n, None)).collect();
            for p in parts {
                match chosen.iter_mut().find(|(n, q)| *n == p.line && q.is_none()) {
                    Some(c) => c.1 = Some(p.quantity_hundredths),
                    None => chosen.push((p.line, Some(p.quantity_hundredths))),
                }
            }
            CreditScope::Chosen(chosen)
        }
        (None, Some(a), None) => CreditScope::Amount(a),
        (_, Some(_), _) => {
            return Err(AppError::invalid(
                "amount_ore",
                crate::msg!("credit.one_of"),
            ))
        }
    };
    let credited: i64 = store::credit_notes_of(conn, &orig.id)?
        .iter()
        .map(|c| -c.net_ore)
        .sum();
    let orig_lines: Vec<(u32, CreditLine)> = store::invoice_lines(conn, &orig.id)?
        .into_iter()
        .map(|l| {
            (
                u32::try_from(l.line_number).unwrap_or(0),
                CreditLine {
                    description: l.description,
                    quantity_hundredths: l.quantity_hundredths,
                    unit_code: l.unit_code,
                    unit_price_ore: l.unit_price_ore,
                    net_ore: l.net_ore,
                    work_log_line: l.work_log_line_id,
                },
            )
        })
        .collect();
    let taken = ledger::credit_lines(&orig_lines, orig.net_ore, credited, &scope, &reason)?;
    let t = treatment_of(&orig.buyer_country, orig.buyer_vat_number.as_deref())?;
    let credit_id = uuid::Uuid::new_v4().to_string();
    let lines: Vec<InvoiceLineRow> = taken
        .iter()
        .enumerate()
        .map(|(n, l)| InvoiceLineRow {
            invoice_id: credit_id.clone(),
            line_number: i32::try_from(n + 1).unwrap_or(i32::MAX),
            description: l.description.clone(),
            quantity_hundredths: -l.quantity_hundredths,
            unit_code: l.unit_code.clone(),
            unit_price_ore: l.unit_price_ore,
            net_ore: -l.net_ore,
            work_log_line_id: l.work_log_line.clone(),
        })
        .collect();
    let net: i64 = taken.iter().map(|l| l.net_ore).sum();
    let vat_ore = vat::vat_of(Amount::sek(net), t).minor();
    let number = orig.number.clone().unwrap_or_default();
    let orig_date = orig
        .issue_date
        .ok_or_else(|| corrupt("invoice issue date", "missing"))?;
    let row = InvoiceRow {
        id: credit_id.clone(),
        kind: "credit_note".into(),
        credits_invoice_id: Some(orig.id.clone()),
        number: None,
        status: "draft".into(),
        issue_date: None,
        due_date: None,
        ocr: None,
        net_ore: -net,
        vat_ore: -vat_ore,
        gross_ore: -(net + vat_ore),
        note: Some(format!("Kreditering av faktura {number}: {reason}")),
        document: None,
        created_by: actor.account.to_string(),
        created_at: ts(now),
        issued_by: None,
        issued_at: None,
        revision: 0,
        ..orig.clone()
    };
    store::insert_invoice(conn, &row, &lines)?;
    let r = issue_draft(
        conn,
        rulebooks,
        actor,
        row,
        Some((number, orig_date)),
        now,
        today,
    )?;
    invoice_view(conn, r, today)
}

/// One invoice or credit note, for the seller CPUA's staff and the buying company.
pub fn get(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    today: NaiveDate,
) -> Result<InvoiceView, AppError> {
    let r = visible_invoice(conn, actor, id, false)?;
    invoice_view(conn, r, today)
}

/// Which stored rendering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Pdf(Lang),
    Ubl,
}

/// The stored bytes of an issued invoice's rendering and their SHA-256, as issued.
pub fn file(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    kind: FileKind,
) -> Result<(Vec<u8>, String, String), AppError> {
    let r = visible_invoice(conn, actor, id, false)?;
    if r.status != "issued" {
        return Err(AppError::Conflict(crate::msg!("invoice.not_issued")));
    }
    let code = match kind {
        FileKind::Pdf(Lang::Sv) => "pdf_sv",
        FileKind::Pdf(Lang::En) => "pdf_en",
        FileKind::Ubl => "ubl",
    };
    let f = store::file(conn, &r.id, code)?
        .ok_or_else(|| AppError::NotFound(crate::msg!("thing.invoice")))?;
    Ok((f.bytes, f.sha256, r.number.unwrap_or_default()))
}

/// A page of the invoice list: at most `limit` + 1 views, newest first (a view beyond `limit` only
/// says that another page follows), and how many invoices the filter matches, counted up to the cap
/// (a cap of 0 asks for no count: `counted` is then 0 for the stored statuses).
pub struct InvoicePage {
    pub items: Vec<InvoiceView>,
    pub counted: i64,
}

/// The invoices of the caller's CPUA a page at a time: `draft`, `issued` (all issued), `overdue`
/// (issued invoices with a balance left past their due date), a computed payment status (`unpaid`,
/// `partially_paid`, `paid`, `overpaid`, `credited`), or all. Stored statuses are keyset pages of one
/// index range; computed ones are worked out from four reads of the CPUA's issued invoices and the
/// sums against them ([`store::standing_inputs`]), never one query per invoice, and only the page's
/// invoices are read in full.
pub fn list(
    conn: &mut DbConn,
    actor: &Actor,
    status: Option<&str>,
    today: NaiveDate,
    after: Option<&store::InvoiceKey>,
    limit: i64,
    cap: i64,
) -> Result<InvoicePage, AppError> {
    if !actor.role.is_cpua_staff() {
        return Err(AppError::Forbidden(crate::msg!("forbidden.invoice")));
    }
    let cpua = actor.org.as_str();
    match status {
        None | Some("draft" | "issued") => {
            let rows = store::list_invoices(conn, cpua, status, after, limit + 1)?;
            let counted = if cap > 0 {
                store::count_invoices(conn, cpua, status, cap)?
            } else {
                0
            };
            let items = rows
                .into_iter()
                .map(|r| invoice_view(conn, r, today))
                .collect::<Result<_, _>>()?;
            Ok(InvoicePage { items, counted })
        }
        Some(s) if s == "overdue" || super::payments::is_computed_filter(s) => {
            let due_before = (s == "overdue").then_some(today);
            let (rows, paid, credited) = store::standing_inputs(conn, cpua, due_before)?;
            let matched: Vec<store::StandingInput> = rows
                .into_iter()
                .filter(|r| {
                    let st = crate::domain::billing::balance::standing(
                        "invoice",
                        true,
                        r.gross_ore,
                        credited.get(&r.id).copied().unwrap_or(0),
                        paid.get(&r.id).copied().unwrap_or(0),
                        r.due_date,
                        today,
                    );
                    passes(s, &st)
                })
                .collect();
            let counted = i64::try_from(matched.len()).unwrap_or(i64::MAX);
            let take = usize::try_from(limit + 1).unwrap_or(usize::MAX);
            let ids: Vec<String> = matched
                .into_iter()
                .filter(|r| match after {
                    None => true,
                    Some((at, id)) => r.created_at < *at || (r.created_at == *at && r.id < *id),
                })
                .take(take)
                .map(|r| r.id)
                .collect();
            let mut rows = store::invoices_by_id(conn, &ids)?;
            rows.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
            let items = rows
                .into_iter()
                .map(|r| invoice_view(conn, r, today))
                .collect::<Result<_, _>>()?;
            Ok(InvoicePage { items, counted })
        }
        Some(_) => Err(AppError::invalid(
            "status",
            crate::msg!("invoice.status_filter"),
        )),
    }
}

/// Whether an issued invoice's standing passes a computed list filter.
fn passes(filter: &str, st: &crate::domain::billing::balance::Standing) -> bool {
    match filter {
        "overdue" => st.overdue,
        "unpaid" => st.balance_ore > 0,
        other => st.status == other,
    }
}

/// The issued credit notes against an invoice of the caller's CPUA, oldest first.
pub fn credit_notes(
    conn: &mut DbConn,
    actor: &Actor,
    invoice: &str,
    today: NaiveDate,
) -> Result<Vec<InvoiceView>, AppError> {
    if !actor.role.is_cpua_staff() {
        return Err(AppError::Forbidden(crate::msg!("forbidden.invoice")));
    }
    store::credit_notes_of(conn, invoice)?
        .into_iter()
        .filter(|r| r.cpua_id == actor.org.as_str() && r.status == "issued")
        .map(|r| invoice_view(conn, r, today))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Editing a draft

/// An edit of a draft invoice: its references, its terms and the approved lines it holds, as
/// they are to be. `revision` is the draft's revision the edit is based on (from the draft's view);
/// when the draft was changed since, nothing is written and the answer is 409.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftEditInput {
    pub revision: i32,
    /// This or `order_number` is required, as on a new draft.
    #[serde(default)]
    pub buyer_reference: Option<String>,
    #[serde(default)]
    pub order_number: Option<String>,
    /// Days net (default 30).
    #[serde(default)]
    pub payment_terms_days: Option<u32>,
    /// The work-log lines the draft holds: approved lines of the case from the caller's CPUA that
    /// are on this draft or on none. A line left out goes back to be invoiced later.
    pub lines: Vec<String>,
}

/// Finance of the draft's CPUA edits a draft (never an issued invoice: the database refuses that
/// too). One transaction: the draft's row at the revision the form was based on (a stale edit is
/// refused, 409), its lines replaced, lines taken off it freed, and `invoice_draft_edited` with the
/// before and after on the case's stream.
pub fn edit_draft(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    input: DraftEditInput,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Result<InvoiceView, AppError> {
    authz::may_invoice(actor)?;
    let r = visible_invoice(conn, actor, id, true)?;
    if r.cpua_id != actor.org.as_str() {
        return Err(AppError::NotFound(crate::msg!("thing.invoice")));
    }
    if r.kind != "invoice" || r.status != "draft" {
        return Err(AppError::Conflict(crate::msg!("invoice.not_draft")));
    }
    if input.revision != r.revision {
        return Err(AppError::Conflict(crate::msg!(
            "invoice.draft_stale",
            revision = r.revision,
            sent = input.revision
        )));
    }
    let buyer_reference = opt_text("buyer_reference", &input.buyer_reference, 200)?;
    let order_number = opt_text("order_number", &input.order_number, 200)?;
    if buyer_reference.is_none() && order_number.is_none() {
        return Err(AppError::invalid(
            "buyer_reference",
            crate::msg!("invoice.buyer_reference_required"),
        ));
    }
    let terms = input.payment_terms_days.unwrap_or(DEFAULT_TERMS_DAYS);
    if !(1..=365).contains(&terms) {
        return Err(AppError::invalid(
            "payment_terms_days",
            crate::msg!("invoice.terms"),
        ));
    }
    if input.lines.is_empty() {
        return Err(AppError::invalid(
            "lines",
            crate::msg!("invoice.draft_lines"),
        ));
    }
    let open = store::draftable_lines(conn, &r.collaboration_id, &r.cpua_id, &r.id)?;
    for l in &input.lines {
        if !open.iter().any(|w| &w.id == l) {
            return Err(AppError::invalid(
                "lines",
                crate::msg!("invoice.draft_line_unknown", line = l.clone()),
            ));
        }
    }
    // The work log's order, each line once.
    let chosen: Vec<WorkLogRow> = open
        .iter()
        .filter(|w| input.lines.contains(&w.id))
        .cloned()
        .collect();
    let before_lines: Vec<String> = open
        .iter()
        .filter(|w| w.invoice_id.as_deref() == Some(r.id.as_str()))
        .map(|w| w.id.clone())
        .collect();
    let after_lines: Vec<String> = chosen.iter().map(|w| w.id.clone()).collect();
    let lines = draft_lines(&r.id, &chosen)?;
    let t = treatment_of(&r.buyer_country, r.buyer_vat_number.as_deref())?;
    let net: i64 = lines.iter().map(|l| l.net_ore).sum();
    let vat_ore = vat::vat_of(Amount::sek(net), t).minor();
    let terms_i = i32::try_from(terms).unwrap_or(30);
    let written = store::update_draft(
        conn,
        &r.id,
        r.revision,
        &store::DraftEdit {
            buyer_reference: buyer_reference.as_deref(),
            order_number: order_number.as_deref(),
            payment_terms_days: terms_i,
            net_ore: net,
            vat_ore,
            gross_ore: net + vat_ore,
        },
    )?;
    if !written {
        return Err(AppError::RaceLost(crate::msg!("race_lost.concurrent")));
    }
    let freed: Vec<String> = before_lines
        .iter()
        .filter(|l| !after_lines.contains(l))
        .cloned()
        .collect();
    let added: Vec<String> = after_lines
        .iter()
        .filter(|l| !before_lines.contains(l))
        .cloned()
        .collect();
    store::detach_work_lines(conn, &freed, &r.id)?;
    if !added.is_empty() && !store::attach_work_lines(conn, &added, &r.id)? {
        return Err(AppError::RaceLost(crate::msg!("race_lost.concurrent")));
    }
    store::replace_draft_lines(conn, &r.id, &lines)?;
    audit(
        conn,
        actor,
        &r.collaboration_id,
        EventType::InvoiceDraftEdited,
        json!({
            "invoice": r.id,
            "revision": r.revision + 1,
            "before": {"buyer_reference": r.buyer_reference, "order_number": r.order_number,
                       "payment_terms_days": r.payment_terms_days, "net_ore": r.net_ore,
                       "lines": before_lines},
            "after": {"buyer_reference": buyer_reference, "order_number": order_number,
                      "payment_terms_days": terms_i, "net_ore": net, "lines": after_lines},
        }),
        now,
    )?;
    let row = store::invoice(conn, &r.id)?
        .ok_or_else(|| AppError::NotFound(crate::msg!("thing.invoice")))?;
    invoice_view(conn, row, today)
}

/// The approved lines a draft of the caller's CPUA may hold (on it or on none), for its edit form.
pub fn draftable(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
) -> Result<Vec<WorkLineView>, AppError> {
    authz::may_invoice(actor)?;
    let r = visible_invoice(conn, actor, id, false)?;
    if r.cpua_id != actor.org.as_str() || r.status != "draft" || r.kind != "invoice" {
        return Ok(Vec::new());
    }
    Ok(
        store::draftable_lines(conn, &r.collaboration_id, &r.cpua_id, &r.id)?
            .into_iter()
            .map(line_view)
            .collect(),
    )
}
