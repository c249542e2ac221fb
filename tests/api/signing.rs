//! Signing (issue 14): each party signs the exact agreement version through its envelope; the agreement
//! step and the release need the executed version. Seed 001, "6. Avtal upprättas" and "7. Utlämnande
//! av data"; seed 000, "Forskningssamarbete med industrin" (CPUA, principal and company are parties).
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::agreements::full_terms;
use crate::helpers::{approval, ok, problem, TestApp};

/// A research case on one register, approved by Region Uppsala, with version 1 drawn. Returns
/// (collaboration id, version number, digest).
pub(crate) async fn drawn(app: &TestApp) -> (String, u64, String) {
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    app.walk_to_application(&id, &["Region Uppsala"]).await;
    let uppsala = app.org("Region Uppsala").await;
    let legal = app.token("legal").await;
    ok(app.transition(&id, &legal, approval(&uppsala)).await).await;
    let company = app.token("company").await;
    let (n, digest) = app
        .draw_agreement(&id, &company, &json!({"terms": full_terms(app).await}))
        .await;
    (id, n, digest)
}

fn signer<'a>(env: &'a Value, org_name: &str) -> &'a Value {
    env["signers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["organisation_name"] == org_name)
        .unwrap_or_else(|| panic!("{org_name} in {env}"))
}

async fn sign_body(
    app: &TestApp,
    id: &str,
    n: u64,
    account: &str,
    body: Value,
) -> reqwest::Response {
    let token = app.token(account).await;
    app.post(
        &format!("{}/signatures", TestApp::envelope_path(id, n)),
        &token,
        &body,
    )
    .await
}

pub(crate) async fn record(app: &TestApp, id: &str, n: u64, digest: &str) -> reqwest::Response {
    app.transition(
        id,
        &app.token("legal").await,
        json!({"to": "agreement", "version": n, "digest": digest, "signed_on": "2026-09-01"}),
    )
    .await
}

async fn notices(app: &TestApp, id: &str, event: &str) -> usize {
    let v = ok(app
        .get(
            &format!("/api/v1/collaborations/{id}/notifications"),
            &app.token("legal").await,
        )
        .await)
    .await;
    v["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["event"] == event)
        .count()
}

#[tokio::test]
async fn every_party_signs_in_turn_and_only_then_the_agreement_is_recorded_and_data_released() {
    let app = TestApp::spawn().await;
    let (id, n, digest) = drawn(&app).await;
    let path = TestApp::envelope_path(&id, n);
    // Recording the agreement needs the executed version, not a typed-in reference.
    let p = problem(record(&app, &id, n, &digest).await, StatusCode::CONFLICT).await;
    assert_eq!(p["rule"], "agreement_not_executed", "{p}");
    // Only the legal team of a CPUA that is a party prepares the envelope.
    problem(
        app.post(&path, &app.token("company").await, &json!({"send": true}))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let env = app.send_envelope(&id, n).await;
    assert_eq!(env["status"], "sent");
    assert_eq!(env["digest"], digest, "the version's stored digest");
    assert_eq!(env["order"], "default");
    assert_eq!(
        signer(&env, "Region Uppsala")["group"],
        1,
        "the authority last"
    );
    assert_eq!(signer(&env, "Exempeluniversitetet")["group"], 0);
    assert_eq!(signer(&env, "Exempel Läkemedel AB")["group"], 0);
    assert_eq!(notices(&app, &id, "signing_requested").await, 2);
    // The CPUA may not sign before the principal and the company.
    let p = problem(
        app.sign_as(&id, n, "Region Uppsala").await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(p["rule"], "signing_not_your_turn", "{p}");
    // The consent text names signer, party, version and digest.
    let shown = ok(app.get(&path, &app.token("company").await).await).await;
    let text = shown["consent"]["text"].as_str().unwrap();
    for part in ["Karin Företagsson", "Exempel Läkemedel AB", &digest] {
        assert!(text.contains(part), "{part} in {text}");
    }
    let env = ok(app.sign_as(&id, n, "Exempel Läkemedel AB").await).await;
    let e = &signer(&env, "Exempel Läkemedel AB")["evidence"];
    assert_eq!(e["method"], "builtin");
    assert_eq!(e["level"], "simple");
    assert_eq!(e["provider"], "local");
    assert_eq!(e["subject"], "company");
    assert_eq!(e["name"], "Karin Företagsson");
    assert_eq!(e["digest"], digest);
    assert_eq!(e["client_ip"], "127.0.0.1");
    assert!(
        e["auth_time"].is_string() && e["server_time"].is_string(),
        "{e}"
    );
    assert_eq!(e["consent_sha256"].as_str().unwrap().len(), 64);
    // Signing twice is refused.
    let p = problem(
        app.sign_as(&id, n, "Exempel Läkemedel AB").await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(p["rule"], "signing_already_signed");
    ok(app.sign_as(&id, n, "Exempeluniversitetet").await).await;
    let env = ok(app.sign_as(&id, n, "Region Uppsala").await).await;
    assert_eq!(env["status"], "completed");
    assert_eq!(notices(&app, &id, "envelope_completed").await, 3);
    // The executed agreement is sealed with the completion (issue 14, "Executed agreement"): the
    // version's PDF unchanged as its leading bytes, then the certificate and the seal, which pdfsig
    // reports valid over the whole document.
    let company = app.token("company").await;
    let r = app
        .get(
            &format!("/api/v1/collaborations/{id}/agreements/{n}/executed.pdf"),
            &company,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
        Some("application/pdf")
    );
    let executed = r.bytes().await.unwrap();
    let version_pdf = app
        .get(
            &format!("/api/v1/collaborations/{id}/agreements/{n}.pdf"),
            &company,
        )
        .await
        .bytes()
        .await
        .unwrap();
    assert!(executed.len() > version_pdf.len());
    assert_eq!(&executed[..version_pdf.len()], &version_pdf[..]);
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &executed).unwrap();
    let out = std::process::Command::new("pdfsig")
        .arg(file.path())
        .output()
        .expect("pdfsig (poppler-utils) runs");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(report.contains("Signature is Valid."), "{report}");
    assert!(report.contains("Total document signed"), "{report}");
    // The chain holds every step of the signing.
    let audit = ok(app
        .get(
            &format!("/api/v1/collaborations/{id}/audit"),
            &app.token("legal").await,
        )
        .await)
    .await;
    let text = audit.to_string();
    for e in [
        "envelope_drafted",
        "envelope_sent",
        "signature_recorded",
        "envelope_completed",
    ] {
        assert!(text.contains(e), "{e} in the audit trail");
    }
    let v = ok(record(&app, &id, n, &digest).await).await;
    assert_eq!(v["collaboration"]["step"], "data_release");
    let release = json!({"to": "data_release", "cpua": app.org("Region Uppsala").await,
                         "released_on": "2026-09-01", "transfer_method": "encrypted_file",
                         "password_sent_separately": true});
    ok(app
        .transition(&id, &app.token("legal").await, release)
        .await)
    .await;
}

#[tokio::test]
async fn a_signature_with_another_digest_is_refused_and_a_malformed_one_named_at_its_field() {
    let app = TestApp::spawn().await;
    let (id, n, _) = drawn(&app).await;
    app.send_envelope(&id, n).await;
    let body = |d: &str| json!({"digest": d, "consent_text_version": "2026-12-1", "typed_name": "Karin Företagsson"});
    let p = problem(
        sign_body(&app, &id, n, "company", body(&"ab".repeat(32))).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(p["rule"], "signing_digest_mismatch", "{p}");
    let p = problem(
        sign_body(&app, &id, n, "company", body("not-a-digest")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], "digest", "{p}");
    // Nothing was written: the company's slot is still pending.
    let env = ok(app
        .get(&TestApp::envelope_path(&id, n), &app.token("company").await)
        .await)
    .await;
    assert_eq!(signer(&env, "Exempel Läkemedel AB")["status"], "pending");
    // A name that is not the person's, and an old consent text, each named.
    let digest = env["digest"].as_str().unwrap().to_string();
    let p = problem(
        sign_body(
            &app,
            &id,
            n,
            "company",
            json!({"digest": digest, "consent_text_version": "2026-12-1", "typed_name": "Karin"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        (p["rule"].as_str(), p["field"].as_str()),
        (Some("signing_name_mismatch"), Some("typed_name"))
    );
    let p = problem(
        sign_body(&app, &id, n, "company",
            json!({"digest": digest, "consent_text_version": "2020-1", "typed_name": "Karin Företagsson"}))
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["rule"], "signing_consent_outdated");
    // In English when asked.
    let r = app
        .client
        .post(format!(
            "{}{}/signatures",
            app.base,
            TestApp::envelope_path(&id, n)
        ))
        .bearer_auth(app.token("company").await)
        .header("accept-language", "en")
        .json(&body(&"cd".repeat(32)))
        .send()
        .await
        .unwrap();
    let p = problem(r, StatusCode::CONFLICT).await;
    assert!(p["detail"].as_str().unwrap().contains("digest"), "{p}");
}

#[tokio::test]
async fn a_new_version_voids_the_open_envelope_keeping_its_evidence() {
    let app = TestApp::spawn().await;
    let (id, n, _) = drawn(&app).await;
    app.send_envelope(&id, n).await;
    ok(app.sign_as(&id, n, "Exempel Läkemedel AB").await).await;
    let company = app.token("company").await;
    let (n2, digest2) = app.draw_agreement(&id, &company, &json!({})).await;
    assert_eq!(n2, n + 1);
    let old = ok(app.get(&TestApp::envelope_path(&id, n), &company).await).await;
    assert_eq!(old["status"], "voided");
    assert_eq!(old["end_reason"], "superseded");
    assert!(
        signer(&old, "Exempel Läkemedel AB")["evidence"].is_object(),
        "evidence stays"
    );
    assert_eq!(notices(&app, &id, "envelope_voided").await, 3);
    let p = problem(
        app.sign_as(&id, n, "Exempeluniversitetet").await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(p["rule"], "signing_superseded", "{p}");
    // The old version can get no new envelope; the new one is signed on its own.
    let p = problem(
        app.post(
            &TestApp::envelope_path(&id, n),
            &app.token("legal").await,
            &json!({"send": true}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(p["rule"], "signing_superseded");
    let env = app.execute_agreement(&id, n2).await;
    assert_eq!(env["digest"], digest2);
    ok(record(&app, &id, n2, &digest2).await).await;
}

#[tokio::test]
async fn a_decline_ends_the_envelope_and_tells_everyone() {
    let app = TestApp::spawn().await;
    let (id, n, digest) = drawn(&app).await;
    app.send_envelope(&id, n).await;
    let path = format!("{}/decline", TestApp::envelope_path(&id, n));
    let principal = app.token("principal").await;
    let p = problem(
        app.post(&path, &principal, &json!({"reason": "  "})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], "reason");
    let env = ok(app
        .post(
            &path,
            &principal,
            &json!({"reason": "Publiceringsklausulen behöver ändras."}),
        )
        .await)
    .await;
    assert_eq!(env["status"], "declined");
    assert_eq!(
        env["decline_reason"],
        "Publiceringsklausulen behöver ändras."
    );
    assert_eq!(notices(&app, &id, "envelope_declined").await, 3);
    let p = problem(
        app.sign_as(&id, n, "Exempel Läkemedel AB").await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(p["rule"], "signing_not_open", "{p}");
    let p = problem(record(&app, &id, n, &digest).await, StatusCode::CONFLICT).await;
    assert_eq!(p["rule"], "agreement_not_executed");
}

#[tokio::test]
async fn cpua_legal_edits_the_signers_of_a_draft_and_a_change_after_sending_resends() {
    let app = TestApp::spawn().await;
    let (id, n, _) = drawn(&app).await;
    let path = TestApp::envelope_path(&id, n);
    let legal = app.token("legal").await;
    let company_org = app.org("Exempel Läkemedel AB").await;
    let uppsala = app.org("Region Uppsala").await;
    let other = app.org("Prov Medicinteknik AB").await;
    // A signer who is no party, and a party left without a signer, each named at its field.
    let p = problem(
        app.post(
            &path,
            &legal,
            &json!({"signers": [{"organisation": other}]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], "signers[0].organisation", "{p}");
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert!(fields.contains(&"signers"), "{p}");
    let p = problem(
        app.post(&path, &legal, &json!({"order": "sideways"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], "order");
    let r = app.post(&path, &legal, &json!({"order": "sequence"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let draft: Value = r.json().await.unwrap();
    assert_eq!(draft["status"], "draft");
    assert_eq!(signer(&draft, "Exempeluniversitetet")["group"], 0);
    assert_eq!(signer(&draft, "Exempel Läkemedel AB")["group"], 1);
    assert_eq!(signer(&draft, "Region Uppsala")["group"], 2);
    let principal = app.org("Exempeluniversitetet").await;
    let edited = ok(app
        .post(
            &path,
            &legal,
            &json!({"send": true, "signers": [
                {"organisation": principal},
                {"organisation": company_org, "capacity": "firmatecknare"},
                {"organisation": uppsala, "capacity": "regiondirektör"}]}),
        )
        .await)
    .await;
    assert_eq!(edited["id"], draft["id"], "a draft is edited in place");
    assert_eq!(edited["status"], "sent");
    assert_eq!(
        signer(&edited, "Exempel Läkemedel AB")["capacity"],
        "firmatecknare"
    );
    // After sending, a change voids and resends.
    let r = app.post(&path, &legal, &json!({"order": "parallel"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let resent: Value = r.json().await.unwrap();
    assert_ne!(resent["id"], edited["id"]);
    assert_eq!(resent["status"], "sent");
    assert_eq!(
        resent["turn"].as_array().unwrap().len(),
        3,
        "everyone at once"
    );
    // The CPUA may now sign first.
    ok(app.sign_as(&id, n, "Region Uppsala").await).await;
}

#[tokio::test]
async fn envelopes_expire_and_remind_on_the_manual_clock() {
    let app = TestApp::spawn().await;
    let (id, n, _) = drawn(&app).await;
    app.send_envelope(&id, n).await;
    let settings = crate::helpers::test_settings(&app.database_url);
    let rulebooks = samverkan::startup::load_rulebooks(&settings).expect("rulebooks");
    let db = samverkan::db::conn::Db::connect(&app.database_url, 1).expect("database");
    let run = || samverkan::app::signing_deadlines::run_on(&db, &rulebooks, app.clock.as_ref());
    assert_eq!(run().unwrap(), 0, "nothing due on the day it is sent");
    app.clock.advance(chrono::Duration::days(5));
    // The principal and the company are reminded; the CPUA's turn has not come.
    assert_eq!(run().unwrap(), 2);
    assert_eq!(run().unwrap(), 0, "a reminder is written once");
    assert_eq!(notices(&app, &id, "signing_reminder").await, 2);
    for _ in 0..6 {
        app.clock.advance(chrono::Duration::days(5));
        run().unwrap();
    }
    // After 30 days: five reminders at most, then the envelope expired and everyone was told.
    assert_eq!(notices(&app, &id, "signing_reminder").await, 2 * 5);
    let env = ok(app
        .get(&TestApp::envelope_path(&id, n), &app.token("company").await)
        .await)
    .await;
    assert_eq!(env["status"], "expired");
    assert_eq!(env["reminders_sent"], 5);
    assert_eq!(notices(&app, &id, "envelope_expired").await, 3);
    let p = problem(
        app.sign_as(&id, n, "Exempel Läkemedel AB").await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(p["rule"], "signing_expired", "{p}");
    // CPUA legal sends a new one.
    let env = app.send_envelope(&id, n).await;
    assert_eq!(env["status"], "sent");
}

#[tokio::test]
async fn a_stale_sign_in_is_refused_and_a_fresh_one_signs() {
    let app = TestApp::spawn().await;
    let (id, n, _) = drawn(&app).await;
    let env = app.send_envelope(&id, n).await;
    let token = app.token("company").await;
    app.clock.advance(chrono::Duration::minutes(16));
    let body = json!({"digest": env["digest"], "consent_text_version": "2026-12-1",
                      "typed_name": "Karin Företagsson"});
    let path = format!("{}/signatures", TestApp::envelope_path(&id, n));
    let p = problem(app.post(&path, &token, &body).await, StatusCode::CONFLICT).await;
    assert_eq!(p["rule"], "signing_fresh_login", "{p}");
    ok(app.post(&path, &app.token("company").await, &body).await).await;
}

#[tokio::test]
async fn another_organisations_envelope_answers_404() {
    let app = TestApp::spawn().await;
    let (id, n, _) = drawn(&app).await;
    app.send_envelope(&id, n).await;
    let path = TestApp::envelope_path(&id, n);
    for account in ["company-b", "legal-vgr"] {
        let t = app.token(account).await;
        problem(app.get(&path, &t).await, StatusCode::NOT_FOUND).await;
        problem(
            app.post(&format!("{path}/signatures"), &t,
                &json!({"digest": "ab".repeat(32), "consent_text_version": "2026-12-1", "typed_name": "x"}))
                .await,
            StatusCode::NOT_FOUND,
        )
        .await;
        problem(
            app.post(&format!("{path}/decline"), &t, &json!({"reason": "Nej."}))
                .await,
            StatusCode::NOT_FOUND,
        )
        .await;
        problem(
            app.get(
                &format!("/api/v1/collaborations/{id}/agreements/{n}/executed.pdf"),
                &t,
            )
            .await,
            StatusCode::NOT_FOUND,
        )
        .await;
    }
    // A version that does not exist.
    problem(
        app.get(
            &TestApp::envelope_path(&id, n + 5),
            &app.token("company").await,
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

fn rule_of(org: &str, rule: &str) -> Value {
    let mut m = serde_json::Map::new();
    m.insert(org.to_string(), json!(rule));
    Value::Object(m)
}

#[tokio::test]
async fn one_of_several_signatories_satisfies_the_party_and_completes_the_envelope() {
    // Issue 14, "Signers": "where a party needs two signatories jointly or one of several, say so".
    // The company lists two signatories, one of whom suffices ("any"); the first to sign satisfies
    // the company, the other's turn ends, and the envelope completes with the others' signatures.
    let app = TestApp::spawn().await;
    let (id, n, digest) = drawn(&app).await;
    app.add_account("company2", "company_representative", "Exempel Läkemedel AB")
        .await;
    let company = app.org("Exempel Läkemedel AB").await;
    let principal = app.org("Exempeluniversitetet").await;
    let uppsala = app.org("Region Uppsala").await;
    let path = TestApp::envelope_path(&id, n);
    let legal = app.token("legal").await;
    let signers = json!([
        {"organisation": principal},
        {"organisation": company},
        {"organisation": company, "capacity": "firmatecknare"},
        {"organisation": uppsala},
    ]);
    // An unknown rule is refused naming the field.
    let p = problem(
        app.post(
            &path,
            &legal,
            &json!({"signers": signers, "party_rules": rule_of(&company, "both")}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], format!("party_rules.{company}"), "{p}");
    let env = ok(app
        .post(
            &path,
            &legal,
            &json!({"send": true, "signers": signers, "party_rules": rule_of(&company, "any")}),
        )
        .await)
    .await;
    let rules: Vec<(&str, &str)> = env["signers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["organisation_name"].as_str().unwrap(),
                s["party_rule"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        rules.contains(&("Exempel Läkemedel AB", "any")),
        "{rules:?}"
    );
    assert!(
        rules.contains(&("Exempeluniversitetet", "all")),
        "{rules:?}"
    );
    // The second company signatory signs first.
    let token = app.token("company2").await;
    let shown = ok(app.get(&path, &token).await).await;
    let env = ok(app
        .post(
            &format!("{path}/signatures"),
            &token,
            &json!({"digest": digest, "consent_text_version": shown["consent"]["version"],
                    "typed_name": "Test company2"}),
        )
        .await)
    .await;
    let statuses: Vec<&str> = env["signers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["organisation_name"] == "Exempel Läkemedel AB")
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.len(), 2);
    assert!(
        statuses.contains(&"signed") && statuses.contains(&"not_needed"),
        "{statuses:?}"
    );
    // The other company signatory's turn has ended, in words naming the rule.
    let p = problem(
        app.sign_as(&id, n, "Exempel Läkemedel AB").await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(p["rule"], "signing_party_satisfied", "{p}");
    ok(app.sign_as(&id, n, "Exempeluniversitetet").await).await;
    let env = ok(app.sign_as(&id, n, "Region Uppsala").await).await;
    assert_eq!(env["status"], "completed", "{env}");
    assert!(env["executed_pdf_sha256"].is_string());
    // The release guard counts the party's rule as met: the agreement is recorded.
    let v = ok(record(&app, &id, n, &digest).await).await;
    assert_eq!(v["collaboration"]["step"], "data_release");
}

#[tokio::test]
async fn a_cpua_sets_its_envelope_expiry_and_the_envelope_uses_it() {
    // Issue 14, "Model": the expiry is "default 30 days, configurable per CPUA".
    let app = TestApp::spawn().await;
    let uppsala = app.org("Region Uppsala").await;
    let company_org = app.org("Exempel Läkemedel AB").await;
    let legal = app.token("legal").await;
    let policy = format!("/api/v1/organisations/{uppsala}/signing-policy");
    let v = ok(app.get(&policy, &legal).await).await;
    assert_eq!(v["expiry_days"], 30);
    assert_eq!(v["own"], false);
    let p = problem(
        app.put(&policy, &legal, &json!({"expiry_days": 0})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], "expiry_days", "{p}");
    let company = app.token("company").await;
    // Another organisation's policy is not found; the company's own is not its representative's.
    problem(
        app.put(&policy, &company, &json!({"expiry_days": 5})).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        app.put(
            &format!("/api/v1/organisations/{company_org}/signing-policy"),
            &company,
            &json!({"expiry_days": 5}),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let v = ok(app.put(&policy, &legal, &json!({"expiry_days": 10})).await).await;
    assert_eq!(v["expiry_days"], 10);
    assert_eq!(v["own"], true);
    let (id, n, _) = drawn(&app).await;
    let env = app.send_envelope(&id, n).await;
    let at = |k: &str| {
        chrono::DateTime::parse_from_rfc3339(env[k].as_str().unwrap())
            .unwrap_or_else(|e| panic!("{k}: {e} in {env}"))
    };
    assert_eq!(at("expires_at") - at("sent_at"), chrono::Duration::days(10));
    // On the manual clock it expires after those 10 days, not 30.
    app.clock.advance(chrono::Duration::days(10));
    let settings = crate::helpers::test_settings(&app.database_url);
    let rulebooks = samverkan::startup::load_rulebooks(&settings).expect("rulebooks");
    let db = samverkan::db::conn::Db::connect(&app.database_url, 1).expect("database");
    samverkan::app::signing_deadlines::run_on(&db, &rulebooks, app.clock.as_ref()).unwrap();
    let company = app.token("company").await;
    let env = ok(app.get(&TestApp::envelope_path(&id, n), &company).await).await;
    assert_eq!(env["status"], "expired");
}

#[tokio::test]
async fn setting_the_signing_policy_is_audited_on_the_organisations_stream() {
    // Issue 14, "Model": the expiry is "configurable per CPUA"; who set it and when is on the
    // organisation's own audit stream, in the same transaction as the setting.
    let app = TestApp::spawn().await;
    let uppsala = app.org("Region Uppsala").await;
    let legal = app.token("legal").await;
    let policy = format!("/api/v1/organisations/{uppsala}/signing-policy");
    ok(app.put(&policy, &legal, &json!({"expiry_days": 10})).await).await;
    ok(app.put(&policy, &legal, &json!({"expiry_days": 14})).await).await;
    // A refused value writes no event.
    problem(
        app.put(&policy, &legal, &json!({"expiry_days": 366})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;

    let db = samverkan::db::Db::connect(&app.database_url, 1).unwrap();
    let mut conn = db.pool.get().unwrap();
    let stream = format!("organisation:{uppsala}");
    let events = samverkan::db::repo::stream_events(&mut conn, &stream).unwrap();
    let ours: Vec<_> = events
        .iter()
        .filter(|e| e.command == "signing_policy_set")
        .collect();
    assert_eq!(ours.len(), 2, "{events:?}");
    for e in &ours {
        assert_eq!(e.actor_org.as_deref(), Some(uppsala.as_str()));
    }
    // Each names what it changed: the first replaces the default with 10 (now the CPUA's own),
    // the second 10 with 14.
    let change = |i: usize| ours[i].change.clone().unwrap_or(Value::Null).to_string();
    assert!(change(0).contains("/expiry_days"), "{}", change(0));
    assert!(change(0).contains("10"), "{}", change(0));
    assert!(change(0).contains("/own"), "{}", change(0));
    assert!(change(1).contains("14"), "{}", change(1));
    assert!(!change(1).contains("/own"), "{}", change(1));
    assert!(samverkan::domain::audit::verify_chain(&events).is_ok());
    let out = app.audit_verify();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("every chain is intact"), "{stdout}");
}

async fn asked(app: &TestApp, id: &str) -> Vec<String> {
    let v = ok(app
        .get(
            &format!("/api/v1/collaborations/{id}/notifications"),
            &app.token("legal").await,
        )
        .await)
    .await;
    v["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["event"] == "signing_requested")
        .map(|n| n["recipient_name"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn a_named_signer_is_checked_at_its_field_asked_alone_and_signs_that_slot_alone() {
    // Issue 14, "Signers": "a behörig företrädare for the research principal, the company and every
    // CPUA". A slot naming a person (full name and e-mail) is signed only by the member of that
    // organisation with that e-mail (case-insensitive), and only they are asked to sign.
    let app = TestApp::spawn().await;
    let (id, n, _) = drawn(&app).await;
    app.add_account("company2", "company_representative", "Exempel Läkemedel AB")
        .await;
    let principal = app.org("Exempeluniversitetet").await;
    let company = app.org("Exempel Läkemedel AB").await;
    let uppsala = app.org("Region Uppsala").await;
    let path = TestApp::envelope_path(&id, n);
    let legal = app.token("legal").await;
    let with = |named: Value| {
        let mut c = json!({"organisation": company});
        if let (Some(o), Value::Object(m)) = (c.as_object_mut(), named) {
            o.extend(m);
        }
        json!({"send": true, "signers": [{"organisation": principal}, c, {"organisation": uppsala}]})
    };
    for (named, field, rule) in [
        (
            json!({"name": "Test company2", "email": "inte-en-adress"}),
            "signers[1].email",
            "text",
        ),
        (
            json!({"name": "Test company2"}),
            "signers[1].email",
            "signing_signer_email_required",
        ),
        (
            json!({"email": "company2@test.samverkan.invalid"}),
            "signers[1].name",
            "signing_signer_name_required",
        ),
        (
            json!({"name": "Okänd Person", "email": "okand@exempel.se"}),
            "signers[1].email",
            "signing_signer_email_unknown",
        ),
    ] {
        let p = problem(
            app.post(&path, &legal, &with(named.clone())).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(p["field"], field, "{named}: {p}");
        assert_eq!(p["rule"], rule, "{named}: {p}");
    }
    // Nothing was half-written: there is no envelope yet.
    problem(app.get(&path, &legal).await, StatusCode::NOT_FOUND).await;
    let env = ok(app
        .post(
            &path,
            &legal,
            &with(json!({"name": " Test company2 ", "email": "COMPANY2@Test.Samverkan.invalid"})),
        )
        .await)
    .await;
    let slot = signer(&env, "Exempel Läkemedel AB");
    assert_eq!(slot["name"], "Test company2", "{slot}");
    assert_eq!(slot["email"], "company2@test.samverkan.invalid", "{slot}");
    assert!(signer(&env, "Exempeluniversitetet")["email"].is_null());
    // Only the named person of the company is asked.
    let who = asked(&app, &id).await;
    assert!(who.contains(&"Test company2".to_string()), "{who:?}");
    assert!(!who.contains(&"Karin Företagsson".to_string()), "{who:?}");
    // Another company representative may not sign the named slot, in words naming the person.
    let p = problem(
        app.sign_as(&id, n, "Exempel Läkemedel AB").await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(p["rule"], "signing_slot_named", "{p}");
    assert!(
        p["detail"].as_str().unwrap().contains("Test company2"),
        "{p}"
    );
    // The named person signs it.
    let token = app.token("company2").await;
    let shown = ok(app.get(&path, &token).await).await;
    ok(app
        .post(
            &format!("{path}/signatures"),
            &token,
            &json!({"digest": shown["digest"], "consent_text_version": shown["consent"]["version"],
                    "typed_name": "Test company2"}),
        )
        .await)
    .await;
    // Renaming the company's signer after sending voids and resends; the unnamed slot is anyone's.
    let r = app.post(&path, &legal, &with(json!({}))).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let resent: Value = r.json().await.unwrap();
    assert_ne!(resent["id"], env["id"]);
    assert!(signer(&resent, "Exempel Läkemedel AB")["email"].is_null());
    ok(app.sign_as(&id, n, "Exempel Läkemedel AB").await).await;
}
