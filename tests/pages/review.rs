//! The agreement review: every version with its files, the clause-by-clause comparison and the
//! deviations from the template.
use reqwest::{header, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{ok, TestApp};
use crate::support::{location, Browser};

/// Two agreement versions whose dispute clauses name different courts.
async fn two_versions(app: &TestApp) -> String {
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    let company = app.token("company").await;
    ok(app
        .action(
            &id,
            &company,
            json!({"action": "record_ethics_approval", "reference": "2026-01234-01", "decided_on": "2026-08-20"}),
        )
        .await)
    .await;
    let mut terms = crate::terms::full_terms(app).await;
    app.draw_agreement(&id, &company, &json!({"terms": terms.clone()}))
        .await;
    terms["disputes"]["venue"] = json!("Stockholms tingsrätt");
    app.draw_agreement(&id, &company, &json!({"terms": terms}))
        .await;
    id
}

/// Whether some `<tag>…</tag>` of the page holds the text.
fn marked(html: &str, tag: &str, text: &str) -> bool {
    html.split(&format!("<{tag}>"))
        .skip(1)
        .filter_map(|s| s.split(&format!("</{tag}>")).next())
        .any(|s| s.contains(text))
}

/// The number of the clause with this code in a rendered agreement (the API's HTML file).
fn clause_number(html: &str, code: &str) -> u32 {
    let at = html
        .find(&format!("data-code=\"{code}\">"))
        .unwrap_or_else(|| panic!("clause {code} in the agreement"));
    let h2 = &html[at..];
    let start = h2.find("<h2>").unwrap() + 4;
    let end = start + h2[start..].find('.').unwrap();
    h2[start..end].parse().unwrap()
}

#[tokio::test]
async fn the_review_lists_every_version_with_its_files_and_shows_the_changed_clause() {
    let app = TestApp::spawn().await;
    let id = two_versions(&app).await;
    let company = Browser::signed_in(&app, "company").await;
    let html = company
        .html(&format!("/collaborations/{id}/agreements"))
        .await;
    assert!(html.contains("<h1>Avtalsversioner</h1>"), "{html}");
    assert!(html.contains("Version 1") && html.contains("Version 2"));
    let api: Value = company
        .get(&format!("/api/v1/collaborations/{id}/agreements"))
        .await
        .json()
        .await
        .unwrap();
    for v in api.as_array().unwrap() {
        assert!(html.contains(v["digest"].as_str().unwrap()), "the digest");
    }
    for (n, ext, kind) in [
        (1, "html", "text/html"),
        (
            2,
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (2, "pdf", "application/pdf"),
    ] {
        let url = format!("/api/v1/collaborations/{id}/agreements/{n}.{ext}");
        assert!(html.contains(&format!("href=\"{url}\"")), "{url} in {html}");
        let r = company.get(&url).await;
        assert_eq!(r.status(), StatusCode::OK, "{url}");
        let ct = r
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert!(ct.starts_with(kind), "{url}: {ct}");
    }
    // The two newest versions are compared: the dispute clause changed, in words and with ins/del.
    assert!(html.contains("Skillnader mellan version 1 och 2"), "{html}");
    assert!(html.contains("(ändrad punkt)"));
    assert!(marked(&html, "ins", "Stockholms tingsrätt"), "{html}");
    assert!(marked(&html, "del", "Uppsala tingsrätt"), "{html}");
    assert!(!marked(&html, "ins", "Uppsala tingsrätt"));
    assert!(html.contains("Tillagd text:") && html.contains("Borttagen text:"));
    // Chosen the other way round, the courts swap sides.
    let html = company
        .html(&format!("/collaborations/{id}/agreements?from=2&to=1"))
        .await;
    assert!(
        marked(&html, "ins", "Uppsala tingsrätt") && marked(&html, "del", "Stockholms tingsrätt")
    );
    let html = company
        .html(&format!("/collaborations/{id}/agreements?from=2&to=2"))
        .await;
    assert!(html.contains("Versionerna har samma text."));
    // No deviations yet, and no form for the company.
    assert!(html.contains("Avtalet följer mallen."));
    assert!(
        !html.contains("/deviations\""),
        "only CPUA legal records deviations"
    );
    // A bad number is the request's fault; an unknown version is not found.
    let (s, _) = company
        .page(&format!("/collaborations/{id}/agreements?from=x&to=2"))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = company
        .page(&format!("/collaborations/{id}/agreements?from=1&to=9"))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // In English.
    company.get("/language/en?next=/").await;
    let html = company
        .html(&format!("/collaborations/{id}/agreements"))
        .await;
    assert!(html.contains("<h1>Agreement versions</h1>") && html.contains("(changed clause)"));
}

#[tokio::test]
async fn another_organisation_gets_not_found() {
    let app = TestApp::spawn().await;
    let id = two_versions(&app).await;
    let other = Browser::signed_in(&app, "company-b").await;
    let (s, html) = other
        .page(&format!("/collaborations/{id}/agreements"))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{html}");
    assert!(!html.contains("Stockholms tingsrätt"));
    let r = other
        .post_form(
            &format!("/collaborations/{id}/agreements/2/deviations"),
            &[("clause", "1"), ("text", "x"), ("reason", "y")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn cpua_legal_records_a_deviation_with_its_reason_and_a_bad_one_keeps_the_values() {
    let app = TestApp::spawn().await;
    let id = two_versions(&app).await;
    let legal = Browser::signed_in(&app, "legal").await;
    let page = format!("/collaborations/{id}/agreements");
    let html = legal.html(&page).await;
    let action = format!("action=\"/collaborations/{id}/agreements/2/deviations\"");
    assert!(html.contains(&action), "{html}");
    assert!(html.contains("<label for=\"f-clause\">"));
    // An unknown clause: 422, the values kept and the message at the field.
    let r = legal
        .post_form(
            &format!("/collaborations/{id}/agreements/2/deviations"),
            &[
                ("clause", "99.1"),
                ("text", "Ny text här"),
                ("reason", "Förhandlat"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"error-summary\""), "{html}");
    assert!(html.contains("href=\"#f-clause\""), "{html}");
    assert!(html.contains("id=\"f-clause-error\""), "{html}");
    assert!(html.contains("value=\"99.1\"") && html.contains(">Ny text här</textarea>"));
    assert!(html.contains(">Förhandlat</textarea>"));
    // A good one: a new version with the deviation and its reason.
    let file = legal
        .get(&format!("/api/v1/collaborations/{id}/agreements/2.html"))
        .await
        .text()
        .await
        .unwrap();
    let n = clause_number(&file, "publication");
    let r = legal
        .post_form(
            &format!("/collaborations/{id}/agreements/2/deviations"),
            &[
                ("clause", &format!("{n}.2")),
                (
                    "text",
                    "Företaget får granska manuskriptet i 45 dagar före inlämning.",
                ),
                ("reason", "Förhandlat med parterna den 1 september 2026."),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), page);
    let api: Value = legal
        .get(&format!("/api/v1/collaborations/{id}/agreements"))
        .await
        .json()
        .await
        .unwrap();
    let versions = api.as_array().unwrap();
    assert_eq!(versions.len(), 3);
    assert_eq!(versions[2]["deviations"], 1);
    let html = legal.html(&page).await;
    assert!(html.contains("Version 3"));
    assert!(html.contains(&format!("{n}.2 ")), "{html}");
    assert!(html.contains("45 dagar före inlämning"));
    assert!(html.contains("Förhandlat med parterna den 1 september 2026."));
    assert!(html.contains("Skillnader mellan version 2 och 3"));
}

#[tokio::test]
async fn once_signed_legal_is_told_why_no_deviation_can_be_recorded() {
    // Seed 001, "6. Avtal upprättas": the agreement step names a signed version; after it the text is
    // settled until an amendment is approved.
    let app = TestApp::spawn().await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    app.walk_to_application(&id, &["Region Uppsala"]).await;
    let legal_token = app.token("legal").await;
    let uppsala = app.org("Region Uppsala").await;
    ok(app
        .transition(&id, &legal_token, crate::helpers::approval(&uppsala))
        .await)
    .await;
    app.sign_agreement(&id).await;
    let legal = Browser::signed_in(&app, "legal").await;
    let html = legal
        .html(&format!("/collaborations/{id}/agreements"))
        .await;
    assert!(html.contains("Version 1"), "{html}");
    assert!(!html.contains("/deviations\""), "no form: {html}");
    assert!(html.contains("Avtalet kan inte ändras nu"), "{html}");
    // Posted anyway, the server refuses and nothing is stored.
    let r = legal
        .post_form(
            &format!("/collaborations/{id}/agreements/1/deviations"),
            &[("clause", "1"), ("text", "x"), ("reason", "y")],
        )
        .await;
    assert!(r.status().is_client_error(), "{}", r.status());
    let api: Value = legal
        .get(&format!("/api/v1/collaborations/{id}/agreements"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(api.as_array().unwrap().len(), 1);
}
