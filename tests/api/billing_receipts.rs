//! Receipts of expense lines (issue 15, item 2: "expenses (with receipt attachment when attachments
//! exist)"): a PDF or an image through the document store with its SHA-256, read by the staff of the
//! line's CPUA and by no other organisation (404), one per line, bounded in size. Approving an
//! expense without one is not refused: it answers the prompt `receipt_missing` (a "gärna"; the seeds
//! and the issue say no "ska"). The work charged is work done and agreed (seed 000, "Ersättning för
//! datauttag för forskning").
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::documents::{content_type, multipart};
use crate::helpers::{ok, problem, TestApp};

/// A case on EX-HJARTA (CPUA Region Uppsala) in register contact with a recorded cost agreement of
/// 10 000 kr at 950 kr an hour. (tests/api/helpers.rs has no such setup; billing.rs keeps its own.)
pub async fn case_with_cost_agreement(app: &TestApp) -> String {
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    let company = app.token("company").await;
    ok(app
        .transition(&id, &company, json!({"to": "register_contact"}))
        .await)
    .await;
    let finance = app.token("finance").await;
    ok(app
        .action(
            &id,
            &finance,
            json!({"action": "record_cost_agreement", "reference": "KOST-2026-17",
                   "signed_on": "2026-09-01", "estimate_ore": 1_000_000, "hourly_rate_ore": 95_000}),
        )
        .await)
    .await;
    id
}

/// Logs a line and returns it.
pub async fn log(app: &TestApp, id: &str, token: &str, body: Value) -> Value {
    let v = ok(app
        .post(
            &format!("/api/v1/collaborations/{id}/work-log"),
            token,
            &body,
        )
        .await)
    .await;
    v["line"].clone()
}

pub fn expense(activity: &str, ore: i64) -> Value {
    json!({"person_name": "Eva Lind", "worked_on": "2026-09-01", "activity": activity,
           "kind": "expense", "amount_ore": ore})
}

pub fn hours(h: i64) -> Value {
    json!({"person_name": "Eva Lind", "worked_on": "2026-09-01", "activity": "Datauttag",
           "kind": "hours", "hours_hundredths": h})
}

async fn attach(
    app: &TestApp,
    id: &str,
    line: &str,
    token: &str,
    file: Option<(&str, &[u8])>,
) -> reqwest::Response {
    app.client
        .post(format!(
            "{}/api/v1/collaborations/{id}/work-log/{line}/receipt",
            app.base
        ))
        .bearer_auth(token)
        .header("content-type", content_type())
        .body(multipart(&[], file))
        .send()
        .await
        .unwrap()
}

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0";

#[tokio::test]
async fn an_expense_line_keeps_one_receipt_read_by_its_cpua_and_by_no_other_organisation() {
    let app = TestApp::spawn_with(|s| s.documents.max_bytes = 64 * 1024).await;
    let id = case_with_cost_agreement(&app).await;
    let holder = app.token("register-holder").await;
    let finance = app.token("finance").await;
    let legal = app.token("legal").await;
    let company = app.token("company").await;

    let porto = log(&app, &id, &holder, expense("Porto för utskick", 12_500)).await;
    let taxi = log(
        &app,
        &id,
        &holder,
        expense("Resa till registercentret", 84_000),
    )
    .await;
    let work = log(&app, &id, &holder, hours(150)).await;
    let (porto, taxi, work) = (
        porto["id"].as_str().unwrap().to_string(),
        taxi["id"].as_str().unwrap().to_string(),
        work["id"].as_str().unwrap().to_string(),
    );
    assert!(taxi.len() > 10);

    // Approving an expense without a receipt is allowed, with the prompt (a "gärna", not a "bör").
    let v = ok(app
        .post(
            &format!("/api/v1/collaborations/{id}/work-log/{porto}/approve"),
            &finance,
            &json!({}),
        )
        .await)
    .await;
    assert_eq!(v["status"], "approved", "{v}");
    assert_eq!(v["warnings"][0]["code"], "receipt_missing", "{v}");
    assert_eq!(v["warnings"][0]["grade"], "garna", "{v}");
    assert!(v["receipt"].is_null());

    // Before the body is read: the company does not see the line (404), whatever it sends.
    let r = attach(&app, &id, &taxi, &company, Some(("kvitto.pdf", PDF))).await;
    problem(r, StatusCode::NOT_FOUND).await;
    // An hours line takes no receipt; a file that is no PDF or image is refused at `file`.
    let p = problem(
        attach(&app, &id, &work, &holder, Some(("kvitto.pdf", PDF))).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "file", "{p}");
    let p = problem(
        attach(
            &app,
            &id,
            &taxi,
            &holder,
            Some(("kvitto.pdf", b"<html>not a receipt</html>")),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "file", "{p}");
    let p = problem(
        attach(&app, &id, &taxi, &holder, Some(("tom.pdf", b""))).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "file", "{p}");
    // Bounded: more than the limit is refused while reading (413), nothing kept.
    let mut big = PDF.to_vec();
    big.resize(70 * 1024, b' ');
    problem(
        attach(&app, &id, &taxi, &holder, Some(("stort.pdf", &big))).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    // Not multipart: 415.
    let r = app
        .post(
            &format!("/api/v1/collaborations/{id}/work-log/{taxi}/receipt"),
            &holder,
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // The holder attaches the PDF: stored with its SHA-256 as an internal case document.
    let r = attach(&app, &id, &taxi, &holder, Some(("taxikvitto.pdf", PDF))).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let doc: Value = r.json().await.unwrap();
    let want = hex::encode(Sha256::digest(PDF));
    assert_eq!(doc["sha256"], want.as_str());
    assert_eq!(doc["type"], "receipt");
    assert_eq!(doc["visibility"], "internal");
    assert_eq!(doc["content_type"], "application/pdf");
    // One receipt per line.
    problem(
        attach(&app, &id, &taxi, &finance, Some(("igen.png", PNG))).await,
        StatusCode::CONFLICT,
    )
    .await;

    // The CPUA's staff read it as stored; the company and another CPUA's staff get 404.
    let path = format!("/api/v1/collaborations/{id}/work-log/{taxi}/receipt");
    for token in [&finance, &legal, &holder] {
        let r = app.get(&path, token).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["x-content-sha256"], want.as_str());
        assert_eq!(r.headers()["content-type"], "application/pdf");
        assert_eq!(r.bytes().await.unwrap().as_ref(), PDF);
    }
    problem(app.get(&path, &company).await, StatusCode::NOT_FOUND).await;
    app.add_account("ekonom-skane", "finance", "Region Skåne")
        .await;
    let other = app.token("ekonom-skane").await;
    problem(app.get(&path, &other).await, StatusCode::NOT_FOUND).await;
    let r = attach(&app, &id, &porto, &other, Some(("kvitto.pdf", PDF))).await;
    assert!(
        matches!(r.status(), StatusCode::NOT_FOUND),
        "{}",
        r.status()
    );
    // A line without a receipt: 404 naming the receipt.
    problem(
        app.get(
            &format!("/api/v1/collaborations/{id}/work-log/{porto}/receipt"),
            &finance,
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;

    // The work log shows the receipt on its line; approving it says nothing more.
    let log = ok(app
        .get(&format!("/api/v1/collaborations/{id}/work-log"), &finance)
        .await)
    .await;
    let line = log["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == taxi.as_str())
        .unwrap()
        .clone();
    assert_eq!(line["receipt"]["sha256"], want.as_str(), "{line}");
    assert_eq!(line["receipt"]["href"], path.as_str());
    let v = ok(app
        .post(
            &format!("/api/v1/collaborations/{id}/work-log/{taxi}/approve"),
            &finance,
            &json!({}),
        )
        .await)
    .await;
    assert_eq!(v["warnings"], json!([]), "{v}");
    assert_eq!(v["receipt"]["document_id"], doc["id"]);

    // The company's document list does not show the CPUA's internal receipt.
    let docs = ok(app
        .get(&format!("/api/v1/collaborations/{id}/documents"), &company)
        .await)
    .await;
    assert!(
        !docs["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["id"] == doc["id"]),
        "{docs}"
    );
}
