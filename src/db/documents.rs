//! Documents of a case, their links to dossier items and obligations, and the database store's bytes
//! (issue 16): rows in, rows out. The rules live in `domain::document` and `app::documents`.
use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::repo::QResult;
use super::schema::{document_blobs as blobs, document_links as links, documents as docs};
use super::DbConn;

/// One uploaded document; a redacted one keeps its row with the tombstone filled in.
#[derive(Debug, Clone, Queryable, Insertable, Selectable)]
#[diesel(table_name = docs)]
pub struct DocumentRow {
    pub id: String,
    pub collaboration_id: String,
    pub doc_type: String,
    pub visibility: String,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub storage_key: String,
    pub uploaded_by: String,
    pub uploaded_by_name: String,
    pub organisation_id: String,
    pub organisation_name: String,
    pub uploaded_at: NaiveDateTime,
    pub redacted_at: Option<NaiveDateTime>,
    pub redacted_by: Option<String>,
    pub redacted_by_name: Option<String>,
    pub redacted_by_organisation: Option<String>,
    pub redaction_reason: Option<String>,
}

/// A document said to satisfy a dossier item (`dossier.<item>`) or an obligation (its code).
#[derive(Debug, Clone, Queryable, Insertable, Selectable)]
#[diesel(table_name = links)]
pub struct LinkRow {
    pub document_id: String,
    pub item: String,
    pub linked_by: String,
    pub linked_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, row: &DocumentRow) -> QResult<()> {
    diesel::insert_into(docs::table).values(row).execute(conn)?;
    Ok(())
}

/// A case's documents in upload order.
pub fn of_collaboration(conn: &mut DbConn, collaboration: &str) -> QResult<Vec<DocumentRow>> {
    docs::table
        .filter(docs::collaboration_id.eq(collaboration))
        .order((docs::uploaded_at.asc(), docs::id.asc()))
        .select(DocumentRow::as_select())
        .load(conn)
}

/// One document of a case.
pub fn get(conn: &mut DbConn, collaboration: &str, id: &str) -> QResult<Option<DocumentRow>> {
    docs::table
        .filter(docs::collaboration_id.eq(collaboration))
        .filter(docs::id.eq(id))
        .select(DocumentRow::as_select())
        .first(conn)
        .optional()
}

/// Fills in the tombstone; only a document not yet redacted changes (returns whether it did).
pub fn set_redacted(
    conn: &mut DbConn,
    id: &str,
    at: NaiveDateTime,
    by: &str,
    by_name: &str,
    by_org: &str,
    reason: &str,
) -> QResult<bool> {
    let n = diesel::update(
        docs::table
            .filter(docs::id.eq(id))
            .filter(docs::redacted_at.is_null()),
    )
    .set((
        docs::redacted_at.eq(Some(at)),
        docs::redacted_by.eq(Some(by)),
        docs::redacted_by_name.eq(Some(by_name)),
        docs::redacted_by_organisation.eq(Some(by_org)),
        docs::redaction_reason.eq(Some(reason)),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Links a document to an item; linking it again changes nothing (returns whether it was new).
pub fn link(conn: &mut DbConn, row: &LinkRow) -> QResult<bool> {
    let exists = links::table
        .filter(links::document_id.eq(&row.document_id))
        .filter(links::item.eq(&row.item))
        .count()
        .get_result::<i64>(conn)?
        > 0;
    if exists {
        return Ok(false);
    }
    diesel::insert_into(links::table)
        .values(row)
        .execute(conn)?;
    Ok(true)
}

/// The links of a case's documents.
pub fn links_of_collaboration(conn: &mut DbConn, collaboration: &str) -> QResult<Vec<LinkRow>> {
    links::table
        .inner_join(docs::table)
        .filter(docs::collaboration_id.eq(collaboration))
        .order((links::item.asc(), links::linked_at.asc()))
        .select(LinkRow::as_select())
        .load(conn)
}

// ---------- the database store's bytes ----------

pub fn put_blob(conn: &mut DbConn, key: &str, bytes: &[u8]) -> QResult<()> {
    diesel::insert_into(blobs::table)
        .values((blobs::storage_key.eq(key), blobs::bytes.eq(bytes)))
        .execute(conn)?;
    Ok(())
}

pub fn get_blob(conn: &mut DbConn, key: &str) -> QResult<Option<Vec<u8>>> {
    blobs::table
        .filter(blobs::storage_key.eq(key))
        .select(blobs::bytes)
        .first(conn)
        .optional()
}

pub fn delete_blob(conn: &mut DbConn, key: &str) -> QResult<()> {
    diesel::delete(blobs::table.filter(blobs::storage_key.eq(key))).execute(conn)?;
    Ok(())
}

/// How many blobs the database store holds (for tests and the operator's checks).
pub fn blob_count(conn: &mut DbConn) -> QResult<i64> {
    blobs::table.count().get_result(conn)
}
