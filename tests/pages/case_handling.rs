//! The case handling section of the case page (issue 16, items 2, 3 and 5): each form posts
//! through the same casework command as the API, goes through with a 303 back to the section, and
//! a refusal comes back on the case page with its message at its field and in the summary.
//! Seed 001, "5. Beslut om utlämnande" (the 30 days count from the complete application); seed 000,
//! "Menprövning av centralt personuppgiftsansvarig myndighet (CPUA)" (the DPO consultation).
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{ok, TestApp};
use crate::support::{location, Browser};

async fn applied(app: &TestApp) -> (String, String) {
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    app.walk_to_application(&id, &["Region Uppsala"]).await;
    (id, app.org("Region Uppsala").await)
}

/// A refused form: its status, and the HTML with the message at the field `anchor` (the element's
/// error paragraph) and linked from the summary.
async fn refused_at(r: reqwest::Response, status: StatusCode, anchor: &str) -> String {
    assert_eq!(r.status(), status);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"error-summary\""), "{html}");
    assert!(
        html.contains(&format!("href=\"#{anchor}\"")),
        "{anchor}: {html}"
    );
    assert!(
        html.contains(&format!("id=\"{anchor}-error\"")),
        "{anchor}: {html}"
    );
    assert!(
        html.contains(&format!("id=\"{anchor}\"")),
        "{anchor}: {html}"
    );
    html
}

async fn done(b: &Browser, r: reqwest::Response, id: &str, what: &str) -> String {
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    let to = location(&r);
    assert_eq!(to, format!("/collaborations/{id}?casework={what}#casework"));
    b.html(&to).await
}

#[tokio::test]
async fn legal_returns_the_application_and_the_company_answers_and_resubmits_through_the_forms() {
    let app = TestApp::spawn().await;
    let (id, uppsala) = applied(&app).await;
    let case = format!("/collaborations/{id}");
    let legal = Browser::signed_in(&app, "legal").await;
    let html = legal.html(&case).await;
    assert!(
        html.contains("Skicka tillbaka ansökan för komplettering"),
        "{html}"
    );
    assert!(html.contains(&format!("name=\"cpua\" value=\"{uppsala}\"")));
    // The company is not offered the form the server would refuse it.
    let company = Browser::signed_in(&app, "company").await;
    let html = company.html(&case).await;
    assert!(!html.contains("Skicka tillbaka ansökan för komplettering"));

    let action = format!("/collaborations/{id}/completion-requests");
    // A due day not ahead is refused at its field, with what was typed kept.
    let r = legal
        .post_form(
            &action,
            &[
                ("cpua", &uppsala),
                ("items[0].text", "Beskriv syftet närmare"),
                ("items[0].field", "purpose"),
                ("due_on", "2026-08-01"),
            ],
        )
        .await;
    let html = refused_at(r, StatusCode::UNPROCESSABLE_ENTITY, "f-completion-due_on").await;
    assert!(
        html.contains(">Beskriv syftet närmare</textarea>"),
        "{html}"
    );
    assert!(html.contains("value=\"purpose\" selected"), "{html}");
    // Nothing asked for: said at the first item's box.
    let r = legal
        .post_form(&action, &[("cpua", &uppsala), ("due_on", "2026-09-15")])
        .await;
    refused_at(
        r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "f-completion-items-0--text",
    )
    .await;
    let r = legal
        .post_form(
            &action,
            &[
                ("cpua", &uppsala),
                ("items[0].text", "Beskriv syftet närmare"),
                ("items[0].field", "purpose"),
                ("items[1].text", ""),
                ("items[2].text", "Bifoga etikbeslutet"),
                ("due_on", "2026-09-15"),
            ],
        )
        .await;
    let html = done(&legal, r, &id, "returned").await;
    assert!(html.contains("Ansökan har skickats tillbaka för komplettering."));
    assert!(html.contains("Väntar på komplettering."), "{html}");
    assert!(html.contains("gäller: Syfte"), "{html}");
    assert!(html.contains("Bifoga etikbeslutet"));
    // Returned once: the form is not offered again.
    assert!(!html.contains("Skicka tillbaka för komplettering</button>"));

    let list = ok(app
        .get(
            &format!("/api/v1/collaborations/{id}/completion-requests"),
            &app.token("legal").await,
        )
        .await)
    .await;
    let rid = list[0]["id"].as_str().unwrap().to_string();
    assert_eq!(list[0]["items"].as_array().unwrap().len(), 2);

    // The company sees the answer form with the field the request names, to correct in place; an
    // empty answer is refused at its box, and nothing is changed (one transaction).
    let html = company.html(&case).await;
    assert!(html.contains("Svara och skicka in ansökan igen"), "{html}");
    let patch_id = format!("f-answer-{rid}-patch-purpose");
    assert!(
        html.contains(&format!("id=\"{patch_id}\" name=\"patch.purpose\" rows=\"3\">Att jämföra långtidsutfall mellan behandlingsstrategier.</textarea>")),
        "{html}"
    );
    let answer = format!("/collaborations/{id}/completion-requests/{rid}/answer");
    let anchor0 = format!("f-answer-{}-answers-0--text", rid);
    let better = "Att jämföra femårsöverlevnad mellan två behandlingsstrategier.";
    let r = company
        .post_form(
            &answer,
            &[
                ("patch.purpose", better),
                ("answers[0].text", ""),
                ("answers[1].text", "Bifogat"),
            ],
        )
        .await;
    let html = refused_at(r, StatusCode::UNPROCESSABLE_ENTITY, &anchor0).await;
    assert!(html.contains(">Bifogat</textarea>"), "{html}");
    assert!(html.contains(&format!(">{better}</textarea>")), "{html}");
    let v = app.view(&id, &app.token("company").await).await;
    assert_eq!(
        v["collaboration"]["purpose"],
        "Att jämföra långtidsutfall mellan behandlingsstrategier."
    );
    // A corrected field the update refuses (empty) is said at the field.
    let r = company
        .post_form(
            &answer,
            &[
                ("patch.purpose", " "),
                ("answers[0].text", "Syftet är preciserat"),
                ("answers[1].text", "Bifogat"),
            ],
        )
        .await;
    refused_at(r, StatusCode::UNPROCESSABLE_ENTITY, &patch_id).await;

    // With the field corrected in the same form, the answer goes through.
    let r = company
        .post_form(
            &answer,
            &[
                ("patch.purpose", better),
                ("answers[0].text", "Syftet är preciserat"),
                ("answers[1].text", "Bifogat"),
            ],
        )
        .await;
    let html = done(&company, r, &id, "resubmitted").await;
    assert!(html.contains("Kompletteringen är besvarad"), "{html}");

    // Legal sees what changed, field by field, and that the clock counts from the resubmission.
    let html = legal.html(&case).await;
    assert!(html.contains("Ändringar i ansökan sedan begäran"), "{html}");
    assert!(html.contains("<th scope=\"row\">Syfte</th><td><del>Att jämföra långtidsutfall mellan behandlingsstrategier.</del></td><td><ins>Att jämföra femårsöverlevnad mellan två behandlingsstrategier.</ins></td>"), "{html}");
    assert!(html.contains("Beslutstiden på 30 dagar räknas från att ansökan skickades in igen"));
    assert!(html.contains("Syftet är preciserat"));
    // In English too, with no Swedish server text left.
    legal.get("/language/en").await;
    let html = legal.html(&case).await;
    assert!(html.contains("Changes to the application since the request"));
    assert!(html.contains("<th scope=\"row\">Purpose</th>"));

    // A second answer to the answered request: 409, said at the form's first answer.
    let r = company
        .post_form(&answer, &[("answers[0].text", "igen")])
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let html = r.text().await.unwrap();
    assert!(html.contains(&format!("href=\"#{anchor0}\"")), "{html}");
}

#[tokio::test]
async fn legal_consults_the_register_holder_who_answers_and_legal_records_an_e_mailed_answer() {
    let app = TestApp::spawn().await;
    let (id, uppsala) = applied(&app).await;
    let case = format!("/collaborations/{id}");
    let legal = Browser::signed_in(&app, "legal").await;
    let html = legal.html(&case).await;
    assert!(html.contains("Skicka en remiss"), "{html}");
    let action = format!("/collaborations/{id}/consultations");

    // No addressee: refused at the organisation, the question kept.
    let r = legal
        .post_form(
            &action,
            &[
                ("addressee_kind", "register_holder"),
                ("question", "Kan registret leverera variablerna?"),
                ("due_on", "2026-09-20"),
            ],
        )
        .await;
    let html = refused_at(
        r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "f-consultation-addressee_org",
    )
    .await;
    assert!(html.contains(">Kan registret leverera variablerna?</textarea>"));
    assert!(html.contains("value=\"register_holder\" selected"));

    let r = legal
        .post_form(
            &action,
            &[
                ("addressee_kind", "register_holder"),
                ("addressee_org", &uppsala),
                ("addressee_role", "register_holder"),
                ("question", "Kan registret leverera variablerna?"),
                ("due_on", "2026-09-20"),
            ],
        )
        .await;
    let html = done(&legal, r, &id, "consulted").await;
    assert!(html.contains("Remissen har skickats."));
    assert!(
        html.contains("Registerhållaren: Region Uppsala, Registerhållare"),
        "{html}"
    );
    assert!(html.contains("Väntar på svar."));

    let list: Value = ok(app
        .get(
            &format!("/api/v1/collaborations/{id}/consultations"),
            &app.token("legal").await,
        )
        .await)
    .await;
    let k = list[0]["id"].as_str().unwrap().to_string();
    let answer = format!("/collaborations/{id}/consultations/{k}/answer");
    let anchor = format!("f-consult-{k}-answer");

    // The register holder answers on the case page; an empty answer is refused at its field.
    let holder = Browser::signed_in(&app, "register-holder").await;
    let html = holder.html(&case).await;
    assert!(html.contains("Ditt svar"), "{html}");
    let r = holder.post_form(&answer, &[("answer", " ")]).await;
    refused_at(r, StatusCode::UNPROCESSABLE_ENTITY, &anchor).await;
    let r = holder
        .post_form(&answer, &[("answer", "Ja, alla variabler finns.")])
        .await;
    let html = done(&holder, r, &id, "consultation_answered").await;
    assert!(html.contains("Ja, alla variabler finns."));

    // The DPO by e-mail: legal records the answer received; a day ahead is refused at its field.
    let r = legal
        .post_form(
            &action,
            &[
                ("addressee_kind", "dpo"),
                ("addressee_email", "dso@region-uppsala.invalid"),
                ("addressee_name", "Dataskyddsombudet"),
                ("question", "Kan behandlingen ske med skyddad identitet?"),
                ("due_on", "2026-09-25"),
            ],
        )
        .await;
    let html = done(&legal, r, &id, "consulted").await;
    assert!(html.contains("Registrera inkommet svar"), "{html}");
    assert!(html.contains("Dataskyddsombudets svar är underlag för beslutet"));
    let list: Value = ok(app
        .get(
            &format!("/api/v1/collaborations/{id}/consultations"),
            &app.token("legal").await,
        )
        .await)
    .await;
    let dpo = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["addressee_kind"] == "dpo")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let record = format!("/collaborations/{id}/consultations/{dpo}/answer");
    let r = legal
        .post_form(
            &record,
            &[
                ("answer", "Inga invändningar."),
                ("answered_on", "2030-01-01"),
            ],
        )
        .await;
    let html = refused_at(
        r,
        StatusCode::UNPROCESSABLE_ENTITY,
        &format!("f-consult-{dpo}-answered_on"),
    )
    .await;
    assert!(html.contains(">Inga invändningar.</textarea>"));
    let today = list[0]["requested_at"].as_str().unwrap()[..10].to_string();
    let r = legal
        .post_form(
            &record,
            &[("answer", "Inga invändningar."), ("answered_on", &today)],
        )
        .await;
    let html = done(&legal, r, &id, "consultation_answered").await;
    assert!(html.contains("Inga invändningar."));
    // Legal's own record form is gone once answered.
    assert!(!html.contains("Registrera inkommet svar"), "{html}");
    // The company sees no consultation forms.
    let company = Browser::signed_in(&app, "company").await;
    let html = company.html(&case).await;
    assert!(!html.contains("Skicka en remiss"));
    assert!(!html.contains("Ditt svar"));
}

#[tokio::test]
async fn legal_assigns_the_handling_lawyer_and_sets_the_case_number_through_the_forms() {
    let app = TestApp::spawn().await;
    let (id, _) = applied(&app).await;
    let case = format!("/collaborations/{id}");
    let me = ok(app.get("/api/v1/me", &app.token("legal").await).await).await["account"]
        .as_str()
        .unwrap()
        .to_string();
    let legal = Browser::signed_in(&app, "legal").await;
    let html = legal.html(&case).await;
    assert!(
        html.contains(&format!("<option value=\"{me}\">Lars Jurist</option>")),
        "{html}"
    );
    // Only the CPUA's own lawyers are listed.
    assert!(!html.contains("Vera Jurist"));

    // Someone who is no lawyer of the CPUA: refused at the select.
    let r = legal
        .post_form(
            &format!("/collaborations/{id}/assignee"),
            &[("assignee", "00000000-0000-4000-8000-000000000000")],
        )
        .await;
    refused_at(r, StatusCode::UNPROCESSABLE_ENTITY, "f-file-assignee").await;
    let r = legal
        .post_form(
            &format!("/collaborations/{id}/assignee"),
            &[("assignee", &me)],
        )
        .await;
    let html = done(&legal, r, &id, "assigned").await;
    assert!(html.contains("Handläggaren har sparats."));
    assert!(html.contains(&format!(
        "<option value=\"{me}\" selected>Lars Jurist</option>"
    )));
    assert!(html.contains("<td>Lars Jurist</td>"), "{html}");

    // A case number with characters it may not hold: refused at its field, the text kept.
    let number = format!("/collaborations/{id}/case-number");
    let r = legal
        .post_form(&number, &[("case_number", "RS<2026>")])
        .await;
    let html = refused_at(r, StatusCode::UNPROCESSABLE_ENTITY, "f-file-case_number").await;
    assert!(html.contains("value=\"RS&lt;2026&gt;\""), "{html}");
    let r = legal
        .post_form(&number, &[("case_number", "RS 2026/0123")])
        .await;
    let html = done(&legal, r, &id, "numbered").await;
    assert!(html.contains("Diarienumret har sparats."));
    assert!(html.contains("value=\"RS 2026/0123\""));

    // The company sees the case number, not the lawyer, and no forms.
    let company = Browser::signed_in(&app, "company").await;
    let html = company.html(&case).await;
    assert!(html.contains("<td>RS 2026/0123</td>"), "{html}");
    assert!(!html.contains("Lars Jurist</td>"));
    assert!(!html.contains("Spara handläggare"));
    // A form the company may not send is refused as a page (403), nothing changed.
    let r = company.post_form(&number, &[("case_number", "X 1")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let files = ok(app
        .get(
            &format!("/api/v1/collaborations/{id}/case-files"),
            &app.token("company").await,
        )
        .await)
    .await;
    assert_eq!(files[0]["case_number"], "RS 2026/0123");
}

#[tokio::test]
async fn the_to_do_page_gives_its_dates_in_the_page_language() {
    let app = TestApp::spawn().await;
    let (id, _) = applied(&app).await;
    let legal = Browser::signed_in(&app, "legal").await;
    let html = legal.html("/todo").await;
    assert!(
        html.contains("<time datetime=\"2026-10-01\">1 oktober 2026</time>"),
        "{html}"
    );
    assert!(html.contains(&format!("href=\"/collaborations/{id}\"")));
    legal.get("/language/en").await;
    let html = legal.html("/todo").await;
    assert!(
        html.contains("<time datetime=\"2026-10-01\">1 October 2026</time>"),
        "{html}"
    );
}
