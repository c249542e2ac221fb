//! Payments of invoices (issue 15, items 5, 6 and 8): recorded by hand or imported from a bank's
//! camt.054 file (all or nothing; a bank reference counted once), the balance and status computed
//! from payments and credit notes, the overdue list, and the finance CSV export. The whole path from
//! the register holder's estimate to a paid invoice (issue 15, "Tests").
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{ok, problem, TestApp};

/// A case on EX-HJARTA (CPUA Region Uppsala) whose register holder estimated 10 000 kr for a
/// charged extraction (seed 000, "Ersättning för datauttag för forskning"), with a written cost
/// agreement near it at 950 kr an hour.
async fn case(app: &TestApp) -> String {
    app.case_with_cost_agreement(true, "KOST-2026-17", "2026-09-01")
        .await
}

/// Logs `h` hundredths of an hour by the register holder, approved by finance.
async fn approved_line(app: &TestApp, id: &str, h: i64) {
    let holder = app.token("register-holder").await;
    let finance = app.token("finance").await;
    let r = app
        .post(
            &format!("/api/v1/collaborations/{id}/work-log"),
            &holder,
            &json!({"person_name": "Eva Lind", "worked_on": "2026-09-01",
                    "activity": "Datauttag och avidentifiering", "kind": "hours",
                    "hours_hundredths": h}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let line: Value = r.json().await.unwrap();
    let line = line["line"]["id"].as_str().unwrap().to_string();
    ok(app
        .post(
            &format!("/api/v1/collaborations/{id}/work-log/{line}/approve"),
            &finance,
            &json!({}),
        )
        .await)
    .await;
}

fn draft_body(id: &str) -> Value {
    json!({"collaboration": id, "buyer_reference": "Åsa Öberg",
           "buyer_street": "Industrigatan 4", "buyer_postal_code": "112 46", "buyer_city": "Stockholm",
           "buyer_contact_name": "Åsa Öberg", "buyer_contact_email": "asa.oberg@example.com",
           "seller_street": "Dag Hammarskjölds väg 38", "seller_postal_code": "751 85",
           "seller_city": "Uppsala", "seller_contact_name": "Regionens ekonomiservice",
           "seller_contact_email": "ekonomi@example.se", "bankgiro": "5050-1055"})
}

/// An issued invoice of 5 h at 950 kr + 25 % VAT = 5 937,50 kr, due 2026-10-01; on a new case.
async fn issued(app: &TestApp) -> Value {
    let id = case(app).await;
    issued_on(app, &id, 500).await
}

async fn issued_on(app: &TestApp, id: &str, h: i64) -> Value {
    let finance = app.token("finance").await;
    approved_line(app, id, h).await;
    let draft = ok(app
        .post("/api/v1/invoices", &finance, &draft_body(id))
        .await)
    .await;
    let inv = draft["id"].as_str().unwrap();
    ok(app
        .post(
            &format!("/api/v1/invoices/{inv}/issue"),
            &finance,
            &json!({}),
        )
        .await)
    .await
}

const GROSS: i64 = 593_750;

fn str_of<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_else(|| panic!("{k} in {v}"))
}

/// One camt.054 entry: a booked credit (or `DBIT`) with a structured OCR reference.
fn entry(bank_ref: &str, ocr: &str, kronor: &str, cd: &str) -> String {
    format!(
        r#"<Ntry><Amt Ccy="SEK">{kronor}</Amt><CdtDbtInd>{cd}</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-09-01</Dt></BookgDt>
<NtryDtls><TxDtls><Refs><AcctSvcrRef>{bank_ref}</AcctSvcrRef></Refs><Amt Ccy="SEK">{kronor}</Amt>
<RmtInf><Strd><CdtrRefInf><Ref>{ocr}</Ref></CdtrRefInf></Strd></RmtInf></TxDtls></NtryDtls></Ntry>
"#
    )
}

fn camt(entries: &[String]) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"><BkToCstmrDbtCdtNtfctn>
<GrpHdr><MsgId>BG-NOTIF-1</MsgId></GrpHdr><Ntfctn>
{}</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>"#,
        entries.concat()
    )
}

async fn import(app: &TestApp, token: &str, xml: &str) -> reqwest::Response {
    app.client
        .post(format!("{}/api/v1/payments/import", app.base))
        .bearer_auth(token)
        .header("content-type", "application/xml")
        .body(xml.to_string())
        .send()
        .await
        .unwrap()
}

async fn invoice(app: &TestApp, id: &str, token: &str) -> Value {
    ok(app.get(&format!("/api/v1/invoices/{id}"), token).await).await
}

/// The ids the invoice list with `status` holds, read one at a time by following `next` (keyset
/// pages): each page's count is the whole list's, exact.
async fn listed(app: &TestApp, status: &str, token: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut path = Some(format!("/api/v1/invoices?status={status}&per_page=1"));
    let mut total = None;
    while let Some(p) = path {
        let v = ok(app.get(&p, token).await).await;
        let items = v["items"].as_array().unwrap();
        assert!(items.len() <= 1, "{v}");
        ids.extend(items.iter().map(|i| str_of(i, "id").to_string()));
        assert_eq!(v["total_exact"], true, "{v}");
        total = v["total"].as_u64();
        path = v["next"].as_str().map(str::to_string);
    }
    assert_eq!(total, Some(ids.len() as u64), "{status}: {ids:?}");
    ids
}

#[tokio::test]
async fn from_the_estimate_to_a_paid_invoice() {
    let app = TestApp::spawn().await;
    let finance = app.token("finance").await;
    let company = app.token("company").await;
    let legal = app.token("legal").await;
    let inv = issued(&app).await;
    let id = str_of(&inv, "id").to_string();
    let ocr = str_of(&inv, "ocr").to_string();
    assert_eq!(inv["gross_ore"], GROSS);
    assert_eq!(inv["payment_status"], "issued");
    assert_eq!(inv["balance_ore"], GROSS);
    assert_eq!(inv["paid_ore"], 0);

    // Only finance records a payment.
    let by_hand = json!({"ocr_reference": ocr, "amount_ore": 100_000, "value_date": "2026-09-01",
                         "bank_reference": "MAN-1"});
    problem(
        app.post("/api/v1/payments", &legal, &by_hand).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    // 1 000 kr by hand on the OCR reference: partially paid.
    let r = app.post("/api/v1/payments", &finance, &by_hand).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["outcome"], "partially_paid", "{p}");
    assert_eq!(p["balance_before_ore"], GROSS);
    assert_eq!(p["balance_after_ore"], GROSS - 100_000);
    assert_eq!(p["payment"]["invoice_id"], id.as_str());
    assert_eq!(p["payment"]["source"], "manual");
    let v = invoice(&app, &id, &finance).await;
    assert_eq!(v["payment_status"], "partially_paid");
    assert_eq!(v["balance_ore"], GROSS - 100_000);
    assert!(listed(&app, "partially_paid", &finance).await.contains(&id));
    assert!(listed(&app, "unpaid", &finance).await.contains(&id));
    assert!(!listed(&app, "paid", &finance).await.contains(&id));

    // The rest from the bank's camt.054 file: paid.
    let rest = format!("{}.{:02}", (GROSS - 100_000) / 100, (GROSS - 100_000) % 100);
    let r = import(
        &app,
        &finance,
        &camt(&[entry("BANK-1", &ocr, &rest, "CRDT")]),
    )
    .await;
    let imported = ok(r).await;
    assert_eq!(imported["matched"][0]["outcome"], "paid", "{imported}");
    assert_eq!(imported["matched"][0]["invoice_id"], id.as_str());
    let v = invoice(&app, &id, &finance).await;
    assert_eq!(v["payment_status"], "paid");
    assert_eq!(v["balance_ore"], 0);
    assert_eq!(v["paid_ore"], GROSS);
    assert_eq!(v["overdue"], false);
    // The buying company sees the same standing and the payments.
    let seen = invoice(&app, &id, &company).await;
    assert_eq!(seen["payment_status"], "paid");
    let pays = ok(app
        .get(&format!("/api/v1/invoices/{id}/payments"), &company)
        .await)
    .await;
    let mut refs: Vec<&str> = pays
        .as_array()
        .unwrap()
        .iter()
        .map(|p| str_of(p, "bank_reference"))
        .collect();
    refs.sort();
    assert_eq!(refs, vec!["BANK-1", "MAN-1"]);
    assert!(listed(&app, "paid", &finance).await.contains(&id));
    assert!(!listed(&app, "unpaid", &finance).await.contains(&id));
    // The payments are on the case's audit trail (internal to the CPUA).
    let trail = ok(app
        .get(
            &format!(
                "/api/v1/collaborations/{}/audit",
                str_of(&inv, "collaboration_id")
            ),
            &finance,
        )
        .await)
    .await;
    assert_eq!(
        trail.to_string().matches("payment_recorded").count(),
        2,
        "{trail}"
    );
}

#[tokio::test]
async fn a_camt_import_pays_partly_then_the_rest_and_a_replay_pays_nothing_twice() {
    let app = TestApp::spawn().await;
    let finance = app.token("finance").await;
    let inv = issued(&app).await;
    let id = str_of(&inv, "id").to_string();
    let ocr = str_of(&inv, "ocr").to_string();

    // 2 000 kr to the invoice, a credit with an OCR of no invoice, and a bank fee (a debit).
    let first = camt(&[
        entry("B-1", &ocr, "2000.00", "CRDT"),
        entry("B-2", "1234574", "50.00", "CRDT"),
        entry("FEE-1", &ocr, "5.00", "DBIT"),
    ]);
    let a = ok(import(&app, &finance, &first).await).await;
    assert_eq!(a["entries"], 3);
    assert_eq!(a["matched"].as_array().unwrap().len(), 1, "{a}");
    assert_eq!(a["matched"][0]["outcome"], "partially_paid");
    assert_eq!(a["matched"][0]["balance_after_ore"], GROSS - 200_000);
    // The unmatched credit is reported and kept, not dropped.
    assert_eq!(a["unmatched"][0]["bank_reference"], "B-2", "{a}");
    assert_eq!(a["unmatched"][0]["reason"], "unknown_ocr");
    assert_eq!(a["skipped"][0]["reason"], "debit");
    assert_eq!(
        invoice(&app, &id, &finance).await["balance_ore"],
        GROSS - 200_000
    );

    // The same file again: nothing is counted twice.
    let replay = ok(import(&app, &finance, &first).await).await;
    assert_eq!(replay["matched"], json!([]), "{replay}");
    assert_eq!(replay["unmatched"], json!([]));
    assert_eq!(replay["already_recorded"], json!(["B-1", "B-2"]));
    assert_eq!(
        invoice(&app, &id, &finance).await["balance_ore"],
        GROSS - 200_000
    );
    // A payment by hand with a bank reference already imported is refused.
    problem(
        app.post(
            "/api/v1/payments",
            &finance,
            &json!({"invoice": id, "amount_ore": 1, "value_date": "2026-09-01",
                    "bank_reference": "B-1"}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;

    // An overlapping file: B-1 again and the rest as B-3.
    let rest = format!("{}.{:02}", (GROSS - 200_000) / 100, (GROSS - 200_000) % 100);
    let b = ok(import(
        &app,
        &finance,
        &camt(&[
            entry("B-1", &ocr, "2000.00", "CRDT"),
            entry("B-3", &ocr, &rest, "CRDT"),
        ]),
    )
    .await)
    .await;
    assert_eq!(b["already_recorded"], json!(["B-1"]));
    assert_eq!(b["matched"][0]["outcome"], "paid", "{b}");
    let v = invoice(&app, &id, &finance).await;
    assert_eq!(
        (v["payment_status"].clone(), v["balance_ore"].clone()),
        (json!("paid"), json!(0))
    );
}

#[tokio::test]
async fn a_camt_file_that_does_not_parse_is_refused_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let finance = app.token("finance").await;
    let inv = issued(&app).await;
    let id = str_of(&inv, "id").to_string();
    let ocr = str_of(&inv, "ocr").to_string();

    // Not well formed: refused naming the file, the line and the element.
    let broken =
        camt(&[entry("B-1", &ocr, "2000.00", "CRDT")]).replace("</Amt><CdtDbtInd>", "<CdtDbtInd>");
    let p = problem(
        import(&app, &finance, &broken).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], "file", "{p}");
    let detail = p["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("line ") || detail.contains("rad "), "{p}");
    assert!(
        detail.contains("Document/BkToCstmrDbtCdtNtfctn/Ntfctn/Ntry"),
        "{p}"
    );
    // An amount that is not a number, and an empty body.
    let bad_amount = camt(&[entry("B-1", &ocr, "tvåtusen", "CRDT")]);
    let p = problem(
        import(&app, &finance, &bad_amount).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], "file", "{p}");
    problem(
        import(&app, &finance, "").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    // One bank reference twice: the whole file is refused, its good payment too.
    let twice = camt(&[
        entry("B-1", &ocr, "2000.00", "CRDT"),
        entry("B-1", &ocr, "1.00", "CRDT"),
    ]);
    let p = problem(
        import(&app, &finance, &twice).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], "file", "{p}");
    let v = invoice(&app, &id, &finance).await;
    assert_eq!(v["paid_ore"], 0, "nothing was written: {v}");
    let pays = ok(app
        .get(&format!("/api/v1/invoices/{id}/payments"), &finance)
        .await)
    .await;
    assert_eq!(pays, json!([]));
    // The good file afterwards is imported as new: the refusals left nothing behind.
    let a = ok(import(
        &app,
        &finance,
        &camt(&[entry("B-1", &ocr, "2000.00", "CRDT")]),
    )
    .await)
    .await;
    assert_eq!(a["matched"].as_array().unwrap().len(), 1, "{a}");
}

#[tokio::test]
async fn an_overpayment_and_a_credit_note_show_in_the_balance() {
    let app = TestApp::spawn().await;
    let finance = app.token("finance").await;
    let inv = issued(&app).await;
    let id = str_of(&inv, "id").to_string();
    let p = ok(app
        .post(
            "/api/v1/payments",
            &finance,
            &json!({"invoice": id, "amount_ore": GROSS + 12_500, "value_date": "2026-09-01",
                    "bank_reference": "OVER-1"}),
        )
        .await)
    .await;
    assert_eq!(p["outcome"], "overpaid", "{p}");
    let v = invoice(&app, &id, &finance).await;
    assert_eq!(v["payment_status"], "overpaid");
    assert_eq!(
        v["balance_ore"], -12_500,
        "the excess is shown as a negative balance"
    );
    assert!(listed(&app, "overpaid", &finance).await.contains(&id));

    // A second invoice credited in full: credited, nothing to pay, never overdue.
    let case_id = str_of(&inv, "collaboration_id").to_string();
    let second = issued_on(&app, &case_id, 100).await;
    let second_id = str_of(&second, "id").to_string();
    let credit = ok(app
        .post(
            &format!("/api/v1/invoices/{second_id}/credit-notes"),
            &finance,
            &json!({"reason": "Fel ärende"}),
        )
        .await)
    .await;
    assert_eq!(credit["payment_status"], "issued");
    let v = invoice(&app, &second_id, &finance).await;
    assert_eq!(v["payment_status"], "credited", "{v}");
    assert_eq!(v["balance_ore"], 0);
    assert_eq!(v["credited_ore"], second["gross_ore"]);
    assert!(listed(&app, "credited", &finance)
        .await
        .contains(&second_id));
    // A credit note is not paid.
    problem(
        app.post(
            "/api/v1/payments",
            &finance,
            &json!({"invoice": credit["id"], "amount_ore": 100, "value_date": "2026-09-01",
                    "bank_reference": "CN-1"}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
}

#[tokio::test]
async fn another_cpuas_finance_gets_404_and_bad_input_is_refused_by_its_field() {
    let app = TestApp::spawn().await;
    let finance = app.token("finance").await;
    let inv = issued(&app).await;
    let id = str_of(&inv, "id").to_string();
    let ocr = str_of(&inv, "ocr").to_string();
    app.add_account("finance-skane", "finance", "Region Skåne")
        .await;
    let other = app.token("finance-skane").await;
    let pay = json!({"invoice": id, "amount_ore": 100, "value_date": "2026-09-01",
                     "bank_reference": "X-1"});
    problem(
        app.post("/api/v1/payments", &other, &pay).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        app.get(&format!("/api/v1/invoices/{id}/payments"), &other)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        app.get(&format!("/api/v1/invoices/{id}"), &other).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    // Its OCR reference names no invoice of the other CPUA: refused by hand, unmatched in a file.
    let p = problem(
        app.post(
            "/api/v1/payments",
            &other,
            &json!({"ocr_reference": ocr, "amount_ore": 100, "value_date": "2026-09-01",
                    "bank_reference": "X-2"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], "ocr_reference", "{p}");
    let a = ok(import(&app, &other, &camt(&[entry("X-3", &ocr, "10.00", "CRDT")])).await).await;
    assert_eq!(a["unmatched"][0]["reason"], "unknown_ocr", "{a}");
    assert_eq!(invoice(&app, &id, &finance).await["paid_ore"], 0);
    // The other CPUA's export holds none of it.
    let r = app
        .get(
            "/api/v1/exports/invoices.csv?from=2026-09-01&to=2026-09-30",
            &other,
        )
        .await;
    let csv = r.text().await.unwrap();
    assert!(!csv.contains(&ocr) || csv.contains("X-3"), "{csv}");
    assert!(!csv.contains("2026-000001"), "{csv}");

    // Bad input, each named by its field.
    for (body, field) in [
        (
            json!({"amount_ore": 100, "value_date": "2026-09-01", "bank_reference": "Y"}),
            "invoice",
        ),
        (
            json!({"invoice": id, "ocr_reference": ocr, "amount_ore": 100, "value_date": "2026-09-01", "bank_reference": "Y"}),
            "invoice",
        ),
        (
            json!({"invoice": id, "amount_ore": 0, "value_date": "2026-09-01", "bank_reference": "Y"}),
            "amount_ore",
        ),
        (
            json!({"invoice": id, "amount_ore": -5, "value_date": "2026-09-01", "bank_reference": "Y"}),
            "amount_ore",
        ),
        (
            json!({"invoice": id, "amount_ore": 100, "value_date": "2026-09-02", "bank_reference": "Y"}),
            "value_date",
        ),
        (
            json!({"invoice": id, "amount_ore": 100, "value_date": "1 sept", "bank_reference": "Y"}),
            "value_date",
        ),
        (
            json!({"invoice": id, "amount_ore": 100, "value_date": "2026-09-01", "bank_reference": " "}),
            "bank_reference",
        ),
        (
            json!({"invoice": id, "amount_ore": 100, "currency": "EUR", "value_date": "2026-09-01", "bank_reference": "Y"}),
            "currency",
        ),
        (
            json!({"ocr_reference": "1234575", "amount_ore": 100, "value_date": "2026-09-01", "bank_reference": "Y"}),
            "ocr_reference",
        ),
    ] {
        let p = problem(
            app.post("/api/v1/payments", &finance, &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(p["field"], field, "{body} → {p}");
    }
    let p = problem(
        app.get("/api/v1/invoices?status=betald", &finance).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], "status", "{p}");
    assert_eq!(invoice(&app, &id, &finance).await["paid_ore"], 0);
}

#[tokio::test]
async fn the_overdue_list_holds_issued_invoices_with_a_balance_past_the_due_day() {
    let app = TestApp::spawn().await;
    let finance = app.token("finance").await;
    let inv = issued(&app).await;
    let id = str_of(&inv, "id").to_string();
    let second = issued_on(&app, str_of(&inv, "collaboration_id"), 100).await;
    let second_id = str_of(&second, "id").to_string();
    assert_eq!(inv["due_date"], "2026-10-01");
    assert!(listed(&app, "overdue", &finance).await.is_empty());
    // On the due day (Stockholm) nothing is overdue yet: 2026-10-01 21:30 UTC is 23:30 in Sweden.
    app.clock.advance(
        chrono::Duration::days(30) + chrono::Duration::hours(12) + chrono::Duration::minutes(30),
    );
    let finance = app.token("finance").await;
    assert!(listed(&app, "overdue", &finance).await.is_empty());
    assert_eq!(invoice(&app, &id, &finance).await["overdue"], false);
    // 23:00 UTC is already 2 October in Stockholm: both are overdue.
    app.clock.advance(chrono::Duration::minutes(90));
    let finance = app.token("finance").await;
    let mut both = listed(&app, "overdue", &finance).await;
    both.sort();
    let mut want = vec![id.clone(), second_id.clone()];
    want.sort();
    assert_eq!(both, want);
    // A page's cursor belongs to its list: on another status it is refused at `cursor`.
    let first = ok(app
        .get("/api/v1/invoices?status=overdue&per_page=1", &finance)
        .await)
    .await;
    let cursor = first["next_cursor"].as_str().expect("a second page");
    let p = problem(
        app.get(
            &format!("/api/v1/invoices?status=paid&per_page=1&cursor={cursor}"),
            &finance,
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(p["field"], "cursor", "{p}");
    // Paid in part: still overdue; paid in full: off the list.
    for (inv_id, amount, bank) in [
        (&id, 1_000, "P-1"),
        (&second_id, second["gross_ore"].as_i64().unwrap(), "P-2"),
    ] {
        ok(app
            .post(
                "/api/v1/payments",
                &finance,
                &json!({"invoice": inv_id, "amount_ore": amount, "value_date": "2026-10-02",
                        "bank_reference": bank}),
            )
            .await)
        .await;
    }
    assert_eq!(listed(&app, "overdue", &finance).await, vec![id.clone()]);
    let v = invoice(&app, &id, &finance).await;
    assert_eq!(
        (v["overdue"].clone(), v["payment_status"].clone()),
        (json!(true), json!("partially_paid"))
    );
}

/// Splits the export (UTF-8 with a BOM, `;`, CRLF, RFC 4180 quotes) into rows of cells.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let body = text.strip_prefix('\u{feff}').expect("a byte-order mark");
    let mut rows = vec![];
    let mut row = vec![];
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ';') => row.push(std::mem::take(&mut cell)),
            (false, '\r') => {
                assert_eq!(chars.next(), Some('\n'), "CRLF line ends");
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    assert!(
        cell.is_empty() && row.is_empty(),
        "the last line ends with CRLF"
    );
    rows
}

#[tokio::test]
async fn the_finance_export_holds_the_periods_invoices_credit_notes_and_payments() {
    let app = TestApp::spawn().await;
    let finance = app.token("finance").await;
    let legal = app.token("legal").await;
    let inv = issued(&app).await;
    let id = str_of(&inv, "id").to_string();
    let ocr = str_of(&inv, "ocr").to_string();
    ok(app
        .post(
            &format!("/api/v1/invoices/{id}/credit-notes"),
            &finance,
            &json!({"reason": "En timme för mycket", "amount_ore": 95_000}),
        )
        .await)
    .await;
    let imported = ok(import(
        &app,
        &finance,
        &camt(&[
            entry("B-9", &ocr, "1000.00", "CRDT"),
            entry("B-10", "=1+1", "7.00", "CRDT"),
        ]),
    )
    .await)
    .await;
    // 3 kr of the unmatched payment placed on the invoice: the ledger sees the placement too.
    let unmatched_id = str_of(&imported["unmatched"][0], "payment_id").to_string();
    ok(app
        .post(
            &format!("/api/v1/payments/{unmatched_id}/allocations"),
            &finance,
            &json!({"invoice_id": id, "amount_ore": 300}),
        )
        .await)
    .await;

    let url = "/api/v1/exports/invoices.csv?from=2026-09-01&to=2026-09-30";
    problem(app.get(url, &legal).await, StatusCode::FORBIDDEN).await;
    let r = app.get(url, &finance).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    let rows = parse_csv(&r.text().await.unwrap());
    assert_eq!(rows[0][0], "Typ");
    assert!(rows.iter().all(|r| r.len() == 16), "{rows:?}");
    assert_eq!(
        rows.len(),
        6,
        "header, invoice, credit note, two payments, a placement: {rows:?}"
    );
    let placed = &rows[5];
    assert_eq!(placed[0], "Placering av inbetalning", "{rows:?}");
    assert_eq!(placed[1], "2026-000001");
    assert_eq!(placed[10], "B-10");
    assert_eq!(placed[13], "3,00");
    let invoice_row = &rows[1];
    assert_eq!(invoice_row[0], "Faktura");
    assert_eq!(invoice_row[1], "2026-000001");
    assert_eq!(invoice_row[8], ocr);
    assert_eq!(invoice_row[13], "5937,50");
    let credit_row = &rows[2];
    assert_eq!(credit_row[0], "Kreditfaktura");
    assert_eq!(credit_row[9], "2026-000001");
    assert_eq!(credit_row[13], "-1187,50");
    let pay: Vec<&Vec<String>> = rows.iter().filter(|r| r[0] == "Inbetalning").collect();
    assert_eq!(pay.len(), 2);
    let matched = pay.iter().find(|r| r[10] == "B-9").unwrap();
    assert_eq!(matched[1], "2026-000001");
    assert_eq!(matched[13], "1000,00");
    // The unmatched payment is exported without an invoice, its formula-like reference defused.
    let unmatched = pay.iter().find(|r| r[10] == "B-10").unwrap();
    assert_eq!(unmatched[1], "");
    assert_eq!(unmatched[8], "'=1+1");
    // English headings on request; outside the period, only the header.
    let en = app
        .get(
            "/api/v1/exports/invoices.csv?from=2026-09-01&to=2026-09-30&lang=en",
            &finance,
        )
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(parse_csv(&en)[0][0], "Type");
    let empty = app
        .get(
            "/api/v1/exports/invoices.csv?from=2026-10-01&to=2026-10-31",
            &finance,
        )
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(parse_csv(&empty).len(), 1);
    // Bad dates are refused naming `from` or `to`.
    for (q, field) in [
        ("to=2026-09-30", "from"),
        ("from=2026-13-01&to=2026-09-30", "from"),
        ("from=2026-09-01", "to"),
        ("from=2026-09-01&to=30.9.2026", "to"),
        ("from=2026-09-30&to=2026-09-01", "to"),
        ("from=2026-01-01&to=2027-12-31", "to"),
    ] {
        let p = problem(
            app.get(&format!("/api/v1/exports/invoices.csv?{q}"), &finance)
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(p["field"], field, "{q} → {p}");
    }
}

#[tokio::test]
async fn a_recorded_payment_cannot_be_altered_through_sql() {
    use diesel::connection::SimpleConnection;
    let app = TestApp::spawn().await;
    let finance = app.token("finance").await;
    let inv = issued(&app).await;
    let id = str_of(&inv, "id").to_string();
    let ocr = str_of(&inv, "ocr").to_string();
    ok(import(
        &app,
        &finance,
        &camt(&[entry("B-1", &ocr, "100.00", "CRDT")]),
    )
    .await)
    .await;
    let db = samverkan::db::conn::Db::connect(&app.database_url, 1).expect("database");
    let mut conn = db.pool.get().expect("connection");
    for sql in [
        "UPDATE payments SET amount_ore = 1".to_string(),
        "UPDATE payments SET invoice_id = NULL".to_string(),
        "DELETE FROM payments".to_string(),
        "UPDATE payment_imports SET entries = 9".to_string(),
        "DELETE FROM payment_imports".to_string(),
    ] {
        let e = conn.batch_execute(&sql);
        assert!(
            format!("{e:?}").contains("payment_immutable"),
            "{sql}: {e:?}"
        );
    }
    if app.is_postgres() {
        let e = conn.batch_execute("TRUNCATE payments CASCADE");
        assert!(format!("{e:?}").contains("payment_immutable"), "{e:?}");
    }
    // The bank reference is unique per CPUA in the database too.
    let e = conn.batch_execute(&format!(
        "INSERT INTO payments (id, cpua_id, invoice_id, amount_ore, currency, value_date, bank_reference, \
         source, recorded_by, recorded_at) SELECT 'dup', cpua_id, invoice_id, 1, 'SEK', value_date, \
         bank_reference, 'manual', recorded_by, recorded_at FROM payments WHERE invoice_id = '{id}'"
    ));
    assert!(e.is_err(), "a second row with the same bank reference");
    assert_eq!(invoice(&app, &id, &finance).await["paid_ore"], 10_000);
}

/// One camt.054 entry with the payer's name (`RltdPties/Dbtr/Pty/Nm`, version 08).
fn entry_from(bank_ref: &str, ocr: &str, kronor: &str, payer: &str) -> String {
    format!(
        r#"<Ntry><Amt Ccy="SEK">{kronor}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-09-01</Dt></BookgDt>
<NtryDtls><TxDtls><Refs><AcctSvcrRef>{bank_ref}</AcctSvcrRef></Refs><Amt Ccy="SEK">{kronor}</Amt>
<RltdPties><Dbtr><Pty><Nm>{payer}</Nm></Pty></Dbtr></RltdPties>
<RmtInf><Strd><CdtrRefInf><Ref>{ocr}</Ref></CdtrRefInf></Strd></RmtInf></TxDtls></NtryDtls></Ntry>
"#
    )
}

#[tokio::test]
async fn the_payers_name_is_kept_from_the_bank_file_and_by_hand_and_exported() {
    let app = TestApp::spawn().await;
    let finance = app.token("finance").await;
    let inv = issued(&app).await;
    let id = str_of(&inv, "id").to_string();
    let ocr = str_of(&inv, "ocr").to_string();
    let v = ok(import(
        &app,
        &finance,
        &camt(&[
            entry_from("P-1", &ocr, "1000.00", "Exempel Läkemedel AB"),
            entry_from("P-2", "1234574", "20.00", "=Nordisk  Farma\n Oy"),
        ]),
    )
    .await)
    .await;
    assert_eq!(v["matched"][0]["payer_name"], "Exempel Läkemedel AB", "{v}");
    // An unmatched payment keeps its payer's name too, on one line: finance sees who paid.
    assert_eq!(v["unmatched"][0]["payer_name"], "=Nordisk Farma Oy", "{v}");
    // By hand: optional, at most 140 characters, refused at `payer_name`.
    let by_hand = |bank: &str, payer: Value| {
        json!({"invoice": id, "amount_ore": 500, "value_date": "2026-09-01",
               "bank_reference": bank, "payer_name": payer})
    };
    let p = problem(
        app.post(
            "/api/v1/payments",
            &finance,
            &by_hand("P-3", json!("x".repeat(141))),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], "payer_name", "{p}");
    let r = ok(app
        .post(
            "/api/v1/payments",
            &finance,
            &by_hand("P-3", json!(" Åsa Öberg ")),
        )
        .await)
    .await;
    assert_eq!(r["payment"]["payer_name"], "Åsa Öberg", "{r}");
    ok(app
        .post("/api/v1/payments", &finance, &by_hand("P-4", Value::Null))
        .await)
    .await;
    let pays = ok(app
        .get(&format!("/api/v1/invoices/{id}/payments"), &finance)
        .await)
    .await;
    let payer = |bank: &str| {
        pays.as_array()
            .unwrap()
            .iter()
            .find(|p| p["bank_reference"] == bank)
            .map(|p| p["payer_name"].clone())
            .unwrap()
    };
    assert_eq!(payer("P-1"), json!("Exempel Läkemedel AB"));
    assert_eq!(payer("P-3"), json!("Åsa Öberg"));
    assert_eq!(payer("P-4"), Value::Null);
    // The export's last column is the payer ("Betalare"), a formula-like name defused.
    let csv = app
        .get(
            "/api/v1/exports/invoices.csv?from=2026-09-01&to=2026-09-30",
            &finance,
        )
        .await
        .text()
        .await
        .unwrap();
    let rows = parse_csv(&csv);
    assert_eq!(rows[0][15], "Betalare");
    let cell = |bank: &str| {
        rows.iter()
            .find(|r| r[0] == "Inbetalning" && r[10] == bank)
            .map(|r| r[15].clone())
            .unwrap()
    };
    assert_eq!(cell("P-1"), "Exempel Läkemedel AB");
    assert_eq!(cell("P-2"), "'=Nordisk Farma Oy");
    assert_eq!(cell("P-3"), "Åsa Öberg");
    assert_eq!(cell("P-4"), "");
}

#[tokio::test]
async fn an_unmatched_payment_is_placed_on_an_invoice_later_and_never_taken_back() {
    use diesel::connection::SimpleConnection;
    let app = TestApp::spawn().await;
    let finance = app.token("finance").await;
    let legal = app.token("legal").await;
    let inv = issued(&app).await;
    let id = str_of(&inv, "id").to_string();
    let case_id = str_of(&inv, "collaboration_id").to_string();
    // A credit note of 950 kr + VAT on the invoice: 4 750 kr left to pay.
    let cn = ok(app
        .post(
            &format!("/api/v1/invoices/{id}/credit-notes"),
            &finance,
            &json!({"reason": "En timme för mycket", "amount_ore": 95_000}),
        )
        .await)
    .await;
    let cn_id = str_of(&cn, "id").to_string();
    // A draft on the same case.
    approved_line(&app, &case_id, 100).await;
    let draft = ok(app
        .post("/api/v1/invoices", &finance, &draft_body(&case_id))
        .await)
    .await;
    let draft_id = str_of(&draft, "id").to_string();

    // 6 000 kr with a valid OCR number of no invoice: recorded unmatched, waiting to be placed.
    let v = ok(import(
        &app,
        &finance,
        &camt(&[entry_from(
            "U-1",
            "1234574",
            "6000.00",
            "Exempel Läkemedel AB",
        )]),
    )
    .await)
    .await;
    assert_eq!(v["unmatched"][0]["reason"], "unknown_ocr", "{v}");
    let pay_id = str_of(&v["unmatched"][0], "payment_id").to_string();
    let waiting = ok(app.get("/api/v1/payments/unmatched", &finance).await).await;
    assert_eq!(waiting[0]["payment"]["id"], pay_id.as_str(), "{waiting}");
    assert_eq!(waiting[0]["remaining_ore"], 600_000);
    problem(
        app.get("/api/v1/payments/unmatched", &legal).await,
        StatusCode::FORBIDDEN,
    )
    .await;

    let place = format!("/api/v1/payments/{pay_id}/allocations");
    let body = |invoice: &str, ore: i64| json!({"invoice_id": invoice, "amount_ore": ore});
    // Refusals, each naming its field or its rule; nothing placed by any of them.
    problem(
        app.post(&place, &legal, &body(&id, 100)).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    for (b, field) in [
        (body(&id, 600_001), "amount_ore"),
        (body(&id, 0), "amount_ore"),
        (body(&id, -5), "amount_ore"),
        (body("", 100), "invoice_id"),
    ] {
        let p = problem(
            app.post(&place, &finance, &b).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(p["field"], field, "{b} → {p}");
    }
    for target in [&cn_id, &draft_id] {
        problem(
            app.post(&place, &finance, &body(target, 100)).await,
            StatusCode::CONFLICT,
        )
        .await;
    }
    problem(
        app.post(&place, &finance, &body("no-such-invoice", 100))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        app.post(
            "/api/v1/payments/no-such/allocations",
            &finance,
            &body(&id, 100),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    // A payment matched to an invoice already is not placed again.
    let by_hand = ok(app
        .post(
            "/api/v1/payments",
            &finance,
            &json!({"invoice": id, "amount_ore": 100, "value_date": "2026-09-01",
                    "bank_reference": "MAN-1"}),
        )
        .await)
    .await;
    let matched_id = str_of(&by_hand["payment"], "id").to_string();
    problem(
        app.post(
            &format!("/api/v1/payments/{matched_id}/allocations"),
            &finance,
            &body(&id, 100),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    // Another CPUA's finance: our payment and our invoice are 404 to it.
    app.add_account("finance-skane", "finance", "Region Skåne")
        .await;
    let other = app.token("finance-skane").await;
    problem(
        app.post(&place, &other, &body(&id, 100)).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let theirs = ok(import(
        &app,
        &other,
        &camt(&[entry("S-1", "1234574", "10.00", "CRDT")]),
    )
    .await)
    .await;
    let their_pay = str_of(&theirs["unmatched"][0], "payment_id").to_string();
    problem(
        app.post(
            &format!("/api/v1/payments/{their_pay}/allocations"),
            &other,
            &body(&id, 100),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(invoice(&app, &id, &finance).await["paid_ore"], 100);

    // 4 000 kr placed: partially paid; then the rest of the balance: paid; 1 999 kr left to place.
    let left = GROSS - 118_750 - 100;
    let a = app.post(&place, &finance, &body(&id, 400_000)).await;
    assert_eq!(a.status(), StatusCode::CREATED);
    let a: Value = a.json().await.unwrap();
    assert_eq!(a["balance_before_ore"], left, "{a}");
    assert_eq!(a["balance_after_ore"], left - 400_000);
    assert_eq!(a["payment_status"], "partially_paid");
    assert_eq!(a["payment_remaining_ore"], 200_000);
    let b = ok(app.post(&place, &finance, &body(&id, left - 400_000)).await).await;
    assert_eq!(b["payment_status"], "paid", "{b}");
    assert_eq!(b["outcome"], "paid");
    let rest = 600_000 - left;
    assert_eq!(b["payment_remaining_ore"], rest);
    let v = invoice(&app, &id, &finance).await;
    assert_eq!(
        (v["payment_status"].clone(), v["balance_ore"].clone()),
        (json!("paid"), json!(0))
    );
    // More than is left of the payment is refused at `amount_ore`.
    let p = problem(
        app.post(&place, &finance, &body(&id, rest + 1)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], "amount_ore", "{p}");
    // The invoice's payments show the placements, with their payer.
    let pays = ok(app
        .get(&format!("/api/v1/invoices/{id}/payments"), &finance)
        .await)
    .await;
    let placed: Vec<&Value> = pays
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["allocation_id"].is_string())
        .collect();
    assert_eq!(placed.len(), 2, "{pays}");
    assert!(placed
        .iter()
        .all(|p| p["bank_reference"] == "U-1" && p["payer_name"] == "Exempel Läkemedel AB"));
    assert_eq!(
        ok(app.get("/api/v1/payments/unmatched", &finance).await).await[0]["remaining_ore"],
        rest
    );
    // On the case's audit trail.
    let trail = ok(app
        .get(&format!("/api/v1/collaborations/{case_id}/audit"), &finance)
        .await)
    .await;
    assert_eq!(
        trail.to_string().matches("payment_allocated").count(),
        2,
        "{trail}"
    );
    // The database refuses to change or take back a placement, whoever asks.
    let db = samverkan::db::conn::Db::connect(&app.database_url, 1).expect("database");
    let mut conn = db.pool.get().expect("connection");
    for sql in [
        "UPDATE payment_allocations SET amount_ore = 1",
        "UPDATE payment_allocations SET invoice_id = 'x'",
        "DELETE FROM payment_allocations",
    ] {
        let e = conn.batch_execute(sql);
        assert!(
            format!("{e:?}").contains("payment_immutable"),
            "{sql}: {e:?}"
        );
    }
    if app.is_postgres() {
        let e = conn.batch_execute("TRUNCATE payment_allocations");
        assert!(format!("{e:?}").contains("payment_immutable"), "{e:?}");
    }
    assert_eq!(invoice(&app, &id, &finance).await["balance_ore"], 0);
}
