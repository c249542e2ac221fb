//! The audit trail: append-only in the database, hash-chained, and tampering is found.
use diesel::{Connection, RunQueryDsl};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{ok, TestApp};

fn raw_sql(app: &TestApp, statements: &[&str]) -> Result<(), String> {
    let url = &app.database_url;
    if let Some(path) = url.strip_prefix("sqlite://") {
        let mut c = diesel::SqliteConnection::establish(path).map_err(|e| e.to_string())?;
        for s in statements {
            diesel::sql_query(*s)
                .execute(&mut c)
                .map_err(|e| e.to_string())?;
        }
    } else {
        let mut c = diesel::PgConnection::establish(url).map_err(|e| e.to_string())?;
        for s in statements {
            diesel::sql_query(*s)
                .execute(&mut c)
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

#[tokio::test]
async fn the_database_refuses_to_change_or_delete_an_event() {
    let app = TestApp::spawn().await;
    app.research_collaboration(&["EX-HJARTA"]).await;
    let e = raw_sql(&app, &["UPDATE audit_events SET actor_name = 'Mallory'"]).unwrap_err();
    assert!(e.contains("append-only"), "{e}");
    let e = raw_sql(&app, &["DELETE FROM audit_events"]).unwrap_err();
    assert!(e.contains("append-only"), "{e}");
}

#[tokio::test]
async fn a_hand_edited_event_is_reported_by_the_api_and_by_audit_verify() {
    let app = TestApp::spawn().await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    let company = app.token("company").await;
    ok(app
        .transition(&id, &company, json!({"to": "register_contact"}))
        .await)
    .await;
    ok(app
        .patch(
            &format!("/api/v1/collaborations/{id}"),
            &company,
            &json!({"title": "Ny titel"}),
        )
        .await)
    .await;
    let audit = ok(app
        .get(&format!("/api/v1/collaborations/{id}/audit"), &company)
        .await)
    .await;
    assert_eq!(audit["verification"]["intact"], true);
    assert_eq!(audit["events"].as_array().unwrap().len(), 3);

    let bin = env!("CARGO_BIN_EXE_samverkan");
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/config");
    let verify = || {
        std::process::Command::new(bin)
            .args(["--config", config, "audit", "verify"])
            .env("DATABASE_URL", &app.database_url)
            .env("RUST_LOG", "error")
            .output()
            .expect("samverkan runs")
    };
    let out = verify();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("every chain is intact"));

    // Someone with database access disables the guard and rewrites the second event.
    let stream = format!("collaboration:{id}");
    let drop_guard: &[&str] = if app.is_postgres() {
        &["ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update"]
    } else {
        &["DROP TRIGGER audit_events_no_update"]
    };
    raw_sql(&app, drop_guard).unwrap();
    let forge = format!(
        "UPDATE audit_events SET actor_name = 'Someone Else' WHERE stream = '{stream}' AND seq = 2"
    );
    raw_sql(&app, &[forge.as_str()]).unwrap();

    let audit = ok(app
        .get(&format!("/api/v1/collaborations/{id}/audit"), &company)
        .await)
    .await;
    assert_eq!(audit["verification"]["intact"], false);
    assert_eq!(audit["verification"]["first_broken_link"]["seq"], 2);
    let out = verify();
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("BROKEN  {stream}  event 2")),
        "{stdout}"
    );
}

#[tokio::test]
async fn events_name_actor_organisation_time_command_and_before_after() {
    let app = TestApp::spawn().await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    let company = app.token("company").await;
    ok(app
        .patch(
            &format!("/api/v1/collaborations/{id}"),
            &company,
            &json!({"title": "Ändrad"}),
        )
        .await)
    .await;
    let r = app
        .get(&format!("/api/v1/collaborations/{id}/events"), &company)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let events: serde_json::Value = r.json().await.unwrap();
    let e = &events[1];
    assert_eq!(e["command"], "update_details");
    assert_eq!(e["actor_name"], "Karin Företagsson");
    assert_eq!(e["actor_role"], "company_representative");
    assert_eq!(e["actor_org"], app.org("Exempel Läkemedel AB").await);
    assert_eq!(e["before"]["title"], "Långtidsutfall efter hjärtinfarkt");
    assert_eq!(e["after"]["title"], "Ändrad");
    assert_eq!(e["prev_hash"], events[0]["hash"]);
    assert_eq!(e["occurred_at"], "2026-09-01T09:00:00Z");
}
