//! Agreement versions through the API: rendered from the collaboration and the negotiated terms,
//! immutable, fetched as DOCX, PDF and HTML with their SHA-256, diffed, and deviated by CPUA legal.
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::{approval, findings, ok, problem, TestApp};
pub use crate::terms::{full_terms, person};

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

/// The number of the clause with this code in a rendered review page.
fn clause_number(html: &str, code: &str) -> u32 {
    let at = html
        .find(&format!("data-code=\"{code}\">"))
        .unwrap_or_else(|| panic!("clause {code} in the page"));
    let h2 = &html[at..];
    let start = h2.find("<h2>").unwrap() + 4;
    let end = start + h2[start..].find('.').unwrap();
    h2[start..end].parse().unwrap()
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

async fn person_terms(app: &TestApp, org: &str, contact: &str, signatory: &str) -> Value {
    json!({"organisation": app.org(org).await, "address": "Regionens hus, 405 44 Göteborg",
           "contact": person(contact, "Registerjurist"), "signatory": person(signatory, "Regiondirektör")})
}

/// A research collaboration on two registers under two CPUAs (EX-HJARTA under Region Uppsala, EX-HOFT
/// under Västra Götalandsregionen), with complete applications to both.
async fn two_cpua_case(app: &TestApp) -> (String, Value) {
    let (id, _) = app.research_collaboration(&["EX-HJARTA", "EX-HOFT"]).await;
    app.walk_to_application(&id, &["Region Uppsala", "Västra Götalandsregionen"])
        .await;
    let mut terms = full_terms(app).await;
    terms["parties"].as_array_mut().unwrap().push(
        person_terms(
            app,
            "Västra Götalandsregionen",
            "Vera Jurist",
            "Gunnar Regiondirektör",
        )
        .await,
    );
    // Seed 002, "Utbildningens innehåll": who links and who keeps the identity-number key.
    terms["coordination"] =
        json!({"linkage_by": "Region Uppsala", "key_custodian": "Region Uppsala"});
    // The same settled in the case: multi_cpua_coordination gates an approval (step 5).
    let uppsala = app.org("Region Uppsala").await;
    ok(app
        .action(
            &id,
            &app.token("legal").await,
            json!({"action": "record_coordination", "key_custodian": uppsala,
                   "linkage_responsible": uppsala}),
        )
        .await)
    .await;
    (id, terms)
}

async fn evidence(
    app: &TestApp,
    id: &str,
    number: i32,
) -> Option<samverkan::domain::agreement::evidence::AgreementVersionEvidence> {
    let db = samverkan::db::conn::Db::connect(&app.database_url, 1).unwrap();
    let mut conn = db.pool.get().unwrap();
    let cid = samverkan::domain::ids::CollaborationId::parse(id).unwrap();
    let (c, _) = samverkan::db::repo::load_collaboration(
        &mut conn,
        &samverkan::rulebook::load_embedded().unwrap(),
        &cid,
    )
    .unwrap()
    .unwrap();
    samverkan::app::agreements::version_evidence(&mut conn, &c, number).unwrap()
}

#[tokio::test]
async fn two_cpuas_one_refuses_the_agreement_names_only_the_approving_one() {
    // DOMAIN.md, "Several CPUAs in one agreement"; seed 000, "Sambearbetning av registerdata": each
    // authority decides on its own; a refusing CPUA is not a party and its registers are not released.
    let app = TestApp::spawn().await;
    let (id, terms) = two_cpua_case(&app).await;
    let company = app.token("company").await;
    let path = format!("/api/v1/collaborations/{id}/agreements");
    // Drafted before the decisions: both CPUAs are parties, each subject to its decision.
    ok(app.post(&path, &company, &json!({"terms": terms})).await).await;
    let html = app
        .get(&format!("{path}/1.html"), &company)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Region Uppsala") && html.contains("Västra Götalandsregionen"));
    assert_eq!(count(&html, "För CPUA-myndigheten"), 2);
    assert_eq!(
        count(&html, "Under förutsättning av CPUA-myndighetens beslut"),
        2
    );

    let uppsala = app.org("Region Uppsala").await;
    let vgr = app.org("Västra Götalandsregionen").await;
    ok(app
        .transition(&id, &app.token("legal").await,
            json!({"to": "release_decision", "cpua": uppsala, "outcome": "approved", "reference": "RU 2026/0815",
                   "findings": findings()}))
        .await)
    .await;
    ok(app
        .transition(&id, &app.token("legal-vgr").await,
            json!({"to": "release_decision", "cpua": vgr, "outcome": "refused",
                   "reasons": "Uppgifterna kan inte lämnas ut utan men för enskilda.", "grounds": ["harm_to_individual"],
                   "dpo_consulted_on": "2026-08-31"}))
        .await)
    .await;
    let v = ok(app.post(&path, &company, &json!({})).await).await;
    let html = app
        .get(&format!("{path}/2.html"), &company)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Region Uppsala"));
    assert!(
        !html.contains("Västra Götalandsregionen"),
        "the refusing CPUA is no party"
    );
    assert!(
        !html.contains("Exempelregistret för höftprotes"),
        "nor is its register released"
    );
    assert!(html.contains("Exempelregistret för hjärtintensivvård"));
    assert_eq!(count(&html, "För CPUA-myndigheten"), 1);
    assert!(
        html.contains("Maria Direktör"),
        "the approving CPUA's signatory"
    );
    assert!(!html.contains("Gunnar Regiondirektör"));
    // The release decision is cited with its date and the CPUA's reference.
    assert!(
        html.contains("I enlighet med CPUA-myndighetens beslut den 1 september 2026, dnr RU 2026/0815, lämnar Region Uppsala ut uppgifter"),
        "decision citation"
    );
    let e = evidence(&app, &id, 2).await.unwrap();
    assert_eq!(
        e.cpua_parties
            .iter()
            .map(|o| o.as_str().to_string())
            .collect::<Vec<_>>(),
        vec![uppsala.clone()]
    );
    assert_eq!(e.digest, v["digest"]);
    assert!(e.is_latest);
    let e1 = evidence(&app, &id, 1).await.unwrap();
    assert_eq!(e1.cpua_parties.len(), 2);
    assert!(!e1.is_latest);
    assert!(evidence(&app, &id, 9).await.is_none());
}

#[tokio::test]
async fn two_cpuas_both_approve_both_sign_and_the_key_custody_clause_is_there() {
    // Seed 002, "Utbildningens innehåll": who links and who keeps the identity-number key is settled
    // whenever several registers under several CPUAs are linked.
    let app = TestApp::spawn().await;
    let (id, mut terms) = two_cpua_case(&app).await;
    let company = app.token("company").await;
    let path = format!("/api/v1/collaborations/{id}/agreements");
    let uppsala = app.org("Region Uppsala").await;
    let vgr = app.org("Västra Götalandsregionen").await;
    ok(app
        .transition(&id, &app.token("legal").await,
            json!({"to": "release_decision", "cpua": uppsala, "outcome": "approved", "reference": "RU 2026/0815",
                   "findings": findings()}))
        .await)
    .await;
    ok(app
        .transition(&id, &app.token("legal-vgr").await, approval(&vgr))
        .await)
    .await;
    // Without the coordination the version is refused, naming what is missing and where.
    let coordination = terms["coordination"].take();
    let p = problem(
        app.post(&path, &company, &json!({"terms": terms.clone()}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        p["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["field"] == "coordination.key_custodian"),
        "{p}"
    );
    terms["coordination"] = coordination;
    let v = ok(app.post(&path, &company, &json!({"terms": terms})).await).await;
    let html = app
        .get(&format!("{path}/1.html"), &company)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(count(&html, "För CPUA-myndigheten"), 2);
    assert!(html.contains("Maria Direktör") && html.contains("Gunnar Regiondirektör"));
    assert!(
        html.contains("Exempelregistret för höftprotes")
            && html.contains("Exempelregistret för hjärtintensivvård")
    );
    assert!(html.contains("data-code=\"cpua_coordination\""));
    assert!(html.contains("Region Uppsala ansvarar för samkörningen av uppgifterna, och Region Uppsala förvarar kodnyckeln"));
    assert!(html.contains("dnr RU 2026/0815, lämnar Region Uppsala"));
    assert!(html.contains("I enlighet med CPUA-myndighetens beslut den 1 september 2026, lämnar Västra Götalandsregionen"), "no reference given: none printed");
    // The digest in the view is the formula over the three files' hashes.
    let files = v["files"].as_array().unwrap();
    let f = |fmt: &str| {
        files.iter().find(|x| x["format"] == fmt).unwrap()["sha256"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        v["digest"],
        samverkan::domain::agreement::evidence::version_digest(&f("docx"), &f("pdf"), &f("html"))
    );
    assert_eq!(
        v["digest"],
        sha(format!("docx:{}\npdf:{}\nhtml:{}\n", f("docx"), f("pdf"), f("html")).as_bytes())
    );
    // The evidence lists the clauses the stored document holds and both CPUAs.
    use samverkan::domain::classification::ClauseCode as C;
    let e = evidence(&app, &id, 1).await.unwrap();
    for code in [
        C::CpuaCoordination,
        C::Publication,
        C::PurposeLimitation,
        C::ArchivingAndDeletion,
        C::GoalsAndDeliverables,
        C::Costs,
        C::ResearchPrincipalResponsibility,
        C::ResultsReporting,
    ] {
        assert!(e.clauses.contains(&code), "{code}: {:?}", e.clauses);
    }
    assert!(
        !e.clauses.contains(&C::ConfidentialityReservation),
        "a public principal needs none"
    );
    assert!(e.weakened_clauses.is_empty());
    assert_eq!(e.cpua_parties.len(), 2);
    assert_eq!(e.amendment, None);
    assert_eq!(e.number, 1);
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
        created[0]["change"][0]["value"]["sha256"]["docx"],
        v["files"][0]["sha256"]
    );
    assert_eq!(
        created[0]["files"]["agreement_version/1/docx"],
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

    let html2 = app
        .get(&format!("{path}/2.html"), &company)
        .await
        .text()
        .await
        .unwrap();
    let n = clause_number(&html2, "publication");
    // Issue 8, item 5: a deviation names one numbered sub-clause (here n.2, the manuscript review).
    let deviation = json!({"clause": format!("{n}.2"), "text": "Företaget får granska manuskriptet i 45 dagar före inlämning.",
                           "reason": "Förhandlat med parterna den 1 september 2026."});
    problem(
        app.post(&format!("{path}/2/deviations"), &company, &deviation)
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    for bad in ["no_such_clause", "99.1", &format!("{n}.99"), &n.to_string()] {
        let p = problem(
            app.post(
                &format!("{path}/2/deviations"),
                &legal,
                &json!({"clause": bad, "text": "x", "reason": "y"}),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(p["field"], "clause", "{bad}: {p}");
    }
    // Dropping the sentence that identities are never revealed is refused (seed 000, "Publicering,
    // erkännanden och författarskap"), naming the clause and the rule; nothing is stored.
    let p = problem(
        app.post(
            &format!("{path}/2/deviations"),
            &legal,
            &json!({"clause": format!("{n}.1"), "text": "Forskningshuvudmannen har rätt att publicera resultaten.", "reason": "Förenkling"}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(p["field"], "clause");
    assert_eq!(p["rule"], "required_text");
    assert_eq!(p["missing"], json!(["publication"]));
    assert!(
        p["detail"].as_str().unwrap().contains(&format!("{n}.1")),
        "{p}"
    );
    assert!(
        p["source"]["section"]
            .as_str()
            .unwrap()
            .contains("Publicering"),
        "{p}"
    );
    assert_eq!(
        ok(app.get(&path, &company).await)
            .await
            .as_array()
            .unwrap()
            .len(),
        2,
        "nothing stored"
    );
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
    // The original stays beside it and the sibling sub-clauses are untouched.
    assert!(
        html.contains("30 dagar före inlämning"),
        "the template's text"
    );
    assert!(html.contains("enskilda personers identitet inte röjs"));
    assert!(html.contains("ICMJE:s riktlinjer"));
    // A later version keeps the deviation on the same sub-clause.
    let v4 = ok(app.post(&path, &company, &json!({})).await).await;
    assert_eq!(v4["deviations"], 1);
    let html4 = app
        .get(&format!("{path}/4.html"), &company)
        .await
        .text()
        .await
        .unwrap();
    assert!(html4.contains("45 dagar") && html4.contains("ICMJE:s riktlinjer"));
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
