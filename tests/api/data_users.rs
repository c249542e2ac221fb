//! Named data users (issue 16 item 6) through the API, on both databases: seed 000, "Menprövning av
//! centralt personuppgiftsansvarig myndighet (CPUA)" (the dossier's fifth item: who has access to the
//! personal data), the CPUA's approval of an addition after release, removal as a status, and the
//! person's own confidentiality undertaking (seed 000, "Hantering vid utlämnandet av
//! kvalitetsregisterdata").
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{approval, ok, problem, TestApp};

async fn applied(app: &TestApp) -> (String, String) {
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    app.walk_to_application(&id, &["Region Uppsala"]).await;
    (id, app.org("Region Uppsala").await)
}

/// Approved, the agreement executed and the data released by Region Uppsala.
async fn released(app: &TestApp) -> String {
    let (id, uppsala) = applied(app).await;
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

fn person(name: &str, email: &str) -> Value {
    json!({"name": name, "email": email, "project_role": "statistiker"})
}

async fn events(app: &TestApp, id: &str, token: &str) -> String {
    ok(app
        .get(&format!("/api/v1/collaborations/{id}/events"), token)
        .await)
    .await
    .to_string()
}

#[tokio::test]
async fn before_release_a_named_person_is_active_and_confirms_their_own_undertaking() {
    let app = TestApp::spawn().await;
    let (id, _) = applied(&app).await;
    let company = app.token("company").await;
    let path = format!("/api/v1/collaborations/{id}/data-users");
    // Eva signs in elsewhere (another company): she need not see the case to confirm her own part.
    app.add_account("eva", "company_representative", "Prov Medicinteknik AB")
        .await;
    let eva = app.token("eva").await;

    // Bad input names its field; nothing is stored.
    for (body, field) in [
        (person("", "eva@test.samverkan.invalid"), "name"),
        (person("Eva", "inte-en-adress"), "email"),
        (
            json!({"name": "Eva", "email": "eva@test.samverkan.invalid", "project_role": " "}),
            "project_role",
        ),
    ] {
        let p = problem(
            app.post(&path, &company, &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(p["errors"][0]["field"], field, "{p}");
    }
    // Only a party names people.
    problem(
        app.post(
            &path,
            &app.token("legal").await,
            &person("Eva", "eva@test.samverkan.invalid"),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let listed = ok(app.get(&path, &company).await).await;
    assert!(listed["items"].as_array().unwrap().is_empty());
    assert_eq!(listed["dossier_item_satisfied"], false);

    let r = app
        .post(
            &path,
            &company,
            &person("Eva Statistiker", "Eva@Test.Samverkan.invalid"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let u: Value = r.json().await.unwrap();
    assert_eq!(
        u["status"], "active",
        "before release no approval is needed"
    );
    assert_eq!(u["email"], "eva@test.samverkan.invalid");
    assert_eq!(u["may_access"], false, "not before the undertaking");
    let uid = u["id"].as_str().unwrap().to_string();
    // The same address twice: 409.
    problem(
        app.post(
            &path,
            &company,
            &person("Eva", "eva@test.samverkan.invalid"),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    let listed = ok(app.get(&path, &company).await).await;
    assert_eq!(listed["dossier_item_satisfied"], true);
    assert_eq!(listed["undertakings_pending"], 1);

    // Nobody but Eva confirms Eva's undertaking: to anyone else it does not exist.
    let mine = ok(app.get("/api/v1/me/undertakings", &company).await).await;
    assert!(mine.as_array().unwrap().is_empty());
    let confirm = format!("/api/v1/me/undertakings/{uid}");
    problem(
        app.post(
            &confirm,
            &company,
            &json!({"accept": true, "version": "2026-12-1"}),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let mine = ok(app.get("/api/v1/me/undertakings", &eva).await).await;
    let mine = mine.as_array().unwrap();
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert!(mine[0]["text_sv"]
        .as_str()
        .unwrap()
        .contains("obehörigen röja"));
    let version = mine[0]["version"].as_str().unwrap().to_string();
    let p = problem(
        app.post(
            &confirm,
            &eva,
            &json!({"accept": false, "version": version}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "accept");
    let p = problem(
        app.post(
            &confirm,
            &eva,
            &json!({"accept": true, "version": "1999-1"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "version");
    let done = ok(app
        .post(&confirm, &eva, &json!({"accept": true, "version": version}))
        .await)
    .await;
    assert_eq!(done["may_access"], true);
    assert_eq!(done["undertaking"]["version"], version.as_str());
    assert_eq!(done["undertaking"]["sha256"].as_str().unwrap().len(), 64);
    problem(
        app.post(&confirm, &eva, &json!({"accept": true, "version": version}))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    let listed = ok(app.get(&path, &company).await).await;
    assert_eq!(listed["undertakings_pending"], 0);
    let trail = events(&app, &id, &company).await;
    assert!(trail.contains("data_user_added") && trail.contains("data_user_undertaking_confirmed"));
}

#[tokio::test]
async fn after_release_an_addition_waits_for_the_cpua_and_removal_keeps_the_record() {
    let app = TestApp::spawn().await;
    let id = released(&app).await;
    let company = app.token("company").await;
    let legal = app.token("legal").await;
    let path = format!("/api/v1/collaborations/{id}/data-users");
    let u = ok(app
        .post(
            &path,
            &company,
            &person("Olle Ny", "olle@test.samverkan.invalid"),
        )
        .await)
    .await;
    assert_eq!(u["status"], "pending_approval");
    let decide = format!("{path}/{}/decision", u["id"].as_str().unwrap());
    // Only CPUA legal decides; a refusal needs a reason.
    problem(
        app.post(&decide, &company, &json!({"approve": true})).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let p = problem(
        app.post(&decide, &legal, &json!({"approve": false})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "reason");
    let refused = ok(app
        .post(
            &decide,
            &legal,
            &json!({"approve": false, "reason": "Rollen i projektet är inte beskriven"}),
        )
        .await)
    .await;
    assert_eq!(refused["status"], "refused");
    assert_eq!(
        refused["refusal_reason"],
        "Rollen i projektet är inte beskriven"
    );
    // Decided once: 409.
    problem(
        app.post(&decide, &legal, &json!({"approve": true})).await,
        StatusCode::CONFLICT,
    )
    .await;
    // Named again (a refused address may be named anew) and approved.
    let again = ok(app
        .post(
            &path,
            &company,
            &person("Olle Ny", "olle@test.samverkan.invalid"),
        )
        .await)
    .await;
    let uid = again["id"].as_str().unwrap().to_string();
    let approved = ok(app
        .post(
            &format!("{path}/{uid}/decision"),
            &legal,
            &json!({"approve": true}),
        )
        .await)
    .await;
    assert_eq!(approved["status"], "active");
    assert!(approved["decided_by"]["name"].is_string());
    // Removal is a status; twice is 409; the record and both people stay listed.
    let remove = format!("{path}/{uid}/remove");
    let removed = ok(app
        .post(
            &remove,
            &company,
            &json!({"reason": "Har lämnat projektet"}),
        )
        .await)
    .await;
    assert_eq!(removed["status"], "removed");
    assert_eq!(removed["removal_reason"], "Har lämnat projektet");
    problem(
        app.post(&remove, &legal, &json!({})).await,
        StatusCode::CONFLICT,
    )
    .await;
    let listed = ok(app.get(&path, &legal).await).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);
    assert_eq!(listed["dossier_item_satisfied"], false);
    // Another company's representative does not see the case's people at all.
    app.add_account("other", "company_representative", "Prov Medicinteknik AB")
        .await;
    problem(
        app.get(&path, &app.token("other").await).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let trail = events(&app, &id, &company).await;
    for e in [
        "data_user_refused",
        "data_user_approved",
        "data_user_removed",
    ] {
        assert!(trail.contains(e), "{e}");
    }
}
