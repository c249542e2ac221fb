//! The finance page: the cases of the finance officer's CPUA with a written cost agreement, with
//! the amounts in the language; another CPUA's finance staff do not see them.
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{ok, TestApp};
use crate::support::Browser;

/// A case on a register of Region Uppsala with a cost agreement recorded through the API by its
/// finance officer: (id, reference).
async fn case_with_cost_agreement(app: &TestApp) -> (String, String) {
    let (id, v) = app.research_collaboration(&["EX-HJARTA"]).await;
    let reference = v["collaboration"]["reference"]
        .as_str()
        .unwrap()
        .to_string();
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
            json!({"action": "record_cost_agreement", "reference": "KOST-42", "signed_on": "2026-08-28",
                   "estimate_ore": 1_250_000, "hourly_rate_ore": 95_000}),
        )
        .await)
    .await;
    (id, reference)
}

#[tokio::test]
async fn a_case_with_a_cost_agreement_shows_what_was_agreed_in_swedish_and_english() {
    let app = TestApp::spawn().await;
    let (id, reference) = case_with_cost_agreement(&app).await;
    // A case without one is not listed.
    let (other, other_v) = app.research_collaboration(&["EX-HJARTA"]).await;
    let other_ref = other_v["collaboration"]["reference"].as_str().unwrap();
    assert_ne!(other, id);

    let b = Browser::signed_in(&app, "finance").await;
    let html = b.html("/finance").await;
    assert!(
        html.contains("href=\"/finance\" aria-current=\"page\""),
        "{html}"
    );
    assert!(html.contains(&reference), "{html}");
    assert!(!html.contains(other_ref), "{html}");
    assert!(html.contains("12\u{a0}500,00\u{a0}kr"), "{html}");
    assert!(html.contains("950,00\u{a0}kr per timme"), "{html}");
    assert!(html.contains("Exempel Läkemedel AB"), "who pays: {html}");
    assert!(html.contains("28 augusti 2026"));
    assert!(html.contains("KOST-42"));
    assert!(html.contains("href=\"/invoices\""), "{html}");

    let html = b.html(&format!("/finance/{id}")).await;
    assert!(html.contains("12\u{a0}500,00\u{a0}kr"), "{html}");
    assert!(html.contains("Registerhållarnas kostnadsuppskattningar"));

    b.get("/language/en?next=%2Ffinance").await;
    let html = b.html("/finance").await;
    assert!(html.contains("<html lang=\"en\">"));
    assert!(html.contains("SEK\u{a0}12,500.00"), "{html}");
    assert!(html.contains("SEK\u{a0}950.00 per hour"), "{html}");
    assert!(html.contains("28 August 2026"));
    assert!(
        html.contains("Drafts and issued invoices are under"),
        "{html}"
    );
}

#[tokio::test]
async fn finance_of_another_cpua_does_not_see_it_and_others_are_refused() {
    let app = TestApp::spawn().await;
    let (id, reference) = case_with_cost_agreement(&app).await;
    app.add_account("finance-vgr", "finance", "Västra Götalandsregionen")
        .await;
    let vgr = Browser::signed_in(&app, "finance-vgr").await;
    let html = vgr.html("/finance").await;
    assert!(!html.contains(&reference), "{html}");
    assert!(!html.contains("12\u{a0}500,00"));
    assert!(html.contains("Det finns ännu inga samverkansprojekt med en kostnadsöverenskommelse"));
    let (s, _) = vgr.page(&format!("/finance/{id}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let company = Browser::signed_in(&app, "company").await;
    let (s, _) = company.page("/finance").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(!company
        .html("/collaborations")
        .await
        .contains("href=\"/finance\""));
}
