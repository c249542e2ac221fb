//! The billing pages (issue 15): the work log with its forms, drafts, issuing, the issued invoice
//! with its downloads, and credit notes, through the same commands as the API. Work is charged only
//! as the written cost agreement says (seed 000, "Ersättning för datauttag för forskning"); forms
//! with errors keep what was entered, with a summary linked to each field (issue 12, "Bad input").
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{ok, TestApp};
use crate::support::{location, Browser};

/// A case on EX-HJARTA (CPUA Region Uppsala) in register contact with a cost agreement with a
/// ceiling of 10 000 kr at 950 kr an hour, recorded by Region Uppsala's finance officer.
async fn case(app: &TestApp) -> String {
    app.case_with_cost_agreement(false, "KOST-2026-17", "2026-08-28")
        .await
}

fn hours<'a>(person: &'a str, h: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("person_name", person),
        ("worked_on", "2026-09-01"),
        ("activity", "Datauttag och avidentifiering"),
        ("kind", "hours"),
        ("hours", h),
    ]
}

const ADDRESSES: [(&str, &str); 7] = [
    ("buyer_street", "Industrigatan 4"),
    ("buyer_postal_code", "112 46"),
    ("buyer_city", "Stockholm"),
    ("seller_street", "Dag Hammarskjölds väg 38"),
    ("seller_postal_code", "751 85"),
    ("seller_city", "Uppsala"),
    ("bankgiro", "5050-1055"),
];

/// The id of the first line's Approve form on a work-log page.
fn first_approve(html: &str, id: &str) -> String {
    let marker = format!("/collaborations/{id}/work-log/");
    let at = html.find(&marker).expect("an Approve form") + marker.len();
    html[at..].split('/').next().unwrap().to_string()
}

#[tokio::test]
async fn the_work_log_is_logged_approved_drafted_issued_and_credited_on_the_pages() {
    let app = TestApp::spawn().await;
    let id = case(&app).await;
    let wl = format!("/collaborations/{id}/work-log");
    let holder = Browser::signed_in(&app, "register-holder").await;

    // The case page leads the CPUA's staff to the work log.
    assert!(holder
        .html(&format!("/collaborations/{id}"))
        .await
        .contains(&format!("href=\"{wl}\"")));
    let html = holder.html(&wl).await;
    assert!(html.contains("Logga timmar eller ett utlägg"), "{html}");
    assert!(
        html.contains("10\u{a0}000,00\u{a0}kr"),
        "the ceiling: {html}"
    );

    // 25 hours is out of range: 422, the message in hours (not hundredths) at its field, linked
    // from the summary, and what was entered kept.
    let r = holder.post_form(&wl, &hours("Eva Lind", "25")).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"error-summary\""), "{html}");
    assert!(html.contains("href=\"#f-hours\""), "{html}");
    assert!(html.contains("mellan 0,01 och 24"), "{html}");
    assert!(!html.contains("hundradelar"), "{html}");
    assert!(html.contains("value=\"Eva Lind\""), "{html}");
    assert!(
        html.contains("id=\"f-hours\" name=\"hours\" value=\"25\""),
        "{html}"
    );

    // 5 h (4 750 kr), then 4 h (8 550 kr in all, 85 % of the ceiling): the page warns.
    let r = holder.post_form(&wl, &hours("Eva Lind", "5")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), wl);
    let r = holder.post_form(&wl, &hours("Eva Lind", "4,0")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = holder.html(&wl).await;
    assert!(html.contains("id=\"ceiling-warning\""), "{html}");
    assert!(html.contains("minst 80 % av kostnadstaket"), "{html}");
    assert!(html.contains("4\u{a0}750,00\u{a0}kr"), "{html}");
    // The holder logged both lines: no Approve button for them.
    assert!(!html.contains("/approve\""), "{html}");
    assert!(html.contains("Du loggade raden"), "{html}");

    // 2 h more passes the ceiling: refused at the reason field; logged with a reason.
    let r = holder.post_form(&wl, &hours("Olof Statistiker", "2")).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("href=\"#f-ceiling_reason\""), "{html}");
    assert!(html.contains("över kostnadstaket"), "{html}");
    assert!(html.contains("value=\"Olof Statistiker\""), "{html}");
    let mut past = hours("Olof Statistiker", "2");
    past.push(("ceiling_reason", "Utökat uttag enligt mejl"));
    let r = holder.post_form(&wl, &past).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(holder
        .html(&wl)
        .await
        .contains("Över taket: Utökat uttag enligt mejl"));

    // Finance approves a line (each line has its button; nobody approves their own).
    let finance = Browser::signed_in(&app, "finance").await;
    let html = finance.html(&wl).await;
    assert!(
        html.contains("Godkänn raden för Eva Lind den 1 september 2026"),
        "{html}"
    );
    assert!(
        !html.contains("Skapa fakturautkast"),
        "nothing approved yet: {html}"
    );
    assert!(html.contains(&format!(
        "/collaborations/{id}/work-log/{}/approve",
        first_approve(&html, &id)
    )));
    // The 5 h line (4 750 kr), by its id from the API's work log.
    let log = ok(app
        .get(
            &format!("/api/v1/collaborations/{id}/work-log"),
            &app.token("finance").await,
        )
        .await)
    .await;
    let line = log["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["amount_ore"] == 475_000)
        .expect("the 5 h line")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = finance
        .post_form(&format!("{wl}/{line}/approve"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Twice is refused in words on the page.
    let r = finance
        .post_form(&format!("{wl}/{line}/approve"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("raden är redan godkänd"));

    // A draft without the buyer's reference or order number: at the field, the rest kept.
    let draft = format!("/collaborations/{id}/invoices");
    let html = finance.html(&wl).await;
    assert!(html.contains("Skapa fakturautkast"), "{html}");
    let r = finance.post_form(&draft, &ADDRESSES).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("href=\"#f-buyer_reference\""), "{html}");
    assert!(
        html.contains("köparens referens eller ett ordernummer"),
        "{html}"
    );
    assert!(html.contains("value=\"Industrigatan 4\""), "{html}");
    let mut fields = ADDRESSES.to_vec();
    fields.push(("buyer_reference", "Åsa Öberg"));
    let r = finance.post_form(&draft, &fields).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);
    let invoice = location(&r);
    assert!(invoice.starts_with("/invoices/"), "{invoice}");
    let invoice_id = invoice.trim_start_matches("/invoices/").to_string();

    // The draft: no number, an Issue button; listed under drafts.
    let html = finance.html(&invoice).await;
    assert!(html.contains("Fakturautkast"), "{html}");
    assert!(html.contains("Utfärda fakturan"), "{html}");
    assert!(!html.contains(".pdf"), "a draft has no files: {html}");
    assert!(finance
        .html("/invoices?status=draft")
        .await
        .contains(&invoice));
    let r = finance.post_form(&format!("{invoice}/issue"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), invoice);

    // Issued: number, OCR, dates, the VAT category, lines and totals in Swedish; the downloads.
    let api = app.token("finance").await;
    let v = ok(app
        .get(&format!("/api/v1/invoices/{invoice_id}"), &api)
        .await)
    .await;
    let number = v["number"].as_str().unwrap().to_string();
    let ocr = v["ocr"].as_str().unwrap().to_string();
    let html = finance.html(&invoice).await;
    assert!(html.contains(&format!("Faktura {number}")), "{html}");
    assert!(html.contains(&ocr), "{html}");
    assert!(html.contains("1 september 2026"), "{html}");
    assert!(html.contains("1 oktober 2026"), "due in 30 days: {html}");
    assert!(html.contains("S – Svensk moms 25 %"), "{html}");
    assert!(html.contains("Datauttag och avidentifiering"), "{html}");
    assert!(html.contains("4\u{a0}750,00\u{a0}kr"), "{html}");
    assert!(html.contains("1\u{a0}187,50\u{a0}kr"), "VAT: {html}");
    assert!(html.contains("5\u{a0}937,50\u{a0}kr"), "{html}");
    assert!(!html.contains("Utfärda fakturan"), "{html}");
    let pdf = format!("/api/v1/invoices/{invoice_id}.pdf?lang=sv");
    // Handlebars writes `=` in an attribute as `&#x3D;`.
    assert!(
        html.contains(&format!("href=\"{}\"", pdf.replace('=', "&#x3D;"))),
        "{html}"
    );
    let r = finance.get(&pdf).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.bytes().await.unwrap().starts_with(b"%PDF"));
    let r = finance
        .get(&format!("/api/v1/invoices/{invoice_id}.xml"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(String::from_utf8_lossy(&r.bytes().await.unwrap()).contains(&number));
    let list = finance.html("/invoices?status=issued").await;
    assert!(list.contains(&number), "{list}");
    assert!(!finance
        .html("/invoices?status=draft")
        .await
        .contains(&invoice));
    let (s, _) = finance.page("/invoices?status=betald").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

    // A partial credit note: a wrong amount at its field with the reason kept, then 1 000 kr.
    let credit = format!("{invoice}/credit-notes");
    let r = finance
        .post_form(
            &credit,
            &[
                ("reason", "Debiterades två gånger"),
                ("scope", "amount"),
                ("amount", "99 999"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("href=\"#f-amount\""), "{html}");
    assert!(html.contains("högst det som återstår"), "{html}");
    assert!(html.contains("Debiterades två gånger</textarea>"), "{html}");
    let r = finance
        .post_form(
            &credit,
            &[
                ("reason", "Debiterades två gånger"),
                ("scope", "amount"),
                ("amount", "1 000"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let note = location(&r);
    assert_ne!(note, invoice);
    let html = finance.html(&note).await;
    assert!(html.contains("Kreditfaktura"), "{html}");
    assert!(
        html.contains("-1\u{a0}250,00\u{a0}kr"),
        "1 000 kr and its VAT: {html}"
    );
    assert!(html.contains(&format!("href=\"{invoice}\"")), "{html}");
    let html = finance.html(&invoice).await;
    assert!(html.contains(&format!("href=\"{note}\"")), "{html}");
    assert!(
        html.contains("Kvar att kreditera: 3\u{a0}750,00\u{a0}kr"),
        "{html}"
    );

    // In English.
    finance.get("/language/en?next=%2Finvoices").await;
    let html = finance.html(&invoice).await;
    assert!(html.contains("<html lang=\"en\">"));
    assert!(html.contains(&format!("Invoice {number}")), "{html}");
    assert!(html.contains("SEK\u{a0}5,937.50"), "{html}");
    assert!(html.contains("1 September 2026"), "{html}");
    assert!(html.contains("Swedish VAT 25 %"), "{html}");
}

#[tokio::test]
async fn another_cpuas_invoice_is_404_and_pages_offer_only_what_the_server_takes() {
    let app = TestApp::spawn().await;
    let id = case(&app).await;
    let holder = app.token("register-holder").await;
    let finance = app.token("finance").await;
    let l = app
        .post(
            &format!("/api/v1/collaborations/{id}/work-log"),
            &holder,
            &json!({"person_name": "Eva Lind", "worked_on": "2026-09-01", "activity": "Uttag",
                    "kind": "hours", "hours_hundredths": 150}),
        )
        .await;
    assert_eq!(l.status(), StatusCode::CREATED);
    let l: serde_json::Value = l.json().await.unwrap();
    let line = l["line"]["id"].as_str().unwrap();
    ok(app
        .post(
            &format!("/api/v1/collaborations/{id}/work-log/{line}/approve"),
            &finance,
            &json!({}),
        )
        .await)
    .await;
    let mut body = json!({"collaboration": id, "buyer_reference": "Åsa Öberg"});
    for (k, v) in ADDRESSES {
        body[k] = json!(v);
    }
    let r = app.post("/api/v1/invoices", &finance, &body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: serde_json::Value = r.json().await.unwrap();
    let invoice = format!("/invoices/{}", v["id"].as_str().unwrap());

    // Another CPUA's finance officer: the invoice is not found, nor can it be issued.
    app.add_account("finance-vgr", "finance", "Västra Götalandsregionen")
        .await;
    let vgr = Browser::signed_in(&app, "finance-vgr").await;
    let (s, _) = vgr.page(&invoice).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let r = vgr.post_form(&format!("{invoice}/issue"), &[]).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(!vgr.html("/invoices").await.contains(&invoice));

    // The company: no invoice pages, no work log, no link to it.
    let company = Browser::signed_in(&app, "company").await;
    let (s, _) = company.page("/invoices").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = company
        .page(&format!("/collaborations/{id}/work-log"))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(!company
        .html(&format!("/collaborations/{id}"))
        .await
        .contains("/work-log"));

    // CPUA legal sees the work log but is offered no log form and no Approve button.
    let legal = Browser::signed_in(&app, "legal").await;
    let html = legal.html(&format!("/collaborations/{id}/work-log")).await;
    assert!(html.contains("Eva Lind"), "{html}");
    assert!(!html.contains("Logga raden"), "{html}");
    assert!(!html.contains("/approve\""), "{html}");

    // A case without a cost agreement: the page says so instead of offering the form.
    let (bare, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    ok(app
        .transition(
            &bare,
            &app.token("company").await,
            json!({"to": "register_contact"}),
        )
        .await)
    .await;
    let rh = Browser::signed_in(&app, "register-holder").await;
    let html = rh.html(&format!("/collaborations/{bare}/work-log")).await;
    assert!(
        html.contains("ingen skriftlig kostnadsöverenskommelse"),
        "{html}"
    );
    assert!(!html.contains("Logga raden"), "{html}");
}
