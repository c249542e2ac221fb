//! Classification through the API and the command line: what-if, stored with its rulebook version,
//! recomputed and audited when facts change, overridden only by CPUA legal with a reason, and read
//! by the lifecycle guards.
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{obligation, ok, problem, public_research_intake, unmet_codes, TestApp};

fn codes(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|o| o["code"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn what_if_classifies_without_storing_anything() {
    let app = TestApp::spawn().await;
    let t = app.token("company").await;
    let reg_a = app.register("EX-HJARTA").await;
    let reg_b = app.register("EX-HOFT").await;
    let v = ok(app
        .post(
            "/api/v1/classify",
            &t,
            &json!({"research_principal_kind": "company", "is_research": "yes", "purpose": "research",
                    "company_receives": "pseudonymised", "sector": "pharma", "registers": [reg_a, reg_b],
                    "recipient_countries": ["US"]}),
        )
        .await)
    .await;
    assert_eq!(v["rulebook_version"], "2026.1");
    assert_eq!(v["outcome"]["type"], "research-company-principal");
    let obligations = codes(&v["obligations"]);
    // A company as research principal always brings the confidentiality reservation (seed 000,
    // "Forskningssamarbete med industrin").
    assert!(obligations.contains(&"confidentiality_reservation".to_string()));
    // Two registers under two CPUAs (Uppsala, VGR): who decides and who keeps the key (seed 002).
    assert!(obligations.contains(&"multi_cpua_coordination".to_string()));
    // A recipient outside the EU/EEA needs its own assessment.
    assert!(obligations.contains(&"third_country_assessment".to_string()));
    assert!(v["sensitivity"].as_array().unwrap().len() > 5);
    let list = ok(app.get("/api/v1/collaborations", &t).await).await;
    assert_eq!(list["total"], 0, "a what-if stores nothing");
}

#[tokio::test]
async fn bad_facts_are_refused_naming_the_fact() {
    let app = TestApp::spawn().await;
    let t = app.token("company").await;
    for (facts, field) in [
        (json!({"colour": "blue"}), "facts.colour"),
        (json!({"purpose": "sponsorship"}), "facts.purpose"),
        (
            json!({"recipient_countries": ["usa"]}),
            "facts.recipient_countries",
        ),
        (
            json!({"key_retention_months": "three"}),
            "facts.key_retention_months",
        ),
    ] {
        let p = problem(
            app.post("/api/v1/classify", &t, &facts).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(p["field"], field, "{facts}");
    }
    let p = problem(
        app.post(
            "/api/v1/classify",
            &t,
            &json!({"registers": ["00000000-0000-4000-8000-000000000000"]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], "facts.registers[0]");
    assert_eq!(p["rule"], "unknown_register");
    // On a collaboration, facts that its own fields state are refused in the intake.
    let p = problem(
        app.post(
            "/api/v1/collaborations",
            &t,
            &json!({"title": "t", "purpose": "p", "data_kind": "aggregated", "intake": {"registers": []}}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], "intake.registers");
}

#[tokio::test]
async fn the_stored_classification_is_recomputed_and_audited_when_facts_change() {
    let app = TestApp::spawn().await;
    let (id, created) = app.research_collaboration(&["EX-HJARTA"]).await;
    let t = app.token("company").await;
    let rec = &created["collaboration"]["classification"];
    assert_eq!(rec["result"]["rulebook_version"], "2026.1");
    assert_eq!(
        rec["result"]["outcome"]["type"],
        "research-public-principal"
    );
    assert!(codes(&rec["result"]["obligations"]).contains(&"pharma_appendix".to_string()));

    let mut intake = public_research_intake();
    intake["sector"] = json!("medtech");
    let v = ok(app
        .patch(
            &format!("/api/v1/collaborations/{id}"),
            &t,
            &json!({"intake": intake}),
        )
        .await)
    .await;
    let after = codes(&v["collaboration"]["classification"]["result"]["obligations"]);
    assert!(!after.contains(&"pharma_appendix".to_string()), "{after:?}");
    let events = ok(app
        .get(&format!("/api/v1/collaborations/{id}/events"), &t)
        .await)
    .await;
    let changed = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["command"] == "classification_changed")
        .expect("an event shows old and new");
    // The event's change turns the old classification into the new one.
    let new = samverkan::domain::audit::change::apply(Some(rec), &changed["change"])
        .expect("the change applies to the old classification")
        .expect("a classification");
    assert_eq!(new, v["collaboration"]["classification"], "{changed}");
    assert!(!codes(&new["result"]["obligations"]).contains(&"pharma_appendix".to_string()));

    // A change that does not move the outcome writes no classification event.
    ok(app
        .patch(
            &format!("/api/v1/collaborations/{id}"),
            &t,
            &json!({"title": "Ny titel"}),
        )
        .await)
    .await;
    let events = ok(app
        .get(&format!("/api/v1/collaborations/{id}/events"), &t)
        .await)
    .await;
    let n = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["command"] == "classification_changed")
        .count();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn a_grey_zone_waits_for_legal_who_overrides_only_with_a_reason() {
    let app = TestApp::spawn().await;
    let company = app.token("company").await;
    let holder = app.token("register-holder").await;
    let legal = app.token("legal").await;
    let principal = app.org("Exempeluniversitetet").await;
    let uppsala = app.org("Region Uppsala").await;
    let reg = app.register("EX-HJARTA").await;
    let mut intake = public_research_intake();
    intake["purpose"] = json!("algorithm_training");
    let v = ok(app
        .post(
            "/api/v1/collaborations",
            &company,
            &json!({"title": "Träna en riskmodell", "purpose": "Algoritmträning", "research_question": "Kan modellen förutsäga?",
                    "research_principal": principal, "registers": [reg], "data_kind": "pseudonymised",
                    "intake": intake}),
        )
        .await)
    .await;
    let id = v["collaboration"]["id"].as_str().unwrap().to_string();
    let rec = &v["collaboration"]["classification"]["result"];
    assert_eq!(rec["outcome"]["status"], "unclassified");
    assert!(codes(&rec["obligations"]).contains(&"legal_review".to_string()));

    ok(app
        .transition(&id, &company, json!({"to": "register_contact"}))
        .await)
    .await;
    ok(app
        .action(
            &id,
            &holder,
            json!({"action": "record_feasibility", "register": reg, "feasible": true}),
        )
        .await)
    .await;
    ok(app
        .action(
            &id,
            &company,
            json!({"action": "record_ethics_approval", "reference": "2026-01234-01", "decided_on": "2026-08-20"}),
        )
        .await)
    .await;
    let application = json!({"to": "data_application", "cpua": uppsala, "dossier": {"recipient_principal": "Exempeluniversitetet"}});
    let p = problem(
        app.transition(&id, &company, application.clone()).await,
        StatusCode::CONFLICT,
    )
    .await;
    // The grey zone waits for legal: the legal_review obligation gates the application (step 4).
    assert_eq!(unmet_codes(&p), vec!["legal_review"]);
    assert!(p["obligations"][0]["source"]["file"]
        .as_str()
        .unwrap()
        .contains("002_f476663c34a527d0.txt"));

    let override_body = json!({"action": "override_classification", "type": "research-public-principal",
                               "reason": "Modellen tränas inom ett forskningsprojekt med etikgodkännande."});
    problem(
        app.action(&id, &company, override_body.clone()).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let mut no_reason = override_body.clone();
    no_reason["reason"] = json!(" ");
    let p = problem(
        app.action(&id, &legal, no_reason).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], "reason");
    let p = problem(
        app.action(
            &id,
            &legal,
            json!({"action": "override_classification", "waive": ["no_such_thing"], "reason": "x"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], "waive[0]");
    let v = ok(app.action(&id, &legal, override_body).await).await;
    let rec = &v["collaboration"]["classification"];
    assert_eq!(
        rec["type_override"]["collaboration_type"],
        "research-public-principal"
    );
    // Legal's decision of the type is the evidence of the review (seed 002, "Utbildningens innehåll").
    // The override settles the grey zone: legal_review is met or no longer in force, and the application
    // below goes through.
    assert!(
        obligation(&v, "legal_review").is_none_or(|o| o["met"] == true),
        "{}",
        v["obligations"]
    );
    ok(app.transition(&id, &company, application).await).await;
    let events = ok(app
        .get(&format!("/api/v1/collaborations/{id}/events"), &company)
        .await)
    .await;
    assert!(events
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["command"] == "override_classification" && e["actor_role"] == "cpua_legal"));
}

#[tokio::test]
async fn statistics_need_no_ethics_approval_because_the_stored_obligations_say_so() {
    let app = TestApp::spawn().await;
    let company = app.token("company").await;
    let holder = app.token("register-holder").await;
    let uppsala = app.org("Region Uppsala").await;
    let reg = app.register("EX-HJARTA").await;
    let v = ok(app
        .post(
            "/api/v1/collaborations",
            &company,
            &json!({"title": "Marknadsstatistik", "purpose": "Aggregerade tabeller", "is_research": false,
                    "registers": [reg], "data_kind": "aggregated",
                    "intake": {"purpose": "statistics", "company_receives": "aggregated", "principal_receives": "nothing",
                               "analysis_by": "register", "sector": "medtech", "external_processor": false,
                               "identity_numbers_requested": false, "effort_beyond_routine": false}}),
        )
        .await)
    .await;
    assert_eq!(
        v["collaboration"]["classification"]["result"]["outcome"]["type"],
        "statistics"
    );
    assert!(
        obligation(&v, "ethics_approval").is_none(),
        "{}",
        v["obligations"]
    );
    let id = v["collaboration"]["id"].as_str().unwrap().to_string();
    ok(app
        .transition(&id, &company, json!({"to": "register_contact"}))
        .await)
    .await;
    ok(app
        .action(
            &id,
            &holder,
            json!({"action": "record_feasibility", "register": reg, "feasible": true}),
        )
        .await)
    .await;
    let v = ok(app
        .transition(
            &id,
            &company,
            json!({"to": "data_application", "cpua": uppsala,
                   "dossier": {"recipient_principal": "Exempel Läkemedel AB", "project_description": "Tabeller",
                               "requested_data": ["antal per region"], "access_and_storage": "Endast tabeller"}}),
        )
        .await)
    .await;
    assert_eq!(
        v["collaboration"]["step"], "release_decision",
        "no ethics item needed in the dossier"
    );
}

#[tokio::test]
async fn a_broken_rulebook_stops_the_start_and_the_checker_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/config");
    std::fs::copy(
        format!("{shipped}/default.toml"),
        dir.path().join("default.toml"),
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("rulebook")).unwrap();
    let good = std::fs::read_to_string(format!("{shipped}/rulebook/2026-07-01.toml")).unwrap();
    let broken = good.replacen("[research,", "[reserch,", 1);
    assert!(good != broken, "the test must break something");
    let file = dir.path().join("rulebook/2026-07-01.toml");
    std::fs::write(&file, &broken).unwrap();

    let mut settings = samverkan::config::Settings::defaults();
    settings.addr = "127.0.0.1:0".into();
    settings.config_dir = dir.path().to_path_buf();
    settings.database_url = format!("sqlite://{}/x.db", dir.path().display());
    let err = samverkan::startup::Application::build(
        settings,
        std::sync::Arc::new(samverkan::app::clock::SystemClock),
    )
    .err()
    .expect("a broken rulebook stops the start");
    let msg = err.to_string();
    assert!(msg.contains("2026-07-01.toml:"), "{msg}");
    assert!(
        !dir.path().join("x.db").exists(),
        "nothing served, nothing created"
    );

    let bin = env!("CARGO_BIN_EXE_samverkan");
    let out = std::process::Command::new(bin)
        .args(["rulebook", "check"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("2026-07-01.toml:"), "{stderr}");
    assert!(stderr.contains("reserch"), "{stderr}");
    let out = std::process::Command::new(bin)
        .args([
            "rulebook",
            "check",
            &format!("{shipped}/rulebook/2026-07-01.toml"),
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
}

#[tokio::test]
async fn rulebook_diff_lists_the_stored_collaborations_that_would_change() {
    let app = TestApp::spawn().await;
    app.research_collaboration(&["EX-HJARTA"]).await;
    let dir = tempfile::tempdir().unwrap();
    let shipped = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/rulebook/2026-07-01.toml"
    );
    let text = std::fs::read_to_string(shipped).unwrap();
    // A draft in which pharma no longer brings the pharma appendix.
    let draft = text
        .replace("version = \"2026.1\"", "version = \"2027.1\"")
        .replace("effective_from = 2026-07-01", "effective_from = 2027-01-01")
        .replace("sector = pharma", "sector = biotech");
    assert!(text != draft, "the draft must differ");
    let new = dir.path().join("2027-01-01.toml");
    std::fs::write(&new, draft).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_samverkan"))
        .args(["rulebook", "diff", shipped])
        .arg(&new)
        .env("DATABASE_URL", &app.database_url)
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("1 would change"), "{stdout}");
    assert!(stdout.contains("removed [pharma_appendix]"), "{stdout}");
}
