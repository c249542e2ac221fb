//! The billing pages, part 2 (issue 15, items 2-4): a receipt attached to an expense line from the
//! work log (its link shown, a wrong file refused at the line's field), a draft edited from its page
//! (a stale form answers 409 in words, refusals at their fields), and a credit note of chosen lines,
//! one in part, from the issued invoice's page. Through the same commands as the API.
use reqwest::{header, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{ok, TestApp};
use crate::support::{location, Browser};

/// A case on EX-HJARTA (CPUA Region Uppsala) in register contact with a cost agreement of
/// 10 000 kr at 950 kr an hour, and approved lines: 3 h by Eva Lind, an expense of 125 kr for
/// "Porto" (both logged by the holder, approved by finance). Returns the case and the lines.
async fn case(app: &TestApp) -> (String, String, String) {
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    let company = app.token("company").await;
    ok(app
        .transition(&id, &company, json!({"to": "register_contact"}))
        .await)
    .await;
    let finance = app.token("finance").await;
    let holder = app.token("register-holder").await;
    ok(app
        .action(
            &id,
            &finance,
            json!({"action": "record_cost_agreement", "reference": "KOST-2026-17", "signed_on": "2026-08-28",
                   "estimate_ore": 1_000_000, "hourly_rate_ore": 95_000}),
        )
        .await)
    .await;
    let mut lines = Vec::new();
    for body in [
        json!({"person_name": "Eva Lind", "worked_on": "2026-09-01", "activity": "Datauttag",
               "kind": "hours", "hours_hundredths": 300}),
        json!({"person_name": "Eva Lind", "worked_on": "2026-09-01", "activity": "Porto",
               "kind": "expense", "amount_ore": 12_500}),
    ] {
        let v: Value = ok(app
            .post(
                &format!("/api/v1/collaborations/{id}/work-log"),
                &holder,
                &body,
            )
            .await)
        .await;
        let line = v["line"]["id"].as_str().unwrap().to_string();
        ok(app
            .post(
                &format!("/api/v1/collaborations/{id}/work-log/{line}/approve"),
                &finance,
                &json!({}),
            )
            .await)
        .await;
        lines.push(line);
    }
    (id, lines[0].clone(), lines[1].clone())
}

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

/// Posts a receipt form as a browser does: the CSRF token first, then the file.
async fn post_receipt(b: &Browser, path: &str, file: (&str, &[u8])) -> reqwest::Response {
    b.post_file(path, file.0, "application/pdf", file.1).await
}

#[tokio::test]
async fn a_receipt_is_attached_from_the_work_log_and_a_wrong_file_is_refused_at_its_line() {
    let app = TestApp::spawn().await;
    let (id, _, porto) = case(&app).await;
    let wl = format!("/collaborations/{id}/work-log");
    let holder = Browser::signed_in(&app, "register-holder").await;
    let html = holder.html(&wl).await;
    assert!(html.contains("Kvitton på utlägg"), "{html}");
    assert!(html.contains("godkänd utan kvitto"), "{html}");
    let action = format!("/collaborations/{id}/work-log/{porto}/receipt");
    assert!(html.contains(&format!("action=\"{action}\"")), "{html}");
    assert!(html.contains("enctype=\"multipart/form-data\""), "{html}");
    assert!(html.contains("Kvitto för Porto, Eva Lind"), "{html}");

    // Not a PDF or an image: 422, said at the line's field and linked from the summary.
    let r = post_receipt(&holder, &action, ("kvitto.pdf", b"<html>nej</html>")).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    let anchor = format!("f-receipt-{porto}");
    assert!(html.contains(&format!("href=\"#{anchor}\"")), "{html}");
    assert!(html.contains(&format!("id=\"{anchor}-error\"")), "{html}");
    assert!(html.contains("PDF eller en bild"), "{html}");

    // The PDF: back to the work log, which links the receipt.
    let r = post_receipt(&holder, &action, ("kvitto.pdf", PDF)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), format!("{wl}#h-receipts"));
    let html = holder.html(&wl).await;
    let href = format!("/api/v1/collaborations/{id}/work-log/{porto}/receipt");
    assert!(html.contains(&format!("href=\"{href}\"")), "{html}");
    assert!(html.contains("Hämta kvittot (kvitto.pdf)"), "{html}");
    assert!(!html.contains(&format!("action=\"{action}\"")), "{html}");
    let r = holder.get(&href).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.unwrap().as_ref(), PDF);

    // A second receipt for the line: 409, said at the line.
    let r = post_receipt(&holder, &action, ("igen.pdf", PDF)).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let html = r.text().await.unwrap();
    assert!(html.contains("redan ett kvitto"), "{html}");

    // In English.
    holder.get(&format!("/language/en?next={wl}")).await;
    let html = holder.html(&wl).await;
    assert!(html.contains("Receipts of expenses"), "{html}");
    assert!(html.contains("Download the receipt (kvitto.pdf)"), "{html}");
}

/// The hidden revision of the draft's edit form.
fn revision(html: &str) -> String {
    let marker = "name=\"revision:int\" value=\"";
    let at = html.find(marker).expect("the edit form's revision") + marker.len();
    html[at..].split('"').next().unwrap().to_string()
}

#[tokio::test]
async fn a_draft_is_edited_on_its_page_and_an_issued_invoice_is_credited_by_chosen_lines() {
    let app = TestApp::spawn().await;
    let (id, hours, porto) = case(&app).await;
    let finance = Browser::signed_in(&app, "finance").await;
    let mut draft: Vec<(&str, &str)> = vec![
        ("buyer_reference", "Åsa Öberg"),
        ("buyer_street", "Industrigatan 4"),
        ("buyer_postal_code", "112 46"),
        ("buyer_city", "Stockholm"),
        ("seller_street", "Dag Hammarskjölds väg 38"),
        ("seller_postal_code", "751 85"),
        ("seller_city", "Uppsala"),
    ];
    draft.push(("bankgiro", "5050-1055"));
    let r = finance
        .post_form(&format!("/collaborations/{id}/invoices"), &draft)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = location(&r);
    let html = finance.html(&page).await;
    assert!(html.contains("Ändra utkastet"), "{html}");
    assert_eq!(revision(&html), "0");
    // Both lines are on the draft, ticked.
    assert!(
        html.contains(&format!(
            "id=\"f-lines-{hours}\" name=\"lines[]\" value=\"{hours}\" checked"
        )),
        "{html}"
    );
    let edit = format!("{page}/edit");

    // No reference and no order number, no line: 422 at the fields, what was entered kept.
    let r = finance
        .post_form(
            &edit,
            &[
                ("_form", "edit"),
                ("revision:int", "0"),
                ("payment_terms_days:int", "20"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("href=\"#f-buyer_reference\""), "{html}");
    assert!(html.contains("value=\"20\""), "{html}");
    let r = finance
        .post_form(
            &edit,
            &[
                ("_form", "edit"),
                ("revision:int", "0"),
                ("order_number", "PO-7781"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("href=\"#f-lines\""), "{html}");

    // Take the expense off, an order number instead of the reference, 20 days.
    let r = finance
        .post_form(
            &edit,
            &[
                ("_form", "edit"),
                ("revision:int", "0"),
                ("order_number", "PO-7781"),
                ("payment_terms_days:int", "20"),
                ("lines[]", hours.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = finance.html(&page).await;
    assert_eq!(revision(&html), "1");
    assert!(html.contains("PO-7781"), "{html}");
    assert!(html.contains("20 dagar"), "{html}");
    assert!(
        html.contains(&format!(
            "id=\"f-lines-{porto}\" name=\"lines[]\" value=\"{porto}\">"
        )),
        "the expense is offered, not ticked: {html}"
    );

    // The same form again: someone else changed it meanwhile. 409, in words, nothing saved.
    let stale = [
        ("_form", "edit"),
        ("revision:int", "0"),
        ("buyer_reference", "Ny"),
        ("lines[]", porto.as_str()),
    ];
    let r = finance.post_form(&edit, &stale).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Någon annan har ändrat utkastet sedan du öppnade sidan"),
        "{html}"
    );
    assert_eq!(revision(&html), "1", "the page shows the draft as it is");
    let english = Browser::signed_in(&app, "finance").await;
    english.get(&format!("/language/en?next={page}")).await;
    let r = english.post_form(&edit, &stale).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Someone else changed the draft after you opened the page"),
        "{html}"
    );

    // Issued: no edit form any more; the credit form offers the lines.
    let r = finance.post_form(&format!("{page}/issue"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = finance.html(&page).await;
    assert!(!html.contains("Ändra utkastet"), "{html}");
    assert!(html.contains("Valda rader"), "{html}");
    assert!(
        html.contains("name=\"credit_lines[]\" value=\"1\""),
        "{html}"
    );
    let credit = format!("{page}/credit-notes");

    // Chosen lines, none ticked; then more than the line holds: each at its field.
    let r = finance
        .post_form(&credit, &[("reason", "Fel"), ("scope", "lines")])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("href=\"#f-credit_lines\""), "{html}");
    let r = finance
        .post_form(
            &credit,
            &[
                ("reason", "Fel"),
                ("scope", "lines"),
                ("credit_lines[]", "1"),
                ("quantity_1", "3,5"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("href=\"#f-quantity_1\""), "{html}");
    assert!(html.contains("högst radens mängd"), "{html}");
    assert!(html.contains("value=\"3,5\""), "{html}");

    // 1,25 h of line 1: a credit note of 1 187,50 kr net.
    let r = finance
        .post_form(
            &credit,
            &[
                ("reason", "För mycket debiterat"),
                ("scope", "lines"),
                ("credit_lines[]", "1"),
                ("quantity_1", "1,25"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = finance.html(&location(&r)).await;
    assert!(html.contains("-1\u{a0}187,50\u{a0}kr"), "{html}");
    assert!(html.contains("-1,25"), "{html}");
}

#[tokio::test]
async fn the_export_period_is_refused_at_its_fields_in_swedish_and_english() {
    let app = TestApp::spawn().await;
    let finance = Browser::signed_in(&app, "finance").await;
    let page = "/exports/invoices";

    // Both days missing: each said at its field, linked from the summary.
    let (s, html) = finance.page(&format!("{page}?from=&to=&lang=sv")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("href=\"#f-from\""), "{html}");
    assert!(html.contains("href=\"#f-to\""), "{html}");
    assert!(html.contains("Ange första dagen i perioden."), "{html}");
    assert!(html.contains("Ange sista dagen i perioden."), "{html}");
    // The last day before the first, kept as entered.
    let (s, html) = finance
        .page(&format!("{page}?from=2026-09-30&to=2026-09-01&lang=sv"))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"f-to-error\""), "{html}");
    assert!(
        html.contains("Sista dagen kan inte vara före första dagen."),
        "{html}"
    );
    assert!(html.contains("value=\"2026-09-30\""), "{html}");
    // Longer than the export allows; not a date.
    let (_, html) = finance
        .page(&format!("{page}?from=2025-01-01&to=2026-09-01"))
        .await;
    assert!(html.contains("högst 366 dagar"), "{html}");
    let (_, html) = finance
        .page(&format!("{page}?from=1%2F9&to=2026-09-01"))
        .await;
    assert!(html.contains("id=\"f-from-error\""), "{html}");
    assert!(html.contains("ÅÅÅÅ-MM-DD"), "{html}");

    // The list page's form goes to the API's CSV; a browser sent there with a bad period is
    // brought to this form, an API client gets the problem.
    let r = finance
        .client
        .get(format!(
            "{}/api/v1/exports/invoices.csv?lang=sv&from=2026-09-30&to=2026-09-01",
            finance.base
        ))
        .header(header::ACCEPT, "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&r),
        "/exports/invoices?lang=sv&from=2026-09-30&to=2026-09-01"
    );
    let token = app.token("finance").await;
    let r = app
        .get(
            "/api/v1/exports/invoices.csv?from=2026-09-30&to=2026-09-01",
            &token,
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // A good period goes on to the CSV.
    let r = finance
        .get(&format!("{page}?from=2026-09-01&to=2026-09-30&lang=sv"))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&r),
        "/api/v1/exports/invoices.csv?from=2026-09-01&to=2026-09-30&lang=sv"
    );

    // In English.
    finance.get("/language/en?next=%2Finvoices").await;
    let (s, html) = finance.page(&format!("{page}?from=&to=2026-09-01")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("Enter the first day of the period."),
        "{html}"
    );
}
