//! Issue 15, "Tests": two `samverkan serve` processes on one database issue invoices of the same
//! CPUA series at once, each with a rollback injected after it has taken its number (every k-th
//! issue fails: `SAMVERKAN_TEST_FAIL_EVERY_KTH_ISSUE`). The numbers are exactly 1..N: the series is a
//! row-locked counter in the issuing transaction (PostgreSQL `SELECT … FOR UPDATE`, SQLite's single
//! writer), so a rollback gives its number back and two issuers never share one.
#[path = "support/test_db.rs"]
mod test_db;

use reqwest::StatusCode;
use serde_json::{json, Value};
use std::process::Command;
use test_db::TestDb;

/// One `samverkan serve` process, killed by its PID when dropped (also when the test fails).
struct Server {
    child: std::process::Child,
    base: String,
    port: u16,
    log: std::path::PathBuf,
}

impl Server {
    fn start(db_url: &str, data_dir: &std::path::Path, name: &str, fail_every: u32) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("free port")
            .local_addr()
            .expect("addr")
            .port();
        let log = data_dir.join(format!("{name}.log"));
        let out = std::fs::File::create(&log).expect("log file");
        let err = out.try_clone().expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_samverkan"))
            .arg("serve")
            .current_dir(data_dir)
            .env("DATABASE_URL", db_url)
            .env("SAMVERKAN_ADDR", format!("127.0.0.1:{port}"))
            .env("SAMVERKAN__AUDIT__DATA_DIR", data_dir)
            .env("SAMVERKAN__AUTH__TOKEN_REQUESTS_PER_MINUTE", "100000")
            .env("SAMVERKAN__DATABASE__POOL_SIZE", "8")
            .env("SAMVERKAN__SERVER__WORKERS", "2")
            .env(samverkan::app::billing::FAULT_ENV, fail_every.to_string())
            .env("RUST_LOG", "warn")
            .env_remove("SAMVERKAN_CONFIG_DIR")
            .env_remove("SAMVERKAN_TEMPLATES_DIR")
            .env_remove("SAMVERKAN_ENV")
            .stdout(std::process::Stdio::from(out))
            .stderr(std::process::Stdio::from(err))
            .spawn()
            .expect("start samverkan serve");
        Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            port,
            log,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait_ready(&mut self) {
        for _ in 0..300 {
            if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
                use std::io::{Read, Write};
                let _ = s.write_all(
                    b"GET /health/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                );
                let mut buf = String::new();
                let _ = s.read_to_string(&mut buf);
                if buf.starts_with("HTTP/1.1 200") {
                    return;
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("samverkan stopped ({status}): {}", self.log());
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("samverkan did not become ready: {}", self.log());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Clone)]
struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let r = req.send().await.expect("the request is answered");
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn ok(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Value {
        let (s, v) = self.send(method, path, token, body).await;
        assert!(s.is_success(), "{path}: {s} {v}");
        v
    }

    async fn post(&self, path: &str, token: &str, body: &Value) -> Value {
        self.ok(reqwest::Method::POST, path, Some(token), Some(body))
            .await
    }

    async fn get(&self, path: &str, token: &str) -> Value {
        self.ok(reqwest::Method::GET, path, Some(token), None).await
    }

    async fn token(&self, account: &str) -> String {
        let v = self
            .ok(
                reqwest::Method::POST,
                "/api/v1/local/token",
                None,
                Some(&json!({"account": account})),
            )
            .await;
        v["token"].as_str().expect("a token").to_string()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_issuing_at_once_with_rollbacks_number_exactly_one_to_n() {
    const N: usize = 12;
    let db = TestDb::create();
    let dir = tempfile::tempdir().expect("temp dir");
    // The first migrates and seeds; the second starts on the prepared database.
    let mut a = Server::start(&db.url, dir.path(), "a", 3);
    a.wait_ready();
    let mut b = Server::start(&db.url, dir.path(), "b", 4);
    b.wait_ready();
    let http = reqwest::Client::new();
    let api_a = Api {
        http: http.clone(),
        base: a.base.clone(),
    };
    let api_b = Api {
        http,
        base: b.base.clone(),
    };

    // A case with a cost agreement, N approved lines and N drafts, one line each.
    let company = api_a.token("company").await;
    let holder = api_a.token("register-holder").await;
    let finance = api_a.token("finance").await;
    let admin = api_a.token("admin").await;
    let regs = api_a.get("/api/v1/registers?per_page=200", &admin).await;
    let reg = regs["items"]
        .as_array()
        .expect("registers")
        .iter()
        .find(|r| r["code"] == "EX-HJARTA")
        .expect("EX-HJARTA")["id"]
        .clone();
    let orgs = api_a
        .get("/api/v1/organisations?per_page=200", &admin)
        .await;
    let principal = orgs["items"]
        .as_array()
        .expect("organisations")
        .iter()
        .find(|o| o["name"] == "Exempeluniversitetet")
        .expect("the university")["id"]
        .clone();
    let created = api_a
        .post(
            "/api/v1/collaborations",
            &company,
            &json!({
                "title": "Långtidsutfall efter hjärtinfarkt",
                "purpose": "Att jämföra långtidsutfall mellan behandlingsstrategier.",
                "research_question": "Skiljer sig femårsöverlevnaden mellan strategierna?",
                "research_principal": principal,
                "registers": [reg],
                "requested_variables": ["alder", "kon", "diagnosdatum", "behandling"],
                "data_kind": "pseudonymised",
                "intake": {
                    "purpose": "research", "company_receives": "aggregated", "principal_receives": "pseudonymised",
                    "analysis_by": "principal", "sector": "pharma", "external_processor": false,
                    "identity_numbers_requested": false, "effort_beyond_routine": false, "key_retention_months": 3
                },
            }),
        )
        .await;
    let id = created["collaboration"]["id"]
        .as_str()
        .expect("an id")
        .to_string();
    api_a
        .post(
            &format!("/api/v1/collaborations/{id}/transitions"),
            &company,
            &json!({"to": "register_contact"}),
        )
        .await;
    api_a
        .post(
            &format!("/api/v1/collaborations/{id}/actions"),
            &finance,
            &json!({"action": "record_cost_agreement", "reference": "KOST-9", "signed_on": "2026-09-01",
                    "estimate_ore": 100_000_000, "hourly_rate_ore": 95_000}),
        )
        .await;
    let mut drafts = Vec::new();
    for i in 0..N {
        let l = api_a
            .post(
                &format!("/api/v1/collaborations/{id}/work-log"),
                &holder,
                &json!({"person_name": "Eva Lind", "worked_on": "2026-09-01",
                        "activity": format!("Uttag {i}"), "kind": "hours", "hours_hundredths": 100}),
            )
            .await;
        let line = l["line"]["id"].as_str().expect("a line").to_string();
        api_a
            .post(
                &format!("/api/v1/collaborations/{id}/work-log/{line}/approve"),
                &finance,
                &json!({}),
            )
            .await;
        let d = api_a
            .post(
                "/api/v1/invoices",
                &finance,
                &json!({"collaboration": id, "buyer_reference": "Åsa Öberg",
                        "buyer_street": "Industrigatan 4", "buyer_postal_code": "112 46", "buyer_city": "Stockholm",
                        "seller_street": "Dag Hammarskjölds väg 38", "seller_postal_code": "751 85",
                        "seller_city": "Uppsala", "bankgiro": "5050-1055"}),
            )
            .await;
        drafts.push(d["id"].as_str().expect("a draft").to_string());
    }

    // Every draft issued through both servers at once; an injected failure (503) is retried.
    let mut tasks = Vec::new();
    for (i, d) in drafts.iter().enumerate() {
        let api = if i % 2 == 0 {
            api_a.clone()
        } else {
            api_b.clone()
        };
        let other = if i % 2 == 0 {
            api_b.clone()
        } else {
            api_a.clone()
        };
        let (d, finance) = (d.clone(), finance.clone());
        tasks.push(tokio::spawn(async move {
            let mut failures = 0;
            for attempt in 0..40 {
                let via = if attempt % 2 == 0 { &api } else { &other };
                let (s, v) = via
                    .send(
                        reqwest::Method::POST,
                        &format!("/api/v1/invoices/{d}/issue"),
                        Some(&finance),
                        Some(&json!({})),
                    )
                    .await;
                match s {
                    StatusCode::OK => {
                        return (
                            v["number"].as_str().expect("a number").to_string(),
                            failures,
                        )
                    }
                    StatusCode::SERVICE_UNAVAILABLE | StatusCode::CONFLICT => failures += 1,
                    other => panic!("issue {d}: {other} {v}"),
                }
                let (_, now) = via
                    .send(
                        reqwest::Method::GET,
                        &format!("/api/v1/invoices/{d}"),
                        Some(&finance),
                        None,
                    )
                    .await;
                if now["status"] == "issued" {
                    return (
                        now["number"].as_str().expect("a number").to_string(),
                        failures,
                    );
                }
            }
            panic!("{d} was never issued");
        }));
    }
    let mut numbers = Vec::new();
    let mut failures = 0;
    for t in tasks {
        let (n, f) = t.await.expect("the task ran");
        numbers.push(n);
        failures += f;
    }
    eprintln!(
        "{N} invoices through two servers, {failures} injected or lost attempts: {numbers:?}"
    );
    assert!(failures >= 2, "rollbacks were injected: {failures}");
    let mut seq: Vec<u64> = numbers
        .iter()
        .map(|n| {
            n.rsplit('-')
                .next()
                .and_then(|s| s.parse().ok())
                .expect("NNNN-NNNNNN")
        })
        .collect();
    seq.sort();
    assert_eq!(seq, (1..=N as u64).collect::<Vec<_>>(), "{numbers:?}");
    // And the database holds exactly those N issued invoices, each with its three files.
    let listed = api_b.get("/api/v1/invoices?status=issued", &finance).await;
    let listed = listed.as_array().expect("a list");
    assert_eq!(listed.len(), N);
    assert!(listed
        .iter()
        .all(|i| i["files"].as_array().map(Vec::len) == Some(3)));
    drop(a);
    drop(b);
}
