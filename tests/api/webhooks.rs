//! Signing providers (issue 14, "An external e-signature service"): a Standard Webhooks provider's
//! events drive signing through `POST /api/v1/signing/providers/{name}/events`. The events are signed
//! by PyPI's `standardwebhooks` (an independent implementation) through
//! tests/support/webhooks/sign.py, in the venv `.ci/run` makes (or `WEBHOOKS_TEST_PYTHON`).
use reqwest::StatusCode;
use samverkan::app::clock::Clock;
use samverkan::config::SigningProviderSettings;
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::agreements::full_terms;
use crate::helpers::{approval, ok, problem, TestApp};

const PROVIDER: &str = "bankid-sign";
/// The secret being rotated out, and its successor: both configured.
const OLD_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const NEW_SECRET: &str = "whsec_c2FtdmVya2FuLXJvdGF0ZWQtc2VjcmV0LTIwMjY=";
/// A secret the provider is not configured with.
const FOREIGN_SECRET: &str = "whsec_ZW4gYW5uYW4gbnlja2VsIGFsbHMgaW50ZQ==";

/// The Python that has `standardwebhooks`: `WEBHOOKS_TEST_PYTHON` or `SMTP_TEST_PYTHON`, else the
/// venv `.ci/run` makes.
fn python() -> PathBuf {
    for var in ["WEBHOOKS_TEST_PYTHON", "SMTP_TEST_PYTHON"] {
        if let Ok(p) = std::env::var(var) {
            return p.into();
        }
    }
    let home = std::env::var("HOME").unwrap_or_default();
    let venv = Path::new(&home).join(".cache/samverkan-smtp-venv/bin/python");
    assert!(
        venv.exists(),
        "the webhook tests need standardwebhooks: run .ci/run, or `python3 -m venv ~/.cache/samverkan-smtp-venv && ~/.cache/samverkan-smtp-venv/bin/pip install standardwebhooks==1.1.0`, or set WEBHOOKS_TEST_PYTHON"
    );
    venv
}

/// The three Standard Webhooks headers for `body`, as `standardwebhooks` signs it.
fn signed(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/webhooks/sign.py");
    let mut child = Command::new(python())
        .arg(script)
        .args([secret, id, &timestamp.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python runs");
    child.stdin.take().unwrap().write_all(body).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "sign.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

async fn spawn() -> TestApp {
    TestApp::spawn_with(|s| {
        s.signing.providers = vec![SigningProviderSettings {
            name: PROVIDER.into(),
            secrets: vec![OLD_SECRET.into(), NEW_SECRET.into()],
        }]
    })
    .await
}

fn events_path() -> String {
    format!("/api/v1/signing/providers/{PROVIDER}/events")
}

/// Posts a body as sent, with the given headers.
async fn post_raw(app: &TestApp, path: &str, headers: &Value, body: &[u8]) -> reqwest::Response {
    let mut r = app
        .client
        .post(format!("{}{path}", app.base))
        .header("content-type", "application/json")
        .body(body.to_vec());
    for (k, v) in headers.as_object().unwrap() {
        r = r.header(k.as_str(), v.as_str().unwrap());
    }
    r.send().await.unwrap()
}

/// Delivers an event signed with `secret` at the test clock's time (shifted by `skew` seconds).
async fn deliver_at(
    app: &TestApp,
    secret: &str,
    id: &str,
    skew: i64,
    body: &[u8],
) -> reqwest::Response {
    let t = app.clock.now().timestamp() + skew;
    post_raw(app, &events_path(), &signed(secret, id, t, body), body).await
}

async fn deliver(app: &TestApp, id: &str, body: &[u8]) -> reqwest::Response {
    deliver_at(app, OLD_SECRET, id, 0, body).await
}

/// A research case on one register approved by Region Uppsala, version 1 drawn and its envelope
/// sent. Returns (collaboration id, version, the envelope).
async fn sent(app: &TestApp) -> (String, u64, Value) {
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    app.walk_to_application(&id, &["Region Uppsala"]).await;
    let uppsala = app.org("Region Uppsala").await;
    ok(app
        .transition(&id, &app.token("legal").await, approval(&uppsala))
        .await)
    .await;
    let company = app.token("company").await;
    let (n, _) = app
        .draw_agreement(&id, &company, &json!({"terms": full_terms(app).await}))
        .await;
    let env = app.send_envelope(&id, n).await;
    (id, n, env)
}

async fn envelope(app: &TestApp, id: &str, n: u64) -> Value {
    ok(app
        .get(&TestApp::envelope_path(id, n), &app.token("legal").await)
        .await)
    .await
}

fn signer<'a>(env: &'a Value, org_name: &str) -> &'a Value {
    env["signers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["organisation_name"] == org_name)
        .unwrap_or_else(|| panic!("{org_name} in {env}"))
}

/// A provider's event for the signer of `org_name` in `env`, as bytes.
fn event(kind: &str, id: &str, env: &Value, org_name: &str, digest: &str) -> Vec<u8> {
    let s = signer(env, org_name);
    serde_json::to_vec(&json!({
        "type": kind,
        "collaboration_id": id,
        "agreement_version": env["version"],
        "signer": {
            "organisation_id": s["organisation"],
            "name": format!("Signatory of {org_name}"),
            "email": "signer@example.se",
            "capacity": s["capacity"],
        },
        "digest": digest,
        "level": "AES",
        "signed_at": "2026-09-01T08:58:00Z",
        "provider_reference": format!("tx-{org_name}"),
    }))
    .unwrap()
}

fn completed(id: &str, env: &Value, org_name: &str) -> Vec<u8> {
    event(
        "signature.completed",
        id,
        env,
        org_name,
        env["digest"].as_str().unwrap(),
    )
}

#[tokio::test]
async fn provider_events_sign_in_turn_record_evidence_and_the_last_completes_the_envelope() {
    let app = spawn().await;
    let (id, n, env) = sent(&app).await;
    // The authority signs last: its event before the others' is refused, naming the rule.
    let p = problem(
        deliver(&app, "evt-early", &completed(&id, &env, "Region Uppsala")).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(p["rule"], "signing_not_your_turn", "{p}");
    let mut last = Value::Null;
    for (i, org) in [
        "Exempel Läkemedel AB",
        "Exempeluniversitetet",
        "Region Uppsala",
    ]
    .iter()
    .enumerate()
    {
        let r = ok(deliver(&app, &format!("evt-{i}"), &completed(&id, &env, org)).await).await;
        assert_eq!(r["duplicate"], false, "{r}");
        assert_eq!(r["event_id"], format!("evt-{i}"));
        last = r;
    }
    assert_eq!(last["envelope_status"], "completed", "{last}");
    let after = envelope(&app, &id, n).await;
    assert_eq!(after["status"], "completed", "{after}");
    let e = &signer(&after, "Exempel Läkemedel AB")["evidence"];
    assert_eq!(e["method"], PROVIDER, "{e}");
    assert_eq!(e["level"], "AES");
    assert_eq!(e["provider"], PROVIDER);
    assert_eq!(e["subject"], "tx-Exempel Läkemedel AB");
    assert_eq!(e["name"], "Signatory of Exempel Läkemedel AB");
    assert_eq!(e["digest"], env["digest"]);
    // The agreement step takes the provider-signed version like one signed on the page.
    ok(app
        .transition(
            &id,
            &app.token("legal").await,
            json!({"to": "agreement", "version": n, "digest": env["digest"], "signed_on": "2026-09-01"}),
        )
        .await)
    .await;
}

#[tokio::test]
async fn a_bad_mac_or_an_altered_body_is_401_and_writes_nothing() {
    let app = spawn().await;
    let (id, n, env) = sent(&app).await;
    let before = envelope(&app, &id, n).await;
    let body = completed(&id, &env, "Exempel Läkemedel AB");
    // Signed with a secret the provider does not have.
    let p = problem(
        deliver_at(&app, FOREIGN_SECRET, "evt-1", 0, &body).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert!(
        p["detail"].as_str().unwrap().contains("webhook-signature"),
        "{p}"
    );
    // Signed right, then altered on the way: another organisation's signer.
    let t = app.clock.now().timestamp();
    let headers = signed(OLD_SECRET, "evt-1", t, &body);
    let altered = completed(&id, &env, "Exempeluniversitetet");
    problem(
        post_raw(&app, &events_path(), &headers, &altered).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    // A signature header without a v1 entry, and no headers at all.
    let mut no_v1 = headers.clone();
    no_v1["webhook-signature"] = json!("v2,AAAA");
    problem(
        post_raw(&app, &events_path(), &no_v1, &body).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    problem(
        post_raw(&app, &events_path(), &json!({}), &body).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(envelope(&app, &id, n).await, before, "nothing written");
    // Nothing was stored under the id either: the genuine delivery is acted on, not a replay.
    let r = ok(post_raw(&app, &events_path(), &headers, &body).await).await;
    assert_eq!(r["duplicate"], false, "{r}");
}

#[tokio::test]
async fn a_timestamp_more_than_five_minutes_off_is_refused() {
    let app = spawn().await;
    let (id, n, env) = sent(&app).await;
    let before = envelope(&app, &id, n).await;
    let body = completed(&id, &env, "Exempel Läkemedel AB");
    for skew in [-301, 301, -86_400] {
        let p = problem(
            deliver_at(&app, OLD_SECRET, "evt-stale", skew, &body).await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
        assert!(
            p["detail"].as_str().unwrap().contains("webhook-timestamp"),
            "{p}"
        );
    }
    assert_eq!(envelope(&app, &id, n).await, before);
    // Within the tolerance it is fine.
    ok(deliver_at(&app, OLD_SECRET, "evt-stale", -290, &body).await).await;
}

#[tokio::test]
async fn a_replay_answers_200_and_changes_nothing() {
    let app = spawn().await;
    let (id, n, env) = sent(&app).await;
    let body = completed(&id, &env, "Exempel Läkemedel AB");
    let first = ok(deliver(&app, "evt-once", &body).await).await;
    assert_eq!(first["duplicate"], false);
    let after_first = envelope(&app, &id, n).await;
    let audit = ok(app
        .get(
            &format!("/api/v1/collaborations/{id}/audit"),
            &app.token("legal").await,
        )
        .await)
    .await;
    // The same delivery again, later (re-signed with a fresh timestamp, as a provider retries).
    app.clock.advance(chrono::Duration::minutes(2));
    let again = ok(deliver(&app, "evt-once", &body).await).await;
    assert_eq!(again["duplicate"], true, "{again}");
    assert_eq!(again["envelope_id"], first["envelope_id"]);
    assert_eq!(again["envelope_status"], "sent");
    assert_eq!(envelope(&app, &id, n).await, after_first, "nothing changed");
    let audit_again = ok(app
        .get(
            &format!("/api/v1/collaborations/{id}/audit"),
            &app.token("legal").await,
        )
        .await)
    .await;
    assert_eq!(audit, audit_again, "no audit event for a replay");
}

#[tokio::test]
async fn an_event_signed_with_the_rotated_in_secret_is_accepted() {
    let app = spawn().await;
    let (id, n, env) = sent(&app).await;
    let body = completed(&id, &env, "Exempeluniversitetet");
    let r = ok(deliver_at(&app, NEW_SECRET, "evt-new", 0, &body).await).await;
    assert_eq!(r["duplicate"], false);
    let after = envelope(&app, &id, n).await;
    assert_eq!(signer(&after, "Exempeluniversitetet")["status"], "signed");
}

#[tokio::test]
async fn an_event_for_another_versions_digest_is_refused_naming_the_rule() {
    let app = spawn().await;
    let (id, n, env) = sent(&app).await;
    let company = app.token("company").await;
    let (n2, _) = app.draw_agreement(&id, &company, &json!({})).await;
    assert_eq!(n2, n + 1);
    let env2 = app.send_envelope(&id, n2).await;
    // Version 2's envelope, version 1's digest.
    let body = event(
        "signature.completed",
        &id,
        &env2,
        "Exempel Läkemedel AB",
        env["digest"].as_str().unwrap(),
    );
    let p = problem(deliver(&app, "evt-v1", &body).await, StatusCode::CONFLICT).await;
    assert_eq!(p["rule"], "signing_digest_mismatch", "{p}");
    // Version 1 itself is superseded.
    let p = problem(
        deliver(
            &app,
            "evt-old",
            &completed(&id, &env, "Exempel Läkemedel AB"),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(p["rule"], "signing_superseded", "{p}");
    let after = envelope(&app, &id, n2).await;
    assert_eq!(signer(&after, "Exempel Läkemedel AB")["status"], "pending");
}

#[tokio::test]
async fn a_declined_event_declines_the_envelope() {
    let app = spawn().await;
    let (id, n, env) = sent(&app).await;
    let body = event(
        "signature.declined",
        &id,
        &env,
        "Exempel Läkemedel AB",
        env["digest"].as_str().unwrap(),
    );
    let r = ok(deliver(&app, "evt-no", &body).await).await;
    assert_eq!(r["envelope_status"], "declined", "{r}");
    let after = envelope(&app, &id, n).await;
    assert_eq!(after["status"], "declined");
    assert_eq!(signer(&after, "Exempel Läkemedel AB")["status"], "declined");
    // Nothing more can be signed in it.
    let p = problem(
        deliver(
            &app,
            "evt-late",
            &completed(&id, &env, "Exempeluniversitetet"),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(p["rule"], "signing_not_open", "{p}");
}

#[tokio::test]
async fn bad_input_is_4xx_never_500() {
    let app = spawn().await;
    let (id, _, env) = sent(&app).await;
    let t = app.clock.now().timestamp();
    // An unknown provider.
    let body = completed(&id, &env, "Exempel Läkemedel AB");
    let r = post_raw(
        &app,
        "/api/v1/signing/providers/nobody/events",
        &signed(OLD_SECRET, "evt-x", t, &body),
        &body,
    )
    .await;
    problem(r, StatusCode::NOT_FOUND).await;
    // Signed, but not JSON; and JSON missing fields or with wrong ones.
    for (bad, status) in [
        (b"not json".to_vec(), StatusCode::BAD_REQUEST),
        (b"{}".to_vec(), StatusCode::UNPROCESSABLE_ENTITY),
        (
            serde_json::to_vec(&json!({"type": "signature.completed"})).unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        problem(deliver(&app, "evt-bad", &bad).await, status).await;
    }
    let mut v: Value = serde_json::from_slice(&body).unwrap();
    v["digest"] = json!("abc");
    let p = problem(
        deliver(&app, "evt-bad", &serde_json::to_vec(&v).unwrap()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "digest", "{p}");
    v["digest"] = env["digest"].clone();
    v["collaboration_id"] = json!("00000000-0000-0000-0000-000000000000");
    problem(
        deliver(&app, "evt-bad", &serde_json::to_vec(&v).unwrap()).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    // Not sent as JSON.
    let r = app
        .client
        .post(format!("{}{}", app.base, events_path()))
        .header("content-type", "text/plain")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    // A body over the cap.
    let big = vec![b' '; 70 * 1024];
    problem(
        deliver(&app, "evt-big", &big).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
}

#[tokio::test]
async fn a_provider_event_fills_a_named_slot_only_for_the_named_person() {
    // Issue 14, "Signers from the version's parties": a slot naming a behörig företrädare is
    // theirs alone, whichever method they sign by. A provider's result for another person of the
    // party is refused naming the signer; the named person's (e-mail compared case-insensitively)
    // signs it.
    let app = spawn().await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    app.walk_to_application(&id, &["Region Uppsala"]).await;
    let uppsala = app.org("Region Uppsala").await;
    let legal = app.token("legal").await;
    ok(app.transition(&id, &legal, approval(&uppsala)).await).await;
    let (n, _) = app
        .draw_agreement(
            &id,
            &app.token("company").await,
            &json!({"terms": full_terms(&app).await}),
        )
        .await;
    app.add_account("company2", "company_representative", "Exempel Läkemedel AB")
        .await;
    let principal = app.org("Exempeluniversitetet").await;
    let company = app.org("Exempel Läkemedel AB").await;
    let env = ok(app
        .post(
            &TestApp::envelope_path(&id, n),
            &legal,
            &json!({"send": true, "signers": [
                {"organisation": principal},
                {"organisation": company, "name": "Test company2", "email": "company2@test.samverkan.invalid"},
                {"organisation": uppsala},
            ]}),
        )
        .await)
    .await;
    let as_person = |kind: &str, email: &str| {
        let mut v: Value = serde_json::from_slice(&event(
            kind,
            &id,
            &env,
            "Exempel Läkemedel AB",
            env["digest"].as_str().unwrap(),
        ))
        .unwrap();
        v["signer"]["email"] = json!(email);
        serde_json::to_vec(&v).unwrap()
    };
    for kind in ["signature.completed", "signature.declined"] {
        let p = problem(
            deliver(
                &app,
                &format!("evt-other-{kind}"),
                &as_person(kind, "karin@exempel.se"),
            )
            .await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(p["rule"], "signing_slot_named", "{kind}: {p}");
        assert!(
            p["detail"].as_str().unwrap().contains("Test company2"),
            "{p}"
        );
    }
    let after = envelope(&app, &id, n).await;
    assert_eq!(after["status"], "sent", "{after}");
    assert_eq!(signer(&after, "Exempel Läkemedel AB")["status"], "pending");
    ok(deliver(
        &app,
        "evt-named",
        &as_person("signature.completed", "Company2@TEST.samverkan.invalid"),
    )
    .await)
    .await;
    let after = envelope(&app, &id, n).await;
    let slot = signer(&after, "Exempel Läkemedel AB");
    assert_eq!(slot["status"], "signed", "{slot}");
    assert_eq!(slot["evidence"]["method"], PROVIDER, "{slot}");
}
