//! Billing of extraction work (issue 15, items 2-4 and 6): the work log against the written cost
//! agreement (seed 000, "Ersättning för datauttag för forskning": charged work is agreed in writing),
//! its ceiling warnings, approval by another person, draft invoices from approved lines, issuing with
//! gapless numbers from the CPUA's series, OCR, VAT per buyer country, the stored PDF and UBL (every
//! UBL validated with the Peppol BIS 3 rules), credit notes, and an issued invoice that the database
//! itself refuses to change.
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::{ok, problem, TestApp};

#[path = "../support/peppol.rs"]
mod peppol;

/// A collaboration on EX-HJARTA (CPUA Region Uppsala) in register contact; with a cost agreement of
/// `estimate_ore` (the ceiling for now) at `rate_ore` an hour when given.
async fn case(app: &TestApp, cost: Option<(i64, Option<i64>)>) -> String {
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    let company = app.token("company").await;
    ok(app
        .transition(&id, &company, json!({"to": "register_contact"}))
        .await)
    .await;
    if let Some((estimate, rate)) = cost {
        record_cost(app, &id, estimate, rate).await;
    }
    id
}

async fn record_cost(app: &TestApp, id: &str, estimate: i64, rate: Option<i64>) {
    let finance = app.token("finance").await;
    let mut body = json!({"action": "record_cost_agreement", "reference": "KOST-2026-17",
                          "signed_on": "2026-09-01", "estimate_ore": estimate});
    if let Some(r) = rate {
        body["hourly_rate_ore"] = json!(r);
    }
    ok(app.action(id, &finance, body).await).await;
}

fn hours(person: &str, h: i64) -> Value {
    json!({"person_name": person, "worked_on": "2026-09-01", "activity": "Datauttag och avidentifiering",
           "kind": "hours", "hours_hundredths": h})
}

/// Logs a line and returns its id.
async fn log(app: &TestApp, id: &str, token: &str, body: &Value) -> Value {
    let r = app
        .post(
            &format!("/api/v1/collaborations/{id}/work-log"),
            token,
            body,
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json().await.unwrap()
}

async fn approve(app: &TestApp, id: &str, line: &str, token: &str) -> Response {
    app.post(
        &format!("/api/v1/collaborations/{id}/work-log/{line}/approve"),
        token,
        &json!({}),
    )
    .await
}

type Response = reqwest::Response;

/// The seller's and a Swedish buyer's postal addresses (the organisation register has none).
fn addresses() -> Value {
    json!({"buyer_street": "Industrigatan 4", "buyer_postal_code": "112 46", "buyer_city": "Stockholm",
           "buyer_contact_name": "Åsa Öberg",
           "seller_street": "Dag Hammarskjölds väg 38", "seller_postal_code": "751 85", "seller_city": "Uppsala",
           "seller_contact_name": "Regionens ekonomiservice", "seller_contact_email": "ekonomi@example.se",
           "bankgiro": "5050-1055"})
}

fn draft_body(id: &str, extra: Value) -> Value {
    let mut b = addresses();
    b["collaboration"] = json!(id);
    b["buyer_reference"] = json!("Åsa Öberg");
    for (k, v) in extra.as_object().unwrap() {
        b[k] = v.clone();
    }
    b
}

async fn bytes(app: &TestApp, path: &str, token: &str) -> (Vec<u8>, String) {
    let r = app.get(path, token).await;
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    let sha = r.headers()["x-content-sha256"]
        .to_str()
        .unwrap()
        .to_string();
    (r.bytes().await.unwrap().to_vec(), sha)
}

fn sha(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// One approved line of `h` hundredths of an hour by the register holder, approved by finance.
async fn approved_line(app: &TestApp, id: &str, h: i64) -> String {
    let holder = app.token("register-holder").await;
    let finance = app.token("finance").await;
    let l = log(app, id, &holder, &hours("Eva Lind", h)).await;
    let line = l["line"]["id"].as_str().unwrap().to_string();
    ok(approve(app, id, &line, &finance).await).await;
    line
}

#[tokio::test]
async fn from_the_cost_agreement_to_an_issued_invoice_and_a_credit_note() {
    let app = TestApp::spawn().await;
    let holder = app.token("register-holder").await;
    let finance = app.token("finance").await;
    let company = app.token("company").await;
    let legal = app.token("legal").await;

    // No cost agreement: no work is logged (seed 000, "Ersättning för datauttag för forskning").
    let id = case(&app, None).await;
    let wl = format!("/api/v1/collaborations/{id}/work-log");
    let p = problem(
        app.post(&wl, &holder, &hours("Eva Lind", 150)).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(p["field"], "cost_agreement", "{p}");
    assert_eq!(p["missing"], json!(["cost_agreement"]));
    // An agreement without an hourly rate prices no hours line: refused naming the field.
    record_cost(&app, &id, 1_000_000, None).await;
    let p = problem(
        app.post(&wl, &holder, &hours("Eva Lind", 150)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], "cost_agreement.hourly_rate", "{p}");
    // Ceiling 10 000 kr at 950 kr an hour.
    record_cost(&app, &id, 1_000_000, Some(95_000)).await;
    // The company does not log work; hours out of range are refused at their field.
    problem(
        app.post(&wl, &company, &hours("Karin", 100)).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let p = problem(
        app.post(&wl, &holder, &hours("Eva Lind", 0)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "hours_hundredths", "{p}");

    // 5 h = 4 750 kr: quiet. 4 h more = 8 550 kr (85 %): a warning.
    let a = log(&app, &id, &holder, &hours("Eva Lind", 500)).await;
    assert_eq!(a["line"]["amount_ore"], 475_000);
    assert_eq!(a["line"]["rate_ore"], 95_000);
    assert_eq!(a["warnings"], json!([]));
    let b = log(&app, &id, &holder, &hours("Eva Lind", 400)).await;
    assert_eq!(b["warnings"][0]["code"], "cost_ceiling_approached", "{b}");
    assert_eq!(b["logged_total_ore"], 855_000);
    // 2 h more passes the ceiling: refused without a reason, logged with one (a "bör").
    let past = hours("Olof Statistiker", 200);
    let p = problem(app.post(&wl, &holder, &past).await, StatusCode::CONFLICT).await;
    assert_eq!(
        p["missing"],
        json!(["acknowledge.cost_ceiling_passed"]),
        "{p}"
    );
    assert_eq!(p["warnings"][0]["code"], "cost_ceiling_passed");
    let mut with_reason = past.clone();
    with_reason["acknowledge"] =
        json!([{"code": "cost_ceiling_passed", "reason": "Utökat uttag enligt mejl 2026-09-01"}]);
    let c = log(&app, &id, &holder, &with_reason).await;
    assert_eq!(
        c["line"]["ceiling_reason"],
        "Utökat uttag enligt mejl 2026-09-01"
    );
    assert_eq!(c["warnings"][0]["code"], "cost_ceiling_passed");
    // A direct expense, logged by finance (past the ceiling too, with a reason).
    let d = log(
        &app,
        &id,
        &finance,
        &json!({"person_name": "Fia Ekonom", "worked_on": "2026-09-01", "activity": "Körning hos SCB",
                "kind": "expense", "amount_ore": 184_500,
                "acknowledge": [{"code": "cost_ceiling_passed", "reason": "Avtalad extra körning"}]}),
    )
    .await;
    assert_eq!(d["line"]["amount_ore"], 184_500);

    // Approval: not by the person who logged the line, not by the company; twice is a conflict.
    let line = |v: &Value| v["line"]["id"].as_str().unwrap().to_string();
    problem(
        approve(&app, &id, &line(&a), &holder).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    problem(
        approve(&app, &id, &line(&a), &company).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    for l in [&a, &b, &c] {
        ok(approve(&app, &id, &line(l), &finance).await).await;
    }
    problem(
        approve(&app, &id, &line(&a), &finance).await,
        StatusCode::CONFLICT,
    )
    .await;
    problem(
        approve(&app, &id, &line(&d), &finance).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    ok(approve(&app, &id, &line(&d), &holder).await).await;
    let log_view = ok(app.get(&wl, &finance).await).await;
    assert_eq!(log_view["lines"].as_array().unwrap().len(), 4);
    assert_eq!(
        log_view["approved_total_ore"],
        475_000 + 380_000 + 190_000 + 184_500
    );
    assert_eq!(log_view["ceiling_ore"], 1_000_000);

    // Drafts: finance only; the buyer's reference or an order number is required; a missing
    // address is asked for by its field.
    problem(
        app.post("/api/v1/invoices", &legal, &draft_body(&id, json!({})))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let mut no_ref = draft_body(&id, json!({}));
    no_ref.as_object_mut().unwrap().remove("buyer_reference");
    let p = problem(
        app.post("/api/v1/invoices", &finance, &no_ref).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "buyer_reference", "{p}");
    let mut no_street = draft_body(&id, json!({}));
    no_street.as_object_mut().unwrap().remove("buyer_street");
    let p = problem(
        app.post("/api/v1/invoices", &finance, &no_street).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "buyer_street", "{p}");
    let draft = ok(app
        .post(
            "/api/v1/invoices",
            &finance,
            &draft_body(&id, json!({"order_number": "PO-4711"})),
        )
        .await)
    .await;
    assert_eq!(draft["status"], "draft");
    assert!(draft["number"].is_null());
    assert_eq!(draft["lines"].as_array().unwrap().len(), 4);
    assert_eq!(draft["net_ore"], 1_229_500);
    assert_eq!(draft["buyer_name"], "Exempel Läkemedel AB");
    assert_eq!(draft["buyer_vat_number"], "SE556677889901");
    // Every approved line is on it: a second draft has nothing to take.
    problem(
        app.post("/api/v1/invoices", &finance, &draft_body(&id, json!({})))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    let inv = draft["id"].as_str().unwrap().to_string();
    // A draft has no files.
    problem(
        app.get(&format!("/api/v1/invoices/{inv}.xml"), &finance)
            .await,
        StatusCode::CONFLICT,
    )
    .await;

    // Issue: finance only; the number, the dates, the OCR reference and 25 % VAT.
    let issue = format!("/api/v1/invoices/{inv}/issue");
    problem(
        app.post(&issue, &legal, &json!({})).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let issued = ok(app.post(&issue, &finance, &json!({})).await).await;
    assert_eq!(issued["status"], "issued");
    assert_eq!(issued["number"], "2026-000001");
    assert_eq!(issued["issue_date"], "2026-09-01");
    assert_eq!(issued["due_date"], "2026-10-01");
    assert_eq!(
        issued["ocr"],
        samverkan::domain::billing::ocr::ocr_reference("202600001", true).unwrap()
    );
    assert_eq!(issued["vat_treatment"], "domestic");
    assert_eq!(issued["vat_ore"], 307_375);
    assert_eq!(issued["gross_ore"], 1_536_875);
    assert_eq!(issued["files"].as_array().unwrap().len(), 3);
    problem(
        app.post(&issue, &finance, &json!({})).await,
        StatusCode::CONFLICT,
    )
    .await;

    // The stored bytes, with their hashes; the UBL passes the Peppol rules.
    let (xml, xml_sha) = bytes(&app, &format!("/api/v1/invoices/{inv}.xml"), &finance).await;
    assert_eq!(sha(&xml), xml_sha);
    let stored: Vec<&Value> = issued["files"].as_array().unwrap().iter().collect();
    assert!(stored
        .iter()
        .any(|f| f["kind"] == "ubl" && f["sha256"] == xml_sha));
    let xml = String::from_utf8(xml).unwrap();
    assert!(xml.contains("<cbc:ID>2026-000001</cbc:ID>"), "{xml}");
    let (pdf_sv, sv_sha) = bytes(&app, &format!("/api/v1/invoices/{inv}.pdf"), &finance).await;
    let (pdf_en, en_sha) = bytes(
        &app,
        &format!("/api/v1/invoices/{inv}.pdf?lang=en"),
        &company,
    )
    .await;
    assert!(pdf_sv.starts_with(b"%PDF") && pdf_en.starts_with(b"%PDF"));
    assert_ne!(sv_sha, en_sha);
    assert_eq!(sha(&pdf_en), en_sha);
    problem(
        app.get(&format!("/api/v1/invoices/{inv}.pdf?lang=fr"), &finance)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    // Another CPUA does not see it; the buying company does.
    let vgr = app.token("legal-vgr").await;
    problem(
        app.get(&format!("/api/v1/invoices/{inv}"), &vgr).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    ok(app.get(&format!("/api/v1/invoices/{inv}"), &company).await).await;

    // Lists: issued now; overdue after the due date.
    let listed = ok(app.get("/api/v1/invoices?status=issued", &finance).await).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed["total"], 1);
    let overdue = ok(app.get("/api/v1/invoices?status=overdue", &finance).await).await;
    assert_eq!(overdue["items"], json!([]));
    assert_eq!(overdue["total"], 0);
    problem(
        app.get("/api/v1/invoices?status=betald", &finance).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;

    // Credit notes: partial by lines, then by an amount; never more than is left.
    let credit = format!("/api/v1/invoices/{inv}/credit-notes");
    let four_hours = issued["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["net_ore"] == 380_000)
        .expect("the 4-hour line")["number"]
        .clone();
    let cn = ok(app
        .post(
            &credit,
            &finance,
            &json!({"reason": "Timmar debiterade två gånger", "lines": [four_hours]}),
        )
        .await)
    .await;
    assert_eq!(cn["kind"], "credit_note");
    assert_eq!(cn["number"], "2026-000002");
    assert_eq!(cn["credits_invoice_id"], inv);
    assert_eq!(cn["net_ore"], -380_000);
    assert_eq!(cn["vat_ore"], -95_000);
    assert_eq!(cn["lines"][0]["net_ore"], -380_000);
    assert!(cn["due_date"].is_null() && cn["ocr"].is_null());
    let p = problem(
        app.post(
            &credit,
            &finance,
            &json!({"reason": "För mycket", "amount_ore": 849_501}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], "amount_ore", "{p}");
    let cn2 = ok(app
        .post(
            &credit,
            &finance,
            &json!({"reason": "Rabatt enligt överenskommelse", "amount_ore": 100_000}),
        )
        .await)
    .await;
    assert_eq!(cn2["number"], "2026-000003");
    let (cn_xml, _) = bytes(
        &app,
        &format!("/api/v1/invoices/{}.xml", cn["id"].as_str().unwrap()),
        &finance,
    )
    .await;
    let cn_xml = String::from_utf8(cn_xml).unwrap();
    assert!(cn_xml.contains("<CreditNote") && cn_xml.contains("<cac:BillingReference>"));
    let (cn2_xml, _) = bytes(
        &app,
        &format!("/api/v1/invoices/{}.xml", cn2["id"].as_str().unwrap()),
        &finance,
    )
    .await;
    let cn2_xml = String::from_utf8(cn2_xml).unwrap();
    // A credit note of a credit note is refused.
    problem(
        app.post(
            &format!(
                "/api/v1/invoices/{}/credit-notes",
                cn["id"].as_str().unwrap()
            ),
            &finance,
            &json!({"reason": "x"}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;

    // Gapless: 1, 2, 3 in the series.
    let all = ok(app.get("/api/v1/invoices", &finance).await).await;
    let mut numbers: Vec<String> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["number"].as_str().unwrap().to_string())
        .collect();
    numbers.sort();
    assert_eq!(numbers, ["2026-000001", "2026-000002", "2026-000003"]);

    // After the due date the invoice is overdue (no payments are recorded yet).
    app.clock.advance(chrono::Duration::days(31));
    let finance = app.token("finance").await;
    let overdue = ok(app.get("/api/v1/invoices?status=overdue", &finance).await).await;
    assert_eq!(overdue["items"].as_array().unwrap().len(), 1, "{overdue}");
    assert_eq!(overdue["items"][0]["id"], inv);
    assert_eq!(overdue["items"][0]["overdue"], true);

    let o = peppol::validate_all(&[
        ("invoice-se", &xml),
        ("credit-note-lines", &cn_xml),
        ("credit-note-amount", &cn2_xml),
    ]);
    assert!(o.valid, "{}", o.report);
}

#[tokio::test]
async fn reverse_charge_needs_the_buyers_vat_number_and_every_vat_case_passes_peppol() {
    let app = TestApp::spawn().await;
    let finance = app.token("finance").await;
    let id = case(&app, Some((10_000_000, Some(95_000)))).await;
    approved_line(&app, &id, 300).await;
    // A German buyer without its VAT number: refused naming it, nothing written.
    let de = json!({"buyer_name": "Pharma Forschung GmbH", "buyer_org_number": "HRB 123456",
                    "buyer_street": "Hauptstraße 5", "buyer_postal_code": "10115",
                    "buyer_city": "Berlin", "buyer_country": "DE",
                    "buyer_endpoint": "9930:DE123456789"});
    let p = problem(
        app.post("/api/v1/invoices", &finance, &draft_body(&id, de.clone()))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "buyer_vat", "{p}");
    let mut de_vat = de.clone();
    de_vat["buyer_vat"] = json!("DE123456789");
    let draft = ok(app
        .post("/api/v1/invoices", &finance, &draft_body(&id, de_vat))
        .await)
    .await;
    let inv = draft["id"].as_str().unwrap();
    let issued = ok(app
        .post(
            &format!("/api/v1/invoices/{inv}/issue"),
            &finance,
            &json!({}),
        )
        .await)
    .await;
    assert_eq!(issued["vat_treatment"], "reverse_charge");
    assert_eq!(issued["vat_ore"], 0);
    assert_eq!(issued["gross_ore"], 285_000);
    let (de_xml, _) = bytes(&app, &format!("/api/v1/invoices/{inv}.xml"), &finance).await;
    let de_xml = String::from_utf8(de_xml).unwrap();
    assert!(de_xml.contains("VATEX-EU-AE") && de_xml.contains("Omvänd betalningsskyldighet"));

    // A buyer outside the EU: outside the scope of VAT.
    approved_line(&app, &id, 100).await;
    let us = json!({"buyer_name": "Acme Therapeutics Inc.", "buyer_org_number": "EIN 12-3456789",
                    "buyer_street": "1 Main Street", "buyer_postal_code": "02139",
                    "buyer_city": "Cambridge MA", "buyer_country": "US",
                    "buyer_endpoint": "0060:123456789"});
    let draft = ok(app
        .post("/api/v1/invoices", &finance, &draft_body(&id, us))
        .await)
    .await;
    let inv = draft["id"].as_str().unwrap();
    let issued = ok(app
        .post(
            &format!("/api/v1/invoices/{inv}/issue"),
            &finance,
            &json!({}),
        )
        .await)
    .await;
    assert_eq!(issued["vat_treatment"], "outside_scope");
    assert_eq!(issued["number"], "2026-000002");
    let (us_xml, _) = bytes(&app, &format!("/api/v1/invoices/{inv}.xml"), &finance).await;
    let us_xml = String::from_utf8(us_xml).unwrap();
    assert!(us_xml.contains("VATEX-EU-O"));
    // A full credit note of the invoice outside the scope.
    let cn = ok(app
        .post(
            &format!(
                "/api/v1/invoices/{}/credit-notes",
                draft["id"].as_str().unwrap()
            ),
            &finance,
            &json!({"reason": "Fel köpare"}),
        )
        .await)
    .await;
    assert_eq!(cn["number"], "2026-000003");
    assert_eq!(cn["gross_ore"], -95_000);
    let (cn_xml, _) = bytes(
        &app,
        &format!("/api/v1/invoices/{}.xml", cn["id"].as_str().unwrap()),
        &finance,
    )
    .await;
    let cn_xml = String::from_utf8(cn_xml).unwrap();
    let o = peppol::validate_all(&[
        ("reverse-charge", &de_xml),
        ("outside-scope", &us_xml),
        ("credit-note-full", &cn_xml),
    ]);
    assert!(o.valid, "{}", o.report);
}

/// The database itself refuses to change or delete an issued invoice, its lines and its files
/// (triggers of migration 2026-12-07-000010_billing; on PostgreSQL also TRUNCATE), while a draft
/// stays changeable.
#[tokio::test]
async fn an_issued_invoice_cannot_be_altered_through_sql() {
    use diesel::connection::SimpleConnection;
    let app = TestApp::spawn().await;
    let finance = app.token("finance").await;
    let id = case(&app, Some((10_000_000, Some(95_000)))).await;
    approved_line(&app, &id, 300).await;
    let draft = ok(app
        .post("/api/v1/invoices", &finance, &draft_body(&id, json!({})))
        .await)
    .await;
    let inv = draft["id"].as_str().unwrap().to_string();
    let db = samverkan::db::conn::Db::connect(&app.database_url, 1).expect("database");
    let mut conn = db.pool.get().expect("connection");
    // A draft may still change.
    conn.batch_execute(&format!(
        "UPDATE invoices SET note = 'utkast' WHERE id = '{inv}'"
    ))
    .expect("a draft changes");
    ok(app
        .post(
            &format!("/api/v1/invoices/{inv}/issue"),
            &finance,
            &json!({}),
        )
        .await)
    .await;
    let before = ok(app.get(&format!("/api/v1/invoices/{inv}"), &finance).await).await;
    let attempts = [
        format!("UPDATE invoices SET gross_ore = 1 WHERE id = '{inv}'"),
        format!("UPDATE invoices SET status = 'draft' WHERE id = '{inv}'"),
        format!("DELETE FROM invoices WHERE id = '{inv}'"),
        format!("UPDATE invoice_lines SET net_ore = 1 WHERE invoice_id = '{inv}'"),
        format!("DELETE FROM invoice_lines WHERE invoice_id = '{inv}'"),
        format!(
            "INSERT INTO invoice_lines (invoice_id, line_number, description, quantity_hundredths, \
             unit_code, unit_price_ore, net_ore) VALUES ('{inv}', 9, 'x', 100, 'C62', 1, 1)"
        ),
        format!("UPDATE invoice_files SET sha256 = 'x' WHERE invoice_id = '{inv}'"),
        format!("DELETE FROM invoice_files WHERE invoice_id = '{inv}'"),
    ];
    for sql in &attempts {
        let e = conn.batch_execute(sql);
        assert!(e.is_err(), "the database accepted: {sql}");
    }
    if app.is_postgres() {
        for t in ["invoices", "invoice_lines", "invoice_files"] {
            let e = conn.batch_execute(&format!("TRUNCATE {t} CASCADE"));
            let msg = format!("{e:?}");
            assert!(e.is_err(), "TRUNCATE {t} was accepted");
            assert!(msg.contains("issued_invoice_immutable"), "{msg}");
        }
    } else {
        let e = conn.batch_execute(&format!("DELETE FROM invoices WHERE id = '{inv}'"));
        assert!(
            format!("{e:?}").contains("issued_invoice_immutable"),
            "{e:?}"
        );
    }
    let after = ok(app.get(&format!("/api/v1/invoices/{inv}"), &finance).await).await;
    assert_eq!(before, after, "nothing changed");
}
