//! The collaboration view kept in memory (`app::views`): the same bytes for the same caller while
//! nothing changed, never another caller's view, and a fresh view after any change.
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{ok, TestApp};

#[tokio::test]
async fn a_kept_view_is_the_callers_own_and_is_rebuilt_after_a_change() {
    let app = TestApp::spawn().await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    let company = app.token("company").await;
    let path = format!("/api/v1/collaborations/{id}");
    let first = app.get(&path, &company).await;
    assert_eq!(first.status(), StatusCode::OK);
    let etag = first.headers()["etag"].to_str().unwrap().to_string();
    let first = first.text().await.unwrap();
    let again = app.get(&path, &company).await;
    assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
    assert_eq!(again.text().await.unwrap(), first);

    // Another company's representative never gets the kept view: 404 as without it.
    let admin = app.token("admin").await;
    let org = json!({"name": "Medtech Exempel AB", "kind": "company", "org_number": "556012-3456"});
    ok(app.post("/api/v1/organisations", &admin, &org).await).await;
    app.add_account(
        "other-company",
        "company_representative",
        "Medtech Exempel AB",
    )
    .await;
    let other = app.token("other-company").await;
    assert_eq!(app.get(&path, &other).await.status(), StatusCode::NOT_FOUND);
    // An administrator gets a view built for the administrator (other commands in `next`).
    let theirs = app.view(&id, &admin).await;
    let mine: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert_ne!(theirs["next"], mine["next"]);

    // A change to the collaboration is seen at once.
    let r = app
        .action(
            &id,
            &company,
            json!({"action": "add_internal_note", "text": "Ny anteckning."}),
        )
        .await;
    ok(r).await;
    let after = app.view(&id, &company).await;
    assert_ne!(format!("\"{}\"", after["version"]), etag);
    assert_eq!(
        after["collaboration"]["internal_notes"][0]["text"],
        "Ny anteckning."
    );
}

/// `GET /api/v1/me` is kept too: the same bytes while nothing changed, a granted role in the very
/// next answer, and never another caller's answer.
#[tokio::test]
async fn the_kept_who_am_i_is_the_callers_own_and_is_rebuilt_after_a_change() {
    let app = TestApp::spawn().await;
    let legal = app.token("legal").await;
    let first = app.get("/api/v1/me", &legal).await;
    assert_eq!(first.status(), StatusCode::OK);
    let first: serde_json::Value = first.json().await.unwrap();
    let again: serde_json::Value = ok(app.get("/api/v1/me", &legal).await).await;
    assert_eq!(again, first);
    assert_eq!(first["memberships"].as_array().unwrap().len(), 1, "{first}");
    // Another caller gets their own.
    let company = app.token("company").await;
    let theirs: serde_json::Value = ok(app.get("/api/v1/me", &company).await).await;
    assert_ne!(theirs["account"], first["account"]);

    // An administrator grants the lawyer a second role: the next answer lists it.
    let admin = app.token("admin").await;
    let uppsala = app.org("Region Uppsala").await;
    let granted = app
        .post(
            &format!("/api/v1/organisations/{uppsala}/memberships"),
            &admin,
            &json!({"account": first["account"], "role": "finance"}),
        )
        .await;
    assert_eq!(granted.status(), StatusCode::CREATED);
    let after: serde_json::Value = ok(app.get("/api/v1/me", &legal).await).await;
    let roles: Vec<&str> = after["memberships"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert!(roles.contains(&"finance"), "{after}");
    assert_eq!(after["role"], first["role"]);
}
