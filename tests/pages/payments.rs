//! Payments on the finance pages (issue 15, items 5, 6 and 8): an issued invoice shows its payment
//! status in words, what was paid, credited and is left, its payments and reminders, and a form to
//! record a payment by hand; the invoice list filters on the computed statuses and shows the
//! balance; a camt.054 file is imported on its own page (all or nothing, a bank reference counted
//! once), and a file that does not parse is refused naming the line and element. Bad input comes
//! back at its field with what was entered kept (issue 12, "Bad input").
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{ok, TestApp};
use crate::support::{location, Browser};

/// An issued invoice of 5 h at 950 kr + 25 % VAT = 5 937,50 kr on a new case on EX-HJARTA, the
/// work charged as the written cost agreement says (seed 000, "Ersättning för datauttag för
/// forskning").
async fn issued(app: &TestApp) -> Value {
    let id = app
        .case_with_cost_agreement(false, "KOST-2026-17", "2026-09-01")
        .await;
    let finance = app.token("finance").await;
    let holder = app.token("register-holder").await;
    let r = app
        .post(
            &format!("/api/v1/collaborations/{id}/work-log"),
            &holder,
            &json!({"person_name": "Eva Lind", "worked_on": "2026-09-01",
                    "activity": "Datauttag och avidentifiering", "kind": "hours",
                    "hours_hundredths": 500}),
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
    let draft = ok(app
        .post(
            "/api/v1/invoices",
            &finance,
            &json!({"collaboration": id, "buyer_reference": "Åsa Öberg",
                    "buyer_street": "Industrigatan 4", "buyer_postal_code": "112 46",
                    "buyer_city": "Stockholm", "buyer_contact_name": "Åsa Öberg",
                    "buyer_contact_email": "asa.oberg@example.com",
                    "seller_street": "Dag Hammarskjölds väg 38", "seller_postal_code": "751 85",
                    "seller_city": "Uppsala", "seller_contact_name": "Regionens ekonomiservice",
                    "seller_contact_email": "ekonomi@example.se", "bankgiro": "5050-1055"}),
        )
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

/// One booked camt.054 credit with a structured OCR reference.
fn entry(bank_ref: &str, ocr: &str, kronor: &str) -> String {
    format!(
        r#"<Ntry><Amt Ccy="SEK">{kronor}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-09-01</Dt></BookgDt>
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

#[tokio::test]
async fn finance_records_and_imports_payments_on_the_pages_and_sees_the_balance() {
    let app = TestApp::spawn().await;
    let inv = issued(&app).await;
    let id = inv["id"].as_str().unwrap().to_string();
    let ocr = inv["ocr"].as_str().unwrap().to_string();
    let day = inv["issue_date"].as_str().unwrap().to_string();
    let page = format!("/invoices/{id}");
    let finance = Browser::signed_in(&app, "finance").await;

    // Issued, nothing paid: unpaid in words, the whole amount left, the form offered.
    let html = finance.html(&page).await;
    assert!(html.contains("id=\"payment-status\">Obetald<"), "{html}");
    assert!(html.contains("Registrera en betalning"), "{html}");
    assert!(html.contains("Inga betalningar är registrerade."), "{html}");
    assert!(html.contains("Inga påminnelser är skickade."), "{html}");

    // An amount that is not one: 422 at its field, in kronor, the rest kept.
    let pay = format!("{page}/payments");
    let r = finance
        .post_form(
            &pay,
            &[
                ("pay_amount", "tvåtusen"),
                ("value_date", day.as_str()),
                ("bank_reference", "BG-HAND-1"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("href=\"#f-pay_amount\""), "{html}");
    assert!(html.contains("Ange beloppet i kronor"), "{html}");
    assert!(html.contains("value=\"BG-HAND-1\""), "{html}");
    assert!(html.contains("value=\"tvåtusen\""), "{html}");

    // 2 000 kr by hand: partially paid, 3 937,50 kr left, the payment listed.
    let r = finance
        .post_form(
            &pay,
            &[
                ("pay_amount", "2 000"),
                ("value_date", day.as_str()),
                ("bank_reference", "BG-HAND-1"),
                ("payer_name", "Åsa Öberg"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);
    assert_eq!(location(&r), page);
    let html = finance.html(&page).await;
    assert!(
        html.contains("id=\"payment-status\">Delvis betald<"),
        "{html}"
    );
    assert!(html.contains("2\u{a0}000,00\u{a0}kr"), "{html}");
    assert!(html.contains("3\u{a0}937,50\u{a0}kr"), "{html}");
    assert!(html.contains("BG-HAND-1"), "{html}");
    assert!(html.contains("Registrerad för hand"), "{html}");
    // The payer's name, typed by hand, in its column.
    assert!(html.contains(">Betalare</th>"), "{html}");
    assert!(html.contains("<td>Åsa Öberg</td>"), "{html}");
    // The same bank reference again is refused on the page, never counted twice.
    let r = finance
        .post_form(
            &pay,
            &[
                ("pay_amount", "100"),
                ("value_date", day.as_str()),
                ("bank_reference", "BG-HAND-1"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // The list: the new statuses in words, the balance column.
    let html = finance.html("/invoices?status=partially_paid").await;
    assert!(html.contains(&page), "{html}");
    assert!(html.contains("Kvar att betala"), "{html}");
    assert!(html.contains(">Delvis betalda</option>"), "{html}");
    assert!(html.contains("3\u{a0}937,50\u{a0}kr"), "{html}");
    assert!(!finance.html("/invoices?status=paid").await.contains(&page));
    // The export form leads to the API's CSV of the period.
    assert!(
        html.contains("action=\"/api/v1/exports/invoices.csv\""),
        "{html}"
    );
    let r = finance
        .get(&format!(
            "/api/v1/exports/invoices.csv?from={day}&to={day}&lang=sv"
        ))
        .await;
    assert_eq!(r.status(), StatusCode::OK);

    // The import page: a file that does not parse names the line and the element, kept.
    assert!(finance
        .html("/payments/import")
        .await
        .contains("Importera betalningar"));
    let broken = camt(&[entry("B-1", &ocr, "3937.50")]).replace("</Amt><CdtDbtInd>", "<CdtDbtInd>");
    let r = finance
        .post_form("/payments/import", &[("file", broken.as_str())])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("href=\"#f-file\""), "{html}");
    assert!(
        html.contains("Document/BkToCstmrDbtCdtNtfctn/Ntfctn/Ntry"),
        "{html}"
    );
    assert!(html.contains("B-1"), "the file kept: {html}");
    // An uploaded file that does not parse comes back the same way, its text in the box; no file
    // chosen is refused at the field.
    let r = finance
        .post_file(
            "/payments/import",
            "camt054.xml",
            "application/xml",
            broken.as_bytes(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("href=\"#f-file\""), "{html}");
    assert!(html.contains("B-1"), "the file kept: {html}");
    let r = finance
        .post_file("/payments/import", "", "application/octet-stream", b"")
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("href=\"#f-file\""));

    // The rest by the bank file, and a credit without a reference: matched and unmatched.
    let file = camt(&[
        entry("B-1", &ocr, "3937.50"),
        entry("B-2", "", "100.00").replace(
            "<RmtInf><Strd><CdtrRefInf><Ref></Ref></CdtrRefInf></Strd></RmtInf>",
            "<RltdPties><Dbtr><Pty><Nm>Nordisk Farma Oy</Nm></Pty></Dbtr></RltdPties>",
        ),
    ]);
    // Uploaded as the bank's file, through the page's upload form (multipart).
    let html = finance.html("/payments/import").await;
    assert!(html.contains("enctype=\"multipart/form-data\""), "{html}");
    assert!(html.contains("type=\"file\""), "{html}");
    let r = finance
        .post_file(
            "/payments/import",
            "camt054.xml",
            "application/xml",
            file.as_bytes(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"import-result\""), "{html}");
    assert!(html.contains("Filen hade 2 poster."), "{html}");
    assert!(html.contains(&page), "the matched invoice linked: {html}");
    assert!(html.contains("Betald"), "{html}");
    assert!(
        html.contains("Betalningen har ingen OCR-referens."),
        "{html}"
    );
    // Who paid the unmatched credit, from the file's `Dbtr/Nm`.
    assert!(html.contains("<td>Nordisk Farma Oy</td>"), "{html}");
    // Again: nothing counted twice.
    let r = finance
        .post_form("/payments/import", &[("file", file.as_str())])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("<li>B-1</li>"), "already recorded: {html}");

    let html = finance.html(&page).await;
    assert!(html.contains("id=\"payment-status\">Betald<"), "{html}");
    assert!(html.contains("Bankfil (camt.054)"), "{html}");
    assert!(html.contains("0,00\u{a0}kr"), "{html}");

    // In English, and not for the register holder.
    finance.get("/language/en?next=%2Finvoices").await;
    let en = finance.html(&page).await;
    assert!(en.contains("id=\"payment-status\">Paid<"), "{en}");
    let holder = Browser::signed_in(&app, "register-holder").await;
    let (status, _) = holder.page("/payments/import").await;
    assert!(status.is_client_error(), "{status}");
}

#[tokio::test]
async fn finance_places_an_unmatched_payment_on_an_invoice_on_the_import_page() {
    let app = TestApp::spawn().await;
    let inv = issued(&app).await;
    let id = inv["id"].as_str().unwrap().to_string();
    let number = inv["number"].as_str().unwrap().to_string();
    let finance = Browser::signed_in(&app, "finance").await;
    let html = finance.html("/payments/import").await;
    assert!(html.contains("Betalningar att placera"), "{html}");
    assert!(html.contains("id=\"no-unplaced\""), "{html}");

    // A credit whose valid OCR number belongs to no invoice: recorded unmatched, listed to place.
    let file = camt(&[entry("U-1", "1234574", "6000.00").replace(
        "<RmtInf>",
        "<RltdPties><Dbtr><Nm>Exempel Läkemedel AB</Nm></Dbtr></RltdPties><RmtInf>",
    )]);
    let r = finance
        .post_form("/payments/import", &[("file", file.as_str())])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = finance.html("/payments/import").await;
    assert!(html.contains("id=\"unplaced\""), "{html}");
    assert!(
        html.contains("Ingen faktura har den OCR-referensen."),
        "{html}"
    );
    assert!(html.contains("Exempel Läkemedel AB"), "{html}");
    assert!(
        html.contains(&format!("{number} · ")),
        "the invoice offered: {html}"
    );
    let api = finance.get("/api/v1/payments/unmatched").await;
    let waiting: Value = api.json().await.unwrap();
    let pay = waiting[0]["payment"]["id"].as_str().unwrap().to_string();

    // Nothing chosen, or more than is left: 422 at the fields, what was entered kept.
    let r = finance
        .post_form("/payments/place", &[("place_amount", "x")])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    for f in ["payment", "invoice_id", "place_amount"] {
        assert!(html.contains(&format!("href=\"#f-{f}\"")), "{f}: {html}");
    }
    let r = finance
        .post_form(
            "/payments/place",
            &[
                ("payment", pay.as_str()),
                ("invoice_id", id.as_str()),
                ("place_amount", "6 000,01"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("href=\"#f-place_amount\""), "{html}");
    assert!(html.contains("value=\"6 000,01\""), "{html}");

    // 2 000 kr placed: the invoice's page shows it, partially paid; 4 000 kr left to place.
    let r = finance
        .post_form(
            "/payments/place",
            &[
                ("payment", pay.as_str()),
                ("invoice_id", id.as_str()),
                ("place_amount", "2 000"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);
    assert_eq!(location(&r), format!("/invoices/{id}"));
    let html = finance.html(&format!("/invoices/{id}")).await;
    assert!(
        html.contains("id=\"payment-status\">Delvis betald<"),
        "{html}"
    );
    assert!(
        html.contains("Omatchad betalning, placerad av ekonomi"),
        "{html}"
    );
    assert!(html.contains("<td>Exempel Läkemedel AB</td>"), "{html}");
    let html = finance.html("/payments/import").await;
    assert!(html.contains("4\u{a0}000,00\u{a0}kr"), "{html}");
    // In English.
    finance.get("/language/en?next=%2Fpayments%2Fimport").await;
    let en = finance.html("/payments/import").await;
    assert!(en.contains("Payments to place"), "{en}");
}
