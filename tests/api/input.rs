//! Bad input gets a 4xx problem+json naming the field and the rule, and nothing is half-written.
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{ok, problem, TestApp};

async fn count(app: &TestApp, token: &str) -> i64 {
    ok(app.get("/api/v1/collaborations", token).await).await["total"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn malformed_json_wrong_types_and_unknown_fields_are_refused_without_writing() {
    let app = TestApp::spawn().await;
    let t = app.token("company").await;
    let url = format!("{}/api/v1/collaborations", app.base);
    let r = app
        .client
        .post(&url)
        .bearer_auth(&t)
        .header("content-type", "application/json")
        .body("{\"title\": ")
        .send()
        .await
        .unwrap();
    let p = problem(r, StatusCode::BAD_REQUEST).await;
    assert!(p["detail"].as_str().unwrap().contains("kroppen tar slut"));

    let p = problem(
        app.post(
            "/api/v1/collaborations",
            &t,
            &json!({"title": 5, "purpose": "x", "data_kind": "aggregated"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], "title");
    assert_eq!(p["rule"], "type");

    let p = problem(
        app.post(
            "/api/v1/collaborations",
            &t,
            &json!({"title": "t", "purpose": "x", "data_kind": "aggregated", "sponsor": "yes"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], "sponsor");
    assert_eq!(p["rule"], "unknown_field");

    let p = problem(
        app.post(
            "/api/v1/collaborations",
            &t,
            &json!({"title": "t", "purpose": "x"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], "data_kind");
    assert_eq!(p["rule"], "required");

    let p = problem(
        app.post(
            "/api/v1/collaborations",
            &t,
            &json!({"title": "t", "purpose": "x", "data_kind": "aggregated", "recipient_countries": ["SE", "XX"]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], "recipient_countries[1]");

    let p = problem(
        app.post(
            "/api/v1/collaborations",
            &t,
            &json!({"title": "t", "purpose": "x", "data_kind": "aggregated",
                    "registers": ["7d0b7c55-0000-4000-8000-000000000000"]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], "registers[0]");
    assert_eq!(p["rule"], "unknown_register");

    let p = problem(
        app.post(
            "/api/v1/collaborations",
            &t,
            &json!({"title": "  ", "purpose": "x", "data_kind": "aggregated"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], "title");

    let r = app
        .client
        .post(&url)
        .bearer_auth(&t)
        .header("content-type", "text/plain")
        .body("title=x")
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;

    assert_eq!(count(&app, &t).await, 0, "nothing was written");
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let app = TestApp::spawn().await;
    let t = app.token("company").await;
    let huge = "x".repeat(300_000);
    let p = problem(
        app.post(
            "/api/v1/collaborations",
            &t,
            &json!({"title": "t", "purpose": huge, "data_kind": "aggregated"}),
        )
        .await,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("byte"));
    assert_eq!(count(&app, &t).await, 0);
}

#[tokio::test]
async fn transitions_out_of_order_and_unknown_targets_are_refused() {
    let app = TestApp::spawn().await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    let t = app.token("company").await;
    let p = problem(
        app.transition(&id, &t, json!({"to": "results"})).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(p["rule"], "wrong_step");
    let p = problem(
        app.transition(&id, &t, json!({"to": "teleport"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], "to");
    assert_eq!(p["rule"], "one_of");
    let p = problem(
        app.transition(&id, &t, json!({"to": "refused"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["rule"], "not_a_transition");
    let p = problem(
        app.transition(&id, &t, json!({"to": "register_contact", "force": true}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["rule"], "unknown_field");
    let v = ok(app.get(&format!("/api/v1/collaborations/{id}"), &t).await).await;
    assert_eq!(v["version"], 1, "refusals write nothing");
    let events = ok(app
        .get(&format!("/api/v1/collaborations/{id}/events"), &t)
        .await)
    .await;
    assert_eq!(events.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_second_concurrent_transition_on_the_same_collaboration_is_refused() {
    let app = TestApp::spawn().await;
    let (id, created) = app.research_collaboration(&["EX-HJARTA"]).await;
    let t = app.token("company").await;
    let version = created["version"].as_i64().unwrap();
    let send = |body: Value| {
        let client = app.client.clone();
        let url = format!("{}/api/v1/collaborations/{id}/transitions", app.base);
        let t = t.clone();
        async move {
            client
                .post(url)
                .bearer_auth(t)
                .header("If-Match", format!("\"{version}\""))
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let (a, b) = tokio::join!(
        send(json!({"to": "register_contact"})),
        send(json!({"to": "register_contact"}))
    );
    // The loser either saw the new version when it loaded (412: its If-Match is stale) or lost the
    // optimistic race at the write (409).
    let (winner, loser) = if a.status() == StatusCode::OK {
        (a, b)
    } else {
        (b, a)
    };
    assert_eq!(winner.status(), StatusCode::OK);
    let lost = loser.status();
    assert!(
        lost == StatusCode::PRECONDITION_FAILED || lost == StatusCode::CONFLICT,
        "the loser got {lost}"
    );
    problem(loser, lost).await;
    let events = ok(app
        .get(&format!("/api/v1/collaborations/{id}/events"), &t)
        .await)
    .await;
    assert_eq!(
        events.as_array().unwrap().len(),
        2,
        "exactly one transition was written"
    );
    // A stale If-Match is refused too.
    let r = app
        .client
        .post(format!(
            "{}/api/v1/collaborations/{id}/transitions",
            app.base
        ))
        .bearer_auth(&t)
        .header("If-Match", "\"1\"")
        .json(&json!({"to": "ethics_review"}))
        .send()
        .await
        .unwrap();
    let p = problem(r, StatusCode::PRECONDITION_FAILED).await;
    assert_eq!(p["type"], "urn:samverkan:problem:precondition_failed");
}

#[tokio::test]
async fn lists_are_paginated_with_a_hard_cap() {
    let app = TestApp::spawn().await;
    let t = app.token("company").await;
    for _ in 0..3 {
        app.research_collaboration(&["EX-HJARTA"]).await;
    }
    let first = ok(app.get("/api/v1/collaborations?per_page=2", &t).await).await;
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let v = ok(app.get(first["next"].as_str().unwrap(), &t).await).await;
    assert_eq!(v["total"], 3);
    assert_eq!(v["items"].as_array().unwrap().len(), 1);
    let p = problem(
        app.get("/api/v1/collaborations?per_page=5000", &t).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], "per_page");
    let p = problem(
        app.get("/api/v1/collaborations?color=red", &t).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], "color");
    let p = problem(
        app.get("/api/v1/collaborations?step=nine", &t).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], "step");
}

/// A NUL in a token request used to reach PostgreSQL and come back as a 500 with its own error.
#[tokio::test]
async fn a_nul_or_control_character_anywhere_is_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let r = app
        .client
        .post(format!("{}/api/v1/local/token", app.base))
        .json(&json!({"account": "com\u{0}pany"}))
        .send()
        .await
        .unwrap();
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(p["field"], "account");
    assert_eq!(p["rule"], "control_characters");
    let t = app.token("company").await;
    for (body, field) in [
        (
            json!({"title": "a\u{1b}[31mb", "purpose": "x", "data_kind": "aggregated"}),
            "title",
        ),
        (
            json!({"title": "t", "purpose": "x", "data_kind": "aggregated", "requested_variables": ["alder", "k\u{7}on"]}),
            "requested_variables[1]",
        ),
    ] {
        let p = problem(
            app.post("/api/v1/collaborations", &t, &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(p["field"], field, "{p}");
        assert_eq!(p["rule"], "control_characters");
    }
    assert_eq!(count(&app, &t).await, 0);
    // A line break is fine in a multi-line text.
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    let legal = app.token("legal").await;
    ok(app
        .action(
            &id,
            &legal,
            json!({"action": "add_internal_note", "text": "Rad ett.\nRad två."}),
        )
        .await)
    .await;
}

#[tokio::test]
async fn long_lists_and_repeated_items_are_refused() {
    let app = TestApp::spawn().await;
    let t = app.token("company").await;
    let many = vec!["US"; 40_000];
    let p = problem(
        app.post(
            "/api/v1/collaborations",
            &t,
            &json!({"title": "t", "purpose": "x", "data_kind": "aggregated", "recipient_countries": many}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], "recipient_countries");
    assert_eq!(p["rule"], "max_items");
    let p = problem(
        app.post(
            "/api/v1/collaborations",
            &t,
            &json!({"title": "t", "purpose": "x", "data_kind": "aggregated", "recipient_countries": ["US", "GB", "US"]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], "recipient_countries[2]");
    assert_eq!(p["rule"], "duplicate");
    let p = problem(
        app.post(
            "/api/v1/collaborations",
            &t,
            &json!({"title": "t", "purpose": "x", "data_kind": "aggregated", "recipient_countries": ["ZZZ"]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], "recipient_countries[0]");
    let p = problem(
        app.post(
            "/api/v1/collaborations",
            &t,
            &json!({"title": "x".repeat(20_001), "purpose": "x", "data_kind": "aggregated"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], "title");
    assert_eq!(p["rule"], "max_length");
    assert_eq!(count(&app, &t).await, 0);
}

#[tokio::test]
async fn dates_outside_1990_to_2100_are_refused_and_errors_inside_actions_name_the_field() {
    let app = TestApp::spawn().await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    let company = app.token("company").await;
    for (decided_on, rule) in [
        (json!("0000-01-01"), "date_range"),
        (json!("1989-12-31"), "date_range"),
        (json!("2101-01-01"), "date_range"),
        (json!(5), "type"),
        (json!("2026-02-30"), "invalid"),
    ] {
        let p = problem(
            app.action(
                &id,
                &company,
                json!({"action": "record_ethics_approval", "reference": "2026-01234-01", "decided_on": decided_on}),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(p["field"], "decided_on", "{decided_on}: {p}");
        assert_eq!(p["rule"], rule, "{decided_on}: {p}");
    }
    // Inside a transition, a nested field is named by its path.
    let cpua = app.org("Region Uppsala").await;
    let p = problem(
        app.transition(
            &id,
            &company,
            json!({"to": "data_application", "cpua": cpua, "dossier": {"requested_data": "alder"}}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], "dossier.requested_data", "{p}");
    assert_eq!(p["rule"], "type");
    ok(app
        .action(
            &id,
            &company,
            json!({"action": "record_ethics_approval", "reference": "2026-01234-01", "decided_on": "1990-01-01"}),
        )
        .await)
    .await;
}

#[tokio::test]
async fn addresses_need_a_swedish_postal_code_an_iso_country_and_bounded_lines() {
    let app = TestApp::spawn().await;
    let admin = app.token("admin").await;
    let org = |address: Value| json!({"name": "Adressbolaget AB", "kind": "company", "org_number": "556123-4567", "address": address});
    for (address, field) in [
        (
            json!({"street": "x".repeat(200_000), "postal_code": "111 22", "city": "Stockholm"}),
            "address.street",
        ),
        (
            json!({"street": "Storgatan\n1", "postal_code": "111 22", "city": "Stockholm"}),
            "address.street",
        ),
        (
            json!({"street": "Storgatan 1", "postal_code": "111 22", "city": "Stockholm", "country": "ZZZ"}),
            "address.country",
        ),
        (
            json!({"street": "Storgatan 1", "postal_code": "111 22", "city": "Stockholm", "country": "XX"}),
            "address.country",
        ),
        (
            json!({"street": "Storgatan 1", "postal_code": "1112", "city": "Stockholm"}),
            "address",
        ),
    ] {
        let p = problem(
            app.post("/api/v1/organisations", &admin, &org(address.clone()))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(p["field"], field, "{p}");
    }
    let created = ok(app
        .post(
            "/api/v1/organisations",
            &admin,
            &org(json!({"street": "Storgatan 1", "postal_code": "11122", "city": "Stockholm"})),
        )
        .await)
    .await;
    assert_eq!(created["address"]["postal_code"], "111 22", "{created}");
    assert_eq!(created["address"]["country"], "SE");
}
