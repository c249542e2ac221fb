//! Editing a draft invoice (issue 15, item 3: "a draft (no number), then issue"): until it is
//! issued, finance changes the buyer's reference or order number (one is required), the terms and
//! which approved lines it holds, under optimistic concurrency (a stale revision is refused with
//! 409 and nothing written), audited; an issued invoice never changes. And a credit note of chosen
//! lines, one of them in part (issue 15, item 4).
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::billing_receipts::{case_with_cost_agreement, expense, hours, log};
use crate::helpers::{ok, problem, TestApp};

fn addresses(id: &str) -> Value {
    json!({"collaboration": id, "buyer_reference": "Åsa Öberg",
           "buyer_street": "Industrigatan 4", "buyer_postal_code": "112 46", "buyer_city": "Stockholm",
           "seller_street": "Dag Hammarskjölds väg 38", "seller_postal_code": "751 85",
           "seller_city": "Uppsala", "bankgiro": "5050-1055"})
}

async fn approved(app: &TestApp, id: &str, body: Value) -> String {
    let holder = app.token("register-holder").await;
    let finance = app.token("finance").await;
    let l = log(app, id, &holder, body).await;
    let line = l["id"].as_str().unwrap().to_string();
    ok(app
        .post(
            &format!("/api/v1/collaborations/{id}/work-log/{line}/approve"),
            &finance,
            &json!({}),
        )
        .await)
    .await;
    line
}

/// The work-log lines on an invoice, sorted (lines logged at the same moment are in id order).
fn line_ids(v: &Value) -> Vec<String> {
    let mut ids: Vec<String> = v["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["work_log_line"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

async fn in_lang(app: &TestApp, path: &str, token: &str, body: &Value, lang: &str) -> Value {
    let r = app
        .client
        .patch(format!("{}{path}", app.base))
        .bearer_auth(token)
        .header("accept-language", lang)
        .json(body)
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::CONFLICT).await
}

#[tokio::test]
async fn a_draft_is_edited_until_it_is_issued_and_a_stale_edit_changes_nothing() {
    let app = TestApp::spawn().await;
    let id = case_with_cost_agreement(&app).await;
    let finance = app.token("finance").await;
    let holder = app.token("register-holder").await;
    let a = approved(&app, &id, hours(300)).await; // 2 850 kr
    let b = approved(&app, &id, hours(100)).await; // 950 kr
    let c = approved(&app, &id, expense("Porto", 12_500)).await; // 125 kr

    let draft = ok(app
        .post("/api/v1/invoices", &finance, &addresses(&id))
        .await)
    .await;
    let inv = draft["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/invoices/{inv}");
    assert_eq!(draft["revision"], 0);
    assert_eq!(
        line_ids(&draft),
        sorted(vec![a.clone(), b.clone(), c.clone()])
    );

    // Finance takes line b off, changes the reference to an order number and the terms.
    let v = ok(app
        .patch(
            &path,
            &finance,
            &json!({"revision": 0, "order_number": "PO-7781", "payment_terms_days": 20,
                    "lines": [c, a]}),
        )
        .await)
    .await;
    assert_eq!(v["revision"], 1, "{v}");
    assert_eq!(v["buyer_reference"], Value::Null);
    assert_eq!(v["order_number"], "PO-7781");
    assert_eq!(v["payment_terms_days"], 20);
    // Numbered again 1, 2; the totals follow (25 % VAT for a Swedish buyer).
    assert_eq!(line_ids(&v), sorted(vec![a.clone(), c.clone()]));
    assert_eq!(v["lines"][1]["number"], 2);
    assert_eq!(v["net_ore"], 285_000 + 12_500);
    assert_eq!(v["vat_ore"], (285_000 + 12_500) / 4);
    // Line b is free again; the work log says so.
    let wl = ok(app
        .get(&format!("/api/v1/collaborations/{id}/work-log"), &finance)
        .await)
    .await;
    let on = |line: &str| {
        wl["lines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["id"] == line)
            .unwrap()["invoice_id"]
            .clone()
    };
    assert_eq!(on(&b), Value::Null);
    assert_eq!(on(&a), inv.as_str());

    // The same form again (revision 0) is stale: 409 in the request's language, nothing written.
    let stale = json!({"revision": 0, "buyer_reference": "Någon", "lines": [a, b, c]});
    let p = in_lang(&app, &path, &finance, &stale, "sv").await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("någon annan har ändrat"),
        "{p}"
    );
    let p = in_lang(&app, &path, &finance, &stale, "en").await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("someone else changed"),
        "{p}"
    );
    let now = ok(app.get(&path, &finance).await).await;
    assert_eq!(now["revision"], 1);
    assert_eq!(now["order_number"], "PO-7781");
    assert_eq!(line_ids(&now), sorted(vec![a.clone(), c.clone()]));

    // Bad edits: each at its field, nothing written.
    for (body, field) in [
        (json!({"revision": 1, "lines": [a]}), "buyer_reference"),
        (
            json!({"revision": 1, "buyer_reference": "x", "payment_terms_days": 0, "lines": [a]}),
            "payment_terms_days",
        ),
        (
            json!({"revision": 1, "buyer_reference": "x", "lines": []}),
            "lines",
        ),
        (
            json!({"revision": 1, "buyer_reference": "x", "lines": ["no-such-line"]}),
            "lines",
        ),
    ] {
        let p = problem(
            app.patch(&path, &finance, &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(p["errors"][0]["field"], field, "{body}: {p}");
    }
    // Only finance edits; the company sees the draft but does not edit it.
    let r = app
        .patch(
            &path,
            &holder,
            &json!({"revision": 1, "buyer_reference": "x", "lines": [a]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // A second draft takes line b; the first cannot take it back while it is there.
    let second = ok(app
        .post("/api/v1/invoices", &finance, &addresses(&id))
        .await)
    .await;
    assert_eq!(line_ids(&second), vec![b.clone()]);
    let p = problem(
        app.patch(
            &path,
            &finance,
            &json!({"revision": 1, "order_number": "PO-7781", "lines": [a, b, c]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "lines", "{p}");

    // Issued with the edited terms; then it never changes (409).
    let issued = ok(app
        .post(&format!("{path}/issue"), &finance, &json!({}))
        .await)
    .await;
    let issue_date =
        chrono::NaiveDate::parse_from_str(issued["issue_date"].as_str().unwrap(), "%Y-%m-%d")
            .unwrap();
    assert_eq!(
        issued["due_date"],
        (issue_date + chrono::Days::new(20)).to_string()
    );
    assert_eq!(issued["order_number"], "PO-7781");
    let p = problem(
        app.patch(
            &path,
            &finance,
            &json!({"revision": 1, "order_number": "PO-1", "lines": [a]}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("utkast"), "{p}");

    // A credit note of chosen lines, the hours line in part: 1.25 h of 3 h at 950 kr.
    let number_of = |line: &str| {
        issued["lines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["work_log_line"] == line)
            .unwrap()["number"]
            .as_u64()
            .unwrap()
    };
    let (na, nc) = (number_of(&a), number_of(&c));
    let cn = ok(app
        .post(
            &format!("{path}/credit-notes"),
            &finance,
            &json!({"reason": "För mycket debiterat", "lines": [nc],
                    "quantities": [{"line": na, "quantity_hundredths": 125}]}),
        )
        .await)
    .await;
    assert_eq!(cn["kind"], "credit_note");
    assert_eq!(cn["net_ore"], -(118_750 + 12_500), "{cn}");
    assert_eq!(cn["lines"][0]["quantity_hundredths"], -100, "{cn}");
    assert_eq!(cn["lines"][1]["quantity_hundredths"], -125, "{cn}");
    // More than a line holds: refused at that line's quantity.
    let p = problem(
        app.post(
            &format!("{path}/credit-notes"),
            &finance,
            &json!({"reason": "x", "quantities": [{"line": na, "quantity_hundredths": 301}]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], format!("quantities.{na}"), "{p}");

    // The edit is on the case's audit trail, with before and after.
    let events = ok(app
        .get(&format!("/api/v1/collaborations/{id}/events"), &finance)
        .await)
    .await;
    let text = events.to_string();
    assert!(text.contains("invoice_draft_edited"), "{text}");
}
