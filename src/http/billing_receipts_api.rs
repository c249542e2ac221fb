//! Receipts of expense lines and edits of draft invoices (issue 15, items 2 and 3). Thin edges over
//! `app::billing_receipts` and `app::billing::edit_draft`.
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use super::documents_api::{attachment, read_upload, require_multipart};
use super::extract::{Authenticated, JsonBody};
use super::{blocking, AppState};
use crate::app::billing::{self, DraftEditInput, InvoiceView};
use crate::app::billing_receipts as receipts;
use crate::app::documents::DocumentView;
use crate::app::AppError;

type Data = web::Data<AppState>;

/// The receipt form, as documented (the body is read as a stream).
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct ReceiptForm {
    /// The receipt: a PDF, PNG or JPEG, read from its bytes.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Attach the receipt of an expense line: `multipart/form-data` with the part `file` (a PDF, PNG or
/// JPEG, read from the bytes; at most 10 MiB, or `documents.max_bytes` when smaller). It is stored
/// as a case document of type `receipt`, internal to the CPUA, with its SHA-256. By the register
/// holder or finance of the line's CPUA; a line has one receipt. Approving an expense line without
/// one is allowed, with the prompt `receipt_missing`.
#[utoipa::path(post, path = "/api/v1/collaborations/{id}/work-log/{line}/receipt", tag = "billing",
    params(("id" = String, Path, description = "collaboration id"),
           ("line" = String, Path, description = "work-log line id")),
    request_body(content = ReceiptForm, content_type = "multipart/form-data", description = "the part file"),
    responses((status = 201, body = DocumentView, description = "The receipt is stored"),
              (status = 403, description = "Only the register holder or finance of the line's CPUA attach"),
              (status = 404, description = "No such line, or not one the caller sees"),
              (status = 409, description = "The line has a receipt already"),
              (status = 413, description = "The file is too large"),
              (status = 415, description = "The body is not `multipart/form-data`"),
              (status = 422, description = "No file, not a PDF or image (`file`), or an hours line")))]
pub async fn attach_receipt(
    state: Data,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    who: Authenticated,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let (id, line) = path.into_inner();
    require_multipart(&req)?;
    let (s, a, i, l) = (state.clone(), who.0.clone(), id.clone(), line.clone());
    blocking(move || receipts::may_attach(&s.svc, &a, &i, &l)).await?;
    let limit = receipts::limit(state.settings.documents.max_bytes);
    let up = read_upload(&req, payload, limit).await?;
    let checked = receipts::check(up)?;
    let view = blocking(move || {
        let now = state.svc.clock.now();
        receipts::attach(
            &state.svc,
            state.documents.as_ref(),
            &who.0,
            &id,
            &line,
            checked,
            now,
        )
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}

/// The receipt of an expense line, as uploaded: its content type, `Content-Disposition: attachment`,
/// `X-Content-Type-Options: nosniff` and `X-Content-SHA256`. For the staff of the line's CPUA;
/// anyone else is answered 404.
#[utoipa::path(get, path = "/api/v1/collaborations/{id}/work-log/{line}/receipt", tag = "billing",
    params(("id" = String, Path, description = "collaboration id"),
           ("line" = String, Path, description = "work-log line id")),
    responses((status = 200, description = "the bytes (`X-Content-SHA256`)", content((Vec<u8> = "application/octet-stream"))),
              (status = 404, description = "No such line or receipt, or not one the caller sees"),
              (status = 410, description = "The receipt's document was redacted")))]
pub async fn get_receipt(
    state: Data,
    path: web::Path<(String, String)>,
    who: Authenticated,
) -> Result<HttpResponse, AppError> {
    let (id, line) = path.into_inner();
    let (view, bytes) =
        blocking(move || receipts::read(&state.svc, state.documents.as_ref(), &who.0, &id, &line))
            .await?;
    Ok(HttpResponse::Ok()
        .content_type(view.content_type.as_str())
        .insert_header(attachment(&view.file_name))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("X-Content-SHA256", view.sha256.as_str()))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(bytes))
}

/// Edit a draft invoice until it is issued: its buyer reference or order number (one is required),
/// its terms, and the approved work-log lines it holds (lines left out are free to invoice later).
/// Send the draft's `revision`: when someone changed the draft since, nothing is written (409). An
/// issued invoice never changes (409; the database refuses it too).
#[utoipa::path(patch, path = "/api/v1/invoices/{id}", tag = "billing",
    params(("id" = String, Path, description = "invoice id")),
    request_body(content = DraftEditInput, example = json!({"revision": 0, "buyer_reference": "Anna Berg", "payment_terms_days": 20, "lines": ["6f1c…"]})),
    responses((status = 200, body = InvoiceView, description = "The draft as edited, its revision raised"),
              (status = 403, description = "Only finance edits drafts"),
              (status = 404, description = "No such invoice of the caller's CPUA"),
              (status = 409, description = "Issued, or changed by someone else since `revision`"),
              (status = 422, description = "No reference, terms out of 1–365, no lines or a line that cannot be on it")))]
pub async fn edit_invoice(
    state: Data,
    path: web::Path<String>,
    who: Authenticated,
    body: JsonBody<DraftEditInput>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let v: InvoiceView = blocking(move || {
        let (now, today) = (state.svc.clock.now(), state.svc.clock.today());
        state
            .svc
            .write(|c| billing::edit_draft(c, &who.0, &id, body.0.clone(), now, today))
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}
