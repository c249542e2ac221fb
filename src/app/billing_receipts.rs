//! Receipts of expense lines (issue 15, item 2: "expenses (with receipt attachment when attachments
//! exist)"). A receipt is a case document (issue 16) of type `receipt`, internal to the CPUA that
//! logged the line: its bytes go through the document store with their SHA-256, and the row
//! `work_log_receipts` says which line it belongs to. Attaching is one transaction: the document's
//! row, the link and the audit events (`internal_document_uploaded`, `work_receipt_attached`).
//!
//! Who: the register holder or finance of the line's CPUA attach (as they log the line); that CPUA's
//! staff read it (they see the line). Anyone else is answered 404, as for the line.
//!
//! A missing receipt never blocks the approval: neither the seeds nor the issue say "ska", so the
//! approval answers the prompt `receipt_missing` (`domain::billing::ledger::approval_advice`).
use chrono::{DateTime, Utc};
use serde_json::json;

use super::document_store::DocumentStore;
use super::documents::{self, Checked, DocumentView, Upload};
use super::{authz, AppError, Services};
use crate::db::billing::{self as store, ReceiptRow, WorkLogRow};
use crate::db::repo::{self, ts};
use crate::db::DbConn;
use crate::domain::collaboration::Collaboration;
use crate::domain::document::{self as rules, ContentKind, DocumentType, DocumentVisibility};
use crate::domain::events::EventType;
use crate::domain::ids::CollaborationId;
use crate::domain::role::Actor;

/// The largest receipt (10 MiB), or `documents.max_bytes` when that is smaller.
pub const MAX_RECEIPT_BYTES: usize = 10 * 1024 * 1024;

/// What a receipt may be: a PDF or an image, read from the bytes.
pub fn accepted(kind: ContentKind) -> bool {
    matches!(
        kind,
        ContentKind::Pdf | ContentKind::Png | ContentKind::Jpeg
    )
}

/// The limit for one receipt under these settings.
pub fn limit(document_max_bytes: usize) -> usize {
    MAX_RECEIPT_BYTES.min(document_max_bytes)
}

fn not_found() -> AppError {
    AppError::NotFound(crate::msg!("thing.work_log_line"))
}

/// The line, when the actor sees it (its CPUA's staff), else 404.
fn line_of(
    conn: &mut DbConn,
    svc: &Services,
    actor: &Actor,
    id: &str,
    line: &str,
) -> Result<(Collaboration, WorkLogRow), AppError> {
    let c = super::collaborations::visible(conn, &svc.rulebooks, actor, id)?;
    let row = store::work_line(conn, c.id.as_str(), line)?.ok_or_else(not_found)?;
    if !authz::sees_work_log(actor, &row.cpua_id) {
        return Err(not_found());
    }
    Ok((c, row))
}

/// Whether the actor may attach a receipt to the line, and the line takes one: an expense line
/// without a receipt, and the register holder or finance of its CPUA. Checked before the body is
/// read, and again in the writing transaction.
fn may_attach_to(conn: &mut DbConn, actor: &Actor, row: &WorkLogRow) -> Result<(), AppError> {
    authz::may_attach_receipt(actor, &row.cpua_id)?;
    if row.kind != "expense" {
        return Err(AppError::invalid(
            "file",
            crate::msg!("worklog.receipt_expense_only"),
        ));
    }
    if store::receipt_of(conn, &row.id)?.is_some() {
        return Err(AppError::Conflict(crate::msg!("worklog.receipt_present")));
    }
    Ok(())
}

/// Checked before the body is read: another organisation's line is 404, a refused role 403, an
/// hours line 422 and a line with a receipt 409, whatever was sent.
pub fn may_attach(svc: &Services, actor: &Actor, id: &str, line: &str) -> Result<(), AppError> {
    svc.read(|c| {
        let (_, row) = line_of(c, svc, actor, id, line)?;
        may_attach_to(c, actor, &row)
    })
}

/// Checks an upload as a receipt: a file with a name whose bytes are a PDF, PNG or JPEG.
pub fn check(u: Upload) -> Result<Checked, AppError> {
    let (Some(name), Some(bytes)) = (u.file_name, u.bytes) else {
        return Err(AppError::invalid("file", crate::msg!("required.field")));
    };
    if bytes.is_empty() {
        return Err(AppError::invalid("file", crate::msg!("required.field")));
    }
    let file_name = rules::clean_file_name(&name).map_err(|m| AppError::invalid("file", m))?;
    let kind = rules::sniff(&bytes)
        .filter(|k| accepted(*k))
        .ok_or_else(|| AppError::invalid("file", crate::msg!("worklog.receipt_content")))?;
    Ok(Checked {
        doc_type: DocumentType::Receipt,
        visibility: DocumentVisibility::Internal,
        satisfies: None,
        file_name,
        kind,
        bytes,
        sha256: u.sha256,
    })
}

/// Attaches a checked receipt to an expense line: the bytes into the store, then the document row,
/// the receipt row and the audit events in one transaction. A failed transaction leaves at most an
/// orphan file, which is removed again.
pub fn attach(
    svc: &Services,
    files: &dyn DocumentStore,
    actor: &Actor,
    id: &str,
    line: &str,
    doc: Checked,
    now: DateTime<Utc>,
) -> Result<DocumentView, AppError> {
    may_attach(svc, actor, id, line)?;
    let doc_id = uuid::Uuid::new_v4().to_string();
    let key = rules::storage_key(&doc.sha256, &doc_id);
    files.put(&key, &doc.bytes)?;
    let result = svc.write(|c| {
        if let Some(cid) = CollaborationId::parse(id) {
            repo::lock_collaboration(c, &cid)?;
        }
        let (collab, row) = line_of(c, svc, actor, id, line)?;
        may_attach_to(c, actor, &row)?;
        let view = documents::record_upload(c, actor, &collab, &doc, &doc_id, &key, now)?;
        store::insert_receipt(
            c,
            &ReceiptRow {
                work_log_line_id: row.id.clone(),
                document_id: doc_id.clone(),
                attached_by: actor.account.to_string(),
                attached_at: ts(now),
            },
        )?;
        super::audit::record_case_event(
            c,
            actor,
            collab.id.as_str(),
            EventType::WorkReceiptAttached,
            None,
            json!({"work_log_line": row.id, "document": doc_id, "sha256": view.sha256,
                   "amount_ore": row.amount_ore}),
            now,
        )?;
        Ok(view)
    });
    if result.is_err() {
        if let Err(e) = files.delete(&key) {
            tracing::warn!(error = %e, key, "an orphan receipt file stays");
        }
    }
    result
}

/// The receipt's bytes as stored (their SHA-256 checked by `documents::read`): 404 when the actor
/// does not see the line or it has no receipt, 410 when the document was redacted.
pub fn read(
    svc: &Services,
    files: &dyn DocumentStore,
    actor: &Actor,
    id: &str,
    line: &str,
) -> Result<(DocumentView, Vec<u8>), AppError> {
    let doc = svc.read(|c| {
        let (_, row) = line_of(c, svc, actor, id, line)?;
        store::receipt_of(c, &row.id)?
            .map(|r| r.document_id)
            .ok_or_else(|| AppError::NotFound(crate::msg!("thing.receipt")))
    })?;
    documents::read(svc, files, actor, id, &doc)
}
