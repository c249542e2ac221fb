//! Documents and attachments (issue 16, item 1): upload to a case, read back the same bytes and hash,
//! refuse a wrong type, an oversized and an interrupted upload with nothing stored, keep another
//! organisation's internal document out of sight, redact with a tombstone the audit chain vouches
//! for, and the same through the directory store. Seed 000, "Ansökan för utlämnande av data": what a
//! release was based on is documented (the application, the approved ethics application).
use reqwest::StatusCode;
use samverkan::config::DocumentStoreKind;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};

use crate::helpers::{ok, problem, TestApp};

const BOUNDARY: &str = "samverkan-test-boundary-7MA4YWxkTrZu0gW";

/// A minimal valid PDF.
pub fn pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n".to_vec()
}

/// A 1×1 PNG.
fn png() -> Vec<u8> {
    hex::decode(concat!(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000",
        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
    ))
    .unwrap()
}

/// A DOCX as Word lays it out: content types, relationships and the document part.
fn docx() -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let o = zip::write::SimpleFileOptions::default();
    for (name, body) in [
        ("[Content_Types].xml", "<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"/>"),
        ("_rels/.rels", "<?xml version=\"1.0\"?><Relationships/>"),
        ("word/document.xml", "<?xml version=\"1.0\"?><w:document/>"),
    ] {
        w.start_file(name, o).unwrap();
        w.write_all(body.as_bytes()).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn sha(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// A multipart body: the text fields, then the file part.
pub fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> Vec<u8> {
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    if let Some((name, bytes)) = file {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

pub fn content_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

pub async fn upload(
    app: &TestApp,
    id: &str,
    token: &str,
    fields: &[(&str, &str)],
    file: Option<(&str, &[u8])>,
) -> reqwest::Response {
    app.client
        .post(format!("{}/api/v1/collaborations/{id}/documents", app.base))
        .bearer_auth(token)
        .header("content-type", content_type())
        .body(multipart(fields, file))
        .send()
        .await
        .unwrap()
}

async fn list(app: &TestApp, id: &str, token: &str) -> Vec<Value> {
    let v = ok(app
        .get(&format!("/api/v1/collaborations/{id}/documents"), token)
        .await)
    .await;
    v["items"].as_array().unwrap().clone()
}

fn blob_count(app: &TestApp) -> i64 {
    let db = samverkan::db::conn::Db::connect(&app.database_url, 1).expect("database");
    let mut conn = db.pool.get().expect("connection");
    samverkan::db::documents::blob_count(&mut conn).expect("count")
}

#[tokio::test]
async fn a_pdf_a_docx_and_a_png_read_back_with_the_same_hash_and_satisfy_their_items() {
    let app = TestApp::spawn().await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    let company = app.token("company").await;
    let legal = app.token("legal").await;
    let files = [
        (
            "etikbeslut.pdf",
            pdf(),
            "ethics_decision",
            "application/pdf",
        ),
        (
            "forskningsplan.docx",
            docx(),
            "research_plan",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("kvitto.png", png(), "receipt", "image/png"),
    ];
    let mut ids = Vec::new();
    for (name, bytes, kind, mime) in &files {
        let satisfies = if *kind == "ethics_decision" {
            "ethics_documents"
        } else {
            ""
        };
        let r = upload(
            &app,
            &id,
            &company,
            &[
                ("type", kind),
                ("visibility", "parties"),
                ("satisfies", satisfies),
            ],
            Some((name, bytes)),
        )
        .await;
        assert_eq!(r.status(), StatusCode::CREATED, "{name}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["sha256"], sha(bytes));
        assert_eq!(v["content_type"], *mime);
        assert_eq!(v["size_bytes"], bytes.len());
        assert_eq!(v["file_name"], *name);
        assert_eq!(v["uploaded_by"]["name"], "Karin Företagsson");
        assert_eq!(
            v["uploaded_by"]["organisation_name"],
            "Exempel Läkemedel AB"
        );
        ids.push(v["id"].as_str().unwrap().to_string());
    }
    // The other party reads back exactly the bytes, as an attachment that is never sniffed.
    for ((name, bytes, _, mime), doc) in files.iter().zip(&ids) {
        let r = app
            .get(
                &format!("/api/v1/collaborations/{id}/documents/{doc}"),
                &legal,
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let h = r.headers().clone();
        assert_eq!(h["content-type"], *mime);
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["x-content-sha256"], sha(bytes).as_str());
        let cd = h["content-disposition"].to_str().unwrap();
        assert!(cd.starts_with("attachment") && cd.contains(name), "{cd}");
        let got = r.bytes().await.unwrap();
        assert_eq!(sha(&got), sha(bytes));
    }
    let items = list(&app, &id, &legal).await;
    assert_eq!(items.len(), 3);
    // One clock moment for all three: find the ethics decision by its id.
    let items: Vec<Value> = items
        .into_iter()
        .filter(|d| d["id"] == ids[0].as_str())
        .collect();
    assert_eq!(items[0]["type"], "ethics_decision");
    assert_eq!(items[0]["satisfies"], json!(["dossier.ethics_documents"]));
    assert!(items[0]["redaction"].is_null());
    // The case view shows which document satisfies which dossier item.
    let view = app.view(&id, &legal).await;
    let by = view["satisfied_by"].as_array().unwrap();
    assert_eq!(by.len(), 1);
    assert_eq!(by[0]["item"], "dossier.ethics_documents");
    assert_eq!(by[0]["document_id"], ids[0].as_str());
    // A link command adds an obligation to another document; the view shows both.
    let linked = ok(app
        .post(
            &format!("/api/v1/collaborations/{id}/documents/{}/links", ids[1]),
            &company,
            &json!({"satisfies": "dossier.project_description"}),
        )
        .await)
    .await;
    assert_eq!(linked["satisfies"], json!(["dossier.project_description"]));
    let p = problem(
        app.post(
            &format!("/api/v1/collaborations/{id}/documents/{}/links", ids[1]),
            &company,
            &json!({"satisfies": "dossier.nothing"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "satisfies");
    assert_eq!(
        app.view(&id, &legal).await["satisfied_by"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(blob_count(&app), 3);
}

#[tokio::test]
async fn a_wrong_type_an_oversized_file_and_an_interrupted_upload_store_nothing() {
    let app = TestApp::spawn_with(|s| s.documents.max_bytes = 1024).await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    let company = app.token("company").await;
    let fields = [("type", "ethics_decision"), ("visibility", "parties")];
    // An HTML page and a Windows executable, each named .pdf.
    for (name, bytes) in [
        (
            "beslut.pdf",
            b"<!DOCTYPE html><html><body>Beslut</body></html>".to_vec(),
        ),
        (
            "beslut.pdf",
            b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff".to_vec(),
        ),
        // A ZIP that is no Office file.
        ("plan.docx", {
            let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
            w.start_file("a.txt", zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(b"x").unwrap();
            w.finish().unwrap().into_inner()
        }),
    ] {
        let p = problem(
            upload(&app, &id, &company, &fields, Some((name, &bytes))).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(p["errors"][0]["field"], "file", "{p}");
        assert_eq!(p["errors"][0]["rule"], "document_content_type", "{p}");
    }
    // Over the configured limit: refused while read.
    let mut big = pdf();
    big.resize(2000, b' ');
    let p = problem(
        upload(&app, &id, &company, &fields, Some(("stor.pdf", &big))).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("1024"), "{p}");
    // A field missing and an unknown type and visibility, each named.
    let p = problem(
        upload(
            &app,
            &id,
            &company,
            &[("type", "faktura"), ("visibility", "alla")],
            None,
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let named: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(named, ["type", "visibility", "file"]);
    // Not multipart at all.
    let p = problem(
        app.post(
            &format!("/api/v1/collaborations/{id}/documents"),
            &company,
            &json!({"type": "other"}),
        )
        .await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("multipart"));
    // An upload cut off half-way: the connection closes before the body ends.
    let body = multipart(&fields, Some(("beslut.pdf", &pdf())));
    let addr = app.base.trim_start_matches("http://").to_string();
    let path = format!("/api/v1/collaborations/{id}/documents");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {company}\r\nContent-Type: {}\r\nContent-Length: {}\r\n\r\n",
        content_type(),
        body.len()
    );
    let sent = std::thread::spawn(move || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.write_all(head.as_bytes()).unwrap();
        s.write_all(&body[..body.len() / 2]).unwrap();
        s.flush().unwrap();
        s.shutdown(std::net::Shutdown::Write).unwrap();
        let mut answer = String::new();
        let _ = s.read_to_string(&mut answer);
        answer
    })
    .join()
    .unwrap();
    assert!(!sent.contains("201 Created"), "{sent}");
    // Nothing of any of these was kept: no row, no bytes.
    assert!(list(&app, &id, &company).await.is_empty());
    assert_eq!(blob_count(&app), 0);
}

#[tokio::test]
async fn an_internal_document_is_invisible_to_another_organisation() {
    let app = TestApp::spawn().await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    let company = app.token("company").await;
    let legal = app.token("legal").await;
    let principal = app.token("principal").await;
    let v = ok(upload(
        &app,
        &id,
        &legal,
        &[("type", "other"), ("visibility", "internal")],
        Some(("promemoria.pdf", &pdf())),
    )
    .await)
    .await;
    let doc = v["id"].as_str().unwrap().to_string();
    assert_eq!(v["visibility"], "internal");
    assert_eq!(list(&app, &id, &legal).await.len(), 1);
    for other in [&company, &principal] {
        assert!(list(&app, &id, other).await.is_empty());
        problem(
            app.get(
                &format!("/api/v1/collaborations/{id}/documents/{doc}"),
                other,
            )
            .await,
            StatusCode::NOT_FOUND,
        )
        .await;
        problem(
            app.post(
                &format!("/api/v1/collaborations/{id}/documents/{doc}/redact"),
                other,
                &json!({"reason": "Vill inte se den."}),
            )
            .await,
            StatusCode::NOT_FOUND,
        )
        .await;
    }
    // Its events stay inside the uploading organisation too.
    let audit = ok(app
        .get(&format!("/api/v1/collaborations/{id}/audit"), &company)
        .await)
    .await;
    assert!(!audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["command"].as_str().unwrap().contains("document")));
    // A company not in the case sees neither the case nor its documents.
    let other_company = app.token("company-b").await;
    problem(
        app.get(
            &format!("/api/v1/collaborations/{id}/documents"),
            &other_company,
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        upload(
            &app,
            &id,
            &other_company,
            &[("type", "other"), ("visibility", "parties")],
            Some(("x.pdf", &pdf())),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

/// Redacts `doc` as `token`, with a reason.
async fn redact(
    app: &TestApp,
    id: &str,
    doc: &str,
    token: &str,
    reason: &str,
) -> reqwest::Response {
    app.post(
        &format!("/api/v1/collaborations/{id}/documents/{doc}/redact"),
        token,
        &json!({ "reason": reason }),
    )
    .await
}

#[tokio::test]
async fn a_redacted_document_keeps_its_tombstone_answers_410_and_the_chain_verifies() {
    let app = TestApp::spawn().await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    let company = app.token("company").await;
    let legal = app.token("legal").await;
    let holder = app.token("register-holder").await;
    let bytes = pdf();
    let v = ok(upload(
        &app,
        &id,
        &company,
        &[
            ("type", "ethics_application"),
            ("visibility", "parties"),
            ("satisfies", "dossier.ethics_documents"),
        ],
        Some(("etikansokan.pdf", &bytes)),
    )
    .await)
    .await;
    let doc = v["id"].as_str().unwrap().to_string();
    // A reason is required; a register holder of the CPUA is neither the uploader nor legal.
    let p = problem(
        redact(&app, &id, &doc, &legal, "  ").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "reason");
    problem(
        redact(&app, &id, &doc, &holder, "Fel fil").await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let r = ok(redact(&app, &id, &doc, &legal, "Fel fil: innehåller personnummer.").await).await;
    assert_eq!(
        r["redaction"]["reason"],
        "Fel fil: innehåller personnummer."
    );
    assert_eq!(r["redaction"]["redacted_by_name"], "Lars Jurist");
    // The row keeps type, name, size and hash.
    assert_eq!(r["sha256"], sha(&bytes));
    assert_eq!(r["file_name"], "etikansokan.pdf");
    assert_eq!(r["size_bytes"], bytes.len());
    let items = list(&app, &id, &company).await;
    assert_eq!(items[0]["redaction"]["organisation"], "Region Uppsala");
    let p = problem(
        app.get(
            &format!("/api/v1/collaborations/{id}/documents/{doc}"),
            &company,
        )
        .await,
        StatusCode::GONE,
    )
    .await;
    assert_eq!(p["rule"], "document_redacted");
    let detail = p["detail"].as_str().unwrap();
    assert!(
        detail.contains("Lars Jurist") && detail.contains("personnummer"),
        "{detail}"
    );
    problem(
        redact(&app, &id, &doc, &company, "Igen").await,
        StatusCode::CONFLICT,
    )
    .await;
    // The bytes are gone; a redacted document satisfies nothing any more.
    assert_eq!(blob_count(&app), 0);
    assert!(app.view(&id, &company).await["satisfied_by"]
        .as_array()
        .unwrap()
        .is_empty());
    // The audit trail records the upload and the tombstone, and its chain still verifies.
    let audit = ok(app
        .get(&format!("/api/v1/collaborations/{id}/audit"), &company)
        .await)
    .await;
    assert_eq!(
        audit["verification"]["intact"], true,
        "{}",
        audit["verification"]
    );
    let codes: Vec<&str> = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["command"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"document_uploaded"), "{codes:?}");
    assert!(codes.contains(&"document_redacted"), "{codes:?}");
}

#[tokio::test]
async fn the_directory_store_keeps_whole_files_and_redaction_removes_them() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let app = TestApp::spawn_with(|s| {
        s.documents.store = DocumentStoreKind::Directory;
        s.documents.directory = root.to_string_lossy().into_owned();
    })
    .await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    let company = app.token("company").await;
    let bytes = docx();
    let v = ok(upload(
        &app,
        &id,
        &company,
        &[("type", "variable_list"), ("visibility", "parties")],
        Some(("variabler.docx", &bytes)),
    )
    .await)
    .await;
    let doc = v["id"].as_str().unwrap().to_string();
    let hash = sha(&bytes);
    let file = root.join(&hash[..2]).join(format!("{hash}-{doc}"));
    assert_eq!(std::fs::read(&file).unwrap(), bytes);
    // Nothing went to the database's blob table.
    assert_eq!(blob_count(&app), 0);
    let r = app
        .get(
            &format!("/api/v1/collaborations/{id}/documents/{doc}"),
            &company,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(sha(&r.bytes().await.unwrap()), hash);
    ok(redact(&app, &id, &doc, &company, "Fel version av listan.").await).await;
    assert!(!file.exists(), "the redacted file is gone");
    problem(
        app.get(
            &format!("/api/v1/collaborations/{id}/documents/{doc}"),
            &company,
        )
        .await,
        StatusCode::GONE,
    )
    .await;
}
