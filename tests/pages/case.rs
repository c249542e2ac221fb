//! The case page: what may happen next, as forms that run the API's own commands.
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{ok, TestApp};
use crate::support::{location, Browser};

/// The page's trail: its "Händelser" section.
fn events_section(html: &str) -> &str {
    let from = html.find("id=\"h-events\"").expect("an events section");
    let rest = &html[from..];
    &rest[..rest.find("</section>").unwrap_or(rest.len())]
}

fn version(v: &Value) -> String {
    v["version"].as_i64().expect("version").to_string()
}

/// A case at step 2, where the register holder answers (seed 001, "2. Kontakt med registerhållare").
async fn at_register_contact(app: &TestApp) -> String {
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    let company = app.token("company").await;
    ok(app
        .transition(&id, &company, serde_json::json!({"to": "register_contact"}))
        .await)
    .await;
    id
}

#[tokio::test]
async fn a_register_holder_answers_feasibility_through_the_form() {
    let app = TestApp::spawn().await;
    let id = at_register_contact(&app).await;
    let register = app.register("EX-HJARTA").await;
    let b = Browser::signed_in(&app, "register-holder").await;
    let html = b.html(&format!("/collaborations/{id}")).await;
    assert!(html.contains("Svara om registret kan leverera"), "{html}");
    assert!(html.contains("name=\"estimated_cost_ore:kr\""), "{html}");
    assert!(html.contains(&format!("value=\"{register}\"")));
    let holder = app.token("register-holder").await;
    let v = app.view(&id, &holder).await;
    let r = b
        .post_form(
            &format!("/collaborations/{id}/commands"),
            &[
                ("_kind", "action"),
                ("_command", "record_feasibility"),
                ("version", &version(&v)),
                ("register", &register),
                ("feasible:bool", "true"),
                ("estimated_weeks:int", "6"),
                ("estimated_cost_ore:kr", "12 500"),
                ("comment", "Går bra."),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&r),
        format!("/collaborations/{id}?done=record_feasibility#status")
    );
    let v = app.view(&id, &holder).await;
    let f = &v["collaboration"]["feasibility"][0];
    assert_eq!(f["feasible"], true, "{v}");
    assert_eq!(f["estimated_weeks"], 6);
    assert_eq!(f["estimated_cost"], 1_250_000, "{f}");
    let html = b
        .html(&format!("/collaborations/{id}?done=record_feasibility"))
        .await;
    assert!(html.contains("role=\"status\""));
    assert!(html.contains("Klart: Svara om registret kan leverera"));
    // The event is listed, in Stockholm time (09:00 UTC is 11:00 in September).
    assert!(html.contains("1 september 2026 11:00"), "{html}");
    assert!(html.contains("Ärendet skapades"), "{html}");
}

#[tokio::test]
async fn cpua_legal_approves_with_a_finding_and_a_condition_through_the_form() {
    let app = TestApp::spawn().await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    let uppsala = app.org("Region Uppsala").await;
    app.walk_to_application(&id, &["Region Uppsala"]).await;
    let legal = app.token("legal").await;
    let v = app.view(&id, &legal).await;
    let b = Browser::signed_in(&app, "legal").await;
    let html = b.html(&format!("/collaborations/{id}")).await;
    assert!(html.contains("Besluta om utlämnande"), "{html}");
    assert!(html.contains("name=\"findings.need_for_data:bool\""));
    assert!(html.contains("Låg forskningskvalitet"));
    let r = b
        .post_form(
            &format!("/collaborations/{id}/commands"),
            &[
                ("_kind", "transition"),
                ("_command", "release_decision"),
                ("version", &version(&v)),
                ("cpua", &uppsala),
                ("outcome", "approved_with_conditions"),
                ("findings.need_for_data:bool", "true"),
                ("findings.within_ethics_approval:bool", "true"),
                ("findings.no_risk_of_harm:bool", "true"),
                ("conditions", "Endast aggregerade resultat får publiceras."),
                ("reasons", "Resultaten rör små grupper."),
                ("reference", "RU-2026-77"),
            ],
        )
        .await;
    let status = r.status();
    assert_eq!(status, StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    let v = app.view(&id, &legal).await;
    let d = &v["collaboration"]["cpua_reviews"][0]["decision"];
    assert_eq!(d["outcome"], "approved_with_conditions", "{v}");
    assert_eq!(d["findings"]["need_for_data"], true);
    assert_eq!(
        d["conditions"],
        "Endast aggregerade resultat får publiceras."
    );
}

#[tokio::test]
async fn a_refused_command_has_no_form_but_its_reason() {
    let app = TestApp::spawn().await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    let company = app.token("company").await;
    let v = app.view(&id, &company).await;
    let refused: Vec<&Value> = v["next"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["allowed"] == false)
        .collect();
    let n = refused
        .iter()
        .find(|n| n["command"] == "data_application")
        .expect("applying is refused at step 1");
    let b = Browser::signed_in(&app, "company").await;
    let html = b.html(&format!("/collaborations/{id}")).await;
    assert!(!html.contains("name=\"_command\" value=\"data_application\""));
    assert!(html.contains("id=\"refused-data_application\""), "{html}");
    let reason = n["reason"]["sv"].as_str().unwrap();
    assert!(
        html.contains(&reason.replace('"', "&quot;")),
        "{reason}\n{html}"
    );
    // What is missing is said in words, not in the server's codes.
    assert!(!html.contains("<li>step "), "{html}");
    // What is allowed is a form.
    assert!(html.contains("name=\"_command\" value=\"register_contact\""));
}

#[tokio::test]
async fn a_stale_form_answers_422_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let id = at_register_contact(&app).await;
    let register = app.register("EX-HJARTA").await;
    let holder = app.token("register-holder").await;
    let before = app.view(&id, &holder).await;
    let old = (before["version"].as_i64().unwrap() - 1).to_string();
    let b = Browser::signed_in(&app, "register-holder").await;
    let r = b
        .post_form(
            &format!("/collaborations/{id}/commands"),
            &[
                ("_kind", "action"),
                ("_command", "record_feasibility"),
                ("version", &old),
                ("register", &register),
                ("feasible:bool", "true"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("Någon annan har ändrat ärendet"), "{html}");
    let after = app.view(&id, &holder).await;
    assert_eq!(after["version"], before["version"]);
    assert_eq!(after["collaboration"]["feasibility"], serde_json::json!([]));
}

#[tokio::test]
async fn a_bad_form_keeps_its_values_and_shows_the_error_at_the_field() {
    let app = TestApp::spawn().await;
    let id = at_register_contact(&app).await;
    let register = app.register("EX-HJARTA").await;
    let holder = app.token("register-holder").await;
    let v = app.view(&id, &holder).await;
    let b = Browser::signed_in(&app, "register-holder").await;
    let r = b
        .post_form(
            &format!("/collaborations/{id}/commands"),
            &[
                ("_kind", "action"),
                ("_command", "record_feasibility"),
                ("version", &version(&v)),
                ("register", &register),
                ("feasible:bool", "true"),
                ("estimated_weeks:int", "sex"),
                ("comment", "Behåll mig"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"error-summary\""), "{html}");
    assert!(html.contains("href=\"#f-estimated_weeks\""), "{html}");
    assert!(html.contains("id=\"f-estimated_weeks-error\""), "{html}");
    assert!(html.contains("aria-describedby=\"f-estimated_weeks-error\""));
    assert!(html.contains("value=\"sex\""));
    assert!(html.contains(">Behåll mig</textarea>"));
    let after = app.view(&id, &holder).await;
    assert_eq!(after["collaboration"]["feasibility"], serde_json::json!([]));
}

#[tokio::test]
async fn a_company_never_sees_another_organisations_internal_note() {
    let app = TestApp::spawn().await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    app.walk_to_application(&id, &["Region Uppsala"]).await;
    let legal = app.token("legal").await;
    let v = app.view(&id, &legal).await;
    let b = Browser::signed_in(&app, "legal").await;
    let note = "Kontrollera variabellistan noga.";
    let r = b
        .post_form(
            &format!("/collaborations/{id}/commands"),
            &[
                ("_kind", "action"),
                ("_command", "add_internal_note"),
                ("version", &version(&v)),
                ("text", note),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = b.html(&format!("/collaborations/{id}")).await;
    assert!(html.contains(note), "legal sees its own note");
    assert!(
        events_section(&html).contains("Skriv en intern anteckning"),
        "and its event in the trail"
    );
    let c = Browser::signed_in(&app, "company").await;
    let html = c.html(&format!("/collaborations/{id}")).await;
    assert!(!html.contains(note));
    assert!(!html.contains("Interna anteckningar"));
    // Nor is the note's event in the company's trail: the page lists the lines the reader may see.
    assert!(!events_section(&html).contains("Skriv en intern anteckning"));
    let company = app.token("company").await;
    let events = ok(app
        .get(&format!("/api/v1/collaborations/{id}/events"), &company)
        .await)
    .await;
    assert!(
        !events.to_string().contains("add_internal_note"),
        "the API hides it too"
    );
}

#[tokio::test]
async fn the_page_speaks_english_and_another_organisation_gets_404() {
    let app = TestApp::spawn().await;
    let id = at_register_contact(&app).await;
    let b = Browser::signed_in(&app, "register-holder").await;
    let r = b.get("/language/en").await;
    assert!(r.status().is_redirection());
    let html = b.html(&format!("/collaborations/{id}")).await;
    assert!(html.contains("<html lang=\"en\">"));
    assert!(html.contains("What is needed from you now"));
    assert!(html.contains("Answer whether the register can deliver"));
    assert!(html.contains("Can the register deliver?"));
    assert!(html.contains("The nine steps"));
    assert!(html.contains("Events"));
    assert!(!html.contains("Svara om registret"));
    // Another organisation's register holder (not this case's CPUA) gets 404.
    app.add_account("holder-other", "register_holder", "Region Skåne")
        .await;
    let other = Browser::signed_in(&app, "holder-other").await;
    let (s, _) = other.page(&format!("/collaborations/{id}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

/// A "bör" is passed with a reason, never a block (DOMAIN.md, "How strongly each rule binds"; seed
/// 001, "2. Kontakt med registerhållare").
#[tokio::test]
async fn a_should_warning_is_passed_with_a_reason_given_at_its_field() {
    let app = TestApp::spawn().await;
    let id = at_register_contact(&app).await;
    let company = app.token("company").await;
    let b = Browser::signed_in(&app, "company").await;
    let html = b.html(&format!("/collaborations/{id}")).await;
    assert!(
        html.contains("name=\"acknowledge[0].code\" value=\"feasibility_not_answered\""),
        "{html}"
    );
    assert!(html.contains("Registerhållaren bör ha svarat"));
    let v = app.view(&id, &company).await;
    let send = |reason: &'static str, version: String| {
        let b = &b;
        let id = id.clone();
        async move {
            b.post_form(
                &format!("/collaborations/{id}/commands"),
                &[
                    ("_kind", "transition"),
                    ("_command", "ethics_review"),
                    ("version", &version),
                    ("acknowledge[0].code", "feasibility_not_answered"),
                    ("acknowledge[0].reason", reason),
                ],
            )
            .await
        }
    };
    let r = send("", version(&v)).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("id=\"f-acknowledge-0--reason-error\""),
        "{html}"
    );
    assert!(html.contains("Skriv ett skäl för att gå vidare trots varningen."));
    let r = send("Registerhållaren har svarat per telefon.", version(&v)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let v = app.view(&id, &company).await;
    assert_eq!(v["collaboration"]["step"], "ethics_review", "{v}");
    assert!(v["collaboration"]["passed_warnings"]
        .to_string()
        .contains("Registerhållaren har svarat per telefon."));
}

/// Seed 001, "5. Beslut om utlämnande": the decision should come within 30 days of the complete
/// application; a late one is a "bör" passed with the reason for the delay.
#[tokio::test]
async fn a_late_decision_shows_the_should_warning_with_a_reason_field_in_the_decision_form() {
    let app = TestApp::spawn().await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    app.walk_to_application(&id, &["Region Uppsala"]).await;
    app.clock.advance(chrono::Duration::days(31));
    let uppsala = app.org("Region Uppsala").await;
    let legal = app.token("legal").await;
    let b = Browser::signed_in(&app, "legal").await;
    let html = b.html(&format!("/collaborations/{id}")).await;
    assert!(
        html.contains("name=\"acknowledge[0].code\" value=\"decision_overdue\""),
        "{html}"
    );
    assert!(html.contains("bör ges inom 30 dagar"));
    assert!(html.contains("Försenat"), "the track is shown as late");
    let v = app.view(&id, &legal).await;
    let r = b
        .post_form(
            &format!("/collaborations/{id}/commands"),
            &[
                ("_kind", "transition"),
                ("_command", "release_decision"),
                ("version", &version(&v)),
                ("cpua", &uppsala),
                ("outcome", "approved"),
                ("findings.need_for_data:bool", "true"),
                ("findings.within_ethics_approval:bool", "true"),
                ("findings.no_risk_of_harm:bool", "true"),
                ("acknowledge[0].code", "decision_overdue"),
                ("acknowledge[0].reason", "Kompletteringar dröjde."),
            ],
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    let v = app.view(&id, &legal).await;
    assert_eq!(
        v["collaboration"]["cpua_reviews"][0]["decision"]["outcome"],
        "approved"
    );
    assert!(v["collaboration"]["passed_warnings"]
        .to_string()
        .contains("Kompletteringar dröjde."));
}

#[tokio::test]
async fn agreement_versions_are_listed_with_their_files_and_the_review_page() {
    let app = TestApp::spawn().await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    app.walk_to_application(&id, &["Region Uppsala"]).await;
    let uppsala = app.org("Region Uppsala").await;
    let legal = app.token("legal").await;
    ok(app
        .transition(&id, &legal, crate::helpers::approval(&uppsala))
        .await)
    .await;
    app.sign_agreement(&id).await;
    let b = Browser::signed_in(&app, "company").await;
    let html = b.html(&format!("/collaborations/{id}")).await;
    let file = format!("/api/v1/collaborations/{id}/agreements/1.html");
    assert!(html.contains(&format!("href=\"{file}\"")), "{html}");
    assert!(html.contains(&format!("/api/v1/collaborations/{id}/agreements/1.pdf")));
    assert!(html.contains(&format!("/api/v1/collaborations/{id}/agreements/1.docx")));
    assert!(html.contains(&format!("href=\"/collaborations/{id}/agreements\"")));
    // The file answers the cookie session.
    let r = b.get(&file).await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_case_shows_its_deadlines_and_what_was_told_to_whom() {
    // Issue 13, "Visible in the case": pending deadlines with their dates, and the notification
    // log. Seed 001, "5. Beslut om utlämnande": the decision should come within 30 days.
    let app = TestApp::spawn().await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    app.walk_to_application(&id, &["Region Uppsala"]).await;
    let legal = Browser::signed_in(&app, "legal").await;
    let html = legal.html(&format!("/collaborations/{id}")).await;
    assert!(html.contains("Frister"), "{html}");
    assert!(html.contains("Beslut om utlämnande (bör ges inom 30 dagar)"));
    // The application arrived 1 September 2026 (the test clock): due 30 days later.
    assert!(html.contains("1 oktober 2026"), "{html}");
    assert!(html.contains("Utskick"));
    assert!(html.contains("Ansökan om datauttag är komplett"));
    assert!(html.contains("Lars Jurist"));
    assert!(
        !html.contains("application_completed"),
        "no codes on the page"
    );
    // A party sees only what was sent to parties: the legal team's notice is not theirs.
    let company = Browser::signed_in(&app, "company").await;
    let html = company.html(&format!("/collaborations/{id}")).await;
    assert!(html.contains("Frister"));
    assert!(!html.contains("Ansökan om datauttag är komplett"), "{html}");
}
