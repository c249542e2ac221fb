//! Agreement versions through the API: rendered from the collaboration and the negotiated terms,
//! immutable, fetched as DOCX, PDF and HTML with their SHA-256, diffed, and deviated by CPUA legal.
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::{ok, problem, TestApp};

fn person(name: &str, title: &str) -> Value {
    json!({"name": name, "title": title, "email": format!("{}@example.se", name.split(' ').next().unwrap().to_lowercase())})
}

pub async fn full_terms(app: &TestApp) -> Value {
    let uppsala = app.org("Region Uppsala").await;
    let university = app.org("Exempeluniversitetet").await;
    let company = app.org("Exempel Läkemedel AB").await;
    json!({
        "background": "Hjärtinfarkt är en vanlig dödsorsak; långtidsutfallen efter olika strategier är ofullständigt kända.",
        "research_plan_summary": "Registerbaserad kohortstudie 2015–2025 med propensity score-matchning.",
        "goals": ["Jämföra femårsöverlevnad mellan strategierna.", "Publicera i en referentgranskad tidskrift."],
        "deliverables": [
            {"what": "Pseudonymiserat datauttag", "due": "2026-11-01", "by": "Uppsala Clinical Research Center"},
            {"what": "Slutrapport till registret", "due": "2027-09-01", "by": "Exempeluniversitetet"}
        ],
        "parties": [
            {"organisation": uppsala, "address": "Box 602, 751 25 Uppsala",
             "contact": person("Lars Jurist", "Registerjurist"), "signatory": person("Maria Direktör", "Hälso- och sjukvårdsdirektör")},
            {"organisation": university, "address": "Box 256, 751 05 Uppsala",
             "contact": person("Per Forskare", "Projektledare"), "signatory": person("Eva Prefekt", "Prefekt")},
            {"organisation": company, "address": "Vasagatan 10, 111 20 Stockholm",
             "contact": person("Karin Företagsson", "Medical Affairs"), "signatory": person("Olof Vd", "VD")}
        ],
        "variable_descriptions": {"alder": "Ålder, år", "kon": "Kön", "diagnosdatum": "Datum för diagnos", "behandling": "Behandlingsstrategi"},
        "period_from": "2015-01-01",
        "period_to": "2025-12-31",
        "transfer_method": "Krypterad filöverföring",
        "encryption": "AES-256",
        "password_sent_separately": true,
        "data_protection": {"storage": "Universitetets säkra server för känsliga personuppgifter.", "access": ["Per Forskare", "En biostatistiker"]},
        "publication": {"acknowledgement": "Författarna tackar Exempelregistret för hjärtintensivvård.", "review_days": 30},
        "report_back": "Resultaten återrapporteras till registrets styrgrupp.",
        "costs": {"estimate": 11_400_000, "hourly_rate": 95_000, "hours": 120, "expenses": [],
                  "invoicing_schedule": "Vid leverans av datauttaget.", "vat_rate_bp": 2500, "payment_terms_days": 30, "payer": "company"},
        "term": {"start": "2026-09-15", "end": "2027-12-31", "notice_days": 90},
        "archiving": {"delete_within_days": 30, "confirmed_by": "Forskningshuvudmannens projektledare"},
        "disputes": {"venue": "Uppsala tingsrätt"},
        "product": {"name": "Exempelmab", "authorisation": "EU/1/26/0001"}
    })
}

async fn with_ethics(app: &TestApp, id: &str) {
    let company = app.token("company").await;
    ok(app
        .action(
            id,
            &company,
            json!({"action": "record_ethics_approval", "reference": "2026-01234-01", "decided_on": "2026-08-20"}),
        )
        .await)
    .await;
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[tokio::test]
async fn an_agreement_version_is_rendered_stored_and_served_in_three_formats() {
    let app = TestApp::spawn().await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    with_ethics(&app, &id).await;
    let company = app.token("company").await;
    let path = format!("/api/v1/collaborations/{id}/agreements");

    let p = problem(
        app.post(&path, &company, &json!({})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], "terms");

    // Incomplete terms: every missing item is listed with the step where it is entered.
    let p = problem(
        app.post(&path, &company, &json!({"terms": {"goals": ["Ett mål"]}}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let errors = p["errors"].as_array().unwrap();
    assert!(errors.len() > 5, "{p}");
    assert!(errors
        .iter()
        .all(|e| e["rule"] == "missing" && e["step"].is_u64()));
    let fields: Vec<&str> = errors
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"background"), "{fields:?}");
    assert!(fields.contains(&"costs"), "{fields:?}");
    assert!(
        ok(app.get(&path, &company).await)
            .await
            .as_array()
            .unwrap()
            .is_empty(),
        "nothing stored"
    );

    let v = ok(app
        .post(&path, &company, &json!({"terms": full_terms(&app).await}))
        .await)
    .await;
    assert_eq!(v["number"], 1);
    assert_eq!(v["language"], "sv");
    assert_eq!(v["collaboration_type"], "research-public-principal");
    assert_eq!(v["rulebook_version"], "2026.1");
    assert_eq!(v["template_version"].as_str().unwrap().len(), 64);
    for f in v["files"].as_array().unwrap() {
        let r = app.get(f["url"].as_str().unwrap(), &company).await;
        assert_eq!(r.status(), StatusCode::OK);
        let body = r.bytes().await.unwrap();
        assert_eq!(sha(&body), f["sha256"], "{} as stored", f["format"]);
    }
    let html = app
        .get(&format!("{path}/1.html"), &company)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Exempel Läkemedel AB") && html.contains("556677-8899"));
    assert!(html.contains("Region Uppsala") && html.contains("Exempeluniversitetet"));
    assert!(
        html.contains("114\u{a0}000,00\u{a0}kr"),
        "the cost estimate in Swedish"
    );
    assert!(
        html.contains("2026-01234-01") || html.contains("Etik"),
        "ethics reference or clause"
    );
    assert!(!html.contains("{{"));
    let pdf = app
        .get(&format!("{path}/1.pdf"), &company)
        .await
        .bytes()
        .await
        .unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let docx = app
        .get(&format!("{path}/1.docx"), &company)
        .await
        .bytes()
        .await
        .unwrap();
    assert!(docx.starts_with(b"PK"));
    problem(
        app.get(&format!("{path}/9.docx"), &company).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        app.get(&format!("{path}/1.exe"), &company).await,
        StatusCode::NOT_FOUND,
    )
    .await;

    // Another organisation's agreement answers 404.
    let vgr = app.token("legal-vgr").await;
    problem(
        app.get(&format!("{path}/1.pdf"), &vgr).await,
        StatusCode::NOT_FOUND,
    )
    .await;

    // An English version reuses the terms.
    let v2 = ok(app.post(&path, &company, &json!({"language": "en"})).await).await;
    assert_eq!(v2["number"], 2);
    let html = app
        .get(&format!("{path}/2.html"), &company)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("SEK\u{a0}114,000.00"),
        "the cost estimate in English"
    );

    let events = ok(app
        .get(&format!("/api/v1/collaborations/{id}/events"), &company)
        .await)
    .await;
    let created: Vec<&Value> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["command"] == "agreement_version_created")
        .collect();
    assert_eq!(created.len(), 2);
    assert_eq!(
        created[0]["after"]["sha256"]["docx"],
        v["files"][0]["sha256"]
    );
}

#[tokio::test]
async fn versions_are_diffed_clause_by_clause_and_legal_deviations_are_highlighted() {
    let app = TestApp::spawn().await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    with_ethics(&app, &id).await;
    let company = app.token("company").await;
    let legal = app.token("legal").await;
    let path = format!("/api/v1/collaborations/{id}/agreements");
    let mut terms = full_terms(&app).await;
    ok(app
        .post(&path, &company, &json!({"terms": terms.clone()}))
        .await)
    .await;
    terms["disputes"]["venue"] = json!("Stockholms tingsrätt");
    ok(app.post(&path, &company, &json!({"terms": terms})).await).await;
    let r = app.get(&format!("{path}/diff?from=1&to=2"), &company).await;
    assert_eq!(r.status(), StatusCode::OK);
    let diff = r.text().await.unwrap();
    assert!(diff.contains("Stockholms tingsrätt") && diff.contains("Uppsala tingsrätt"));

    let deviation = json!({"clause": "publication", "text": "Företaget får granska manuskriptet i 45 dagar före inlämning.",
                           "reason": "Förhandlat med parterna den 1 september 2026."});
    problem(
        app.post(&format!("{path}/2/deviations"), &company, &deviation)
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let p = problem(
        app.post(
            &format!("{path}/2/deviations"),
            &legal,
            &json!({"clause": "no_such_clause", "text": "x", "reason": "y"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], "clause");
    let v = ok(app
        .post(&format!("{path}/2/deviations"), &legal, &deviation)
        .await)
    .await;
    assert_eq!(v["number"], 3);
    assert_eq!(v["deviations"], 1);
    let html = app
        .get(&format!("{path}/3.html"), &legal)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("45 dagar"));
    assert!(
        html.contains("Förhandlat med parterna"),
        "listed with its reason"
    );
    let events = ok(app
        .get(&format!("/api/v1/collaborations/{id}/audit"), &company)
        .await)
    .await;
    assert!(events["events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["command"] == "agreement_deviation_added" && e["actor_role"] == "cpua_legal"));
    assert_eq!(events["verification"]["intact"], true);
}

#[tokio::test]
async fn a_broken_template_stops_the_start_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("contract-templates");
    for entry in walk(&shipped) {
        let rel = entry.strip_prefix(&shipped).unwrap();
        let to = dir.path().join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&entry, &to).unwrap();
    }
    let target = dir.path().join("sv/three-party.hbs");
    let text = std::fs::read_to_string(&target).unwrap();
    std::fs::write(&target, format!("{text}\n{{{{no_such_helper parties}}}}\n")).unwrap();
    let mut settings = samverkan::config::Settings::defaults();
    settings.addr = "127.0.0.1:0".into();
    settings.templates_dir = dir.path().to_path_buf();
    settings.database_url = format!("sqlite://{}/x.db", dir.path().display());
    let err = samverkan::startup::Application::build(
        settings,
        std::sync::Arc::new(samverkan::app::clock::SystemClock),
    )
    .err()
    .expect("a broken template stops the start");
    let msg = err.to_string();
    assert!(msg.contains("three-party.hbs:"), "{msg}");
    assert!(msg.contains("no_such_helper"), "{msg}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_samverkan"))
        .args(["templates", "check"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("three-party.hbs:"));
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
