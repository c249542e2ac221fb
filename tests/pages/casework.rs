//! The to-do page (issue 16, item 4): each role's list in Swedish and English, linked in the
//! navigation, read through the same query as `GET /api/v1/me/todo`.
use serde_json::json;

use crate::helpers::{ok, TestApp};
use crate::support::Browser;

#[tokio::test]
async fn the_to_do_page_lists_what_each_role_is_waited_for_in_swedish_and_english() {
    let app = TestApp::spawn().await;
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

    // Every role has the page in its navigation.
    for account in ["company", "register-holder", "legal", "finance", "admin"] {
        let b = Browser::signed_in(&app, account).await;
        let html = b.html("/todo").await;
        assert!(html.contains("<h1>Att göra</h1>"), "{account}: {html}");
        assert!(
            html.contains("href=\"/todo\" aria-current=\"page\""),
            "{account}: in the navigation"
        );
    }
    // The register holder is asked to answer feasibility, with a link to the case.
    let holder = Browser::signed_in(&app, "register-holder").await;
    let html = holder.html("/todo").await;
    assert!(html.contains("Svara om registret kan leverera"), "{html}");
    assert!(
        html.contains(&format!("href=\"/collaborations/{id}\"")),
        "{html}"
    );
    assert!(html.contains(&reference));
    // Nothing waits for the company yet.
    let b = Browser::signed_in(&app, "company").await;
    assert!(b
        .html("/todo")
        .await
        .contains("Inget väntar på dig just nu."));

    // Once applied, legal is asked to decide by the due day; in English too.
    app.answer_feasibility(&id).await;
    ok(app
        .action(
            &id,
            &company,
            json!({"action": "record_ethics_approval", "reference": "2026-01234-01", "decided_on": "2026-08-20"}),
        )
        .await)
    .await;
    let uppsala = app.org("Region Uppsala").await;
    ok(app
        .transition(
            &id,
            &company,
            json!({"to": "data_application", "cpua": uppsala, "dossier": crate::helpers::dossier()}),
        )
        .await)
    .await;
    let legal = Browser::signed_in(&app, "legal").await;
    let html = legal.html("/todo").await;
    assert!(html.contains("Besluta om utlämnande"), "{html}");
    assert!(html.contains("2026-10-01"), "{html}");
    legal.get("/language/en").await;
    let html = legal.html("/todo").await;
    assert!(html.contains("<h1>To do</h1>"), "{html}");
    assert!(html.contains("Decide on the release"), "{html}");
}
