//! Billing of extraction work (issue 15, items 2-4 and 6): the work log, invoices and credit notes.
//! Thin edges over `app::billing`.
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::extract::{Authenticated, JsonBody};
use super::{blocking, AppState};
use crate::app::billing::{
    self, CreditInput, DraftInput, FileKind, InvoiceView, LoggedView, WorkLineInput, WorkLineView,
    WorkLogView,
};
use crate::app::AppError;
use crate::domain::lang::Lang;

type Data = web::Data<AppState>;

/// The register holder or finance of a CPUA of the case logs hours (at the cost agreement's hourly
/// rate) or a direct expense. Refused naming `cost_agreement` when the case has none (seed 000,
/// "Ersättning för datauttag för forskning"). From 80 % of the ceiling the answer warns; past it the
/// line needs `acknowledge: [{"code": "cost_ceiling_passed", "reason": …}]`.
#[utoipa::path(post, path = "/api/v1/collaborations/{id}/work-log", tag = "billing",
    params(("id" = String, Path, description = "collaboration id")),
    request_body(content = WorkLineInput, example = json!({"person_name": "Eva Lind", "worked_on": "2026-09-01", "activity": "Datauttag och avidentifiering", "kind": "hours", "hours_hundredths": 150})),
    responses((status = 201, body = LoggedView, description = "Logged, with any warning about the ceiling"),
              (status = 403, description = "Only the register holder or finance of a CPUA of the case logs work"),
              (status = 409, description = "No cost agreement, or the ceiling is passed without a reason"),
              (status = 422, description = "Hours out of range, an hours line without an hourly rate (`cost_agreement.hourly_rate`), a date ahead")))]
pub async fn log_work(
    state: Data,
    path: web::Path<String>,
    who: Authenticated,
    body: JsonBody<WorkLineInput>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let v = blocking(move || {
        let (now, today) = (state.svc.clock.now(), state.svc.clock.today());
        state
            .svc
            .write(|c| billing::log_work(c, &state.svc.rulebooks, &who.0, &id, body.0, now, today))
    })
    .await?;
    Ok(HttpResponse::Created().json(v))
}

/// The work log of a case: the lines of the caller's CPUA, with the totals and the ceiling.
#[utoipa::path(get, path = "/api/v1/collaborations/{id}/work-log", tag = "billing",
    params(("id" = String, Path, description = "collaboration id")),
    responses((status = 200, body = WorkLogView),
              (status = 403, description = "Only the CPUA's staff see its work log")))]
pub async fn work_log(
    state: Data,
    path: web::Path<String>,
    who: Authenticated,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let v = blocking(move || {
        state
            .svc
            .read(|c| billing::work_log(c, &state.svc.rulebooks, &who.0, &id))
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// The register holder or finance of the line's CPUA approves it; the person who logged it does not.
#[utoipa::path(post, path = "/api/v1/collaborations/{id}/work-log/{line}/approve", tag = "billing",
    params(("id" = String, Path, description = "collaboration id"),
           ("line" = String, Path, description = "work-log line id")),
    responses((status = 200, body = WorkLineView, description = "Approved"),
              (status = 403, description = "Not the holder or finance of the line's CPUA, or the person who logged it"),
              (status = 404, description = "No such line"),
              (status = 409, description = "Already approved")))]
pub async fn approve_work(
    state: Data,
    path: web::Path<(String, String)>,
    who: Authenticated,
) -> Result<HttpResponse, AppError> {
    let (id, line) = path.into_inner();
    let v = blocking(move || {
        let now = state.svc.clock.now();
        state
            .svc
            .write(|c| billing::approve_work(c, &state.svc.rulebooks, &who.0, &id, &line, now))
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Finance draws a draft invoice (no number yet) from the approved, not yet invoiced lines of one
/// collaboration. The buyer's reference or an order number is required (`buyer_reference`); a
/// company in another EU country needs its VAT number (`buyer_vat`).
#[utoipa::path(post, path = "/api/v1/invoices", tag = "billing",
    request_body(content = DraftInput, example = json!({"collaboration": "…", "buyer_reference": "Åsa Öberg", "buyer_street": "Industrigatan 4", "buyer_postal_code": "112 46", "buyer_city": "Stockholm", "seller_street": "Dag Hammarskjölds väg 38", "seller_postal_code": "751 85", "seller_city": "Uppsala", "bankgiro": "5050-1055"})),
    responses((status = 201, body = InvoiceView, description = "The draft"),
              (status = 403, description = "Only finance of a CPUA of the case draws invoices"),
              (status = 409, description = "No approved lines left to invoice"),
              (status = 422, description = "No buyer reference or order number, a missing address field, or a reverse charge without the buyer's VAT number")))]
pub async fn create_invoice(
    state: Data,
    who: Authenticated,
    body: JsonBody<DraftInput>,
) -> Result<HttpResponse, AppError> {
    let v = blocking(move || {
        let (now, today) = (state.svc.clock.now(), state.svc.clock.today());
        state
            .svc
            .write(|c| billing::create_draft(c, &state.svc.rulebooks, &who.0, body.0, now, today))
    })
    .await?;
    Ok(HttpResponse::Created().json(v))
}

/// Issues a draft: the next number of the CPUA's series, taken in the same transaction (gapless),
/// the issue date from the clock, the due date after the terms, the OCR reference, the VAT, and the
/// PDF (sv, en) and Peppol UBL stored with their SHA-256. An issued invoice never changes.
#[utoipa::path(post, path = "/api/v1/invoices/{id}/issue", tag = "billing",
    params(("id" = String, Path, description = "invoice id")),
    responses((status = 200, body = InvoiceView, description = "Issued"),
              (status = 403, description = "Only finance issues"),
              (status = 404, description = "No such invoice of the caller's CPUA"),
              (status = 409, description = "Already issued")))]
pub async fn issue_invoice(
    state: Data,
    path: web::Path<String>,
    who: Authenticated,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let v = blocking(move || {
        state.svc.write_retrying(3, |c| {
            let (now, today) = (state.svc.clock.now(), state.svc.clock.today());
            billing::issue(c, &state.svc.rulebooks, &who.0, &id, now, today)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// A credit note against an issued invoice: in full, of some lines (`lines`), or of an amount
/// (`amount_ore`); its own number from the same series, negative amounts, the invoice referred to.
#[utoipa::path(post, path = "/api/v1/invoices/{id}/credit-notes", tag = "billing",
    params(("id" = String, Path, description = "the invoice to correct")),
    request_body(content = CreditInput, example = json!({"reason": "2,5 timmar debiterades två gånger", "amount_ore": 237500})),
    responses((status = 201, body = InvoiceView, description = "The credit note, issued"),
              (status = 403, description = "Only finance credits"),
              (status = 409, description = "The invoice is not issued"),
              (status = 422, description = "Unknown lines, a non-positive amount, or more than is left of the invoice")))]
pub async fn credit_invoice(
    state: Data,
    path: web::Path<String>,
    who: Authenticated,
    body: JsonBody<CreditInput>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let v = blocking(move || {
        state.svc.write_retrying(3, |c| {
            let (now, today) = (state.svc.clock.now(), state.svc.clock.today());
            billing::credit(
                c,
                &state.svc.rulebooks,
                &who.0,
                &id,
                body.0.clone(),
                now,
                today,
            )
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(v))
}

/// The query parameters of the invoice list (the API's and the finance page's alike).
pub const INVOICE_LIST_PARAMS: &[&str] = &["status", "per_page", "cursor"];

/// The cursor key of an invoice in the list: its creation time (UTC, microseconds) and id.
fn invoice_key(v: &InvoiceView) -> Vec<String> {
    vec![
        crate::db::lists::key_time(&v.created_at.naive_utc()),
        v.id.clone(),
    ]
}

/// A page of the caller's invoice list from the request's query (`status`, `per_page`, `cursor`),
/// for the API and the finance page: keyset pages, newest first, with the count up to the cap.
pub async fn invoice_page(
    state: web::Data<AppState>,
    req: &actix_web::HttpRequest,
    actor: crate::domain::role::Actor,
) -> Result<super::extract::Page<InvoiceView>, AppError> {
    use super::extract::{query_pairs, Paging};
    let pairs = query_pairs(req, INVOICE_LIST_PARAMS)?;
    let paging = Paging::parse(&pairs, &state)?;
    let status = pairs
        .iter()
        .find(|(k, _)| k == "status")
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty());
    let fingerprint = format!(
        "invoices|org={}|status={}",
        actor.org.as_str(),
        status.as_deref().unwrap_or("")
    );
    let after = match paging.after(&fingerprint, 2)? {
        None => None,
        Some(k) => Some((
            crate::db::lists::parse_key_time(&k[0]).ok_or_else(super::extract::other_list)?,
            k[1].clone(),
        )),
    };
    let limit = paging.per_page;
    let found = blocking(move || {
        let today = state.svc.clock.today();
        state.svc.read(|c| {
            billing::list(
                c,
                &actor,
                status.as_deref(),
                today,
                after.as_ref(),
                limit,
                crate::db::lists::COUNT_CAP,
            )
        })
    })
    .await?;
    Ok(paging.page_after_lookahead(
        req,
        found.items,
        found.counted,
        crate::db::lists::COUNT_CAP,
        &fingerprint,
        invoice_key,
    ))
}

/// The invoices and credit notes of the caller's CPUA, newest first, a page at a time;
/// `?status=overdue` lists the issued invoices with a balance left past their due date.
#[utoipa::path(get, path = "/api/v1/invoices", tag = "billing",
    params(("status" = Option<String>, Query, description = "`draft`, `issued`, `overdue`, `unpaid`, `partially_paid`, `paid`, `overpaid` or `credited`"),
           ("cursor" = Option<String>, Query, description = "next_cursor of the previous page, with the same status"),
           ("per_page" = Option<i64>, Query, minimum = 1, description = "at most api.max_page_size")),
    responses((status = 200, body = super::extract::Page<InvoiceView>),
              (status = 400, description = "A cursor of another list, or an unknown parameter"),
              (status = 403, description = "Only a CPUA's staff list its invoices"),
              (status = 422, description = "An unknown status")))]
pub async fn list_invoices(
    state: Data,
    who: Authenticated,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, AppError> {
    let page = invoice_page(state, &req, who.0).await?;
    Ok(HttpResponse::Ok().json(page))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PdfQuery {
    /// `sv` (default) or `en`.
    pub lang: Option<String>,
}

/// The stored PDF of an issued invoice, as issued (`X-Content-SHA256`).
#[utoipa::path(get, path = "/api/v1/invoices/{id}.pdf", tag = "billing",
    params(("id" = String, Path, description = "invoice id"), PdfQuery),
    responses((status = 200, description = "the PDF", content((Vec<u8> = "application/pdf"))),
              (status = 404, description = "No such invoice visible to the caller"),
              (status = 409, description = "A draft has no files")))]
pub async fn invoice_pdf(
    state: Data,
    path: web::Path<String>,
    who: Authenticated,
    q: web::Query<PdfQuery>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let lang = match q.into_inner().lang.as_deref() {
        None | Some("sv") => Lang::Sv,
        Some("en") => Lang::En,
        Some(_) => return Err(AppError::invalid("lang", crate::msg!("invoice.lang"))),
    };
    file(
        state,
        who,
        id,
        FileKind::Pdf(lang),
        "application/pdf",
        "pdf",
    )
    .await
}

/// The stored Peppol BIS Billing 3.0 UBL of an issued invoice or credit note (`X-Content-SHA256`).
#[utoipa::path(get, path = "/api/v1/invoices/{id}.xml", tag = "billing",
    params(("id" = String, Path, description = "invoice id")),
    responses((status = 200, description = "the UBL 2.1 document", content((String = "application/xml"))),
              (status = 404, description = "No such invoice visible to the caller"),
              (status = 409, description = "A draft has no files")))]
pub async fn invoice_xml(
    state: Data,
    path: web::Path<String>,
    who: Authenticated,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    file(state, who, id, FileKind::Ubl, "application/xml", "xml").await
}

async fn file(
    state: Data,
    who: Authenticated,
    id: String,
    kind: FileKind,
    content_type: &'static str,
    ext: &'static str,
) -> Result<HttpResponse, AppError> {
    let (bytes, sha, number) =
        blocking(move || state.svc.read(|c| billing::file(c, &who.0, &id, kind))).await?;
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("X-Content-SHA256", sha))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"invoice-{number}.{ext}\""),
        ))
        .body(bytes))
}

/// One invoice or credit note, for the seller CPUA's staff and the buying company.
#[utoipa::path(get, path = "/api/v1/invoices/{id}", tag = "billing",
    params(("id" = String, Path, description = "invoice id")),
    responses((status = 200, body = InvoiceView),
              (status = 404, description = "No such invoice visible to the caller")))]
pub async fn get_invoice(
    state: Data,
    path: web::Path<String>,
    who: Authenticated,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let v = blocking(move || {
        let today = state.svc.clock.today();
        state.svc.read(|c| billing::get(c, &who.0, &id, today))
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}
