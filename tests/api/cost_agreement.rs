//! The written cost agreement with rates per role, direct expenses and a ceiling, measured against the
//! register holder's estimate (issue 15, item 1; seed 000, "Ersättning för datauttag för forskning").
//! Far from the estimate (product rule: below 50 % or above 200 %) is a "bör": refused until it is
//! confirmed with a reason, never a block.
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{ok, problem, TestApp};

/// A case at step 2 whose register holder estimated 10 000 kr for a charged extraction.
async fn estimated(app: &TestApp) -> String {
    app.case_at_register_contact(true).await
}

fn agreement(estimate_ore: i64) -> Value {
    json!({"action": "record_cost_agreement", "reference": "KOST-7", "signed_on": "2026-09-01",
           "estimate_ore": estimate_ore, "hourly_rate_ore": 90_000,
           "rates": [{"role": "statistician", "hourly_rate_ore": 120_000},
                     {"role": "data_manager", "hourly_rate_ore": 85_000}],
           "expenses_ore": 50_000, "ceiling_ore": 1_200_000})
}

async fn version(app: &TestApp, id: &str) -> i64 {
    let admin = app.token("admin").await;
    app.view(id, &admin).await["version"].as_i64().unwrap()
}

/// Issue 15: "a cost agreement of 0.01 kr against an estimate of 10 000 kr was accepted".
#[tokio::test]
async fn one_ore_against_an_estimate_of_ten_thousand_kronor_needs_a_confirmation_with_a_reason() {
    let app = TestApp::spawn().await;
    let id = estimated(&app).await;
    let finance = app.token("finance").await;
    let before = version(&app, &id).await;
    let mut body = agreement(1);
    body["ceiling_ore"] = Value::Null;
    let p = problem(
        app.action(&id, &finance, body.clone()).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(p["rule"], "warning_needs_reason", "{p}");
    assert_eq!(p["warnings"][0]["code"], "cost_far_from_estimate", "{p}");
    assert_eq!(p["warnings"][0]["grade"], "bor");
    assert!(
        p["warnings"][0]["message_sv"]
            .as_str()
            .unwrap()
            .contains("10\u{a0}000,00\u{a0}kr"),
        "{p}"
    );
    assert_eq!(
        p["warnings"][0]["source"]["section"],
        "Ersättning för datauttag för forskning"
    );
    assert_eq!(version(&app, &id).await, before, "nothing written");
    // An empty reason does not pass it.
    body["acknowledge"] = json!([{"code": "cost_far_from_estimate", "reason": " "}]);
    let r = app.action(&id, &finance, body.clone()).await;
    assert!(r.status().is_client_error(), "{}", r.status());
    assert_eq!(version(&app, &id).await, before, "nothing written");
    body["acknowledge"] =
        json!([{"code": "cost_far_from_estimate", "reason": "Symbolisk avgift enligt ramavtal."}]);
    let v = ok(app.action(&id, &finance, body).await).await;
    let c = &v["collaboration"];
    assert_eq!(c["cost_agreement"]["estimate"], 1, "{c}");
    let passed = &c["passed_warnings"][0];
    assert_eq!(passed["code"], "cost_far_from_estimate");
    assert_eq!(passed["command"], "record_cost_agreement");
    assert_eq!(passed["reason"], "Symbolisk avgift enligt ramavtal.");
}

#[tokio::test]
async fn an_agreement_near_the_estimate_records_rates_expenses_and_the_ceiling() {
    let app = TestApp::spawn().await;
    let id = estimated(&app).await;
    let finance = app.token("finance").await;
    let v = ok(app.action(&id, &finance, agreement(1_100_000)).await).await;
    let a = &v["collaboration"]["cost_agreement"];
    assert_eq!(a["estimate"], 1_100_000, "{a}");
    assert_eq!(a["hourly_rate"], 90_000);
    assert_eq!(
        a["rates"],
        json!([{"role": "statistician", "hourly_rate": 120_000},
               {"role": "data_manager", "hourly_rate": 85_000}])
    );
    assert_eq!(a["expenses"], 50_000);
    assert_eq!(a["ceiling"], 1_200_000);
    assert_eq!(v["collaboration"]["passed_warnings"], json!([]));
    // More than twice the estimate: a warning again.
    let mut body = agreement(2_000_001);
    body["ceiling_ore"] = Value::Null;
    let p = problem(app.action(&id, &finance, body).await, StatusCode::CONFLICT).await;
    assert_eq!(p["warnings"][0]["code"], "cost_far_from_estimate", "{p}");
}

#[tokio::test]
async fn bad_rates_and_ceilings_are_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let id = estimated(&app).await;
    let finance = app.token("finance").await;
    let before = version(&app, &id).await;

    let mut body = agreement(1_000_000);
    body["rates"][1]["role"] = json!("statistician");
    let p = problem(
        app.action(&id, &finance, body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], "rates[1].role", "{p}");
    assert_eq!(p["rule"], "duplicate", "{p}");

    let mut body = agreement(1_000_000);
    body["ceiling_ore"] = json!(999_999);
    let p = problem(
        app.action(&id, &finance, body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], "ceiling_ore", "{p}");
    assert_eq!(p["rule"], "cost_ceiling_below_estimate", "{p}");

    let mut body = agreement(1_000_000);
    body["rates"][0]["hourly_rate_ore"] = json!(-1);
    let r = app.action(&id, &finance, body).await;
    assert!(r.status().is_client_error(), "{}", r.status());
    let p: Value = r.json().await.unwrap();
    assert!(
        p.to_string().contains("rates[0].hourly_rate_ore"),
        "names the field: {p}"
    );

    let mut body = agreement(1_000_000);
    body["rates"][0]["rate"] = json!(1);
    let p = problem(
        app.action(&id, &finance, body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        (&p["rule"], &p["field"]),
        (&json!("unknown_field"), &json!("rate")),
        "{p}"
    );

    assert_eq!(version(&app, &id).await, before, "nothing half-written");
}
