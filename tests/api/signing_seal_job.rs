//! The seal job (issue 14, "Executed agreement": "when the last signer signs, a job appends a
//! certificate of completion … and seals it"; "Bad input": "an executed PDF is never served before its
//! seal is written"; "The release guard": "the seal verifying", with the organisation's key).
use reqwest::StatusCode;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::helpers::{ok, problem, TestApp};
use crate::signing::{drawn, record};
use samverkan::app::signing_seal::{self, SealConfig};
use samverkan::app::Services;
use samverkan::render::seal::SealKey;

/// An application that never seals by itself (no sealing after the commit, no worker), with its
/// seal key in `dir`.
async fn without_sealing(dir: &Path) -> TestApp {
    let key = dir.join("seal-key.pem");
    TestApp::spawn_with(move |s| {
        s.signing.seal_after_commit = false;
        s.signing.seal_worker = false;
        s.signing.seal_key_file = key.display().to_string();
    })
    .await
}

/// The services of the test's database on the test's clock, and the seal job's settings with the
/// application's key (read from its file).
fn job(app: &TestApp, dir: &Path) -> (Services, SealConfig) {
    let settings = crate::helpers::test_settings(&app.database_url);
    let svc = Services {
        db: samverkan::db::Db::connect(&app.database_url, 2).expect("database"),
        clock: app.clock.clone(),
        rulebooks: Arc::new(samverkan::startup::load_rulebooks(&settings).expect("rulebooks")),
        templates: Arc::new(samverkan::templates::TemplateSet::builtin().expect("templates")),
        audit_key: None,
        views: Default::default(),
    };
    let key = SealKey::load_or_generate(&dir.join("seal-key.pem"), "Samverkan").expect("seal key");
    let cfg = SealConfig::from_settings(&settings.signing, Arc::new(key)).expect("seal config");
    (svc, cfg)
}

/// Every party signs version `n`; returns the envelope the last signature answered with.
async fn complete(app: &TestApp, id: &str, n: u64) -> Value {
    app.send_envelope(id, n).await;
    ok(app.sign_as(id, n, "Exempel Läkemedel AB").await).await;
    ok(app.sign_as(id, n, "Exempeluniversitetet").await).await;
    ok(app.sign_as(id, n, "Region Uppsala").await).await
}

async fn executed(app: &TestApp, id: &str, n: u64) -> reqwest::Response {
    app.get(
        &format!("/api/v1/collaborations/{id}/agreements/{n}/executed.pdf"),
        &app.token("company").await,
    )
    .await
}

fn pdfsig_valid(pdf: &[u8]) {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), pdf).unwrap();
    let out = std::process::Command::new("pdfsig")
        .arg(file.path())
        .output()
        .expect("pdfsig (poppler-utils) runs");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(report.contains("Signature is Valid."), "{report}");
    assert!(report.contains("Total document signed"), "{report}");
}

fn seal_job(svc: &Services, envelope: &str) -> samverkan::db::signing::SealJobRow {
    svc.read(|c| Ok(samverkan::db::signing::seal_job(c, envelope)?))
        .unwrap()
        .expect("the completion wrote its seal job")
}

#[tokio::test]
async fn the_completion_answers_before_the_seal_and_the_job_seals_it_afterwards() {
    let dir = tempfile::tempdir().unwrap();
    let app = without_sealing(dir.path()).await;
    let (id, n, digest) = drawn(&app).await;
    let env = complete(&app, &id, n).await;
    // The last signature is answered at once: completed, with no executed PDF yet.
    assert_eq!(env["status"], "completed", "{env}");
    assert!(env["executed_pdf_sha256"].is_null(), "{env}");
    // Never served before its seal is written, and the release guard is not met meanwhile.
    let p = problem(executed(&app, &id, n).await, StatusCode::CONFLICT).await;
    assert_eq!(p["rule"], "executed_pdf_sealing", "{p}");
    let p = problem(record(&app, &id, n, &digest).await, StatusCode::CONFLICT).await;
    assert_eq!(p["rule"], "agreement_not_executed", "{p}");
    assert_eq!(p["missing"][0], "envelope.executed_pdf", "{p}");
    let envelope = env["id"].as_str().unwrap().to_string();
    let (svc, cfg) = job(&app, dir.path());
    let (svc, cfg, round) = tokio::task::spawn_blocking(move || {
        assert_eq!(seal_job(&svc, &envelope).status, "pending");
        let round = signing_seal::run_once(&svc, &cfg, "test-worker").unwrap();
        assert_eq!(seal_job(&svc, &envelope).status, "done");
        (svc, cfg, round)
    })
    .await
    .unwrap();
    assert_eq!(round.sealed, 1);
    // Now served, valid for pdfsig, and the audit trail says which certificate sealed it.
    let r = executed(&app, &id, n).await;
    assert_eq!(r.status(), StatusCode::OK);
    let pdf = r.bytes().await.unwrap();
    pdfsig_valid(&pdf);
    let audit = ok(app
        .get(
            &format!("/api/v1/collaborations/{id}/audit"),
            &app.token("legal").await,
        )
        .await)
    .await;
    let text = audit.to_string();
    assert!(text.contains("executed_agreement_sealed"), "{text}");
    assert!(text.contains(&cfg.key.certificate_sha256()), "{text}");
    let env = ok(app
        .get(&TestApp::envelope_path(&id, n), &app.token("company").await)
        .await)
    .await;
    assert_eq!(
        env["executed_pdf_sha256"].as_str(),
        Some(samverkan::domain::audit::sha256_hex(&pdf).as_str())
    );
    ok(record(&app, &id, n, &digest).await).await;
    // A second round finds nothing to do.
    let again = tokio::task::spawn_blocking(move || signing_seal::run_once(&svc, &cfg, "other"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.sealed, 0);
}

#[tokio::test]
async fn a_seal_job_left_by_a_crash_is_taken_up_after_its_lease_and_by_a_restarted_instance() {
    let dir = tempfile::tempdir().unwrap();
    let app = without_sealing(dir.path()).await;
    let (id, n, _) = drawn(&app).await;
    let env = complete(&app, &id, n).await;
    let envelope = env["id"].as_str().unwrap().to_string();
    let (svc, cfg) = job(&app, dir.path());
    let lease = cfg.lease;
    // A worker claims the job and dies before it stores anything: the marker stays, no PDF.
    let (svc, cfg) = tokio::task::spawn_blocking(move || {
        let now = svc.clock.now();
        let until = now + chrono::Duration::from_std(lease).unwrap();
        let claimed = svc
            .write(|c| {
                Ok(samverkan::db::signing::claim_seal_jobs(
                    c, "crashed", now, until, 10,
                )?)
            })
            .unwrap();
        assert_eq!(claimed.len(), 1);
        // While its lease runs, no other worker takes it.
        let round = signing_seal::run_once(&svc, &cfg, "second").unwrap();
        assert_eq!(round.sealed, 0);
        (svc, cfg)
    })
    .await
    .unwrap();
    let p = problem(executed(&app, &id, n).await, StatusCode::CONFLICT).await;
    assert_eq!(p["rule"], "executed_pdf_sealing");
    // After the lease a restarted instance (another application on the same database, with its
    // worker) takes it up and seals it.
    app.clock
        .advance(chrono::Duration::from_std(lease).unwrap() + chrono::Duration::seconds(1));
    let key = dir.path().join("seal-key.pem");
    let mut settings = crate::helpers::test_settings(&app.database_url);
    settings.signing.seal_key_file = key.display().to_string();
    settings.signing.seal_after_commit = false;
    settings.signing.seal_worker = true;
    settings.signing.seal_poll_interval_ms = 50;
    let restarted = TestApp::serve(
        samverkan::startup::Application::build(settings, app.clock.clone()).expect("builds"),
        app.clock.clone(),
        &app.database_url,
    );
    let mut served = None;
    for _ in 0..200 {
        let r = executed(&restarted, &id, n).await;
        if r.status() == StatusCode::OK {
            served = Some(r.bytes().await.unwrap());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let pdf = served.expect("the restarted instance's worker sealed the executed agreement");
    pdfsig_valid(&pdf);
    // The crashed worker's lease is gone: it can no longer record the job done.
    let done = tokio::task::spawn_blocking(move || {
        let job = seal_job(&svc, &envelope);
        let late = svc.write(|c| {
            Ok(samverkan::db::signing::seal_job_done(
                c,
                &envelope,
                "crashed",
                svc.clock.now(),
            )?)
        });
        drop(cfg);
        (job, late.unwrap())
    })
    .await
    .unwrap();
    assert_eq!(done.0.status, "done");
    assert!(!done.1);
}

/// Replaces an envelope's stored executed PDF (what a tampered database or a foreign seal looks
/// like to the release guard), keeping its hash consistent.
fn replace_executed(url: &str, envelope: &str, pdf: &[u8], certificate: Option<&str>) {
    use diesel::prelude::*;
    use samverkan::db::schema::signing_envelopes as env;
    let db = samverkan::db::Db::connect(url, 1).unwrap();
    let mut conn = db.pool.get().unwrap();
    let conn: &mut samverkan::db::DbConn = &mut conn;
    let sha = samverkan::domain::audit::sha256_hex(pdf);
    let target = diesel::update(env::table.find(envelope));
    match certificate {
        Some(c) => target
            .set((
                env::executed_pdf.eq(Some(pdf)),
                env::executed_pdf_sha256.eq(Some(sha)),
                env::executed_seal_certificate.eq(Some(c)),
            ))
            .execute(conn)
            .unwrap(),
        None => target
            .set((
                env::executed_pdf.eq(Some(pdf)),
                env::executed_pdf_sha256.eq(Some(sha)),
            ))
            .execute(conn)
            .unwrap(),
    };
}

/// The executed PDF sealed again, from the version's PDF, with `key` (a valid seal, another key).
fn sealed_with(version_pdf: &[u8], key: &SealKey) -> Vec<u8> {
    use samverkan::render::seal::{seal, CompletionCertificate};
    let cert = CompletionCertificate {
        lang: samverkan::domain::lang::Lang::Sv,
        title: "Forged".into(),
        reference: "X".into(),
        version: 1,
        digest: "0".repeat(64),
        file_hashes: vec![],
        signers: vec![],
    };
    seal(version_pdf, &cert, key, chrono::Utc::now()).unwrap()
}

#[tokio::test]
async fn the_release_guard_refuses_a_seal_made_with_another_key_and_accepts_a_rotated_one() {
    let dir = tempfile::tempdir().unwrap();
    let key_file: PathBuf = dir.path().join("seal-key.pem");
    let kf = key_file.clone();
    let app =
        TestApp::spawn_with(move |s| s.signing.seal_key_file = kf.display().to_string()).await;
    let (id, n, digest) = drawn(&app).await;
    // The default: sealed right after the completion's commit, so it answers with the hash.
    let env = complete(&app, &id, n).await;
    assert!(env["executed_pdf_sha256"].is_string(), "{env}");
    let envelope = env["id"].as_str().unwrap().to_string();
    let company = app.token("company").await;
    let version_pdf = app
        .get(
            &format!("/api/v1/collaborations/{id}/agreements/{n}.pdf"),
            &company,
        )
        .await
        .bytes()
        .await
        .unwrap();
    let good = executed(&app, &id, n).await.bytes().await.unwrap().to_vec();
    // A seal that verifies by itself (pdfsig calls it valid) but with a key that is not the
    // organisation's: refused by the guard, whether the fingerprint stored with it is left alone or
    // changed to the foreign certificate's.
    let other = SealKey::generate("Someone else", chrono::Utc::now()).unwrap();
    let forged = sealed_with(&version_pdf, &other);
    pdfsig_valid(&forged);
    assert!(samverkan::render::seal::verify(&forged, None));
    let url = app.database_url.clone();
    let (u, e, f) = (url.clone(), envelope.clone(), forged.clone());
    tokio::task::spawn_blocking(move || replace_executed(&u, &e, &f, None))
        .await
        .unwrap();
    let p = problem(record(&app, &id, n, &digest).await, StatusCode::CONFLICT).await;
    assert_eq!(p["rule"], "agreement_not_executed", "{p}");
    assert_eq!(p["missing"][0], "envelope.executed_pdf", "{p}");
    let (u, e, f, c) = (
        url.clone(),
        envelope.clone(),
        forged.clone(),
        other.certificate_sha256(),
    );
    tokio::task::spawn_blocking(move || replace_executed(&u, &e, &f, Some(&c)))
        .await
        .unwrap();
    problem(record(&app, &id, n, &digest).await, StatusCode::CONFLICT).await;
    // The organisation's own seal back, with its certificate's fingerprint: met again.
    let own = SealKey::load_or_generate(&key_file, "Samverkan")
        .unwrap()
        .certificate_sha256();
    let (u, e, g) = (url.clone(), envelope.clone(), good.clone());
    tokio::task::spawn_blocking(move || replace_executed(&u, &e, &g, Some(&own)))
        .await
        .unwrap();
    // Rotation: the next start seals with a new key; a PDF sealed with the key used before is
    // still the organisation's (its certificate is among the known seal certificates).
    std::fs::remove_file(&key_file).unwrap();
    let mut settings = crate::helpers::test_settings(&app.database_url);
    settings.signing.seal_key_file = key_file.display().to_string();
    let rotated = TestApp::serve(
        samverkan::startup::Application::build(settings, app.clock.clone()).expect("builds"),
        app.clock.clone(),
        &app.database_url,
    );
    let new_key = SealKey::load_or_generate(&key_file, "Samverkan").unwrap();
    let old_cert = {
        let db = samverkan::db::Db::connect(&url, 1).unwrap();
        let mut conn = db.pool.get().unwrap();
        samverkan::db::signing::seal_certificates(&mut conn).unwrap()
    };
    assert_eq!(old_cert.len(), 2, "the key used before and the new one");
    assert!(old_cert
        .iter()
        .any(|(sha, _)| *sha == new_key.certificate_sha256()));
    let v = ok(record(&rotated, &id, n, &digest).await).await;
    assert_eq!(v["collaboration"]["step"], "data_release");
}
