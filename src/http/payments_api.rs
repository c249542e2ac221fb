//! Payments of invoices and the finance export (issue 15, items 5, 6 and 8). Thin edges over
//! `app::payments`.
use actix_web::http::header;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::extract::{Authenticated, JsonBody};
use super::{blocking, AppState};
use crate::app::payments::{
    self, AllocationInput, AllocationView, ImportView, PaymentInput, PaymentView, RecordedPayment,
    UnmatchedPayment,
};
use crate::app::AppError;
use crate::domain::lang::Lang;

type Data = web::Data<AppState>;

/// A bank's ISO 20022 camt.054 notification (`BkToCstmrDbtCdtNtfctn`), versions 02 to 08, UTF-8, no
/// DTD or entities; at most 4 MiB.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct CamtFile(pub Vec<u8>);

/// Finance records a payment of an issued invoice of its CPUA by hand: the invoice by its id
/// (`invoice`) or its OCR reference (`ocr_reference`), the amount in öre, the value date and the
/// bank's reference. A bank reference is counted once per CPUA. The answer shows the balance before
/// and after and the invoice's status (`partially_paid`, `paid`, `overpaid`).
#[utoipa::path(post, path = "/api/v1/payments", tag = "billing",
    request_body(content = PaymentInput, example = json!({"ocr_reference": "20260001712", "amount_ore": 500000, "value_date": "2026-10-20", "bank_reference": "BG-2026-10-20-0001"})),
    responses((status = 201, body = RecordedPayment, description = "Recorded, with the invoice's balance"),
              (status = 403, description = "Only finance records payments"),
              (status = 404, description = "No such invoice of the caller's CPUA"),
              (status = 409, description = "The invoice is a draft or a credit note, or the bank reference is recorded already"),
              (status = 422, description = "Neither or both of `invoice` and `ocr_reference`, an unknown OCR reference, an amount not above zero, another currency, a bad or future `value_date`, no `bank_reference`")))]
pub async fn record_payment(
    state: Data,
    who: Authenticated,
    body: JsonBody<PaymentInput>,
) -> Result<HttpResponse, AppError> {
    let v = blocking(move || {
        let (now, today) = (state.svc.clock.now(), state.svc.clock.today());
        state
            .svc
            .write(|c| payments::record(c, &who.0, body.0, now, today))
    })
    .await?;
    Ok(HttpResponse::Created().json(v))
}

/// Finance imports a bank's ISO 20022 camt.054 notification (the XML file as the body, at most
/// 4 MiB) for its CPUA, all or nothing in one transaction. Booked credits are matched on the OCR
/// reference; each is recorded once by its bank reference, so a replayed or overlapping file pays
/// nothing twice (`already_recorded`). Credits that match no invoice are recorded without one and
/// listed in `unmatched` with the reason, never dropped; debits and unbooked entries are listed in
/// `skipped` and not recorded. A file that does not parse is refused naming the line and element,
/// and nothing is written.
#[utoipa::path(post, path = "/api/v1/payments/import", tag = "billing",
    request_body(content = CamtFile, content_type = "application/xml", description = "a camt.054.001.02–08 document"),
    responses((status = 200, body = ImportView, description = "What every entry of the file did"),
              (status = 403, description = "Only finance imports payments"),
              (status = 413, description = "The file is larger than 4 MiB"),
              (status = 415, description = "The body is not sent as `Content-Type: application/xml` (or `text/xml`)"),
              (status = 422, description = "The file does not parse (`file`, naming the line and element), or a bank reference appears twice in it, or a payment has no bank reference")))]
pub async fn import_payments(
    state: Data,
    req: HttpRequest,
    who: Authenticated,
    mut payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    use futures_util::StreamExt;
    let xml = req
        .mime_type()
        .ok()
        .flatten()
        .is_some_and(|m| m.subtype() == "xml" || m.suffix().is_some_and(|s| s == "xml"));
    if !xml {
        return Err(AppError::UnsupportedMediaType(crate::msg!(
            "payment.import_media_type"
        )));
    }
    let limit = payments::MAX_CAMT_BYTES;
    let too_large = || AppError::PayloadTooLarge(crate::msg!("payload_too_large", limit = limit));
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| AppError::BadRequest(crate::msg!("read_body")))?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    let bytes = body.freeze();
    let v = blocking(move || {
        let (now, today) = (state.svc.clock.now(), state.svc.clock.today());
        state
            .svc
            .write(|c| payments::import(c, &who.0, &bytes, now, today))
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Finance places (part of) a payment of its CPUA that matched no invoice (its OCR reference
/// matched nothing, or it had none) on an issued invoice, in one transaction with its audit event.
/// The invoice's balance and status follow. Append-only: a placement is never changed or taken back
/// (the database refuses it too); a wrong placement is corrected by a refund and a new payment.
#[utoipa::path(post, path = "/api/v1/payments/{id}/allocations", tag = "billing",
    params(("id" = String, Path, description = "payment id")),
    request_body(content = AllocationInput, example = json!({"invoice_id": "3f0c…", "amount_ore": 593750})),
    responses((status = 201, body = AllocationView, description = "Placed, with the invoice's balance and what is left of the payment"),
              (status = 403, description = "Only finance places payments"),
              (status = 404, description = "No such payment or invoice of the caller's CPUA"),
              (status = 409, description = "The payment is matched to an invoice already, or the invoice is a draft or a credit note"),
              (status = 422, description = "No `invoice_id`, an invoice in another currency (`invoice_id`), or an amount not above zero or above what is left of the payment (`amount_ore`)")))]
pub async fn allocate_payment(
    state: Data,
    path: web::Path<String>,
    who: Authenticated,
    body: JsonBody<AllocationInput>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let v = blocking(move || {
        let (now, today) = (state.svc.clock.now(), state.svc.clock.today());
        state
            .svc
            .write(|c| payments::allocate(c, &who.0, &id, body.0, now, today))
    })
    .await?;
    Ok(HttpResponse::Created().json(v))
}

/// The payments of the caller's CPUA that matched no invoice and are not placed in whole yet
/// (finance only), newest value date first, with what is left of each to place.
#[utoipa::path(get, path = "/api/v1/payments/unmatched", tag = "billing",
    responses((status = 200, body = Vec<UnmatchedPayment>),
              (status = 403, description = "Only finance sees them")))]
pub async fn unmatched_payments(state: Data, who: Authenticated) -> Result<HttpResponse, AppError> {
    let v = blocking(move || state.svc.read(|c| payments::unmatched(c, &who.0))).await?;
    Ok(HttpResponse::Ok().json(v))
}

/// The payments matched to an invoice, for the seller CPUA's staff and the buying company.
#[utoipa::path(get, path = "/api/v1/invoices/{id}/payments", tag = "billing",
    params(("id" = String, Path, description = "invoice id")),
    responses((status = 200, body = Vec<PaymentView>),
              (status = 404, description = "No such invoice visible to the caller")))]
pub async fn invoice_payments(
    state: Data,
    path: web::Path<String>,
    who: Authenticated,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let v = blocking(move || state.svc.read(|c| payments::of_invoice(c, &who.0, &id))).await?;
    Ok(HttpResponse::Ok().json(v))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// The first day, `YYYY-MM-DD` (included).
    pub from: Option<String>,
    /// The last day, `YYYY-MM-DD` (included); at most 366 days after `from`.
    pub to: Option<String>,
    /// The headings' language: `sv` (default) or `en`.
    pub lang: Option<String>,
}

/// The finance export of the caller's CPUA (finance only): the invoices and credit notes issued and
/// the payments with a value date in the period, as CSV for the region's ledger (UTF-8 with a BOM,
/// `;` between cells, decimal comma, Europe/Stockholm times, formula cells defused).
#[utoipa::path(get, path = "/api/v1/exports/invoices.csv", tag = "billing",
    params(ExportQuery),
    responses((status = 200, description = "the CSV", content((String = "text/csv"))),
              (status = 403, description = "Only finance exports"),
              (status = 303, description = "A browser (`Accept: text/html`) with a refused period is sent to the page `/exports/invoices`, which says at each field what is wrong"),
              (status = 422, description = "`from` or `to` is not a date `YYYY-MM-DD`, or the period runs backwards or is longer than 366 days")))]
pub async fn export_invoices_csv(
    state: Data,
    req: HttpRequest,
    who: Authenticated,
    q: web::Query<ExportQuery>,
) -> Result<HttpResponse, AppError> {
    let q = q.into_inner();
    // A browser that followed the finance page's export form (it asks for HTML) is sent to the
    // form that says at each field what is wrong with the period (`web::billing::export`).
    let navigating = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if navigating && payments::period(q.from.as_deref(), q.to.as_deref()).is_err() {
        return Ok(HttpResponse::SeeOther()
            .insert_header((
                header::LOCATION,
                format!("/exports/invoices?{}", req.query_string()),
            ))
            .finish());
    }
    let lang = match q.lang.as_deref() {
        None | Some("sv") => Lang::Sv,
        Some("en") => Lang::En,
        Some(_) => return Err(AppError::invalid("lang", crate::msg!("invoice.lang"))),
    };
    let period = payments::period(q.from.as_deref(), q.to.as_deref())?;
    let csv = blocking(move || {
        state
            .svc
            .read(|c| payments::export_csv(c, &who.0, period, lang))
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"invoices-{}-{}.csv\"",
                period.from, period.to
            ),
        ))
        .body(csv))
}
