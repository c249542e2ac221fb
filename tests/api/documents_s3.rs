//! The `s3` document store (issue 16, item 1: "a directory or S3-compatible object storage by
//! configuration") against a real S3-compatible server: moto's server (PyPI `moto[server]`, the venv of
//! `.ci/run`, or `SMTP_TEST_PYTHON`) on a free port of 127.0.0.1, stopped by its PID when the test
//! ends. moto checks every request's Signature V4 against an IAM user that
//! `tests/support/s3/moto_setup.py` creates with the bucket. Both databases (TEST_DATABASE_URL).
//!
//! Seed 000, "Ansökan för utlämnande av data": what a release was based on is kept as received, so a
//! document read back has the SHA-256 of the upload, and bytes changed in the store are never served.
use reqwest::StatusCode;
use samverkan::app::document_store::DocumentStore;
use samverkan::app::s3::S3Store;
use samverkan::config::{DocumentStoreKind, S3Settings, Secret};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::documents::{pdf, upload};
use crate::helpers::{ok, problem, TestApp};

/// The Python that has `moto[server]` and boto3: `SMTP_TEST_PYTHON`, else the venv `.ci/run` makes.
fn python() -> PathBuf {
    if let Ok(p) = std::env::var("SMTP_TEST_PYTHON") {
        return p.into();
    }
    let home = std::env::var("HOME").unwrap_or_default();
    let venv = Path::new(&home).join(".cache/samverkan-smtp-venv/bin/python");
    assert!(
        venv.exists(),
        "the S3 tests need moto[server]: run .ci/run, or set SMTP_TEST_PYTHON to a Python that has it"
    );
    venv
}

fn setup_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/s3/moto_setup.py")
}

const BUCKET: &str = "cpua-documents";
const PREFIX: &str = "samverkan/documents/";

/// A running moto server with an IAM user and the bucket; killed by its PID when dropped.
struct Moto {
    child: Child,
    endpoint: String,
    access_key_id: String,
    secret_access_key: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Moto {
    fn start() -> Moto {
        let port = free_port();
        // moto_server is the venv's own script beside its python.
        let server = python().with_file_name("moto_server");
        let child = Command::new(&server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            // The setup script's three IAM requests go unsigned; every later one is checked.
            .env("INITIAL_NO_AUTH_ACTION_COUNT", "3")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{} starts: {e}", server.display()));
        let mut moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            access_key_id: String::new(),
            secret_access_key: String::new(),
        };
        let until = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < until,
                "moto_server did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let out = Command::new(python())
            .arg(setup_script())
            .args(["setup", "--endpoint", &moto.endpoint, "--bucket", BUCKET])
            .output()
            .expect("the setup script runs");
        assert!(
            out.status.success(),
            "setup: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).expect("setup prints JSON");
        moto.access_key_id = v["access_key_id"].as_str().unwrap().to_string();
        moto.secret_access_key = v["secret_access_key"].as_str().unwrap().to_string();
        moto
    }

    fn settings(&self, secret: &str) -> S3Settings {
        S3Settings {
            endpoint: self.endpoint.clone(),
            region: "us-east-1".into(),
            bucket: BUCKET.into(),
            prefix: PREFIX.into(),
            access_key_id: self.access_key_id.clone(),
            secret_access_key: Secret::new(secret),
            path_style: true,
            timeout_seconds: 10,
            ..S3Settings::default()
        }
    }

    /// The bucket's object keys, listed by boto3 with the right key.
    fn keys(&self) -> Vec<String> {
        let out = Command::new(python())
            .arg(setup_script())
            .args(["list", "--endpoint", &self.endpoint, "--bucket", BUCKET])
            .args([
                "--key",
                &self.access_key_id,
                "--secret",
                &self.secret_access_key,
            ])
            .output()
            .expect("the list script runs");
        assert!(
            out.status.success(),
            "list: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("list prints JSON")
    }
}

fn sha(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

fn blob_count(app: &TestApp) -> i64 {
    let db = samverkan::db::conn::Db::connect(&app.database_url, 1).expect("database");
    let mut conn = db.pool.get().expect("connection");
    samverkan::db::documents::blob_count(&mut conn).expect("count")
}

async fn app_with(s3: S3Settings) -> TestApp {
    TestApp::spawn_with(move |s| {
        s.documents.store = DocumentStoreKind::S3;
        s.documents.s3 = s3;
    })
    .await
}

/// Runs blocking store calls off the test's runtime.
async fn off<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.expect("joined")
}

#[tokio::test]
async fn the_s3_store_keeps_the_bytes_refuses_changed_ones_and_redaction_removes_the_object() {
    let moto = Moto::start();
    let settings = moto.settings(&moto.secret_access_key);
    let app = app_with(settings.clone()).await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    let company = app.token("company").await;
    let legal = app.token("legal").await;
    let bytes = pdf();
    let hash = sha(&bytes);
    let v = ok(upload(
        &app,
        &id,
        &company,
        &[("type", "ethics_decision"), ("visibility", "parties")],
        Some(("etikbeslut.pdf", &bytes)),
    )
    .await)
    .await;
    assert_eq!(v["sha256"], hash.as_str());
    let doc = v["id"].as_str().unwrap().to_string();
    let key = format!("{hash}-{doc}");
    // One object under the prefix, and nothing in the database's blob table.
    assert_eq!(moto.keys(), vec![format!("{PREFIX}{key}")]);
    assert_eq!(blob_count(&app), 0);

    // Read back through the API: the same bytes and hash, for both parties.
    for token in [&company, &legal] {
        let r = app
            .get(
                &format!("/api/v1/collaborations/{id}/documents/{doc}"),
                token,
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            r.headers()["x-content-sha256"].to_str().unwrap(),
            hash.as_str()
        );
        assert_eq!(r.bytes().await.unwrap().to_vec(), bytes);
    }

    // Someone changes the object in the bucket: the download is refused, never served.
    let store = off({
        let s = settings.clone();
        move || S3Store::new(&s).expect("the store")
    })
    .await;
    let store = std::sync::Arc::new(store);
    let (st, k) = (store.clone(), key.clone());
    off(move || st.put(&k, b"%PDF-1.4\n% changed afterwards\n%%EOF\n"))
        .await
        .expect("the tampering put");
    let p = problem(
        app.get(
            &format!("/api/v1/collaborations/{id}/documents/{doc}"),
            &legal,
        )
        .await,
        StatusCode::BAD_GATEWAY,
    )
    .await;
    assert_eq!(p["rule"], "document_store", "{p}");
    assert!(p["detail"].as_str().unwrap().contains("SHA-256"), "{p}");

    // Redaction: the tombstone stays (410), the object is gone from the bucket.
    ok(app
        .post(
            &format!("/api/v1/collaborations/{id}/documents/{doc}/redact"),
            &company,
            &json!({"reason": "Fel fil: innehåller personnummer."}),
        )
        .await)
    .await;
    let p = problem(
        app.get(
            &format!("/api/v1/collaborations/{id}/documents/{doc}"),
            &legal,
        )
        .await,
        StatusCode::GONE,
    )
    .await;
    assert_eq!(p["rule"], "document_redacted");
    let (st, k) = (store.clone(), key.clone());
    assert_eq!(off(move || st.get(&k)).await.expect("get"), None);
    assert!(moto.keys().is_empty());
    let list = ok(app
        .get(&format!("/api/v1/collaborations/{id}/documents"), &legal)
        .await)
    .await;
    assert_eq!(list["items"][0]["sha256"], hash.as_str());
    assert!(list["items"][0]["redaction"].is_object(), "{list}");
    off(move || drop(store)).await;
}

#[tokio::test]
async fn a_wrong_s3_secret_is_refused_at_upload_with_502_and_nothing_is_stored() {
    let moto = Moto::start();
    let wrong = "this-is-not-the-secret-access-key-0000000";
    let app = app_with(moto.settings(wrong)).await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    let company = app.token("company").await;
    let bytes = pdf();
    let r = upload(
        &app,
        &id,
        &company,
        &[("type", "research_plan"), ("visibility", "parties")],
        Some(("plan.pdf", &bytes)),
    )
    .await;
    let p = problem(r, StatusCode::BAD_GATEWAY).await;
    assert_eq!(p["rule"], "document_store", "{p}");
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("HTTP 403 SignatureDoesNotMatch"),
        "the detail names what the store said: {p}"
    );
    assert!(!p.to_string().contains(wrong), "{p}");
    // Nothing half-written: no row, no object, no blob.
    let list = ok(app
        .get(&format!("/api/v1/collaborations/{id}/documents"), &company)
        .await)
    .await;
    assert_eq!(list["items"], json!([]));
    assert!(moto.keys().is_empty());
    assert_eq!(blob_count(&app), 0);
}

#[tokio::test]
async fn an_unreachable_s3_store_is_a_502_naming_it_and_nothing_is_stored() {
    // A port nobody listens on.
    let port = free_port();
    let app = app_with(S3Settings {
        endpoint: format!("http://127.0.0.1:{port}"),
        bucket: BUCKET.into(),
        access_key_id: "AKIAEXAMPLE".into(),
        secret_access_key: Secret::new("secret"),
        path_style: true,
        timeout_seconds: 5,
        ..S3Settings::default()
    })
    .await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    let company = app.token("company").await;
    let bytes = pdf();
    let r = upload(
        &app,
        &id,
        &company,
        &[("type", "research_plan"), ("visibility", "parties")],
        Some(("plan.pdf", &bytes)),
    )
    .await;
    let p = problem(r, StatusCode::BAD_GATEWAY).await;
    assert_eq!(p["rule"], "document_store", "{p}");
    assert!(
        p["detail"].as_str().unwrap().contains("gick inte att nå"),
        "{p}"
    );
    let list = ok(app
        .get(&format!("/api/v1/collaborations/{id}/documents"), &company)
        .await)
    .await;
    assert_eq!(list["items"], json!([]));
}
