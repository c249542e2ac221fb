//! Reference data: the six CPUAs of seed 002, example registers, and an administrator's changes.
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{ok, problem, TestApp};

#[tokio::test]
async fn a_fresh_database_has_the_six_cpua_authorities_and_example_registers() {
    let app = TestApp::spawn().await;
    let t = app.token("company").await;
    let v = ok(app
        .get("/api/v1/organisations?kind=cpua_authority", &t)
        .await)
    .await;
    let mut names: Vec<String> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            "Region Skåne",
            "Region Stockholm",
            "Region Uppsala",
            "Region Västerbotten",
            "Region Östergötland",
            "Västra Götalandsregionen"
        ]
    );
    let regs = ok(app.get("/api/v1/registers", &t).await).await;
    assert!(regs["total"].as_i64().unwrap() >= 5);
    assert!(regs["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["is_example"] == true && r["cpua"].is_string()));
}

#[tokio::test]
async fn an_administrator_adds_organisations_and_registers_and_moves_a_register_keeping_history() {
    let app = TestApp::spawn().await;
    let admin = app.token("admin").await;
    let company = app.token("company").await;
    let body = json!({"name": "Medtech Exempel AB", "kind": "company", "org_number": "556012-3456",
                      "vat_number": "SE556012345601"});
    problem(
        app.post("/api/v1/organisations", &company, &body).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let org = ok(app.post("/api/v1/organisations", &admin, &body).await).await;
    assert_eq!(org["org_number"], "556012-3456");
    let p = problem(
        app.post("/api/v1/organisations", &admin, &body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["rule"], "unique");
    let p = problem(
        app.post(
            "/api/v1/organisations",
            &admin,
            &json!({"name": "Fel AB", "kind": "company", "org_number": "556012-3457"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], "org_number");
    assert!(p["detail"].as_str().unwrap().contains("kontrollsiffran"));
    let p = problem(
        app.post(
            "/api/v1/organisations",
            &admin,
            &json!({"name": "Fel AB", "kind": "bank", "org_number": "556012-3456", "vat_number": "SE1"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["kind", "vat_number"]);

    let uppsala = app.org("Region Uppsala").await;
    let skane = app.org("Region Skåne").await;
    let reg = ok(app
        .post(
            "/api/v1/registers",
            &admin,
            &json!({"code": "EX-NY", "name": "Ett nytt exempelregister", "cpua": uppsala, "is_example": true}),
        )
        .await)
    .await;
    let id = reg["id"].as_str().unwrap();
    let p = problem(
        app.post(
            "/api/v1/registers",
            &admin,
            &json!({"code": "EX-NY2", "name": "x", "cpua": org["id"]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["rule"], "cpua_authority");
    app.clock.advance(chrono::Duration::days(1));
    let admin = app.token("admin").await;
    let company = app.token("company").await;
    let moved = ok(app
        .put(
            &format!("/api/v1/registers/{id}/cpua"),
            &admin,
            &json!({"cpua": skane}),
        )
        .await)
    .await;
    assert_eq!(moved["cpua"], skane.as_str());
    let history = moved["cpua_history"].as_array().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["cpua"], uppsala.as_str());
    assert!(history[0]["valid_to"].is_string());
    assert!(history[1]["valid_to"].is_null());
    problem(
        app.put(
            &format!("/api/v1/registers/{id}/cpua"),
            &company,
            &json!({"cpua": uppsala}),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
}
