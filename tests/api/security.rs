//! Authentication on every route; others' records answer 404; local mode only on loopback.
use reqwest::StatusCode;
use serde_json::{json, Value};

use samverkan::http::routes::{route_table, Access};

use crate::helpers::{ok, problem, TestApp};

/// Walks the router's own route table: every route the table marks as needing a token answers 401
/// without one (and with a made-up one), and every public route answers without one.
#[tokio::test]
async fn every_non_public_route_needs_a_token() {
    let app = TestApp::spawn().await;
    let table = route_table();
    let mut checked = 0;
    for r in &table {
        let mut path = r.path.clone();
        for p in r.path_parameters() {
            path = path.replace(&format!("{{{p}}}"), "00000000-0000-4000-8000-000000000000");
        }
        let send = |token: Option<&str>| {
            let mut b = app
                .client
                .request(
                    reqwest::Method::from_bytes(r.method.as_str().as_bytes()).unwrap(),
                    format!("{}{path}", app.base),
                )
                .json(&json!({}));
            if let Some(t) = token {
                b = b.bearer_auth(t);
            }
            b.send()
        };
        match r.access {
            Access::Authenticated => {
                for token in [None, Some("sv_not-a-token")] {
                    let resp = send(token).await.unwrap();
                    problem(resp, StatusCode::UNAUTHORIZED).await;
                }
                checked += 1;
            }
            Access::Public => {
                let resp = send(None).await.unwrap();
                assert_ne!(
                    resp.status(),
                    StatusCode::UNAUTHORIZED,
                    "{} {} is public",
                    r.method,
                    r.path
                );
            }
        }
    }
    assert!(checked >= 25, "checked {checked} operations");
    assert!(
        // The nine of sign-in, health and documentation, and the signing providers' events route
        // (authenticated by its Standard Webhooks signature: tests/api/webhooks.rs).
        table.iter().filter(|r| r.access == Access::Public).count() <= 10,
        "public routes: {:?}",
        table
            .iter()
            .filter(|r| r.access == Access::Public)
            .map(|r| &r.path)
            .collect::<Vec<_>>()
    );
    // An unknown route is not public either.
    let r = app
        .client
        .get(format!("{}/api/v1/no/such/route", app.base))
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn another_organisations_collaboration_answers_404() {
    let app = TestApp::spawn().await;
    let company = app.token("company").await;
    let reg = app.register("EX-HJARTA").await;
    // No research principal: the university's representative has no part in it.
    let v = ok(app
        .post(
            "/api/v1/collaborations",
            &company,
            &json!({"title": "Statistik", "purpose": "Tabeller", "is_research": false,
                    "registers": [reg], "data_kind": "aggregated"}),
        )
        .await)
    .await;
    let id = v["collaboration"]["id"].as_str().unwrap();
    let principal = app.token("principal").await;
    let legal_vgr = app.token("legal-vgr").await;
    let legal = app.token("legal").await;
    for t in [&principal, &legal_vgr] {
        let p = problem(
            app.get(&format!("/api/v1/collaborations/{id}"), t).await,
            StatusCode::NOT_FOUND,
        )
        .await;
        assert_eq!(p["type"], "urn:samverkan:problem:not_found");
        problem(
            app.transition(id, t, json!({"to": "register_contact"}))
                .await,
            StatusCode::NOT_FOUND,
        )
        .await;
        problem(
            app.get(&format!("/api/v1/collaborations/{id}/audit"), t)
                .await,
            StatusCode::NOT_FOUND,
        )
        .await;
        let list = ok(app.get("/api/v1/collaborations", t).await).await;
        assert_eq!(list["total"], 0);
    }
    // The CPUA of the register sees it.
    ok(app
        .get(&format!("/api/v1/collaborations/{id}"), &legal)
        .await)
    .await;
    assert_eq!(
        ok(app.get("/api/v1/collaborations", &legal).await).await["total"],
        1
    );
}

#[tokio::test]
async fn internal_notes_are_never_shown_to_the_parties() {
    let app = TestApp::spawn().await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    let legal = app.token("legal").await;
    let company = app.token("company").await;
    ok(app
        .action(
            &id,
            &legal,
            json!({"action": "add_internal_note", "text": "Kontrollera variabellistan."}),
        )
        .await)
    .await;
    let seen = ok(app
        .get(&format!("/api/v1/collaborations/{id}"), &legal)
        .await)
    .await;
    assert_eq!(
        seen["collaboration"]["internal_notes"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let party = ok(app
        .get(&format!("/api/v1/collaborations/{id}"), &company)
        .await)
    .await;
    // An internal note is seen only inside the organisation that wrote it (issue 8, item 9).
    assert!(party["collaboration"]["internal_notes"]
        .as_array()
        .is_none_or(|a| a.is_empty()));
    assert!(!party.to_string().contains("Kontrollera variabellistan"));
    let events = ok(app
        .get(&format!("/api/v1/collaborations/{id}/events"), &company)
        .await)
    .await;
    let body = events.to_string();
    assert!(!body.contains("Kontrollera variabellistan"));
    assert!(!body.contains("add_internal_note"));
    let events = ok(app
        .get(&format!("/api/v1/collaborations/{id}/events"), &legal)
        .await)
    .await;
    assert!(events.to_string().contains("add_internal_note"));
}

#[tokio::test]
async fn local_mode_refuses_a_non_loopback_address() {
    let mut settings = samverkan::config::Settings::defaults();
    settings.addr = "0.0.0.0:0".into();
    let dir = tempfile::tempdir().unwrap();
    settings.database_url = format!("sqlite://{}/x.db", dir.path().display());
    let err = samverkan::startup::Application::build(
        settings,
        std::sync::Arc::new(samverkan::app::clock::SystemClock),
    )
    .err()
    .expect("refused");
    assert!(err.to_string().contains("loopback"), "{err}");
}

#[tokio::test]
async fn health_and_api_docs_are_served() {
    let app = TestApp::spawn().await;
    let v: Value = app
        .client
        .get(format!("{}/health/ready", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["status"], "ready");
    assert_eq!(
        v["database"],
        if app.is_postgres() {
            "postgres"
        } else {
            "sqlite"
        }
    );
    let r = app
        .client
        .get(format!("{}/api/docs", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("/api/openapi.json"));
    assert!(
        !html.contains("src=\"http"),
        "nothing is loaded from the internet"
    );
    let t = app.token("company").await;
    let p = problem(
        app.get("/api/v1/no/such/route", &t).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(p["type"], "urn:samverkan:problem:not_found");
}
