//! Issue 16's remaining items through the API, on both databases: the to-do of data-user approvals
//! (CPUA legal) and of unconfirmed undertakings (the person named); the audit events of webhook
//! subscriptions on the organisation's stream, with `audit verify` passing; and the dossier's fifth
//! item given by active named data users (seed 000, "Menprövning av centralt personuppgiftsansvarig
//! myndighet (CPUA)": "Uppgift om vilka som har tillgång till personuppgifterna i
//! forskningsprojektet").
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{approval, obligation, ok, TestApp};

fn person(name: &str, email: &str) -> Value {
    json!({"name": name, "email": email, "project_role": "statistiker"})
}

/// Approved, the agreement executed and the data released by Region Uppsala.
async fn released(app: &TestApp) -> String {
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    app.walk_to_application(&id, &["Region Uppsala"]).await;
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

async fn todo(app: &TestApp, token: &str) -> Vec<Value> {
    ok(app.get("/api/v1/me/todo", token).await)
        .await
        .as_array()
        .unwrap()
        .clone()
}

fn with_reason<'a>(items: &'a [Value], reason: &str) -> Vec<&'a Value> {
    items.iter().filter(|i| i["reason"] == reason).collect()
}

#[tokio::test]
async fn the_to_do_lists_data_user_approvals_for_cpua_legal_and_undertakings_for_the_person() {
    let app = TestApp::spawn().await;
    let id = released(&app).await;
    let company = app.token("company").await;
    let legal = app.token("legal").await;
    app.add_account("olle", "company_representative", "Prov Medicinteknik AB")
        .await;
    let olle = app.token("olle").await;
    let path = format!("/api/v1/collaborations/{id}/data-users");
    assert!(with_reason(&todo(&app, &legal).await, "approve_data_user").is_empty());
    assert!(with_reason(&todo(&app, &olle).await, "confirm_undertaking").is_empty());

    // After release the addition waits for legal, and Olle's undertaking waits for Olle.
    let u = ok(app
        .post(
            &path,
            &company,
            &person("Olle Ny", "olle@test.samverkan.invalid"),
        )
        .await)
    .await;
    assert_eq!(u["status"], "pending_approval");
    let uid = u["id"].as_str().unwrap().to_string();
    let items = todo(&app, &legal).await;
    let waiting = with_reason(&items, "approve_data_user");
    assert_eq!(waiting.len(), 1, "{items:?}");
    assert_eq!(waiting[0]["subject"], "Olle Ny");
    assert_eq!(waiting[0]["collaboration_id"], id.as_str());
    // The company does not approve: nothing of the kind on its list.
    assert!(with_reason(&todo(&app, &company).await, "approve_data_user").is_empty());
    let items = todo(&app, &olle).await;
    let mine = with_reason(&items, "confirm_undertaking");
    assert_eq!(mine.len(), 1, "{items:?}");
    assert_eq!(mine[0]["link"], "/undertakings");
    assert_eq!(mine[0]["collaboration_id"], id.as_str());
    // Nobody else is asked for Olle's undertaking.
    assert!(with_reason(&todo(&app, &company).await, "confirm_undertaking").is_empty());

    // Approved: off legal's list; confirmed: off Olle's.
    ok(app
        .post(
            &format!("{path}/{uid}/decision"),
            &legal,
            &json!({"approve": true}),
        )
        .await)
    .await;
    assert!(with_reason(&todo(&app, &legal).await, "approve_data_user").is_empty());
    assert_eq!(
        with_reason(&todo(&app, &olle).await, "confirm_undertaking").len(),
        1
    );
    let mine = ok(app.get("/api/v1/me/undertakings", &olle).await).await;
    let version = mine[0]["version"].as_str().unwrap().to_string();
    ok(app
        .post(
            &format!("/api/v1/me/undertakings/{uid}"),
            &olle,
            &json!({"accept": true, "version": version}),
        )
        .await)
    .await;
    assert!(with_reason(&todo(&app, &olle).await, "confirm_undertaking").is_empty());
}

#[tokio::test]
async fn webhook_subscriptions_made_and_deleted_are_audited_on_the_organisations_stream() {
    let app = TestApp::spawn().await;
    let uppsala = app.org("Region Uppsala").await;
    let legal = app.token("legal").await;
    let subs = format!("/api/v1/organisations/{uppsala}/webhook-subscriptions");
    let r = app
        .post(
            &subs,
            &legal,
            &json!({"url": "http://127.0.0.1:9/diariet", "event_types": ["decision_taken"], "description": "Diariet"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.unwrap();
    let sub = created["id"].as_str().unwrap().to_string();
    let secret = created["secret"].as_str().unwrap().to_string();
    let r = app
        .send(
            reqwest::Method::DELETE,
            &format!("{subs}/{sub}"),
            &legal,
            &Value::Null,
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);

    let db = samverkan::db::Db::connect(&app.database_url, 1).unwrap();
    let mut conn = db.pool.get().unwrap();
    let stream = format!("organisation:{uppsala}");
    let events = samverkan::db::repo::stream_events(&mut conn, &stream).unwrap();
    let ours: Vec<_> = events
        .iter()
        .filter(|e| e.command.starts_with("webhook_subscription_"))
        .collect();
    let codes: Vec<&str> = ours.iter().map(|e| e.command.as_str()).collect();
    assert_eq!(
        codes,
        [
            "webhook_subscription_created",
            "webhook_subscription_deleted"
        ],
        "{codes:?}"
    );
    for e in &ours {
        assert_eq!(e.actor_org.as_deref(), Some(uppsala.as_str()));
        let text = serde_json::to_string(e).unwrap();
        let names = if e.command.ends_with("created") {
            sub.as_str()
        } else {
            "deleted_at"
        };
        assert!(text.contains(names), "{text}");
        assert!(
            !text.contains(&secret),
            "the secret never reaches the trail"
        );
    }
    assert!(samverkan::domain::audit::verify_chain(&events).is_ok());
    let out = app.audit_verify();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("every chain is intact"), "{stdout}");

    // Deleting again: 404, and no event.
    let r = app
        .send(
            reqwest::Method::DELETE,
            &format!("{subs}/{sub}"),
            &legal,
            &Value::Null,
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let after = samverkan::db::repo::stream_events(&mut conn, &stream).unwrap();
    assert_eq!(after.len(), events.len());
}

/// The dossier without its fifth item, sent to Region Uppsala.
async fn applied_without_access_item(app: &TestApp) -> (String, String) {
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    let company = app.token("company").await;
    ok(app
        .transition(&id, &company, json!({"to": "register_contact"}))
        .await)
    .await;
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
    let mut dossier = crate::helpers::dossier();
    dossier
        .as_object_mut()
        .unwrap()
        .remove("access_and_storage");
    ok(app
        .transition(
            &id,
            &company,
            json!({"to": "data_application", "cpua": uppsala, "dossier": dossier}),
        )
        .await)
    .await;
    (id, uppsala)
}

fn review_missing(view: &Value) -> Vec<String> {
    obligation(view, "confidentiality_review").expect("the confidentiality review is in force")
        ["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn an_active_named_data_user_gives_the_dossiers_fifth_item() {
    let app = TestApp::spawn().await;
    let (id, uppsala) = applied_without_access_item(&app).await;
    let company = app.token("company").await;
    let legal = app.token("legal").await;
    // Seed 000: without anyone named, who has access to the personal data is missing.
    let v = app.view(&id, &company).await;
    assert_eq!(review_missing(&v), ["dossier.access_and_storage"]);
    assert_eq!(
        v["collaboration"]["cpua_reviews"][0]["application_complete_at"],
        Value::Null
    );
    let path = format!("/api/v1/collaborations/{id}/data-users");
    let listed = ok(app.get(&path, &company).await).await;
    assert_eq!(listed["dossier_item_satisfied"], false);
    assert_eq!(listed["may_add"], true);

    // Named before release, Eva is active: the item is given, and the application sent again is
    // complete (the decision clock starts).
    let u = ok(app
        .post(
            &path,
            &company,
            &person("Eva Statistiker", "eva@test.samverkan.invalid"),
        )
        .await)
    .await;
    assert_eq!(u["status"], "active");
    let v = app.view(&id, &company).await;
    assert!(review_missing(&v).is_empty(), "{v}");
    assert_eq!(
        obligation(&v, "confidentiality_review").unwrap()["met"],
        true
    );
    let listed = ok(app.get(&path, &company).await).await;
    assert_eq!(listed["dossier_item_satisfied"], true);
    let v = ok(app
        .transition(
            &id,
            &company,
            json!({"to": "data_application", "cpua": uppsala, "dossier": {}}),
        )
        .await)
    .await;
    assert!(v["collaboration"]["cpua_reviews"][0]["application_complete_at"].is_string());
    let legal_view = app.view(&id, &legal).await;
    let decide = legal_view["next"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["command"] == "release_decision")
        .expect("legal may decide");
    assert_eq!(decide["allowed"], true, "{decide}");

    // Removed, nobody active is left: the item is missing again.
    ok(app
        .post(
            &format!("{path}/{}/remove", u["id"].as_str().unwrap()),
            &company,
            &json!({}),
        )
        .await)
    .await;
    let v = app.view(&id, &company).await;
    assert_eq!(review_missing(&v), ["dossier.access_and_storage"]);
}
