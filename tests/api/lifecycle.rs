//! The nine steps through the API, refused with a clear reason at every guard not yet met.
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{
    approval, dossier, findings, obligation, ok, problem, public_research_intake, unmet_codes,
    TestApp,
};

fn step(v: &Value) -> &str {
    v["collaboration"]["step"].as_str().unwrap()
}

#[tokio::test]
async fn a_collaboration_walks_all_nine_steps_refused_at_each_unmet_guard() {
    let app = TestApp::spawn().await;
    let company = app.token("company").await;
    let holder = app.token("register-holder").await;
    let legal = app.token("legal").await;
    let finance = app.token("finance").await;
    let uppsala = app.org("Region Uppsala").await;
    let register = app.register("EX-HJARTA").await;

    // Step 1 without a research principal: refused, naming what is missing (seed 001, 1. Förarbete).
    let created = ok(app
        .post(
            "/api/v1/collaborations",
            &company,
            &json!({
                "title": "Långtidsutfall", "purpose": "Jämförelse",
                "research_question": "Skiljer sig överlevnaden?",
                "registers": [register], "data_kind": "pseudonymised",
                "requested_variables": ["alder"], "intake": public_research_intake()
            }),
        )
        .await)
    .await;
    let id = created["collaboration"]["id"].as_str().unwrap().to_string();
    assert_eq!(step(&created), "preparation");
    let p = problem(
        app.transition(&id, &company, json!({"to": "register_contact"}))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(p["rule"], "preparation_incomplete");
    assert_eq!(p["missing"], json!(["research_principal"]));
    assert_eq!(p["source"]["file"], "001_2ea1acc3c69dfa36.txt");

    let principal = app.org("Exempeluniversitetet").await;
    ok(app
        .patch(
            &format!("/api/v1/collaborations/{id}"),
            &company,
            &json!({"research_principal": principal}),
        )
        .await)
    .await;
    let v = ok(app
        .transition(&id, &company, json!({"to": "register_contact"}))
        .await)
    .await;
    assert_eq!(step(&v), "register_contact");

    // Step 3 without the register holder's feasibility answer (step 2): a "bör" (seed 001, "2. Etablera
    // tidig kontakt med registerhållare"), refused until passed with a reason.
    let p = problem(
        app.transition(&id, &company, json!({"to": "ethics_review"}))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(p["rule"], "warning_needs_reason");
    assert_eq!(p["warnings"][0]["code"], "feasibility_not_answered", "{p}");
    // Only the register holder records it.
    problem(
        app.action(
            &id,
            &company,
            json!({"action": "record_feasibility", "register": register, "feasible": true}),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    ok(app
        .action(
            &id,
            &holder,
            json!({"action": "record_feasibility", "register": register, "feasible": true, "estimated_weeks": 6,
                   "estimated_cost_ore": 4_500_000, "extraction_charged": true}),
        )
        .await)
    .await;

    // Step 4 straight from step 2: the ethics approval is missing (seed 000, Etikprövning).
    let p = problem(
        app.transition(
            &id,
            &company,
            json!({"to": "data_application", "cpua": uppsala, "dossier": dossier()}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(unmet_codes(&p), vec!["ethics_approval"]);
    assert!(p["obligations"][0]["source"]["section"]
        .as_str()
        .unwrap()
        .contains("Etikprövning"));

    ok(app
        .transition(&id, &company, json!({"to": "ethics_review"}))
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

    // An incomplete dossier is accepted as an application but cannot be decided on.
    let mut partial = dossier();
    partial
        .as_object_mut()
        .unwrap()
        .remove("access_and_storage");
    let v = ok(app
        .transition(
            &id,
            &company,
            json!({"to": "data_application", "cpua": uppsala, "dossier": partial}),
        )
        .await)
    .await;
    assert_eq!(step(&v), "data_application");
    assert_eq!(v["holding_up"][0]["waiting_for"], "complete_dossier");
    let p = problem(
        app.transition(&id, &legal, approval(&uppsala)).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(p["rule"], "dossier_incomplete");
    assert_eq!(p["missing"], json!(["dossier.access_and_storage"]));

    let v = ok(app
        .transition(
            &id,
            &company,
            json!({"to": "data_application", "cpua": uppsala,
                   "dossier": {"access_and_storage": "Två namngivna forskare; krypterad server."}}),
        )
        .await)
    .await;
    assert_eq!(step(&v), "release_decision");
    // Due 30 days after the complete application (seed 001, 5. Beslut om utlämnande).
    assert_eq!(v["holding_up"][0]["due_on"], "2026-10-01");

    // A refusal needs written reasons and a lawful ground; research quality is never one.
    let p = problem(
        app.transition(
            &id,
            &legal,
            json!({"to": "release_decision", "cpua": uppsala, "outcome": "refused"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["rule"], "written_reasons_required");
    let p = problem(
        app.transition(
            &id,
            &legal,
            json!({"to": "release_decision", "cpua": uppsala, "outcome": "refused",
                   "reasons": "Låg kvalitet", "grounds": ["research_quality"], "dpo_consulted_on": "2026-08-31"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["rule"], "forbidden_ground");
    assert_eq!(p["field"], "grounds[0]");
    // An approval records seed 002's three findings ("Sammanfattningsvis …").
    let p = problem(
        app.transition(
            &id,
            &legal,
            json!({"to": "release_decision", "cpua": uppsala, "outcome": "approved"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["rule"], "findings_required", "{p}");
    let v = ok(app.transition(&id, &legal, approval(&uppsala)).await).await;
    assert_eq!(step(&v), "agreement");

    // Step 7 is blocked until the agreement step is complete.
    let release = json!({"to": "data_release", "cpua": uppsala, "released_on": "2026-09-01",
                         "transfer_method": "encrypted_file", "password_sent_separately": true});
    let p = problem(
        app.transition(&id, &legal, release.clone()).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(p["rule"], "agreement_required");
    // The agreement step names a rendered version (seed 001, "6. Avtal upprättas").
    let v = app.sign_agreement(&id).await;
    assert_eq!(step(&v), "data_release");

    // The extraction is charged: a written cost agreement first (seed 000, Ersättning …).
    let p = problem(
        app.transition(&id, &legal, release.clone()).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(unmet_codes(&p), vec!["written_cost_agreement"], "{p}");
    assert_eq!(p["obligations"][0]["missing"], json!(["cost_agreement"]));
    ok(app
        .action(
            &id,
            &finance,
            json!({"action": "record_cost_agreement", "reference": "KOST-17", "signed_on": "2026-09-01",
                   "estimate_ore": 4_500_000, "hourly_rate_ore": 95_000}),
        )
        .await)
    .await;
    // Keeping the key a year needs an ethics-approved justification.
    let mut long = release.clone();
    long["key_deletion_on"] = json!("2027-09-01");
    let p = problem(
        app.transition(&id, &legal, long).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["rule"], "extended_retention_needs_justification");
    assert_eq!(p["field"], "extended_retention_justification");
    let v = ok(app.transition(&id, &legal, release).await).await;
    let rel = &v["collaboration"]["cpua_reviews"][0]["release"];
    assert_eq!(rel["key_deletion_on"], "2026-12-01", "release + 3 months");

    // A released collaboration's research question is never edited in place.
    let p = problem(
        app.patch(
            &format!("/api/v1/collaborations/{id}"),
            &company,
            &json!({"research_question": "En ny fråga"}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(p["rule"], "not_editable");
    assert!(p["detail"].as_str().unwrap().contains("amendment"));

    let v = ok(app
        .transition(&id, &company, json!({"to": "results"}))
        .await)
    .await;
    assert_eq!(step(&v), "results");
    // Reporting back is welcome ("Återkoppla gärna", seed 001, "8. Resultat och redovisning/publicering"):
    // a prompt beside archiving, never a block.
    let archiving = v["next"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["command"] == "archiving")
        .expect("archiving in next")
        .clone();
    assert_eq!(archiving["allowed"], true, "{archiving}");
    assert!(
        archiving["prompts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["code"] == "report_back_welcome" && p["grade"] == "garna"),
        "{archiving}"
    );
    ok(app
        .action(
            &id,
            &company,
            json!({"action": "record_publication", "title": "Five-year outcomes", "journal": "Eur Heart J",
                   "doi": "10.1093/eurheartj/ehz123", "published_on": "2026-08-31"}),
        )
        .await)
    .await;
    ok(app
        .action(
            &id,
            &company,
            json!({"action": "record_report_back", "reported_on": "2026-09-01",
                   "summary": "Resultaten återrapporterade till registrets styrgrupp."}),
        )
        .await)
    .await;
    ok(app
        .transition(&id, &company, json!({"to": "archiving"}))
        .await)
    .await;
    let p = problem(
        app.transition(&id, &company, json!({"to": "closed"})).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(p["rule"], "disposal_confirmation_required");
    ok(app
        .action(
            &id,
            &company,
            json!({"action": "confirm_disposal", "disposition": "deleted", "confirmed_on": "2026-09-01",
                   "confirmed_by_name": "Per Forskare", "statement": "Alla kopior raderade."}),
        )
        .await)
    .await;
    let v = ok(app.transition(&id, &company, json!({"to": "closed"})).await).await;
    assert_eq!(step(&v), "closed");
    let p = problem(
        app.transition(&id, &company, json!({"to": "results"}))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(p["rule"], "terminal_state");

    // Every command left an event and the chain is intact.
    let audit = ok(app
        .get(&format!("/api/v1/collaborations/{id}/audit"), &legal)
        .await)
    .await;
    assert_eq!(audit["verification"]["intact"], true);
    let events = audit["events"].as_array().unwrap();
    let commands: Vec<&str> = events
        .iter()
        .map(|e| e["command"].as_str().unwrap())
        .collect();
    // 18 commands, the reclassification, the agreement version drawn before the agreement step, and its
    // signing (issue 14): the envelope drafted and sent, three signatures, the envelope completed, and
    // the seal job's executed agreement sealed.
    assert_eq!(events.len(), 27, "{commands:?}");
    for e in [
        "envelope_drafted",
        "envelope_sent",
        "signature_recorded",
        "envelope_completed",
        "executed_agreement_sealed",
    ] {
        assert!(commands.contains(&e), "{e} in {commands:?}");
    }
    assert!(
        commands.contains(&"agreement_version_created"),
        "{commands:?}"
    );
    // Naming the principal completed the facts: the classification was recomputed and audited.
    let changed = events
        .iter()
        .find(|e| e["command"] == "classification_changed")
        .expect("classification_changed event");
    // Its change (a JSON patch from the old classification to the new one) sets the outcome's type.
    let sets_type = changed["change"].as_array().unwrap().iter().any(|op| {
        let path = op["path"].as_str().unwrap_or_default();
        (path == "/result/outcome/type" && op["value"] == "research-public-principal")
            || (path == "/result/outcome" && op["value"]["type"] == "research-public-principal")
    });
    assert!(sets_type, "{changed}");
}

#[tokio::test]
async fn each_cpua_decides_on_its_own_and_one_refusal_does_not_erase_another_approval() {
    let app = TestApp::spawn().await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA", "EX-HOFT"]).await;
    let company = app.token("company").await;
    let legal = app.token("legal").await;
    let legal_vgr = app.token("legal-vgr").await;
    let uppsala = app.org("Region Uppsala").await;
    let vgr = app.org("Västra Götalandsregionen").await;

    let v = app.walk_to_application(&id, &["Region Uppsala"]).await;
    // Uppsala's application is complete; VGR's is still to come and holds the case up.
    assert_eq!(step(&v), "data_application");
    let holding: Vec<(&str, &str)> = v["holding_up"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["cpua_name"].as_str().unwrap(),
                h["waiting_for"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        holding.contains(&("Västra Götalandsregionen", "application")),
        "{holding:?}"
    );
    assert!(
        holding.contains(&("Region Uppsala", "decision")),
        "{holding:?}"
    );
    ok(app
        .transition(
            &id,
            &company,
            json!({"to": "data_application", "cpua": vgr, "dossier": dossier()}),
        )
        .await)
    .await;

    // A CPUA decides only on its own track.
    problem(
        app.transition(&id, &legal, approval(&vgr)).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    ok(app
        .transition(
            &id,
            &legal,
            json!({"to": "release_decision", "cpua": uppsala, "outcome": "refused",
                   "reasons": "Risk för men för enskild vid så små grupper.", "grounds": ["harm_to_individual"],
                   "dpo_consulted_on": "2026-08-31"}),
        )
        .await)
    .await;
    // Two CPUAs: who keeps the key is settled before an approval (seed 002, "Utbildningens innehåll").
    ok(app
        .action(
            &id,
            &legal,
            json!({"action": "record_coordination", "key_custodian": uppsala, "linkage_responsible": uppsala}),
        )
        .await)
    .await;
    let v = ok(app.transition(&id, &legal_vgr, approval(&vgr)).await).await;
    assert_eq!(
        step(&v),
        "agreement",
        "VGR's approval stands beside Uppsala's refusal"
    );
    let reviews = v["collaboration"]["cpua_reviews"].as_array().unwrap();
    let uppsala_review = reviews
        .iter()
        .find(|r| r["cpua"] == uppsala.as_str())
        .unwrap();
    assert_eq!(uppsala_review["decision"]["outcome"], "refused");
    assert_eq!(
        uppsala_review["decision"]["appeal"]["court"],
        "kammarrätten"
    );
    let vgr_review = reviews.iter().find(|r| r["cpua"] == vgr.as_str()).unwrap();
    assert_eq!(vgr_review["decision"]["outcome"], "approved");
}

#[tokio::test]
async fn when_every_cpua_refuses_the_collaboration_is_refused() {
    let app = TestApp::spawn().await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    let legal = app.token("legal").await;
    let uppsala = app.org("Region Uppsala").await;
    app.walk_to_application(&id, &["Region Uppsala"]).await;
    // A refusal names its grounds from the list (seed 000, "Menprövning av centralt
    // personuppgiftsansvarig myndighet (CPUA)").
    let p = problem(
        app.transition(
            &id,
            &legal,
            json!({"to": "release_decision", "cpua": uppsala, "outcome": "refused", "reasons": "Risk för men."}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["rule"], "refusal_ground_required");
    let p = problem(
        app.transition(
            &id,
            &legal,
            json!({"to": "release_decision", "cpua": uppsala, "outcome": "refused",
                   "reasons": "Risk för men.", "grounds": ["other"]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    // `other` is no ground: the list is closed.
    assert_eq!(p["field"], "grounds[0]");
    assert_eq!(p["rule"], "one_of");
    // The DPO consultation is a "bör" for a delegate (seed 000, same section), not a block for CPUA legal
    // itself: the CPUA refuses without a DPO date and no warning is passed.
    let v = ok(app
        .transition(
            &id,
            &legal,
            json!({"to": "release_decision", "cpua": uppsala, "outcome": "refused",
                   "reasons": "Risk för men.", "grounds": ["harm_to_individual"]}),
        )
        .await)
    .await;
    assert_eq!(step(&v), "refused");
    assert_eq!(v["collaboration"]["passed_warnings"], json!([]));
    let appeal = &v["collaboration"]["cpua_reviews"][0]["decision"]["appeal"];
    assert!(appeal["instructions_sv"]
        .as_str()
        .unwrap()
        .contains("kammarrätten"));
}

#[tokio::test]
async fn overdue_decisions_are_listable() {
    let app = TestApp::spawn().await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    let legal = app.token("legal").await;
    let uppsala = app.org("Region Uppsala").await;
    app.walk_to_application(&id, &["Region Uppsala"]).await;
    let overdue = |v: Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect()
    };
    let path = format!("/api/v1/collaborations?overdue=true&cpua={uppsala}");
    assert!(overdue(ok(app.get(&path, &legal).await).await).is_empty());
    // Day 30 is still within the deadline; day 31 is past it. (Tokens expire as time passes.)
    app.clock.advance(chrono::Duration::days(30));
    let legal = app.token("legal").await;
    assert!(overdue(ok(app.get(&path, &legal).await).await).is_empty());
    app.clock.advance(chrono::Duration::days(1));
    let legal = app.token("legal").await;
    assert_eq!(
        overdue(ok(app.get(&path, &legal).await).await),
        vec![id.clone()]
    );
    let v = ok(app
        .get(&format!("/api/v1/collaborations/{id}"), &legal)
        .await)
    .await;
    assert_eq!(v["overdue"], true);
    // Filters by step and register work beside it.
    let reg = app.register("EX-HJARTA").await;
    let v = ok(app
        .get(
            &format!("/api/v1/collaborations?step=release_decision&register={reg}"),
            &legal,
        )
        .await)
    .await;
    assert_eq!(v["total"], 1);
    let v = ok(app.get("/api/v1/collaborations?step=closed", &legal).await).await;
    assert_eq!(v["total"], 0);
}

#[tokio::test]
async fn a_new_research_question_after_release_needs_new_ethics_approval_and_application() {
    let app = TestApp::spawn().await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    let company = app.token("company").await;
    let legal = app.token("legal").await;
    let uppsala = app.org("Region Uppsala").await;
    app.walk_to_application(&id, &["Region Uppsala"]).await;
    ok(app.transition(&id, &legal, approval(&uppsala)).await).await;
    app.sign_agreement(&id).await;
    ok(app
        .transition(
            &id,
            &legal,
            json!({"to": "data_release", "cpua": uppsala, "released_on": "2026-09-01",
                   "transfer_method": "tls", "password_sent_separately": true}),
        )
        .await)
    .await;
    let new_q = "Påverkar behandlingen även återinläggning?";
    ok(app
        .action(
            &id,
            &company,
            json!({"action": "open_amendment", "research_question": new_q, "reason": "Ny hypotes"}),
        )
        .await)
    .await;
    let p = problem(
        app.action(
            &id,
            &company,
            json!({"action": "submit_amendment_application"}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(p["rule"], "new_ethics_approval_required");
    // The old approval does not cover a new question.
    let p = problem(
        app.action(
            &id,
            &company,
            json!({"action": "record_amendment_ethics", "reference": "2026-01234-01", "decided_on": "2026-08-31"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["rule"], "new_ethics_approval_required");
    ok(app
        .action(
            &id,
            &company,
            json!({"action": "record_amendment_ethics", "reference": "2026-05555-01", "decided_on": "2026-08-31"}),
        )
        .await)
    .await;
    let p = problem(
        app.action(
            &id,
            &legal,
            json!({"action": "decide_amendment", "cpua": uppsala,
                   "decision": {"outcome": "approved", "findings": findings()}}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(p["rule"], "new_application_required");
    ok(app
        .action(
            &id,
            &company,
            json!({"action": "submit_amendment_application"}),
        )
        .await)
    .await;
    let v = ok(app
        .action(
            &id,
            &legal,
            json!({"action": "decide_amendment", "cpua": uppsala,
                   "decision": {"outcome": "approved", "findings": findings()}}),
        )
        .await)
    .await;
    assert_eq!(v["collaboration"]["research_question"], new_q);
    assert_eq!(v["collaboration"]["ethics"]["reference"], "2026-05555-01");
    assert_eq!(v["collaboration"]["amendments"][0]["status"], "approved");
}

#[tokio::test]
async fn a_company_principal_needs_the_confidentiality_reservation_in_the_agreement() {
    let app = TestApp::spawn().await;
    let company = app.token("company").await;
    let legal = app.token("legal").await;
    let uppsala = app.org("Region Uppsala").await;
    let me = app.org("Exempel Läkemedel AB").await;
    let reg = app.register("EX-HJARTA").await;
    let v = ok(app
        .post(
            "/api/v1/collaborations",
            &company,
            &json!({"title": "Företagets egen studie", "purpose": "Uppföljning",
                    "research_question": "Fråga", "research_principal": me, "registers": [reg],
                    "requested_variables": ["alder", "kon", "diagnosdatum", "behandling"],
                    "data_kind": "pseudonymised",
                    "intake": {"purpose": "research", "company_receives": "pseudonymised",
                               "principal_receives": "pseudonymised", "analysis_by": "company",
                               "sector": "pharma", "external_processor": false,
                               "identity_numbers_requested": false, "effort_beyond_routine": false,
                               "key_retention_months": 3}}),
        )
        .await)
    .await;
    let reservation = obligation(&v, "confidentiality_reservation").expect("the reservation");
    assert_eq!(reservation["gates_step"], 7);
    assert_eq!(reservation["waivable"], false, "a \"ska\" of seed 000");
    let id = v["collaboration"]["id"].as_str().unwrap().to_string();
    app.walk_to_application(&id, &["Region Uppsala"]).await;
    ok(app.transition(&id, &legal, approval(&uppsala)).await).await;
    // Data are released only under an agreement holding the reservation (seed 000, "Hantering vid
    // utlämnandet av kvalitetsregisterdata"): the version drawn for this type carries the clause.
    let release = json!({"to": "data_release", "cpua": uppsala, "released_on": "2026-09-01",
                         "transfer_method": "encrypted_file", "password_sent_separately": true});
    let p = problem(
        app.transition(&id, &legal, release.clone()).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(p["rule"], "agreement_required");
    let v = app.sign_agreement(&id).await;
    let clauses = v["collaboration"]["agreement"]["clauses"]
        .as_array()
        .unwrap();
    assert!(
        clauses.iter().any(|c| c == "confidentiality_reservation"),
        "{clauses:?}"
    );
    let html = app
        .get(
            &format!("/api/v1/collaborations/{id}/agreements/1.html"),
            &company,
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("data-code=\"confidentiality_reservation\""));
    assert!(
        html.contains("10 kap. 14 §"),
        "the reservation cites OSL 10 kap. 14 §"
    );
    ok(app.transition(&id, &legal, release).await).await;
}

#[tokio::test]
async fn an_approval_may_set_the_last_day_of_use_and_only_an_approval_may() {
    // Seed 000, "Hantering vid utlämnandet av kvalitetsregisterdata": data may be used only as long as
    // needed. The decision's optional `use_until` opens the usage-period deadline (a reminder).
    let app = TestApp::spawn().await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    app.walk_to_application(&id, &["Region Uppsala"]).await;
    let legal = app.token("legal").await;
    let uppsala = app.org("Region Uppsala").await;
    let p = problem(
        app.transition(
            &id,
            &legal,
            json!({"to": "release_decision", "cpua": uppsala, "outcome": "refused",
                   "reasons": "Risk för men.", "grounds": ["harm_to_individual"],
                   "use_until": "2027-09-01"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["rule"], "use_until_without_approval");
    assert_eq!(p["field"], "use_until");
    let mut approval = crate::helpers::approval(&uppsala);
    approval["use_until"] = json!("2026-09-01");
    let p = problem(
        app.transition(&id, &legal, approval.clone()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["rule"], "use_until_not_after_today");
    approval["use_until"] = json!("2027-09-01");
    let v = ok(app.transition(&id, &legal, approval).await).await;
    assert_eq!(
        v["collaboration"]["cpua_reviews"][0]["decision"]["use_until"],
        "2027-09-01"
    );
    let admin = app.token("admin").await;
    let log = ok(app
        .get(
            &format!("/api/v1/collaborations/{id}/notifications"),
            &admin,
        )
        .await)
    .await;
    let d = log["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "usage_period_end")
        .unwrap_or_else(|| panic!("{log}"));
    assert_eq!(d["due_on"], "2027-09-01");
    assert_eq!(d["overdue"], false);
}
