//! Issue 16 items 6 and 8 on the pages: the case page's "Dataanvändare / Data users" section (a party
//! names a person, CPUA legal approves or refuses an addition after release, removal keeps the
//! record), "Mina sekretessförbindelser / My undertakings" (the person reads the versioned text and
//! confirms it), and the organisation's webhook subscriptions (secret shown once, delete, delivery
//! log). Each form posts through the API's own commands; a refused form keeps what was typed.
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{approval, ok, TestApp};
use crate::support::{location, Browser};

async fn applied(app: &TestApp) -> String {
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    app.walk_to_application(&id, &["Region Uppsala"]).await;
    id
}

async fn released(app: &TestApp) -> String {
    let id = applied(app).await;
    let uppsala = app.org("Region Uppsala").await;
    let legal = app.token("legal").await;
    ok(app.transition(&id, &legal, approval(&uppsala)).await).await;
    app.sign_agreement(&id).await;
    ok(app
        .transition(
            &id,
            &legal,
            json!({"to": "data_release", "cpua": uppsala, "released_on": "2026-09-01",
                   "transfer_method": "encrypted_file", "password_sent_separately": true}),
        )
        .await)
    .await;
    id
}

async fn data_users(app: &TestApp, id: &str) -> serde_json::Value {
    let legal = app.token("legal").await;
    ok(app
        .get(&format!("/api/v1/collaborations/{id}/data-users"), &legal)
        .await)
    .await
}

#[tokio::test]
async fn a_party_names_a_data_user_on_the_case_page_and_a_refused_form_keeps_what_was_typed() {
    let app = TestApp::spawn().await;
    let id = applied(&app).await;
    let company = Browser::signed_in(&app, "company").await;
    let case = format!("/collaborations/{id}");
    let html = company.html(&case).await;
    assert!(
        html.contains("id=\"h-data-users\">Dataanvändare</h2>"),
        "{html}"
    );
    assert!(html.contains("Ingen är namngiven ännu."));
    assert!(html.contains(&format!("action=\"{case}/data-users\"")));

    // Not an e-mail address: 422, the message at the field and in the summary, the name kept.
    let r = company
        .post_form(
            &format!("{case}/data-users"),
            &[
                ("name", "Eva Statistiker"),
                ("email", "inte-en-adress"),
                ("project_role", "statistiker"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("error-summary"), "{html}");
    assert!(html.contains("href=\"#f-add-email\""), "{html}");
    assert!(html.contains("id=\"f-add-email-error\""), "{html}");
    assert!(html.contains("value=\"Eva Statistiker\""), "{html}");
    assert!(data_users(&app, &id).await["items"]
        .as_array()
        .unwrap()
        .is_empty());

    let r = company
        .post_form(
            &format!("{case}/data-users"),
            &[
                ("name", "Eva Statistiker"),
                ("email", "eva@test.samverkan.invalid"),
                ("project_role", "statistiker"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), format!("{case}?data_users=added#data-users"));
    let html = company.html(&format!("{case}?data_users=added")).await;
    assert!(html.contains("Personen är namngiven."), "{html}");
    assert!(html.contains("Eva Statistiker"));
    assert!(html.contains("Aktiv"));
    assert!(html.contains("Inte bekräftad ännu"));
    assert!(
        html.contains("ges av de namngivna dataanvändarna"),
        "{html}"
    );

    // Legal sees the person but may not name one, nor decide on an active person.
    let legal = Browser::signed_in(&app, "legal").await;
    let html = legal.html(&case).await;
    assert!(html.contains("Eva Statistiker"));
    assert!(!html.contains(&format!("action=\"{case}/data-users\"")));
    assert!(!html.contains("/decision\""));
    // In English.
    company.get("/language/en").await;
    let html = company.html(&case).await;
    assert!(
        html.contains("id=\"h-data-users\">Data users</h2>"),
        "{html}"
    );
    assert!(html.contains("Not yet confirmed"));
}

#[tokio::test]
async fn legal_approves_or_refuses_an_addition_after_release_and_removal_keeps_the_record() {
    let app = TestApp::spawn().await;
    let id = released(&app).await;
    let case = format!("/collaborations/{id}");
    let company = Browser::signed_in(&app, "company").await;
    for (name, email) in [
        ("Olle Ny", "olle@test.samverkan.invalid"),
        ("Stina Sen", "stina@test.samverkan.invalid"),
    ] {
        let r = company
            .post_form(
                &format!("{case}/data-users"),
                &[
                    ("name", name),
                    ("email", email),
                    ("project_role", "analytiker"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    let listed = data_users(&app, &id).await;
    let ids: Vec<String> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_string())
        .collect();
    let html = company.html(&case).await;
    assert!(html.contains("Väntar på CPUA:s godkännande"), "{html}");
    assert!(!html.contains("/decision\""), "the company does not decide");

    let legal = Browser::signed_in(&app, "legal").await;
    let html = legal.html(&case).await;
    assert!(html.contains(&format!("action=\"{case}/data-users/{}/decision\"", ids[0])));
    // A refusal without a reason: 422 at the reason box of that person's form.
    let r = legal
        .post_form(
            &format!("{case}/data-users/{}/decision", ids[0]),
            &[("approve", "no"), ("reason", " ")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    let anchor = format!("f-decide-{}-reason", ids[0]);
    assert!(html.contains(&format!("href=\"#{anchor}\"")), "{html}");
    assert!(html.contains(&format!("id=\"{anchor}-error\"")), "{html}");

    let r = legal
        .post_form(
            &format!("{case}/data-users/{}/decision", ids[0]),
            &[("approve", "no"), ("reason", "Rollen är inte beskriven")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&r),
        format!("{case}?data_users=refused#data-users")
    );
    let r = legal
        .post_form(
            &format!("{case}/data-users/{}/decision", ids[1]),
            &[("approve", "yes"), ("reason", "")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = legal.html(&case).await;
    assert!(html.contains("Avslagen av CPUA"), "{html}");
    assert!(html.contains("Rollen är inte beskriven"));
    assert!(html.contains("Godkänd av"), "{html}");
    // Deciding again is refused (409) and said at the form; here through the stale form.
    let r = legal
        .post_form(
            &format!("{case}/data-users/{}/decision", ids[1]),
            &[("approve", "yes")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);

    // The company removes Stina; the record stays, with who and why.
    let r = company
        .post_form(
            &format!("{case}/data-users/{}/remove", ids[1]),
            &[("reason", "Har lämnat projektet")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = company.html(&case).await;
    assert!(html.contains("Borttagen av"), "{html}");
    assert!(html.contains("Har lämnat projektet"));
    assert_eq!(
        data_users(&app, &id).await["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Another company's person: the case and its forms do not exist.
    app.add_account("other", "company_representative", "Prov Medicinteknik AB")
        .await;
    let other = Browser::signed_in(&app, "other").await;
    let r = other
        .post_form(
            &format!("{case}/data-users"),
            &[
                ("name", "X"),
                ("email", "x@test.samverkan.invalid"),
                ("project_role", "x"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_person_named_reads_the_versioned_undertaking_and_confirms_it() {
    let app = TestApp::spawn().await;
    let id = applied(&app).await;
    app.add_account("eva", "company_representative", "Prov Medicinteknik AB")
        .await;
    let company = app.token("company").await;
    let u = ok(app
        .post(
            &format!("/api/v1/collaborations/{id}/data-users"),
            &company,
            &json!({"name": "Eva Statistiker", "email": "eva@test.samverkan.invalid", "project_role": "statistiker"}),
        )
        .await)
    .await;
    let uid = u["id"].as_str().unwrap().to_string();
    let version = samverkan::app::data_users::undertaking().version.clone();

    // Someone else has nothing to confirm.
    let b = Browser::signed_in(&app, "company").await;
    let html = b.html("/undertakings").await;
    assert!(
        html.contains("<h1>Mina sekretessförbindelser</h1>"),
        "{html}"
    );
    assert!(html.contains("Ingen sekretessförbindelse väntar på dig."));

    let eva = Browser::signed_in(&app, "eva").await;
    let html = eva.html("/undertakings").await;
    assert!(
        html.contains("href=\"/undertakings\" aria-current=\"page\""),
        "{html}"
    );
    assert!(html.contains("obehörigen röja"), "the Swedish text: {html}");
    assert!(
        html.contains("not to disclose"),
        "the English text below it"
    );
    assert!(html.contains(&format!("textversion {version}")), "{html}");
    assert!(html.contains(&format!("action=\"/undertakings/{uid}\"")));
    // The to-do page names it too.
    let todo = eva.html("/todo").await;
    assert!(todo.contains("Bekräfta din sekretessförbindelse"), "{todo}");

    // Not ticked: 422 at the box.
    let r = eva
        .post_form(&format!("/undertakings/{uid}"), &[("version", &version)])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    let anchor = format!("f-confirm-{uid}-accept");
    assert!(html.contains(&format!("href=\"#{anchor}\"")), "{html}");
    // Another person posting Eva's form: not found.
    let r = b
        .post_form(
            &format!("/undertakings/{uid}"),
            &[("accept", "yes"), ("version", &version)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    let r = eva
        .post_form(
            &format!("/undertakings/{uid}"),
            &[("accept", "yes"), ("version", &version)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/undertakings?data_users=confirmed");
    let html = eva.html("/undertakings?data_users=confirmed").await;
    assert!(
        html.contains("Din sekretessförbindelse är bekräftad"),
        "{html}"
    );
    assert!(html.contains("Ingen sekretessförbindelse väntar på dig."));
    let listed = data_users(&app, &id).await;
    assert_eq!(
        listed["items"][0]["undertaking"]["version"],
        version.as_str()
    );
    // In English.
    eva.get("/language/en").await;
    let html = eva.html("/undertakings").await;
    assert!(html.contains("<h1>My undertakings</h1>"), "{html}");
}

#[tokio::test]
async fn the_organisation_subscribes_a_system_sees_the_secret_once_and_deletes_it() {
    let app = TestApp::spawn().await;
    let legal = Browser::signed_in(&app, "legal").await;
    let html = legal.html("/webhooks").await;
    assert!(html.contains("<h1>Utgående händelser</h1>"), "{html}");
    assert!(html.contains("href=\"/webhooks\" aria-current=\"page\""));
    assert!(html.contains("Er organisation har inga prenumerationer."));

    // A bad URL: 422 at the field, the description kept, nothing stored.
    let r = legal
        .post_form(
            "/webhooks",
            &[
                ("url", "ftp://diarium.example.se/in"),
                ("event_types", "decision_taken"),
                ("description", "Diariet"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("href=\"#f-url\""), "{html}");
    assert!(html.contains("id=\"f-url-error\""));
    assert!(html.contains("value=\"Diariet\""));
    // No event type: the message at the group.
    let r = legal
        .post_form(
            "/webhooks",
            &[("url", "http://127.0.0.1:9/in"), ("description", "Diariet")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("href=\"#f-event_types\""));

    let r = legal
        .post_form(
            "/webhooks",
            &[
                ("url", "http://127.0.0.1:9/in"),
                ("event_types", "decision_taken"),
                ("event_types", "data_released"),
                ("description", "Diariet"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let html = r.text().await.unwrap();
    let secret = html
        .split("id=\"f-secret\" readonly value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the secret on the page")
        .to_string();
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert!(html.contains("Hemligheten visas bara den här gången."));
    // Never again: not on the list page.
    let html = legal.html("/webhooks").await;
    assert!(!html.contains(&secret));
    assert!(html.contains("http://127.0.0.1:9/in"));
    assert!(html.contains("Beslut om utlämnande fattat"));
    let uppsala = app.org("Region Uppsala").await;
    let token = app.token("legal").await;
    let subs = ok(app
        .get(
            &format!("/api/v1/organisations/{uppsala}/webhook-subscriptions"),
            &token,
        )
        .await)
    .await;
    let sub = subs[0]["id"].as_str().unwrap().to_string();
    assert!(html.contains(&format!("href=\"/webhooks/{sub}\"")));
    let log = legal.html(&format!("/webhooks/{sub}")).await;
    assert!(log.contains("<h1>Leveranslogg</h1>"), "{log}");
    assert!(log.contains("Inget har skickats"));

    // A role that does not manage subscriptions has no page; another organisation's is not found.
    let holder = Browser::signed_in(&app, "register-holder").await;
    let (s, _) = holder.page("/webhooks").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let company = Browser::signed_in(&app, "company").await;
    let (s, _) = company.page(&format!("/webhooks/{sub}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let r = legal
        .post_form(&format!("/webhooks/{sub}/delete"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/webhooks?webhooks=deleted");
    let html = legal.html("/webhooks?webhooks=deleted").await;
    assert!(html.contains("Prenumerationen är borttagen"), "{html}");
    assert!(html.contains("Er organisation har inga prenumerationer."));
    legal.get("/language/en").await;
    assert!(legal
        .html("/webhooks")
        .await
        .contains("<h1>Outbound events</h1>"));
}
