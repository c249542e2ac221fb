//! Documents and attachments of a case (issue 16): upload (multipart), list, download, link and
//! redact. Thin edges: read the body, call one command or query of `app::documents`, map the answer.
use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use super::extract::{Authenticated, JsonBody};
use super::{blocking, AppState};
use crate::app::documents::{self, DocumentList, DocumentView, LinkInput, RedactInput, Upload};
use crate::app::AppError;

type Data = web::Data<AppState>;

/// The most a text field of the upload form may hold.
const MAX_FIELD_BYTES: usize = 4096;
/// What a multipart body may hold besides the file (boundaries, part headers, the text fields).
const ENVELOPE_BYTES: usize = 64 * 1024;

/// Refused (415) unless the body is sent as `multipart/form-data`.
pub fn require_multipart(req: &HttpRequest) -> Result<(), AppError> {
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("multipart/form-data"));
    if multipart {
        Ok(())
    } else {
        Err(AppError::UnsupportedMediaType(crate::msg!(
            "document_multipart"
        )))
    }
}

/// The upload form, as documented (the body is read as a stream by [`read_upload`]).
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct UploadForm {
    /// research_plan, ethics_application, ethics_decision, variable_list, data_processing_agreement,
    /// linkage_decision, receipt or other.
    #[serde(rename = "type")]
    doc_type: String,
    /// `parties` or `internal`.
    visibility: String,
    /// A dossier item (`dossier.ethics_documents`) or an obligation code (`ethics_approval`).
    satisfies: Option<String>,
    /// The file; its content type is read from its bytes.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Reads a multipart upload as it arrives: the text fields `type`, `visibility`, `satisfies` (and a
/// page's `csrf_token`), and the part `file`, whose bytes are hashed while read and refused (413) as
/// soon as they pass `limit`: never more than the limit is held. An interrupted body is refused
/// (400) and nothing is kept. The pages read their form with this too.
pub async fn read_upload(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<Upload, AppError> {
    let too_large = || AppError::PayloadTooLarge(crate::msg!("document_too_large", limit = limit));
    require_multipart(req)?;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit.saturating_add(ENVELOPE_BYTES)) {
        return Err(too_large());
    }
    let broken = |_| AppError::BadRequest(crate::msg!("read_body"));
    let mut parts = actix_multipart::Multipart::new(req.headers(), payload);
    let mut up = Upload::default();
    let mut envelope = 0usize;
    while let Some(part) = parts.next().await {
        let mut part = part.map_err(broken)?;
        let name = part.name().unwrap_or("").to_string();
        if name == "file" {
            let file_name = part
                .content_disposition()
                .and_then(|d| d.get_filename())
                .unwrap_or("")
                .to_string();
            let mut hasher = Sha256::new();
            let mut bytes: Vec<u8> = Vec::new();
            while let Some(chunk) = part.next().await {
                let chunk = chunk.map_err(broken)?;
                if bytes.len() + chunk.len() > limit {
                    return Err(too_large());
                }
                hasher.update(&chunk);
                bytes.extend_from_slice(&chunk);
            }
            up.file_name = Some(file_name);
            up.sha256 = hex::encode(hasher.finalize());
            up.bytes = Some(bytes);
            continue;
        }
        let mut value: Vec<u8> = Vec::new();
        while let Some(chunk) = part.next().await {
            let chunk = chunk.map_err(broken)?;
            envelope += chunk.len();
            if value.len() + chunk.len() > MAX_FIELD_BYTES || envelope > ENVELOPE_BYTES {
                return Err(AppError::invalid(
                    &name,
                    crate::msg!("max_length", max = MAX_FIELD_BYTES),
                ));
            }
            value.extend_from_slice(&chunk);
        }
        let value = String::from_utf8(value)
            .map_err(|_| AppError::invalid(&name, crate::msg!("document_field_utf8")))?;
        match name.as_str() {
            "type" => up.doc_type = Some(value),
            "visibility" => up.visibility = Some(value),
            "satisfies" => up.satisfies = Some(value),
            // A page's form carries its CSRF token (checked before the handler runs).
            "csrf_token" => {}
            other => {
                return Err(AppError::invalid(
                    other,
                    crate::msg!("document_field_unknown", field = other),
                ))
            }
        }
    }
    Ok(up)
}

/// Upload a document to a case: `multipart/form-data` with the fields `type` (research_plan,
/// ethics_application, ethics_decision, variable_list, data_processing_agreement, linkage_decision,
/// receipt, other), `visibility` (`parties`: everyone who may see the case; `internal`: only the
/// uploading organisation), optional `satisfies` (a dossier item such as `dossier.ethics_documents`,
/// or an obligation code such as `ethics_approval`) and `file`. The content type is read from the
/// bytes (PDF, DOCX, XLSX, PNG, JPEG; anything else is refused at `file`), the SHA-256 computed while
/// reading, and the size limited by `documents.max_bytes`. The uploader is the signed-in person and
/// organisation. A refused or interrupted upload stores nothing.
#[utoipa::path(post, path = "/api/v1/collaborations/{id}/documents", tag = "documents",
    params(("id" = String, Path, description = "collaboration id")),
    request_body(content = UploadForm, content_type = "multipart/form-data", description = "fields type, visibility, satisfies (optional), file"),
    responses((status = 201, body = DocumentView, description = "The document is stored"),
              (status = 400, description = "The body was interrupted or is not valid multipart"),
              (status = 403, description = "The caller's role does not upload documents"),
              (status = 404, description = "No such collaboration, or not one the caller sees"),
              (status = 413, description = "The file is larger than `documents.max_bytes`"),
              (status = 415, description = "The body is not `multipart/form-data`"),
              (status = 422, description = "A field is missing or breaks a rule, e.g. `file` with `document_content_type`")))]
pub async fn upload_document(
    state: Data,
    req: HttpRequest,
    path: web::Path<String>,
    who: Authenticated,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    require_multipart(&req)?;
    // Who may upload is settled before the body is read: another organisation's case is 404.
    let (s, a, i) = (state.clone(), who.0.clone(), id.clone());
    blocking(move || documents::may_upload(&s.svc, &a, &i)).await?;
    let up = read_upload(&req, payload, state.settings.documents.max_bytes).await?;
    let checked = documents::check(up)?;
    let view = blocking(move || {
        let now = state.svc.clock.now();
        documents::upload(
            &state.svc,
            state.documents.as_ref(),
            &who.0,
            &id,
            checked,
            now,
        )
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}

/// The case's documents the caller sees, in upload order: type, file name, size, SHA-256, content
/// type, uploader, time, visibility, what each satisfies, and a redacted one's tombstone. Another
/// organisation's internal documents are not listed.
#[utoipa::path(get, path = "/api/v1/collaborations/{id}/documents", tag = "documents",
    params(("id" = String, Path, description = "collaboration id")),
    responses((status = 200, body = DocumentList),
              (status = 404, description = "No such collaboration, or not one the caller sees")))]
pub async fn list_documents(
    state: Data,
    path: web::Path<String>,
    who: Authenticated,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let list = blocking(move || {
        state
            .svc
            .read(|c| documents::list(c, &state.svc, &who.0, &id))
    })
    .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// The `Content-Disposition` of a download: an attachment, with an ASCII name and the UTF-8 one.
pub fn attachment(file_name: &str) -> ContentDisposition {
    let ascii: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![
            DispositionParam::Filename(ascii),
            DispositionParam::FilenameExt(header::ExtendedValue {
                charset: header::Charset::Ext("UTF-8".into()),
                language_tag: None,
                value: file_name.as_bytes().to_vec(),
            }),
        ],
    }
}

/// The bytes of a document, as uploaded: the stored content type, `Content-Disposition: attachment`,
/// `X-Content-Type-Options: nosniff` and `X-Content-SHA256`. A redacted document answers 410 naming
/// the redaction; one the caller does not see, 404.
#[utoipa::path(get, path = "/api/v1/collaborations/{id}/documents/{doc}", tag = "documents",
    params(("id" = String, Path, description = "collaboration id"),
           ("doc" = String, Path, description = "document id")),
    responses((status = 200, description = "the bytes (`X-Content-SHA256`)", content((Vec<u8> = "application/octet-stream"))),
              (status = 404, description = "No such document, or not one the caller sees"),
              (status = 410, description = "The document was redacted: who, when and why")))]
pub async fn get_document(
    state: Data,
    path: web::Path<(String, String)>,
    who: Authenticated,
) -> Result<HttpResponse, AppError> {
    let (id, doc) = path.into_inner();
    let (view, bytes) =
        blocking(move || documents::read(&state.svc, state.documents.as_ref(), &who.0, &id, &doc))
            .await?;
    Ok(HttpResponse::Ok()
        .content_type(view.content_type.as_str())
        .insert_header(attachment(&view.file_name))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("X-Content-SHA256", view.sha256.as_str()))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(bytes))
}

/// Redact a wrong upload: the bytes are removed from the store; the document keeps its type, name,
/// size and SHA-256 with a tombstone (who, when, why), and the audit trail records it. By the people
/// of the uploading organisation or the legal team of a CPUA of the case.
#[utoipa::path(post, path = "/api/v1/collaborations/{id}/documents/{doc}/redact", tag = "documents",
    params(("id" = String, Path, description = "collaboration id"),
           ("doc" = String, Path, description = "document id")),
    request_body(content = RedactInput, example = json!({"reason": "Fel fil: innehåller personnummer."})),
    responses((status = 200, body = DocumentView, description = "The document is redacted"),
              (status = 403, description = "Neither the uploading organisation nor CPUA legal of the case"),
              (status = 404, description = "No such document, or not one the caller sees"),
              (status = 409, description = "Already redacted"),
              (status = 422, description = "No reason given")))]
pub async fn redact_document(
    state: Data,
    path: web::Path<(String, String)>,
    who: Authenticated,
    body: JsonBody<RedactInput>,
) -> Result<HttpResponse, AppError> {
    let (id, doc) = path.into_inner();
    let view = blocking(move || {
        let now = state.svc.clock.now();
        documents::redact(
            &state.svc,
            state.documents.as_ref(),
            &who.0,
            &id,
            &doc,
            body.0,
            now,
        )
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Say that a document satisfies a dossier item (`dossier.<item>`) or an obligation (its code); the
/// case view lists it under `satisfied_by`. Linking again changes nothing.
#[utoipa::path(post, path = "/api/v1/collaborations/{id}/documents/{doc}/links", tag = "documents",
    params(("id" = String, Path, description = "collaboration id"),
           ("doc" = String, Path, description = "document id")),
    request_body(content = LinkInput, example = json!({"satisfies": "dossier.ethics_documents"})),
    responses((status = 200, body = DocumentView, description = "The document with what it satisfies"),
              (status = 404, description = "No such document, or not one the caller sees"),
              (status = 409, description = "The document is redacted"),
              (status = 422, description = "Not a dossier item or obligation code")))]
pub async fn link_document(
    state: Data,
    path: web::Path<(String, String)>,
    who: Authenticated,
    body: JsonBody<LinkInput>,
) -> Result<HttpResponse, AppError> {
    let (id, doc) = path.into_inner();
    let view = blocking(move || {
        let now = state.svc.clock.now();
        documents::link(&state.svc, &who.0, &id, &doc, body.0, now)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}
