//! Mail and deadlines against a real SMTP server: `tests/support/smtp/server.py` (aiosmtpd, installed by
//! `.ci/run` in a venv), once with STARTTLS and authentication on a certificate made at test start with
//! the `openssl` command. Each test has its own database (SQLite, or PostgreSQL with TEST_DATABASE_URL).
#[path = "api/helpers.rs"]
#[allow(dead_code)]
mod helpers;
#[path = "support/test_db.rs"]
mod test_db;

/// The agreement terms `helpers.rs` signs with, from the API tests.
#[path = "api/terms.rs"]
mod terms;
mod agreements {
    pub use crate::terms::full_terms;
}

use helpers::{ok, TestApp};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The Python that has aiosmtpd: `SMTP_TEST_PYTHON`, else the venv `.ci/run` makes.
fn python() -> PathBuf {
    if let Ok(p) = std::env::var("SMTP_TEST_PYTHON") {
        return p.into();
    }
    let home = std::env::var("HOME").unwrap_or_default();
    let venv = Path::new(&home).join(".cache/samverkan-smtp-venv/bin/python");
    assert!(
        venv.exists(),
        "the mail tests need aiosmtpd: run .ci/run, or `python3 -m venv ~/.cache/samverkan-smtp-venv && ~/.cache/samverkan-smtp-venv/bin/pip install aiosmtpd`, or set SMTP_TEST_PYTHON"
    );
    venv
}

/// A running SMTP server process writing to its own folder; killed when dropped.
struct Smtp {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
    stalls: std::sync::mpsc::Receiver<()>,
}

#[derive(Default)]
struct SmtpOptions {
    port: Option<u16>,
    tls: Option<(PathBuf, PathBuf)>,
    auth: Option<String>,
    stall_first: u32,
}

impl Smtp {
    fn start(o: SmtpOptions) -> Smtp {
        let dir = tempfile::tempdir().expect("temp dir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp/server.py");
        let mut cmd = Command::new(python());
        cmd.arg(script).arg("--dir").arg(dir.path().join("out"));
        if let Some(p) = o.port {
            cmd.arg("--port").arg(p.to_string());
        }
        if let Some((c, k)) = &o.tls {
            cmd.arg("--tls").arg(c).arg(k);
        }
        if let Some(a) = &o.auth {
            cmd.arg("--auth").arg(a);
        }
        cmd.arg("--stall-first").arg(o.stall_first.to_string());
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the SMTP test server starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().expect("a line").expect("readable");
        let port: u16 = first
            .strip_prefix("PORT ")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("the SMTP server said {first:?}"));
        let (tx, stalls) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for l in lines.map_while(Result::ok) {
                if l.trim() == "STALL" {
                    let _ = tx.send(());
                }
            }
        });
        Smtp {
            child,
            port,
            dir,
            stalls,
        }
    }

    /// The messages accepted so far, in order.
    fn messages(&self) -> Vec<Value> {
        let out = self.dir.path().join("out");
        let mut v: Vec<(u64, Value)> = std::fs::read_dir(&out)
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .filter_map(|e| {
                        let name = e.file_name().to_string_lossy().to_string();
                        let n: u64 = name.strip_suffix(".json")?.parse().ok()?;
                        let s = std::fs::read_to_string(e.path()).ok()?;
                        Some((n, serde_json::from_str(&s).ok()?))
                    })
                    .collect()
            })
            .unwrap_or_default();
        v.sort_by_key(|(n, _)| *n);
        v.into_iter().map(|(_, m)| m).collect()
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A self-signed certificate for localhost made now with the `openssl` command: (dir, cert, key).
fn certificate() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let st = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("the openssl command is installed");
    assert!(st.success(), "openssl made a certificate");
    (dir, cert, key)
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

/// An app sending through the given SMTP URL, polling fast, with short retries.
async fn app_with_mail(smtp_url: &str, ca: Option<&Path>) -> TestApp {
    let url = smtp_url.to_string();
    let ca = ca.map(|p| p.display().to_string()).unwrap_or_default();
    TestApp::spawn_with(move |s| {
        s.mail.smtp_url = url;
        s.mail.ca_file = ca;
        s.mail.poll_interval_ms = 50;
        s.mail.retry_base_seconds = 60;
        s.mail.deadline_interval_seconds = 1;
        s.server.public_url = "https://samverkan.region.example".into();
    })
    .await
}

/// The notification log of a case as an administrator sees it.
async fn log(app: &TestApp, id: &str) -> Value {
    let admin = app.token("admin").await;
    ok(app
        .get(
            &format!("/api/v1/collaborations/{id}/notifications"),
            &admin,
        )
        .await)
    .await
}

fn entries<'a>(log: &'a Value, event: &str) -> Vec<&'a Value> {
    log["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["event"] == event)
        .collect()
}

/// A research case on EX-HJARTA (Region Uppsala) with a complete application to its CPUA.
async fn applied(app: &TestApp) -> String {
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    app.walk_to_application(&id, &["Region Uppsala"]).await;
    id
}

#[tokio::test]
async fn an_application_mails_the_cpua_legal_team_in_swedish_over_starttls_with_auth() {
    let (_certs, cert, key) = certificate();
    let smtp = Smtp::start(SmtpOptions {
        tls: Some((cert.clone(), key)),
        auth: Some("samverkan:hemligt-losen".into()),
        ..Default::default()
    });
    let url = format!(
        "smtp://samverkan:hemligt-losen@localhost:{}?tls=required",
        smtp.port
    );
    let app = app_with_mail(&url, Some(&cert)).await;
    let id = applied(&app).await;
    // The register holder heard of the register contact (step 2) too; the two mails may arrive in
    // either order, so wait for both.
    let msgs = wait_for(
        "the legal team's and the register holder's mail",
        30,
        async || {
            let m = smtp.messages();
            let to = |a: &str| m.iter().any(|m| m["to"][0] == a);
            (to("legal@demo.samverkan.invalid") && to("register-holder@demo.samverkan.invalid"))
                .then_some(m)
        },
    )
    .await;
    let m = msgs
        .iter()
        .find(|m| m["to"][0] == "legal@demo.samverkan.invalid")
        .unwrap();
    assert_eq!(m["tls"], true, "STARTTLS was used");
    assert_eq!(m["authenticated"], true, "the sender authenticated");
    assert_eq!(m["language"], "sv");
    let subject = m["subject"].as_str().unwrap();
    assert!(
        subject.contains("ny ansökan om utlämnande till Region Uppsala"),
        "{subject}"
    );
    let text = m["text"].as_str().unwrap();
    let link = format!("https://samverkan.region.example/collaborations/{id}");
    assert!(text.contains(&link), "{text}");
    assert!(text.contains("30 dagar"), "{text}");
    assert!(m["html"]
        .as_str()
        .unwrap()
        .contains(&format!("href=\"{link}\"")));
    // Never a token or secret in a mail.
    for part in ["text", "html"] {
        let body = m[part].as_str().unwrap();
        assert!(!body.contains("sv_") && !body.contains("hemligt"), "{body}");
    }
    // The log says what was sent.
    let l = wait_for("the log to show it sent", 10, async || {
        let l = log(&app, &id).await;
        entries(&l, "application_completed")
            .iter()
            .all(|e| e["status"] == "sent")
            .then_some(l)
    })
    .await;
    let sent = entries(&l, "application_completed");
    assert_eq!(sent.len(), 1, "{l}");
    assert_eq!(sent[0]["recipient_role"], "cpua_legal");
    assert!(sent[0]["sent_at"].is_string());
    // The Message-ID comes from the outbox row.
    assert_eq!(
        m["message_id"],
        format!("<{}@region.example>", sent[0]["id"].as_str().unwrap())
    );
    // The pending deadline: the decision due 30 days after the complete application.
    let d = &l["deadlines"][0];
    assert_eq!(d["code"], "release_decision");
    assert_eq!(d["counts_from"], "application_completed");
    assert_eq!(d["due_on"], "2026-10-01");
}

#[tokio::test]
async fn an_english_speaking_recipient_gets_english_and_one_who_turned_notices_off_gets_none() {
    let smtp = Smtp::start(SmtpOptions::default());
    let app = app_with_mail(&format!("smtp://127.0.0.1:{}", smtp.port), None).await;
    let legal = app.token("legal").await;
    let r = ok(app
        .put(
            "/api/v1/me/notifications",
            &legal,
            &json!({"language": "en"}),
        )
        .await)
    .await;
    assert_eq!(r, json!({"notices": true, "language": "en"}));
    let holder = app.token("register-holder").await;
    ok(app
        .put(
            "/api/v1/me/notifications",
            &holder,
            &json!({"notices": false}),
        )
        .await)
    .await;
    // Bad input names the field.
    let p = helpers::problem(
        app.put(
            "/api/v1/me/notifications",
            &legal,
            &json!({"language": "de"}),
        )
        .await,
        reqwest::StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(p.to_string().contains("language"), "{p}");
    let id = applied(&app).await;
    let m = wait_for("the English mail", 30, async || {
        smtp.messages()
            .into_iter()
            .find(|m| m["to"][0] == "legal@demo.samverkan.invalid")
    })
    .await;
    assert_eq!(m["language"], "en");
    assert!(
        m["subject"]
            .as_str()
            .unwrap()
            .contains("new data application to Region Uppsala"),
        "{m}"
    );
    assert!(m["text"].as_str().unwrap().contains("Open the case"));
    let l = log(&app, &id).await;
    let asked = entries(&l, "feasibility_requested");
    assert_eq!(asked.len(), 1, "{l}");
    assert_eq!(asked[0]["status"], "opted_out");
    assert!(!smtp
        .messages()
        .iter()
        .any(|m| m["to"][0] == "register-holder@demo.samverkan.invalid"));
}

#[tokio::test]
async fn a_person_without_an_address_is_listed_as_not_notified_and_the_command_succeeds() {
    let app = TestApp::spawn().await; // no SMTP server: mail stays in the outbox
    app.add_account("legal-2", "cpua_legal", "Region Uppsala")
        .await;
    {
        use diesel::RunQueryDsl;
        let db = samverkan::db::conn::Db::connect(&app.database_url, 1).unwrap();
        let mut c = db.pool.get().unwrap();
        diesel::sql_query("UPDATE accounts SET email = '' WHERE username = 'legal-2'")
            .execute(&mut c)
            .unwrap();
    }
    let id = applied(&app).await;
    let l = log(&app, &id).await;
    let mut statuses: Vec<(String, String)> = entries(&l, "application_completed")
        .iter()
        .map(|e| {
            (
                e["recipient_name"].as_str().unwrap().to_string(),
                e["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    statuses.sort();
    assert_eq!(
        statuses,
        vec![
            ("Lars Jurist".to_string(), "pending".to_string()),
            ("Test legal-2".to_string(), "not_notified".to_string()),
        ]
    );
    // The company sees only what went to the parties: nothing yet.
    let company = app.token("company").await;
    let seen = ok(app
        .get(
            &format!("/api/v1/collaborations/{id}/notifications"),
            &company,
        )
        .await)
    .await;
    assert_eq!(seen["notifications"], json!([]), "{seen}");
}

#[tokio::test]
async fn a_refused_command_writes_no_mail() {
    let app = TestApp::spawn().await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    let company = app.token("company").await;
    // The data application before the ethics approval is refused (seed 001, "3. Ansökan etiskt …").
    let cpua = app.org("Region Uppsala").await;
    let r = app
        .transition(
            &id,
            &company,
            json!({"to": "data_application", "cpua": cpua, "dossier": helpers::dossier()}),
        )
        .await;
    assert!(r.status().is_client_error());
    assert_eq!(log(&app, &id).await["notifications"], json!([]));
}

#[tokio::test]
async fn smtp_down_is_retried_with_backoff_then_delivered_and_nothing_is_lost() {
    let port = free_port();
    let app = app_with_mail(&format!("smtp://127.0.0.1:{port}"), None).await;
    let id = applied(&app).await;
    let admin = app.token("admin").await;
    let failed = wait_for("a failed first attempt", 30, async || {
        let v = ok(app.get("/api/v1/admin/outbox?status=pending", &admin).await).await;
        let rows = v.as_array().cloned().unwrap_or_default();
        (rows.len() == 2
            && rows
                .iter()
                .all(|r| r["attempts"] == 1 && r["last_error"].is_string()))
        .then_some(rows)
    })
    .await;
    assert!(failed[0]["last_error"].as_str().unwrap().contains("SMTP"));
    // Not before its time: the retry waits for the backoff (60 s on the manual clock).
    tokio::time::sleep(Duration::from_millis(500)).await;
    let smtp = Smtp::start(SmtpOptions {
        port: Some(port),
        ..Default::default()
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(smtp.messages().is_empty(), "retried before the backoff");
    app.clock.advance(chrono::Duration::seconds(61));
    wait_for("both mails after the retry", 30, async || {
        (smtp.messages().len() == 2).then_some(())
    })
    .await;
    let l = log(&app, &id).await;
    assert!(l["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .all(|n| n["status"] == "sent" && n["attempts"] == 2));
}

#[tokio::test]
async fn a_message_that_keeps_failing_is_dead_and_shown_to_administrators_with_its_error() {
    let port = free_port();
    let url = format!("smtp://127.0.0.1:{port}");
    let app = TestApp::spawn_with(move |s| {
        s.mail.smtp_url = url;
        s.mail.poll_interval_ms = 50;
        s.mail.retry_base_seconds = 1;
        s.mail.max_attempts = 2;
    })
    .await;
    applied(&app).await;
    let admin = app.token("admin").await;
    wait_for("a first failure", 30, async || {
        let v = ok(app.get("/api/v1/admin/outbox?status=pending", &admin).await).await;
        v.as_array()
            .is_some_and(|a| a.len() == 2 && a.iter().all(|r| r["attempts"] == 1))
            .then_some(())
    })
    .await;
    app.clock.advance(chrono::Duration::seconds(5));
    let dead = wait_for("dead mail", 30, async || {
        let v = ok(app.get("/api/v1/admin/outbox?status=dead", &admin).await).await;
        v.as_array().filter(|a| a.len() == 2).cloned()
    })
    .await;
    assert_eq!(dead[0]["attempts"], 2);
    assert!(dead[0]["last_error"].as_str().unwrap().contains("SMTP"));
    // Only administrators; an unknown status names the parameter.
    let legal = app.token("legal").await;
    assert_eq!(
        app.get("/api/v1/admin/outbox?status=dead", &legal)
            .await
            .status(),
        reqwest::StatusCode::FORBIDDEN
    );
    let p = helpers::problem(
        app.get("/api/v1/admin/outbox?status=lost", &admin).await,
        reqwest::StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(p.to_string().contains("status"), "{p}");
}

/// A `samverkan worker` process on the test's database and SMTP server.
/// A `samverkan worker` process that has said it started (it prints `worker started` once it polls).
fn ready_worker(database_url: &str, smtp_port: u16, config: &Path) -> Child {
    let mut child = worker_with(database_url, smtp_port, config, Stdio::piped());
    let out = child.stdout.take().expect("the worker's stdout");
    let mut lines = BufReader::new(out).lines();
    loop {
        match lines.next() {
            Some(Ok(l)) if l.contains("worker started") => break,
            Some(Ok(_)) => continue,
            _ => panic!("the worker stopped before it started"),
        }
    }
    // Keep reading, so the worker never writes into a closed pipe.
    std::thread::spawn(move || lines.for_each(drop));
    child
}

fn worker(database_url: &str, smtp_port: u16, config: &Path) -> Child {
    worker_with(database_url, smtp_port, config, Stdio::null())
}

fn worker_with(database_url: &str, smtp_port: u16, config: &Path, stdout: Stdio) -> Child {
    Command::new(env!("CARGO_BIN_EXE_samverkan"))
        .arg("worker")
        .env("DATABASE_URL", database_url)
        .env("SAMVERKAN_CONFIG_DIR", config)
        .env(
            "SAMVERKAN__MAIL__SMTP_URL",
            format!("smtp://127.0.0.1:{smtp_port}"),
        )
        .env("SAMVERKAN__MAIL__LEASE_SECONDS", "2")
        .env("SAMVERKAN__MAIL__POLL_INTERVAL_MS", "50")
        .env("SAMVERKAN__MAIL__BATCH_SIZE", "1")
        .env("SAMVERKAN__AUDIT__DATA_DIR", config)
        .env("RUST_LOG", "warn")
        .stdout(stdout)
        .stderr(Stdio::inherit())
        .spawn()
        .expect("samverkan worker starts")
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn outbox_statuses(app: &TestApp) -> Vec<String> {
    let admin = app.token("admin").await;
    let mut all = Vec::new();
    for s in ["pending", "sent", "dead"] {
        let v = ok(app
            .get(&format!("/api/v1/admin/outbox?status={s}"), &admin)
            .await)
        .await;
        all.extend(v.as_array().unwrap().iter().map(|_| s.to_string()));
    }
    all
}

#[tokio::test]
async fn a_worker_killed_mid_send_delivers_after_restart_exactly_once() {
    let smtp = Smtp::start(SmtpOptions {
        stall_first: 1,
        ..Default::default()
    });
    let app = TestApp::spawn().await; // the app writes; separate worker processes send
    applied(&app).await;
    let config = tempfile::tempdir().unwrap();
    let first = Killed(worker(&app.database_url, smtp.port, config.path()));
    smtp.stalls
        .recv_timeout(Duration::from_secs(60))
        .expect("the first worker reached DATA");
    drop(first); // killed while the server holds its message unanswered
    let _second = Killed(worker(&app.database_url, smtp.port, config.path()));
    // The worker's own clock is the system's, so by now the 30-day decision is overdue there and
    // its reminder is a third row: every row counts, each must arrive once.
    let rows = wait_for("every row sent", 60, async || {
        let st = outbox_statuses(&app).await;
        (st.len() >= 2 && st.iter().all(|s| s == "sent")).then_some(st.len())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await; // a duplicate would arrive by now
    let msgs = smtp.messages();
    assert_eq!(msgs.len(), rows, "each mail once: {msgs:?}");
    let ids: std::collections::BTreeSet<String> = msgs
        .iter()
        .map(|m| m["message_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), rows, "one Message-ID per outbox row");
    assert!(msgs
        .iter()
        .any(|m| m["to"][0] == "legal@demo.samverkan.invalid"
            && m["subject"].as_str().unwrap().contains("ny ansökan")));
}

#[tokio::test]
async fn two_workers_send_each_message_exactly_once() {
    let smtp = Smtp::start(SmtpOptions::default());
    let app = TestApp::spawn().await;
    // Forty rows written straight to the outbox, for the demo people.
    let config = tempfile::tempdir().unwrap();
    // Both workers poll before there is anything to send, so both take part whatever the load.
    let _a = Killed(ready_worker(&app.database_url, smtp.port, config.path()));
    let _b = Killed(ready_worker(&app.database_url, smtp.port, config.path()));
    let t0 = Instant::now();
    let n = 40;
    {
        use samverkan::db::outbox as store;
        let db = samverkan::db::conn::Db::connect(&app.database_url, 1).unwrap();
        let mut c = db.pool.get().unwrap();
        let org = samverkan::domain::ids::OrgId::from_db(app.org("Region Uppsala").await);
        let people =
            store::people_with_role(&mut c, &org, samverkan::domain::role::Role::CpuaLegal)
                .unwrap();
        let now = chrono::Utc::now() - chrono::Duration::days(400);
        let rows: Vec<store::OutboxRow> = (0..n)
            .map(|i| {
                samverkan::app::notify::row_for(
                    &people[0],
                    None,
                    "cost_agreement_recorded",
                    "notice",
                    None,
                    &json!({"reference": format!("SAM-{i}"), "title": "t", "agreement_reference": "K-1"}),
                    now,
                )
            })
            .collect();
        assert_eq!(store::insert(&mut c, &rows).unwrap(), n);
    }
    wait_for("every mail", 90, async || {
        (smtp.messages().len() >= n).then_some(())
    })
    .await;
    // A figure for the report, not an assertion (it includes both workers' start).
    eprintln!("{n} mails, two workers, batch 1: {:?}", t0.elapsed());
    tokio::time::sleep(Duration::from_secs(3)).await;
    let msgs = smtp.messages();
    assert_eq!(msgs.len(), n, "each message exactly once");
    let ids: std::collections::BTreeSet<String> = msgs
        .iter()
        .map(|m| m["message_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), n);
    // Both took part: the rows name two lease holders.
    let db = samverkan::db::conn::Db::connect(&app.database_url, 1).unwrap();
    let mut c = db.pool.get().unwrap();
    let sent = samverkan::db::outbox::by_status(&mut c, "sent", 1000).unwrap();
    assert_eq!(sent.len(), n);
    let owners: std::collections::BTreeSet<_> =
        sent.iter().filter_map(|r| r.lease_owner.clone()).collect();
    assert_eq!(owners.len(), 2, "both workers sent");
}

#[tokio::test]
async fn the_thirty_day_decision_reminds_the_cpua_a_week_before_and_when_overdue_once() {
    // Seed 001, "5. Beslut om utlämnande": "Beslut om utlämnande av data bör ges inom 30 dagar" — a
    // reminder, never a block.
    let smtp = Smtp::start(SmtpOptions::default());
    let app = app_with_mail(&format!("smtp://127.0.0.1:{}", smtp.port), None).await;
    let id = applied(&app).await;
    // Complete on 1 September: due 1 October; a week before is 24 September.
    app.clock.advance(chrono::Duration::days(22));
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(entries(&log(&app, &id).await, "decision_due_soon").is_empty());
    app.clock.advance(chrono::Duration::days(1));
    let m = wait_for("the reminder a week before", 30, async || {
        smtp.messages().into_iter().find(|m| {
            m["subject"]
                .as_str()
                .unwrap_or("")
                .contains("senast 2026-10-01")
        })
    })
    .await;
    assert_eq!(m["to"][0], "legal@demo.samverkan.invalid");
    // Later rounds do not send it again.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let l = log(&app, &id).await;
    assert_eq!(entries(&l, "decision_due_soon").len(), 1, "{l}");
    assert_eq!(entries(&l, "decision_due_soon")[0]["kind"], "deadline");
    // Overdue on 2 October.
    app.clock.advance(chrono::Duration::days(8));
    wait_for("the overdue reminder", 30, async || {
        smtp.messages()
            .into_iter()
            .find(|m| m["subject"].as_str().unwrap_or("").contains("försenat"))
    })
    .await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let l = log(&app, &id).await;
    assert_eq!(entries(&l, "decision_overdue").len(), 1, "{l}");
    assert_eq!(l["deadlines"][0]["overdue"], true);
}

#[tokio::test]
async fn the_key_file_sequence_notices_the_parties_reminds_the_cpua_and_closes_when_recorded() {
    // Seed 000, "Hur och vilka data lämnas ut?": the key file is kept about three months; check the
    // data before it is deleted, after which nothing can be corrected or added.
    let smtp = Smtp::start(SmtpOptions::default());
    let app = app_with_mail(&format!("smtp://127.0.0.1:{}", smtp.port), None).await;
    let id = applied(&app).await;
    let legal = app.token("legal").await;
    let uppsala = app.org("Region Uppsala").await;
    ok(app
        .transition(&id, &legal, helpers::approval(&uppsala))
        .await)
    .await;
    app.sign_agreement(&id).await;
    ok(app
        .transition(
            &id,
            &legal,
            json!({"to": "data_release", "cpua": uppsala, "released_on": "2026-09-01",
                   "transfer_method": "encrypted_file", "password_sent_separately": true}),
        )
        .await)
    .await;
    let to = |who: &'static str, needle: &'static str| {
        move |m: &Value| {
            m["to"][0] == format!("{who}@demo.samverkan.invalid")
                && m["text"].as_str().unwrap_or("").contains(needle)
        }
    };
    // At release: the parties hear the deletion date.
    for who in ["company", "principal"] {
        let f = to(who, "raderas den 2026-12-01");
        wait_for("the release notice", 30, async || {
            smtp.messages().iter().any(&f).then_some(())
        })
        .await;
    }
    let l = log(&app, &id).await;
    let key = l["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "key_file_deletion")
        .cloned()
        .unwrap_or_else(|| panic!("{l}"));
    assert_eq!(key["due_on"], "2026-12-01");
    assert_eq!(key["counts_from"], "data_released");
    // Two weeks before (17 November): "check your data now".
    app.clock.advance(chrono::Duration::days(76));
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert!(entries(&log(&app, &id).await, "key_file_deletion_soon").is_empty());
    app.clock.advance(chrono::Duration::days(1));
    let f = to("principal", "Kontrollera era data nu");
    wait_for("the two-week notice", 30, async || {
        smtp.messages()
            .iter()
            .any(|m| {
                f(m) && m["subject"]
                    .as_str()
                    .unwrap()
                    .contains("kodnyckeln raderas")
            })
            .then_some(())
    })
    .await;
    // On the day (1 December): the CPUA is told to delete and record it.
    app.clock.advance(chrono::Duration::days(14));
    let f = to("legal", "Registrera \"kodnyckel raderad\"");
    wait_for("the CPUA's reminder on the day", 30, async || {
        smtp.messages().iter().any(&f).then_some(())
    })
    .await;
    // Recording the deletion closes the deadline and tells the parties.
    let legal = app.token("legal").await; // the first token expired while the clock moved
    ok(app
        .action(
            &id,
            &legal,
            json!({"action": "record_key_file_deleted", "cpua": uppsala, "deleted_on": "2026-12-01"}),
        )
        .await)
    .await;
    let l = log(&app, &id).await;
    assert!(
        !l["deadlines"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["code"] == "key_file_deletion"),
        "{l}"
    );
    let f = to("company", "raderade kodnyckeln");
    wait_for("the deletion notice", 30, async || {
        smtp.messages().iter().any(&f).then_some(())
    })
    .await;
    // Each reminder once per person, however many rounds ran.
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let l = log(&app, &id).await;
    assert_eq!(entries(&l, "key_file_deletion_soon").len(), 2, "{l}");
    assert_eq!(entries(&l, "key_file_deletion_due").len(), 1, "{l}");
    // Recording it twice is refused (409), not an error.
    let r = app
        .action(
            &id,
            &legal,
            json!({"action": "record_key_file_deleted", "cpua": uppsala, "deleted_on": "2026-12-01"}),
        )
        .await;
    assert_eq!(r.status(), reqwest::StatusCode::CONFLICT);
}

#[tokio::test]
async fn outbox_rows_belong_to_the_transaction_that_writes_them() {
    // A command's mail is written on its own connection and transaction: when the transaction rolls
    // back, its rows go with it; when it commits, they stay.
    let app = TestApp::spawn().await;
    use samverkan::db::outbox as store;
    let db = samverkan::db::conn::Db::connect(&app.database_url, 1).unwrap();
    let mut c = db.pool.get().unwrap();
    let org = samverkan::domain::ids::OrgId::from_db(app.org("Region Uppsala").await);
    let people =
        store::people_with_role(&mut c, &org, samverkan::domain::role::Role::CpuaLegal).unwrap();
    let row = |i: u32| {
        samverkan::app::notify::row_for(
            &people[0],
            None,
            "cost_agreement_recorded",
            "notice",
            None,
            &json!({"reference": format!("SAM-{i}"), "title": "t", "agreement_reference": "K"}),
            chrono::Utc::now(),
        )
    };
    let rolled_back: Result<(), samverkan::app::AppError> =
        samverkan::db::conn::write_transaction(&mut c, |t| {
            store::insert(t, &[row(1)])?;
            Err(samverkan::app::AppError::RaceLost(samverkan::msg!(
                "race_lost.collaboration"
            )))
        });
    assert!(rolled_back.is_err());
    assert_eq!(store::count_by_status(&mut c, "pending").unwrap(), 0);
    samverkan::db::conn::write_transaction(&mut c, |t| store::insert(t, &[row(2)]).map(|_| ()))
        .unwrap();
    assert_eq!(store::count_by_status(&mut c, "pending").unwrap(), 1);
}

/// A research case on EX-HJARTA approved by Region Uppsala (with `extra` in the approval), its
/// agreement signed (term to 2027-12-31, copies deleted within 30 days) and its data released on
/// 1 September 2026.
async fn released(app: &TestApp, extra: Value) -> String {
    let id = applied(app).await;
    let legal = app.token("legal").await;
    let uppsala = app.org("Region Uppsala").await;
    let mut approval = helpers::approval(&uppsala);
    for (k, v) in extra.as_object().unwrap() {
        approval[k] = v.clone();
    }
    ok(app.transition(&id, &legal, approval).await).await;
    app.sign_agreement(&id).await;
    ok(app
        .transition(
            &id,
            &legal,
            json!({"to": "data_release", "cpua": uppsala, "released_on": "2026-09-01",
                   "transfer_method": "encrypted_file", "password_sent_separately": true}),
        )
        .await)
    .await;
    id
}

/// Moves a released case on to archiving (step 9) as the company.
async fn to_archiving(app: &TestApp, id: &str) {
    let company = app.token("company").await;
    ok(app.transition(id, &company, json!({"to": "results"})).await).await;
    ok(app
        .transition(id, &company, json!({"to": "archiving"}))
        .await)
    .await;
}

fn deadline<'a>(log: &'a Value, code: &str) -> Option<&'a Value> {
    log["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == code)
}

#[tokio::test]
async fn the_usage_period_end_reminds_the_recipients_once_and_stops_when_the_case_is_archived() {
    // Seed 000, "Hantering vid utlämnandet av kvalitetsregisterdata": data may be used only as long as
    // needed; the release decision sets the last day of use (`use_until`).
    let smtp = Smtp::start(SmtpOptions::default());
    let app = app_with_mail(&format!("smtp://127.0.0.1:{}", smtp.port), None).await;
    let id = released(&app, json!({"use_until": "2026-11-30"})).await;
    let view = app.view(&id, &app.token("legal").await).await;
    assert_eq!(
        view["collaboration"]["cpua_reviews"][0]["decision"]["use_until"],
        "2026-11-30"
    );
    let l = log(&app, &id).await;
    let d = deadline(&l, "usage_period_end").unwrap_or_else(|| panic!("{l}"));
    assert_eq!(d["due_on"], "2026-11-30");
    assert_eq!(d["counts_from"], "release_decided");
    // A month before is 31 October: not on the 30th.
    app.clock.advance(chrono::Duration::days(59));
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(entries(&log(&app, &id).await, "usage_period_end_soon").is_empty());
    app.clock.advance(chrono::Duration::days(1));
    for who in ["company", "principal"] {
        wait_for("the reminder before the end", 30, async || {
            smtp.messages()
                .into_iter()
                .find(|m| {
                    m["to"][0] == format!("{who}@demo.samverkan.invalid")
                        && m["subject"]
                            .as_str()
                            .unwrap_or("")
                            .contains("användningsperioden slutar 2026-11-30")
                })
                .map(|m| {
                    assert!(
                        m["text"].as_str().unwrap().contains(&id),
                        "a link to the case"
                    );
                })
        })
        .await;
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        entries(&log(&app, &id).await, "usage_period_end_soon").len(),
        2,
        "once to each party"
    );
    // Archiving closes it: the reminder to the CPUA on the day is not sent.
    to_archiving(&app, &id).await;
    let l = log(&app, &id).await;
    assert!(deadline(&l, "usage_period_end").is_none(), "{l}");
    app.clock.advance(chrono::Duration::days(31));
    tokio::time::sleep(Duration::from_millis(3000)).await;
    let l = log(&app, &id).await;
    assert!(entries(&l, "usage_period_end_due").is_empty(), "{l}");
    assert_eq!(entries(&l, "usage_period_end_soon").len(), 2, "{l}");
    assert!(!smtp.messages().iter().any(|m| m["subject"]
        .as_str()
        .unwrap_or("")
        .contains("användningsperioden slutar i dag")));
}

#[tokio::test]
async fn on_the_last_day_of_use_the_cpua_is_told_and_the_case_moves_to_archiving_by_itself() {
    // Issue 16 item 7; seed 000, "Hantering vid utlämnandet av kvalitetsregisterdata": the data may be
    // used only as long as needed. On `use_until` the scheduler moves the case to step 9 as the system.
    let smtp = Smtp::start(SmtpOptions::default());
    let app = app_with_mail(&format!("smtp://127.0.0.1:{}", smtp.port), None).await;
    let id = released(&app, json!({"use_until": "2026-11-30"})).await;
    let company = app.token("company").await;
    // No person may issue the system's command: the API does not know it.
    let r = app
        .transition(&id, &company, json!({"to": "end_usage_period"}))
        .await;
    assert_eq!(r.status().as_u16(), 422);
    // The day before the end nothing moves.
    app.clock.advance(chrono::Duration::days(89));
    tokio::time::sleep(Duration::from_millis(2500)).await;
    // Tokens count on the same clock: sign in again.
    let company = app.token("company").await;
    assert_eq!(
        app.view(&id, &company).await["collaboration"]["step"],
        "data_release"
    );
    // On the day: the CPUA's legal team is told, and the case is in archiving.
    app.clock.advance(chrono::Duration::days(1));
    wait_for("the reminder on the day", 30, async || {
        smtp.messages().into_iter().find(|m| {
            m["to"][0] == "legal@demo.samverkan.invalid"
                && m["subject"]
                    .as_str()
                    .unwrap_or("")
                    .contains("användningsperioden slutar i dag")
        })
    })
    .await;
    let company = app.token("company").await;
    wait_for("archiving", 30, async || {
        let v = app.view(&id, &company).await;
        (v["collaboration"]["step"] == "archiving").then_some(())
    })
    .await;
    let events = ok(app
        .get(&format!("/api/v1/collaborations/{id}/events"), &company)
        .await)
    .await;
    let ended: Vec<&Value> = events
        .as_array()
        .or_else(|| events["events"].as_array())
        .expect("events")
        .iter()
        .filter(|e| e["command"] == "end_usage_period")
        .collect();
    assert_eq!(ended.len(), 1, "moved once: {events}");
    assert_eq!(ended[0]["actor_name"], "samverkan");
    // The usage deadline is closed and the disposal confirmation still waits for the parties.
    let l = log(&app, &id).await;
    assert!(deadline(&l, "usage_period_end").is_none(), "{l}");
    let r = app.transition(&id, &company, json!({"to": "closed"})).await;
    assert_eq!(r.status().as_u16(), 409);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["rule"], "disposal_confirmation_required", "{p}");
}

#[tokio::test]
async fn the_disposal_confirmation_reminds_the_parties_then_the_cpua_when_overdue_and_stops_when_confirmed(
) {
    // Seed 001, "9. Arkivering och radering av kopior"; the time is the agreement's archiving clause:
    // copies deleted within 30 days after the term ends on 2027-12-31, so confirmed by 2028-01-30.
    let smtp = Smtp::start(SmtpOptions::default());
    let app = app_with_mail(&format!("smtp://127.0.0.1:{}", smtp.port), None).await;
    let id = released(&app, json!({})).await;
    let l = log(&app, &id).await;
    let d = deadline(&l, "disposal_confirmation").unwrap_or_else(|| panic!("{l}"));
    assert_eq!(d["due_on"], "2028-01-30");
    assert_eq!(d["counts_from"], "agreement_term_ended");
    to_archiving(&app, &id).await;
    // Two weeks before: 16 January 2028, 502 days after 1 September 2026.
    app.clock.advance(chrono::Duration::days(501));
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(entries(&log(&app, &id).await, "disposal_due_soon").is_empty());
    app.clock.advance(chrono::Duration::days(1));
    wait_for("the reminder before the disposal is due", 30, async || {
        smtp.messages().into_iter().find(|m| {
            m["to"][0] == "principal@demo.samverkan.invalid"
                && m["subject"]
                    .as_str()
                    .unwrap_or("")
                    .contains("bekräfta gallringen senast 2028-01-30")
        })
    })
    .await;
    // Overdue on 31 January: the parties and the CPUA's legal team.
    app.clock.advance(chrono::Duration::days(15));
    for who in ["company", "principal", "legal"] {
        wait_for("the overdue reminder", 30, async || {
            smtp.messages().into_iter().find(|m| {
                m["to"][0] == format!("{who}@demo.samverkan.invalid")
                    && m["subject"]
                        .as_str()
                        .unwrap_or("")
                        .contains("bekräftelsen av gallringen är försenad")
            })
        })
        .await;
    }
    // Confirming the disposal closes the deadline; later rounds send nothing more. (The CPUA has
    // recorded its key file deleted, which closes the case's other open deadline.)
    let legal = app.token("legal").await;
    let uppsala = app.org("Region Uppsala").await;
    ok(app
        .action(
            &id,
            &legal,
            json!({"action": "record_key_file_deleted", "cpua": uppsala, "deleted_on": "2026-12-01"}),
        )
        .await)
    .await;
    let company = app.token("company").await;
    ok(app
        .action(
            &id,
            &company,
            json!({"action": "confirm_disposal", "disposition": "deleted", "confirmed_on": "2028-01-31",
                   "confirmed_by_name": "Projektledaren", "statement": "Alla kopior är raderade."}),
        )
        .await)
    .await;
    let l = log(&app, &id).await;
    assert!(deadline(&l, "disposal_confirmation").is_none(), "{l}");
    app.clock.advance(chrono::Duration::days(30));
    tokio::time::sleep(Duration::from_millis(3000)).await;
    let l = log(&app, &id).await;
    assert_eq!(entries(&l, "disposal_due_soon").len(), 2, "{l}");
    assert_eq!(entries(&l, "disposal_overdue").len(), 3, "{l}");
    // No deadline is open, so the scheduler no longer reads the case.
    let db = samverkan::db::conn::Db::connect(&app.database_url, 1).unwrap();
    let mut c = db.pool.get().unwrap();
    let today = chrono::NaiveDate::from_ymd_opt(2028, 3, 1).unwrap();
    let due = samverkan::db::outbox::due_deadline_cases(&mut c, today).unwrap();
    assert!(!due.contains(&id), "{due:?}");
}

/// An issued invoice of Region Uppsala to the demo company (5 h at 950 kr + VAT, due 2026-10-01),
/// with the buyer's contact address `asa.oberg@example.com`; returns its view.
async fn issued_invoice(app: &TestApp) -> Value {
    let id = app
        .case_with_cost_agreement(false, "KOST-1", "2026-09-01")
        .await;
    let holder = app.token("register-holder").await;
    let finance = app.token("finance").await;
    let line = ok(app
        .post(
            &format!("/api/v1/collaborations/{id}/work-log"),
            &holder,
            &json!({"person_name": "Eva Lind", "worked_on": "2026-09-01", "activity": "Datauttag",
                    "kind": "hours", "hours_hundredths": 500}),
        )
        .await)
    .await;
    let line = line["line"]["id"].as_str().unwrap().to_string();
    ok(app
        .post(
            &format!("/api/v1/collaborations/{id}/work-log/{line}/approve"),
            &finance,
            &json!({}),
        )
        .await)
    .await;
    let draft = ok(app
        .post(
            "/api/v1/invoices",
            &finance,
            &json!({"collaboration": id, "buyer_reference": "Åsa Öberg",
                    "buyer_street": "Industrigatan 4", "buyer_postal_code": "112 46",
                    "buyer_city": "Stockholm", "buyer_contact_name": "Åsa Öberg",
                    "buyer_contact_email": "asa.oberg@example.com",
                    "seller_street": "Dag Hammarskjölds väg 38", "seller_postal_code": "751 85",
                    "seller_city": "Uppsala", "bankgiro": "5050-1055"}),
        )
        .await)
    .await;
    let inv = draft["id"].as_str().unwrap().to_string();
    ok(app
        .post(
            &format!("/api/v1/invoices/{inv}/issue"),
            &finance,
            &json!({}),
        )
        .await)
    .await
}

/// Issue 15, item 6: an overdue invoice is reminded through the mail scheduler on the first day after
/// its due date, then every 14 days, at most three times (a product choice), to the buyer's contact,
/// the company and the CPUA's finance, in Swedish and English; a payment in full stops the rounds; a
/// restart (a second application on the same database) sends no round twice.
#[tokio::test]
async fn an_overdue_invoice_is_reminded_after_its_due_day_every_fourteen_days_at_most_three_times()
{
    let smtp = Smtp::start(SmtpOptions::default());
    let app = app_with_mail(&format!("smtp://127.0.0.1:{}", smtp.port), None).await;
    let inv = issued_invoice(&app).await;
    let id = inv["id"].as_str().unwrap().to_string();
    let case = inv["collaboration_id"].as_str().unwrap().to_string();
    // A second invoice, paid in full before its due date, is never reminded.
    let paid = issued_invoice(&app).await;
    assert_eq!(paid["number"], "2026-000002");
    let finance = app.token("finance").await;
    ok(app
        .post(
            "/api/v1/payments",
            &finance,
            &json!({"invoice": paid["id"], "amount_ore": paid["gross_ore"],
                    "value_date": "2026-09-01", "bank_reference": "FULL-1"}),
        )
        .await)
    .await;
    let reminders = |all: Vec<Value>| -> Vec<Value> {
        all.into_iter()
            .filter(|m| {
                let s = m["subject"].as_str().unwrap_or("");
                s.contains("påminnelse") || s.contains("reminder")
            })
            .collect()
    };
    // The due day itself (2026-10-01 in Stockholm): no reminder.
    app.clock.advance(chrono::Duration::days(30));
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(reminders(smtp.messages()).is_empty());
    // The day after: round 1, to the buyer's contact, the company's representative and finance.
    app.clock.advance(chrono::Duration::days(1));
    let first = wait_for("the first reminder", 30, async || {
        let r = reminders(smtp.messages());
        (r.len() >= 3).then_some(r)
    })
    .await;
    let mut to: Vec<String> = first
        .iter()
        .map(|m| m["to"][0].as_str().unwrap().to_string())
        .collect();
    to.sort();
    assert!(to.contains(&"asa.oberg@example.com".to_string()), "{to:?}");
    assert!(to.iter().any(|t| t.starts_with("finance@")), "{to:?}");
    let sv = first
        .iter()
        .find(|m| {
            m["subject"]
                .as_str()
                .unwrap()
                .contains("påminnelse 1 om faktura 2026-000001")
        })
        .expect("a Swedish reminder");
    let text = sv["text"].as_str().unwrap_or_default();
    assert!(text.contains("5937,50 SEK"), "{text}");
    assert!(text.contains(inv["ocr"].as_str().unwrap()), "{text}");
    assert!(text.contains("5050-1055"), "{text}");
    // Later scheduler rounds the same day send nothing more; neither does a restarted application.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let n1 = reminders(smtp.messages()).len();
    assert_eq!(n1, first.len());
    let l = log(&app, &case).await;
    assert_eq!(entries(&l, "invoice_overdue").len(), n1, "{l}");
    // Round 2 fourteen days later, after a part payment (still a balance left).
    let finance = app.token("finance").await;
    ok(app
        .post(
            "/api/v1/payments",
            &finance,
            &json!({"invoice": id, "amount_ore": 100_000, "value_date": "2026-10-02",
                    "bank_reference": "DEL-1"}),
        )
        .await)
    .await;
    app.clock.advance(chrono::Duration::days(13));
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(reminders(smtp.messages()).len(), n1, "not before 14 days");
    app.clock.advance(chrono::Duration::days(1));
    let second = wait_for("the second reminder", 30, async || {
        let r = reminders(smtp.messages());
        (r.len() >= 2 * n1).then_some(r)
    })
    .await;
    assert!(second
        .iter()
        .any(|m| m["subject"].as_str().unwrap().contains("påminnelse 2")
            && m["text"].as_str().unwrap_or("").contains("4937,50 SEK")));
    // Round 3, then never a fourth.
    app.clock.advance(chrono::Duration::days(14));
    wait_for("the third reminder", 30, async || {
        let r = reminders(smtp.messages());
        (r.len() >= 3 * n1).then_some(r)
    })
    .await;
    app.clock.advance(chrono::Duration::days(14));
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let all = reminders(smtp.messages());
    assert_eq!(all.len(), 3 * n1, "at most three rounds");
    assert!(
        all.iter()
            .all(|m| !m["subject"].as_str().unwrap().contains("2026-000002")),
        "the paid invoice is never reminded"
    );
    assert!(all.iter().any(|m| m["subject"]
        .as_str()
        .unwrap()
        .contains("påminnelse 3 om faktura 2026-000001")));
    // Each round is on the case's audit trail once (the system's events, read in the database).
    use diesel::prelude::*;
    use samverkan::db::schema::audit_events as ae;
    let db = samverkan::db::conn::Db::connect(&app.database_url, 1).expect("database");
    let mut conn = db.pool.get().expect("connection");
    let n: i64 = ae::table
        .filter(ae::command.eq("invoice_reminder_sent"))
        .count()
        .get_result(&mut conn)
        .expect("count");
    assert_eq!(n, 3);
}
