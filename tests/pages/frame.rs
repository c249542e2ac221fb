//! The frame every page shares: sign-in with the demo accounts, the way back to the sign-in page,
//! the language switch, the role choice, sign-out, the security headers and the error pages.
use reqwest::{header, StatusCode};

use crate::helpers::TestApp;
use crate::support::{location, Browser};

#[tokio::test]
async fn a_page_without_a_session_leads_to_the_sign_in_page_and_back() {
    let app = TestApp::spawn().await;
    let b = Browser::new(&app);
    let r = b.get("/collaborations?step=agreement").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&r),
        "/sign-in?next=%2Fcollaborations%3Fstep%3Dagreement"
    );
    let html = b.html("/sign-in?next=%2Fcollaborations").await;
    assert!(html.contains("<html lang=\"sv\">"), "{html}");
    assert!(html.contains("Logga in"));
    // The demo accounts, each with its role and organisation.
    assert!(html.contains("Karin Företagsson"));
    assert!(html.contains("Företagsrepresentant"));
    assert!(html.contains("Lars Jurist"));
    assert!(html.contains("CPUA:s juridiska funktion"));
    assert!(html.contains("name=\"next\" value=\"/collaborations\""));
    // The API still answers 401 problem+json, never a redirect.
    let r = b.get("/api/v1/collaborations").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn signing_in_starts_a_cookie_session_that_the_pages_and_the_api_accept() {
    let app = TestApp::spawn().await;
    let b = Browser::new(&app);
    let r = b
        .post_form(
            "/sign-in",
            &[("account", "company"), ("next", "/collaborations")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/collaborations");
    let cookie = r
        .headers()
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(cookie.starts_with("samverkan=svc_"), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    let html = b.html("/collaborations").await;
    assert!(html.contains("Karin Företagsson"));
    assert!(html.contains("Det finns inga samverkansprojekt ännu."));
    assert!(html.contains("href=\"/intake\""), "a company may start one");
    let me: serde_json::Value = b.get("/api/v1/me").await.json().await.unwrap();
    assert_eq!(me["role"], "company_representative");
    // Signed in, the sign-in page sends them on.
    let r = b.get("/sign-in?next=%2Frole").await;
    assert_eq!(location(&r), "/role");
}

#[tokio::test]
async fn an_unknown_account_or_a_foreign_origin_is_refused_on_the_sign_in_page() {
    let app = TestApp::spawn().await;
    let b = Browser::new(&app);
    let r = b.post_form("/sign-in", &[("account", "nobody")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"error-summary\""), "{html}");
    assert!(html.contains("kontot finns inte"), "{html}");
    assert!(!html.contains("/api/v1"), "no API talk on a page: {html}");
    let r = b
        .client
        .post(format!("{}/sign-in", app.base))
        .header(header::ORIGIN, "http://evil.example")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("account=company")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("text/html")));
    // A `next` to another site is not followed.
    let r = b
        .post_form(
            "/sign-in",
            &[("account", "company"), ("next", "//evil.example/")],
        )
        .await;
    assert_eq!(location(&r), "/collaborations");
}

#[tokio::test]
async fn the_language_switch_is_remembered_and_every_text_follows_it() {
    let app = TestApp::spawn().await;
    let b = Browser::signed_in(&app, "legal").await;
    let sv = b.html("/collaborations").await;
    assert!(sv.contains("Samverkansprojekt"));
    // The switch comes back to the very address, query and all (`=` is escaped as HTML does).
    let filtered = b.html("/collaborations?step=agreement&overdue=true").await;
    assert!(
        filtered.contains(
            "href=\"/language/en?next&#x3D;%2Fcollaborations%3Fstep%3Dagreement%26overdue%3Dtrue\""
        ),
        "{filtered}"
    );
    let r = b.get("/language/en?next=%2Fcollaborations").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/collaborations");
    let en = b.html("/collaborations").await;
    assert!(en.contains("<html lang=\"en\">"));
    assert!(en.contains("Collaborations"));
    assert!(en.contains("CPUA legal team"));
    assert!(en.contains("Sign out"));
    assert!(!en.contains("Logga ut"));
    let (s, _) = b.page("/language/fi").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn pages_carry_a_csp_without_unsafe_inline_and_send_their_origin() {
    let app = TestApp::spawn().await;
    let b = Browser::signed_in(&app, "company").await;
    let r = b.get("/collaborations").await;
    let h = r.headers();
    let csp = h
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(csp.contains("style-src 'self'"), "{csp}");
    assert!(csp.contains("form-action 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(
        h.get(header::REFERRER_POLICY).and_then(|v| v.to_str().ok()),
        Some("same-origin")
    );
    assert_eq!(
        h.get(header::CACHE_CONTROL).and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let css = b.get("/assets/app.css").await;
    assert_eq!(css.status(), StatusCode::OK);
    assert!(css
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("text/css")));
    assert_eq!(
        b.get("/assets/nothing.js").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_form_without_the_csrf_token_is_refused_and_sign_out_ends_the_session() {
    let app = TestApp::spawn().await;
    let b = Browser::signed_in(&app, "company").await;
    let r = b.post_form("/sign-out", &[("csrf_token", "wrong")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(b.get("/collaborations").await.status(), StatusCode::OK);
    let r = b.post_form("/sign-out", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/sign-in");
    let r = b.get("/collaborations").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "the session has ended");
}

#[tokio::test]
async fn a_person_with_two_roles_chooses_one_on_the_role_page() {
    let app = TestApp::spawn().await;
    app.grant_membership("legal", "finance", "Region Uppsala")
        .await;
    let b = Browser::signed_in(&app, "legal").await;
    let html = b.html("/role").await;
    assert!(html.contains("nuvarande roll"));
    let id = html
        .split("name=\"membership\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a role to choose")
        .to_string();
    let r = b.post_form("/role", &[("membership", id.as_str())]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let me: serde_json::Value = b.get("/api/v1/me").await.json().await.unwrap();
    assert_eq!(me["role"], "finance");
    let r = b.post_form("/role", &[("membership", "not-mine")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_list_and_the_case_page_show_a_case_and_another_company_gets_404() {
    let app = TestApp::spawn().await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    let b = Browser::signed_in(&app, "company").await;
    let list = b.html("/collaborations").await;
    assert!(
        list.contains(&format!("href=\"/collaborations/{id}\"")),
        "{list}"
    );
    let case = b.html(&format!("/collaborations/{id}")).await;
    assert!(case.contains("De nio stegen"));
    assert!(case.contains("aria-current=\"step\""));
    assert!(case.contains("Förarbete"));
    let filtered = b.html("/collaborations?step=agreement&overdue=").await;
    assert!(!filtered.contains(&id));
    assert!(filtered.contains("Inga samverkansprojekt matchar filtret."));
    let (s, _) = b.page("/collaborations?step=nonsense").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let other = Browser::signed_in(&app, "company-b").await;
    let (s, html) = other.page(&format!("/collaborations/{id}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(html.contains("<h1>"), "an error page: {html}");
}

#[tokio::test]
async fn a_mistyped_address_is_a_page_for_a_browser_and_problem_json_for_the_api() {
    let app = TestApp::spawn().await;
    let b = Browser::signed_in(&app, "company").await;
    let r = b
        .client
        .get(format!("{}/no-such-page", app.base))
        .header(header::ACCEPT, "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("text/html")));
    assert!(r.text().await.unwrap().contains("Till startsidan"));
    let r = b
        .client
        .get(format!("{}/api/v1/no-such-route", app.base))
        .header(header::ACCEPT, "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/problem+json")));
}

#[tokio::test]
async fn an_error_page_keeps_the_signed_in_frame() {
    let app = TestApp::spawn().await;
    let b = Browser::signed_in(&app, "company").await;
    let (s, html) = b
        .page("/collaborations/00000000-0000-4000-8000-000000000000")
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(html.contains("Karin Företagsson"), "{html}");
    assert!(html.contains("Logga ut"), "{html}");
}

/// Issue 12: the list's search box. It finds by title in any case, keeps what was typed, and a
/// search too short to run comes back with the message at the box and in the summary, linked to it.
#[tokio::test]
async fn the_list_searches_by_title_and_a_refused_search_is_shown_at_its_box() {
    let app = TestApp::spawn().await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    let b = Browser::signed_in(&app, "company").await;
    let found = b.html("/collaborations?q=L%C3%85NGTIDSUTFALL").await;
    assert!(
        found.contains(&format!("href=\"/collaborations/{id}\"")),
        "{found}"
    );
    assert!(
        found.contains("value=\"LÅNGTIDSUTFALL\""),
        "kept as typed: {found}"
    );
    let none = b.html("/collaborations?q=cancer").await;
    assert!(!none.contains(&id));
    assert!(none.contains("Inga samverkansprojekt matchar filtret."));
    let (s, html) = b.page("/collaborations?q=x&step=agreement").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"error-summary\""), "{html}");
    assert!(
        html.contains("href=\"#f-q\""),
        "the summary links to the box: {html}"
    );
    assert!(html.contains("id=\"f-q-error\""), "{html}");
    assert!(html.contains("skriv minst 2 tecken att söka på"), "{html}");
    assert!(html.contains("value=\"x\""), "{html}");
    assert!(
        html.contains("value=\"agreement\" selected"),
        "the step is kept: {html}"
    );
    assert!(!html.contains(&id), "no list beside a refused search");
}
