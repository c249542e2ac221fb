//! Outbound events (issue 16, item 8) against a real receiver: `tests/support/webhooks/receiver.py`
//! verifies each delivery with PyPI's `standardwebhooks` (the venv of `.ci/run`, or `SMTP_TEST_PYTHON`)
//! and writes the verified ones to its folder. Both databases (TEST_DATABASE_URL for PostgreSQL).
use crate::helpers::{approval, ok, problem, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The Python that has `standardwebhooks`: `SMTP_TEST_PYTHON`, else the venv `.ci/run` makes.
fn python() -> PathBuf {
    if let Ok(p) = std::env::var("SMTP_TEST_PYTHON") {
        return p.into();
    }
    let home = std::env::var("HOME").unwrap_or_default();
    let venv = Path::new(&home).join(".cache/samverkan-smtp-venv/bin/python");
    assert!(
        venv.exists(),
        "the webhook tests need standardwebhooks: run .ci/run, or set SMTP_TEST_PYTHON to a Python that has it"
    );
    venv
}

/// A running receiver process writing to its own folder; killed (by its own handle) when dropped.
struct Receiver {
    child: Child,
    dir: tempfile::TempDir,
}

impl Receiver {
    fn start(secret: &str, port: u16) -> Receiver {
        let dir = tempfile::tempdir().expect("temp dir");
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/webhooks/receiver.py");
        let mut child = Command::new(python())
            .arg(script)
            .arg("--secret")
            .arg(secret)
            .arg("--dir")
            .arg(dir.path().join("out"))
            .arg("--port")
            .arg(port.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the webhook receiver starts");
        let first = BufReader::new(child.stdout.take().expect("stdout"))
            .lines()
            .next()
            .expect("a line")
            .expect("readable");
        assert_eq!(
            first.trim(),
            format!("PORT {port}"),
            "the receiver said {first:?}"
        );
        Receiver { child, dir }
    }

    fn files(&self, prefix: &str) -> Vec<Value> {
        let out = self.dir.path().join("out");
        let mut v: Vec<(u64, Value)> = std::fs::read_dir(&out)
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .filter_map(|e| {
                        let name = e.file_name().to_string_lossy().to_string();
                        let n: u64 = name
                            .strip_prefix(prefix)?
                            .strip_suffix(".json")?
                            .parse()
                            .ok()?;
                        let s = std::fs::read_to_string(e.path()).ok()?;
                        Some((n, serde_json::from_str(&s).ok()?))
                    })
                    .collect()
            })
            .unwrap_or_default();
        v.sort_by_key(|(n, _)| *n);
        v.into_iter().map(|(_, m)| m).collect()
    }

    /// The deliveries that verified, in order of arrival.
    fn verified(&self) -> Vec<Value> {
        self.files("")
    }

    /// The deliveries that did not verify.
    fn rejected(&self) -> Vec<Value> {
        self.files("rejected-")
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nobody listens on (taken, then let go).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn wait_for<T>(what: &str, secs: u64, mut f: impl AsyncFnMut() -> Option<T>) -> T {
    let end = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < end, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// An app whose webhook worker polls fast and retries after a second (on the manual clock).
async fn app() -> TestApp {
    TestApp::spawn_with(|s| {
        s.webhooks.poll_interval_ms = 50;
        s.webhooks.retry_base_seconds = 1;
        s.webhooks.timeout_seconds = 5;
    })
    .await
}

fn subscriptions(org: &str) -> String {
    format!("/api/v1/organisations/{org}/webhook-subscriptions")
}

/// Subscribes `org` (as the account `who`) to `types` at `url`; returns (subscription id, secret).
async fn subscribe(
    app: &TestApp,
    who: &str,
    org: &str,
    url: &str,
    types: &[&str],
) -> (String, String) {
    let token = app.token(who).await;
    let r = app
        .post(
            &subscriptions(org),
            &token,
            &json!({"url": url, "event_types": types, "description": "Diariet"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    let secret = v["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{v}");
    (v["id"].as_str().unwrap().to_string(), secret)
}

async fn log(app: &TestApp, who: &str, org: &str, sub: &str) -> Vec<Value> {
    let token = app.token(who).await;
    ok(app
        .get(&format!("{}/{sub}/deliveries", subscriptions(org)), &token)
        .await)
    .await
    .as_array()
    .unwrap()
    .clone()
}

/// A research case on EX-HJARTA (Region Uppsala) with a complete application, then Region
/// Uppsala's approval. Returns the case id.
async fn decided(app: &TestApp) -> String {
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    app.walk_to_application(&id, &["Region Uppsala"]).await;
    let uppsala = app.org("Region Uppsala").await;
    let legal = app.token("legal").await;
    ok(app.transition(&id, &legal, approval(&uppsala)).await).await;
    id
}

#[tokio::test]
async fn a_decision_reaches_the_cpuas_system_signed_and_verified_and_is_logged() {
    let app = app().await;
    let uppsala = app.org("Region Uppsala").await;
    let company = app.org("Exempel Läkemedel AB").await;
    let port = free_port();
    let (sub, secret) = subscribe(
        &app,
        "legal",
        &uppsala,
        &format!("http://127.0.0.1:{port}/samverkan/events"),
        &["application_completed", "decision_taken"],
    )
    .await;
    let receiver = Receiver::start(&secret, port);
    // The company, also on the case, subscribes to decisions (its receiver is down: only its log counts).
    let (company_sub, _) = subscribe(
        &app,
        "company",
        &company,
        // Port 9 (discard): nothing listens there.
        "http://127.0.0.1:9/erp",
        &["decision_taken"],
    )
    .await;
    // The list never shows a secret.
    let legal = app.token("legal").await;
    let listed = ok(app.get(&subscriptions(&uppsala), &legal).await).await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["id"], sub);
    assert!(listed[0].get("secret").is_none(), "{listed}");
    assert!(!listed.to_string().contains(&secret));

    let id = decided(&app).await;
    let got = wait_for("both events at the receiver", 30, async || {
        let v = receiver.verified();
        (v.len() >= 2).then_some(v)
    })
    .await;
    assert!(receiver.rejected().is_empty(), "{:?}", receiver.rejected());
    // One delivery each; the order is not promised (a retry overtakes nothing, but rows written at the
    // same moment go out in any order).
    let mut types: Vec<&str> = got
        .iter()
        .map(|d| d["payload"]["type"].as_str().unwrap())
        .collect();
    types.sort();
    assert_eq!(types, ["application_completed", "decision_taken"]);
    let decision = got
        .iter()
        .find(|d| d["payload"]["type"] == "decision_taken")
        .unwrap();
    assert_eq!(decision["path"], "/samverkan/events");
    assert_eq!(decision["payload"]["data"]["collaboration_id"], id.as_str());
    assert_eq!(decision["payload"]["data"]["cpua_name"], "Region Uppsala");
    assert_eq!(decision["payload"]["data"]["approved"], true);
    assert!(decision["headers"]["webhook-signature"]
        .as_str()
        .unwrap()
        .starts_with("v1,"));
    // The log: delivered once each, with the id the receiver saw.
    let entries = wait_for("the log to show both delivered", 10, async || {
        let l = log(&app, "legal", &uppsala, &sub).await;
        (l.len() == 2 && l.iter().all(|e| e["status"] == "delivered")).then_some(l)
    })
    .await;
    let d = entries
        .iter()
        .find(|e| e["event_type"] == "decision_taken")
        .unwrap();
    assert_eq!(d["id"], decision["headers"]["webhook-id"]);
    assert_eq!(d["event_id"], decision["payload"]["data"]["event_id"]);
    assert_eq!(d["attempts"], 1);
    assert_eq!(d["last_status"], 204);
    assert!(d["delivered_at"].is_string());
    assert_eq!(d["collaboration_id"], id.as_str());
    // The company heard of the same event (one event id), and of nothing it did not ask for.
    let c = log(&app, "company", &company, &company_sub).await;
    assert_eq!(c.len(), 1, "{c:?}");
    assert_eq!(c[0]["event_type"], "decision_taken");
    assert_eq!(c[0]["event_id"], d["event_id"]);
    // Another organisation's subscription does not exist for the caller; nor does the CPUA's for the
    // company. A register holder of the CPUA does not manage its subscriptions.
    let company_token = app.token("company").await;
    let r = app
        .get(
            &format!("{}/{sub}/deliveries", subscriptions(&uppsala)),
            &company_token,
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = app
        .get(
            &format!("{}/{sub}/deliveries", subscriptions(&company)),
            &company_token,
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let holder = app.token("register-holder").await;
    let r = app.get(&subscriptions(&uppsala), &holder).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Deleted: gone from the list, its log with it.
    let r = app
        .send(
            reqwest::Method::DELETE,
            &format!("{}/{company_sub}", subscriptions(&company)),
            &company_token,
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let listed = ok(app.get(&subscriptions(&company), &company_token).await).await;
    assert_eq!(listed, json!([]));
    let r = app
        .get(
            &format!("{}/{company_sub}/deliveries", subscriptions(&company)),
            &company_token,
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_organisation_not_on_the_case_hears_nothing_of_it() {
    let app = app().await;
    let uppsala = app.org("Region Uppsala").await;
    let vgr = app.org("Västra Götalandsregionen").await;
    let (port_vgr, port_uppsala) = (free_port(), free_port());
    let (vgr_sub, vgr_secret) = subscribe(
        &app,
        "legal-vgr",
        &vgr,
        &format!("http://127.0.0.1:{port_vgr}/hook"),
        &[
            "feasibility_requested",
            "application_completed",
            "decision_taken",
            "cost_agreement_recorded",
            "data_released",
            "key_file_deleted",
            "disposal_confirmed",
        ],
    )
    .await;
    let (uppsala_sub, uppsala_secret) = subscribe(
        &app,
        "legal",
        &uppsala,
        &format!("http://127.0.0.1:{port_uppsala}/hook"),
        &["decision_taken"],
    )
    .await;
    let vgr_receiver = Receiver::start(&vgr_secret, port_vgr);
    let uppsala_receiver = Receiver::start(&uppsala_secret, port_uppsala);
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    app.walk_to_application(&id, &["Region Uppsala"]).await;
    // A refused decision (an approval without seed 002's findings) rolls back: no event is written.
    let legal = app.token("legal").await;
    let r = app
        .transition(
            &id,
            &legal,
            json!({"to": "release_decision", "cpua": uppsala, "outcome": "approved"}),
        )
        .await;
    assert!(r.status().is_client_error(), "{}", r.status());
    assert_eq!(
        log(&app, "legal", &uppsala, &uppsala_sub).await,
        Vec::<Value>::new()
    );
    // VGR legal may not decide on Region Uppsala's case either.
    let vgr_legal = app.token("legal-vgr").await;
    let r = app.transition(&id, &vgr_legal, approval(&uppsala)).await;
    assert!(r.status().is_client_error(), "{}", r.status());
    ok(app.transition(&id, &legal, approval(&uppsala)).await).await;
    wait_for("Region Uppsala's decision event", 30, async || {
        (!uppsala_receiver.verified().is_empty()).then_some(())
    })
    .await;
    // The decision's rows were written in its transaction: by now any for VGR would be there.
    assert_eq!(
        log(&app, "legal-vgr", &vgr, &vgr_sub).await,
        Vec::<Value>::new()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(vgr_receiver.verified().is_empty());
    assert!(vgr_receiver.rejected().is_empty());
}

#[tokio::test]
async fn a_receiver_that_is_down_is_retried_and_gets_the_event_once() {
    let app = app().await;
    let uppsala = app.org("Region Uppsala").await;
    let port = free_port();
    let (sub, secret) = subscribe(
        &app,
        "legal",
        &uppsala,
        &format!("http://127.0.0.1:{port}/hook"),
        &["decision_taken"],
    )
    .await;
    decided(&app).await;
    // Nobody listens: the first attempt fails and is logged, with the next attempt ahead.
    let failed = wait_for("the failed attempt", 30, async || {
        let l = log(&app, "legal", &uppsala, &sub).await;
        l.first()
            .filter(|e| e["attempts"] == 1 && e["last_error"].is_string())
            .cloned()
    })
    .await;
    assert_eq!(failed["status"], "pending");
    assert!(failed["last_status"].is_null(), "{failed}");
    assert!(failed["next_attempt_at"].is_string());
    assert!(failed["delivered_at"].is_null());
    // Not before its time: on the manual clock nothing is due yet.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(log(&app, "legal", &uppsala, &sub).await[0]["attempts"], 1);
    // The receiver comes up and the pause passes: delivered, once.
    let receiver = Receiver::start(&secret, port);
    app.clock.advance(chrono::Duration::seconds(5));
    let done = wait_for("the retried delivery", 30, async || {
        let l = log(&app, "legal", &uppsala, &sub).await;
        l.first().filter(|e| e["status"] == "delivered").cloned()
    })
    .await;
    assert_eq!(done["attempts"], 2);
    assert_eq!(done["last_status"], 204);
    assert!(done["last_error"].is_null());
    app.clock.advance(chrono::Duration::minutes(10));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got = receiver.verified();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["headers"]["webhook-id"], done["id"]);
    assert_eq!(got[0]["payload"]["type"], "decision_taken");
}

#[tokio::test]
async fn a_bad_url_or_event_type_is_refused_naming_the_field() {
    let app = app().await;
    let uppsala = app.org("Region Uppsala").await;
    let legal = app.token("legal").await;
    for (body, field) in [
        (
            json!({"url": "ftp://diarium.example.se/in", "event_types": ["decision_taken"]}),
            "url",
        ),
        (
            json!({"url": "file:///etc/passwd", "event_types": ["decision_taken"]}),
            "url",
        ),
        (
            json!({"url": "diarium.example.se", "event_types": ["decision_taken"]}),
            "url",
        ),
        (
            json!({"url": "https://diarium.example.se/in", "event_types": ["decision_made"]}),
            "event_types",
        ),
        (
            json!({"url": "https://diarium.example.se/in", "event_types": []}),
            "event_types",
        ),
    ] {
        let p = problem(
            app.post(&subscriptions(&uppsala), &legal, &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(p["errors"][0]["field"], field, "{body} → {p}");
    }
    // Nothing was stored.
    assert_eq!(
        ok(app.get(&subscriptions(&uppsala), &legal).await).await,
        json!([])
    );
    // Another organisation's subscriptions: 404, whatever the body.
    let vgr = app.org("Västra Götalandsregionen").await;
    let r = app
        .post(
            &subscriptions(&vgr),
            &legal,
            &json!({"url": "https://diarium.example.se/in", "event_types": ["decision_taken"]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

/// Outside local mode a URL resolving to a loopback, private or link-local address is refused; the
/// same rule the application applies (`check_url` with the guard on), asked directly since the test
/// server runs in local mode.
#[test]
fn outside_local_mode_internal_addresses_are_refused() {
    use samverkan::app::webhooks_out::check_url;
    for url in [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "https://192.168.10.2/hook",
        "https://[fe80::1]/hook",
    ] {
        assert!(check_url(url, true).is_err(), "{url}");
        assert!(check_url(url, false).is_ok(), "{url} in local mode");
    }
}
