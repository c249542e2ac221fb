//! Documents and attachments of a case (issue 16, item 1): upload, list, read, link to a dossier item
//! or obligation, and redact. Every change is one transaction with its audit event in the case's
//! chain; the bytes go through [`super::document_store`], put before the row is committed and removed
//! only after the tombstone is.
//!
//! Seed 000, "Ansökan för utlämnande av data": the CPUA keeps what a release was based on (the
//! application and the approved ethics application), so a document keeps its SHA-256, and a redacted
//! one its tombstone.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::audit::record_case_event;
use super::document_store::DocumentStore;
use super::{authz, AppError, FieldError, Services};
use crate::db::documents::{self as store, DocumentRow, LinkRow};
use crate::db::repo::{self, ts, utc};
use crate::db::DbConn;
use crate::domain::collaboration::Collaboration;
use crate::domain::document::{self as rules, ContentKind, DocumentType, DocumentVisibility};
use crate::domain::events::EventType;
use crate::domain::ids::CollaborationId;
use crate::domain::lang::Bilingual;
use crate::domain::role::Actor;

/// An upload as read from the multipart body: the text fields as sent, the file's name, its bytes
/// (at most `documents.max_bytes`, refused while reading otherwise) and their SHA-256, computed while
/// the bytes were read.
#[derive(Debug, Clone, Default)]
pub struct Upload {
    pub doc_type: Option<String>,
    pub visibility: Option<String>,
    pub satisfies: Option<String>,
    pub file_name: Option<String>,
    pub bytes: Option<Vec<u8>>,
    pub sha256: String,
}

/// An upload that passed every check.
#[derive(Debug, Clone)]
pub struct Checked {
    pub doc_type: DocumentType,
    pub visibility: DocumentVisibility,
    pub satisfies: Option<String>,
    pub file_name: String,
    pub kind: ContentKind,
    pub bytes: Vec<u8>,
    pub sha256: String,
}

/// Checks an upload, naming each field at fault: `type`, `visibility`, `satisfies` and `file` (no
/// file, no name, or content that is none of PDF, DOCX, XLSX, PNG, JPEG read from the bytes).
pub fn check(u: Upload) -> Result<Checked, AppError> {
    let mut errors: Vec<FieldError> = Vec::new();
    let types = || {
        DocumentType::ALL
            .iter()
            .map(|t| t.code())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let doc_type = match u.doc_type.as_deref().map(str::trim) {
        None | Some("") => {
            errors.push(FieldError::new("type", crate::msg!("required.field")));
            None
        }
        Some(t) => DocumentType::parse(t).or_else(|| {
            errors.push(FieldError::new(
                "type",
                crate::msg!("one_of.document_type", values = types()),
            ));
            None
        }),
    };
    let visibility = match u.visibility.as_deref().map(str::trim) {
        None | Some("") => {
            errors.push(FieldError::new("visibility", crate::msg!("required.field")));
            None
        }
        Some(v) => DocumentVisibility::parse(v).or_else(|| {
            errors.push(FieldError::new(
                "visibility",
                crate::msg!("one_of.document_visibility"),
            ));
            None
        }),
    };
    let satisfies = match u.satisfies.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) => match rules::parse_satisfies(s) {
            Some(s) => Some(s),
            None => {
                errors.push(satisfies_error());
                None
            }
        },
    };
    let mut file = None;
    match (u.file_name, u.bytes) {
        (Some(name), Some(bytes)) if !bytes.is_empty() => match rules::clean_file_name(&name) {
            Err(m) => errors.push(FieldError::new("file", m)),
            Ok(name) => match rules::sniff(&bytes) {
                Some(kind) => file = Some((name, kind, bytes)),
                None => errors.push(FieldError::new(
                    "file",
                    crate::msg!("document_content_type", accepted = ContentKind::ACCEPTED),
                )),
            },
        },
        _ => errors.push(FieldError::new("file", crate::msg!("required.field"))),
    }
    match (doc_type, visibility, file) {
        (Some(doc_type), Some(visibility), Some((file_name, kind, bytes))) if errors.is_empty() => {
            Ok(Checked {
                doc_type,
                visibility,
                satisfies,
                file_name,
                kind,
                bytes,
                sha256: u.sha256,
            })
        }
        _ => Err(AppError::Invalid(errors)),
    }
}

fn satisfies_error() -> FieldError {
    FieldError::new(
        "satisfies",
        crate::msg!(
            "one_of.document_satisfies",
            values = rules::satisfies_codes().join(", ")
        ),
    )
}

/// Who uploaded a document.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Uploader {
    pub account: String,
    pub name: String,
    pub organisation: String,
    pub organisation_name: String,
}

/// The tombstone of a redacted document: who, when and why.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Redaction {
    pub redacted_at: DateTime<Utc>,
    pub redacted_by: String,
    pub redacted_by_name: String,
    pub organisation: String,
    pub reason: String,
}

/// One document as its reader sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DocumentView {
    pub id: String,
    pub collaboration_id: String,
    /// `research_plan`, `ethics_application`, `ethics_decision`, `variable_list`,
    /// `data_processing_agreement`, `linkage_decision`, `receipt` or `other`.
    #[serde(rename = "type")]
    pub doc_type: String,
    pub type_label: Bilingual,
    pub file_name: String,
    pub size_bytes: i64,
    pub sha256: String,
    /// Read from the bytes when uploaded.
    pub content_type: String,
    pub uploaded_by: Uploader,
    pub uploaded_at: DateTime<Utc>,
    /// `parties` or `internal`.
    pub visibility: String,
    /// The dossier items (`dossier.<item>`) and obligations it satisfies.
    pub satisfies: Vec<String>,
    /// Present once the document is redacted: its bytes are gone.
    pub redaction: Option<Redaction>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DocumentList {
    pub items: Vec<DocumentView>,
}

/// A redaction: why the bytes are removed.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedactInput {
    pub reason: String,
}

/// A link: the dossier item or obligation the document satisfies.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkInput {
    pub satisfies: String,
}

/// A document that satisfies an item, as the case view lists it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SatisfyingDocument {
    /// `dossier.<item>` or an obligation code.
    pub item: String,
    pub document_id: String,
    #[serde(rename = "type")]
    pub doc_type: String,
    pub file_name: String,
    pub sha256: String,
}

fn type_label(code: &str) -> Bilingual {
    let (sv, en) = DocumentType::parse(code)
        .map(DocumentType::label)
        .unwrap_or((code, code));
    Bilingual {
        sv: sv.into(),
        en: en.into(),
    }
}

fn view_of(row: &DocumentRow, links: &[LinkRow]) -> DocumentView {
    let redaction = row.redacted_at.map(|at| Redaction {
        redacted_at: utc(at),
        redacted_by: row.redacted_by.clone().unwrap_or_default(),
        redacted_by_name: row.redacted_by_name.clone().unwrap_or_default(),
        organisation: row.redacted_by_organisation.clone().unwrap_or_default(),
        reason: row.redaction_reason.clone().unwrap_or_default(),
    });
    DocumentView {
        id: row.id.clone(),
        collaboration_id: row.collaboration_id.clone(),
        doc_type: row.doc_type.clone(),
        type_label: type_label(&row.doc_type),
        file_name: row.file_name.clone(),
        size_bytes: row.size_bytes,
        sha256: row.sha256.clone(),
        content_type: row.content_type.clone(),
        uploaded_by: Uploader {
            account: row.uploaded_by.clone(),
            name: row.uploaded_by_name.clone(),
            organisation: row.organisation_id.clone(),
            organisation_name: row.organisation_name.clone(),
        },
        uploaded_at: utc(row.uploaded_at),
        visibility: DocumentVisibility::stored(&row.visibility).code().into(),
        satisfies: links
            .iter()
            .filter(|l| l.document_id == row.id)
            .map(|l| l.item.clone())
            .collect(),
        redaction,
    }
}

fn visible_row(actor: &Actor, row: &DocumentRow) -> bool {
    authz::sees_document(
        actor,
        DocumentVisibility::stored(&row.visibility),
        &row.organisation_id,
    )
}

fn not_found() -> AppError {
    AppError::NotFound(crate::msg!("thing.document"))
}

/// The document, when the actor sees the case and the document (404 otherwise).
fn document(
    conn: &mut DbConn,
    actor: &Actor,
    c: &Collaboration,
    doc: &str,
) -> Result<DocumentRow, AppError> {
    match store::get(conn, c.id.as_str(), doc)? {
        Some(row) if visible_row(actor, &row) => Ok(row),
        _ => Err(not_found()),
    }
}

fn event_for(visibility: &str, party: EventType, internal: EventType) -> EventType {
    match DocumentVisibility::stored(visibility) {
        DocumentVisibility::Parties => party,
        DocumentVisibility::Internal => internal,
    }
}

fn lock(conn: &mut DbConn, id: &str) -> Result<(), AppError> {
    if let Some(cid) = CollaborationId::parse(id) {
        repo::lock_collaboration(conn, &cid)?;
    }
    Ok(())
}

/// Whether the actor may upload to the case: checked before the body is judged, so another
/// organisation's case answers 404 and a refused role 403 whatever was sent.
pub fn may_upload(svc: &Services, actor: &Actor, id: &str) -> Result<(), AppError> {
    svc.read(|c| {
        let (_, scope) = super::collaborations::visible_with_scope(c, &svc.rulebooks, actor, id)?;
        authz::may_upload_document(actor, &scope)
    })
}

/// Uploads a checked document: the bytes into the store first, then the row, its link and the
/// audit event in one transaction. A failed transaction leaves at most an orphan file.
pub fn upload(
    svc: &Services,
    files: &dyn DocumentStore,
    actor: &Actor,
    id: &str,
    doc: Checked,
    now: DateTime<Utc>,
) -> Result<DocumentView, AppError> {
    may_upload(svc, actor, id)?;
    let doc_id = uuid::Uuid::new_v4().to_string();
    let key = rules::storage_key(&doc.sha256, &doc_id);
    files.put(&key, &doc.bytes)?;
    let result = svc.write(|c| {
        lock(c, id)?;
        let (collab, scope) =
            super::collaborations::visible_with_scope(c, &svc.rulebooks, actor, id)?;
        authz::may_upload_document(actor, &scope)?;
        record_upload(c, actor, &collab, &doc, &doc_id, &key, now)
    });
    if result.is_err() {
        // Nothing points at the bytes: take them away again (an orphan is allowed, not wanted).
        if let Err(e) = files.delete(&key) {
            tracing::warn!(error = %e, key, "an orphan document file stays");
        }
    }
    result
}

/// Writes an uploaded document's row, its link and its audit event in the caller's transaction (the
/// bytes are in the store under `key` already). The caller has checked who may upload; the receipts
/// of expense lines (`app::billing_receipts`) are written through this too.
pub(crate) fn record_upload(
    c: &mut DbConn,
    actor: &Actor,
    collab: &Collaboration,
    doc: &Checked,
    doc_id: &str,
    key: &str,
    now: DateTime<Utc>,
) -> Result<DocumentView, AppError> {
    let org_name = repo::find_organisation(c, &actor.org)?
        .map(|o| o.name)
        .unwrap_or_else(|| actor.org.as_str().to_string());
    let row = DocumentRow {
        id: doc_id.to_string(),
        collaboration_id: collab.id.as_str().to_string(),
        doc_type: doc.doc_type.code().into(),
        visibility: doc.visibility.code().into(),
        file_name: doc.file_name.clone(),
        content_type: doc.kind.mime().into(),
        size_bytes: i64::try_from(doc.bytes.len()).unwrap_or(i64::MAX),
        sha256: doc.sha256.clone(),
        storage_key: key.to_string(),
        uploaded_by: actor.account.as_str().to_string(),
        uploaded_by_name: actor.name.clone(),
        organisation_id: actor.org.as_str().to_string(),
        organisation_name: org_name,
        uploaded_at: ts(now),
        redacted_at: None,
        redacted_by: None,
        redacted_by_name: None,
        redacted_by_organisation: None,
        redaction_reason: None,
    };
    store::insert(c, &row)?;
    let mut links = Vec::new();
    if let Some(item) = &doc.satisfies {
        let l = LinkRow {
            document_id: doc_id.to_string(),
            item: item.clone(),
            linked_by: actor.account.as_str().to_string(),
            linked_at: ts(now),
        };
        store::link(c, &l)?;
        links.push(l);
    }
    let view = view_of(&row, &links);
    record_case_event(
        c,
        actor,
        collab.id.as_str(),
        event_for(
            &row.visibility,
            EventType::DocumentUploaded,
            EventType::InternalDocumentUploaded,
        ),
        None,
        json!({"document": {
            "id": row.id, "type": row.doc_type, "file_name": row.file_name,
            "size_bytes": row.size_bytes, "sha256": row.sha256,
            "content_type": row.content_type, "visibility": row.visibility,
            "satisfies": view.satisfies,
        }}),
        now,
    )?;
    Ok(view)
}

/// The case's documents the actor sees, in upload order.
pub fn list(
    conn: &mut DbConn,
    svc: &Services,
    actor: &Actor,
    id: &str,
) -> Result<DocumentList, AppError> {
    let c = super::collaborations::visible(conn, &svc.rulebooks, actor, id)?;
    let rows = store::of_collaboration(conn, c.id.as_str())?;
    let links = store::links_of_collaboration(conn, c.id.as_str())?;
    Ok(DocumentList {
        items: rows
            .iter()
            .filter(|r| visible_row(actor, r))
            .map(|r| view_of(r, &links))
            .collect(),
    })
}

/// A document's bytes as stored: 404 when the actor does not see it, 410 naming the redaction when it
/// is redacted.
pub fn read(
    svc: &Services,
    files: &dyn DocumentStore,
    actor: &Actor,
    id: &str,
    doc: &str,
) -> Result<(DocumentView, Vec<u8>), AppError> {
    let row = svc.read(|c| {
        let collab = super::collaborations::visible(c, &svc.rulebooks, actor, id)?;
        document(c, actor, &collab, doc)
    })?;
    if let Some(at) = row.redacted_at {
        return Err(AppError::Gone(crate::msg!(
            "document_redacted",
            when = utc(at)
                .with_timezone(&chrono_tz::Europe::Stockholm)
                .format("%Y-%m-%d %H:%M")
                .to_string(),
            who = row.redacted_by_name.clone().unwrap_or_default(),
            organisation = row.redacted_by_organisation.clone().unwrap_or_default(),
            reason = row.redaction_reason.clone().unwrap_or_default(),
        )));
    }
    let bytes = files.get(&row.storage_key)?.ok_or_else(|| {
        tracing::error!(document = %row.id, key = %row.storage_key, "a document has a row but no bytes");
        AppError::Upstream(crate::msg!("document_store.missing"))
    })?;
    // Seed 000, "Ansökan för utlämnande av data": what a release was based on is kept as it was
    // received, so bytes that changed in the store since the upload are never served.
    if crate::domain::audit::sha256_hex(&bytes) != row.sha256 {
        tracing::error!(document = %row.id, key = %row.storage_key, "a document's bytes changed in the store");
        return Err(AppError::Upstream(crate::msg!("document_store.changed")));
    }
    Ok((view_of(&row, &[]), bytes))
}

/// Redacts a document: the tombstone (who, when, why) and the audit event in one transaction, then
/// the bytes removed from the store. Redacting twice is refused (409).
pub fn redact(
    svc: &Services,
    files: &dyn DocumentStore,
    actor: &Actor,
    id: &str,
    doc: &str,
    input: RedactInput,
    now: DateTime<Utc>,
) -> Result<DocumentView, AppError> {
    let reason = crate::domain::text::parse_text(&input.reason, 5_000)
        .map_err(|m| AppError::invalid("reason", crate::msg!("text", reason = m)))?;
    if reason.trim().is_empty() {
        return Err(AppError::invalid("reason", crate::msg!("required.field")));
    }
    let (view, key) = svc.write(|c| {
        lock(c, id)?;
        let (collab, scope) =
            super::collaborations::visible_with_scope(c, &svc.rulebooks, actor, id)?;
        let row = document(c, actor, &collab, doc)?;
        if row.redacted_at.is_some() {
            return Err(AppError::Conflict(crate::msg!("document_already_redacted")));
        }
        authz::may_redact_document(actor, &scope, &row.organisation_id)?;
        let org_name = repo::find_organisation(c, &actor.org)?
            .map(|o| o.name)
            .unwrap_or_else(|| actor.org.as_str().to_string());
        if !store::set_redacted(
            c,
            &row.id,
            ts(now),
            actor.account.as_str(),
            &actor.name,
            &org_name,
            &reason,
        )? {
            return Err(AppError::Conflict(crate::msg!("document_already_redacted")));
        }
        let row = document(c, actor, &collab, doc)?;
        let links = store::links_of_collaboration(c, collab.id.as_str())?;
        let view = view_of(&row, &links);
        record_case_event(
            c,
            actor,
            collab.id.as_str(),
            event_for(
                &row.visibility,
                EventType::DocumentRedacted,
                EventType::InternalDocumentRedacted,
            ),
            None,
            json!({"document": {
                "id": row.id, "type": row.doc_type, "file_name": row.file_name,
                "size_bytes": row.size_bytes, "sha256": row.sha256,
                "redaction": {"by": actor.account.as_str(), "by_name": actor.name,
                               "organisation": org_name, "reason": reason},
            }}),
            now,
        )?;
        Ok((view, row.storage_key))
    })?;
    // After the tombstone is committed: if this fails, the bytes stay behind a row that never serves
    // them again (410), and the log says so.
    if let Err(e) = files.delete(&key) {
        tracing::error!(error = %e, key, "a redacted document's bytes could not be removed");
    }
    Ok(view)
}

/// Says that a document satisfies a dossier item or an obligation; a link made again changes nothing.
pub fn link(
    svc: &Services,
    actor: &Actor,
    id: &str,
    doc: &str,
    input: LinkInput,
    now: DateTime<Utc>,
) -> Result<DocumentView, AppError> {
    let item = rules::parse_satisfies(&input.satisfies)
        .ok_or_else(|| AppError::Invalid(vec![satisfies_error()]))?;
    svc.write(|c| {
        lock(c, id)?;
        let (collab, scope) =
            super::collaborations::visible_with_scope(c, &svc.rulebooks, actor, id)?;
        let row = document(c, actor, &collab, doc)?;
        authz::may_upload_document(actor, &scope)?;
        if row.redacted_at.is_some() {
            return Err(AppError::Conflict(crate::msg!("document_already_redacted")));
        }
        let new = store::link(
            c,
            &LinkRow {
                document_id: row.id.clone(),
                item: item.clone(),
                linked_by: actor.account.as_str().to_string(),
                linked_at: ts(now),
            },
        )?;
        if new {
            record_case_event(
                c,
                actor,
                collab.id.as_str(),
                event_for(
                    &row.visibility,
                    EventType::DocumentLinked,
                    EventType::InternalDocumentLinked,
                ),
                None,
                json!({"document": {"id": row.id, "sha256": row.sha256, "satisfies": item}}),
                now,
            )?;
        }
        let links = store::links_of_collaboration(c, collab.id.as_str())?;
        Ok(view_of(&row, &links))
    })
}

/// Which of the case's documents the actor sees satisfy which item (redacted ones no longer do), for
/// the case view. It does not change what a guard reads.
pub fn satisfying(
    conn: &mut DbConn,
    actor: &Actor,
    c: &Collaboration,
) -> Result<Vec<SatisfyingDocument>, AppError> {
    let rows = store::of_collaboration(conn, c.id.as_str())?;
    let links = store::links_of_collaboration(conn, c.id.as_str())?;
    Ok(links
        .iter()
        .filter_map(|l| {
            rows.iter()
                .find(|r| r.id == l.document_id)
                .filter(|r| r.redacted_at.is_none() && visible_row(actor, r))
                .map(|r| SatisfyingDocument {
                    item: l.item.clone(),
                    document_id: r.id.clone(),
                    doc_type: r.doc_type.clone(),
                    file_name: r.file_name.clone(),
                    sha256: r.sha256.clone(),
                })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upload(bytes: &[u8]) -> Upload {
        Upload {
            doc_type: Some("ethics_decision".into()),
            visibility: Some("parties".into()),
            satisfies: Some("ethics_documents".into()),
            file_name: Some("beslut.pdf".into()),
            bytes: Some(bytes.to_vec()),
            sha256: crate::domain::audit::sha256_hex(bytes),
        }
    }

    fn fields(e: AppError) -> Vec<(String, &'static str)> {
        match e {
            AppError::Invalid(f) => f.into_iter().map(|f| (f.field, f.rule)).collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_upload_is_checked_field_by_field() {
        let ok = check(upload(b"%PDF-1.4\n%%EOF")).unwrap();
        assert_eq!(ok.kind, ContentKind::Pdf);
        assert_eq!(ok.satisfies.as_deref(), Some("dossier.ethics_documents"));
        // A page named .pdf that is HTML is refused at the field `file`, by its rule.
        let e = check(upload(b"<html><body>hej</body></html>")).unwrap_err();
        assert_eq!(fields(e), [("file".to_string(), "document_content_type")]);
        let mut u = upload(b"%PDF-1.4");
        u.doc_type = Some("invoice".into());
        u.visibility = None;
        u.satisfies = Some("bribe".into());
        u.bytes = None;
        let f = fields(check(u).unwrap_err());
        let names: Vec<&str> = f.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["type", "visibility", "satisfies", "file"]);
    }
}
